"""Donations to funds: donors, one-time gifts and monthly gifts, with receipts.

A donation is recorded from Stripe's webhook exactly once (by its Checkout session or
payment intent), or entered by staff for an offline gift (check, cash). Donor identity is
visible only to the staff of the foundation it was given to; an anonymous gift shows as
"Anonymous" on public pages.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from .foundations import Foundation
from .funds import Fund


class Donor(models.Model):
    """A person who gives to a foundation's funds, known by email (no account needed)."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="donors")
    email = models.EmailField(_("email"))
    name = models.CharField(_("name"), max_length=200)
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    consent_to_contact = models.BooleanField(_("may be contacted"), default=False)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("donor")
        verbose_name_plural = _("donors")
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["foundation", "email"], name="one_donor_per_email")]

    def __str__(self):
        return self.name or self.email


class GiftKind(models.TextChoices):
    ONE_TIME = "one_time", _("One-time")
    MONTHLY = "monthly", _("Monthly")


class RecurringGiftStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    ACTIVE = "active", pgettext_lazy("monthly gift", "Active")
    # Stripe is retrying a failed monthly payment (the subscription is "past_due").
    PAST_DUE = "past_due", _("Payment overdue")
    # Stripe gave up retrying: no more payments until the donor updates their card (or cancels).
    UNPAID = "unpaid", _("Paused: payment failed")
    CANCELLED = "cancelled", pgettext_lazy("monthly gift", "Cancelled")


class RecurringGift(models.Model):
    """A monthly gift: a Stripe subscription; each month's payment is a ``Donation``."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="recurring_gifts")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="recurring_gifts")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="recurring_gifts")
    amount = MoneyField(_("monthly amount"), max_digits=12, decimal_places=2, currency_field_name="currency")
    cover_fee = models.BooleanField(default=False)
    anonymous = models.BooleanField(default=False)
    stripe_subscription_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=RecurringGiftStatus.choices, default=RecurringGiftStatus.PENDING
    )
    created_at = models.DateTimeField(auto_now_add=True)
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # Unix time of the newest subscription event applied to ``status``, so an older one never wins.
    status_event_created = models.BigIntegerField(default=0)

    class Meta:
        verbose_name = _("monthly gift")
        verbose_name_plural = _("monthly gifts")
        ordering = ["-created_at", "-pk"]


class DonationStatus(models.TextChoices):
    PENDING = "pending", _("Waiting for payment")
    COMPLETED = "completed", _("Received")
    PARTIALLY_REFUNDED = "partially_refunded", _("Partially refunded")
    REFUNDED = "refunded", _("Refunded")
    DISPUTED = "disputed", _("Disputed")
    LOST_DISPUTE = "lost_dispute", _("Dispute lost")
    EXPIRED = "expired", _("Not completed")
    VOIDED = "voided", _("Void")

    # A bank debit (or another delayed payment method) that Stripe reported as failed.
    FAILED = "failed", _("Payment failed")


class PaymentChannel(models.TextChoices):
    STRIPE = "stripe", _("Online (Stripe)")
    CHECK = "check", _("Check")
    CASH = "cash", _("Cash")
    BANK_TRANSFER = "bank_transfer", _("Bank transfer")


class Donation(models.Model):
    """One gift received (or awaited) for one fund."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="donations")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="donations")
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="donations")
    recurring_gift = models.ForeignKey(
        RecurringGift, on_delete=models.PROTECT, null=True, blank=True, related_name="donations"
    )
    kind = models.CharField(_("kind"), max_length=16, choices=GiftKind.choices, default=GiftKind.ONE_TIME)
    channel = models.CharField(
        _("received"), max_length=16, choices=PaymentChannel.choices, default=PaymentChannel.STRIPE
    )
    status = models.CharField(
        _("status"), max_length=24, choices=DonationStatus.choices, default=DonationStatus.PENDING
    )
    # What the donor chose to give; ``gross`` is what was charged (more when they covered the fee).
    amount = MoneyField(_("gift"), max_digits=12, decimal_places=2, currency_field_name="currency")
    cover_fee = models.BooleanField(_("covered the fee"), default=False)
    gross = MoneyField(_("charged"), max_digits=12, decimal_places=2, currency_field_name="gross_currency")
    fee = MoneyField(
        _("processing fee"),
        max_digits=12,
        decimal_places=2,
        currency_field_name="fee_currency",
        null=True,
        blank=True,
    )
    amount_refunded = MoneyField(
        _("refunded"),
        max_digits=12,
        decimal_places=2,
        currency_field_name="refunded_currency",
        null=True,
        blank=True,
    )
    # What Stripe charged in the charge's own currency (the donor's, with Adaptive Pricing) and
    # what reached the foundation's balance in its settlement currency, with the balance
    # transaction's rate. The ledger is in the fund's currency; these say what Stripe really did.
    charge_amount = MoneyField(
        max_digits=12, decimal_places=2, currency_field_name="charge_currency", null=True, blank=True
    )
    settlement_fee = MoneyField(
        max_digits=12, decimal_places=2, currency_field_name="settlement_currency", null=True, blank=True
    )
    settlement_net = MoneyField(
        max_digits=12, decimal_places=2, currency_field_name="settlement_net_currency", null=True, blank=True
    )
    exchange_rate = models.DecimalField(max_digits=20, decimal_places=10, null=True, blank=True)
    failure_reason = models.CharField(_("why the payment failed"), max_length=300, blank=True)
    anonymous = models.BooleanField(_("anonymous"), default=False)
    dedication = models.CharField(_("dedication"), max_length=200, blank=True)
    message = models.TextField(_("message"), blank=True)
    checkout_session_id = models.CharField(max_length=80, unique=True, null=True, blank=True)
    payment_intent_id = models.CharField(max_length=80, unique=True, null=True, blank=True)
    invoice_id = models.CharField(max_length=80, unique=True, null=True, blank=True)
    charge_id = models.CharField(max_length=80, blank=True, db_index=True)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    receipt_number = models.PositiveIntegerField(_("receipt number"), null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)
    received_on = models.DateField(_("date received"), null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True, db_index=True)
    # Voiding (grants.services.offline_gifts.void_gift): finance undoes a gift entered by mistake.
    voided_at = models.DateTimeField(_("voided"), null=True, blank=True)
    voided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    void_reason = models.CharField(_("reason for voiding"), max_length=300, blank=True)

    class Meta:
        verbose_name = _("donation")
        verbose_name_plural = _("donations")
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["fund", "status"], name="donation_fund_status_idx"),
            models.Index(fields=["foundation", "completed_at"], name="donation_foundation_date_idx"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["foundation", "receipt_number"], name="unique_receipt_number_per_foundation"
            ),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="donation_amount_positive"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.gross}"

    @property
    def public_name(self) -> str:
        return _("Anonymous") if self.anonymous else self.donor.name
