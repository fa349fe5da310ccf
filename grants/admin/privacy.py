"""The Privacy area in Wagtail admin (menu "Privacy", URL namespace ``privacy``).

For one foundation at a time (a switcher when the user serves several): the retention settings
(edited in the foundation's form), a "Preview (dry run)" of what the rule would erase today, the
history of retention runs, organizations' deletion requests (approve or reject), and the access
log with filters by person, record and period.

Foundation admins use it all; auditors read it (no preview, no decisions — their role is
read-only everywhere); everyone else gets 404, like other admin areas. Another foundation's runs,
requests and log entries are never listed, and opening one is a 404.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from grants.admin.menus import CapabilityViewSet
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import (
    AccessKind,
    AccessLogEntry,
    Application,
    ApplicationStatus,
    Award,
    DataDeletionRequest,
    DeletionStatus,
    Foundation,
    RetentionRun,
    User,
)
from grants.permissions import Capability, can, foundations_where
from grants.services import data_deletion, retention
from grants.services.errors import DomainError

PER_PAGE = 50
RUNS_PER_PAGE = 20

COUNT_LABELS = {
    "applications": _("Applications"),
    "attachments": _("Files"),
    "versions": _("Versions with sensitive answers"),
    "review_notes": _("Reviewers' notes"),
    "donors": _("Donors"),
    "access_log_entries": _("Access log entries"),
    "bond_references": _("Bond references"),
    "applications_deleted": _("Applications deleted"),
    "applications_anonymised": _("Applications kept without their content"),
    "files_deleted": _("Files deleted"),
    "volunteers_renamed": _("Volunteers renamed"),
    "bonds_anonymised": _("Bonds kept without the partner's notes"),
    "drafts_deleted": _("Drafts deleted"),
    "members_removed": _("Members removed"),
    "files_deleted_with_drafts": _("Files of drafts deleted"),
}


def labelled_counts(counts: dict) -> list[dict]:
    return [{"label": COUNT_LABELS.get(key, key), "value": value} for key, value in (counts or {}).items()]


def privacy_foundations(user):
    return Foundation.objects.filter(pk__in=foundations_where(user, Capability.PRIVACY_READ)).order_by("name")


class PrivacyPage(WagtailAdminTemplateMixin, TemplateView):
    """A page of the Privacy area for one foundation the user may read it for (else 404)."""

    header_icon = "lock"
    page_title = _("Privacy")

    def dispatch(self, request, *args, **kwargs):
        self.foundations = list(privacy_foundations(request.user))
        if not self.foundations:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def foundation(self) -> Foundation:
        wanted = self.request.POST.get("foundation") or self.request.GET.get("foundation")
        if not wanted:
            return self.foundations[0]
        for foundation in self.foundations:
            if str(foundation.pk) == wanted:
                return foundation
        raise Http404

    @cached_property
    def can_act(self) -> bool:
        return can(self.request.user, Capability.PRIVACY_ADMIN, self.foundation)

    def get_page_title(self):
        return self.page_title

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(foundations=self.foundations, foundation=self.foundation, can_act=self.can_act)
        return context


class PrivacyIndexView(PrivacyPage):
    template_name = "grants/admin/privacy/index.html"

    def get_context_data(self, preview=None, **kwargs):
        context = super().get_context_data(**kwargs)
        foundation = self.foundation
        today = timezone.localdate()
        runs = RetentionRun.objects.filter(foundation=foundation).select_related("started_by")
        page = Paginator(runs, RUNS_PER_PAGE).get_page(self.request.GET.get("p"))
        for run in page.object_list:
            run.labelled = labelled_counts(run.counts)
        requests = DataDeletionRequest.objects.filter(foundation=foundation).select_related(
            "organization", "requested_by", "decided_by"
        )
        context.update(
            application_cutoff=retention.application_cutoff(foundation, today),
            bond_reference_cutoff=retention.bond_reference_cutoff(foundation, today),
            donor_cutoff=retention.donor_cutoff(foundation, today),
            access_log_cutoff=retention.access_log_cutoff(foundation, today),
            edit_url=reverse("foundations:edit", args=[foundation.pk]),
            preview=labelled_counts(preview.as_dict()) if preview is not None else None,
            page=page,
            runs=list(page.object_list),
            pending=list(requests.filter(status=DeletionStatus.REQUESTED)),
            decided=list(requests.exclude(status=DeletionStatus.REQUESTED)[:20]),
        )
        return context


class PreviewView(PrivacyIndexView):
    """POST only: a dry run of the retention rule for the foundation, shown on the index."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        if not self.can_act:
            raise PermissionDenied
        result = retention.purge(self.foundation, today=timezone.localdate(), dry_run=True, by=request.user)
        return self.render_to_response(self.get_context_data(preview=result))


class AccessLogFilterForm(TextLimits, forms.Form):
    """Filters of the access log; every field is optional."""

    user = forms.ModelChoiceField(queryset=User.objects.none(), required=False, label=_("Person"))
    kind = forms.ChoiceField(label=_("Record"), required=False)
    date_from = date_field(_("From"), required=False)
    date_to = date_field(_("To (included)"), required=False)

    def __init__(self, *args, people, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = people
        self.fields["user"].empty_label = _("Everyone")
        self.fields["kind"].choices = [("", _("All")), *AccessKind.choices]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned


class AccessLogView(PrivacyPage):
    template_name = "grants/admin/privacy/access_log.html"
    page_title = _("Access log")

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("privacy:index"), "label": _("Privacy")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entries = AccessLogEntry.objects.filter(foundation=self.foundation)
        people = User.objects.filter(pk__in=entries.values("user_id")).order_by("first_name", "email")
        form = AccessLogFilterForm(self.request.GET, people=people)
        if form.is_valid():
            data = form.cleaned_data
            if data["user"]:
                entries = entries.filter(user=data["user"])
            if data["kind"]:
                entries = entries.filter(kind=data["kind"])
            if data["date_from"]:
                entries = entries.filter(at__date__gte=data["date_from"])
            if data["date_to"]:
                entries = entries.filter(at__date__lte=data["date_to"])
        else:
            entries = entries.none()
        page = Paginator(entries.select_related("user").order_by("-at", "-pk"), PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        context.update(form=form, page=page, rows=list(page.object_list))
        return context


class RejectForm(TextLimits, forms.Form):
    reason = forms.CharField(
        label=_("Reason, shown to the organization"),
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text=_("For example: a payment of the grant is still being made; ask again after it."),
    )


class DeletionRequestView(PrivacyPage):
    """One deletion request of the foundation: what the organization holds here, and the decision."""

    template_name = "grants/admin/privacy/request.html"
    action = ""

    def dispatch(self, request, *args, **kwargs):
        self.deletion = (
            DataDeletionRequest.objects.select_related(
                "organization", "foundation", "requested_by", "decided_by"
            )
            .filter(pk=kwargs["pk"], foundation__in=privacy_foundations(request.user))
            .first()
        )
        if self.deletion is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    @cached_property
    def foundation(self) -> Foundation:
        return self.deletion.foundation

    def get_page_title(self):
        return _t("Deletion request #%(id)s") % {"id": self.deletion.pk}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("privacy:index") + f"?foundation={self.foundation.pk}", "label": _("Privacy")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, reject_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        deletion = self.deletion
        applications = Application.objects.filter(
            organization=deletion.organization, call__fund__foundation=self.foundation
        ).exclude(status=ApplicationStatus.DRAFT)
        context.update(
            deletion=deletion,
            applications=applications.count(),
            awarded=Award.objects.filter(application__in=applications).count(),
            reject_form=reject_form or RejectForm(),
            counts=labelled_counts(deletion.counts),
            can_decide=self.can_act and deletion.status == DeletionStatus.REQUESTED,
        )
        return context

    def post(self, request, *args, **kwargs):
        if self.action not in ("approve", "reject"):
            raise Http404
        if not self.can_act:
            raise PermissionDenied
        try:
            if self.action == "approve":
                if request.POST.get("confirm") != "yes":
                    messages.error(request, _t("Tick the box to confirm the deletion."))
                    return self.render_to_response(self.get_context_data())
                data_deletion.approve_request(self.deletion, by=request.user)
                messages.success(request, _t("The organization's data held by this foundation is deleted."))
            else:
                form = RejectForm(request.POST)
                if not form.is_valid():
                    return self.render_to_response(self.get_context_data(reject_form=form), status=400)
                data_deletion.reject_request(
                    self.deletion, by=request.user, reason=form.cleaned_data["reason"]
                )
                messages.success(request, _t("Request rejected. The organization was told why."))
        except DomainError as error:
            messages.error(request, error.message)
        return redirect("privacy:request", self.deletion.pk)


class PrivacyViewSet(CapabilityViewSet):
    """ "Privacy": retention, deletion requests and the access log, for admins (and auditors)."""

    icon = "lock"
    menu_label = _("Privacy")
    menu_order = 195
    url_prefix = "privacy"

    menu_capability = Capability.PRIVACY_READ

    def get_urlpatterns(self):
        return [
            path("", PrivacyIndexView.as_view(), name="index"),
            path("preview/", PreviewView.as_view(), name="preview"),
            path("access/", AccessLogView.as_view(), name="access_log"),
            path("requests/<int:pk>/", DeletionRequestView.as_view(), name="request"),
            path("requests/<int:pk>/approve/", DeletionRequestView.as_view(action="approve"), name="approve"),
            path("requests/<int:pk>/reject/", DeletionRequestView.as_view(action="reject"), name="reject"),
        ]
