"""Privacy records: retention runs, the access log, and organizations' deletion requests.

``RetentionRun`` and ``AccessLogEntry`` are append-only, like the activity log: they say what
happened (counts, who opened what), never the content itself. ``DataDeletionRequest`` follows
its own small state machine (see ``grants.services.data_deletion``).
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .activity import AppendOnlyError
from .foundations import Foundation
from .organizations import Organization


class AppendOnlyRecord(models.Model):
    """A row written once: changing or deleting it raises ``AppendOnlyError``."""

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError(f"{type(self).__name__} rows cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{type(self).__name__} rows cannot be deleted.")


class RetentionRun(AppendOnlyRecord):
    """One run of the retention rule for one foundation: how many of each kind were erased
    (or would be, for a dry run). ``started_by`` is empty for the scheduled daily run."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="retention_runs")
    ran_at = models.DateTimeField(_("ran at"), auto_now_add=True, db_index=True)
    today = models.DateField(_("rule applied as of"))
    dry_run = models.BooleanField(_("preview only"), default=False)
    counts = models.JSONField(_("counts"), default=dict)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        verbose_name = _("retention run")
        verbose_name_plural = _("retention runs")
        ordering = ["-ran_at", "-pk"]


class AccessKind(models.TextChoices):
    APPLICATION = "application", _("Application")
    ATTACHMENT = "attachment", _("Application file")
    SPENDING_REPORT = "spending_report", _("Spending report")
    RECEIPT = "receipt", _("Spending receipt")
    DONOR = "donor", _("Donor")
    DONATION = "donation", _("Donation")
    DATA_EXPORT = "data_export", _("Data download by the organization")


class AccessLogEntry(AppendOnlyRecord):
    """Someone opened a record holding personal data. ``label`` names the record without personal
    data (an application reference, a donation number); no IP address is kept."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="access_log")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    kind = models.CharField(_("record"), max_length=24, choices=AccessKind.choices)
    object_id = models.BigIntegerField()
    label = models.CharField(_("label"), max_length=120, blank=True)
    at = models.DateTimeField(_("when"), auto_now_add=True)

    class Meta:
        verbose_name = _("access log entry")
        verbose_name_plural = _("access log")
        ordering = ["-at", "-pk"]
        indexes = [
            models.Index(fields=["foundation", "-at"], name="access_log_foundation_idx"),
            models.Index(fields=["foundation", "user", "-at"], name="access_log_user_idx"),
        ]


class DeletionStatus(models.TextChoices):
    REQUESTED = "requested", _("Waiting for the foundation")
    APPROVED = "approved", pgettext_lazy("deletion request", "Approved")
    DONE = "done", _("Deleted")
    REJECTED = "rejected", pgettext_lazy("deletion request", "Rejected")


PENDING_DELETION_STATES = (DeletionStatus.REQUESTED, DeletionStatus.APPROVED)


class DataDeletionRequest(models.Model):
    """An organization's owner asked a foundation to delete the organization's data.

    One request per foundation the organization has records with; ``foundation`` is empty for a
    request about data no foundation holds (drafts only), which is carried out at once.
    ``counts`` says how many of each kind were deleted or anonymised, never what they held.
    """

    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="deletion_requests")
    foundation = models.ForeignKey(
        Foundation, on_delete=models.PROTECT, null=True, blank=True, related_name="deletion_requests"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=DeletionStatus.choices, default=DeletionStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    requested_at = models.DateTimeField(_("asked on"), auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.TextField(_("reason"), blank=True)
    done_at = models.DateTimeField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)

    class Meta:
        verbose_name = _("data deletion request")
        verbose_name_plural = _("data deletion requests")
        ordering = ["-requested_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "foundation"],
                condition=models.Q(status__in=["requested", "approved"]),
                name="one_pending_deletion_per_foundation",
            )
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"

    @property
    def is_pending(self) -> bool:
        return self.status in PENDING_DELETION_STATES
