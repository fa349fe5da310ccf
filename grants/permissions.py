"""Who may see and do what: decided here, from role and foundation, and nowhere else.

Objects of a foundation the user does not work for are treated as missing (404), so their
existence is not revealed.
"""

from collections.abc import Iterable

from django.db.models import QuerySet

from .models import Foundation, Role, StaffMembership


def foundation_ids(user, roles: Iterable[str] | None = None) -> set[int]:
    """Ids of the foundations ``user`` works for (in one of ``roles`` when given)."""
    if not getattr(user, "is_authenticated", False):
        return set()
    if user.is_superuser:
        return set(Foundation.objects.values_list("pk", flat=True))
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
    return StaffMembership.objects.filter(
        user=user, foundation_id=foundation_id, role__in=[str(role) for role in roles]
    ).exists()


def scope_to_foundations(queryset: QuerySet, user, foundation_path: str, roles=None) -> QuerySet:
    """Limit ``queryset`` to rows whose foundation (reached by ``foundation_path``) the user serves."""
    if getattr(user, "is_superuser", False):
        return queryset
    return queryset.filter(**{f"{foundation_path}__in": foundation_ids(user, roles)})


EDITOR_ROLES = (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER)
