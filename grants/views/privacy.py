"""Applicants' own data: "Download our data" and "Ask to delete our data" on the organization page.

Views only check who is asking and hand over to ``grants.services.data_export`` and
``grants.services.data_deletion``. Another organization's pages are 404, as elsewhere.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from grants.models import Application, ApplicationStatus, Award
from grants.services import data_deletion, data_export
from grants.services import organizations as organization_service


def _organization_or_404(request, pk: int):
    return get_object_or_404(organization_service.organizations_for(request.user), pk=pk)


@login_required
@require_GET
def organization_data(request, pk: int):
    """Any member downloads the organization's data as a ZIP (data.json and the uploaded files)."""
    organization = _organization_or_404(request, pk)
    archive = data_export.build_archive(organization)
    data_export.record_download(request, organization)
    response = FileResponse(
        archive.file, as_attachment=True, filename=archive.filename, content_type="application/zip"
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _delete_context(organization) -> dict:
    applications = Application.objects.filter(organization=organization)
    return {
        "organization": organization,
        "foundations": data_deletion.foundations_with_records(organization),
        "pending": list(data_deletion.pending_requests(organization).select_related("foundation")),
        "has_awards": Award.objects.filter(application__organization=organization).exists(),
        "drafts": applications.filter(status=ApplicationStatus.DRAFT).count(),
        "applications": applications.exclude(status=ApplicationStatus.DRAFT).count(),
    }


@login_required
@require_http_methods(["GET", "POST"])
def organization_delete(request, pk: int):
    """An owner reads what deletion means and asks for it (a member who is not an owner gets 403)."""
    organization = _organization_or_404(request, pk)
    if not organization_service.is_owner(request.user, organization):
        raise PermissionDenied
    context = _delete_context(organization)
    if request.method == "POST":
        if request.POST.get("confirm") != "yes":
            context["confirm_error"] = _("Tick the box to confirm that you want your data deleted.")
            return render(request, "organizations/delete.html", context, status=400)
        try:
            made = data_deletion.request_deletion(organization, by=request.user)
        except data_deletion.DeletionError as error:
            messages.error(request, error.message)
            return redirect("organizations:detail", pk=organization.pk)
        if len(made) == 1 and made[0].foundation_id is None:
            messages.success(request, _("Your organization's data is deleted."))
            return redirect("organizations:list")
        messages.success(
            request,
            _(
                "Your request is sent to each foundation that holds your records. You will get an email when they answer."
            ),
        )
        return redirect("organizations:detail", pk=organization.pk)
    return render(request, "organizations/delete.html", context)
