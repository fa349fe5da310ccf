"""Text staff write about money, in every language: stored per language, marked for staff when
a translation is missing, and shown to the public in their language with a fallback."""

import pytest
from django.utils import translation

from grants.models import Fund, Role, missing_translations, translated
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import staff


def test_a_fund_name_reads_in_the_active_language_and_falls_back_to_english(db):
    fund = FundFactory(name="Rapid Defense Fund", translations={"es": {"name": "Fondo de Defensa Rápida"}})
    untranslated = FundFactory(foundation=fund.foundation, name="Bond Fund")

    with translation.override("es"):
        assert str(fund) == "Fondo de Defensa Rápida"
        assert str(untranslated) == "Bond Fund"
    with translation.override("en"):
        assert str(fund) == "Rapid Defense Fund"
    assert translated(fund, "name", "es") == "Fondo de Defensa Rápida"
    assert translated(fund, "name", "en") == "Rapid Defense Fund"


def test_a_text_written_only_in_spanish_is_shown_to_english_readers_too(db):
    foundation = FoundationFactory(receipt_text="", translations={"es": {"receipt_text": "Deducible."}})

    assert translated(foundation, "receipt_text", "en") == "Deducible."
    assert missing_translations(foundation) == [("receipt_text", "en")]


def test_missing_translations_name_only_written_texts(db):
    fund = FundFactory(name="Bond Fund")
    foundation = FoundationFactory(receipt_text="")

    assert missing_translations(fund) == [("name", "es")]
    assert missing_translations(foundation) == []  # nothing written: nothing to translate
    fund.translations = {"es": {"name": "Fondo de fianzas"}}
    assert missing_translations(fund) == []


def _fund_form(fund, **changes):
    data = {
        "foundation": fund.foundation_id,
        "name": fund.name,
        "name_es": "",
        "slug": fund.slug,
        "program_type": fund.program_type,
        "status": fund.status,
        "currency": fund.currency,
        "fundraising_goal_0": "",
        "fundraising_goal_1": fund.currency,
        "accepts_donations": "on",
        "donation_presets": fund.donation_presets,
        "donation_minimum": "5",
        "donation_maximum": "10000",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize("language", ["en", "es"])
def test_staff_see_the_missing_spanish_name_and_enter_both_languages_side_by_side(client, db, language):
    foundation = FoundationFactory(slug="bay")
    fund = FundFactory(foundation=foundation, name="Bond Fund")
    officer = staff(foundation, Role.FOUNDATION_ADMIN)
    client.force_login(officer)
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = language
    marker = {"en": "Not translated yet", "es": "Aún sin traducir"}[language]

    listing = client.get("/admin/funds/")
    assert marker in listing.content.decode()
    form = client.get(f"/admin/funds/edit/{fund.pk}/").content.decode()
    assert 'name="name_es"' in form and 'name="name"' in form
    assert marker in form

    saved = client.post(f"/admin/funds/edit/{fund.pk}/", _fund_form(fund, name_es="Fondo de fianzas"))
    assert saved.status_code == 302, saved.content.decode()[:3000]
    fund.refresh_from_db()
    assert fund.translations == {"es": {"name": "Fondo de fianzas"}}
    assert fund.name == "Bond Fund"
    assert marker not in client.get("/admin/funds/").content.decode()

    # Clearing the translation removes it (and the marker comes back).
    client.post(f"/admin/funds/edit/{fund.pk}/", _fund_form(fund, name_es="  "))
    fund.refresh_from_db()
    assert fund.translations == {}


def test_another_foundations_fund_stays_404_and_unchanged(client, db):
    fund = FundFactory(name="Bond Fund")
    officer = staff(FoundationFactory(slug="other"), Role.FOUNDATION_ADMIN)
    client.force_login(officer)

    response = client.post(f"/admin/funds/edit/{fund.pk}/", _fund_form(fund, name_es="Robado"))

    assert response.status_code == 404
    assert Fund.objects.get(pk=fund.pk).translations == {}
