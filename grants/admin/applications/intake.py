"""Staff-assisted intake: an application received by phone, on paper or in person."""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from grants.forms.limits import TextLimits
from grants.models import FundingCall, IntakeChannel, LegalStatus, Organization
from grants.permissions import Capability, foundations_where
from grants.scoping_organizations import is_related, organizations_related_to
from grants.services import applications as service
from grants.services.errors import DomainError


class IntakeForm(TextLimits, forms.Form):
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
