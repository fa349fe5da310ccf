"""Move every fund page (and its call pages) from the fund index into its foundation's section.

For every foundation with fund pages and every language with a home page: find or make the
foundation's section (``FoundationPage`` under that home, same translation key in every
language), move the foundation's fund page subtrees of that language beneath it (treebeard
``path``/``depth``, ``numchild`` of both parents, ``url_path`` of every moved page), and leave a
permanent redirect from each moved page's old public address (``/<lang>/funds/<fund>/...``) to the
page, so old links and bookmarks keep working.

Written with the historical models, so it cannot call Wagtail's ``Page.move``; it does what
``move`` does to the tree columns. Safe to run on a tree where some sections already exist, and
again (nothing is left to move the second time).
"""

import uuid

from django.db import migrations
from django.utils import timezone
from modelcluster.models import get_serializable_data_for_fields
from wagtail.contrib.redirects.models import Redirect as CurrentRedirect

STEPLEN = 4  # treebeard's MP_Node, as Wagtail's Page uses it
ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _increment(segment: str) -> str:
    value = int(segment, len(ALPHABET)) + 1
    digits = ""
    while value:
        value, remainder = divmod(value, len(ALPHABET))
        digits = ALPHABET[remainder] + digits
    return digits.rjust(STEPLEN, "0")


def _children(Page, parent):
    return Page.objects.filter(path__startswith=parent.path, depth=parent.depth + 1)


def _next_child_path(Page, parent) -> str:
    last = _children(Page, parent).order_by("-path").values_list("path", flat=True).first()
    return parent.path + (_increment(last[-STEPLEN:]) if last else "0001")


def _free_slug(Page, parent, slug: str, *, exclude_pk=None) -> str:
    taken = set(_children(Page, parent).exclude(pk=exclude_pk).values_list("slug", flat=True))
    candidate, number = slug, 1
    while candidate in taken:
        number += 1
        candidate = f"{slug}-{number}"
    return candidate


def _recount_children(Page, page) -> None:
    Page.objects.filter(pk=page.pk).update(numchild=_children(Page, page).count())


def _make_section(apps, home, foundation, translation_key, now):
    Page = apps.get_model("wagtailcore", "Page")
    FoundationPage = apps.get_model("cms", "FoundationPage")
    Revision = apps.get_model("wagtailcore", "Revision")
    ContentType = apps.get_model("contenttypes", "ContentType")
    content_type, _ = ContentType.objects.get_or_create(app_label="cms", model="foundationpage")
    page_type, _ = ContentType.objects.get_or_create(app_label="wagtailcore", model="page")
    slug = _free_slug(Page, home, foundation.slug)
    section = FoundationPage.objects.create(
        title=foundation.name,
        draft_title=foundation.name,
        slug=slug,
        content_type=content_type,
        locale_id=home.locale_id,
        translation_key=translation_key,
        path=_next_child_path(Page, home),
        depth=home.depth + 1,
        numchild=0,
        url_path=f"{home.url_path}{slug}/",
        live=True,
        has_unpublished_changes=False,
        first_published_at=now,
        last_published_at=now,
        foundation=foundation,
        intro="",
        body=[],
    )
    _recount_children(Page, home)
    # A first revision, as publishing in the editor would leave, so its history starts here.
    revision = Revision.objects.create(
        content_type=content_type,
        base_content_type=page_type,
        object_id=str(section.pk),
        created_at=now,
        object_str=section.title,
        content=get_serializable_data_for_fields(section),
    )
    Page.objects.filter(pk=section.pk).update(
        latest_revision=revision, live_revision=revision, latest_revision_created_at=now
    )
    return FoundationPage.objects.get(pk=section.pk)


def _old_public_path(page_url_path: str, home, language_code: str) -> str | None:
    if not page_url_path.startswith(home.url_path):
        return None
    return CurrentRedirect.normalise_path(f"/{language_code}/{page_url_path[len(home.url_path) :]}")


def _move_subtree(apps, fund_page, section, home, language_code, site) -> None:
    Page = apps.get_model("wagtailcore", "Page")
    Redirect = apps.get_model("wagtailredirects", "Redirect")
    old_parent = Page.objects.get(path=fund_page.path[:-STEPLEN])
    old_path, old_depth, old_url_path = fund_page.path, fund_page.depth, fund_page.url_path
    slug = _free_slug(Page, section, fund_page.slug)
    new_path = _next_child_path(Page, section)
    new_url_path = f"{section.url_path}{slug}/"
    for page in Page.objects.filter(path__startswith=old_path).order_by("path"):
        moved_url_path = new_url_path + page.url_path[len(old_url_path) :]
        Page.objects.filter(pk=page.pk).update(
            path=new_path + page.path[len(old_path) :],
            depth=page.depth - old_depth + section.depth + 1,
            url_path=moved_url_path,
            **({"slug": slug} if page.pk == fund_page.pk else {}),
        )
        old_link = _old_public_path(page.url_path, home, language_code)
        if old_link and not Redirect.objects.filter(old_path=old_link, site=site).exists():
            Redirect.objects.create(
                old_path=old_link,
                site=site,
                is_permanent=True,
                redirect_page_id=page.pk,
                automatically_created=True,
            )
    _recount_children(Page, old_parent)
    _recount_children(Page, section)


def pages_into_sections(apps, schema_editor):
    Page = apps.get_model("wagtailcore", "Page")
    Site = apps.get_model("wagtailcore", "Site")
    HomePage = apps.get_model("cms", "HomePage")
    FoundationPage = apps.get_model("cms", "FoundationPage")
    FundPage = apps.get_model("cms", "FundPage")
    Foundation = apps.get_model("grants", "Foundation")
    now = timezone.now()

    homes = {}  # one home per language, as cms.sections finds it
    for home in HomePage.objects.select_related("locale").order_by("path"):
        homes.setdefault(home.locale_id, home)
    foundations = Foundation.objects.filter(funds__pages__isnull=False).distinct().order_by("pk")
    for foundation in foundations:
        existing = list(FoundationPage.objects.filter(foundation=foundation).order_by("path"))
        translation_key = existing[0].translation_key if existing else uuid.uuid4()
        for locale_id, home in homes.items():
            section = next((page for page in existing if page.locale_id == locale_id), None)
            if section is None:
                section = _make_section(apps, home, foundation, translation_key, now)
            site = (
                Site.objects.filter(root_page__translation_key=home.translation_key)
                .order_by("-is_default_site", "pk")
                .first()
            )
            fund_pages = FundPage.objects.filter(fund__foundation=foundation, locale_id=locale_id)
            for fund_page in fund_pages.order_by("path"):
                fund_page = Page.objects.get(pk=fund_page.pk)  # paths move as siblings go
                if fund_page.path[:-STEPLEN] == section.path:
                    continue
                section = FoundationPage.objects.get(pk=section.pk)
                _move_subtree(apps, fund_page, section, home, home.locale.language_code, site)


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0008_branding_site_name_es"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("wagtailcore", "0098_apitoken"),
        ("wagtailredirects", "0008_add_verbose_name_plural"),
    ]

    operations = [migrations.RunPython(pages_into_sections, migrations.RunPython.noop)]
