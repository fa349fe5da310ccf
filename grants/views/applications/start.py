"""Starting an application: eligibility screening, choosing the organization, the draft."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cms.models import call_page_for
from grants.models import FundingCall, OrganizationMembership
from grants.services import applications as service
from grants.services.errors import DomainError


@login_required
@never_cache
def apply_start(request, call_id: int):
    """Eligibility screening, then choosing the organization, then a draft is created."""
    call = get_object_or_404(FundingCall.objects.select_related("fund__foundation"), pk=call_id)
    page = call_page_for(call, translation.get_language())
    if page is None:
        raise Http404
    eligibility = page.get_eligibility_questions()
    memberships = list(
        OrganizationMembership.objects.filter(user=request.user).select_related("organization")
    )
    context = {"call": call, "page": None, "call_page": page, "eligibility": eligibility,
               "memberships": memberships, "answers": {}, "errors": []}  # fmt: skip
    if not call.is_open():
        context["errors"] = [_("This call is not open for applications.")]
        return render(request, "applications/apply_start.html", context, status=409)
    if request.method == "POST":
        given = {q.id: request.POST.get(f"eligibility_{q.id}", "") for q in eligibility}
        context["answers"] = given
        try:
            reasons = service.check_eligibility(eligibility, given)
        except DomainError as error:
            context["errors"] = [error.message]
            return render(request, "applications/apply_start.html", context, status=400)
        if reasons:
            return render(request, "applications/not_eligible.html", {**context, "reasons": reasons})
        organization_ids = {m.organization_id: m.organization for m in memberships}
        try:
            chosen = int(request.POST.get("organization", "0"))
        except ValueError:
            chosen = 0
        if chosen not in organization_ids:
            context["errors"] = [_("Choose the organization you apply for.")]
            return render(request, "applications/apply_start.html", context, status=400)
        try:
            application = service.start_application(
                call=call,
                organization=organization_ids[chosen],
                by=request.user,
                language=translation.get_language(),
            )
        except DomainError as error:
            context["errors"] = [error.message]
            return render(request, "applications/apply_start.html", context, status=409)
        return redirect("application_section", pk=application.pk, number=1)
    return render(request, "applications/apply_start.html", context)
