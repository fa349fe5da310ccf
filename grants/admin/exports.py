"""Audit exports in Wagtail admin (menu "Exports", URL namespace ``exports``).

Auditors, foundation admins and finance officers pick a period, funds and a format; the file is
built at once or in the background (the job's page refreshes itself every 3 seconds while it
is being prepared, with a plain ``<meta http-equiv="refresh">``, no script). Downloads are
private and never cached. A job of a foundation the user does not export for is a 404.
"""

from django import forms
from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views import View
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import ExportFormat, ExportStatus, Foundation, Fund
from grants.permissions import Capability, foundations_where, jobs_visible_to
from grants.services import exports as export_service
from grants.services.errors import DomainError
from grants.views.files import private_file_response

RUNNING = (ExportStatus.QUEUED, ExportStatus.RUNNING)


def export_foundation_ids(user) -> set[int]:
    return foundations_where(user, Capability.EXPORT)


class ExportForm(TextLimits, forms.Form):
    foundation = forms.ModelChoiceField(queryset=Foundation.objects.none(), label=_("Foundation"))
    date_from = date_field(_("From"))
    date_to = date_field(_("To"), help_text=_("Both days are included."))
    funds = forms.ModelMultipleChoiceField(
        queryset=Fund.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        label=_("Funds"),
        help_text=_("Leave all unticked to export every fund."),
    )
    format = forms.ChoiceField(
        choices=ExportFormat.choices, initial=ExportFormat.XLSX, widget=forms.RadioSelect, label=_("Format")
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        ids = export_foundation_ids(user)
        self.fields["foundation"].queryset = Foundation.objects.filter(pk__in=ids).order_by("name")
        self.fields["funds"].queryset = Fund.objects.filter(foundation_id__in=ids).order_by(
            "foundation__name", "name"
        )
        if len(ids) == 1:
            self.fields["foundation"].initial = next(iter(ids))
            self.fields["foundation"].widget = forms.HiddenInput()
        today = timezone.localdate()
        self.fields["date_from"].initial = today.replace(month=1, day=1)
        self.fields["date_to"].initial = today

    def clean(self):
        data = super().clean()
        start, end = data.get("date_from"), data.get("date_to")
        if start and end and end < start:
            self.add_error("date_to", _t("The end of the period must be on or after its start."))
        foundation = data.get("foundation")
        if foundation and any(fund.foundation_id != foundation.pk for fund in data.get("funds", [])):
            self.add_error("funds", _t("Choose funds of this foundation only."))
        return data


class ExportsIndexView(WagtailAdminTemplateMixin, TemplateView):
    """The form, and the user's recent exports."""

    template_name = "grants/admin/exports/index.html"
    page_title = _("Exports")
    header_icon = "download"

    def dispatch(self, request, *args, **kwargs):
        if not export_foundation_ids(request.user):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": _("Exports")}]

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or ExportForm(user=self.request.user)
        context["jobs"] = export_service.recent_exports(self.request.user)
        return context

    def post(self, request, *args, **kwargs):
        form = ExportForm(request.POST, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                job = export_service.request_export(
                    foundation=data["foundation"],
                    by=request.user,
                    date_from=data["date_from"],
                    date_to=data["date_to"],
                    funds=list(data["funds"]),
                    format=data["format"],
                    language=translation.get_language(),
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                if job.status == ExportStatus.READY:
                    messages.success(request, _t("Your export is ready to download."))
                elif job.status == ExportStatus.FAILED:
                    messages.error(
                        request, _t("The export failed. Try again, or tell the portal's administrator.")
                    )
                else:
                    messages.info(request, _t("Your export is being prepared. This page shows its progress."))
                return redirect("exports:detail", job.pk)
        messages.error(request, _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ExportDetailView(WagtailAdminTemplateMixin, TemplateView):
    """One job: its status and progress (refreshing while it runs) and the download link."""

    template_name = "grants/admin/exports/detail.html"
    header_icon = "download"

    def dispatch(self, request, *args, **kwargs):
        self.job = (
            jobs_visible_to(request.user)
            .select_related("foundation", "requested_by")
            .prefetch_related("funds")
            .filter(pk=kwargs["pk"])
            .first()
        )
        if self.job is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _t("Export of %(start)s – %(end)s") % {"start": self.job.date_from, "end": self.job.date_to}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("exports:index"), "label": _("Exports")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        job = self.job
        context.update(
            job=job,
            running=job.status in RUNNING,
            downloadable=job.status == ExportStatus.READY
            and bool(job.file)
            and (job.expires_at is None or job.expires_at > timezone.now()),
        )
        return context


class ExportDownloadView(View):
    """The private file (no-store), while the link is valid."""

    def get(self, request, pk):
        job = jobs_visible_to(request.user).select_related("foundation").filter(pk=pk).first()
        if job is None:
            raise Http404
        try:
            download = export_service.export_download(job, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("exports:detail", job.pk)
        return private_file_response(
            download.file, filename=download.filename, content_type=download.content_type
        )


class ExportsMenuItem(MenuItem):
    def is_shown(self, request):
        return bool(export_foundation_ids(request.user))


class ExportsViewSet(ViewSet):
    """ "Exports": URL namespace ``exports``."""

    icon = "download"
    menu_label = _("Exports")
    menu_order = 190
    add_to_admin_menu = True
    menu_item_class = ExportsMenuItem
    url_prefix = "exports"

    def get_urlpatterns(self):
        return [
            path("", ExportsIndexView.as_view(), name="index"),
            path("<int:pk>/", ExportDetailView.as_view(), name="detail"),
            path("<int:pk>/download/", ExportDownloadView.as_view(), name="download"),
        ]
