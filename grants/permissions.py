"""Who may see and do what: decided here, from role and foundation, and nowhere else.

Objects of a foundation the user does not work for are treated as missing (404), so their
existence is not revealed.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar

from django.db.models import QuerySet
from django.db.models.signals import post_delete, post_save
from django.http import Http404

from .models import (
    Application,
    ApplicationStatus,
    Foundation,
    IntakeChannel,
    OrganizationMembership,
    Role,
    StaffMembership,
)

# The user's staff memberships, read once per request (``grants.middleware_roles``): maps a
# user's pk to its (foundation_id, role) pairs, and "all" to every foundation's id (superusers).
# None outside a request: every question then goes to the database.
_roles_memo: ContextVar[dict | None] = ContextVar("staff_roles_memo", default=None)


@contextmanager
def roles_memo():
    """Answer role questions from one read of the memberships while the block runs."""
    token = _roles_memo.set({})
    try:
        yield
    finally:
        _roles_memo.reset(token)


def _forget_roles(**kwargs):
    memo = _roles_memo.get()
    if memo is not None:
        memo.clear()


def _memberships(user) -> list[tuple[int, str]] | None:
    """The user's (foundation_id, role) pairs from the request's memo, or None outside a request."""
    memo = _roles_memo.get()
    if memo is None:
        return None
    if user.pk not in memo:
        memo[user.pk] = list(StaffMembership.objects.filter(user=user).values_list("foundation_id", "role"))
    return memo[user.pk]


def _all_foundation_ids() -> set[int]:
    memo = _roles_memo.get()
    if memo is None:
        return set(Foundation.objects.values_list("pk", flat=True))
    if "all" not in memo:
        memo["all"] = set(Foundation.objects.values_list("pk", flat=True))
    return set(memo["all"])


def foundation_ids(user, roles: Iterable[str] | None = None) -> set[int]:
    """Ids of the foundations ``user`` works for (in one of ``roles`` when given)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return _all_foundation_ids()
    memberships = _memberships(user)
    if memberships is not None:
        wanted = None if roles is None else {str(role) for role in roles}
        return {foundation for foundation, role in memberships if wanted is None or role in wanted}
    memberships = StaffMembership.objects.filter(user=user)
    if roles is not None:
        memberships = memberships.filter(role__in=list(roles))
    return set(memberships.values_list("foundation_id", flat=True))


def has_role(user, foundation: Foundation | int, *roles: Role) -> bool:
    """Whether ``user`` holds one of ``roles`` at ``foundation`` (superusers hold every role)."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser:
        return True
    foundation_id = foundation if isinstance(foundation, int) else foundation.pk
    wanted = {str(role) for role in roles}
    memberships = _memberships(user)
    if memberships is not None:
        return any(held == foundation_id and role in wanted for held, role in memberships)
    return StaffMembership.objects.filter(user=user, foundation_id=foundation_id, role__in=wanted).exists()


for _model in (StaffMembership, Foundation):
    post_save.connect(_forget_roles, sender=_model, dispatch_uid=f"forget_roles_{_model.__name__}")
    post_delete.connect(_forget_roles, sender=_model, dispatch_uid=f"forget_roles_delete_{_model.__name__}")


def scope_to_foundations(queryset: QuerySet, user, foundation_path: str, roles=None) -> QuerySet:
    """Limit ``queryset`` to rows whose foundation (reached by ``foundation_path``) the user serves."""
    if getattr(user, "is_superuser", False):
        return queryset
    return queryset.filter(**{f"{foundation_path}__in": foundation_ids(user, roles)})


EDITOR_ROLES = (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER)


# --- Applications ---------------------------------------------------------------------------

APPLICATION_STAFF_ROLES = (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER, Role.AUDITOR)
INTAKE_ROLES = (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER)


def is_organization_member(user, organization_id: int) -> bool:
    if not getattr(user, "is_authenticated", False):
        return False
    return OrganizationMembership.objects.filter(user=user, organization_id=organization_id).exists()


def application_actor(user, application) -> str | None:
    """How ``user`` may act on ``application``: "applicant", "intake_staff", "staff" or None.

    Applicants are members of the organization. Staff of the call's foundation see submitted
    applications; program officers also complete drafts they entered for a group by phone or
    in person (staff-assisted intake). Nobody else learns the application exists.
    """
    if not getattr(user, "is_authenticated", False):
        return None
    if is_organization_member(user, application.organization_id):
        return "applicant"
    foundation_id = application.call.fund.foundation_id
    if application.intake_channel != IntakeChannel.ONLINE and has_role(user, foundation_id, *INTAKE_ROLES):
        return "intake_staff"
    if application.status != ApplicationStatus.DRAFT and has_role(
        user, foundation_id, *APPLICATION_STAFF_ROLES
    ):
        return "staff"
    return None


def get_application_or_404(user, pk, *, for_edit: bool = False) -> tuple:
    """The application and the user's actor kind, or 404 (never 403: its existence stays private)."""
    application = (
        Application.objects.select_related("call__fund__foundation", "organization").filter(pk=pk).first()
    )
    if application is None:
        raise Http404
    actor = application_actor(user, application)
    if actor is None or (for_edit and actor not in ("applicant", "intake_staff")):
        raise Http404
    return application, actor


def applications_visible_to_staff(user, queryset=None):
    """Submitted (non-draft) applications of the foundations where ``user`` has a staff role."""
    queryset = queryset if queryset is not None else Application.objects.all()
    queryset = queryset.exclude(status=ApplicationStatus.DRAFT)
    return scope_to_foundations(queryset, user, "call__fund__foundation", APPLICATION_STAFF_ROLES)


# --- Privacy --------------------------------------------------------------------------------

# Foundation admins run the retention preview and decide deletion requests; auditors read the
# Privacy area (settings, runs, access log, requests) and change nothing.
PRIVACY_ADMIN_ROLES = (Role.FOUNDATION_ADMIN,)
PRIVACY_READ_ROLES = (Role.FOUNDATION_ADMIN, Role.AUDITOR)
