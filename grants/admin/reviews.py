"""Review in Wagtail admin: the officers' action forms, the reviewers' area ("My reviews") and
each foundation's reusable decision messages.

Reviewers reach an application only through their own assignment: every URL of the reviewers'
area is keyed by the application and answers 404 unless the signed-in user is assigned to it and
still reviews for its foundation. Before declaring no conflict of interest a reviewer sees the
reference, the organization's name and the call, nothing else; afterwards the answers (never
those to sensitive questions), the call's rubric and the score form. Every rule is decided by
``grants.services.reviews``; these views only turn requests into service calls and messages.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils import translation
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.panels import FieldPanel, FieldRowPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.views.generic.history import HistoryView
from wagtail.admin.views.generic.usage import UsageView
from wagtail.admin.viewsets.base import ViewSet
from wagtail.admin.viewsets.model import ModelViewSet

from cms.models import call_page_for
from grants.display import answer_rows, sections_for
from grants.forms.amounts import AmountField
from grants.forms.limits import TextLimits
from grants.forms.translations import translated_model_form, translation_column, translation_row
from grants.models import (
    Application,
    ApplicationStatus,
    DecisionMessage,
    Foundation,
    Recommendation,
    Review,
    ReviewAssignment,
    source_language,
)
from grants.permissions import Capability, can, foundation_ids, foundations_where
from grants.services import reviews as review_service
from grants.services.access_log import record_access
from grants.services.errors import DomainError
from grants.views.files import attachment_response

DECIDED_STATES = (ApplicationStatus.APPROVED, ApplicationStatus.DECLINED, ApplicationStatus.WITHDRAWN)


def error_messages(error: DomainError) -> list[str]:
    """A domain error's message(s) as a list (``save_review`` may refuse for several reasons)."""
    message = error.message
    return [str(m) for m in message] if isinstance(message, (list, tuple)) else [str(message)]


def form_error_messages(form: forms.Form) -> list[str]:
    """Each error of an invalid form as one line, prefixed with its field's label."""
    lines = []
    for name, errors in form.errors.items():
        label = form.fields[name].label if name in form.fields else ""
        lines.extend(f"{label}: {error}" if label else str(error) for error in errors)
    return lines


def review_rows(reviews) -> list:
    """Attach ``criteria`` (label, weight, score, comment per criterion) to each review."""
    for review in reviews:
        review.criteria = [
            {**criterion, **(review.scores.get(criterion["id"]) or {})} for criterion in review.rubric
        ]
    return reviews


# --- Officers' action forms -------------------------------------------------------------------


def _textarea(rows=3):
    return forms.Textarea(attrs={"rows": rows})


class NoteForm(TextLimits, forms.Form):
    note = forms.CharField(label=_("Note (internal)"), required=False, max_length=1000, widget=_textarea(2))


class AssignReviewersForm(TextLimits, forms.Form):
    reviewers = forms.ModelMultipleChoiceField(
        queryset=None, label=_("Reviewers"), widget=forms.CheckboxSelectMultiple, required=False
    )
    note = forms.CharField(
        label=_("Note (internal)"), required=False, max_length=1000, widget=_textarea(2),
        help_text=_("Kept on the timeline; reviewers are told by email, once per batch."),
    )  # fmt: skip

    def __init__(self, *args, reviewers, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = reviewers

    def clean_reviewers(self):
        chosen = self.cleaned_data.get("reviewers")
        if not chosen:
            raise forms.ValidationError(_("Choose at least one reviewer."))
        return chosen


class RequestInformationForm(TextLimits, forms.Form):
    message = forms.CharField(
        label=_("What is missing"), required=False, max_length=5000, widget=_textarea(4),
        help_text=_("The applicant reads this in an email and on their dashboard."),
    )  # fmt: skip
    questions = forms.MultipleChoiceField(
        label=_("Answers the applicant should revise"), required=False, widget=forms.CheckboxSelectMultiple
    )

    def __init__(self, *args, sections, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["questions"].choices = [
            (question.id, question.label)
            for section in sections
            for question in section.questions
            if question.is_input
        ]


class ApproveForm(TextLimits, forms.Form):
    amount = AmountField.for_column(Application, "award_amount", label=_("Amount to award"), example=False)
    confirm_over_requested = forms.BooleanField(
        label=_("I confirm awarding more than was requested"), required=False
    )
    message = forms.CharField(
        label=_("Message to the applicant (optional)"), required=False, max_length=5000, widget=_textarea(3)
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"] = AmountField.for_column(
            Application,
            "award_amount",
            currency=currency,
            label=_("Amount to award (%(currency)s)") % {"currency": currency},
            example=False,
        )


class DeclineForm(TextLimits, forms.Form):
    template = forms.ModelChoiceField(
        queryset=None, required=False, label=_("Message template"),
        help_text=_("Leave the reason empty to send the template in the applicant's language."),
    )  # fmt: skip
    reason = forms.CharField(
        label=_("Reason given to the applicant"), required=False, max_length=5000, widget=_textarea(4)
    )

    def __init__(self, *args, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["template"].queryset = templates

    def reason_for(self, language: str) -> str:
        """The written reason, else the chosen template in ``language`` (the applicant's)."""
        reason = (self.cleaned_data.get("reason") or "").strip()
        template = self.cleaned_data.get("template")
        if not reason and template is not None:
            reason = template.text_for(language)
        return reason


class CommentForm(TextLimits, forms.Form):
    text = forms.CharField(label=_("Comment"), required=False, max_length=5000, widget=_textarea(3))
    shared_with_applicant = forms.BooleanField(
        label=_("Share with the applicant"), required=False,
        help_text=_("Unticked, only the foundation's staff read it."),
    )  # fmt: skip


def decline_templates(foundation_ids_):
    return DecisionMessage.objects.filter(
        foundation_id__in=foundation_ids_, kind=DecisionMessage.Kind.DECLINE
    ).order_by("title")


# --- Reviewers' area --------------------------------------------------------------------------


def has_review_area(user) -> bool:
    """Whether "My reviews" is for ``user``: a reviewing role somewhere, or an assignment."""
    if not getattr(user, "is_authenticated", False):
        return False
    if foundations_where(user, Capability.REVIEW):
        return True
    return ReviewAssignment.objects.filter(reviewer=user).exists()


def assignment_or_404(user, application_id) -> ReviewAssignment:
    """The user's own assignment on the application, or 404 (for everyone else it does not exist)."""
    assignment = (
        ReviewAssignment.objects.select_related(
            "application__call__fund__foundation", "application__organization", "assigned_by"
        )
        .filter(application_id=application_id, reviewer_id=getattr(user, "pk", None))
        .first()
    )
    if assignment is None:
        raise Http404
    if not can(user, Capability.REVIEW, assignment.application.call.fund.foundation_id):
        raise Http404
    return assignment


def rubric_for(application) -> list[dict]:
    """The call's rubric in the reader's language; a single "Overall" criterion when it has none."""
    page = call_page_for(application.call, translation.get_language())
    rubric = page.get_rubric() if page is not None else []
    return rubric or [{"id": "overall", "label": _t("Overall"), "weight": "1", "guidance": ""}]


def reviewer_answer_rows(application):
    """Answers as reviewers read them: every section, without the answers to sensitive questions."""
    rows = answer_rows(application, sections_for(application))
    for block in rows:
        block["items"] = [item for item in block["items"] if not item["question"].sensitive]
    return rows


class ReviewerAreaMixin(WagtailAdminTemplateMixin):
    header_icon = "tasks"

    def dispatch(self, request, *args, **kwargs):
        if not has_review_area(request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("reviews:index"), "label": _("My reviews")}]


class MyReviewsView(ReviewerAreaMixin, TemplateView):
    template_name = "grants/admin/reviews_index.html"
    page_title = _("My reviews")

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": _("My reviews")}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        assignments = list(
            ReviewAssignment.objects.filter(
                reviewer=self.request.user,
                application__call__fund__foundation__in=foundations_where(
                    self.request.user, Capability.REVIEW
                ),
            )
            .select_related("application__call__fund", "application__organization")
            .order_by("-created_at", "-pk")
        )
        waiting = (ReviewAssignment.Status.AWAITING_DECLARATION, ReviewAssignment.Status.REVIEWING)
        context.update(
            to_do=[a for a in assignments if a.status in waiting and a.application.status not in DECIDED_STATES],
            done=[a for a in assignments if not (a.status in waiting and a.application.status not in DECIDED_STATES)],
            statuses=ReviewAssignment.Status,
        )  # fmt: skip
        return context


class ReviewDetailView(ReviewerAreaMixin, TemplateView):
    """One assigned application: the conflict declaration first, then answers, rubric and scores."""

    template_name = "grants/admin/review_detail.html"
    page_title = _("Review")

    def setup(self, request, *args, **kwargs):
        super().setup(request, *args, **kwargs)
        self.assignment = assignment_or_404(request.user, kwargs["application_id"])
        self.application = self.assignment.application

    def get_page_subtitle(self):
        return self.application.reference

    def get_breadcrumbs_items(self):
        return super().get_breadcrumbs_items() + [
            {"url": "", "label": _("Review"), "sublabel": self.application.reference}
        ]

    def get_context_data(self, posted=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["review_text_length"] = review_service.REVIEW_TEXT_LENGTH
        assignment, application = self.assignment, self.application
        status = ReviewAssignment.Status
        context.update(
            assignment=assignment,
            application=application,
            statuses=status,
            recommendations=Recommendation.choices,
            score_choices=range(6),
            declare_url=reverse("reviews:declare", args=[application.pk]),
            score_url=reverse("reviews:score", args=[application.pk]),
            posted_declaration=posted or {},
        )
        if assignment.status not in (status.REVIEWING, status.SUBMITTED):
            return context  # nothing of the application before declaring no conflict
        record_access(self.request, "application", application, application.call.fund.foundation_id)
        review = Review.objects.filter(assignment=assignment).first()
        rubric = rubric_for(application)
        saved = review.scores if review else {}
        posted = posted or {}
        criteria = []
        for criterion in rubric:
            entry = saved.get(criterion["id"]) or {}
            score = posted.get(f"score-{criterion['id']}", entry.get("score"))
            criteria.append(
                {
                    **criterion,
                    "score": "" if score in (None, "") else str(score),
                    "comment": posted.get(f"comment-{criterion['id']}", entry.get("comment", "")),
                }
            )
        others = [
            other for other in review_service.reviews_visible_to(self.request.user, application)
            if other.assignment_id != assignment.pk
        ]  # fmt: skip
        context.update(
            answers=reviewer_answer_rows(application),
            criteria=criteria,
            source_language=source_language(),
            review=review_rows([review])[0] if review else None,
            recommendation=posted.get("recommendation", review.recommendation if review else ""),
            comment=posted.get("comment", review.comment if review else ""),
            can_score=assignment.status == status.REVIEWING and application.status not in DECIDED_STATES,
            other_reviews=review_rows(others),
        )
        return context


class DeclareConflictView(ReviewDetailView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        answer = request.POST.get("conflict")
        if answer not in ("yes", "no"):
            messages.error(request, _t("Say whether you have a conflict of interest with this application."))
            return self.render_to_response(self.get_context_data(posted=request.POST))
        try:
            review_service.declare_conflict(
                self.assignment,
                by=request.user,
                has_conflict=answer == "yes",
                note=request.POST.get("note", ""),
            )
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(posted=request.POST))
        if answer == "yes":
            messages.success(
                request,
                _t("Thank you. The officer has been told; this application is no longer yours to review."),
            )
            return redirect("reviews:index")
        messages.success(request, _t("Thank you. You can now read and score the application."))
        return redirect("reviews:detail", application_id=self.application.pk)


class ScoreView(ReviewDetailView):
    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        rubric = rubric_for(self.application)
        scores = {
            criterion["id"]: {
                "score": request.POST.get(f"score-{criterion['id']}", ""),
                "comment": request.POST.get(f"comment-{criterion['id']}", ""),
            }
            for criterion in rubric
        }
        submit = request.POST.get("action") == "submit"
        try:
            review_service.save_review(
                self.assignment,
                by=request.user,
                rubric=rubric,
                scores=scores,
                recommendation=request.POST.get("recommendation", ""),
                comment=request.POST.get("comment", ""),
                submit=submit,
            )
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            self.assignment.refresh_from_db()
            return self.render_to_response(self.get_context_data(posted=request.POST))
        if submit:
            messages.success(request, _t("Review submitted. Thank you."))
        else:
            messages.success(request, _t("Review saved. You can finish it later."))
        return redirect("reviews:detail", application_id=self.application.pk)


def reviewer_attachment(request, application_id: int, attachment_id: int):
    """A reviewer downloads a file of an application they declared no conflict for (never the
    files of a sensitive question)."""
    assignment = assignment_or_404(request.user, application_id)
    if assignment.status not in (ReviewAssignment.Status.REVIEWING, ReviewAssignment.Status.SUBMITTED):
        raise Http404
    application = assignment.application
    attachment = get_object_or_404(application.attachments, pk=attachment_id)
    sensitive = {q.id for s in sections_for(application) for q in s.questions if q.sensitive}
    if attachment.question_id in sensitive:
        raise Http404
    record_access(request, "attachment", attachment, application.call.fund.foundation_id)
    return attachment_response(attachment)


class ReviewsMenuItem(MenuItem):
    def is_shown(self, request):
        return has_review_area(request.user)


class ReviewsViewSet(ViewSet):
    """ "My reviews": URL namespace ``reviews`` (``reviews:index`` is linked from emails)."""

    icon = "tasks"
    menu_label = _("My reviews")
    menu_order = 140
    add_to_admin_menu = True
    menu_item_class = ReviewsMenuItem

    def get_urlpatterns(self):
        return [
            path("", MyReviewsView.as_view(), name="index"),
            path("<int:application_id>/", ReviewDetailView.as_view(), name="detail"),
            path("<int:application_id>/declare/", DeclareConflictView.as_view(), name="declare"),
            path("<int:application_id>/score/", ScoreView.as_view(), name="score"),
            path("<int:application_id>/files/<int:attachment_id>/", reviewer_attachment, name="attachment"),
        ]


# --- Decision messages ------------------------------------------------------------------------


class FoundationObjectMixin:
    """Objects of a foundation the user does not serve are 404; changing needs an editor role there."""

    editor_only = False

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        if obj.foundation_id not in foundation_ids(self.request.user):
            raise Http404
        if self.editor_only and not can(self.request.user, Capability.EDIT_CONTENT, obj.foundation_id):
            raise PermissionDenied
        return obj


class DecisionMessageIndexView(generic.IndexView):
    def get_base_queryset(self):
        return (
            DecisionMessage.objects.filter(foundation__in=foundation_ids(self.request.user))
            .select_related("foundation")
            .order_by("title", "pk")
        )


class DecisionMessageEditView(FoundationObjectMixin, generic.EditView):
    editor_only = True


class DecisionMessageDeleteView(FoundationObjectMixin, generic.DeleteView):
    editor_only = True


class DecisionMessageHistoryView(FoundationObjectMixin, HistoryView):
    pass


class DecisionMessageUsageView(FoundationObjectMixin, UsageView):
    editor_only = True


class DecisionMessageViewSet(ModelViewSet):
    """Reusable decision messages (mostly declines) in every language, side by side, per foundation."""

    model = DecisionMessage
    icon = "mail"
    menu_label = _("Decision messages")
    menu_order = 160
    add_to_admin_menu = True
    copy_view_enabled = False
    index_view_class = DecisionMessageIndexView
    edit_view_class = DecisionMessageEditView
    delete_view_class = DecisionMessageDeleteView
    history_view_class = DecisionMessageHistoryView
    usage_view_class = DecisionMessageUsageView
    list_display = ["title", "kind", "foundation", translation_column()]
    search_fields = ["title"]
    panels = [
        FieldRowPanel([FieldPanel("foundation"), FieldPanel("kind")]),
        FieldPanel("title"),
        translation_row("body"),
    ]
    edit_handler = ObjectList(panels, base_form_class=translated_model_form(DecisionMessage))

    def get_form_class(self, for_update=False):
        form_class = super().get_form_class(for_update)

        class ScopedForm(form_class):
            def __init__(self, *args, for_user=None, **kwargs):
                super().__init__(*args, for_user=for_user, **kwargs)
                if for_user is not None and "foundation" in self.fields:
                    self.fields["foundation"].queryset = Foundation.objects.filter(
                        pk__in=foundations_where(for_user, Capability.EDIT_CONTENT)
                    )

        ScopedForm.__name__ = form_class.__name__
        return ScopedForm
