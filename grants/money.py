"""Amounts of money: the one place that knows about currencies' minor units.

Every amount in the portal is a ``Money`` in its fund's currency. Floats are refused (they
cannot hold cents exactly); amounts must be whole in the currency's minor unit (cents for USD,
whole yen for JPY), and Stripe's integer amounts are computed here and nowhere else.
"""

import decimal
from decimal import Decimal

from babel import Locale, UnknownLocaleError
from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.functional import cached_property
from djmoney.models.fields import MoneyField
from djmoney.money import Money

# Stripe's zero-decimal currencies (https://docs.stripe.com/currencies#zero-decimal).
ZERO_DECIMAL_CURRENCIES = frozenset(
    [
        "BIF",
        "CLP",
        "DJF",
        "GNF",
        "JPY",
        "KMF",
        "KRW",
        "MGA",
        "PYG",
        "RWF",
        "UGX",
        "VND",
        "VUV",
        "XAF",
        "XOF",
        "XPF",
    ]
)
# Three-decimal currencies: amounts are stored with two decimals, so funds cannot use them.
THREE_DECIMAL_CURRENCIES = frozenset(["BHD", "JOD", "KWD", "OMR", "TND"])
# What a fund can hold: amounts are stored with two decimals, so the portal splits exactly only
# currencies whose minor unit is 1 or 0.01.
FUND_EXPONENTS = (0, 2)


class MoneyTypeError(TypeError):
    """An amount was not a ``Money`` of Decimal value whole in its currency's minor unit."""


def reader_locale(language: str | None = None) -> str:
    """The Babel locale of ``language`` (the active one by default): ``settings.MONEY_FORMAT_LOCALES``
    where it names one, else the language's own (a newly added language needs no code)."""
    language = language or translation.get_language() or settings.LANGUAGE_CODE
    configured = settings.MONEY_FORMAT_LOCALES.get(language)
    if configured:
        return configured
    for candidate in (translation.to_locale(language), language.split("-")[0]):
        try:
            Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
        return candidate
    return "en_US"


def currency_exponent(currency: str) -> int:
    """Digits after the decimal point of the currency's minor unit (2 for USD, 0 for JPY)."""
    currency = str(currency).upper()
    if currency in ZERO_DECIMAL_CURRENCIES:
        return 0
    if currency in THREE_DECIMAL_CURRENCIES:
        return 3
    return 2


def is_fund_currency(currency: str) -> bool:
    """Whether a fund may keep its money in ``currency`` (0 or 2 decimals, see ``FUND_EXPONENTS``)."""
    return bool(currency) and currency_exponent(currency) in FUND_EXPONENTS


def minor_unit(currency: str) -> Decimal:
    """The smallest amount of the currency as a Decimal: 0.01 for USD, 1 for JPY."""
    return Decimal(1).scaleb(-currency_exponent(currency))


def is_whole_in_minor_units(value: Decimal, currency: str) -> bool:
    """Whether ``value`` has no digits below the currency's minor unit (1.10 USD yes, 1.001 no).

    Read from the digits, not by quantizing: 1E+99 or 30 significant digits would overflow the
    decimal context and raise instead of answering."""
    if not value.is_finite():
        return False
    _sign, digits, exponent = value.as_tuple()
    below_minor_unit = -exponent - currency_exponent(currency)
    return below_minor_unit <= 0 or not any(digits[-below_minor_unit:])


def check_money(value, *, currency: str | None = None, field: str = "amount") -> Money:
    """Return ``value`` if it is a proper amount, else raise ``MoneyTypeError``.

    A proper amount is a ``Money`` whose amount is a finite ``Decimal`` that is whole in the
    currency's minor unit, and (when given) in ``currency``.
    """
    if isinstance(value, float) or not isinstance(value, Money):
        raise MoneyTypeError(f"{field} must be Money, not {type(value).__name__}")
    amount = value.amount
    if not isinstance(amount, Decimal) or not amount.is_finite():
        raise MoneyTypeError(f"{field} must have a finite Decimal amount")
    code = str(value.currency)
    if currency is not None and code != str(currency):
        raise MoneyTypeError(f"{field} is in {code}, expected {currency}")
    if not is_whole_in_minor_units(amount, code):
        raise MoneyTypeError(f"{field} {amount} is not whole in {code}'s minor unit")
    return value


def to_minor_units(value: Money) -> int:
    """Stripe's integer amount: 12.34 USD → 1234, 500 JPY → 500."""
    check_money(value)
    return int(value.amount.scaleb(currency_exponent(str(value.currency))))


def from_minor_units(amount: int, currency: str) -> Money:
    """The inverse of ``to_minor_units``: 1234, "usd" → Money("12.34", "USD")."""
    if isinstance(amount, bool) or not isinstance(amount, int):
        raise MoneyTypeError(f"minor-unit amount must be int, not {type(amount).__name__}")
    currency = str(currency).upper()
    return Money(Decimal(amount).scaleb(-currency_exponent(currency)), currency)


def zero(currency: str) -> Money:
    return Money(Decimal(0).quantize(minor_unit(currency)), currency)


def without_negative_zero(value):
    """``value`` with a zero amount made positive; anything else unchanged.

    Decimal zero keeps a sign: a sum read as its account normally runs (``Decimal(0) * -1``)
    is ``-0``, which prints as "-$0.00" and makes auditors look for money that is not there.
    Takes a ``Money`` or a ``Decimal`` and returns the same kind.
    """
    amount = value.amount if isinstance(value, Money) else value
    if not isinstance(amount, Decimal) or not (amount.is_zero() and amount.is_signed()):
        return value
    return Money(amount.copy_abs(), value.currency) if isinstance(value, Money) else amount.copy_abs()


class WideReadMoneyField(MoneyField):
    """A ``MoneyField`` whose rows stay readable when the database holds a wider number.

    SQLite does not enforce ``max_digits``: an amount typed before input was bounded (an
    expense of 99999999999 in a 12-digit column) is stored, and Django's reader then rounds it
    in a context of ``max_digits`` significant digits, which raises ``InvalidOperation`` on
    every load of the page that lists it — the grantee could neither remove it nor submit.
    Reading in a context wide enough for any stored value shows the row (and lets it be removed);
    forms refuse such amounts at input (``grants.forms.amounts.AmountField``). The column itself
    is unchanged.
    """

    @cached_property
    def context(self):
        return decimal.Context(prec=max(self.max_digits, 40))


# --- Exact sums in the database ------------------------------------------------------------
#
# SQLite keeps a DECIMAL column as a binary float (REAL) and SUM() adds floats, so 4000.00 +
# 0.01 - 4000.00 comes back as 0.00999999999976. PostgreSQL's numeric is exact. The sums below
# add whole hundredths (the columns' two stored decimals) as integers on SQLite — each stored
# float rounds back to its exact hundredth, and integer addition is exact (SQLite raises on
# overflow rather than losing digits) — and keep PostgreSQL's plain SUM(numeric), so its plans
# (the covering index on journal lines) are unchanged. Either way the result is a Decimal with
# the column's two decimals.


class SummedMoneyField(models.DecimalField):
    """The output of ``ExactSum``: a Decimal read back exactly from either database.

    Its own internal type keeps SQLite's float-to-Decimal converter away (it would round to 15
    significant digits); ``from_db_value`` turns SQLite's integer of hundredths into a Decimal.
    """

    def get_internal_type(self):
        return "SummedMoneyField"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return None
        if connection.vendor == "sqlite":
            return Decimal(int(value)).scaleb(-self.decimal_places)
        return Decimal(value).quantize(Decimal(1).scaleb(-self.decimal_places))


def _places(expression) -> int:
    field = getattr(expression, "output_field", None)
    return getattr(field, "decimal_places", None) or 2


class ExactSum(models.Sum):
    """``Sum`` of a money column (``filter=`` works as with ``Sum``), exact on SQLite too.

    ``None`` when there is nothing to add, as ``Sum``.
    """

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=SummedMoneyField(max_digits=20, decimal_places=2), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        scale = 10 ** _places(self.get_source_expressions()[0])
        exact = self.copy()  # Aggregate.as_sql reads the template from the object when filtering
        exact.template = f"%(function)s(%(distinct)sCAST(ROUND(%(expressions)s * {scale}) AS INTEGER))"
        return exact.as_sql(compiler, connection, **extra_context)


class ExactSumOfColumn(models.Func):
    """SUM() of a money column without GROUP BY, for a correlated subquery (one sum per outer row).

    Exact on SQLite as ``ExactSum``; on PostgreSQL plain ``SUM(column)``, which an index that
    includes the column answers alone (Index Only Scan).
    """

    function = "SUM"

    def __init__(self, expression, **extra):
        super().__init__(expression, output_field=SummedMoneyField(max_digits=20, decimal_places=2), **extra)

    def as_sqlite(self, compiler, connection, **extra_context):
        scale = 10 ** _places(self.get_source_expressions()[0])
        exact = self.copy()
        exact.template = f"%(function)s(CAST(ROUND(%(expressions)s * {scale}) AS INTEGER))"
        return exact.as_sql(compiler, connection, **extra_context)


def currency_choices() -> list[tuple[str, str]]:
    """Every currency a fund may be kept in, named in the reader's language ("dólar
    estadounidense") and sorted by that name: the ``choices`` of currency fields (a callable, so
    each request reads its own language)."""
    from babel.numbers import get_currency_name
    from djmoney.settings import CURRENCY_CHOICES

    locale = reader_locale()
    named = []
    for code, _name in CURRENCY_CHOICES:
        name = get_currency_name(code, locale=locale)
        named.append((code, name[:1].upper() + name[1:]))
    return sorted(named, key=lambda choice: choice[1].casefold())
