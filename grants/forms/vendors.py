"""Forms of the vendor pages in admin: vendors, asking for a payment, declining, recording a check.

Forms only shape input; the rules (A-numbers, four eyes, money available) are the service's.
"""

from django import forms
from django.utils.translation import gettext_lazy as _

from grants.forms.amounts import AmountField
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import (
    Foundation,
    Fund,
    Installment,
    Organization,
    Vendor,
    VendorKind,
    VendorPayment,
    VendorPaymentMethod,
)
from grants.scoping_organizations import organizations_related_to
from grants.services import vendor_payments

NO_A_NUMBERS = _("Do not write names of clients, A-numbers or case numbers.")


class VendorForm(TextLimits, forms.Form):
    foundation = forms.ModelChoiceField(label=_("Foundation"), queryset=Foundation.objects.none())
    name = forms.CharField(label=_("Payable to"), max_length=200, help_text=NO_A_NUMBERS)
    kind = forms.ChoiceField(label=_("Kind"), choices=VendorKind.choices)
    payment_method = forms.ChoiceField(label=_("Paid by"), choices=VendorPaymentMethod.choices)
    email = forms.EmailField(
        label=_("Email for the payout setup link"),
        required=False,
        help_text=_("Needed when the vendor is paid by bank transfer through Stripe."),
    )

    def __init__(self, *args, foundations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["foundation"].queryset = foundations
        if foundations.count() == 1:
            self.fields["foundation"].initial = foundations.first()
            self.fields["foundation"].widget = forms.HiddenInput()


class VendorPaymentForm(TextLimits, forms.Form):
    """An officer asks for a vendor payment: an unpaid installment, or direct assistance."""

    vendor = forms.ModelChoiceField(label=_("Vendor"), queryset=Vendor.objects.none())
    installment = forms.ModelChoiceField(
        label=_("Installment of an award"),
        queryset=Installment.objects.none(),
        required=False,
        help_text=_("Leave empty for direct assistance from a fund."),
    )
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.none(), required=False)
    organization = forms.ModelChoiceField(
        label=_("On behalf of"), queryset=Organization.objects.none(), required=False
    )
    amount = AmountField.for_column(
        VendorPayment, "amount", label=_("Amount"), required=False, help_text=_("In the fund's currency.")
    )
    purpose = forms.CharField(label=_("What it pays for"), max_length=300, help_text=NO_A_NUMBERS)
    invoice = forms.FileField(
        label=_("Invoice"), required=False, help_text=_("A PDF or an image; kept private.")
    )

    def __init__(self, *args, foundation_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["vendor"].queryset = Vendor.objects.filter(foundation__in=foundation_ids, active=True)
        self.fields["installment"].queryset = (
            Installment.objects.filter(
                award__fund__foundation__in=foundation_ids,
                award__status__in=vendor_payments.installments.PAYABLE_AWARD_STATES,
                status__in=vendor_payments.UNPAID_INSTALLMENT,
                vendor_payment__isnull=True,
            )
            .select_related("award__application__organization")
            .order_by("award_id", "number")
        )
        self.fields["installment"].label_from_instance = lambda i: (
            f"{i.award.reference} · {i.award.application.organization.name} · #{i.number} · {i.amount}"
        )
        self.fields["fund"].queryset = Fund.objects.filter(foundation__in=foundation_ids)
        self.fields["organization"].queryset = organizations_related_to(foundation_ids)

    def clean(self):
        data = super().clean()
        if not data.get("installment"):
            for name in ("fund", "organization", "amount"):
                if not data.get(name) and name not in self.errors:
                    self.add_error(name, _("Needed for direct assistance."))
        return data


class DeclineForm(TextLimits, forms.Form):
    reason = forms.CharField(
        label=_("Why it is declined"), max_length=500, widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("The grantee reads it."),
    )  # fmt: skip


class CheckForm(TextLimits, forms.Form):
    check_number = forms.CharField(label=_("Check number"), max_length=60)
    paid_on = date_field(_("Date of the check"))
