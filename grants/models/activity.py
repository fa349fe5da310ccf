"""The activity log: every state change, who made it, when, and why. Append-only."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .foundations import Foundation


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete a row of an append-only log."""


class ActivityEntry(models.Model):
    foundation = models.ForeignKey(
        Foundation, on_delete=models.PROTECT, related_name="activity", null=True, blank=True
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # What the entry is about: "application", "award", ... and the row's id.
    subject_type = models.CharField(max_length=40)
    subject_id = models.BigIntegerField()
    action = models.CharField(max_length=60)
    from_state = models.CharField(max_length=40, blank=True)
    to_state = models.CharField(max_length=40, blank=True)
    note = models.TextField(blank=True)
    visible_to_applicant = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("activity entry")
        verbose_name_plural = _("activity")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["subject_type", "subject_id"], name="activity_subject_idx")]

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise AppendOnlyError("Activity entries cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Activity entries cannot be deleted.")
