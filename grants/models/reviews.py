"""Review of applications: reviewer assignments with conflict declarations, scored reviews,
requests for more information, kept versions of answers, and reusable decision messages."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from grants.fields import EncryptedJSONField

from .applications import Application
from .foundations import Foundation
from .translated import TranslatedText, translated


class Recommendation(models.TextChoices):
    FUND = "fund", pgettext_lazy("recommendation", "Fund")
    MAYBE = "maybe", _("Maybe")
    DO_NOT_FUND = "do_not_fund", _("Do not fund")


class ReviewAssignment(models.Model):
    """A reviewer asked to review one application.

    The reviewer must declare conflicts of interest first; only after declaring none may they
    open the application. Declaring a conflict ends the assignment.
    """

    class Status(models.TextChoices):
        AWAITING_DECLARATION = "awaiting_declaration", _("Waiting for conflict declaration")
        CONFLICT = "conflict", _("Conflict declared")
        REVIEWING = "reviewing", _("Reviewing")
        SUBMITTED = "submitted", _("Review submitted")

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="assignments")
    reviewer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="review_assignments"
    )
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=32, choices=Status.choices, default=Status.AWAITING_DECLARATION)
    conflict_note = models.TextField(blank=True)
    declared_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("review assignment")
        verbose_name_plural = _("review assignments")
        constraints = [
            models.UniqueConstraint(fields=["application", "reviewer"], name="one_assignment_per_reviewer")
        ]
        indexes = [models.Index(fields=["reviewer", "status"], name="assignment_reviewer_idx")]


class Review(models.Model):
    """A reviewer's scores (0-5 per rubric criterion, with comments) and recommendation.

    ``rubric`` keeps the criteria (label, weight) as the reviewer saw them; ``weighted_score``
    is the weighted average on the 0-5 scale, computed once on submit.
    """

    assignment = models.OneToOneField(ReviewAssignment, on_delete=models.CASCADE, related_name="review")
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="reviews")
    rubric = models.JSONField(default=list)
    scores = models.JSONField(default=dict)
    recommendation = models.CharField(max_length=16, choices=Recommendation.choices, blank=True)
    comment = models.TextField(blank=True)
    weighted_score = models.DecimalField(max_digits=4, decimal_places=2, null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("review")
        verbose_name_plural = _("reviews")
        constraints = [
            models.CheckConstraint(
                condition=models.Q(weighted_score__isnull=True)
                | models.Q(weighted_score__gte=0, weighted_score__lte=5),
                name="review_score_in_range",
            )
        ]


class InformationRequest(models.Model):
    """The officer's request for more information: a message and the questions to revise."""

    application = models.ForeignKey(
        Application, on_delete=models.CASCADE, related_name="information_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    message = models.TextField()
    question_ids = models.JSONField(default=list)
    created_at = models.DateTimeField(auto_now_add=True)
    answered_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]


class ApplicationVersion(models.Model):
    """The answers exactly as submitted, one row per submission (first and every resubmission)."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    title = models.CharField(max_length=200, blank=True)
    requested_amount = MoneyField(
        max_digits=14, decimal_places=2, null=True, currency_field_name="requested_currency"
    )
    answers = models.JSONField(default=dict)
    sensitive_answers = EncryptedJSONField(default=dict)  # encrypted at rest (grants.fields)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["number"]
        constraints = [
            models.UniqueConstraint(fields=["application", "number"], name="unique_application_version")
        ]


class DecisionMessage(TranslatedText):
    """A reusable message for decisions (mostly declines), in every language of the portal.

    ``body`` is written in the portal's source language, the other languages live in
    ``translations`` (``{"es": {"body": "…"}}``), like every other text staff write
    (``grants.models.translated``). An applicant reads it in their language, else in the source.
    """

    class Kind(models.TextChoices):
        DECLINE = "decline", _("Decline")
        APPROVE = "approve", _("Approve")

    translated_fields = ("body",)

    foundation = models.ForeignKey(
        Foundation, on_delete=models.CASCADE, related_name="decision_messages", verbose_name=_("foundation")
    )
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.DECLINE)
    title = models.CharField(_("title"), max_length=120)
    body = models.TextField(_("message"))

    class Meta:
        verbose_name = _("decision message")
        verbose_name_plural = _("decision messages")
        ordering = ["title"]

    def __str__(self):
        return self.title

    def text_for(self, language: str) -> str:
        """The message in ``language`` (an applicant's), else in the source language."""
        return translated(self, "body", language)

    def texts_by_language(self) -> dict[str, str]:
        """``{code: message}`` for every language of the portal, each with the fallback."""
        return {code: self.text_for(code) for code, _name in settings.LANGUAGES}
