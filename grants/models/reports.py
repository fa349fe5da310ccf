"""Spending reports: what grantees spent against the approved budget, and what it achieved.

A ``SpendingReport`` is filed against a ``ReportDueDate`` of an award (interim or final). Its
``Expenditure`` rows carry a private receipt each; submitting keeps a ``SpendingReportVersion``
so earlier versions survive a request for changes. ``ReportReminder`` rows record each reminder
sent (never two on one day). ``GrantReturn`` records unspent money the grantee gives back.
"""

import os
import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from grants.money import WideReadMoneyField

from .applications import private_storage
from .awards import Award, ReportDueDate


class ReportStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", pgettext_lazy("report status", "Submitted")
    CHANGES_REQUESTED = "changes_requested", _("Changes requested")
    RESUBMITTED = "resubmitted", pgettext_lazy("report status", "Resubmitted")
    ACCEPTED = "accepted", pgettext_lazy("report status", "Accepted")


class SpendingReport(models.Model):
    """One report of one award, for the period it covers."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="reports")
    due = models.OneToOneField(ReportDueDate, on_delete=models.PROTECT, related_name="report")
    status = models.CharField(
        _("status"), max_length=20, choices=ReportStatus.choices, default=ReportStatus.DRAFT
    )
    period_start = models.DateField(_("period from"), null=True, blank=True)
    period_end = models.DateField(_("period to"), null=True, blank=True)
    narrative = models.TextField(_("what the grant made possible"), blank=True)
    # Program metrics by key ({"people_represented": "12", ...}) and variance explanations by
    # budget category position ({"0": "Two more hearings than planned"}).
    metrics = models.JSONField(default=dict, blank=True)
    variance_explanations = models.JSONField(default=dict, blank=True)
    version = models.PositiveIntegerField(default=0)
    submitted_at = models.DateTimeField(null=True, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    officer_message = models.TextField(_("message from the foundation"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("spending report")
        verbose_name_plural = _("spending reports")
        ordering = ["due__due_date", "pk"]
        indexes = [models.Index(fields=["status"], name="report_status_idx")]

    def __str__(self):
        return f"{self.award.reference} · {self.due.get_kind_display()}"

    @property
    def is_editable(self) -> bool:
        return self.status in (ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED)


def receipt_upload_path(instance, filename: str) -> str:
    """A random storage name: the original name is kept in the row, never in the path."""
    extension = os.path.splitext(filename)[1].lower()[:10]
    return f"receipts/{uuid.uuid4().hex}{extension}"


class Expenditure(models.Model):
    """One thing the grant paid for, in a category of the approved budget, with its receipt."""

    report = models.ForeignKey(SpendingReport, on_delete=models.CASCADE, related_name="expenditures")
    date = models.DateField(_("date"))
    # Position of the category in the call's budget question (the same in every language).
    category = models.CharField(_("budget category"), max_length=8)
    description = models.CharField(_("description"), max_length=300)
    amount = WideReadMoneyField(_("amount"), max_digits=12, decimal_places=2, currency_field_name="currency")
    receipt = models.FileField(
        storage=private_storage, upload_to=receipt_upload_path, max_length=200, blank=True
    )
    receipt_name = models.CharField(max_length=255, blank=True)
    receipt_content_type = models.CharField(max_length=100, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("expenditure")
        verbose_name_plural = _("expenditures")
        ordering = ["date", "pk"]
        constraints = [
            models.CheckConstraint(condition=models.Q(amount__gt=0), name="expenditure_amount_positive")
        ]


class SpendingReportVersion(models.Model):
    """A report as it was submitted (every submission is kept)."""

    report = models.ForeignKey(SpendingReport, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["report", "number"]
        constraints = [models.UniqueConstraint(fields=["report", "number"], name="unique_report_version")]


class ReminderKind(models.TextChoices):
    BEFORE = "before", _("Before the due date")
    DUE = "due", _("On the due date")
    OVERDUE = "overdue", _("Overdue")


class ReportReminder(models.Model):
    """A reminder sent about a report due date (at most one per day, by the unique key)."""

    due = models.ForeignKey(ReportDueDate, on_delete=models.CASCADE, related_name="reminders")
    kind = models.CharField(max_length=16, choices=ReminderKind.choices)
    sent_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["sent_on", "pk"]
        constraints = [models.UniqueConstraint(fields=["due", "sent_on"], name="one_report_reminder_per_day")]


class ReturnStatus(models.TextChoices):
    ANNOUNCED = "announced", _("Announced by the grantee")
    RECEIVED = "received", _("Received")


class GrantReturn(models.Model):
    """Unspent grant money the grantee gives back; posted to the ledger when finance receives it."""

    award = models.ForeignKey(Award, on_delete=models.PROTECT, related_name="returns")
    amount = WideReadMoneyField(_("amount"), max_digits=12, decimal_places=2, currency_field_name="currency")
    method = models.CharField(_("how"), max_length=40)
    reference = models.CharField(_("reference"), max_length=120, blank=True)
    note = models.TextField(_("note"), blank=True)
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default=ReturnStatus.ANNOUNCED)
    announced_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    announced_at = models.DateTimeField(auto_now_add=True)
    received_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    received_on = models.DateField(null=True, blank=True)

    class Meta:
        verbose_name = _("returned grant money")
        verbose_name_plural = _("returned grant money")
        ordering = ["-announced_at", "-pk"]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="grant_return_positive")]
