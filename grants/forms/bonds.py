"""Forms of the bond pages: a partner's request, and staff's decisions, postings and outcomes.

Forms only shape input (text, dates, amounts typed the reader's way); whether an action is
allowed, and every rule about amounts and states, is ``grants.services.bonds``'.
"""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.forms.amounts import AmountField
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import (
    Award,
    AwardStatus,
    Bond,
    BondUrgency,
    Foundation,
    FundingCall,
    Obligor,
    Organization,
    PostingMethod,
    validate_no_a_number,
)

NEVER_IDENTIFY = _(
    "Never enter names, A-numbers, dates of birth or countries of origin: the foundation does not "
    "need them, and the portal refuses text that looks like an A-number."
)


class BondRequestForm(TextLimits, forms.Form):
    """A partner's member asks one of the bond funds open to the organization for a bond."""

    fund = forms.ModelChoiceField(label=_("Bond fund"), queryset=None, empty_label=None)
    call = forms.ModelChoiceField(
        label=_("Call"),
        queryset=None,
        required=False,
        empty_label=_("No call"),
        help_text=_("Only if the foundation asked you to answer one of its open calls."),
    )
    award = forms.ModelChoiceField(
        label=_("Award"),
        queryset=None,
        required=False,
        empty_label=_("No award"),
        help_text=_("Only if the bond is paid from an award your organization holds."),
    )
    amount = AmountField.for_column(
        Bond, "amount", label=_("Bond amount"), allow_zero=False, help_text=_("In the fund's currency.")
    )
    urgency = forms.ChoiceField(label=_("How urgent"), choices=BondUrgency.choices)
    facility = forms.CharField(
        label=_("Detention facility or ICE field office"),
        max_length=120,
        validators=[validate_no_a_number],
    )
    obligor = forms.ChoiceField(label=_("Who posts the bond"), choices=Obligor.choices)
    label = forms.CharField(
        label=_("Your label for this case"),
        max_length=60,
        validators=[validate_no_a_number],
        help_text=_("Something only your organization understands, e.g. “Family R, Adelanto”. No names."),
    )
    notes = forms.CharField(
        label=_("Anything else the foundation should know"),
        max_length=1000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        validators=[validate_no_a_number],
    )

    def __init__(self, *args, funds, organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds
        self.fields["award"].queryset = Award.objects.filter(
            application__organization=organization,
            fund__foundation__in=funds.values("foundation_id"),
            status__in=(AwardStatus.ACCEPTED, AwardStatus.ACTIVE),
        ).select_related("application", "fund")
        self.fields["award"].label_from_instance = lambda award: f"{award.reference} ({award.fund.name})"
        now = timezone.now()
        self.fields["call"].queryset = FundingCall.objects.filter(
            fund__in=funds, opens_at__lte=now, closes_at__gt=now
        ).select_related("fund")
        self.fields["call"].label_from_instance = lambda call: f"{call.title} ({call.fund.name})"
        self.fields["fund"].label_from_instance = lambda fund: f"{fund.name} · {fund.foundation.name}"

    def clean(self):
        cleaned = super().clean()
        call, fund = cleaned.get("call"), cleaned.get("fund")
        if call is not None and fund is not None and call.fund_id != fund.pk:
            self.add_error("call", _("This call belongs to another fund."))
        award = cleaned.get("award")
        if award is not None and fund is not None and award.fund.foundation_id != fund.foundation_id:
            self.add_error("award", _("This award is from another foundation."))
        return cleaned

    def money(self) -> Money:
        return Money(self.cleaned_data["amount"], self.cleaned_data["fund"].currency)


# --- Staff ---------------------------------------------------------------------------------------


class ApproveForm(TextLimits, forms.Form):
    note = forms.CharField(label=_("Note (optional)"), max_length=500, required=False)


class DeclineForm(TextLimits, forms.Form):
    reason = forms.CharField(
        label=_("Reason"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The partner reads it."),
    )


class PostForm(TextLimits, forms.Form):
    method = forms.ChoiceField(label=_("How the money went out"), choices=PostingMethod.choices)
    posted_on = date_field(_("Posted on"), required=False, help_text=_("Empty: today."))
    reference = forms.CharField(
        label=_("Bond reference"),
        max_length=120,
        required=False,
        help_text=_("The government's receipt or bond number. Encrypted; only finance staff read it."),
    )

    def __init__(self, *args, bond: Bond, reference_allowed: bool, **kwargs):
        super().__init__(*args, **kwargs)
        # Only the method that fits the bond's obligor is offered.
        if bond.obligor == Obligor.PARTNER:
            choices = [(PostingMethod.TRANSFER.value, PostingMethod.TRANSFER.label)]
        else:
            choices = [(m.value, m.label) for m in (PostingMethod.WIRE, PostingMethod.ACH)]
        self.fields["method"].choices = choices
        if not reference_allowed:
            del self.fields["reference"]


class CancellationForm(forms.Form):
    cancelled_on = date_field(_("Cancelled on"))


class RefundForm(TextLimits, forms.Form):
    received_on = date_field(_("Received on"))
    principal = AmountField.for_column(Bond, "amount", label=_("Principal received"))
    interest = AmountField.for_column(Bond, "amount", label=_("Interest received"), required=False)
    receipt = forms.CharField(
        label=_("Check number or bank reference"),
        max_length=120,
        help_text=_("The same receipt recorded twice counts once."),
    )
    write_off_rest = forms.BooleanField(label=_("Write off the rest (a partial outcome)"), required=False)
    reason = forms.CharField(
        label=_("Why the rest is lost"),
        max_length=500,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency
        for name in ("principal", "interest"):
            field = self.fields[name]
            self.fields[name] = AmountField.for_column(
                Bond, "amount", label=field.label, required=field.required, currency=currency
            )
        self.show_text_limits()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("write_off_rest") and not (cleaned.get("reason") or "").strip():
            self.add_error("reason", _("Say why the money is lost."))
        return cleaned

    def money(self, name) -> Money:
        value = self.cleaned_data.get(name)
        return Money(value or 0, self.currency)


class BreachForm(TextLimits, forms.Form):
    breached_on = date_field(_("Breached on"))
    reason = forms.CharField(
        label=_("Reason for the loss"), max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )


class ReferenceForm(TextLimits, forms.Form):
    reference = forms.CharField(
        label=_("Bond reference"),
        max_length=120,
        required=False,
        help_text=_("The government's receipt or bond number. Encrypted; only finance staff read it."),
    )


class PartnerForm(forms.Form):
    """Mark an organization as a bond partner: only foundations where the person decides bonds,
    and only organizations already related to them (``grants.scoping_organizations``)."""

    foundation = forms.ModelChoiceField(label=_("Foundation"), queryset=None, empty_label=None)
    organization = forms.ModelChoiceField(label=_("Organization"), queryset=None)

    def __init__(self, *args, foundations, organizations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["foundation"].queryset = Foundation.objects.filter(pk__in=foundations).order_by("name")
        self.fields["organization"].queryset = organizations

    def clean(self):
        from grants.scoping_organizations import is_related

        cleaned = super().clean()
        foundation, organization = cleaned.get("foundation"), cleaned.get("organization")
        if (
            foundation
            and isinstance(organization, Organization)
            and not is_related(organization, foundation.pk)
        ):
            self.add_error("organization", _("This organization has no relationship with this foundation."))
        return cleaned
