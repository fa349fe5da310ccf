"""Forms of spending reports: the grantee's report page, returning unspent money, staff actions.

Forms only shape what was typed (dates, ``Money``, texts); whether a report may be saved,
submitted, accepted or sent back is the service's decision (``grants.services.reports``).
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from grants.forms.amounts import NUMBER_DECIMALS, AmountField, NumberField, canonical
from grants.forms.awards import date_field, money
from grants.forms.limits import TextLimits
from grants.models import Expenditure, GrantReturn

SENSITIVE_REMINDER = _("Never write the names of the people you serve or their case numbers.")

RETURN_METHODS = [
    ("check", _("Check")),
    ("bank_transfer", _("Bank transfer")),
    ("other", _("Other")),
]


class ReportForm(TextLimits, forms.Form):
    """The report itself: its period, explanations of budget variances, narrative and metrics.

    Explanation fields exist for the budget categories that need one (``explain`` lists their
    positions and labels); metric fields come from the call's metric definitions.
    """

    period_start = date_field(_("From"), required=False)
    period_end = date_field(_("To"), required=False)
    narrative = forms.CharField(
        label=_("What the grant made possible"),
        required=False,
        max_length=10000,
        widget=forms.Textarea(attrs={"rows": 6}),
        help_text=SENSITIVE_REMINDER,
    )

    def __init__(self, *args, metric_definitions=(), explain=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.metric_names = []
        for metric in metric_definitions:
            name = f"metric_{metric['key']}"
            if metric.get("kind") == "number":
                # Read the reader's way ("1.500" is 1500 in Spanish), a count refuses decimals;
                # kept canonically (``metrics``), so totals add what was meant.
                self.fields[name] = NumberField(
                    label=metric["label"], help_text=metric.get("help_text") or "", required=False,
                    whole=bool(metric.get("whole")), stored=True,
                )  # fmt: skip
            else:
                self.fields[name] = forms.CharField(
                    label=metric["label"], help_text=metric.get("help_text") or "", required=False,
                    max_length=200, widget=forms.TextInput(),
                )  # fmt: skip
            self.metric_names.append((metric["key"], name))
        self.explanation_names = []
        for position, label in explain:
            name = f"explanation_{position}"
            self.fields[name] = forms.CharField(
                label=_("Why %(category)s differs from the budget") % {"category": label},
                required=False,
                max_length=2000,
                widget=forms.Textarea(attrs={"rows": 2}),
            )
            self.explanation_names.append((str(position), name))
        self.show_text_limits()

    def metrics(self) -> dict:
        """``{key: text}``: figures in their canonical form ("1500", "7.50"), texts as written."""
        values = {}
        for key, name in self.metric_names:
            value = self.cleaned_data.get(name)
            field = self.fields[name]
            if isinstance(field, NumberField):
                values[key] = (
                    canonical(value, 0 if field.whole else NUMBER_DECIMALS) if value is not None else ""
                )
            else:
                values[key] = (value or "").strip()
        return values

    def explanations(self) -> dict:
        return {
            position: self.cleaned_data.get(name, "").strip() for position, name in self.explanation_names
        }


class ExpenditureForm(TextLimits, forms.Form):
    """One expenditure; the receipt's type and size are checked by the service."""

    date = date_field(_("Date paid"))
    category = forms.ChoiceField(label=_("Budget category"))
    description = forms.CharField(label=_("What was paid for"), max_length=300, help_text=SENSITIVE_REMINDER)
    receipt = forms.FileField(
        label=_("Receipt"),
        required=False,
        help_text=_("A photo or PDF of the receipt or invoice: PDF, JPEG, PNG or HEIC, at most 10 MB."),
        widget=forms.ClearableFileInput(
            attrs={"accept": ".pdf,.jpg,.jpeg,.png,.heic,application/pdf,image/*"}
        ),
    )

    def __init__(self, *args, categories, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["category"].choices = [("", _("Choose a category"))] + [
            (str(position), label) for position, label in categories
        ]
        self.fields["amount"] = AmountField.for_column(
            Expenditure, "amount", label=_("Amount"), currency=currency, allow_zero=False
        )
        self.order_fields(["date", "category", "description", "amount", "receipt"])

    def amount(self):
        return money(self.cleaned_data["amount"], self.currency)


class ReturnForm(TextLimits, forms.Form):
    """Unspent money the grantee announces it is giving back."""

    method = forms.ChoiceField(label=_("How you are returning it"), choices=RETURN_METHODS)
    reference = forms.CharField(
        label=_("Reference"),
        max_length=120,
        required=False,
        help_text=_("A check number or transfer reference."),
    )
    note = forms.CharField(
        label=_("Note"), required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        self.fields["amount"] = AmountField.for_column(
            GrantReturn, "amount", label=_("Amount returned"), currency=currency, allow_zero=False
        )
        self.order_fields(["amount", "method", "reference", "note"])

    def amount(self):
        return money(self.cleaned_data["amount"], self.currency)


class RequestChangesForm(TextLimits, forms.Form):
    message = forms.CharField(
        label=_("What the grantee should change"),
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_("The grantee reads this message with the report."),
    )


class ConfirmReturnForm(TextLimits, forms.Form):
    received_on = date_field(_("Received on"))
