"""Staff roles: the Django groups behind each role, and linking staff to foundations."""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from wagtail.models import GroupPagePermission, Page

from grants.models import ROLE_GROUP_NAMES, Foundation, Role, StaffMembership

DECISION_MESSAGE_PERMISSIONS = [
    "view_decisionmessage",
    "add_decisionmessage",
    "change_decisionmessage",
    "delete_decisionmessage",
]

# Model permissions each role's group holds in Wagtail admin. Which rows a person may see is
# decided by ``grants.permissions`` from their foundation; these only open the menus.
ROLE_MODEL_PERMISSIONS = {
    Role.FOUNDATION_ADMIN: ["view_application", "view_foundation", "change_foundation", "view_fund", "add_fund",
                            "change_fund", "view_fundingcall", "add_fundingcall", "change_fundingcall",
                            *DECISION_MESSAGE_PERMISSIONS, "view_award"],
    Role.PROGRAM_OFFICER: ["view_application", "view_foundation", "view_fund", "add_fund", "change_fund",
                           "view_fundingcall", "add_fundingcall", "change_fundingcall",
                           *DECISION_MESSAGE_PERMISSIONS, "view_award"],
    # Reviewers reach applications only through their own assignments ("My reviews").
    Role.REVIEWER: [],
    Role.FINANCE_OFFICER: ["view_foundation", "view_fund", "view_fundingcall", "view_award"],
    Role.AUDITOR: ["view_application", "view_foundation", "view_fund", "view_fundingcall",
                   "view_decisionmessage", "view_award"],
}  # fmt: skip
ROLE_PAGE_PERMISSIONS = {
    Role.FOUNDATION_ADMIN: ["add_page", "change_page", "publish_page"],
    Role.PROGRAM_OFFICER: ["add_page", "change_page", "publish_page"],
}


@transaction.atomic
def ensure_role_groups() -> dict[str, Group]:
    """Create (or bring up to date) one group per staff role. Safe to run repeatedly."""
    admin_access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    groups = {}
    root = Page.get_first_root_node()
    for role, name in ROLE_GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(
                content_type__app_label="grants", codename__in=ROLE_MODEL_PERMISSIONS[role]
            )
        )
        group.permissions.set([admin_access, *permissions])
        for codename in ROLE_PAGE_PERMISSIONS.get(role, []):
            GroupPagePermission.objects.get_or_create(
                group=group, page=root, permission=Permission.objects.get(codename=codename)
            )
        groups[role] = group
    return groups


@transaction.atomic
def add_staff(user, *, foundation: Foundation, role: Role) -> StaffMembership:
    """Give ``user`` ``role`` at ``foundation``: membership row, group, and admin access."""
    groups = ensure_role_groups()
    membership, _ = StaffMembership.objects.get_or_create(user=user, foundation=foundation, role=role)
    user.groups.add(groups[role])
    return membership
