"""The applications' viewset: the list, the detail and the extra URLs (intake, batch, compare, actions)."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSet

from grants.admin.applications.batch import BatchView
from grants.admin.applications.decisions import ApplicationActionView
from grants.admin.applications.inspect import ApplicationCompareView, ApplicationInspectView
from grants.admin.applications.intake import intake_view
from grants.admin.applications.listing import (
    EXPORT_COLUMNS,
    LIST_COLUMNS,
    ApplicationFilterSet,
    ApplicationIndexView,
)
from grants.models import Application


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
