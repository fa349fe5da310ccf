"""Numbers typed the reader's way: an application's number questions and a report's figures read
"1.500" as 1500 and "7,5" as 7.5 in Spanish, refuse the ambiguous, refuse decimals where the
question counts people or things, keep what was meant, and show it back the reader's way. A money
question refuses an absurd amount on the draft and on submit, with a message, never a crash."""

import json
from decimal import Decimal

import pytest
from django import forms
from django.urls import reverse
from django.utils import translation
from djmoney.money import Money

from grants.forms.amounts import NumberField
from grants.forms.reports import ReportForm
from grants.metrics import DEFAULT_METRICS, display_value
from grants.models import Application, ApplicationStatus, OrganizationMembership, ProgramType
from grants.questions import Question
from grants.services import applications as service
from grants.services import reports
from grants.services.answers import display_number
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)

FORTY_NINES = "9" * 40

QUESTIONS = {
    "en": ("How many people will you serve?", "Hours of legal help a week", "Matching funds"),
    "es": ("¿A cuántas personas atenderán?", "Horas de ayuda legal por semana", "Fondos de contrapartida"),
}


def questions_json(language):
    people, hours, match = QUESTIONS[language]
    common = {"help_text": "", "required": True, "sensitive": False}
    return json.dumps([
        {"type": "number", "id": "people", "value": {**common, "label": people, "min_value": "0", "whole": True}},
        {"type": "number", "id": "hours", "value": {**common, "label": hours, "whole": False}},
        {"type": "money", "id": "match", "value": {**common, "label": match}},
    ])  # fmt: skip


@pytest.fixture
def draft(site):
    foundation = FoundationFactory(slug="bay")
    fund = FundFactory(foundation=foundation, currency="USD")
    call = FundingCallFactory(fund=fund, min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD"))
    pages.add_call_page(pages.add_fund_page(site, fund), call, questions=questions_json)
    applicant = UserFactory(email="ana@example.org", preferred_language="es")
    organization = OrganizationFactory()
    OrganizationMembership.objects.create(organization=organization, user=applicant, role="owner")
    application = service.start_application(call=call, organization=organization, by=applicant, language="es")
    return {"application": application, "applicant": applicant}


def _section_url(application, language):
    with translation.override(language):
        return reverse("application_section", kwargs={"pk": application.pk, "number": 1})


def _save(client, draft, language, **answers):
    data = {"_title": "Abogados", "_requested_amount": "5000", "q_people": "120", "q_hours": "7",
            "q_match": "100", "action": "save"}  # fmt: skip
    data.update(answers)
    client.force_login(draft["applicant"])
    response = client.post(_section_url(draft["application"], language), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    return Application.objects.get(pk=draft["application"].pk)


def _submit(client, draft, language):
    with translation.override(language):
        return client.post(reverse("application_submit", kwargs={"pk": draft["application"].pk}), follow=True)


# --- Number questions -------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "people", "hours", "shown_people", "shown_hours"), [
    ("es", "1.500", "7,5", "1.500", "7,5"),
    ("en", "1,500", "7.5", "1,500", "7.5"),
])  # fmt: skip
def test_number_answers_are_read_kept_and_shown_the_readers_way(client, draft, language, people, hours,
                                                                  shown_people, shown_hours):  # fmt: skip
    application = _save(client, draft, language, q_people=people, q_hours=hours, q_match="12.000"
                        if language == "es" else "12,000")  # fmt: skip

    assert application.answers["people"] == "1500"
    assert application.answers["hours"] == "7.50"
    assert application.answers["match"] == "12000.00"
    page = client.get(_section_url(application, language)).content.decode()
    assert f'value="{shown_people}"' in page and f'value="{shown_hours}"' in page
    assert 'inputmode="numeric"' in page  # a count offers the digits pad
    response = _submit(client, draft, language)
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.SUBMITTED, (
        response.content.decode()[:3000]
    )
    detail = response.content.decode()
    assert shown_people in detail
    assert ("12.000,00" if language == "es" else "12,000.00") in detail  # the money answer, formatted


@pytest.mark.parametrize(("language", "typed", "message"), [
    ("es", "2,5", "Escriba un número entero: aquí se cuentan personas o cosas, sin decimales."),
    ("en", "2.5", "Enter a whole number: this counts people or things, without decimals."),
    ("es", "1,500", "podría significar 1.500 o 1,5"),
    ("en", "1.500", "could mean 1,500 or 1.5"),
    ("es", "muchas", "Escriba un número, por ejemplo 1.500."),
    ("es", "-3", "Escriba un número de 0 como mínimo."),
])  # fmt: skip
def test_a_count_with_decimals_or_an_ambiguous_number_is_refused_on_the_draft_and_on_submit(
    client, draft, language, typed, message
):
    application = _save(client, draft, language, q_people=typed)

    assert application.answers["people"] == typed  # kept as typed, to be corrected
    page = client.get(_section_url(application, language)).content.decode()
    assert message in page and f'value="{typed}"' in page
    _submit(client, draft, language)
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT


@pytest.mark.parametrize(("language", "message"), [
    ("es", "Escriba un monto de 999.999.999.999,99 como máximo."),
    ("en", "Enter an amount of at most 999,999,999,999.99."),
])  # fmt: skip
def test_an_absurd_amount_in_a_money_question_is_refused_on_the_draft_and_on_submit(client, draft, language,
                                                                                      message):  # fmt: skip
    application = _save(client, draft, language, q_match=FORTY_NINES)

    assert application.answers["match"] == FORTY_NINES + ".00"  # kept exactly, never rounded
    page = client.get(_section_url(application, language)).content.decode()
    assert message in page
    review = client.get(reverse("application_review", kwargs={"pk": application.pk}))
    assert review.status_code == 200  # shown grouped, never a crash
    response = _submit(client, draft, language)
    assert response.status_code == 200
    assert Application.objects.get(pk=application.pk).status == ApplicationStatus.DRAFT
    with translation.override(language):
        assert translation.gettext("Some answers need attention before you can submit.") in (
            response.content.decode()
        )


def test_a_number_field_reads_each_language():
    count = NumberField(whole=True, stored=True)
    figure = NumberField(stored=True)
    with translation.override("es"):
        assert count.clean("12.000") == Decimal("12000")
        assert figure.clean("1.500,75") == Decimal("1500.75")
        assert count.raw("1.500") == "1500" and figure.raw("7,5") == "7.50"
        with pytest.raises(forms.ValidationError):
            figure.clean("1,500")
        with pytest.raises(forms.ValidationError):
            figure.clean("1,555")  # three decimals: ambiguous, never 1.555
    with translation.override("en"):
        assert count.clean("1500") == Decimal("1500")  # canonical reads the same in any language
        assert figure.clean("7.50") == Decimal("7.5")
        with pytest.raises(forms.ValidationError) as error:
            count.clean("2.5")
        assert error.value.code == "whole"


@pytest.mark.parametrize(("language", "count", "figure"), [("es", "1.500", "7,5"), ("en", "1,500", "7.5")])
def test_number_answers_display_the_readers_way(language, count, figure):
    people = Question("people", "number", "People", whole=True)
    hours = Question("hours", "number", "Hours")
    with translation.override(language):
        assert display_number(people, "1500") == count
        assert display_number(hours, "7.50") == figure
        assert display_number(hours, "abc") == "abc"  # a draft's typing shown as typed


# --- Report figures ---------------------------------------------------------------------------


def _report_form(data):
    definitions = [
        {"key": "people_represented", "label": "People", "kind": "number", "whole": True},
        {"key": "back_wages_recovered", "label": "Back wages", "kind": "number", "whole": False},
        {"key": "highlights", "label": "Highlights", "kind": "text"},
    ]
    return ReportForm(data, metric_definitions=definitions)


@pytest.mark.parametrize(
    ("language", "people", "wages"), [("es", "1.500", "2.000,50"), ("en", "1,500", "2,000.50")]
)
def test_report_figures_are_read_the_readers_way_and_kept_canonical(language, people, wages):
    with translation.override(language):
        form = _report_form({"metric_people_represented": people, "metric_back_wages_recovered": wages,
                             "metric_highlights": "  Dos audiencias ganadas. "})  # fmt: skip
        assert form.is_valid(), form.errors
        assert form.metrics() == {"people_represented": "1500", "back_wages_recovered": "2000.50",
                                  "highlights": "Dos audiencias ganadas."}  # fmt: skip
        shown = _report_form(None)
        shown.initial = {"metric_people_represented": "1500", "metric_back_wages_recovered": "2000.50"}
        html = str(shown["metric_people_represented"]) + str(shown["metric_back_wages_recovered"])
        shown_wages = "2.000,5" if language == "es" else "2,000.5"  # only the decimals it has
        assert f'value="{people}"' in html and f'value="{shown_wages}"' in html


@pytest.mark.parametrize(("language", "typed", "message"), [
    ("es", "2,5", "Escriba un número entero: aquí se cuentan personas o cosas, sin decimales."),
    ("en", "2.5", "Enter a whole number: this counts people or things, without decimals."),
    ("es", "1,500", "podría significar 1.500 o 1,5"),
    ("en", "many", "Enter a number, for example 1,500."),
])  # fmt: skip
def test_a_reported_count_with_decimals_or_ambiguous_is_refused(language, typed, message):
    with translation.override(language):
        form = _report_form({"metric_people_represented": typed})
        assert not form.is_valid()
        assert message in " ".join(form.errors["metric_people_represented"])
        assert f'value="{typed}"' in str(form["metric_people_represented"])


def test_default_metrics_that_count_refuse_decimals_and_amounts_do_not():
    counts = {m.key: m.whole for metrics in DEFAULT_METRICS.values() for m in metrics}
    assert counts["people_represented"] and counts["calls_answered"] and counts["workers_trained"]
    assert not counts["back_wages_recovered"]
    assert DEFAULT_METRICS[ProgramType.CO_ENFORCEMENT][2].key == "back_wages_recovered"


@pytest.mark.parametrize(("language", "expected"), [("es", "1.500"), ("en", "1,500")])
def test_stored_figures_display_the_readers_way(language, expected):
    with translation.override(language):
        assert display_value({"kind": "number", "whole": True}, "1500") == expected
        assert display_value({"kind": "number"}, "2000.50") == ("2.000,5" if language == "es" else "2,000.5")
        assert display_value({"kind": "text"}, "1500") == "1500"


@pytest.mark.django_db
def test_the_report_service_refuses_a_stored_count_with_decimals(world):
    from tests.grants.report_helpers import reporting_award

    award = reporting_award(world)
    report = reports.report_for(award.report_due_dates.get(kind="interim"), by=world["grantee"])
    report.metrics = {"people": "2.50", "wages": "2.50"}
    definitions = [{"key": "people", "label": "People", "kind": "number", "whole": True},
                   {"key": "wages", "label": "Wages", "kind": "number", "whole": False}]  # fmt: skip

    errors = reports.validate_report(report, metric_definitions=definitions)

    assert errors["metric_people"] == ["“People”: enter a whole number, without decimals."]
    assert "metric_wages" not in errors
