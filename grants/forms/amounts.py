"""One way to type an amount: the reader's language decides what the marks mean.

A Spanish reader writes 1.500,75 and an English reader 1,500.75 for the same number. Every form
where a person types money (or hours, or another decimal) uses ``AmountField``, which:

* reads the active language's format with Babel, strictly (``parse_typed_amount``);
* trims spaces and a currency sign or code only at the ends ("US$ 1.500", "1,500.75 USD");
* refuses what is malformed ("1e5", "--5", "1,2,3", "1.5" in Spanish) with an example in the
  reader's format, and never stores a number other than the one meant;
* refuses what is **ambiguous**: the decimal mark followed by exactly three digits and nothing
  else ("1,500" in Spanish, "1.500" in English) could be a thousands group typed the other
  language's way, so the person is asked to write it unambiguously;
* bounds the value to what the database column holds (``max_digits``, ``decimal_places``) and
  to the currency's minor unit (no decimals for JPY), and refuses negatives (and zero when the
  form says so);
* shows the initial value in the reader's format, which parses back to the same number.

See docs/decisions.md, "Amounts typed in the reader's language".
"""

import re
from decimal import Context, Decimal, InvalidOperation, localcontext

from babel.numbers import (
    NumberFormatError,
    format_decimal,
    get_currency_symbol,
    get_decimal_symbol,
    get_group_symbol,
    parse_decimal,
)
from django import forms
from django.utils.functional import lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.money import currency_exponent, reader_locale

SPACES = " \u00a0\u202f\t"
# Signs a person may put before or after an amount; the currency's own code and its symbol in
# the reader's language are added per field.
CURRENCY_SIGNS = ("US$", "USD", "$", "€", "EUR")
EXAMPLE = Decimal("1500.75")
FROM_CURRENCY = object()  # the decimals of ``currency``, 2 without one


def format_amount(value: Decimal, *, decimals: int | None = None, locale: str | None = None) -> str:
    """``value`` in the reader's format, grouped: 1500.75 → "1.500,75" (es), "1,500.75" (en).

    With ``decimals`` every value shows exactly that many (1500 USD → "1.500,00"); without, only
    the digits it has (7.5 hours → "7,5")."""
    locale = locale or reader_locale()
    if decimals is None:
        exponent = value.normalize().as_tuple().exponent
        decimals = max(0, -exponent) if isinstance(exponent, int) else 0
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    # Wide enough for any number (a draft may hold forty nines): Babel rounds in the current
    # context, whose 28 digits would raise InvalidOperation.
    _sign, value_digits, exponent = value.as_tuple()
    digits = len(value_digits) + (max(exponent, 0) if isinstance(exponent, int) else 0) + decimals + 2
    with localcontext(Context(prec=max(28, digits))):
        return format_decimal(value, format=pattern, locale=locale, decimal_quantization=False)


def example(decimals: int | None = 2) -> str:
    """The example amount in the reader's format: "1.500,75" (es), "1,500" for JPY in English."""
    value = EXAMPLE if decimals != 0 else EXAMPLE.to_integral_value()
    return format_amount(value, decimals=2 if decimals is None else decimals)


def _example_sentence(decimals):
    return gettext("for example %(example)s") % {"example": example(decimals)}


example_sentence = lazy(_example_sentence, str)


def _help(text, decimals, currency=None, with_example=True):
    """The help text (by default "In USD."), followed by an example in the reader's format."""
    if text is None:
        text = gettext("In %(currency)s.") % {"currency": currency} if currency else ""
    text = str(text)
    if not with_example:
        return text
    sentence = _example_sentence(decimals)
    return f"{text.rstrip('.')}, {sentence}." if text else sentence[:1].upper() + sentence[1:] + "."


help_with_example = lazy(_help, str)


def _strip_signs(text: str, signs) -> str:
    text = text.strip(SPACES)
    for sign in sorted(signs, key=len, reverse=True):
        if text.startswith(sign):
            text = text[len(sign) :].strip(SPACES)
            break
    for sign in sorted(signs, key=len, reverse=True):
        if text.endswith(sign):
            text = text[: -len(sign)].strip(SPACES)
            break
    return text


def parse_typed_amount(
    text: str, *, decimals=FROM_CURRENCY, currency: str | None = None, locale: str | None = None
) -> Decimal:
    """What a person typed, as the exact Decimal they meant, else a ``ValidationError``.

    ``decimals`` is how many digits may follow the decimal mark (the currency's exponent);
    ``None`` allows any. Sign and bounds are ``AmountField``'s business, not this function's.
    """
    if decimals is FROM_CURRENCY:
        decimals = currency_exponent(currency) if currency else 2
    locale = locale or reader_locale()
    point, group = get_decimal_symbol(locale), get_group_symbol(locale)
    signs = set(CURRENCY_SIGNS)
    if currency:
        signs |= {currency, get_currency_symbol(currency, locale=locale)}
    typed = (text or "").strip(SPACES)
    cleaned = _strip_signs(typed, signs)
    invalid = forms.ValidationError(
        _("Enter the amount as a number, %(example)s."),
        code="invalid",
        params={"example": _example_sentence(decimals)},
    )
    allowed = re.escape(point) + re.escape(group)
    if not re.fullmatch(rf"-?[0-9{allowed}]*[0-9][0-9{allowed}]*", cleaned):
        raise invalid
    if (decimals is None or decimals < 3) and re.fullmatch(
        rf"-?[0-9]{{1,3}}{re.escape(point)}[0-9]{{3}}", cleaned
    ):
        whole, fraction = cleaned.split(point)
        large = Decimal(whole + fraction)
        small = Decimal(f"{whole}.{fraction}").normalize()
        raise forms.ValidationError(
            _("“%(typed)s” could mean %(large)s or %(small)s: write %(plain)s or %(small)s."),
            code="ambiguous",
            params={
                "typed": cleaned,
                "large": format_amount(large, locale=locale),
                "plain": f"{large:f}",
                "small": format_amount(small, locale=locale),
            },
        )
    try:
        value = parse_decimal(cleaned, locale=locale, strict=True)
    except (NumberFormatError, InvalidOperation, ValueError):
        raise invalid from None
    if not value.is_finite():
        raise invalid
    if decimals is not None:
        _sign, _digits, exponent = value.as_tuple()
        if -exponent > decimals:
            if decimals == 0 and currency:
                message = _("Amounts in %(currency)s have no decimals.")
            elif decimals == 0:
                message = _("Enter a whole number, without decimals.")
            elif currency:
                message = _("Amounts in %(currency)s have at most %(digits)s decimals.")
            else:
                message = _("Enter at most %(digits)s decimals.")
            raise forms.ValidationError(
                message, code="decimals", params={"currency": currency, "digits": decimals}
            )
    return value


def canonical(value: Decimal, decimals: int) -> str:
    """How a parsed amount is kept in stored answers: always with the currency's decimals and a
    point ("1500.00", "1500" for JPY), so it is never mistaken for something a person typed.

    Exact whatever the size: a draft may hold a number far wider than any column (refused on
    submit), which the default 28-digit context could not quantize."""
    digits = len(value.as_tuple().digits) + max(value.as_tuple().exponent, 0) + decimals + 2
    context = Context(prec=max(28, digits))
    return f"{value.quantize(Decimal(1).scaleb(-decimals), context=context):f}"


def is_canonical(text, decimals: int) -> bool:
    pattern = r"-?[0-9]+" + (rf"\.[0-9]{{{decimals}}}" if decimals else "")
    return isinstance(text, str) and re.fullmatch(pattern, text) is not None


def read_stored_amount(text, *, decimals: int, currency: str | None = None) -> Decimal:
    """A stored answer: the canonical form as it is, anything else as typed in the reader's way.

    Answers of an application are saved as typed; ``raw_amount`` turns what parses into the
    canonical form first, so a Spanish "1.500" is kept as "1500.00" and never read back as 1.5.
    """
    if is_canonical(text, decimals):
        return Decimal(text)
    return parse_typed_amount(str(text), decimals=decimals, currency=currency)


def raw_amount(text, *, decimals: int, currency: str | None = None):
    """What to store for a typed amount: its canonical form when it parses, else the text as typed."""
    if not isinstance(text, str) or not text.strip():
        return text
    try:
        return canonical(read_stored_amount(text, decimals=decimals, currency=currency), decimals)
    except forms.ValidationError:
        return text


class AmountInput(forms.TextInput):
    """A text box for an amount: the phone's number pad with a decimal mark, no autofill, the
    example in the reader's format as placeholder, and a value shown the reader's way."""

    def __init__(self, attrs=None, *, decimals: int | None = 2, stored: bool = False):
        self.decimals = decimals
        self.stored = stored
        super().__init__({"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value):
        if isinstance(value, Money):
            value = value.amount
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if self.stored and self.decimals is not None and is_canonical(value, self.decimals):
            value = Decimal(value)
        if isinstance(value, Decimal) and value.is_finite():
            return format_amount(value, decimals=self.decimals)
        return super().format_value(value)  # typed text comes back as it was typed

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["attrs"].setdefault("placeholder", example(self.decimals))
        return context


class AmountField(forms.Field):
    """An amount typed in the reader's language (see the module's docstring).

    ``currency`` sets the decimals (its exponent: 2 for USD, 0 for JPY) and the signs trimmed;
    without it ``decimal_places`` does. ``max_digits``/``decimal_places`` are the column's (use
    ``for_column``). ``allow_zero=False`` refuses 0; negatives are always refused.
    ``help_text`` is followed by an example in the reader's format unless ``example=False``.
    """

    widget = AmountInput
    default_error_messages = {
        "negative": _("The amount cannot be negative."),
        "zero": _("Enter an amount greater than zero."),
        "too_large": _("Enter an amount of at most %(limit)s."),
    }

    def __init__(
        self,
        *,
        currency: str | None = None,
        max_digits: int = 14,
        decimal_places: int = 2,
        allow_zero: bool = True,
        max_value: Decimal | None = None,
        min_value: Decimal | None = None,
        example: bool = True,
        stored: bool = False,
        **kwargs,
    ):
        self.currency = str(currency) if currency else None
        self.max_digits, self.decimal_places = max_digits, decimal_places
        self.decimals = currency_exponent(self.currency) if self.currency else decimal_places
        self.decimals = min(self.decimals, decimal_places)
        self.allow_zero = allow_zero
        self.max_value = max_value
        self.min_value = min_value
        self.stored = stored
        if example or "help_text" not in kwargs:
            kwargs["help_text"] = help_with_example(
                kwargs.get("help_text"), self.decimals, self.currency, example
            )
        kwargs.setdefault("widget", AmountInput(decimals=self.decimals, stored=stored))
        super().__init__(**kwargs)

    @classmethod
    def for_column(cls, model, field_name: str, **kwargs) -> "AmountField":
        """A field bounded by ``model.field_name``'s ``max_digits`` and ``decimal_places``."""
        column = model._meta.get_field(field_name)
        return cls(max_digits=column.max_digits, decimal_places=column.decimal_places, **kwargs)

    @property
    def limit(self) -> Decimal:
        """The largest amount the column holds (9999999999.99 for 12 digits, 2 decimals)."""
        largest = Decimal(10) ** (self.max_digits - self.decimal_places) - Decimal(1).scaleb(-self.decimals)
        if self.max_value is not None:
            largest = min(largest, self.max_value)
        return largest

    def to_python(self, value):
        if value in self.empty_values:
            return None
        if isinstance(value, Money):
            return value.amount
        if isinstance(value, Decimal):
            return value
        if self.stored:
            return read_stored_amount(str(value), decimals=self.decimals, currency=self.currency)
        return parse_typed_amount(str(value), decimals=self.decimals, currency=self.currency)

    def raw(self, value):
        """What a stored answer keeps of ``value`` (see ``raw_amount``)."""
        return raw_amount(value, decimals=self.decimals, currency=self.currency)

    def validate(self, value):
        super().validate(value)
        if value is None:
            return
        if value < 0:
            raise forms.ValidationError(self.error_messages["negative"], code="negative")
        if value == 0 and not self.allow_zero:
            raise forms.ValidationError(self.error_messages["zero"], code="zero")
        if self.min_value is not None and value < self.min_value:
            raise forms.ValidationError(
                _("Enter an amount of at least %(limit)s."),
                code="too_small",
                params={"limit": format_amount(self.min_value, decimals=self.decimals)},
            )
        if value > self.limit:
            raise forms.ValidationError(
                self.error_messages["too_large"],
                code="too_large",
                params={"limit": format_amount(self.limit, decimals=self.decimals)},
            )

    def has_changed(self, initial, data):
        try:
            return self.to_python(initial) != self.to_python(data)
        except forms.ValidationError:
            return True


NUMBER_DECIMALS = 2  # a number that is not a count keeps at most two decimals (7,5 hours, 2,25 %)
NUMBER_MAX_DIGITS = 15


class NumberInput(AmountInput):
    """A number shown the reader's way with only the decimals it has (1500 → "1.500", 7.5 → "7,5")."""

    def format_value(self, value):
        if self.stored and self.decimals is not None and is_canonical(value, self.decimals):
            value = Decimal(value)
        if isinstance(value, int) and not isinstance(value, bool):
            value = Decimal(value)
        if isinstance(value, Decimal) and value.is_finite():
            return format_amount(value)  # only the decimals it has
        return super().format_value(value)

    def get_context(self, name, value, attrs):
        attrs = {**(attrs or {}), "placeholder": number_example(self.decimals == 0)}
        if self.decimals == 0:
            attrs["inputmode"] = "numeric"
        return super().get_context(name, value, attrs)


def number_example(whole: bool) -> str:
    return format_amount(Decimal(1500) if whole else Decimal("7.5"))


class NumberField(AmountField):
    """A number a person types (an answer, a report's figure), read like an amount: the reader's
    marks, ambiguity refused, what parses stored canonically (``stored=True``). ``whole`` makes it
    a count: "2,5" people are refused. Negatives only where ``min_value`` allows them."""

    widget = NumberInput
    default_error_messages = {
        "negative": _("Enter a number, 0 or more."),
        "zero": _("Enter a number greater than zero."),
        "too_large": _("Enter a number of at most %(limit)s."),
    }

    def __init__(self, *, whole: bool = False, stored: bool = False, **kwargs):
        self.whole = whole
        decimals = 0 if whole else NUMBER_DECIMALS
        kwargs.setdefault("widget", NumberInput(decimals=decimals, stored=stored))
        kwargs.setdefault("help_text", "")
        super().__init__(
            max_digits=NUMBER_MAX_DIGITS, decimal_places=decimals, stored=stored, example=False, **kwargs
        )

    def to_python(self, value):
        try:
            return super().to_python(value)
        except forms.ValidationError as error:
            code = getattr(error, "code", None)
            if code == "invalid":
                raise forms.ValidationError(
                    _("Enter a number, for example %(example)s."),
                    code="invalid",
                    params={"example": number_example(self.whole)},
                ) from None
            if code == "decimals" and self.whole:
                raise forms.ValidationError(
                    _("Enter a whole number: this counts people or things, without decimals."),
                    code="whole",
                ) from None
            if code == "decimals":
                raise forms.ValidationError(
                    _("Enter at most %(digits)s decimals."), code="decimals", params={"digits": self.decimals}
                ) from None
            raise

    def validate(self, value):
        if value is not None and value < 0 and self.min_value is not None and self.min_value < 0:
            if value < self.min_value:
                raise forms.ValidationError(
                    _("Enter a number of at least %(limit)s."),
                    code="too_small",
                    params={"limit": format_amount(self.min_value)},
                )
            return
        if value is not None and self.min_value is not None and value < self.min_value:
            raise forms.ValidationError(
                _("Enter a number of at least %(limit)s."),
                code="too_small",
                params={"limit": format_amount(self.min_value)},
            )
        if value is not None and self.max_value is not None and value > self.max_value:
            raise forms.ValidationError(
                _("Enter a number of at most %(limit)s."),
                code="too_large",
                params={"limit": format_amount(self.max_value)},
            )
        super().validate(value)


def read_number(text, *, whole: bool = False) -> Decimal | None:
    """A stored number (canonical, or as typed the reader's way), None when it is not one."""
    if text in (None, ""):
        return None
    try:
        return read_stored_amount(str(text).strip(), decimals=0 if whole else NUMBER_DECIMALS)
    except forms.ValidationError:
        return None
