"""Paying the need directly: vendors (a law firm, a landlord, a utility) paid on a grantee's behalf.

A ``Vendor`` is a payee of one foundation: paid through its own Stripe connected account
(onboarded by a link the foundation sends) or by check. A ``VendorPayment`` pays a vendor on
behalf of a grantee organization: either one installment of the grantee's award (the money was
committed with the award) or a direct-assistance payment from a fund (committed when approved).
Either way it is released by finance staff other than the person who asked for or approved it,
the grantee sees it, and spending reports count it as spent.

No street addresses are kept (a landlord's address is a family's home): a check is mailed by
the foundation from its own records; the portal keeps the check number.
"""

import os
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from .applications import private_storage
from .awards import Award, Installment
from .bonds import validate_no_a_number
from .foundations import Foundation
from .funds import Fund
from .organizations import Organization


def invoice_upload_path(instance, filename: str) -> str:
    """A random storage name: the original name is kept in the row, never in the path."""
    extension = os.path.splitext(filename)[1].lower()[:10]
    return f"invoices/{uuid.uuid4().hex}{extension}"


class VendorKind(models.TextChoices):
    LAW_FIRM = "law_firm", _("Law firm or attorney")
    LANDLORD = "landlord", _("Landlord")
    UTILITY = "utility", _("Utility")
    OTHER = "other", _("Other")


class VendorPaymentMethod(models.TextChoices):
    STRIPE = "stripe", _("Bank transfer through Stripe")
    CHECK = "check", _("Check")


class Vendor(models.Model):
    """A business or landlord the foundation pays on grantees' behalf."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="vendors")
    name = models.CharField(_("payable to"), max_length=200, validators=[validate_no_a_number])
    kind = models.CharField(_("kind"), max_length=12, choices=VendorKind.choices)
    payment_method = models.CharField(
        _("paid by"), max_length=8, choices=VendorPaymentMethod.choices, default=VendorPaymentMethod.CHECK
    )
    email = models.EmailField(
        _("email for the payout setup link"),
        blank=True,
        help_text=_("Stripe's setup link is sent here when the vendor is paid by bank transfer."),
    )
    active = models.BooleanField(_("active"), default=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("vendor")
        verbose_name_plural = _("vendors")
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["foundation", "name"], name="vendor_name_once")]

    def __str__(self):
        return self.name


class VendorPaymentStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved, waiting for release")
    DECLINED = "declined", _("Declined")
    SENT = "sent", _("Sent")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Payment failed")
    CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")


class VendorPayment(models.Model):
    """A payment to a vendor on behalf of a grantee organization."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="vendor_payments")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="vendor_payments")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="vendor_payments", verbose_name=_("on behalf of")
    )
    award = models.ForeignKey(
        Award, on_delete=models.PROTECT, null=True, blank=True, related_name="vendor_payments"
    )
    installment = models.OneToOneField(
        Installment, on_delete=models.PROTECT, null=True, blank=True, related_name="vendor_payment"
    )
    vendor = models.ForeignKey(
        Vendor, on_delete=models.PROTECT, related_name="payments", verbose_name=_("vendor")
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, currency_field_name="currency")
    purpose = models.CharField(_("what it pays for"), max_length=300, validators=[validate_no_a_number])
    invoice = models.FileField(
        _("invoice"), storage=private_storage, upload_to=invoice_upload_path, max_length=200, blank=True
    )
    invoice_name = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        _("status"), max_length=12, choices=VendorPaymentStatus.choices, default=VendorPaymentStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    released_at = models.DateTimeField(null=True, blank=True)
    check_number = models.CharField(_("check number"), max_length=60, blank=True)
    paid_on = models.DateField(_("paid on"), null=True, blank=True)
    failure_message = models.CharField(max_length=500, blank=True)

    class Meta:
        verbose_name = _("vendor payment")
        verbose_name_plural = _("vendor payments")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["foundation", "status"], name="vendor_payment_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="vendor_payment_amount_positive")
        ]

    def __str__(self):
        return f"V-{self.pk} · {self.vendor}"

    @property
    def reference_code(self) -> str:
        return f"V-{self.pk}"

    @property
    def is_direct_assistance(self) -> bool:
        return self.installment_id is None
