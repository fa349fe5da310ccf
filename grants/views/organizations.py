"""Applicants' organizations: list, create, profile, edit, members and invitations.

Views only read and hand changes to ``grants.services.organizations``. Another
organization's pages are 404 for non-members, so their existence is not revealed.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from grants.forms.organizations import PRIVACY_HELP, InviteForm, OrganizationForm
from grants.models import BondPartner, Organization, OrganizationInvite, OrganizationMembership
from grants.services import organizations as services


def _organization_or_404(request, pk: int) -> Organization:
    return get_object_or_404(services.organizations_for(request.user), pk=pk)


def _owner_organization(request, pk: int) -> Organization:
    organization = _organization_or_404(request, pk)
    if not services.is_owner(request.user, organization):
        raise PermissionDenied
    return organization


def _site_url(request) -> str:
    return request.build_absolute_uri("/").rstrip("/")


@login_required
def organization_list(request):
    """The organizations I belong to, and invitations waiting for my email address."""
    memberships = (
        OrganizationMembership.objects.filter(user=request.user)
        .select_related("organization")
        .order_by("organization__name")
    )
    return render(
        request,
        "organizations/list.html",
        {"memberships": memberships, "invites": services.pending_invites_for(request.user)},
    )


@login_required
@require_http_methods(["GET", "POST"])
def organization_create(request):
    form = OrganizationForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            organization = services.create_organization(by=request.user, **form.profile())
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request, _("Your organization is set up. You can now invite the people you work with.")
            )
            # Coming from "Apply": go back to the application once the organization exists.
            next_url = request.GET.get("next", "")
            if next_url and url_has_allowed_host_and_scheme(
                next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            ):
                return redirect(next_url)
            return redirect("organizations:detail", pk=organization.pk)
    return render(
        request, "organizations/form.html", {"form": form, "creating": True, "privacy_help": PRIVACY_HELP}
    )


def _detail_context(request, organization: Organization, invite_form=None) -> dict:
    is_owner = services.is_owner(request.user, organization)
    members = organization.memberships.select_related("user").order_by(
        "-role", "user__first_name", "user__email"
    )
    context = {
        "organization": organization,
        "members": members,
        "is_owner": is_owner,
        "owner_count": sum(1 for m in members if m.role == OrganizationMembership.Role.OWNER),
        "is_bond_partner": BondPartner.objects.filter(organization=organization).exists(),
    }
    if is_owner:
        context["invites"] = organization.invites.filter(status=OrganizationInvite.Status.PENDING).order_by(
            "-created_at"
        )
        context["invite_form"] = invite_form or InviteForm()
    return context


@login_required
def organization_detail(request, pk: int):
    """Profile, members and — for owners — open invitations and the invite form."""
    organization = _organization_or_404(request, pk)
    return render(request, "organizations/detail.html", _detail_context(request, organization))


@login_required
@require_http_methods(["GET", "POST"])
def organization_edit(request, pk: int):
    organization = _owner_organization(request, pk)
    form = OrganizationForm(request.POST or None, instance=organization)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_organization(
                organization=Organization.objects.get(pk=organization.pk), by=request.user, **form.profile()
            )
        except ValidationError as error:
            form.add_error(None, error)
        except services.OrganizationError as error:
            raise PermissionDenied(error.message) from None
        else:
            messages.success(request, _("The profile is saved."))
            return redirect("organizations:detail", pk=organization.pk)
    return render(
        request,
        "organizations/form.html",
        {"form": form, "organization": organization, "creating": False, "privacy_help": PRIVACY_HELP},
    )


@login_required
@require_POST
def organization_invite(request, pk: int):
    """Send an invitation; on a problem the profile page shows again with the form's errors."""
    organization = _owner_organization(request, pk)
    form = InviteForm(request.POST)
    if form.is_valid():
        try:
            invite = services.invite_member(
                organization=organization,
                email=form.cleaned_data["email"],
                by=request.user,
                language=form.cleaned_data["language"],
                site_url=_site_url(request),
            )
        except services.OrganizationError as error:
            form.add_error("email", error.message)
        else:
            messages.success(request, _("Invitation sent to %(email)s.") % {"email": invite.email})
            return redirect("organizations:detail", pk=organization.pk)
    context = _detail_context(request, organization, invite_form=form)
    return render(request, "organizations/detail.html", context, status=400)


@login_required
@require_POST
def invite_revoke(request, pk: int, invite_id: int):
    organization = _owner_organization(request, pk)
    invite = get_object_or_404(organization.invites, pk=invite_id)
    try:
        services.revoke_invite(invite=invite, by=request.user)
    except services.OrganizationError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("The invitation to %(email)s is withdrawn.") % {"email": invite.email})
    return redirect("organizations:detail", pk=organization.pk)


@login_required
@require_POST
def member_remove(request, pk: int, membership_id: int):
    """An owner removes a member, or a member leaves."""
    organization = _organization_or_404(request, pk)
    membership = get_object_or_404(organization.memberships.select_related("user"), pk=membership_id)
    leaving = membership.user_id == request.user.pk
    try:
        services.remove_member(membership=membership, by=request.user)
    except services.OrganizationError as error:
        messages.error(request, error.message)
        return redirect("organizations:detail", pk=organization.pk)
    if leaving:
        messages.success(request, _("You have left %(name)s.") % {"name": organization.name})
        return redirect("organizations:list")
    messages.success(request, _("%(person)s is no longer a member.") % {"person": membership.user})
    return redirect("organizations:detail", pk=organization.pk)


@require_http_methods(["GET", "POST"])
def invite_respond(request, token: str):
    """The link in the invitation email: accept or decline, signed in with the invited address.

    Unknown tokens are 404. Visitors who are not signed in are asked to sign in or create an
    account and come back here; a wrong account, or an invitation no longer open, gets a
    clear message (403 and 410).
    """
    invite = get_object_or_404(
        OrganizationInvite.objects.select_related("organization", "invited_by"), token=token
    )
    if not request.user.is_authenticated:
        if request.method == "POST":
            return redirect_to_login(request.path)
        return render(request, "organizations/invite_sign_in.html", {"invite": invite, "next": request.path})
    try:
        services.check_invite_for(invite=invite, user=request.user)
        if request.method == "POST":
            action = request.POST.get("action")
            if action == "accept":
                services.accept_invite(invite=invite, by=request.user)
                messages.success(request, _("Welcome to %(name)s.") % {"name": invite.organization.name})
                return redirect("organizations:detail", pk=invite.organization_id)
            if action == "decline":
                services.decline_invite(invite=invite, by=request.user)
                messages.success(request, _("You declined the invitation."))
                return redirect("organizations:list")
    except services.InviteNotForYou as error:
        return render(request, "organizations/invite_problem.html", {"problem": error.message}, status=403)
    except services.InviteClosed as error:
        return render(request, "organizations/invite_problem.html", {"problem": error.message}, status=410)
    return render(request, "organizations/invite.html", {"invite": invite})
