"""Awards: what a foundation promised an approved applicant, and when it will be paid.

An ``Award`` is made from an approved application; its amount is committed in the ledger.
Its ``Installment`` rows always sum to the award amount; ``ReportDueDate`` rows say when the
grantee reports on spending. ``AwardAmendment`` keeps every change of the amount and why.
"""

import os
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from .applications import Application, private_storage
from .funds import Fund
from .translated import TranslatedText


class AwardStatus(models.TextChoices):
    OFFERED = "offered", _("Offered")
    ACCEPTED = "accepted", _("Accepted")
    ACTIVE = "active", pgettext_lazy("award status", "Active")
    COMPLETED = "completed", _("Completed")
    CANCELLED = "cancelled", _("Cancelled")


class AnswerChannel(models.TextChoices):
    """How a group gave its answer to an offer (accepted or declined)."""

    ONLINE = "online", _("Online, by the group")
    PAPER = "paper", _("Signed paper")
    PHONE = "phone", _("By phone")
    IN_PERSON = "in_person", _("In person")


def answer_upload_path(instance, filename: str) -> str:
    """A random storage name: the original name is kept in the row, never in the path."""
    extension = os.path.splitext(filename)[1].lower()[:10]
    return f"awards/{uuid.uuid4().hex}{extension}"


class Award(TranslatedText):
    """A grant promised to the organization that applied, in the fund's currency."""

    translated_fields = ("conditions",)

    application = models.OneToOneField(
        Application, on_delete=models.PROTECT, related_name="award", verbose_name=_("application")
    )
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="awards", verbose_name=_("fund"))
    status = models.CharField(
        _("status"), max_length=16, choices=AwardStatus.choices, default=AwardStatus.OFFERED
    )
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, currency_field_name="currency")
    conditions = models.TextField(_("conditions"), blank=True)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"))
    # The agreement as the grantee read it, per language: {"en": "<p>…</p>", "es": "…"}.
    agreement = models.JSONField(_("agreement"), default=dict)
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", verbose_name=_("offered by")
    )
    offered_at = models.DateTimeField(_("offered at"), auto_now_add=True)
    accepted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    accepted_name = models.CharField(_("signed by"), max_length=200, blank=True)
    accepted_language = models.CharField(max_length=8, blank=True)
    accepted_at = models.DateTimeField(_("accepted at"), null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    closing_note = models.TextField(_("reason"), blank=True)
    # A group without a login answers through staff: how, when and who said it, who recorded it,
    # and the signed paper when there is one (a private file, served after a permission check).
    answered_via = models.CharField(
        _("answer given"), max_length=16, choices=AnswerChannel.choices, blank=True
    )
    answered_on = models.DateField(_("answer given on"), null=True, blank=True)
    answered_by_name = models.CharField(_("answer given by"), max_length=200, blank=True)
    answer_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    answer_document = models.FileField(
        storage=private_storage, upload_to=answer_upload_path, max_length=200, blank=True
    )
    answer_document_name = models.CharField(max_length=255, blank=True)
    answer_document_type = models.CharField(max_length=100, blank=True)

    class Meta:
        verbose_name = _("award")
        verbose_name_plural = _("awards")
        ordering = ["-offered_at", "-pk"]
        indexes = [models.Index(fields=["fund", "status"], name="award_fund_status_idx")]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="award_amount_positive"),
            models.CheckConstraint(
                condition=models.Q(end_date__gte=models.F("start_date")), name="award_ends_after_start"
            ),
        ]

    def __str__(self):
        return self.reference

    @property
    def reference(self) -> str:
        return self.application.reference or f"#{self.pk}"

    @property
    def organization(self):
        return self.application.organization

    @property
    def foundation_id(self):
        return self.fund.foundation_id

    def agreement_in(self, language: str) -> str:
        return (
            self.agreement.get(language)
            or self.agreement.get("en")
            or next(iter(self.agreement.values()), "")
        )


class AwardAmendment(models.Model):
    """A change of an award's amount, with the reason (posted to the ledger)."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="amendments")
    previous_amount = MoneyField(max_digits=14, decimal_places=2, currency_field_name="currency")
    new_amount = MoneyField(max_digits=14, decimal_places=2, currency_field_name="new_currency")
    reason = models.TextField(_("reason"))
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("award amendment")
        verbose_name_plural = _("award amendments")
        ordering = ["created_at", "pk"]

    @property
    def change(self):
        return self.new_amount - self.previous_amount


class InstallmentStatus(models.TextChoices):
    SCHEDULED = "scheduled", _("Scheduled")
    DUE = "due", pgettext_lazy("payment", "Due")
    APPROVED = "approved", _("Approved for payment")
    PAID = "paid", _("Paid")
    FAILED = "failed", _("Payment failed")
    ON_HOLD = "on_hold", _("On hold")
    CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")


UNPAID_INSTALLMENT_STATES = (
    InstallmentStatus.SCHEDULED,
    InstallmentStatus.DUE,
    InstallmentStatus.FAILED,
    InstallmentStatus.ON_HOLD,
)


class Installment(models.Model):
    """One payment of an award, due on a date."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="installments")
    number = models.PositiveSmallIntegerField(_("number"))
    due_date = models.DateField(_("due date"))
    amount = MoneyField(_("amount"), max_digits=14, decimal_places=2, currency_field_name="currency")
    status = models.CharField(
        _("status"), max_length=16, choices=InstallmentStatus.choices, default=InstallmentStatus.SCHEDULED
    )
    hold_reason = models.CharField(_("reason for the hold"), max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    paid_at = models.DateTimeField(_("paid at"), null=True, blank=True)
    payment_reference = models.CharField(_("payment reference"), max_length=120, blank=True)
    # Set when the hold was placed because this report is overdue; accepting the report lifts it.
    held_for_report = models.ForeignKey(
        "grants.ReportDueDate",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="held_installments",
    )

    class Meta:
        verbose_name = _("installment")
        verbose_name_plural = _("installments")
        ordering = ["award", "number"]
        indexes = [models.Index(fields=["status", "due_date"], name="installment_status_due_idx")]
        constraints = [
            models.UniqueConstraint(fields=["award", "number"], name="installment_unique_number"),
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="installment_amount_positive"),
        ]

    def __str__(self):
        return f"{self.award.reference} · {self.number}"

    @property
    def is_unpaid(self) -> bool:
        return self.status in UNPAID_INSTALLMENT_STATES


class ReportKind(models.TextChoices):
    INTERIM = "interim", _("Interim report")
    FINAL = "final", _("Final report")


class ReportDueDate(models.Model):
    """When the grantee reports on spending (the spending report is filed against it)."""

    award = models.ForeignKey(Award, on_delete=models.CASCADE, related_name="report_due_dates")
    kind = models.CharField(_("report"), max_length=16, choices=ReportKind.choices)
    due_date = models.DateField(_("due date"))

    class Meta:
        verbose_name = _("report due date")
        verbose_name_plural = _("report due dates")
        ordering = ["award", "due_date", "pk"]
