"""Every place that turns typed text into an amount: whatever is typed, the answer is an exact
``Decimal``/``Money`` or a validation error, never another exception and never a float."""

from decimal import Decimal
from fractions import Fraction

import pytest
from django import forms
from django.utils import translation
from djmoney.money import Money
from hypothesis import given
from hypothesis import strategies as st

from grants.forms.amounts import format_amount
from grants.forms.awards import AmountField
from grants.forms.donations import DonationForm, parse_amount
from grants.money import (
    MoneyTypeError,
    check_money,
    currency_exponent,
    from_minor_units,
    is_whole_in_minor_units,
    to_minor_units,
)
from grants.questions import Question, Section
from grants.services import answers as answer_forms
from grants.services.applications import _money_or_none
from grants.services.stipends import StipendError, _parse_hours
from tests.factories import FundFactory
from tests.fuzz.conftest import fuzz_settings, number_like

CURRENCIES = ["USD", "EUR", "MXN", "JPY", "KRW", "CLP"]
any_decimal = st.decimals(allow_nan=True, allow_infinity=True)
finite_decimal = st.decimals(allow_nan=False, allow_infinity=False)


# --- grants.money -----------------------------------------------------------------------------


@fuzz_settings(100)
@given(value=any_decimal, currency=st.sampled_from(CURRENCIES))
def test_whole_in_minor_units_answers_for_any_decimal(value, currency):
    """Huge (1E+99), tiny (1E-999) and non-finite values get an answer, not InvalidOperation."""
    answer = is_whole_in_minor_units(value, currency)
    assert isinstance(answer, bool)
    if not value.is_finite():
        assert answer is False
    elif abs(value.adjusted()) < 5000:  # exact oracle: a fraction times 10^exponent is an integer
        assert answer == ((Fraction(value) * 10 ** currency_exponent(currency)).denominator == 1)


def test_whole_in_minor_units_regressions():
    assert is_whole_in_minor_units(Decimal("1E+99"), "USD")
    assert is_whole_in_minor_units(Decimal("1.10"), "USD")
    assert is_whole_in_minor_units(Decimal("1.100000"), "USD")
    assert not is_whole_in_minor_units(Decimal("1.001"), "USD")
    assert not is_whole_in_minor_units(Decimal("1.5"), "JPY")
    assert is_whole_in_minor_units(Decimal("1.0"), "JPY")
    assert not is_whole_in_minor_units(Decimal("1E-999"), "USD")
    assert not is_whole_in_minor_units(Decimal("NaN"), "USD")
    assert not is_whole_in_minor_units(Decimal("Infinity"), "USD")
    # 30 significant digits: more than the default context's precision, still answered exactly.
    assert not is_whole_in_minor_units(Decimal("1234567890123456789012345678.901"), "USD")


@fuzz_settings(100)
@given(value=st.one_of(any_decimal, st.floats(), st.integers(), st.text(max_size=5), st.none()),
       currency=st.sampled_from(CURRENCIES))  # fmt: skip
def test_check_money_refuses_anything_but_exact_money_with_its_own_error(value, currency):
    candidate = value
    if isinstance(value, Decimal) and value.is_finite() and abs(value.adjusted()) < 20:
        candidate = Money(value, currency)
    try:
        checked = check_money(candidate, currency=currency)
    except MoneyTypeError:
        return
    assert isinstance(checked.amount, Decimal) and not isinstance(value, float)
    assert is_whole_in_minor_units(checked.amount, currency)


@fuzz_settings(100)
@given(minor=st.integers(min_value=-(10**15), max_value=10**15), currency=st.sampled_from(CURRENCIES))
def test_minor_units_round_trip(minor, currency):
    amount = from_minor_units(minor, currency)
    assert isinstance(amount.amount, Decimal)
    assert to_minor_units(amount) == minor


def test_minor_units_refuse_floats_and_bools():
    for bad in (1.5, True, "100", Decimal("1")):
        with pytest.raises(MoneyTypeError):
            from_minor_units(bad, "USD")
    with pytest.raises(MoneyTypeError):
        to_minor_units(Money(Decimal("1.001"), "USD"))
    assert to_minor_units(Money(500, "JPY")) == 500


# --- The donate form's amount -------------------------------------------------------------------


@fuzz_settings(100)
@given(text=number_like)
def test_parse_amount_gives_a_finite_decimal_or_a_validation_error(text):
    try:
        value = parse_amount(text)
    except forms.ValidationError:
        return
    assert isinstance(value, Decimal) and value.is_finite()


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("1,000.50", "en", "1000.50"),
        ("1.000,50", "es", "1000.50"),
        ("1,000,000.25", "en", "1000000.25"),
        ("1.000.000,25", "es", "1000000.25"),
        ("50,25", "es", "50.25"),
        ("$1,500", "en", "1500"),
        ("1.500,00 US$", "es", "1500.00"),
        ("\u00a01.500,00 ", "es", "1500.00"),
    ],
)
def test_parse_amount_reads_the_readers_way_of_writing_amounts(text, language, expected):
    with translation.override(language):
        assert parse_amount(text) == Decimal(expected)


@pytest.mark.parametrize(
    "text", ["1.000.50", "1,000,50", "1,00,0.5", "5-", "--5", "1e309x", "NaN", "Infinity", "1 500,00"]
)
@pytest.mark.parametrize("language", ["en", "es"])
def test_parse_amount_refuses_amounts_that_cannot_be_read_one_way(text, language):
    with translation.override(language), pytest.raises(forms.ValidationError):
        parse_amount(text)


@pytest.mark.parametrize(
    ("text", "language"), [("1.000,50", "en"), ("50.25", "es"), ("1,500", "es"), ("1.500", "en")]
)
def test_parse_amount_refuses_the_other_languages_writing_rather_than_misread_it(text, language):
    with translation.override(language), pytest.raises(forms.ValidationError):
        parse_amount(text)


@fuzz_settings(100)
@given(
    cents=st.integers(min_value=0, max_value=10**11),
    language=st.sampled_from(["en", "es"]),
)
def test_amounts_written_the_local_way_read_back_exactly(cents, language):
    value = Decimal(cents).scaleb(-2)
    with translation.override(language):
        text = format_amount(value, decimals=2)  # as the portal shows amounts (Babel)
        assert parse_amount(text) == value


@pytest.mark.django_db
@fuzz_settings(60)
@given(
    text=number_like, currency=st.sampled_from(["USD", "JPY"]), choice=st.sampled_from(["other", "", "50"])
)
def test_donation_form_amount_is_exact_money_in_range_or_an_error(text, currency, choice):
    fund = FundFactory(
        currency=currency, donation_minimum=5, donation_maximum=10000, donation_presets="25,50,100"
    )
    form = DonationForm(
        data={"amount": choice, "other_amount": text, "frequency": "one_time", "name": "Rosa",
              "email": "rosa@example.org"},
        fund=fund,
    )  # fmt: skip
    valid = form.is_valid()
    selected = form.selected_amount()  # the fee estimate the page shows, whatever was typed
    assert selected is None or isinstance(selected.amount, Decimal)
    if valid:
        gift = form.gift
        assert isinstance(gift, Money) and isinstance(gift.amount, Decimal)
        assert str(gift.currency) == currency
        assert Decimal(5) <= gift.amount <= Decimal(10000)
        assert is_whole_in_minor_units(gift.amount, currency)
    else:
        assert form.errors


@pytest.mark.django_db
def test_donation_form_huge_exponent_is_a_clear_refusal_not_a_crash():
    fund = FundFactory(currency="USD", donation_minimum=5, donation_maximum=10000)
    form = DonationForm(
        data={"amount": "other", "other_amount": "1e99", "frequency": "one_time", "name": "R",
              "email": "r@example.org"},
        fund=fund,
    )  # fmt: skip
    assert not form.is_valid()
    assert "Enter the amount as a number" in str(form.errors["other_amount"])


# --- Amount fields of grantee and staff forms, application answers, stipend hours ----------------


@fuzz_settings(100)
@given(text=number_like, currency=st.sampled_from(CURRENCIES))
def test_amount_field_cleans_to_an_exact_decimal_or_a_validation_error(text, currency):
    field = AmountField(currency=currency, required=False)
    try:
        value = field.clean(text)
    except forms.ValidationError:
        return
    assert value is None or (isinstance(value, Decimal) and value.is_finite())
    if value is not None:
        assert is_whole_in_minor_units(value, currency)
        assert len(value.as_tuple().digits) <= 14


MONEY_SECTION = Section(
    number=1,
    heading="About",
    help_text="",
    questions=(
        Question(id="cost", type="money", label="Cost"),
        Question(id="people", type="number", label="People", min_value=0, max_value=1000),
        Question(id="budget", type="budget", label="Budget", categories=("Legal", "Fees")),
    ),
)


@fuzz_settings(100)
@given(amount=number_like, cost=number_like, people=number_like, line=number_like, draft=st.booleans())
def test_application_money_answers_validate_without_crashing(amount, cost, people, line, draft):
    data = {"_title": "T", "_requested_amount": amount, "q_cost": cost, "q_people": people,
            "q_budget-0-category": "0", "q_budget-0-description": "x", "q_budget-0-amount": line}  # fmt: skip
    form = answer_forms.SectionForm(
        data, section=MONEY_SECTION, currency="USD", draft=draft, amount_range=(Decimal(1000), Decimal(20000))
    )
    if form.is_valid():
        for name in ("_requested_amount", "q_cost", "q_people"):
            value = form.cleaned_data[name]
            assert value is None or (isinstance(value, Decimal) and value.is_finite())
        for row in form.cleaned_data["q_budget"]:
            amount_value = Decimal(row["amount"])
            assert amount_value.is_finite() and amount_value > 0
            assert amount_value < Decimal("1e12")  # fits the amount columns (14 digits, 2 decimals)
    # Stored drafts keep what was typed; the requested amount becomes Money or nothing.
    stored = _money_or_none(amount, "USD")
    assert stored is None or (isinstance(stored.amount, Decimal) and stored.amount < Decimal("1e12"))


def test_budget_line_amounts_too_big_for_the_ledger_are_refused():
    form = answer_forms.SectionForm(
        {"q_budget-0-category": "0", "q_budget-0-amount": "1e309"},
        section=MONEY_SECTION, currency="USD", draft=True,
    )  # fmt: skip
    assert not form.is_valid()
    assert "q_budget" in form.errors


@fuzz_settings(100)
@given(text=number_like)
def test_stipend_hours_are_exact_or_refused(text):
    try:
        hours = _parse_hours(text)
    except StipendError:
        return
    assert isinstance(hours, Decimal) and Decimal(0) < hours <= Decimal(24)
