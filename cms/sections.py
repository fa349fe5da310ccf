"""Each foundation's section of the page tree: creating it, and finding whose a page is.

A section is a ``FoundationPage`` under the home page of every language, with the same
translation key in each; the foundation's funds, calls and own pages live beneath it. Staff
hold Wagtail page permissions on their foundations' sections only (``grants.services.staff``).
"""

from django.conf import settings
from django.db import transaction
from wagtail.coreutils import find_available_slug
from wagtail.models import Locale, Page

from .models import FoundationPage, FundingCallPage, FundPage, HomePage


def _home(locale) -> HomePage | None:
    return HomePage.objects.filter(locale=locale).order_by("path").first()


@transaction.atomic
def ensure_foundation_section(foundation, *, intro: dict[str, str] | None = None, publish: bool = True):
    """The foundation's section page in every language the site has a home page in.

    Idempotent: existing pages are kept (and their intro left alone unless ``intro`` names the
    language). ``intro`` maps language codes to rich text. Returns ``{language_code: page}``;
    empty when the site has no home page yet.
    """
    intro = intro or {}
    pages: dict[str, FoundationPage] = {
        page.locale.language_code: page
        for page in FoundationPage.objects.filter(foundation=foundation).select_related("locale")
    }
    source = next(iter(pages.values()), None)
    for code, _name in settings.LANGUAGES:
        locale = Locale.objects.filter(language_code=code).first()
        home = _home(locale) if locale else None
        if home is None:
            continue
        page = pages.get(code)
        if page is None:
            if source is None:
                page = home.add_child(
                    instance=FoundationPage(
                        title=foundation.name,
                        # The foundation's slug, or the next free one when a page already has it.
                        slug=find_available_slug(home, foundation.slug),
                        foundation=foundation,
                        intro=intro.get(code, ""),
                        locale=locale,
                        live=publish,
                    )
                )
                source = page
            else:
                page = source.copy_for_translation(locale).specific
                page.title = foundation.name
                page.slug = find_available_slug(home, foundation.slug, ignore_page_id=page.pk)
                page.intro = intro.get(code, "")
                page.save()
            if publish:
                page.save_revision().publish()
                page.refresh_from_db()
            pages[code] = page
        elif code in intro:
            page.intro = intro[code]
            revision = page.save_revision()
            if publish:
                revision.publish()
                page.refresh_from_db()
    return pages


def section_pages(foundation_ids=None):
    """Section pages (every language) of ``foundation_ids``, or of every foundation."""
    queryset = FoundationPage.objects.all()
    if foundation_ids is not None:
        queryset = queryset.filter(foundation_id__in=list(foundation_ids))
    return queryset


def foundation_id_of(page: Page) -> int | None:
    """The foundation whose section holds ``page`` (the section itself included), else None.

    Fund and call pages answer from their fund, so a page is owned even before it is moved into
    a section (pages of an older tree).
    """
    specific = page.specific
    if isinstance(specific, FoundationPage):
        return specific.foundation_id
    if isinstance(specific, FundPage):
        return specific.fund.foundation_id
    if isinstance(specific, FundingCallPage):
        return specific.funding_call.fund.foundation_id
    section = (
        FoundationPage.objects.filter(
            path__in=[page.path[:i] for i in range(0, len(page.path), Page.steplen)]
        )
        .values_list("foundation_id", flat=True)
        .first()
    )
    return section
