"""One application in the admin: answers (sensitive ones hidden from auditors), reviews,
versions, timeline and the forms of the review actions; comparing two versions.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from wagtail.admin.views.generic import InspectView

from grants.admin.reviews import (
    ApproveForm,
    AssignReviewersForm,
    CommentForm,
    DeclineForm,
    NoteForm,
    RequestInformationForm,
    decline_templates,
    review_rows,
)
from grants.display import answer_rows, sections_for
from grants.models import ActivityEntry, ApplicationStatus, Award, Recommendation, User
from grants.permissions import Capability, applications_visible_to_staff, can
from grants.plain_words import APPLICATION_ACTIVITY, application_activity
from grants.services import awards as award_service
from grants.services import reviews as review_service
from grants.services.access_log import record_access

ACTIONS = {
    "start_screening": _("Start screening"),
    "send_to_review": _("Send to review"),
    "assign_reviewers": _("Assign reviewers"),
    "request_more_info": _("Request more information"),
    "approve": _("Approve"),
    "decline": _("Decline"),
    "comment": _("Add a comment"),
}

# What happened, in words (never the code): shared with the public timeline and the activity log.
ACTIVITY_LABELS = APPLICATION_ACTIVITY

EMAIL_LABELS = {
    "more_information_requested": _("more information requested"),
    "application_approved": _("approval"),
    "application_declined": _("decline"),
}


def timeline(application) -> list[dict]:
    """Every activity entry of the application, newest first, ready to display (two queries)."""
    entries = list(
        ActivityEntry.objects.filter(subject_type="application", subject_id=application.pk).select_related(
            "actor"
        )
    )
    reviewer_ids = {int(e.note) for e in entries if e.action == "reviewer_assigned" and e.note.isdigit()}
    names = {user.pk: str(user) for user in User.objects.filter(pk__in=reviewer_ids)}
    rows = []
    for entry in entries:
        detail = entry.note
        if entry.action == "reviewer_assigned" and entry.note.isdigit():
            detail = names.get(int(entry.note), "")
        elif entry.action == "review_submitted" and entry.note in Recommendation.values:
            detail = Recommendation(entry.note).label
        elif entry.action == "email_sent":
            detail = EMAIL_LABELS.get(entry.note, entry.note)
        rows.append(
            {
                "entry": entry,
                "label": application_activity(entry.action),
                "detail": detail,
                "from": _status_label(entry.from_state),
                "to": _status_label(entry.to_state),
                "is_comment": entry.action == "comment",
            }
        )
    return rows


def _status_label(value: str) -> str:
    return ApplicationStatus(value).label if value in ApplicationStatus.values else value


class ApplicationInspectView(InspectView):
    template_name = "grants/admin/application_inspect.html"
    page_title = _("Application")

    def get_object(self, queryset=None):
        application = (
            applications_visible_to_staff(self.request.user)
            .select_related("call__fund__foundation", "organization")
            .filter(pk=self.pk)
            .first()
        )
        if application is None:
            raise Http404
        return application

    @cached_property
    def is_officer(self) -> bool:
        return review_service.is_officer(self.request.user, self.object)

    @cached_property
    def conflicted(self) -> bool:
        """An officer who declared a conflict no longer reads the application (nor decides)."""
        return self.is_officer and not review_service.can_open_application(self.request.user, self.object)

    @cached_property
    def sections(self):
        return sections_for(self.object)

    @cached_property
    def sees_sensitive(self) -> bool:
        foundation_id = self.object.call.fund.foundation_id
        return can(self.request.user, Capability.READ_SENSITIVE_ANSWERS, foundation_id)

    def make_form(self, name, data=None):
        application = self.object
        kwargs = {"data": data, "prefix": name}
        if name in ("start_screening", "send_to_review"):
            return NoteForm(**kwargs)
        if name == "assign_reviewers":
            reviewers = review_service.eligible_reviewers(application).exclude(
                pk__in=application.assignments.values("reviewer_id")
            )
            return AssignReviewersForm(**kwargs, reviewers=reviewers.order_by("first_name", "email"))
        if name == "request_more_info":
            return RequestInformationForm(**kwargs, sections=self.sections)
        if name == "approve":
            requested = application.requested_amount
            return ApproveForm(
                **kwargs,
                currency=application.call.fund.currency,
                initial={"amount": requested.amount if requested is not None else None},
            )
        if name == "decline":
            return DeclineForm(**kwargs, templates=decline_templates([application.call.fund.foundation_id]))
        return CommentForm(**kwargs)

    def award_links(self) -> dict:
        """The award of the application, or for an approved one the officer's "Make award" link."""
        application = self.object
        award_id = Award.objects.filter(application=application).values_list("pk", flat=True).first()
        if award_id is not None:
            return {"award_url": reverse("awards:inspect", args=[award_id])}
        if application.status == ApplicationStatus.APPROVED and award_service.is_award_officer(
            self.request.user, application.call.fund
        ):
            return {"make_award_url": reverse("awards:make", args=[application.pk])}
        return {}

    def information_requests(self):
        labels = {q.id: q.label for s in self.sections for q in s.questions}
        requests = list(self.object.information_requests.select_related("requested_by"))
        for request in requests:
            request.questions = [labels.get(qid, qid) for qid in request.question_ids]
        return requests

    def get_context_data(self, bound_forms=None, **kwargs):
        context = super().get_context_data(**kwargs)
        application, user = self.object, self.request.user
        bound_forms = bound_forms or {}
        allowed = review_service.officer_actions(user, application)
        context.update(
            application=application,
            conflicted=self.conflicted,
            sees_sensitive=self.sees_sensitive,
            action_forms=[
                {
                    "name": name,
                    "label": label,
                    "form": bound_forms.get(name) or self.make_form(name),
                    "url": reverse("applications:action", args=[application.pk, name]),
                }
                for name, label in ACTIONS.items()
                if name in allowed
            ],  # fmt: skip
            assignments=list(application.assignments.select_related("reviewer").order_by("created_at", "pk")),
            information_requests=self.information_requests(),
            **self.award_links(),
        )
        if self.conflicted:
            context.update(answers=[], reviews=[], versions=[], timeline=[])
            return context
        record_access(self.request, "application", application, application.call.fund.foundation_id)
        rows = answer_rows(application, self.sections)
        if not self.sees_sensitive:
            for block in rows:
                block["items"] = [item for item in block["items"] if not item["question"].sensitive]
        versions = list(application.versions.select_related("submitted_by"))
        context.update(
            answers=rows,
            reviews=review_rows(review_service.reviews_visible_to(user, application)),
            versions=versions,
            compare_url=reverse("applications:compare", args=[application.pk]),
            timeline=timeline(application),
        )
        return context


class _VersionAnswers:
    """A version's answers in the shape ``answer_rows`` reads (files are the current ones)."""

    def __init__(self, version, application):
        self.answers = version.answers
        self.sensitive_answers = version.sensitive_answers
        self.attachments = application.attachments
        self.call = application.call


class ApplicationCompareView(ApplicationInspectView):
    """What changed between two submitted versions of the answers."""

    page_title = _("Compare versions")

    def get_context_data(self, **kwargs):
        if self.conflicted:
            raise PermissionDenied
        context = super().get_context_data(**kwargs)
        application = self.object
        versions = context["versions"]
        context.update(older=None, newer=None, changes=[])
        if len(versions) < 2:
            return context
        by_number = {v.number: v for v in versions}
        older = by_number.get(_int(self.request.GET.get("from")), versions[-2])
        newer = by_number.get(_int(self.request.GET.get("to")), versions[-1])
        if older.number > newer.number:
            older, newer = newer, older
        questions = {q.id: q for s in self.sections for q in s.questions}
        values = []
        for version in (older, newer):
            rows = answer_rows(_VersionAnswers(version, application), self.sections)
            values.append({item["question"].id: item["value"] for block in rows for item in block["items"]})
        changes = []
        if older.title != newer.title:
            changes.append({"label": _t("Name of your project or request"), "before": older.title,
                            "after": newer.title, "question": None})  # fmt: skip
        if older.requested_amount != newer.requested_amount:
            changes.append({"label": _t("Amount requested"), "before": older.requested_amount,
                            "after": newer.requested_amount, "question": None, "money": True})  # fmt: skip
        for change in review_service.compare_versions(older, newer):
            question = questions.get(change["key"])
            if question is not None and question.sensitive and not self.sees_sensitive:
                continue
            changes.append(
                {
                    "label": question.label if question else change["key"],
                    "question": question,
                    "before": values[0].get(change["key"], change["before"]),
                    "after": values[1].get(change["key"], change["after"]),
                }
            )
        context.update(older=older, newer=newer, changes=changes)
        return context


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
