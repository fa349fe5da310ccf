"""Staff forms for donations in Wagtail admin: the list's filters and "Record an offline gift".

Forms only turn what was typed into values; ``grants.services.offline_gifts`` decides whether
a gift can be recorded (amount, currency, date, who may), and its errors are put back on the
field they concern so nothing typed is lost.
"""

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.forms.amounts import AmountField
from grants.forms.awards import date_field
from grants.forms.choices import ModelChoiceField
from grants.forms.limits import TextLimits
from grants.models import Donation, DonationStatus, Fund, GiftKind, PaymentChannel
from grants.services.offline_gifts import OFFLINE_CHANNELS


def _with_all(choices) -> list:
    return [("", _("All")), *choices]


class DonationFilterForm(TextLimits, forms.Form):
    """Filters of the donations list; every field is optional."""

    q = forms.CharField(label=_("Donor name or email"), required=False, max_length=200)
    fund = ModelChoiceField(label=_("Fund"), queryset=Fund.objects.none(), required=False)
    date_from = date_field(_("From"), required=False)
    date_to = date_field(_("To (included)"), required=False)
    kind = forms.ChoiceField(label=_("Kind"), choices=_with_all(GiftKind.choices), required=False)
    status = forms.ChoiceField(label=_("Status"), choices=_with_all(DonationStatus.choices), required=False)
    channel = forms.ChoiceField(
        label=_("Received"), choices=_with_all(PaymentChannel.choices), required=False
    )

    def __init__(self, *args, funds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned


class OfflineGiftForm(TextLimits, forms.Form):
    """A gift received by check, cash or bank transfer. The amount is in the chosen fund's currency."""

    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.none())
    amount = AmountField.for_column(
        Donation, "amount", label=_("Amount"), help_text=_("In the fund's currency."), allow_zero=False
    )
    channel = forms.ChoiceField(
        label=_("Received by"),
        choices=[(value, label) for value, label in PaymentChannel.choices if value in OFFLINE_CHANNELS],
    )
    received_on = date_field(_("Date received"))
    reference = forms.CharField(
        label=_("Reference"),
        max_length=120,
        required=False,
        help_text=_("Check number or bank reference (required for checks and bank transfers)."),
    )
    donor_name = forms.CharField(label=_("Donor's name"), max_length=200)
    donor_email = forms.EmailField(
        label=_("Donor's email"),
        help_text=_("Required: donors are known by email, and the receipt is sent there."),
    )
    language = forms.ChoiceField(
        label=_("Donor's language"), choices=settings.LANGUAGES, help_text=_("Receipts are written in it.")
    )
    anonymous = forms.BooleanField(
        label=_("Anonymous"),
        required=False,
        help_text=_("Not named on public pages. The receipt still names the donor."),
    )
    dedication = forms.CharField(label=_("Dedication"), max_length=200, required=False)
    send_receipt = forms.BooleanField(label=_("Email the receipt to the donor"), required=False, initial=True)

    def __init__(self, *args, funds, **kwargs):
        kwargs.setdefault("initial", {}).setdefault("received_on", timezone.localdate())
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds
        listed = list(funds)
        if len(listed) == 1:
            self.fields["fund"].initial = listed[0]

    def service_arguments(self) -> dict:
        """What ``record_offline_gift`` takes (apart from ``by``), from the cleaned data."""
        data = self.cleaned_data
        fund = data["fund"]
        return {
            "fund": fund,
            "amount": Money(data["amount"], fund.currency),
            "channel": data["channel"],
            "received_on": data["received_on"],
            "reference": data["reference"],
            "donor_name": data["donor_name"],
            "donor_email": data["donor_email"],
            "language": data["language"],
            "anonymous": data["anonymous"],
            "dedication": data["dedication"],
            "send_receipt": data["send_receipt"],
        }
