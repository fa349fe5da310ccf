"""Build the public page tree in tests: a home page per language, the fund index, each foundation's
section with its funds and calls."""

from django.conf import settings
from wagtail.models import Locale, Page, Site

from cms.models import FundIndexPage, FundingCallPage, FundPage, HomePage
from cms.sections import ensure_foundation_section


def locales() -> dict[str, Locale]:
    return {code: Locale.objects.get_or_create(language_code=code)[0] for code, _ in settings.LANGUAGES}


def publish(page):
    page.save_revision().publish()
    return page


def build_site() -> dict:
    """Home and fund index in English and Spanish, the English home as the default site root."""
    langs = locales()
    root = Page.get_first_root_node()
    if root is None:  # transactional tests empty every table, the tree root included
        root = Page.add_root(instance=Page(title="Root", slug="root", locale=langs["en"]))
    Site.objects.all().delete()
    for child in root.get_children():
        child.delete()
    home = publish(root.add_child(instance=HomePage(title="Funding home", slug="home", locale=langs["en"])))
    Site.objects.create(hostname="localhost", port=80, root_page=home, is_default_site=True)
    home_es = publish(home.copy_for_translation(langs["es"]))
    home_es.title = "Inicio de fondos"
    publish(home_es)
    index = publish(home.add_child(instance=FundIndexPage(title="Funds", slug="funds", locale=langs["en"])))
    index_es = publish(index.copy_for_translation(langs["es"]))
    index_es.title = "Fondos"
    publish(index_es)
    return {"home": home, "home_es": home_es, "index": index, "index_es": index_es, "locales": langs}


def add_fund_page(site: dict, fund, *, title=None, title_es=None) -> tuple[FundPage, FundPage]:
    """English and Spanish pages for ``fund``, in its foundation's section (made if missing)."""
    section = ensure_foundation_section(fund.foundation)["en"]
    page = publish(
        section.add_child(
            instance=FundPage(
                title=title or fund.name, slug=fund.slug, fund=fund, summary="What it pays for."
            )
        )
    )
    page_es = page.copy_for_translation(site["locales"]["es"]).specific
    page_es.title = title_es or f"{fund.name} (es)"
    page_es.summary = "Para qué sirve."
    publish(page_es)
    return page, page_es


def add_call_page(
    fund_pages: tuple, call, *, slug=None, questions=None, eligibility=None
) -> tuple[FundingCallPage, FundingCallPage]:
    """English and Spanish pages for ``call``; ``questions``/``eligibility`` are callables
    taking a language code and returning StreamField JSON (see ``grants.demo_questions``)."""
    fund_page, fund_page_es = fund_pages
    page = publish(
        fund_page.add_child(
            instance=FundingCallPage(
                title=call.title,
                slug=slug or f"call-{call.pk}",
                funding_call=call,
                summary="Grants for legal defense.",
                eligibility="<p>Groups serving immigrant workers.</p>",
                questions=questions("en") if questions else "[]",
                eligibility_questions=eligibility("en") if eligibility else "[]",
            )
        )
    )
    page_es = page.copy_for_translation(fund_page_es.locale).specific
    page_es.title = f"{call.title} (es)"
    page_es.summary = "Subvenciones para la defensa legal."
    page_es.eligibility = "<p>Grupos que sirven a trabajadores inmigrantes.</p>"
    if questions:
        page_es.questions = questions("es")
    if eligibility:
        page_es.eligibility_questions = eligibility("es")
    publish(page_es)
    return page, page_es


def ensure_roots() -> None:
    """Put back the page and collection roots Wagtail's migrations make: transactional tests
    empty every table, and ``seed_demo`` builds under them."""
    from wagtail.models import Collection

    if Page.get_first_root_node() is None:
        Page.add_root(instance=Page(title="Root", slug="root", locale=locales()["en"]))
    if Collection.get_first_root_node() is None:
        Collection.add_root(name="Root")
