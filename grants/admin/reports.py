"""Spending reports in Wagtail admin: the list of due reports, a report with its versions and
the officer's decision, returned money for finance to confirm, and each fund's program results.

Admins, program officers, finance officers and auditors of the award's foundation read; admins
and officers accept a report or ask for changes; admins and finance officers confirm returned
money. Another foundation's rows are 404 on every URL. Rules are the service's.
"""

from types import SimpleNamespace

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from cms.models import report_metrics
from grants.budget_labels import category_labels
from grants.forms.reports import ConfirmReturnForm, RequestChangesForm
from grants.metrics import display_value
from grants.models import Fund, GrantReturn, ReportStatus, ReturnStatus
from grants.permissions import Capability, can, due_dates_visible_to, foundations_where
from grants.services import reports as service
from grants.services.access_log import record_access
from grants.services.errors import DomainError

NOT_STARTED = "not_started"
OPEN_STATES = (ReportStatus.DRAFT, ReportStatus.CHANGES_REQUESTED)
WAITING_STATES = (ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED)


def _overdue_q(today):
    return Q(due_date__lt=today) & (Q(report__isnull=True) | Q(report__status__in=OPEN_STATES))


class _ReportAdminView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("reports_admin:index"), "label": _("Spending reports")},
            {"url": "", "label": self.get_page_title()},
        ]


class ReportIndexView(_ReportAdminView):
    template_name = "grants/admin/reports/index.html"
    page_title = _("Spending reports")

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, Capability.VIEW_REPORTS):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        today = timezone.localdate()
        rows = due_dates_visible_to(self.request.user).select_related(
            "award__application__organization", "award__fund", "report"
        )
        funds = Fund.objects.filter(
            foundation__in=foundations_where(self.request.user, Capability.VIEW_REPORTS)
        ).order_by("name")
        status = self.request.GET.get("status", "")
        fund = self.request.GET.get("fund", "")
        overdue = self.request.GET.get("overdue") == "1"
        if status == NOT_STARTED:
            rows = rows.filter(report__isnull=True)
        elif status in ReportStatus.values:
            rows = rows.filter(report__status=status)
        if fund.isdigit():
            rows = rows.filter(award__fund_id=int(fund))
        if overdue:
            rows = rows.filter(_overdue_q(today))
        rows = list(rows.order_by("due_date", "pk")[:500])
        for row in rows:
            report = getattr(row, "report", None)
            row.spending_report = report
            row.is_overdue = row.due_date < today and (report is None or report.status in OPEN_STATES)
            row.waiting = report is not None and report.status in WAITING_STATES
        context.update(
            rows=rows,
            funds=funds,
            statuses=[(NOT_STARTED, _t("Not started")), *ReportStatus.choices],
            selected={"status": status, "fund": fund, "overdue": overdue},
        )
        return context


class ReportView(_ReportAdminView):
    """One due report: what the grantee filed, its versions, and the officer's actions."""

    template_name = "grants/admin/reports/report.html"
    action = ""

    def dispatch(self, request, *args, **kwargs):
        self.due = (
            due_dates_visible_to(request.user)
            .select_related(
                "award__application__organization",
                "award__application__call__fund",
                "award__fund__foundation",
            )  # fmt: skip
            .filter(pk=kwargs["due_id"])
            .first()
        )
        if self.due is None:
            raise Http404
        self.report = getattr(self.due, "report", None)
        foundation_id = self.due.award.fund.foundation_id
        self.can_decide = can(request.user, Capability.DECIDE_REPORTS, foundation_id)
        self.can_confirm = can(request.user, Capability.CONFIRM_RETURNS, foundation_id)
        if self.action in ("accept", "request_changes") and not self.can_decide:
            raise PermissionDenied
        if self.action == "confirm_return" and not self.can_confirm:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"{self.due.award.reference} · {self.due.get_kind_display()}"

    def get_context_data(self, changes_form=None, confirm_forms=None, **kwargs):
        context = super().get_context_data(**kwargs)
        record_access(self.request, "spending_report", self.due, self.due.award.fund.foundation_id)
        award, report = self.due.award, self.report
        language = translation.get_language()
        labels = dict(category_labels(award, language))
        context.update(
            due=self.due, award=award, report=report, can_decide=False, can_confirm=self.can_confirm
        )
        if report is not None:
            definitions = report_metrics(award.application.call, language)
            explanations = report.variance_explanations or {}
            rows = [
                SimpleNamespace(**{**vars(row), "label": labels.get(row.position, row.label),
                                   "explanation": explanations.get(row.position, "")})
                for row in service.budget_rows(report)
            ]  # fmt: skip
            expenditures = list(report.expenditures.all())
            for expenditure in expenditures:
                expenditure.category_label = labels.get(expenditure.category, expenditure.category)
            known = {d["key"] for d in definitions}
            metrics = [
                {"label": d["label"], "value": display_value(d, (report.metrics or {}).get(d["key"], ""))}
                for d in definitions
            ]
            metrics += [{"label": k, "value": v} for k, v in (report.metrics or {}).items() if k not in known]
            context.update(
                rows=rows,
                expenditures=expenditures,
                metrics=metrics,
                versions=[_readable_version(v, labels) for v in report.versions.order_by("-number")],
                can_decide=self.can_decide and report.status in WAITING_STATES,
                changes_form=changes_form or RequestChangesForm(),
            )
        if self.can_confirm or can(self.request.user, Capability.VIEW_REPORTS, award.fund.foundation_id):
            returns = list(award.returns.select_related("announced_by", "received_by"))
            confirm_forms = confirm_forms or {}
            for grant_return in returns:
                grant_return.confirm_form = confirm_forms.get(grant_return.pk) or ConfirmReturnForm(
                    initial={"received_on": timezone.localdate()}, prefix=f"return-{grant_return.pk}"
                )
            context["returns"] = returns
        context["award_money"] = service.award_money(award)
        return context

    def post(self, request, *args, **kwargs):
        back = reverse("reports_admin:report", args=[self.due.pk])
        if self.action == "confirm_return":
            return self._confirm_return(request, back)
        if self.report is None or self.action not in ("accept", "request_changes"):
            raise Http404
        try:
            if self.action == "accept":
                service.accept_report(self.report, by=request.user)
                messages.success(request, _t("The report was accepted."))
            else:
                form = RequestChangesForm(request.POST)
                if not form.is_valid():
                    messages.error(request, _t("Write what the grantee should change."))
                    return self.render_to_response(self.get_context_data(changes_form=form), status=400)
                service.request_changes(self.report, by=request.user, message=form.cleaned_data["message"])
                messages.success(request, _t("The grantee was asked to change the report."))
        except DomainError as error:
            messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(), status=400)
        return redirect(back)

    def _confirm_return(self, request, back):
        grant_return = GrantReturn.objects.filter(
            pk=kwargs_return_id(request), award=self.due.award, status=ReturnStatus.ANNOUNCED
        ).first()
        if grant_return is None:
            raise Http404
        form = ConfirmReturnForm(request.POST, prefix=f"return-{grant_return.pk}")
        if form.is_valid():
            try:
                service.confirm_return(
                    grant_return, by=request.user, received_on=form.cleaned_data["received_on"]
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _t("The returned money was recorded as received."))
                return redirect(back + "#returns")
        messages.error(request, _t("The returned money was not recorded."))
        context = self.get_context_data(confirm_forms={grant_return.pk: form})
        return self.render_to_response(context, status=400)


def kwargs_return_id(request) -> int:
    value = request.POST.get("return_id", "")
    if not value.isdigit():
        raise Http404
    return int(value)


def _readable_version(version, labels: dict) -> dict:
    """A submitted version's snapshot as rows a person can read, whatever keys it kept."""
    snapshot = version.snapshot or {}
    expenditures = []
    for item in snapshot.get("expenditures", []) or []:
        expenditures.append(
            {**item, "category_label": labels.get(str(item.get("category")), item.get("category"))}
        )
    known = ("expenditures", "metrics", "narrative", "period_start", "period_end", "variance_explanations")
    return {
        "version": version,
        "period_start": snapshot.get("period_start"),
        "period_end": snapshot.get("period_end"),
        "narrative": snapshot.get("narrative", ""),
        "metrics": snapshot.get("metrics") or {},
        "explanations": {
            labels.get(str(k), k): v for k, v in (snapshot.get("variance_explanations") or {}).items()
        },
        "expenditures": expenditures,
        "other": {k: v for k, v in snapshot.items() if k not in known},
    }


class ResultsView(_ReportAdminView):
    """Program results: each fund's reported metrics added up (a fund, or the list of funds)."""

    template_name = "grants/admin/reports/results.html"
    page_title = _("Program results")

    def dispatch(self, request, *args, **kwargs):
        self.funds = Fund.objects.filter(
            foundation__in=foundations_where(request.user, Capability.VIEW_REPORTS)
        ).order_by("name")
        self.fund = None
        if "fund_id" in kwargs:
            self.fund = self.funds.filter(pk=kwargs["fund_id"]).first()
            if self.fund is None:
                raise Http404
        elif not self.funds.exists():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        if self.fund is None:
            return _t("Program results")
        return _t("Program results: %(fund)s") % {"fund": self.fund.name}

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(funds=self.funds, fund=self.fund)
        if self.fund is not None:
            context["totals"] = service.fund_metric_totals(
                self.fund, metric_definitions=_fund_metrics(self.fund)
            )
        return context


def _fund_metrics(fund) -> list[dict]:
    """The metric definitions of every call of ``fund``, in the reader's language, once per key."""
    language = translation.get_language()
    seen, definitions = set(), []
    for call in fund.calls.all():
        for definition in report_metrics(call, language):
            if definition["key"] not in seen:
                seen.add(definition["key"])
                definitions.append(definition)
    return definitions


class ReportsMenuItem(MenuItem):
    def is_shown(self, request):
        return bool(foundations_where(request.user, Capability.VIEW_REPORTS))


class ReportsViewSet(ViewSet):
    """ "Reports": URL namespace ``reports_admin``."""

    icon = "doc-full"
    menu_label = _("Spending reports")
    menu_order = 157
    add_to_admin_menu = True
    menu_item_class = ReportsMenuItem
    url_prefix = "reports"

    def get_urlpatterns(self):
        return [
            path("", ReportIndexView.as_view(), name="index"),
            path("<int:due_id>/", ReportView.as_view(), name="report"),
            path("<int:due_id>/accept/", ReportView.as_view(action="accept"), name="accept"),
            path(
                "<int:due_id>/changes/", ReportView.as_view(action="request_changes"), name="request_changes"
            ),
            path("<int:due_id>/returns/", ReportView.as_view(action="confirm_return"), name="confirm_return"),
            path("results/", ResultsView.as_view(), name="results"),
            path("results/<int:fund_id>/", ResultsView.as_view(), name="fund_results"),
        ]
