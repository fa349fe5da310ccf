"""Turning a call's questions into form fields, and checking answers.

Answers are stored *raw* (as typed), so a draft can be saved at any time and a form shown
again exactly as the person left it. Validation binds the stored answers to these fields:
in draft mode nothing is required; on submit every rule applies and each error sits next to
its question.
"""

from decimal import Decimal

from django import forms
from django.utils.text import format_lazy
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from djmoney.money import Money

from grants.forms.amounts import (
    AmountField,
    NumberField,
    canonical,
    format_amount,
    is_canonical,
    raw_amount,
    read_number,
    read_stored_amount,
)
from grants.forms.limits import TextLimits
from grants.money import currency_exponent
from grants.questions import Question, Section

TITLE_KEY = "_title"
AMOUNT_KEY = "_requested_amount"
BUDGET_MIN_ROWS = 5
MAX_BUDGET_LINE = Decimal("1e12")


def field_name(question: Question) -> str:
    return f"q_{question.id}"


class WordLimitValidator:
    def __init__(self, limit: int):
        self.limit = limit

    def __call__(self, value: str):
        words = len((value or "").split())
        if words > self.limit:
            raise forms.ValidationError(
                _("Use at most %(limit)d words (you used %(count)d).") % {"limit": self.limit, "count": words}
            )


class BudgetWidget(forms.Widget):
    """Rows of category / description / amount inputs; stored answers are a list of dicts."""

    template_name = "applications/widgets/budget.html"

    def __init__(self, categories=(), currency="USD", attrs=None):
        super().__init__(attrs)
        self.categories = categories
        self.currency = currency
        self.decimals = currency_exponent(currency)

    def value_from_datadict(self, data, files, name):
        stored = data.get(name)
        if isinstance(stored, list):
            return stored
        rows = []
        index = 0
        while f"{name}-{index}-category" in data or f"{name}-{index}-amount" in data:
            row = {
                "category": (data.get(f"{name}-{index}-category") or "").strip(),
                "description": (data.get(f"{name}-{index}-description") or "").strip(),
                "amount": (data.get(f"{name}-{index}-amount") or "").strip(),
            }
            if any(row.values()):
                rows.append(row)
            index += 1
        return rows

    def value_omitted_from_data(self, data, files, name):
        return False

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        lines = [
            {**line, "amount": format_amount(Decimal(line["amount"]), decimals=self.decimals)}
            if is_canonical(line.get("amount"), self.decimals)
            else line
            for line in (value or [])
        ]
        rows = lines + [{"category": "", "description": "", "amount": ""}] * max(
            2, BUDGET_MIN_ROWS - len(lines)
        )
        context["widget"].update(
            rows=[{"index": i, **row} for i, row in enumerate(rows)],
            categories=list(enumerate_choices(self.categories)),
            currency=self.currency,
        )
        return context


class BudgetField(forms.Field):
    """Budget lines: each line needs a category from the call, and a positive amount."""

    def __init__(self, *, categories, currency, **kwargs):
        self.categories = tuple(categories)
        self.currency = currency
        self.decimals = currency_exponent(currency)
        super().__init__(widget=BudgetWidget(categories=self.categories, currency=currency), **kwargs)

    def to_python(self, value):
        return list(value or [])

    def validate(self, value):
        if self.required and not value:
            raise forms.ValidationError(_("Add at least one budget line."), code="required")

    def clean(self, value):
        lines = self.to_python(value)
        self.validate(lines)
        errors, cleaned = [], []
        for number, line in enumerate(lines, 1):
            category = line.get("category", "")
            if category not in {str(i) for i in range(len(self.categories))}:
                errors.append(_("Line %(n)d: choose a category.") % {"n": number})
            try:
                amount = read_stored_amount(
                    str(line.get("amount", "")), decimals=self.decimals, currency=self.currency
                )
            except forms.ValidationError as error:
                errors.append(
                    _("Line %(n)d: %(problem)s") % {"n": number, "problem": " ".join(error.messages)}
                )
                continue
            if amount <= 0:
                errors.append(_("Line %(n)d: enter an amount greater than zero.") % {"n": number})
                continue
            if amount >= MAX_BUDGET_LINE:  # wider than the amount columns (12 digits + cents)
                errors.append(
                    _("Line %(n)d: enter an amount of at most %(limit)s.")
                    % {"n": number, "limit": format_amount(MAX_BUDGET_LINE - 1, decimals=0)}
                )
                continue
            if len(line.get("description", "")) > 200:
                errors.append(_("Line %(n)d: keep the description under 200 characters.") % {"n": number})
            cleaned.append(
                {
                    "category": category,
                    "description": line.get("description", ""),
                    "amount": canonical(amount, self.decimals),
                }
            )
        if errors:
            raise forms.ValidationError(errors)
        return cleaned


def display_money(value, currency: str):
    """A money answer as ``Money`` (the templates format it the reader's way); an amount wider
    than any column (a draft may hold one) as a grouped number; what does not read, as typed."""
    if value in (None, ""):
        return ""
    decimals = currency_exponent(currency)
    try:
        amount = read_stored_amount(str(value), decimals=decimals, currency=currency)
    except forms.ValidationError:
        return str(value)
    if amount.adjusted() >= 15:
        return format_amount(amount, decimals=decimals)
    return Money(amount, currency)


def display_number(question: Question, value) -> str:
    """A number answer as the reader writes numbers ("1.500" in Spanish); what does not read as
    a number (a draft may hold it) as typed."""
    number = read_number(value, whole=question.whole)
    return format_amount(number) if number is not None else str(value or "")


def enumerate_choices(labels):
    """Choices are stored by position, so an answer given in English reads right in Spanish."""
    return ((str(index), label) for index, label in enumerate(labels))


def choice_label(labels, key) -> str:
    try:
        return labels[int(key)]
    except (TypeError, ValueError, IndexError):
        return str(key or "")


def budget_total(lines) -> Decimal:
    return sum((Decimal(line["amount"]) for line in lines), Decimal("0"))


CHARACTERS_PER_WORD = 30


def _question_field(question: Question, *, currency: str, draft: bool) -> forms.Field:
    required = question.required and not draft
    common = {"label": question.label, "help_text": question.help_text, "required": required}
    kind = question.type
    if kind == "short_text":
        return forms.CharField(max_length=question.max_length or 200, **common)
    if kind == "long_text":
        words = question.word_limit or 300
        field = forms.CharField(
            widget=forms.Textarea(attrs={"rows": 6}),
            validators=[WordLimitValidator(words)],
            # The limit people see is in words; the characters are a backstop no real answer meets.
            max_length=words * CHARACTERS_PER_WORD,
            **common,
        )
        hint = gettext_lazy("Up to %(limit)s words.") % {"limit": words}
        field.help_text = format_lazy("{} {}", field.help_text, hint) if field.help_text else hint
        field.length_hint_shown = True
        return field
    if kind == "number":
        return NumberField(
            whole=question.whole,
            min_value=Decimal(str(question.min_value)) if question.min_value is not None else None,
            max_value=Decimal(str(question.max_value)) if question.max_value is not None else None,
            stored=True,
            **common,
        )
    if kind == "money":
        return AmountField(currency=currency, stored=True, **common)
    if kind == "date":
        return forms.DateField(widget=forms.DateInput(attrs={"type": "date"}), **common)
    if kind == "single_choice":
        return forms.ChoiceField(
            choices=list(enumerate_choices(question.choices)), widget=forms.RadioSelect, **common
        )
    if kind == "multiple_choice":
        return forms.MultipleChoiceField(
            choices=list(enumerate_choices(question.choices)), widget=forms.CheckboxSelectMultiple, **common
        )
    if kind == "yes_no":
        return forms.ChoiceField(
            choices=[("yes", _("Yes")), ("no", _("No"))], widget=forms.RadioSelect, **common
        )
    if kind == "file":
        # The file itself is checked on upload (type and size); "required" is checked against the
        # attachments already stored, see ``validate_answers``.
        return forms.FileField(required=False, label=question.label, help_text=question.help_text)
    if kind == "budget":
        return BudgetField(categories=question.categories, currency=currency, **common)
    if kind == "consent":
        return forms.BooleanField(label=question.consent_text or question.label, help_text=question.help_text,
                                  required=required)  # fmt: skip
    raise ValueError(f"Unknown question type {kind!r}")


class SectionForm(TextLimits, forms.Form):
    """One step of an application form. ``questions`` maps field names back to questions."""

    def __init__(self, *args, section: Section, currency: str, draft: bool, amount_range=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.section = section
        self.questions = {}
        if section.number == 1:
            self.fields[TITLE_KEY] = forms.CharField(
                label=gettext_lazy("Name of your project or request"), max_length=200, required=not draft
            )
            low, high = amount_range or (None, None)
            self.fields[AMOUNT_KEY] = AmountField(
                label=gettext_lazy("Amount you request (%(currency)s)") % {"currency": currency},
                currency=currency,
                min_value=low,
                max_value=high,
                required=not draft,
                stored=True,
                help_text="",
            )
        for question in section.questions:
            name = field_name(question)
            self.fields[name] = _question_field(question, currency=currency, draft=draft)
            self.fields[name].question = question
            self.questions[name] = question
        self.show_text_limits()


def raw_values(form: SectionForm, data, files) -> dict:
    """What the person typed in this section, keyed like stored answers (files excluded)."""
    raw = {}
    for name, field in form.fields.items():
        if isinstance(field, forms.FileField):
            continue
        value = field.widget.value_from_datadict(data, files, form.add_prefix(name))
        if isinstance(field, AmountField):
            value = field.raw(value)
        elif isinstance(field, BudgetField) and isinstance(value, list):
            value = [
                {
                    **row,
                    "amount": raw_amount(row.get("amount"), decimals=field.decimals, currency=field.currency),
                }
                for row in value
            ]
        key = name[2:] if name.startswith("q_") else name
        raw[key] = value
    return raw


def stored_data(answers: dict, sensitive: dict) -> dict:
    """Stored answers as form data (field names ``q_<id>``; core fields keep their keys)."""
    data = {}
    for source in (answers, sensitive):
        for key, value in source.items():
            data[key if key.startswith("_") else f"q_{key}"] = value
    return data


def bind_section(section: Section, *, answers, sensitive, currency, draft, amount_range=None) -> SectionForm:
    return SectionForm(
        data=stored_data(answers, sensitive),
        section=section,
        currency=currency,
        draft=draft,
        amount_range=amount_range,
    )
