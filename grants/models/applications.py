"""Applications to funding calls, their answers and private attachments."""

import os
import uuid

from django.conf import settings
from django.core.files.storage import storages
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from grants.fields import EncryptedJSONField

from .funds import FundingCall
from .organizations import Organization


class ApplicationStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    SUBMITTED = "submitted", _("Submitted")
    SCREENING = "screening", _("Screening")
    IN_REVIEW = "in_review", _("In review")
    MORE_INFO_REQUESTED = "more_info_requested", _("More information requested")
    RESUBMITTED = "resubmitted", _("Resubmitted")
    APPROVED = "approved", _("Approved")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")


class IntakeChannel(models.TextChoices):
    ONLINE = "online", _("Online")
    PHONE = "phone", _("By phone, entered by staff")
    IN_PERSON = "in_person", _("In person, entered by staff")


class Application(models.Model):
    """One organization's request to one funding call.

    ``answers`` holds answers keyed by the question's block id; answers to questions marked
    sensitive live only in ``sensitive_answers`` so lists and emails can never show them.
    On submit, ``question_snapshot`` keeps the questions as the applicant saw them.
    """

    call = models.ForeignKey(
        FundingCall, on_delete=models.PROTECT, related_name="applications", verbose_name=_("funding call")
    )
    organization = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="applications", verbose_name=_("organization")
    )
    reference = models.CharField(_("reference"), max_length=32, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=32, choices=ApplicationStatus.choices, default=ApplicationStatus.DRAFT
    )
    language = models.CharField(_("language"), max_length=8, choices=settings.LANGUAGES, default="en")
    title = models.CharField(_("project title"), max_length=200, blank=True)
    requested_amount = MoneyField(
        _("amount requested"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        currency_field_name="requested_currency",
    )
    answers = models.JSONField(default=dict, blank=True)
    # Encrypted at rest; not queryable by content (see grants.fields).
    sensitive_answers = EncryptedJSONField(default=dict, blank=True)
    question_snapshot = models.JSONField(default=list, blank=True)
    intake_channel = models.CharField(
        _("received"), max_length=16, choices=IntakeChannel.choices, default=IntakeChannel.ONLINE
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    withdrawn_at = models.DateTimeField(_("withdrawn at"), null=True, blank=True)
    # Decision
    award_amount = MoneyField(
        _("amount awarded"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        currency_field_name="award_currency",
    )
    decision_reason = models.TextField(_("reason given to the applicant"), blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    # Review summary, recomputed when a review is submitted (what the officers' list sorts by).
    review_score = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    review_count = models.PositiveIntegerField(default=0)
    # How many submitted reviews recommend funding, maybe, not funding.
    fund_count = models.PositiveIntegerField(default=0)
    maybe_count = models.PositiveIntegerField(default=0)
    do_not_fund_count = models.PositiveIntegerField(default=0)
    decision_due_at = models.DateTimeField(null=True, blank=True)
    # Set when the retention rule erased the attachments and sensitive answers (see
    # grants.services.retention); the application itself, its reference and decision remain.
    purged_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("application")
        verbose_name_plural = _("applications")
        ordering = ["-updated_at", "-pk"]
        indexes = [
            models.Index(fields=["call", "status"], name="application_call_status_idx"),
            models.Index(fields=["organization", "-updated_at"], name="application_org_recent_idx"),
        ]

    def __str__(self):
        return self.reference or _("Draft application #%(id)s") % {"id": self.pk}

    @property
    def is_editable(self) -> bool:
        return self.status in (ApplicationStatus.DRAFT, ApplicationStatus.MORE_INFO_REQUESTED)


def private_upload_path(instance, filename: str) -> str:
    """A random storage name: the original name is kept in the row, never in the path."""
    extension = os.path.splitext(filename)[1].lower()[:10]
    return f"applications/{uuid.uuid4().hex}{extension}"


def private_storage():
    return storages["private"]


class ApplicationAttachment(models.Model):
    """A file uploaded with an application. Served only by a view that checks permission."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="attachments")
    question_id = models.CharField(max_length=64)
    file = models.FileField(storage=private_storage, upload_to=private_upload_path, max_length=200)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["uploaded_at"]
