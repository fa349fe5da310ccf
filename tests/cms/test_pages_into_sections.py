"""Migration cms 0008: fund pages of the old tree (under the fund index) move into their
foundation's section, in their own language, and their old addresses answer with a permanent
redirect to the new ones."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from wagtail.contrib.redirects.models import Redirect
from wagtail.models import Page, Site

from cms.models import FoundationPage, FundingCallPage, FundPage
from cms.sections import ensure_foundation_section
from tests import pages
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory

BEFORE = [("cms", "0008_branding_site_name_es")]


def _old_fund_pages(site, fund) -> tuple[FundPage, FundPage]:
    """A fund page in English and Spanish under the fund index, as the tree was before sections."""
    page = pages.publish(
        site["index"].add_child(
            instance=FundPage(title=fund.name, slug=fund.slug, fund=fund, summary="What it pays for.")
        )
    )
    page_es = page.copy_for_translation(site["locales"]["es"]).specific
    page_es.title = f"{fund.name} (es)"
    pages.publish(page_es)
    return page, page_es


@pytest.fixture
def old_tree(monkeypatch):
    """cms back before the move (0008), and a tree of the old shape: two foundations' fund and call pages under
    the fund index in both languages; one foundation already has its section."""
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes()  # every app, as before the test
    # The old tree is built with today's models: sites go first, while the branding table still
    # has today's columns (deleting a site later would read its branding row).
    Site.objects.all().delete()
    executor.migrate(BEFORE)
    site = pages.build_site()
    bay = FoundationFactory(name="Bay Area Foundation", slug="bay-area")
    valley = FoundationFactory(name="Valley Foundation", slug="valley")
    defense = FundFactory(foundation=bay, name="Defense Fund", slug="defense")
    hotline = FundFactory(foundation=bay, name="Hotline Fund", slug="hotline")
    organizing = FundFactory(foundation=valley, name="Organizing Fund", slug="organizing")
    ensure_foundation_section(valley)  # made earlier by another change: kept, not doubled
    call = FundingCallFactory(fund=defense, title="Rapid legal 2026")
    with monkeypatch.context() as patch:
        # Pages made before fund pages had to sit in a section.
        patch.setattr(FundPage, "clean", Page.clean)
        defense_pages = _old_fund_pages(site, defense)
        hotline_pages = _old_fund_pages(site, hotline)
        organizing_pages = _old_fund_pages(site, organizing)
    call_pages = pages.add_call_page(defense_pages, call, slug="rapid-legal")
    assert defense_pages[0].url == "/en/funds/defense/"
    assert call_pages[1].url == "/es/funds/defense/rapid-legal/"
    yield {
        "site": site,
        "latest": latest,
        "bay": bay,
        "valley": valley,
        "defense": defense_pages,
        "hotline": hotline_pages,
        "organizing": organizing_pages,
        "call": call_pages,
    }
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)


def _migrate_forward(latest):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(latest)


def _fresh(page):
    return Page.objects.get(pk=page.pk).specific


@pytest.mark.django_db(transaction=True)
def test_fund_pages_move_into_their_foundations_section_with_redirects(old_tree, client):
    old_urls = {
        name: [page.url for page in old_tree[name]] for name in ("defense", "hotline", "organizing", "call")
    }
    valley_sections_before = set(
        FoundationPage.objects.filter(foundation=old_tree["valley"]).values_list("pk", flat=True)
    )
    _migrate_forward(old_tree["latest"])

    # Each foundation has one section per language, sharing one translation key; the one that
    # existed is kept.
    for foundation in (old_tree["bay"], old_tree["valley"]):
        sections = {
            page.locale.language_code: page for page in FoundationPage.objects.filter(foundation=foundation)
        }
        assert set(sections) == {"en", "es"}
        assert sections["en"].translation_key == sections["es"].translation_key
        assert sections["en"].live and sections["es"].live
        assert sections["en"].get_parent().pk == old_tree["site"]["home"].pk
        assert sections["es"].get_parent().pk == old_tree["site"]["home_es"].pk
    assert set(FoundationPage.objects.filter(foundation=old_tree["valley"]).values_list("pk", flat=True)) == (
        valley_sections_before
    )
    bay_en = FoundationPage.objects.get(foundation=old_tree["bay"], locale__language_code="en")
    assert bay_en.latest_revision is not None and bay_en.url == "/en/bay-area/"

    # Every page sits in its own foundation's section, in its own language, at its new address.
    expected = {
        "defense": ["/en/bay-area/defense/", "/es/bay-area/defense/"],
        "hotline": ["/en/bay-area/hotline/", "/es/bay-area/hotline/"],
        "organizing": ["/en/valley/organizing/", "/es/valley/organizing/"],
        "call": ["/en/bay-area/defense/rapid-legal/", "/es/bay-area/defense/rapid-legal/"],
    }
    for name, urls in expected.items():
        moved = [_fresh(page) for page in old_tree[name]]
        assert [page.url for page in moved] == urls
        for page in moved:
            fund = page.fund if isinstance(page, FundPage) else page.funding_call.fund
            section = next(ancestor.specific for ancestor in page.get_ancestors() if ancestor.depth == 3)
            assert isinstance(section, FoundationPage) and section.foundation_id == fund.foundation_id
            assert section.locale_id == page.locale_id
            assert client.get(page.url).status_code == 200
    assert old_tree["site"]["index"].get_children().count() == 0
    assert _fresh(old_tree["site"]["index"]).numchild == 0
    assert Page.find_problems() == ([], [], [], [], [])

    # Old links answer with a permanent redirect to the page's new address, in its language.
    for name, urls in expected.items():
        for old, new in zip(old_urls[name], urls, strict=True):
            response = client.get(old)
            assert response.status_code == 301, old
            assert response["Location"] == new
    assert Redirect.objects.filter(old_path="/en/funds/defense").count() == 1

    # The section lists the foundation's own funds only.
    html = client.get("/en/bay-area/").content.decode()
    assert "Defense Fund" in html and "Hotline Fund" in html and "Organizing Fund" not in html


@pytest.mark.django_db(transaction=True)
def test_running_it_again_moves_nothing_and_makes_nothing_twice(old_tree):
    _migrate_forward(old_tree["latest"])
    paths = dict(Page.objects.values_list("pk", "path"))
    counts = (FoundationPage.objects.count(), Redirect.objects.count())
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    _migrate_forward(old_tree["latest"])
    assert dict(Page.objects.values_list("pk", "path")) == paths
    assert (FoundationPage.objects.count(), Redirect.objects.count()) == counts
    assert FundingCallPage.objects.count() == 2
