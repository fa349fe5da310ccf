"""Staff roles: the Django groups behind each role, and linking staff to foundations.

Two kinds of groups:

- one global group per role (``ROLE_GROUP_NAMES``): admin access and the model permissions that
  open the portal's menus; which rows a person sees is decided by ``grants.permissions``;
- one group per (foundation, role) (``FoundationRoleGroup``): Wagtail's page permissions on the
  foundation's section pages and collection permissions on its collection, so Wagtail's own
  explorer, search, reports and choosers show a person their foundations' part of the site only.

Every staff member is in both, for each of their memberships; signals on ``StaffMembership``
keep the per-foundation groups in step when a membership is made or removed by any path.
"""

from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models.signals import post_delete, post_save
from wagtail.models import Collection, GroupCollectionPermission, GroupPagePermission

from cms.sections import ensure_foundation_section
from grants.models import ROLE_GROUP_NAMES, Foundation, FoundationRoleGroup, Role, StaffMembership

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

# Wagtail page permissions on the foundation's section pages (every language), and so on every
# page beneath them. Deleting pages stays with platform administrators (superusers). Wagtail has
# no read-only page permission: finance officers, auditors and reviewers read the published site.
EDITOR_PAGE_PERMISSIONS = ["add_page", "change_page", "publish_page", "lock_page", "unlock_page"]
ROLE_PAGE_PERMISSIONS = {
    Role.FOUNDATION_ADMIN: EDITOR_PAGE_PERMISSIONS,
    Role.PROGRAM_OFFICER: EDITOR_PAGE_PERMISSIONS,
}

# Wagtail collection permissions on the foundation's collection. Editors upload, edit and pick
# images and documents (deleting stays with superusers, as for pages); auditors may pick them,
# Wagtail's nearest to reading (it has no "view" permission for images or documents).
EDITOR_COLLECTION_PERMISSIONS = [
    ("wagtailimages", "add_image"),
    ("wagtailimages", "change_image"),
    ("wagtailimages", "choose_image"),
    ("wagtaildocs", "add_document"),
    ("wagtaildocs", "change_document"),
    ("wagtaildocs", "choose_document"),
]
ROLE_COLLECTION_PERMISSIONS = {
    Role.FOUNDATION_ADMIN: EDITOR_COLLECTION_PERMISSIONS,
    Role.PROGRAM_OFFICER: EDITOR_COLLECTION_PERMISSIONS,
    Role.AUDITOR: [("wagtailimages", "choose_image"), ("wagtaildocs", "choose_document")],
}


@transaction.atomic
def ensure_role_groups() -> dict[str, Group]:
    """Create (or bring up to date) one global group per staff role. Safe to run repeatedly.

    These groups hold admin access and model permissions only: any page or collection
    permission they hold (older versions gave page permissions at the root of the tree) is
    removed, as it would reach every foundation's pages.
    """
    admin_access = Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    groups = {}
    for role, name in ROLE_GROUP_NAMES.items():
        group, _ = Group.objects.get_or_create(name=name)
        permissions = list(
            Permission.objects.filter(
                content_type__app_label="grants", codename__in=ROLE_MODEL_PERMISSIONS[role]
            )
        )
        group.permissions.set([admin_access, *permissions])
        groups[role] = group
    GroupPagePermission.objects.filter(group__in=groups.values()).delete()
    GroupCollectionPermission.objects.filter(group__in=groups.values()).delete()
    return groups


def foundation_group_name(foundation: Foundation, role: Role | str) -> str:
    """The group's name as people read it in Wagtail's group admin: "Program officers · valley"."""
    return f"{ROLE_GROUP_NAMES[Role(role)]} · {foundation.slug}"


def foundation_group(foundation: Foundation, role: Role | str) -> Group:
    """The group of ``role`` at ``foundation``, created (empty of permissions) when missing."""
    link = (
        FoundationRoleGroup.objects.select_related("group").filter(foundation=foundation, role=role).first()
    )
    name = foundation_group_name(foundation, role)
    if link is None:
        group, _ = Group.objects.get_or_create(name=name)
        link = FoundationRoleGroup.objects.create(foundation=foundation, role=role, group=group)
    elif link.group.name != name:  # the foundation's slug changed
        link.group.name = name
        link.group.save(update_fields=["name"])
    return link.group


def _foundation_collection(foundation: Foundation) -> Collection:
    collection = foundation.collection
    if collection is None:
        # Wagtail's migration makes the root collection; a database emptied since has none.
        root = Collection.get_first_root_node() or Collection.add_root(name="Root")
        collection = root.add_child(name=foundation.name)
        foundation.collection = collection
        foundation.save(update_fields=["collection"])
    elif collection.name != foundation.name:
        collection.name = foundation.name
        collection.save(update_fields=["name"])
    return collection


def _permissions(pairs) -> list[Permission]:
    return [
        Permission.objects.get(content_type__app_label=app_label, codename=codename)
        for app_label, codename in pairs
    ]


@transaction.atomic
def sync_foundation_access(foundation: Foundation) -> dict[str, Group]:
    """Bring ``foundation``'s part of Wagtail in step: section, collection, groups, members.

    Idempotent. Creates the foundation's section page in every language (when the site has
    home pages) and its collection (a child of the root collection, named after it); gives each
    role's group exactly the page permissions of ``ROLE_PAGE_PERMISSIONS`` on the section pages
    and the collection permissions of ``ROLE_COLLECTION_PERMISSIONS`` on the collection (any
    other page or collection permission of the group is removed); makes the group's members
    exactly the people holding that role there. Returns the groups by role.
    """
    sections = list(ensure_foundation_section(foundation).values())
    collection = _foundation_collection(foundation)
    groups = {}
    for role in Role:
        group = foundation_group(foundation, role)
        page_permissions = _permissions(("wagtailcore", name) for name in ROLE_PAGE_PERMISSIONS.get(role, []))
        wanted_pages = {(page.pk, permission.pk) for page in sections for permission in page_permissions}
        for held in GroupPagePermission.objects.filter(group=group):
            if (held.page_id, held.permission_id) not in wanted_pages:
                held.delete()
        for page_id, permission_id in wanted_pages:
            GroupPagePermission.objects.get_or_create(
                group=group, page_id=page_id, permission_id=permission_id
            )
        collection_permissions = _permissions(ROLE_COLLECTION_PERMISSIONS.get(role, []))
        wanted_collection = {(collection.pk, permission.pk) for permission in collection_permissions}
        for held in GroupCollectionPermission.objects.filter(group=group):
            if (held.collection_id, held.permission_id) not in wanted_collection:
                held.delete()
        for collection_id, permission_id in wanted_collection:
            GroupCollectionPermission.objects.get_or_create(
                group=group, collection_id=collection_id, permission_id=permission_id
            )
        members = StaffMembership.objects.filter(foundation=foundation, role=role).values_list(
            "user_id", flat=True
        )
        group.user_set.set(list(members))
        groups[role] = group
    return groups


@transaction.atomic
def add_staff(user, *, foundation: Foundation, role: Role) -> StaffMembership:
    """Give ``user`` ``role`` at ``foundation``: membership row, groups, and admin access."""
    groups = ensure_role_groups()
    membership, _ = StaffMembership.objects.get_or_create(user=user, foundation=foundation, role=role)
    user.groups.add(groups[role])
    sync_foundation_access(foundation)
    return membership


def _sync_member(user_id: int, foundation_id: int) -> None:
    """Put the user in exactly the groups of the roles they hold at the foundation."""
    held = set(
        StaffMembership.objects.filter(user_id=user_id, foundation_id=foundation_id).values_list(
            "role", flat=True
        )
    )
    for link in FoundationRoleGroup.objects.filter(foundation_id=foundation_id).select_related("group"):
        if link.role in held:
            link.group.user_set.add(user_id)
        else:
            link.group.user_set.remove(user_id)


def _membership_saved(sender, instance: StaffMembership, raw=False, **kwargs):
    if raw:  # loading fixtures: the groups come with them
        return
    foundation_group(instance.foundation, instance.role)
    _sync_member(instance.user_id, instance.foundation_id)


def _membership_deleted(sender, instance: StaffMembership, **kwargs):
    _sync_member(instance.user_id, instance.foundation_id)


def connect_membership_signals():
    """Keep each (foundation, role) group's members in step with ``StaffMembership`` rows,
    however a row is made or removed (services, the shell, a foundation or user deleted)."""
    post_save.connect(_membership_saved, sender=StaffMembership, dispatch_uid="staff_membership_group_add")
    post_delete.connect(
        _membership_deleted, sender=StaffMembership, dispatch_uid="staff_membership_group_remove"
    )
