"""Staff forms for awards: the terms and payment schedule, and the actions on an award.

Forms only turn what was typed into dates and ``Money``; whether an action is allowed is
decided by ``grants.services``. Amounts are typed in the fund's currency, which is shown
next to the field and never chosen here.
"""

from decimal import Decimal

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.forms.amounts import AmountField
from grants.forms.limits import TextLimits
from grants.forms.translations import add_translation_fields, input_name
from grants.models import Award, translation_languages
from grants.services.schedules import MAX_INSTALLMENTS, ScheduleKind


class DateInput(forms.DateInput):
    """The browser's date picker: the value travels as ISO (YYYY-MM-DD), shown in the reader's locale."""

    input_type = "date"

    def __init__(self, attrs=None):
        super().__init__(attrs=attrs, format="%Y-%m-%d")


def date_field(label, *, required=True, help_text=""):
    return forms.DateField(label=label, required=required, help_text=help_text, widget=DateInput())


def money(amount: Decimal | None, currency: str) -> Money | None:
    return None if amount is None else Money(amount, currency)


class AwardTermsForm(TextLimits, forms.Form):
    """The award's terms and how its payment schedule is built."""

    amount = AmountField(currency="USD", label=_("Amount of the award"))
    start_date = date_field(_("Start date"))
    end_date = date_field(_("End date"))
    conditions = forms.CharField(
        label=_("Conditions"),
        required=False,
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("What the grantee must do or report. The grantee reads this with the agreement."),
    )
    schedule_kind = forms.ChoiceField(label=_("How the award is paid"), choices=ScheduleKind.CHOICES)
    count = forms.IntegerField(
        label=_("Number of payments"),
        min_value=1,
        max_value=MAX_INSTALLMENTS,
        initial=1,
        help_text=_("Ignored for a single payment."),
    )
    first_due = date_field(_("First payment due"))
    interim_report = date_field(_("Interim report due"), required=False)
    final_report = date_field(_("Final report due"))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"] = AmountField(currency=currency, label=_("Amount of the award"))
        add_translation_fields(self, Award)

    @property
    def translation_inputs(self):
        """The conditions in the portal's other languages, shown under the source's."""
        return [self[input_name("conditions", code)] for code, _name in translation_languages()]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("start_date"), cleaned.get("end_date")
        if start and end and end < start:
            self.add_error("end_date", _("The award must end on or after its start date."))
        if cleaned.get("schedule_kind") == ScheduleKind.ONE:
            cleaned["count"] = 1
        return cleaned

    @property
    def amount_money(self) -> Money | None:
        return money(self.cleaned_data.get("amount"), self.currency)

    def report_dates(self) -> list:
        dates = []
        if self.cleaned_data.get("interim_report"):
            dates.append(("interim", self.cleaned_data["interim_report"]))
        dates.append(("final", self.cleaned_data["final_report"]))
        return dates


class InstallmentRowForm(TextLimits, forms.Form):
    """One payment of the schedule, as the officer may adjust it by hand."""

    due_date = date_field(_("Due date"))
    amount = AmountField(currency="USD", label=_("Amount"))

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = AmountField(currency=currency, label=_("Amount"), help_text="")
        self.currency = currency


class BaseScheduleFormSet(forms.BaseFormSet):
    def __init__(self, *args, currency: str, **kwargs):
        self.currency = currency
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "currency": self.currency}

    def schedule(self) -> list:
        """``[(due_date, Money), ...]`` of the rows filled in (blank rows are skipped)."""
        rows = []
        for form in self.forms:
            data = getattr(form, "cleaned_data", None) or {}
            if data.get("due_date") and data.get("amount") is not None:
                rows.append((data["due_date"], Money(data["amount"], self.currency)))
        return rows


ScheduleFormSet = forms.formset_factory(
    InstallmentRowForm,
    formset=BaseScheduleFormSet,
    extra=1,
    max_num=MAX_INSTALLMENTS,
    absolute_max=MAX_INSTALLMENTS,
)


def schedule_formset(currency: str, *, data=None, schedule=None) -> BaseScheduleFormSet:
    """The editable schedule: bound to ``data`` or filled with ``schedule`` (due date, Money) rows."""
    initial = None
    if schedule is not None:
        initial = [{"due_date": due, "amount": amount.amount} for due, amount in schedule]
    return ScheduleFormSet(data=data, initial=initial, prefix="rows", currency=currency)


# --- Actions on an award -----------------------------------------------------------------------


class AmendForm(TextLimits, forms.Form):
    new_amount = AmountField(currency="USD", label=_("New amount"))
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The grantee reads it."),
    )
    due_date = date_field(
        _("Due date of the added payment"),
        required=False,
        help_text=_("Only used when every payment is already made; today when left empty."),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["new_amount"] = AmountField(currency=currency, label=_("New amount"))


class CancelForm(TextLimits, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The grantee reads it."),
    )
    confirm = forms.BooleanField(
        label=_("I understand: unpaid payments are cancelled and their money goes back to the fund."),
    )


class CompleteForm(TextLimits, forms.Form):
    note = forms.CharField(
        label=_("Note (optional)"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )


class HoldForm(TextLimits, forms.Form):
    reason = forms.CharField(
        label=_("Reason for the hold"), max_length=300, help_text=_("The grantee reads it.")
    )


class LiftHoldForm(TextLimits, forms.Form):
    pass


class RecordPaymentForm(TextLimits, forms.Form):
    paid_on = date_field(_("Date paid"))
    reference = forms.CharField(label=_("Check number or bank reference"), max_length=120)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["paid_on"].initial = timezone.localdate
