"""Applicant organizations: creating them, editing the profile, members and invitations.

Reads other areas rely on:

- ``organizations_for(user)``: the organizations ``user`` belongs to (a queryset).
- ``is_member(user, organization)``: whether ``user`` belongs to ``organization``.

Members of an organization share its applications; the applications area asks these two.

Every change writes an ``ActivityEntry`` (subject "organization", no foundation: an
organization is not any one foundation's). Notes carry ids, never email addresses.
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from cms.branding import site_name
from grants.models import (
    ActivityEntry,
    LegalStatus,
    Organization,
    OrganizationInvite,
    OrganizationMembership,
    User,
)

SUBJECT_TYPE = "organization"
PROFILE_FIELDS = (
    "name",
    "mission",
    "region_served",
    "languages",
    "legal_status",
    "tax_id",
    "sponsor_name",
    "sponsor_tax_id",
    "publish_name",
)
_EIN = re.compile(r"^(\d{2})-?(\d{7})$")


class OrganizationError(Exception):
    """A change to an organization that is not allowed: the person is not an owner, the
    invitation is no longer open or belongs to someone else, the last owner would be
    removed, and so on. ``message`` is translated and can be shown as it is."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class InviteNotForYou(OrganizationError):
    """The invitation was sent to a different email address than the signed-in account's."""


class InviteClosed(OrganizationError):
    """The invitation was already accepted, declined or revoked."""


# --- Reads -----------------------------------------------------------------------------


def organizations_for(user) -> QuerySet[Organization]:
    """The organizations ``user`` is a member (or owner) of; none for anonymous visitors."""
    if not getattr(user, "is_authenticated", False):
        return Organization.objects.none()
    return Organization.objects.filter(memberships__user=user)


def is_member(user, organization: Organization) -> bool:
    """Whether ``user`` belongs to ``organization`` (as owner or member)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return OrganizationMembership.objects.filter(organization=organization, user=user).exists()


def is_owner(user, organization: Organization) -> bool:
    """Whether ``user`` is an owner of ``organization``: owners edit it and manage people."""
    if not getattr(user, "is_authenticated", False):
        return False
    return OrganizationMembership.objects.filter(
        organization=organization, user=user, role=OrganizationMembership.Role.OWNER
    ).exists()


def pending_invites_for(user) -> QuerySet[OrganizationInvite]:
    """Open invitations sent to ``user``'s email address."""
    if not getattr(user, "is_authenticated", False):
        return OrganizationInvite.objects.none()
    return OrganizationInvite.objects.filter(
        email__iexact=user.email, status=OrganizationInvite.Status.PENDING
    ).select_related("organization", "invited_by")


def normalize_ein(value: str) -> str:
    """An EIN as NN-NNNNNNN; nine digits without the hyphen are accepted and formatted.

    Raises ``ValidationError`` for anything else.
    """
    match = _EIN.match((value or "").strip().replace(" ", ""))
    if not match:
        raise ValidationError(
            _("Enter the tax id (EIN) as two digits, a hyphen and seven digits, like 12-3456789."),
            code="invalid_ein",
        )
    return f"{match.group(1)}-{match.group(2)}"


# --- Organization profile ----------------------------------------------------------------


def _log(organization: Organization, *, by, action: str, from_state="", to_state="", note=""):
    ActivityEntry.objects.create(
        foundation=None,
        actor=by,
        subject_type=SUBJECT_TYPE,
        subject_id=organization.pk,
        action=action,
        from_state=from_state,
        to_state=to_state,
        note=note,
    )


def _apply_profile(organization: Organization, values: dict) -> None:
    """Set the profile fields, keeping only the tax ids the legal status needs."""
    unknown = set(values) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"Not organization profile fields: {sorted(unknown)}")
    for field, value in values.items():
        setattr(organization, field, (value or "").strip() if isinstance(value, str) else value)
    status = organization.legal_status
    if status != LegalStatus.NONPROFIT:
        organization.tax_id = ""
    if status != LegalStatus.FISCALLY_SPONSORED:
        organization.sponsor_name = ""
        organization.sponsor_tax_id = ""
    errors = {}
    for field in ("tax_id", "sponsor_tax_id"):
        if getattr(organization, field):
            try:
                setattr(organization, field, normalize_ein(getattr(organization, field)))
            except ValidationError as error:
                errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    organization.full_clean(exclude=["created_by"])


def _require_owner(user, organization: Organization) -> None:
    if not is_owner(user, organization):
        raise OrganizationError(_("Only an owner of this organization can do that."))


def create_organization(
    *,
    by: User,
    name: str,
    region_served: str,
    legal_status: str,
    mission: str = "",
    languages: str = "",
    tax_id: str = "",
    sponsor_name: str = "",
    sponsor_tax_id: str = "",
    publish_name: bool = False,
) -> Organization:
    """Create an organization with ``by`` as its owner.

    Raises ``ValidationError`` (per field) when the profile is incomplete for its legal
    status or a tax id is not an EIN. Tax ids the legal status does not need are dropped.
    """
    organization = Organization(created_by=by)
    _apply_profile(
        organization,
        {
            "name": name,
            "mission": mission,
            "region_served": region_served,
            "languages": languages,
            "legal_status": legal_status,
            "tax_id": tax_id,
            "sponsor_name": sponsor_name,
            "sponsor_tax_id": sponsor_tax_id,
            "publish_name": bool(publish_name),
        },
    )
    with transaction.atomic():
        organization.save()
        OrganizationMembership.objects.create(
            organization=organization, user=by, role=OrganizationMembership.Role.OWNER
        )
        _log(organization, by=by, action="organization.created", to_state=organization.legal_status)
    return organization


def update_organization(*, organization: Organization, by: User, **changes) -> Organization:
    """Change profile fields (keyword arguments named as in ``PROFILE_FIELDS``).

    Only owners may. Raises ``OrganizationError`` for others and ``ValidationError`` for an
    invalid profile (the organization is then left unchanged in the database).
    """
    _require_owner(by, organization)
    before = {field: getattr(organization, field) for field in PROFILE_FIELDS}
    try:
        _apply_profile(organization, changes)
    except ValidationError:
        for field, value in before.items():
            setattr(organization, field, value)
        raise
    changed = [field for field in PROFILE_FIELDS if getattr(organization, field) != before[field]]
    if not changed:
        return organization
    with transaction.atomic():
        organization.save(update_fields=changed)
        _log(
            organization,
            by=by,
            action="organization.updated",
            from_state=before["legal_status"],
            to_state=organization.legal_status,
            note="changed: " + ", ".join(changed),
        )
    return organization


# --- Invitations ---------------------------------------------------------------------------


def invite_member(
    *, organization: Organization, email: str, by: User, language: str, site_url: str
) -> OrganizationInvite:
    """Invite ``email`` to join ``organization`` and send the invitation email.

    Only owners may invite. One open invitation per address and organization; inviting a
    current member is refused. The email goes out after the transaction commits, in the
    invitee's preferred language when they already have an account, else in ``language``.
    ``site_url`` is the portal's address (scheme and host) for the link in the email.
    """
    _require_owner(by, organization)
    email = (email or "").strip().lower()
    if OrganizationMembership.objects.filter(organization=organization, user__email__iexact=email).exists():
        raise OrganizationError(_("This person is already a member of the organization."))
    if OrganizationInvite.objects.filter(
        organization=organization, email__iexact=email, status=OrganizationInvite.Status.PENDING
    ).exists():
        raise OrganizationError(_("This address already has an open invitation."))
    try:
        with transaction.atomic():
            invite = OrganizationInvite.objects.create(organization=organization, email=email, invited_by=by)
            _log(
                organization,
                by=by,
                action="invite.sent",
                to_state=OrganizationInvite.Status.PENDING,
                note=f"invite {invite.pk}",
            )
    except IntegrityError:
        # A second click raced the first past the check above.
        raise OrganizationError(_("This address already has an open invitation.")) from None
    transaction.on_commit(
        lambda: send_invite_email.enqueue(invite_id=invite.pk, language=language, site_url=site_url)
    )
    return invite


def check_invite_for(*, invite: OrganizationInvite, user: User) -> None:
    """Whether ``user`` may answer ``invite`` now: raises ``InviteNotForYou`` when they are
    signed in with another address, ``InviteClosed`` when it is no longer open."""
    if invite.email.lower() != (user.email or "").lower():
        raise InviteNotForYou(
            _(
                "This invitation was sent to a different email address. Sign out, then sign in "
                "or create an account with the address that received the invitation."
            )
        )
    check_invite_open(invite=invite)


def check_invite_open(*, invite: OrganizationInvite) -> None:
    """Raise ``InviteClosed``, saying why, unless ``invite`` is still pending."""
    if invite.status == OrganizationInvite.Status.PENDING:
        return
    reasons = {
        OrganizationInvite.Status.ACCEPTED: _("This invitation has already been accepted."),
        OrganizationInvite.Status.DECLINED: _("This invitation has already been declined."),
        OrganizationInvite.Status.REVOKED: _("This invitation was withdrawn by the organization."),
    }
    raise InviteClosed(reasons.get(invite.status, _("This invitation is no longer open.")))


def _close_invite(invite: OrganizationInvite, *, by: User, to_state: str, for_invitee: bool):
    """Lock the invitation and check it may move from pending to ``to_state``."""
    invite = (
        OrganizationInvite.objects.select_for_update(of=("self",))
        .select_related("organization")
        .get(pk=invite.pk)
    )
    if for_invitee:
        check_invite_for(invite=invite, user=by)
    else:
        check_invite_open(invite=invite)
    from_state = invite.status
    invite.status = to_state
    return invite, from_state


def revoke_invite(*, invite: OrganizationInvite, by: User) -> OrganizationInvite:
    """Withdraw an open invitation. Only owners may; a closed one raises ``InviteClosed``."""
    _require_owner(by, invite.organization)
    with transaction.atomic():
        invite, from_state = _close_invite(
            invite, by=by, to_state=OrganizationInvite.Status.REVOKED, for_invitee=False
        )
        invite.save(update_fields=["status"])
        _log(
            invite.organization,
            by=by,
            action="invite.revoked",
            from_state=from_state,
            to_state=invite.status,
            note=f"invite {invite.pk}",
        )
    return invite


def accept_invite(*, invite: OrganizationInvite, by: User) -> OrganizationMembership:
    """``by`` accepts the invitation and becomes a member.

    ``by`` must be signed in with the invited address (``InviteNotForYou`` otherwise) and the
    invitation must still be open (``InviteClosed`` otherwise).
    """
    with transaction.atomic():
        invite, from_state = _close_invite(
            invite, by=by, to_state=OrganizationInvite.Status.ACCEPTED, for_invitee=True
        )
        invite.responded_at = timezone.now()
        invite.save(update_fields=["status", "responded_at"])
        membership, _created = OrganizationMembership.objects.get_or_create(
            organization=invite.organization, user=by, defaults={"role": OrganizationMembership.Role.MEMBER}
        )
        _log(
            invite.organization,
            by=by,
            action="invite.accepted",
            from_state=from_state,
            to_state=invite.status,
            note=f"invite {invite.pk}, membership {membership.pk}",
        )
    return membership


def decline_invite(*, invite: OrganizationInvite, by: User) -> OrganizationInvite:
    """``by`` declines the invitation; same checks as ``accept_invite``."""
    with transaction.atomic():
        invite, from_state = _close_invite(
            invite, by=by, to_state=OrganizationInvite.Status.DECLINED, for_invitee=True
        )
        invite.responded_at = timezone.now()
        invite.save(update_fields=["status", "responded_at"])
        _log(
            invite.organization,
            by=by,
            action="invite.declined",
            from_state=from_state,
            to_state=invite.status,
            note=f"invite {invite.pk}",
        )
    return invite


# --- Members ---------------------------------------------------------------------------


def remove_member(*, membership: OrganizationMembership, by: User) -> None:
    """Remove a member. Owners may remove anyone; anyone may leave. The last owner can
    neither be removed nor leave (``OrganizationError``): an organization always has one."""
    organization = membership.organization
    if membership.user_id != by.pk:
        _require_owner(by, organization)
    with transaction.atomic():
        # Lock every membership of the organization so two owners cannot remove each other.
        memberships = list(
            OrganizationMembership.objects.select_for_update()
            .filter(organization=organization)
            .order_by("pk")
        )
        current = next((m for m in memberships if m.pk == membership.pk), None)
        if current is None:
            raise OrganizationError(_("This person is no longer a member."))
        owners = [m for m in memberships if m.role == OrganizationMembership.Role.OWNER]
        if current.role == OrganizationMembership.Role.OWNER and len(owners) == 1:
            raise OrganizationError(
                _("An organization needs at least one owner, so its last owner cannot be removed.")
            )
        _log(
            organization,
            by=by,
            action="member.removed" if current.user_id != by.pk else "member.left",
            from_state=current.role,
            note=f"user {current.user_id}",
        )
        current.delete()


# --- Email -----------------------------------------------------------------------------


def invite_language(invite: OrganizationInvite, fallback: str) -> str:
    """The invitee's preferred language if they already have an account, else ``fallback``."""
    account = User.objects.filter(email__iexact=invite.email).only("preferred_language").first()
    language = account.preferred_language if account else fallback
    return language if language in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@task()
def send_invite_email(*, invite_id: int, language: str, site_url: str) -> None:
    """Send the invitation email (background task). Does nothing if it is no longer open."""
    invite = (
        OrganizationInvite.objects.select_related("organization", "invited_by")
        .filter(pk=invite_id, status=OrganizationInvite.Status.PENDING)
        .first()
    )
    if invite is None:
        return
    language = invite_language(invite, language)
    with translation.override(language):
        path = reverse("organizations:invite", kwargs={"token": invite.token})
        context = {
            "organization": invite.organization,
            "inviter": invite.invited_by,
            "invite_url": site_url.rstrip("/") + path,
            "email": invite.email,
            "site_name": site_name(language=language),
        }
        subject = " ".join(render_to_string("emails/organization_invite_subject.txt", context).split())
        text = render_to_string("emails/organization_invite.txt", context)
        html = render_to_string("emails/organization_invite.html", context)
    message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, [invite.email])
    message.attach_alternative(html, "text/html")
    message.kind = "organization_invite"
    message.send()
