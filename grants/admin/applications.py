"""Officers' view of applications in Wagtail admin, and staff-assisted intake.

Lists show no answers at all; the detail shows answers and attachments (answers to sensitive
questions are hidden from auditors). Every row is scoped to the user's foundations: an
application of another foundation is a 404.
"""

import django_filters
from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone, translation
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.viewsets.model import ModelViewSet
from wagtail.admin.widgets.button import HeaderButton

from grants.models import (
    Application,
    ApplicationStatus,
    Fund,
    FundingCall,
    IntakeChannel,
    LegalStatus,
    Organization,
    Role,
)
from grants.permissions import (
    INTAKE_ROLES,
    applications_visible_to_staff,
    foundation_ids,
    has_role,
)
from grants.services import applications as service
from grants.services.errors import DomainError
from grants.views.applications import answer_rows, sections_for


def _calls_for(request):
    if request is None:
        return FundingCall.objects.none()
    return FundingCall.objects.filter(fund__foundation__in=foundation_ids(request.user)).select_related(
        "fund"
    )


def _funds_for(request):
    if request is None:
        return Fund.objects.none()
    return Fund.objects.filter(foundation__in=foundation_ids(request.user))


class ApplicationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[c for c in ApplicationStatus.choices if c[0] != ApplicationStatus.DRAFT], label=_("Status")
    )
    call = django_filters.ModelChoiceFilter(queryset=_calls_for, label=_("Funding call"))
    fund = django_filters.ModelChoiceFilter(field_name="call__fund", queryset=_funds_for, label=_("Fund"))
    intake_channel = django_filters.ChoiceFilter(choices=IntakeChannel.choices, label=_("Received"))

    class Meta:
        model = Application
        fields = ["status", "call", "fund", "intake_channel"]


class ApplicationIndexView(IndexView):
    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if foundation_ids(self.request.user, INTAKE_ROLES):
            buttons.append(
                HeaderButton(
                    _("Enter an application (phone or in person)"),
                    url=reverse("applications:intake"),
                    icon_name="plus",
                )  # fmt: skip
            )
        return buttons

    def get_base_queryset(self):
        return applications_visible_to_staff(self.request.user).select_related(
            "call__fund__foundation", "organization"
        )


class ApplicationInspectView(InspectView):
    template_name = "grants/admin/application_inspect.html"

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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        application = self.object
        rows = answer_rows(application, sections_for(application))
        foundation_id = application.call.fund.foundation_id
        sees_sensitive = has_role(
            self.request.user, foundation_id, Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER
        )
        if not sees_sensitive:
            for block in rows:
                block["items"] = [item for item in block["items"] if not item["question"].sensitive]
        context.update(application=application, answers=rows, sees_sensitive=sees_sensitive)
        return context


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
    list_display = [
        "reference",
        "organization",
        "call",
        "status",
        "requested_amount",
        "submitted_at",
        "intake_channel",
    ]
    search_fields = ["reference", "organization__name", "title"]
    form_fields = ["status"]  # never edited here: the admin offers no add or edit permission

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [path("intake/", intake_view, name="intake")]


class IntakeForm(forms.Form):
    call = forms.ModelChoiceField(queryset=FundingCall.objects.none(), label=_("Funding call"))
    channel = forms.ChoiceField(
        choices=[c for c in IntakeChannel.choices if c[0] != IntakeChannel.ONLINE], label=_("Received")
    )
    language = forms.ChoiceField(
        choices=[("en", _("English")), ("es", _("Spanish"))], label=_("Language of the form")
    )
    organization = forms.ModelChoiceField(
        queryset=Organization.objects.all(), required=False, label=_("Existing organization"),
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
        self.fields["call"].queryset = (
            FundingCall.objects.open_at(timezone.now())
            .filter(fund__foundation__in=foundation_ids(user, INTAKE_ROLES))
            .select_related("fund")
        )

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("organization") and not cleaned.get("name"):
            self.add_error("name", _("Choose an existing organization or give the group's name."))
        if not cleaned.get("organization") and not cleaned.get("region_served"):
            self.add_error("region_served", _("Say which region the group serves."))
        return cleaned


def intake_view(request):
    if not foundation_ids(request.user, INTAKE_ROLES):
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
