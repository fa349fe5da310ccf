"""A bond partner's pages: its bond requests, a new request, withdrawing one.

Only members of an organization that is a bond partner of some foundation see them; anyone
else gets 404, so the pages do not reveal which organizations are partners. The rules are
``grants.services.bonds``'; what a partner reads never includes the bond's reference.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grants.forms.bonds import NEVER_IDENTIFY, BondRequestForm
from grants.models import BondPartner, BondStatus, Organization
from grants.services import bonds as service
from grants.services import organizations as organizations_service
from grants.services.errors import DomainError

WITHDRAWABLE = (BondStatus.REQUESTED, BondStatus.APPROVED)


def _partner_or_404(request, pk: int) -> Organization:
    organization = get_object_or_404(organizations_service.organizations_for(request.user), pk=pk)
    if not BondPartner.objects.filter(organization=organization).exists():
        raise Http404
    return organization


@login_required
def bond_list(request, pk: int):
    organization = _partner_or_404(request, pk)
    rows = list(
        organization.bonds.select_related("fund", "foundation", "call").order_by("-requested_at", "-pk")
    )
    for bond in rows:
        bond.can_withdraw = bond.status in WITHDRAWABLE
    return render(
        request,
        "organizations/bonds.html",
        {
            "organization": organization,
            "bonds": rows,
            "can_request": service.bond_funds_for(organization).exists(),
        },
    )


@login_required
@require_http_methods(["GET", "POST"])
def bond_new(request, pk: int):
    organization = _partner_or_404(request, pk)
    funds = service.bond_funds_for(organization).order_by("foundation__name", "name")
    form = BondRequestForm(request.POST or None, funds=funds, organization=organization)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_data
            try:
                service.request_bond(
                    partner=organization, fund=data["fund"], by=request.user, label=data["label"],
                    facility=data["facility"], urgency=data["urgency"], amount=form.money(),
                    obligor=data["obligor"], notes=data["notes"], call=data["call"], award=data["award"],
                )  # fmt: skip
            except service.BondRefused as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Your bond request was sent. The foundation decides on a clock."))
                return redirect("organizations:bonds", pk=organization.pk)
    return render(
        request,
        "organizations/bond_form.html",
        {
            "organization": organization,
            "form": form,
            "never_identify": NEVER_IDENTIFY,
            "has_funds": funds.exists(),
        },
        status=status,
    )


@login_required
@require_POST
def bond_withdraw(request, pk: int, bond_id: int):
    organization = _partner_or_404(request, pk)
    bond = get_object_or_404(organization.bonds, pk=bond_id)
    try:
        service.withdraw(bond, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The request %(label)s is withdrawn.") % {"label": bond.label})
    return redirect("organizations:bonds", pk=organization.pk)
