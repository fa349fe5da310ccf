"""The grantee's payout page: whether Stripe can pay the organization, and the way to set it up.

Only members of an organization that has an award from the foundation see it; anyone else 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.cache import never_cache

from grants.models import Foundation, Organization, PayoutStatus
from grants.payments.gateway import PaymentError
from grants.permissions import is_organization_member
from grants.services import payments
from grants.services.errors import DomainError


def _page_objects(request, foundation_slug: str, organization_id: int) -> tuple[Foundation, Organization]:
    foundation = get_object_or_404(Foundation, slug=foundation_slug)
    organization = get_object_or_404(Organization, pk=organization_id)
    if not is_organization_member(request.user, organization.pk) or not payments.may_set_up_payouts(
        organization, foundation
    ):
        raise Http404
    return foundation, organization


@never_cache
@login_required
def payouts(request, foundation_slug: str, organization_id: int):
    foundation, organization = _page_objects(request, foundation_slug, organization_id)
    if request.method == "POST":
        return_url = request.build_absolute_uri(payments.payout_page_path(foundation, organization))
        try:
            url = payments.start_onboarding(
                organization=organization, foundation=foundation, by=request.user, return_url=return_url
            )
        except (DomainError, PaymentError) as error:
            messages.error(request, error.message)
            return redirect(request.path)
        return redirect(url)
    payee = payments.organization_payee(foundation.pk, organization.pk)  # never a volunteer's own
    context = {
        "foundation": foundation,
        "organization": organization,
        "payee": payee,
        "status": payee.payout_status if payee else None,
        "statuses": PayoutStatus,
    }
    return render(request, "payouts/detail.html", context)
