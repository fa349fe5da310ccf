"""Payments through Stripe Connect: payees' connected accounts, disbursements, webhook events.

The portal stores Stripe ids only — never bank numbers, SSNs or ITINs; Stripe holds those.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from grants.fields import EncryptedTextField

from .awards import Award, Installment
from .foundations import Foundation
from .organizations import Organization


class PayoutStatus(models.TextChoices):
    PENDING = "pending", _("Not started")
    INFORMATION_NEEDED = "information_needed", _("Information needed")
    READY = "ready", _("Ready for payments")
    RESTRICTED = "restricted", _("Restricted")


class PayeeAccount(models.Model):
    """A connected Stripe account at one foundation (each foundation has its own): an
    organization's, or a hotline volunteer's own (then ``organization`` is the volunteer's group
    and ``volunteer_pseudonym`` says whose it is)."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="payee_accounts")
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="payee_accounts"
    )
    # A vendor's account (a law firm, a landlord): then ``organization`` is empty.
    vendor = models.OneToOneField(
        "grants.Vendor", on_delete=models.PROTECT, null=True, blank=True, related_name="payee_account"
    )
    volunteer_pseudonym = models.CharField(max_length=80, blank=True)
    stripe_account_id = models.CharField(_("Stripe account"), max_length=64, unique=True)
    payout_status = models.CharField(
        _("payout status"), max_length=24, choices=PayoutStatus.choices, default=PayoutStatus.PENDING
    )
    requirements_due = models.JSONField(default=list, blank=True)
    # Unix time of the newest account.updated applied, so an older event never wins.
    status_event_created = models.BigIntegerField(default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("payee account")
        verbose_name_plural = _("payee accounts")
        constraints = [
            models.UniqueConstraint(
                fields=["foundation", "organization"],
                condition=models.Q(volunteer_pseudonym=""),
                name="one_payee_account_per_foundation",
            ),
            models.CheckConstraint(
                condition=models.Q(organization__isnull=False, vendor__isnull=True)
                | models.Q(organization__isnull=True, vendor__isnull=False),
                name="payee_account_organization_or_vendor",
            ),
        ]

    def __str__(self):
        return f"{self.holder} · {self.stripe_account_id}"

    @property
    def holder(self):
        """Whose account it is: the organization's, or the vendor's."""
        return self.organization if self.organization_id else self.vendor


class DisbursementStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SUBMITTED = "submitted", _("Sent to Stripe")
    # Stripe gave no definite answer (timeout, connection error, 5xx, 409): it may have paid.
    # Only Stripe (a lookup or an event) can settle it; no new idempotency key until then.
    UNKNOWN = "unknown", _("Outcome unknown, being checked with Stripe")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Failed")
    REVERSED = "reversed", _("Reversed")


class Disbursement(models.Model):
    """One transfer of grant money to a payee's connected account: one per installment, ever."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="disbursements")
    award = models.ForeignKey(
        Award, on_delete=models.PROTECT, related_name="disbursements", null=True, blank=True
    )
    installment = models.OneToOneField(
        Installment, on_delete=models.PROTECT, related_name="disbursement", null=True, blank=True
    )
    payee = models.ForeignKey(PayeeAccount, on_delete=models.PROTECT, related_name="disbursements")
    # A bond posted by a partner obligor, or a payment to a vendor: what else a transfer can pay.
    bond = models.OneToOneField(
        "grants.Bond", on_delete=models.PROTECT, null=True, blank=True, related_name="disbursement"
    )
    vendor_payment = models.OneToOneField(
        "grants.VendorPayment", on_delete=models.PROTECT, null=True, blank=True, related_name="disbursement"
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, currency_field_name="currency")
    status = models.CharField(
        _("status"), max_length=16, choices=DisbursementStatus.choices, default=DisbursementStatus.PENDING
    )
    stripe_transfer_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    amount_reversed = MoneyField(
        max_digits=14, decimal_places=2, currency_field_name="reversed_currency", null=True, blank=True
    )
    failure_kind = models.CharField(max_length=40, blank=True)
    failure_message = models.CharField(_("reason"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Stripe replays its first answer to a key for 24 hours, errors included: after a failure
    # Stripe answered (declined, insufficient balance...), the next attempt needs a new key.
    # Network and rate-limit failures keep the key, so a retry can never pay twice.
    key_generation = models.PositiveIntegerField(default=0)
    # Fixed when the disbursement is created, so every attempt sends the same parameters (Stripe
    # refuses a key reused with other parameters) and a lookup at Stripe can find the transfer.
    transfer_group = models.CharField(max_length=80, blank=True)
    released_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("released by")
    )
    released_at = models.DateTimeField(auto_now_add=True)
    last_attempt_at = models.DateTimeField(null=True, blank=True)
    outcome_unknown_since = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(null=True, blank=True)
    reversed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("disbursement")
        verbose_name_plural = _("disbursements")
        ordering = ["-released_at", "-pk"]
        indexes = [models.Index(fields=["foundation", "status"], name="disbursement_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="disbursement_amount_positive")
        ]

    def __str__(self):
        return f"#{self.pk} {self.amount}"

    @property
    def idempotency_key(self) -> str:
        """The one key every Stripe call for this disbursement carries, so it can never pay twice."""
        if self.key_generation:
            return f"disbursement:{self.pk}:{self.key_generation}"
        return f"disbursement:{self.pk}"


class WebhookEventStatus(models.TextChoices):
    RECEIVED = "received", _("Received, being applied")
    PROCESSED = "processed", _("Processed")
    IGNORED = "ignored", _("Ignored")
    # Refers to something the portal does not know yet (a refund before its payment): applied
    # once that arrives, flagged when it has waited longer than WEBHOOK_WAITING_MAX_DAYS.
    WAITING = "waiting", _("Waiting for an earlier event")
    FLAGGED = "flagged", _("Flagged for review")


class WebhookEvent(models.Model):
    """A Stripe event, stored once by its id with its payload (a replay is acknowledged, ignored)."""

    event_id = models.CharField(max_length=64, unique=True)
    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="webhook_events")
    endpoint = models.CharField(max_length=16)  # "platform" or "connect"
    type = models.CharField(max_length=80)
    livemode = models.BooleanField(default=False)
    account = models.CharField(max_length=64, blank=True)
    created = models.BigIntegerField(help_text="Stripe's event time (Unix seconds).")
    payload = models.JSONField()
    status = models.CharField(max_length=16, choices=WebhookEventStatus.choices)
    note = models.CharField(max_length=500, blank=True)
    received_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("webhook event")
        verbose_name_plural = _("webhook events")
        ordering = ["-received_at", "-pk"]
        indexes = [models.Index(fields=["foundation", "status"], name="webhook_event_status_idx")]

    def __str__(self):
        return f"{self.type} {self.event_id}"


class StripeAccountSecrets(models.Model):
    """A foundation's Stripe keys as its admins entered them in admin; they take precedence over
    the environment variables (``grants.payments.credentials``).

    The secret key and both webhook signing secrets are encrypted at rest; an empty value means
    "not set here" (the environment's value, if any, is used). The publishable key is public by
    design. ``secret_key_last4`` lets the admin page say which key is in place without
    decrypting it.
    """

    foundation = models.OneToOneField(Foundation, on_delete=models.CASCADE, related_name="stripe_secrets")
    secret_key = EncryptedTextField(_("secret key"), blank=True)
    publishable_key = models.CharField(_("publishable key"), max_length=255, blank=True)
    webhook_secret = EncryptedTextField(_("webhook signing secret"), blank=True)
    connect_webhook_secret = EncryptedTextField(_("Connect webhook signing secret"), blank=True)
    secret_key_last4 = models.CharField(max_length=4, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("Stripe keys")
        verbose_name_plural = _("Stripe keys")

    def __str__(self):
        return f"Stripe keys of {self.foundation_id}"

    def __repr__(self):
        # Never let a secret reach a log line or an error page.
        return f"<StripeAccountSecrets foundation={self.foundation_id} secret_key=…{self.secret_key_last4}>"
