"""Officers' view of applications in Wagtail admin: the list, the detail with its review actions,
batch decisions, and staff-assisted intake.

Lists show no answers at all; the detail shows answers and attachments (answers to sensitive
questions are hidden from auditors). Every row is scoped to the user's foundations: an
application of another foundation is a 404. Review actions are POST forms calling
``grants.services.reviews``; a refusal is shown as a message with what was typed kept.
"""

import functools

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Case, F, When
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from djmoney.money import Money
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from grants.admin.paging import ModelChoiceFilter, RowLinksOncePerPageMixin, choice_labels, rows_of_page
from grants.admin.reviews import (
    ApproveForm,
    AssignReviewersForm,
    CommentForm,
    DeclineForm,
    NoteForm,
    RequestInformationForm,
    decline_templates,
    error_messages,
    form_error_messages,
    review_rows,
)
from grants.exports.base import safe_text
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    Award,
    Fund,
    FundingCall,
    IntakeChannel,
    LegalStatus,
    Organization,
    Recommendation,
    ReviewAssignment,
    StaffMembership,
    User,
)
from grants.permissions import (
    Capability,
    applications_visible_to_staff,
    can,
    foundation_ids,
    foundations_where,
    roles_with,
)
from grants.scoping_organizations import is_related, organizations_related_to
from grants.services import applications as service
from grants.services import awards as award_service
from grants.services import reviews as review_service
from grants.services import telling
from grants.services.access_log import record_access
from grants.services.errors import DomainError
from grants.services.workflow import OPEN_STATES
from grants.views.applications import answer_rows, sections_for


def _calls_for(request):
    if request is None:
        return FundingCall.objects.none()
    return FundingCall.objects.filter(fund__foundation__in=foundation_ids(request.user)).only("id", "title")


def _funds_for(request):
    if request is None:
        return Fund.objects.none()
    return Fund.objects.filter(foundation__in=foundation_ids(request.user)).only("id", "name")


def _reviewers_for(request):
    """Staff who review for the user's foundations (reviewers and officers)."""
    if request is None:
        return User.objects.none()
    reviewers = StaffMembership.objects.filter(
        foundation__in=foundation_ids(request.user), role__in=roles_with(Capability.REVIEW)
    ).values("user_id")
    return User.objects.filter(pk__in=reviewers).only("id", "first_name", "last_name", "email")


def _filter_reviewer(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(pk__in=ReviewAssignment.objects.filter(reviewer=value).values("application_id"))


class ApplicationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[c for c in ApplicationStatus.choices if c[0] != ApplicationStatus.DRAFT], label=_("Status")
    )
    call = ModelChoiceFilter(queryset=_calls_for, label=_("Funding call"))
    fund = ModelChoiceFilter(field_name="call__fund", queryset=_funds_for, label=_("Fund"))
    reviewer = ModelChoiceFilter(queryset=_reviewers_for, method=_filter_reviewer, label=_("Reviewer"))
    min_score = django_filters.NumberFilter(
        field_name="review_score", lookup_expr="gte", label=_("Score at least (0–5)")
    )
    max_score = django_filters.NumberFilter(
        field_name="review_score", lookup_expr="lte", label=_("Score at most (0–5)")
    )
    rapid_response = django_filters.BooleanFilter(
        field_name="call__rapid_response", label=_("Rapid response")
    )
    intake_channel = django_filters.ChoiceFilter(choices=IntakeChannel.choices, label=_("Received"))

    class Meta:
        model = Application
        fields = ["status", "call", "fund", "reviewer", "min_score", "max_score", "rapid_response",
                  "intake_channel"]  # fmt: skip


def with_review_summary(queryset):
    """The list's sort key: the decision target, while the application is still open.

    The review summary itself (score, count, recommendations) is stored on the application when a
    review is submitted (``reviews.review_summary``): the list reads columns, no subquery per row.
    """
    return queryset.annotate(
        open_due_at=Case(When(status__in=OPEN_STATES, then=F("decision_due_at")), default=None)
    )


def recommendation_summary(application) -> str:
    counts = (application.fund_count, application.maybe_count, application.do_not_fund_count)
    if not any(counts):
        return "—"
    return _t("Fund %(fund)s · Maybe %(maybe)s · Do not fund %(no)s") % dict(
        zip(("fund", "maybe", "no"), counts, strict=True)
    )


def time_left(application, now=None) -> tuple[str, bool]:
    """Text for the time left against the decision target, and whether it is overdue."""
    due = application.decision_due_at
    if due is None or application.status not in OPEN_STATES:
        return "", False
    now = now or timezone.now()
    if due <= now:
        return _t("Overdue by %(time)s") % {"time": timesince(due, now, depth=1)}, True
    return _t("%(time)s left") % {"time": timeuntil(due, now, depth=2)}, False


class TimeLeftColumn(Column):
    cell_template_name = "grants/admin/cells/time_left.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["value"], context["overdue"] = time_left(instance)
        return context


def _score(application):
    return application.review_score if application.review_score is not None else "—"


STATUS_LABELS = choice_labels(Application, "status")


def _status(application):
    return STATUS_LABELS.get(application.status, application.status)


LIST_COLUMNS = [
    "reference",
    "organization",
    "call",
    Column("status", label=_("Status"), accessor=_status, sort_key="status"),
    "requested_amount",
    Column("review_score", label=_("Score"), accessor=_score, sort_key="review_score"),
    Column("review_count", label=_("Reviews"), sort_key="review_count"),
    Column("recommendations", label=_("Recommendations"), accessor=recommendation_summary),
    TimeLeftColumn("decision_due_at", label=_("Decision due"), sort_key="decision_due_at"),
    "submitted_at",
]

# What the list and its export read of each row: never the answers (kilobytes of JSON, a
# decryption each), nor columns no cell shows.
LISTED_FIELDS = (
    "id", "reference", "status", "requested_amount", "requested_currency", "submitted_at", "decision_due_at",
    "review_score", "review_count", "fund_count", "maybe_count", "do_not_fund_count", "call_id", "organization_id",
    "call__id", "call__title", "call__fund_id", "call__fund__id", "call__fund__name",
    "organization__id", "organization__name",
)  # fmt: skip

EXPORT_COLUMNS = {
    "reference": _("Reference"),
    "organization": _("Organization"),
    "call": _("Funding call"),
    "fund": _("Fund"),
    "status": _("Status"),
    "requested_amount": _("Amount requested"),
    "currency": _("Currency"),
    "submitted_at": _("Submitted"),
    "decision_due_at": _("Decision due"),
    "time_left": _("Time left"),
    "review_score": _("Score"),
    "review_count": _("Reviews"),
    "fund_count": _("Fund"),
    "maybe_count": _("Maybe"),
    "do_not_fund_count": _("Do not fund"),
}


class OneTemplateTableMixin:
    """Renders the whole table with one template (``_table.html``) and the cells in Python.

    The cells' values come from the columns themselves (``get_cell_context_data``), so columns,
    links, sorting and buttons stay those of the view; the markup of Wagtail's cell, title-cell
    and dropdown templates is written out here once (``format_html``, escaped as a template
    would), instead of a template — or a dozen template tags — per cell: 500 cells a page.
    """

    template_name = "grants/admin/applications/_table.html"

    def cell_rows(self):
        request = getattr(self, "_request", None)
        for row in self.rows:
            context = {"row": row, "table": self, "request": request}
            cells = []
            for column in self.columns.values():
                classname = column.classname or ""
                if type(column).get_cell_context_data is Column.get_cell_context_data:
                    # A plain column shows its value: read it once (Wagtail's cell context
                    # would turn it into text a second time only to test for blankness).
                    html = _shown(column.get_value(row.instance))
                    cells.append({"classname": classname, "html": html})
                    continue
                cell = column.get_cell_context_data(row.instance, context)
                if isinstance(column, TitleColumn):
                    classname, html = f"{classname} title".strip(), _title_cell(cell)
                elif isinstance(column, TimeLeftColumn):
                    html = _time_left_cell(cell)
                else:
                    html = _shown(cell["value"])
                cells.append({"classname": classname, "html": html})
            yield {"attrs": row.attrs, "cells": cells}

    def get_context_data(self, parent_context):
        self._request = parent_context.get("request")
        return super().get_context_data(parent_context)


def _shown(value) -> str:
    """A value as Wagtail's cell shows it: nothing for None, whole numbers unlocalized, dates in
    the local time and localized, as ``{{ value }}`` would; always escaped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return conditional_escape(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Money):  # a page repeats the same few amounts; Babel is slow to format
        return _money_text(value.amount, value.currency.code, translation.get_language())
    return conditional_escape(str(localize(template_localtime(value))))


@functools.lru_cache(maxsize=4096)
def _money_text(amount, currency: str, language: str) -> str:
    """An amount as ``str(Money)`` prints it in ``language`` (the active language), escaped."""
    return conditional_escape(str(Money(amount, currency)))


def _title_cell(cell) -> str:
    title = _shown(cell["value"])
    if cell.get("link_url"):
        title = format_html('<a href="{}">{}</a>', cell["link_url"], title)
    buttons = [button for button in cell.get("buttons", ()) if button.show]
    actions = (
        format_html(
            '<ul class="actions">{}</ul>',
            format_html_join("", "<li>{}</li>", ((_dropdown(b),) for b in buttons)),
        )
        if buttons
        else ""
    )
    return format_html('<div class="title-wrapper">{}</div>{}', title, actions)


@functools.lru_cache(maxsize=256)
def _icon(name: str, classname: str) -> str:
    return format_html(
        '<svg class="icon icon-{} {}" aria-hidden="true"><use href="#icon-{}"></use></svg>',
        name,
        classname,
        name,
    )


def _dropdown(button) -> str:
    """Wagtail's "More options" dropdown (``wagtailadmin/shared/dropdown``) for one row."""
    items = format_html_join(
        "",
        '<a href="{}" class="{}">{} {}</a>',
        (
            (item.url, item.classname, _icon(item.icon_name, "icon") if item.icon_name else "", item.label)
            for item in getattr(button, "dropdown_buttons", ())
            if item.show
        ),
    )
    return format_html(
        '<div data-controller="w-dropdown" class="w-dropdown" type="button">'
        '<button type="button" class="w-dropdown__toggle w-dropdown__toggle--icon" '
        'data-w-dropdown-target="toggle" aria-label="{}">{}</button>'
        '<div data-w-dropdown-target="content" class="w-dropdown__content" hidden>{}</div></div>',
        button.attrs.get("aria-label", ""),
        _icon(button.icon_name, "w-dropdown__toggle-icon"),
        items,
    )


def _time_left_cell(cell) -> str:
    if cell["overdue"]:
        return format_html(
            '<strong class="w-status" style="color:#fff;background:#cd4444;border-color:#cd4444">{}</strong>',
            cell["value"],
        )
    return _shown(cell["value"]) if cell["value"] else "—"


class ApplicationIndexView(RowLinksOncePerPageMixin, IndexView):
    # Organization names and titles are typed by applicants: a CSV cell never starts a formula.
    custom_value_preprocess = {**IndexView.custom_value_preprocess, str: {IndexView.FORMAT_CSV: safe_text}}

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if foundations_where(self.request.user, Capability.DECIDE_APPLICATIONS):
            buttons.append(
                HeaderButton(
                    _("Batch actions"),
                    url=reverse("applications:batch") + self._filter_query(),
                    icon_name="tasks",
                )
            )
            buttons.append(
                HeaderButton(
                    _("Enter an application (phone or in person)"),
                    url=reverse("applications:intake"),
                    icon_name="plus",
                )  # fmt: skip
            )
        return buttons

    @cached_property
    def table_class(self):
        return type("ApplicationTable", (OneTemplateTableMixin, super().table_class), {})

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = rows_of_page(queryset, object_list)
        return paginator, page, page.object_list, is_paginated

    def _filter_query(self) -> str:
        params = self.request.GET.copy()
        for key in ("p", "export", "ordering"):
            params.pop(key, None)
        return "?" + params.urlencode() if params else ""

    def get_base_queryset(self):
        return with_review_summary(
            applications_visible_to_staff(self.request.user)
            .select_related("call__fund", "organization")
            .only(*LISTED_FIELDS)
        )

    def to_row_dict(self, item):
        amount = item.requested_amount
        values = {
            "reference": item.reference,
            "organization": item.organization.name,
            "call": item.call.title,
            "fund": item.call.fund.name,
            "status": item.get_status_display(),
            "requested_amount": amount.amount if amount is not None else "",
            "currency": str(amount.currency) if amount is not None else "",
            "submitted_at": item.submitted_at,
            "decision_due_at": item.decision_due_at or "",
            "time_left": time_left(item)[0],
            "review_score": item.review_score if item.review_score is not None else "",
            "review_count": item.review_count,
            "fund_count": item.fund_count,
            "maybe_count": item.maybe_count,
            "do_not_fund_count": item.do_not_fund_count,
        }
        return {field: values[field] for field in self.list_export}

    def order_queryset(self, queryset):
        if self.ordering:
            return queryset.order_by(self.ordering, "pk")
        # Rapid-response applications still open come first, the nearest decision target first;
        # then the ones waiting longest.
        return queryset.order_by(
            F("open_due_at").asc(nulls_last=True), F("submitted_at").asc(nulls_last=True), "pk"
        )


# --- Detail: answers, reviews, versions, timeline and the review actions -----------------------

ACTIONS = {
    "start_screening": _("Start screening"),
    "send_to_review": _("Send to review"),
    "assign_reviewers": _("Assign reviewers"),
    "request_more_info": _("Request more information"),
    "approve": _("Approve"),
    "decline": _("Decline"),
    "comment": _("Add a comment"),
}

ACTIVITY_LABELS = {
    "started": _("Draft started"),
    "submitted": _("Submitted"),
    "start_screening": _("Screening started"),
    "send_to_review": _("Sent to review"),
    "request_more_info": _("More information requested"),
    "resubmit": _("Resubmitted"),
    "approve": _("Approved"),
    "decline": _("Declined"),
    "withdrawn": _("Withdrawn"),
    "reviewer_assigned": _("Reviewer assigned"),
    "conflict_declared": _("Conflict of interest declared"),
    "no_conflict_declared": _("No conflict of interest declared"),
    "review_submitted": _("Review submitted"),
    "comment": _("Comment"),
    "email_sent": _("Email sent"),
}

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
                "label": ACTIVITY_LABELS.get(entry.action, entry.action),
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


class ApplicationActionView(ApplicationInspectView):
    """POST only: one review action on one application, through ``grants.services.reviews``."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        name = self.kwargs["action"]
        if name not in ACTIONS:
            raise Http404
        if not self.is_officer:
            raise PermissionDenied
        form = self.make_form(name, data=request.POST)
        if not form.is_valid():
            for line in form_error_messages(form):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(bound_forms={name: form}))
        try:
            done = self.run(name, form.cleaned_data, form)
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(bound_forms={name: form}))
        messages.success(request, done)
        return redirect("applications:inspect", self.object.pk)

    def run(self, name, data, form) -> str:
        application, user = self.object, self.request.user
        if name == "start_screening":
            review_service.start_screening(application, by=user, note=data["note"])
            return _t("Screening started.")
        if name == "send_to_review":
            review_service.send_to_review(application, by=user, note=data["note"])
            return _t("Sent to review.")
        if name == "assign_reviewers":
            created = review_service.assign_reviewers([application], list(data["reviewers"]), by=user)
            if data["note"].strip() and "comment" in review_service.officer_actions(user, application):
                review_service.add_comment(
                    application, by=user, text=data["note"], shared_with_applicant=False
                )
            return _t("%(count)s reviewer(s) assigned. They were told by email.") % {"count": len(created)}
        if name == "request_more_info":
            review_service.request_more_information(
                application, by=user, message=data["message"], question_ids=data["questions"]
            )
            return telling.information_request_message(application)
        if name == "approve":
            amount = Money(data["amount"], application.call.fund.currency)
            review_service.approve_application(
                application, by=user, amount=amount,
                confirm_over_requested=data["confirm_over_requested"], message=data["message"],
            )  # fmt: skip
            return telling.decision_message(application, "approve")
        if name == "decline":
            review_service.decline_application(
                application, by=user, reason=form.reason_for(application.language)
            )
            return telling.decision_message(application, "decline")
        review_service.add_comment(
            application, by=user, text=data["text"], shared_with_applicant=data["shared_with_applicant"]
        )
        if data["shared_with_applicant"]:
            return _t("Comment added and shared with the applicant.")
        return _t("Internal comment added.")


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


# --- Batch actions --------------------------------------------------------------------------

BATCH_ACTIONS = [
    ("assign", _("Assign reviewers")),
    ("approve", _("Approve at the amount requested")),
    ("decline", _("Decline with a message template")),
]


class BatchForm(forms.Form):
    action = forms.ChoiceField(choices=BATCH_ACTIONS, widget=forms.RadioSelect, label=_("Action"))
    reviewers = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label=_("Reviewers")
    )
    template = forms.ModelChoiceField(queryset=None, required=False, label=_("Decline message"))

    def __init__(self, *args, reviewers, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = reviewers
        self.fields["template"].queryset = templates

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "assign" and not cleaned.get("reviewers"):
            self.add_error("reviewers", _("Choose at least one reviewer."))
        if cleaned.get("action") == "decline" and not cleaned.get("template"):
            self.add_error("template", _("Choose the message the applicants will receive."))
        return cleaned


class BatchView(WagtailAdminTemplateMixin, TemplateView):
    """Open applications of the officer's foundations, with checkboxes and three batch actions."""

    template_name = "grants/admin/application_batch.html"
    page_title = _("Batch actions")
    header_icon = "tasks"

    def dispatch(self, request, *args, **kwargs):
        self.officer_foundations = foundations_where(request.user, Capability.DECIDE_APPLICATIONS)
        if not self.officer_foundations:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("applications:index"), "label": _("Applications")},
            {"url": "", "label": _("Batch actions")},
        ]

    def get_queryset(self):
        queryset = with_review_summary(
            applications_visible_to_staff(self.request.user)
            .filter(call__fund__foundation__in=self.officer_foundations, status__in=OPEN_STATES)
            .select_related("call__fund", "organization")
        )
        filters = ApplicationFilterSet(data=self.request.GET, queryset=queryset, request=self.request)
        if filters.is_valid():
            queryset = filters.qs
        return queryset.order_by(
            F("open_due_at").asc(nulls_last=True), F("submitted_at").asc(nulls_last=True), "pk"
        )

    def make_form(self, data=None):
        reviewers = User.objects.filter(
            staff_memberships__foundation__in=self.officer_foundations,
            staff_memberships__role__in=roles_with(Capability.REVIEW),
            is_active=True,
        ).distinct()
        return BatchForm(data, reviewers=reviewers.order_by("first_name", "email"),
                         templates=decline_templates(self.officer_foundations))  # fmt: skip

    def get_context_data(self, form=None, selected=(), **kwargs):
        context = super().get_context_data(**kwargs)
        applications = list(self.get_queryset()[:500])
        for application in applications:
            application.recommendations = recommendation_summary(application)
        context.update(
            applications=applications,
            form=form or self.make_form(),
            selected={str(pk) for pk in selected},
        )
        return context

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        selected = request.POST.getlist("applications")
        applications = list(self.get_queryset().filter(pk__in=[pk for pk in selected if pk.isdigit()]))
        if not applications:
            messages.error(request, _t("Choose at least one application."))
        if not form.is_valid():
            for line in form_error_messages(form):
                messages.error(request, line)
        template = form.cleaned_data.get("template") if form.is_valid() else None
        if template is not None and any(
            a.call.fund.foundation_id != template.foundation_id for a in applications
        ):
            # Someone working for two foundations: one foundation's message never goes out in another's name.
            form.add_error("template", _("Choose a message of the foundation the applications were sent to."))
            messages.error(request, _("Choose a message of the foundation the applications were sent to."))
        if not applications or not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, selected=selected))
        data, user = form.cleaned_data, request.user
        try:
            if data["action"] == "assign":
                created, refused = review_service.assign_reviewers_where_possible(
                    applications, list(data["reviewers"]), by=user
                )
                done = _t("%(count)s reviewer assignment(s) made; each reviewer gets one email.") % {
                    "count": len(created)
                }
            else:
                template = data["template"]
                reasons = {"en": template.text_en, "es": template.text_es} if template else None
                decided, refused = review_service.decide_batch(
                    applications, by=user, decision=data["action"], reason_by_language=reasons
                )
                done = telling.batch_decision_message(decided)
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(form=form, selected=selected))
        if done:  # nothing decided: the refusals below speak alone
            messages.success(request, done)
        for application, reason in refused:
            messages.error(request, _t("%(reference)s was not changed: %(reason)s")
                           % {"reference": application.reference, "reason": reason})  # fmt: skip
        return redirect(
            reverse("applications:batch") + ("?" + request.GET.urlencode() if request.GET else "")
        )


class ApplicationViewSet(ModelViewSet):
    model = Application
    icon = "form"
    menu_label = _("Applications")
    menu_order = 150
    add_to_admin_menu = True
    index_view_class = ApplicationIndexView
    inspect_view_class = ApplicationInspectView
    inspect_view_enabled = True
    filterset_class = ApplicationFilterSet
    list_per_page = 50
    list_display = LIST_COLUMNS
    list_export = list(EXPORT_COLUMNS)
    export_headings = EXPORT_COLUMNS
    export_filename = "applications"
    search_fields = ["reference", "organization__name"]
    form_fields = ["status"]  # never edited here: the admin offers no add or edit permission

    def get_urlpatterns(self):
        inspect_kwargs = self.get_inspect_view_kwargs()
        return super().get_urlpatterns() + [
            path("intake/", intake_view, name="intake"),
            path("batch/", BatchView.as_view(), name="batch"),
            path(
                "inspect/<int:pk>/compare/",
                self.construct_view(
                    ApplicationCompareView,
                    **{**inspect_kwargs, "template_name": "grants/admin/application_compare.html"},
                ),
                name="compare",
            ),
            path(
                "inspect/<int:pk>/do/<slug:action>/",
                self.construct_view(ApplicationActionView, **inspect_kwargs),
                name="action",
            ),
        ]


class IntakeForm(forms.Form):
    call = forms.ModelChoiceField(queryset=FundingCall.objects.none(), label=_("Funding call"))
    channel = forms.ChoiceField(
        choices=[c for c in IntakeChannel.choices if c[0] != IntakeChannel.ONLINE], label=_("Received")
    )
    language = forms.ChoiceField(
        choices=[("en", _("English")), ("es", _("Spanish"))], label=_("Language of the form")
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.none(), required=False, label=_("Existing organization"),
        help_text=_("Leave empty to describe a new group below."),
    )  # fmt: skip
    name = forms.CharField(label=_("Group name"), required=False, max_length=200)
    region_served = forms.CharField(
        label=_("Region served"), required=False, max_length=200, help_text=_("Never a street address.")
    )
    legal_status = forms.ChoiceField(choices=LegalStatus.choices, label=_("Legal status"), required=False)
    tax_id = forms.CharField(label=_("Tax id (EIN)"), required=False, max_length=20)
    sponsor_name = forms.CharField(label=_("Fiscal sponsor's name"), required=False, max_length=200)
    sponsor_tax_id = forms.CharField(label=_("Fiscal sponsor's tax id (EIN)"), required=False, max_length=20)

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        intake_foundations = foundations_where(user, Capability.INTAKE_APPLICATIONS)
        self.fields["call"].queryset = (
            FundingCall.objects.open_at(timezone.now())
            .filter(fund__foundation__in=intake_foundations)
            .select_related("fund")
        )
        # Only groups that already deal with the user's foundations; a new group is typed below.
        self.fields["organization"].queryset = organizations_related_to(intake_foundations).order_by("name")

    def clean(self):
        cleaned = super().clean()
        call, organization = cleaned.get("call"), cleaned.get("organization")
        if call and organization and not is_related(organization, call.fund.foundation_id):
            # Someone working for two foundations picked a group known only to the other one.
            self.add_error("organization", _("This organization has not worked with the call's foundation."))
        if not cleaned.get("organization") and not cleaned.get("name"):
            self.add_error("name", _("Choose an existing organization or give the group's name."))
        if not cleaned.get("organization") and not cleaned.get("region_served"):
            self.add_error("region_served", _("Say which region the group serves."))
        return cleaned


def intake_view(request):
    if not foundations_where(request.user, Capability.INTAKE_APPLICATIONS):
        raise Http404
    form = IntakeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        fields = None
        if not data["organization"]:
            fields = {key: data[key] for key in ("name", "region_served", "legal_status", "tax_id",
                                                 "sponsor_name", "sponsor_tax_id")}  # fmt: skip
            fields["legal_status"] = fields["legal_status"] or LegalStatus.UNINCORPORATED
        try:
            application = service.start_staff_intake(
                call=data["call"], by=request.user, channel=data["channel"], language=data["language"],
                organization=data["organization"], organization_fields=fields,
            )  # fmt: skip
        except ValidationError as error:
            for field, errors in error.message_dict.items():
                for message in errors:
                    form.add_error(field if field in form.fields else None, message)
        except DomainError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Draft created. Fill in the answers with the group, then submit."))
            with translation.override(data["language"]):
                return redirect(reverse("application_section", kwargs={"pk": application.pk, "number": 1}))
    return TemplateResponse(
        request, "grants/admin/intake.html", {"form": form, "page_title": _("Enter an application")}
    )
