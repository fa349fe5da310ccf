"""Each foundation's section of the page tree: one page per language, found again, owned."""

import pytest

from cms.models import FoundationPage, StandardPage
from cms.sections import ensure_foundation_section, foundation_id_of
from tests import pages
from tests.factories import FoundationFactory

pytestmark = pytest.mark.django_db


def test_a_section_in_every_language_sharing_one_translation_key():
    site = pages.build_site()
    foundation = FoundationFactory(name="Canary Valley Foundation", slug="canary-valley")
    sections = ensure_foundation_section(
        foundation, intro={"en": "<p>Who we are</p>", "es": "<p>Quiénes somos</p>"}
    )
    assert set(sections) == {"en", "es"}
    assert sections["en"].get_parent().pk == site["home"].pk
    assert sections["es"].get_parent().pk == site["home_es"].pk
    assert sections["en"].translation_key == sections["es"].translation_key
    assert sections["en"].live and sections["es"].live
    assert sections["es"].url.endswith("/es/canary-valley/")
    assert "Quiénes" in sections["es"].intro


def test_running_it_again_changes_nothing():
    pages.build_site()
    foundation = FoundationFactory()
    first = ensure_foundation_section(foundation)
    again = ensure_foundation_section(foundation)
    assert {code: page.pk for code, page in first.items()} == {code: page.pk for code, page in again.items()}
    assert FoundationPage.objects.filter(foundation=foundation).count() == 2


def test_no_home_page_no_section():
    foundation = FoundationFactory()
    assert ensure_foundation_section(foundation) == {}


def test_a_page_beneath_a_section_belongs_to_its_foundation():
    site = pages.build_site()
    foundation = FoundationFactory()
    section = ensure_foundation_section(foundation)["en"]
    about = section.add_child(instance=StandardPage(title="About us", slug="about-us"))
    assert foundation_id_of(about) == foundation.pk
    assert foundation_id_of(section) == foundation.pk
    assert foundation_id_of(site["index"]) is None
    assert foundation_id_of(site["home"]) is None


def test_a_slug_already_taken_by_a_page_gets_the_next_free_one():
    site = pages.build_site()
    for home in (site["home"], site["home_es"]):
        home.add_child(instance=StandardPage(title="About", slug="about", locale=home.locale))
    foundation = FoundationFactory(slug="about")
    sections = ensure_foundation_section(foundation)
    assert sections["en"].slug == sections["es"].slug == "about-1"
    assert sections["en"].url == "/en/about-1/"
    assert foundation_id_of(sections["es"]) == foundation.pk
