"""A visitor finds an open call, reads it in Spanish, and every public page passes axe."""

import re

import pytest
from playwright.sync_api import expect

from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.e2e


def normalise(text: str) -> str:
    """Collapse the non-breaking and narrow spaces babel puts in money and dates."""
    return " ".join(text.replace("\xa0", " ").replace("\u202f", " ").split())


def test_visitor_finds_an_open_call_and_reads_it_in_spanish(page, url, open_call):
    page.goto(url("/en/"))
    expect(page).to_have_title(re.compile("Funding home"))
    open_calls = page.get_by_role("region", name="Open funding calls")
    expect(open_calls.get_by_role("link", name="Rapid legal defense grants")).to_be_visible()

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()

    expect(page).to_have_url(url("/es/"))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text("Inicio de fondos")
    page.get_by_role("link", name="Subvenciones rápidas de defensa legal").click()

    expect(page).to_have_url(url(open_call.call_page_es.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Subvenciones rápidas de defensa legal")
    amount = normalise(page.locator(".amount-range").inner_text())
    assert amount == "5.000,00 US$ – 50.000,00 US$"
    close = normalise(page.locator(".close-date").inner_text())
    assert f"15 dic {open_call.close_date.year}" in close
    expect(page.get_by_text("Quién puede solicitar")).to_be_visible()


def test_language_switch_keeps_the_call_page(page, url, open_call):
    page.goto(url(open_call.call_page.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Rapid legal defense grants")
    assert normalise(page.locator(".amount-range").inner_text()) == "$5,000.00 – $50,000.00"

    page.get_by_role("navigation", name="Language").get_by_role("link", name="Español").click()

    expect(page).to_have_url(url(open_call.call_page_es.url))
    expect(page.get_by_role("heading", level=1)).to_have_text("Subvenciones rápidas de defensa legal")

    # And back again: the Spanish page's switcher leads to the English call, not the home page.
    page.get_by_role("navigation", name="Idioma").get_by_role("link", name="English").click()
    expect(page).to_have_url(url(open_call.call_page.url))
    expect(page.locator("html")).to_have_attribute("lang", "en")


def public_paths(open_call, language: str) -> dict[str, str]:
    spanish = language == "es"
    return {
        "home": f"/{language}/",
        "fund index": f"/{language}/funds/",
        "fund page": (open_call.fund_page_es if spanish else open_call.fund_page).url,
        "call page": (open_call.call_page_es if spanish else open_call.call_page).url,
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_public_pages_pass_axe(page, url, open_call, language):
    for path in public_paths(open_call, language).values():
        response = page.goto(url(path))
        assert response is not None and response.ok, path
        expect(page.locator("html")).to_have_attribute("lang", language)
        assert_accessible(page)


@pytest.mark.parametrize("language", ["en", "es"])
def test_public_pages_fit_a_phone_screen(page, url, open_call, language):
    """Nothing makes a 390 px wide phone scroll sideways (long Spanish labels included)."""
    page.set_viewport_size({"width": 390, "height": 844})
    for name, path in public_paths(open_call, language).items():
        page.goto(url(path))
        overflow = page.evaluate(
            """() => {
              const width = document.documentElement.clientWidth;
              const wide = [...document.querySelectorAll("body *")]
                .filter((el) => el.getBoundingClientRect().right > width + 1)
                .map((el) => el.tagName.toLowerCase() + (el.className ? "." + el.className : ""));
              return {scrollWidth: document.documentElement.scrollWidth, width, wide: wide.slice(0, 5)};
            }"""
        )
        assert overflow["scrollWidth"] <= overflow["width"], f"{name} ({path}) is too wide: {overflow}"
