"""Amounts typed the reader's way: what is stored is exactly what the person meant, in every form
that takes an amount, in Spanish and English; the ambiguous, the malformed and the too large are
refused with the typed text kept."""

from decimal import Decimal

import pytest
from django import forms
from django.db import DataError, connection, transaction
from django.utils import translation

from grants.admin.money import IncomeForm
from grants.admin.reviews import ApproveForm
from grants.forms.amounts import AmountField, format_amount, parse_typed_amount
from grants.forms.awards import AmendForm, AwardTermsForm, InstallmentRowForm
from grants.forms.donation_admin import OfflineGiftForm
from grants.forms.donations import DonationForm
from grants.forms.reports import ExpenditureForm, ReturnForm
from grants.forms.stipends import ProgramForm, ShiftForm
from grants.models import Expenditure
from grants.services import answers as answer_forms
from grants.services import reports
from tests.factories import FundFactory
from tests.grants.report_helpers import pdf, reporting_award, spend
from tests.grants.test_report_pages import url

MEANT = [
    ("es", "1500,75", Decimal("1500.75")),
    ("es", "1.500,75", Decimal("1500.75")),
    ("es", "1.500", Decimal("1500")),
    ("es", "12.000", Decimal("12000")),
    ("es", " US$ 1.500,75 ", Decimal("1500.75")),
    ("en", "1,500.75", Decimal("1500.75")),
    ("en", "1500.75", Decimal("1500.75")),
    ("en", "$1,500", Decimal("1500")),
]
AMBIGUOUS = [("es", "1,500"), ("en", "1.500")]
MALFORMED = ["abc", "1,2,3", "--5", "1e5", "1 500", "NaN", "5-"]


# --- The parser -------------------------------------------------------------------------------


@pytest.mark.parametrize(("language", "typed", "meant"), MEANT)
def test_typed_amounts_read_as_meant(language, typed, meant):
    with translation.override(language):
        assert parse_typed_amount(typed, currency="USD") == meant


@pytest.mark.parametrize(("language", "typed"), AMBIGUOUS)
def test_decimal_mark_followed_by_three_digits_is_ambiguous(language, typed):
    with translation.override(language), pytest.raises(forms.ValidationError) as refused:
        parse_typed_amount(typed, currency="USD")
    assert refused.value.code == "ambiguous"
    shown = refused.value.messages[0]
    assert f"“{typed}”" in shown and "1500" in shown
    assert ("1,5" if language == "es" else "1.5") in shown


@pytest.mark.parametrize("language", ["es", "en"])
@pytest.mark.parametrize("typed", MALFORMED)
def test_malformed_amounts_are_refused_with_an_example_in_the_readers_format(language, typed):
    with translation.override(language), pytest.raises(forms.ValidationError) as refused:
        parse_typed_amount(typed, currency="USD")
    assert refused.value.code == "invalid"
    assert ("1.500,75" if language == "es" else "1,500.75") in refused.value.messages[0]


def test_the_other_languages_writing_is_refused_never_misread():
    with translation.override("es"):
        for typed in ("1500.75", "1,500.75", "1.5"):
            with pytest.raises(forms.ValidationError):
                parse_typed_amount(typed, currency="USD")
    with translation.override("en"):
        for typed in ("1.500,75", "1,5"):
            with pytest.raises(forms.ValidationError):
                parse_typed_amount(typed, currency="USD")


def test_yen_have_no_decimals():
    with translation.override("es"):
        assert parse_typed_amount("1.500", currency="JPY") == Decimal("1500")
        with pytest.raises(forms.ValidationError) as refused:
            parse_typed_amount("1500,5", currency="JPY")
        assert refused.value.code == "decimals"
        field = AmountField(currency="JPY")
        assert field.clean("1.500") == Decimal("1500")
        assert field.widget.format_value(Decimal("1500")) == "1.500"


# --- The field --------------------------------------------------------------------------------


@pytest.mark.parametrize("language", ["es", "en"])
def test_field_bounds_to_the_column_and_refuses_negatives(language):
    with translation.override(language):
        field = AmountField.for_column(Expenditure, "amount", currency="USD", allow_zero=False)
        assert field.clean("9999999999" + (",99" if language == "es" else ".99")) == Decimal("9999999999.99")
        with pytest.raises(forms.ValidationError) as refused:
            field.clean("99999999999")
        assert refused.value.code == "too_large"
        assert ("9.999.999.999,99" if language == "es" else "9,999,999,999.99") in refused.value.messages[0]
        for typed, code in (("-5", "negative"), ("0", "zero")):
            with pytest.raises(forms.ValidationError) as refused:
                field.clean(typed)
            assert refused.value.code == code


def test_initial_value_is_shown_the_readers_way_and_parses_back():
    value = Decimal("1500.75")
    for language, shown in (("es", "1.500,75"), ("en", "1,500.75")):
        with translation.override(language):
            field = AmountField(currency="USD")
            html = field.widget.render("amount", value)
            assert f'value="{shown}"' in html and 'inputmode="decimal"' in html
            assert f'placeholder="{shown}"' in html
            assert field.clean(field.widget.format_value(value)) == value
            assert shown in str(field.help_text)


# --- Every form that takes an amount ----------------------------------------------------------


def _expenditure(data):
    return ExpenditureForm(
        {"date": "2026-03-01", "category": "0", "description": "Fianza", **data},
        categories=[("0", "Legal")],
        currency="USD",
    )


def _return(data):
    return ReturnForm({"method": "check", **data}, currency="USD")


def _terms(data):
    return AwardTermsForm(
        {"start_date": "2026-01-01", "end_date": "2026-12-31", "schedule_kind": "one", "count": "1",
         "first_due": "2026-02-01", "final_report": "2026-12-31", **data},
        currency="USD",
    )  # fmt: skip


def _installment(data):
    return InstallmentRowForm({"due_date": "2026-02-01", **data}, currency="USD")


def _amend(data):
    return AmendForm({"reason": "Más horas", **{"new_amount": data["amount"]}}, currency="USD")


def _approve(data):
    return ApproveForm(data, currency="USD")


def _income(data, fund):
    form = IncomeForm(
        {"currency": "USD", "source": "other", "received_on": "2026-02-01", **data},
        fund=fund,
    )
    form.fields["source"].choices = [("other", "Other")]
    return form


def _offline_gift(data, fund):
    form = OfflineGiftForm(
        {"fund": fund.pk, "channel": "check", "received_on": "2026-02-01", "reference": "CHK-1",
         "donor_name": "Rosa", "donor_email": "rosa@example.org", "language": "es", **data},
        funds=type(fund).objects.filter(pk=fund.pk),
    )  # fmt: skip
    return form


def _program(data, fund, name="rate"):
    values = {
        "fund": fund.pk,
        "name": "Línea",
        "rate": "20",
        "rate_unit": "shift",
        "monthly_cap": "500",
        "active": "on",
    }
    values[name] = data["amount"]
    return ProgramForm(values, funds=type(fund).objects.filter(pk=fund.pk))


SIMPLE_FORMS = {
    "expenditure": (_expenditure, "amount"),
    "return": (_return, "amount"),
    "award terms": (_terms, "amount"),
    "installment": (_installment, "amount"),
    "amendment": (_amend, "new_amount"),
    "approval": (_approve, "amount"),
}


def _amount_of(form, field):
    assert form.is_valid(), form.errors
    return form.cleaned_data[field]


@pytest.mark.parametrize("name", list(SIMPLE_FORMS))
@pytest.mark.parametrize(("language", "typed", "meant"), MEANT)
def test_each_amount_form_stores_what_was_meant(name, language, typed, meant):
    build, field = SIMPLE_FORMS[name]
    with translation.override(language):
        assert _amount_of(build({"amount": typed}), field) == meant


@pytest.mark.parametrize("name", list(SIMPLE_FORMS))
@pytest.mark.parametrize(
    ("language", "typed"), [*AMBIGUOUS, ("es", "abc"), ("en", "1e5"), ("es", "99999999999999")]
)
def test_each_amount_form_refuses_and_keeps_the_typed_text(name, language, typed):
    build, field = SIMPLE_FORMS[name]
    with translation.override(language):
        form = build({"amount": typed})
        assert not form.is_valid()
        assert form.errors[field]
        assert f'value="{typed}"' in str(form[field])


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "typed", "meant"), MEANT)
def test_staff_money_forms_store_what_was_meant(language, typed, meant):
    fund = FundFactory(currency="USD")
    with translation.override(language):
        assert _amount_of(_income({"amount": typed}, fund), "amount") == meant
        gift = _offline_gift({"amount": typed}, fund)
        if gift.is_valid() or "amount" not in gift.errors:
            assert gift.cleaned_data.get("amount") == meant
        else:
            raise AssertionError(gift.errors)
        assert _amount_of(_program({"amount": typed}, fund, "rate"), "rate") == meant
        assert _amount_of(_program({"amount": typed}, fund, "monthly_cap"), "monthly_cap") == meant


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "typed"), AMBIGUOUS)
def test_staff_money_forms_refuse_ambiguous_amounts(language, typed):
    fund = FundFactory(currency="USD")
    with translation.override(language):
        for form, field in (
            (_income({"amount": typed}, fund), "amount"),
            (_offline_gift({"amount": typed}, fund), "amount"),
            (_program({"amount": typed}, fund, "rate"), "rate"),
        ):
            assert not form.is_valid()
            assert "1500" in " ".join(form.errors[field])
            assert f'value="{typed}"' in str(form[field])


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("language", "typed", "meant"),
    [
        ("es", "1.000,50", Decimal("1000.50")),
        ("es", "1500,75", Decimal("1500.75")),
        ("en", "1,000.50", Decimal("1000.50")),
    ],
)
def test_donation_form_reads_the_readers_way(language, typed, meant):
    fund = FundFactory(currency="USD", donation_minimum=5, donation_maximum=10000)
    with translation.override(language):
        form = DonationForm(
            {"amount": "other", "other_amount": typed, "frequency": "one_time", "name": "Rosa",
             "email": "rosa@example.org"},
            fund=fund,
        )  # fmt: skip
        assert form.is_valid(), form.errors
        assert form.gift.amount == meant


@pytest.mark.django_db
@pytest.mark.parametrize(("language", "typed"), AMBIGUOUS)
def test_donation_form_refuses_ambiguous_amounts(language, typed):
    fund = FundFactory(currency="USD", donation_minimum=5, donation_maximum=10000)
    with translation.override(language):
        form = DonationForm(
            {"amount": "other", "other_amount": typed, "frequency": "one_time", "name": "Rosa",
             "email": "rosa@example.org"},
            fund=fund,
        )  # fmt: skip
        assert not form.is_valid()
        assert "1500" in " ".join(form.errors["other_amount"])


@pytest.mark.parametrize(
    ("language", "typed", "meant"), [("es", "7,5", Decimal("7.5")), ("en", "7.5", Decimal("7.5"))]
)
def test_shift_hours_read_the_readers_way(language, typed, meant):
    with translation.override(language):
        field = ShiftForm.base_fields["hours"]
        assert field.clean(typed) == meant
        with pytest.raises(forms.ValidationError):
            field.clean("7.5" if language == "es" else "7,5")


# --- Application answers: budget lines, requested amount --------------------------------------


def test_budget_lines_typed_in_spanish_are_kept_canonical_and_shown_back_in_spanish():
    field = answer_forms.BudgetField(categories=["Legal"], currency="USD")
    with translation.override("es"):
        cleaned = field.clean([{"category": "0", "description": "Fianza", "amount": "12.000"}])
        assert cleaned[0]["amount"] == "12000.00"
        assert answer_forms.budget_total(cleaned) == Decimal("12000")
        html = field.widget.render("q_budget", cleaned)
        assert 'value="12.000,00"' in html
        refused = pytest.raises(forms.ValidationError)
        with refused as error:
            field.clean([{"category": "0", "description": "Fianza", "amount": "1,500"}])
        assert "1500" in " ".join(error.value.messages)
    with translation.override("en"):  # the canonical form reads the same in any language
        assert field.clean(cleaned)[0]["amount"] == "12000.00"


def test_a_draft_keeps_the_amount_meant_not_a_reading_of_its_marks():
    """A Spanish "1.500" saved in a draft is 1500 when read again, never 1.5."""
    field = answer_forms.BudgetField(categories=["Legal"], currency="USD")
    amount = AmountField(currency="USD", stored=True)
    with translation.override("es"):
        assert amount.raw("1.500") == "1500.00"
        assert amount.raw("1,500") == "1,500"  # refused: kept as typed, to be corrected
    with translation.override("en"):
        assert amount.clean("1500.00") == Decimal("1500")
        with pytest.raises(forms.ValidationError):
            amount.clean("1.500")
        assert (
            field.widget.get_context("b", [{"category": "0", "description": "", "amount": "1500.00"}], {})[
                "widget"
            ]["rows"][0]["amount"]
            == "1,500.00"
        )


# --- An amount wider than the column ----------------------------------------------------------


@pytest.mark.django_db
def test_an_expense_wider_than_its_column_is_refused_at_input(world, client):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    reports.report_for(due, by=world["grantee"])
    client.force_login(world["grantee"])
    response = client.post(
        url("report_detail", due_id=due.pk),
        {"action": "add", "new-date": "2026-03-01", "new-category": "0", "new-description": "Fianza",
         "new-amount": "99999999999", "new-receipt": pdf()},
    )  # fmt: skip
    assert response.status_code == 400
    assert 'value="99999999999"' in response.content.decode()
    assert not Expenditure.objects.filter(report__due=due).exists()


@pytest.mark.django_db
def test_a_stored_amount_wider_than_its_column_neither_breaks_the_report_nor_stays_stuck(world, client):
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    report = reports.report_for(due, by=world["grantee"])
    expense = spend(report, world, 100)
    if connection.vendor == "postgresql":  # PostgreSQL refuses such a number outright
        with pytest.raises(DataError), transaction.atomic():
            Expenditure.objects.filter(pk=expense.pk).update(amount=Decimal("99999999999"))
        return
    # SQLite does not enforce max_digits: such a row may exist from before input was bounded.
    Expenditure.objects.filter(pk=expense.pk).update(amount=Decimal("99999999999"))
    client.force_login(world["grantee"])
    page = client.get(url("report_detail", due_id=due.pk))
    assert page.status_code == 200
    with translation.override("es"):
        assert format_amount(Decimal("99999999999"), decimals=2) in page.content.decode()
    rows = reports.budget_rows(report)
    assert rows[0].spent.amount == Decimal("99999999999")
    removed = client.post(url("report_detail", due_id=due.pk), {"action": "save", "remove": str(expense.pk)})
    assert removed.status_code == 302
    assert not Expenditure.objects.filter(pk=expense.pk).exists()


def test_a_draft_keeps_a_number_wider_than_any_column_exactly():
    """Found by the fuzz test: forty nines in a draft's money question crashed the save (the
    default decimal context has 28 digits). It is kept exactly; submitting refuses it."""
    from grants.forms.amounts import canonical

    wide = Decimal("9" * 40)
    assert canonical(wide, 2) == "9" * 40 + ".00"
    assert canonical(Decimal("1E+45"), 0) == "1" + "0" * 45
    assert canonical(Decimal("1500.7"), 2) == "1500.70"
