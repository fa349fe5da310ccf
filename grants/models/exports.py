"""Auditor exports: a workbook (or CSV files) of a foundation's money story for a date range.

Large exports run as a background task; the file is private, served only to the person who
asked (and staff with the auditor/admin/finance role of that foundation), and expires.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from .applications import private_storage
from .foundations import Foundation
from .funds import Fund


class ExportFormat(models.TextChoices):
    XLSX = "xlsx", _("Excel workbook (.xlsx)")
    CSV = "csv", _("CSV files in a .zip (UTF-8)")


class ExportStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting")
    RUNNING = "running", _("Being prepared")
    READY = "ready", _("Ready to download")
    FAILED = "failed", pgettext_lazy("export", "Failed")
    EXPIRED = "expired", pgettext_lazy("export", "Expired")


def export_upload_path(instance, filename: str) -> str:
    return f"exports/{uuid.uuid4().hex}-{filename[-40:]}"


class ExportJob(models.Model):
    """One requested export: who, what, for which period; its progress and its private file."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="exports")
    funds = models.ManyToManyField(Fund, blank=True, related_name="+")
    date_from = models.DateField(_("from"))
    date_to = models.DateField(_("to"))
    format = models.CharField(
        _("format"), max_length=8, choices=ExportFormat.choices, default=ExportFormat.XLSX
    )
    language = models.CharField(max_length=8, default="en")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=16, choices=ExportStatus.choices, default=ExportStatus.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Percent done.")
    rows_written = models.PositiveIntegerField(default=0)
    file = models.FileField(storage=private_storage, upload_to=export_upload_path, max_length=200, blank=True)
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("export")
        verbose_name_plural = _("exports")
        ordering = ["-created_at", "-pk"]
