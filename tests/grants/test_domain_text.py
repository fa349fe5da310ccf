"""Text staff write about money, in every language: stored per language, marked for staff when
a translation is missing, and shown to the public in their language with a fallback."""

import pytest
from django.template import Context, Template
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from cms.models import agreement_texts
from grants.forms.awards import AwardTermsForm
from grants.forms.translations import translations_from
from grants.models import Award, Donation, Fund, Role, StipendProgram, missing_translations, translated
from tests import pages
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory
from tests.grants.money_fixtures import staff
from tests.grants.test_donations import donate_url, form_data, session_of


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

    response = client.post(f"/admin/funds/edit/{fund.pk}/", _fund_form(fund, name_es="Robado"), follow=True)

    assert response.status_code == 404
    assert Fund.objects.get(pk=fund.pk).translations == {}


# --- Where the texts are read ----------------------------------------------------------------


@pytest.mark.parametrize(("language", "expected", "absent"), [
    ("en", "Gift to Rapid Response Fund", "Fondo de Respuesta Rápida"),
    ("es", "Fondo de Respuesta Rápida", "Rapid Response Fund"),
])  # fmt: skip
def test_checkout_names_the_fund_in_the_donors_language(client, site, language, expected, absent):
    fund = FundFactory(name="Rapid Response Fund", slug="rapid-response",
                       translations={"es": {"name": "Fondo de Respuesta Rápida"}})  # fmt: skip
    pages.add_fund_page(site, fund)

    client.post(donate_url(fund, language), form_data())

    session = str(session_of(Donation.objects.get()))
    assert expected in session and absent not in session


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_standard_agreement_and_award_conditions_read_in_each_language(db, language):
    fund = FundFactory(name="Bond Fund", translations={"es": {"name": "Fondo de Fianzas"}})
    call = FundingCallFactory(fund=fund)

    texts = agreement_texts(call)

    assert "Bond Fund" in texts["en"] and "Fondo de Fianzas" not in texts["en"]
    assert "Fondo de Fianzas" in texts["es"] and "Bond Fund" not in texts["es"]
    award = Award(conditions="Report monthly.", translations={"es": {"conditions": "Informe cada mes."}})
    with translation.override(language):
        shown = Template('{% load portal_tags %}{{ award|translated:"conditions" }}').render(
            Context({"award": award})
        )
    assert shown == {"en": "Report monthly.", "es": "Informe cada mes."}[language]


def test_the_award_form_takes_conditions_in_both_languages(db):
    form = AwardTermsForm(currency="USD")
    assert [field.name for field in form.translation_inputs] == ["conditions_es"]
    assert "(English)" in form.fields["conditions"].label

    form = AwardTermsForm(
        {"conditions": "Report monthly.", "conditions_es": " Informe cada mes. "}, currency="USD"
    )
    form.is_valid()
    assert translations_from(form.cleaned_data, Award, fields=("conditions",)) == {
        "es": {"conditions": "Informe cada mes."}
    }


@pytest.mark.parametrize("language", ["en", "es"])
def test_a_stipend_program_name_reads_in_the_coordinators_language(world, client, language):
    program = StipendProgram.objects.create(
        fund=world["fund"], name="Hotline stipends", rate=Money(40, "USD"), monthly_cap=Money(400, "USD"),
        translations={"es": {"name": "Estipendios de la línea"}},
    )  # fmt: skip
    program.coordinators.add(world["organization"])
    client.force_login(world["grantee"])

    html = client.get(f"/{language}/stipends/").content.decode()

    assert {"en": "Hotline stipends", "es": "Estipendios de la línea"}[language] in html
    assert {"en": "Estipendios de la línea", "es": "Hotline stipends"}[language] not in html


def test_an_officer_saves_a_stipend_program_name_in_both_languages(world, client):
    client.force_login(world["officer"])
    form = {"fund": world["fund"].pk, "name": "Hotline stipends", "name_es": "Estipendios de la línea",
            "rate": "40", "rate_unit": "shift", "monthly_cap": "400", "active": "on"}  # fmt: skip

    response = client.post(reverse("stipends_admin:new"), form)

    assert response.status_code == 302, response.content.decode()[:2000]
    program = StipendProgram.objects.get()
    assert (program.name, program.translations) == (
        "Hotline stipends",
        {"es": {"name": "Estipendios de la línea"}},
    )
    refused = client.post(reverse("stipends_admin:new"), {**form, "rate": "-1", "name_es": "Otro"})
    assert refused.status_code == 400 and StipendProgram.objects.count() == 1
