"""The capability table (grants/permissions.py) and the one question asked of it.

The table is written out again below as a grid, so that giving a role a capability, or taking
one away, is a deliberate change made in two places (and read in a review). Then every
role × capability pair is asked of ``can()`` for the member's own foundation and for another
one; superusers, anonymous visitors and people without a role are asked too; and
``foundations_where`` / ``scope`` / the areas' scoped lists are run on two foundations.

A guard at the end keeps role names out of the code that decides things: outside
grants/permissions.py, code asks about capabilities, never about roles.
"""

import ast
import datetime
from pathlib import Path

import pytest
from django.contrib.auth.models import AnonymousUser

from grants.models import ActivityEntry, ApplicationStatus, ExportJob, Fund, Role
from grants.permissions import (
    CAPABILITIES,
    Capability,
    activity_visible_to,
    applications_visible_to_staff,
    can,
    foundations_where,
    funds_visible_to,
    jobs_visible_to,
    roles_memo,
    roles_with,
    scope,
)
from grants.services.staff import add_staff
from tests import factories
from tests.grants.money_fixtures import staff

# Columns: foundation admin, program officer, reviewer, finance officer, auditor.
COLUMNS = (Role.FOUNDATION_ADMIN, Role.PROGRAM_OFFICER, Role.REVIEWER, Role.FINANCE_OFFICER, Role.AUDITOR)
EXPECTED = {
    #                                       adm off rev fin aud
    Capability.VIEW_APPLICATIONS:          "x   x   .   .   x",
    Capability.READ_SENSITIVE_ANSWERS:     "x   x   .   .   .",
    Capability.INTAKE_APPLICATIONS:        "x   x   .   .   .",
    Capability.DECIDE_APPLICATIONS:        "x   x   .   .   .",
    Capability.REVIEW:                     "x   x   x   .   .",
    Capability.VIEW_AWARDS:                "x   x   .   x   x",
    Capability.MANAGE_AWARDS:              "x   x   .   .   .",
    Capability.RECORD_GROUP_ANSWERS:       "x   x   .   .   .",
    Capability.HOLD_PAYMENTS:              "x   x   .   x   .",
    Capability.VIEW_MONEY:                 "x   x   .   x   x",
    Capability.RECORD_MONEY:               "x   .   .   x   .",
    Capability.CONFIRM_RETURNS:            "x   .   .   x   .",
    Capability.VIEW_PAYMENTS:              "x   .   .   x   x",
    Capability.RELEASE_PAYMENTS:           "x   .   .   x   .",
    Capability.VIEW_WEBHOOK_EVENTS:        "x   .   .   x   x",
    Capability.REAPPLY_WEBHOOK_EVENTS:     "x   .   .   x   .",
    Capability.MANAGE_STRIPE_KEYS:         "x   .   .   .   .",
    Capability.VIEW_DONORS:                "x   .   .   x   x",
    Capability.ACT_ON_DONATIONS:           "x   .   .   x   .",
    Capability.RESEND_RECEIPTS:            "x   .   .   x   .",
    Capability.VIEW_REPORTS:               "x   x   .   x   x",
    Capability.DECIDE_REPORTS:             "x   x   .   .   .",
    Capability.VIEW_STIPENDS:              "x   x   .   x   x",
    Capability.MANAGE_STIPENDS:            "x   x   .   .   .",
    Capability.PAY_STIPENDS:               "x   .   .   x   .",
    Capability.VIEW_BONDS:                 "x   x   .   x   x",
    Capability.DECIDE_BONDS:               "x   x   .   .   .",
    Capability.MANAGE_BONDS:               "x   .   .   x   .",
    Capability.READ_BOND_REFERENCES:       ".   .   .   x   .",
    Capability.REQUEST_VENDOR_PAYMENTS:    "x   x   .   .   .",
    Capability.MANAGE_VENDORS:             "x   .   .   x   .",
    Capability.VIEW_ACTIVITY:              "x   .   .   x   x",
    Capability.EXPORT:                     "x   .   .   x   x",
    Capability.PRIVACY_READ:               "x   .   .   .   x",
    Capability.PRIVACY_ADMIN:              "x   .   .   .   .",
    Capability.DECIDE_DELETIONS:           "x   .   .   .   .",
    Capability.MANAGE_EMAILS:              "x   .   .   .   .",
    Capability.EDIT_CONTENT:               "x   x   .   .   .",
}  # fmt: skip


def expected_roles(capability: Capability) -> frozenset[Role]:
    marks = EXPECTED[capability].split()
    assert len(marks) == len(COLUMNS) and set(marks) <= {"x", "."}, capability
    return frozenset(role for role, mark in zip(COLUMNS, marks, strict=True) if mark == "x")


# --- The table itself -----------------------------------------------------------------------


def test_every_capability_has_a_row_and_at_least_one_role():
    assert set(CAPABILITIES) == set(Capability)
    for capability, roles in CAPABILITIES.items():
        assert roles, f"{capability} is held by nobody"
        assert roles <= set(Role), capability


def test_the_table_is_the_one_written_here():
    assert set(EXPECTED) == set(Capability)
    wrong = {
        str(capability): (sorted(CAPABILITIES[capability]), sorted(expected_roles(capability)))
        for capability in Capability
        if CAPABILITIES[capability] != expected_roles(capability)
    }
    assert not wrong, wrong


def test_auditors_only_read_and_reviewers_only_review():
    """The two rules the table must never lose: an auditor changes nothing, a reviewer sees only
    what is assigned to them (the per-assignment checks start from REVIEW)."""
    auditor_may = {capability for capability, roles in CAPABILITIES.items() if Role.AUDITOR in roles}
    assert auditor_may == {
        Capability.VIEW_APPLICATIONS, Capability.VIEW_AWARDS, Capability.VIEW_MONEY, Capability.VIEW_PAYMENTS,
        Capability.VIEW_WEBHOOK_EVENTS, Capability.VIEW_DONORS, Capability.VIEW_REPORTS, Capability.VIEW_STIPENDS,
        Capability.VIEW_ACTIVITY, Capability.EXPORT, Capability.PRIVACY_READ, Capability.VIEW_BONDS,
    }  # fmt: skip
    assert {capability for capability, roles in CAPABILITIES.items() if Role.REVIEWER in roles} == {
        Capability.REVIEW
    }
    assert Role.PROGRAM_OFFICER not in CAPABILITIES[Capability.VIEW_DONORS]  # donors stay private


def test_roles_with_lists_the_row_in_a_stable_order():
    assert roles_with(Capability.REVIEW) == sorted(
        [Role.REVIEWER, Role.PROGRAM_OFFICER, Role.FOUNDATION_ADMIN]
    )
    assert roles_with(Capability.MANAGE_STRIPE_KEYS) == [Role.FOUNDATION_ADMIN]


# --- can() and foundations_where() for every role ------------------------------------------


@pytest.fixture
def two_foundations(db):
    return factories.FoundationFactory(name="Ours"), factories.FoundationFactory(name="Theirs")


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_a_member_of_one_foundation_can_what_the_table_says_there_and_nothing_elsewhere(
    role, two_foundations
):
    ours, theirs = two_foundations
    user = staff(ours, role)
    for capability in Capability:
        allowed = role in CAPABILITIES[capability]
        assert can(user, capability, ours) is allowed, (role, capability)
        assert can(user, capability, ours.pk) is allowed, (role, capability, "by id")
        assert can(user, capability, theirs) is False, (role, capability, "another foundation")
        assert can(user, capability, theirs.pk) is False, (role, capability, "another foundation by id")
        assert can(user, capability, None) is False
        assert foundations_where(user, capability) == ({ours.pk} if allowed else set()), (role, capability)


def test_the_reviewer_reviews_and_sees_nothing_else(two_foundations):
    ours, _theirs = two_foundations
    reviewer = staff(ours, Role.REVIEWER)
    assert [c for c in Capability if can(reviewer, c, ours)] == [Capability.REVIEW]
    assert foundations_where(reviewer, Capability.VIEW_APPLICATIONS) == set()


def test_a_superuser_can_everything_everywhere(two_foundations):
    ours, theirs = two_foundations
    root = factories.UserFactory(is_superuser=True, is_staff=True)
    for capability in Capability:
        assert can(root, capability, ours) and can(root, capability, theirs.pk)
        assert foundations_where(root, capability) == {ours.pk, theirs.pk}


def test_anonymous_visitors_and_people_without_a_role_can_nothing(two_foundations):
    ours, _theirs = two_foundations
    applicant = factories.UserFactory()
    factories.OrganizationMembershipFactory(user=applicant)
    for person in (AnonymousUser(), applicant):
        for capability in Capability:
            assert can(person, capability, ours) is False
            assert foundations_where(person, capability) == set()


def test_roles_at_two_foundations_are_kept_apart(two_foundations):
    ours, theirs = two_foundations
    person = staff(ours, Role.FINANCE_OFFICER)
    add_staff(person, foundation=theirs, role=Role.PROGRAM_OFFICER)
    assert foundations_where(person, Capability.VIEW_DONORS) == {ours.pk}  # officers do not see donors
    assert foundations_where(person, Capability.DECIDE_APPLICATIONS) == {theirs.pk}
    assert foundations_where(person, Capability.VIEW_MONEY) == {ours.pk, theirs.pk}
    assert can(person, Capability.RELEASE_PAYMENTS, ours) and not can(
        person, Capability.RELEASE_PAYMENTS, theirs
    )


def test_inside_a_request_the_memberships_are_read_once(two_foundations, django_assert_num_queries):
    ours, theirs = two_foundations
    user = staff(ours, Role.AUDITOR)
    with roles_memo(), django_assert_num_queries(1):
        assert can(user, Capability.EXPORT, ours)
        assert not can(user, Capability.RELEASE_PAYMENTS, ours)
        assert not can(user, Capability.EXPORT, theirs)
        assert foundations_where(user, Capability.VIEW_ACTIVITY) == {ours.pk}


# --- scope() and the areas' lists on two foundations -----------------------------------------


@pytest.fixture
def rows(two_foundations):
    """A fund, a submitted application, an activity entry and an export job in each foundation."""
    made = {}
    for foundation in two_foundations:
        fund = factories.FundFactory(foundation=foundation)
        call = factories.FundingCallFactory(fund=fund)
        application = factories.ApplicationFactory(call=call, status=ApplicationStatus.SUBMITTED)
        entry = ActivityEntry.objects.create(
            foundation=foundation, subject_type="fund", subject_id=fund.pk, action="test"
        )
        job = ExportJob.objects.create(
            foundation=foundation,
            date_from=datetime.date(2025, 1, 1),
            date_to=datetime.date(2025, 12, 31),
            requested_by=factories.UserFactory(),
        )
        made[foundation.pk] = {"fund": fund, "application": application, "entry": entry, "job": job}
    return made


def pks(queryset) -> set[int]:
    return set(queryset.values_list("pk", flat=True))


def test_scope_keeps_the_rows_of_the_foundations_where_the_user_can(two_foundations, rows):
    ours, theirs = two_foundations
    finance = staff(ours, Role.FINANCE_OFFICER)
    funds = Fund.objects.all()
    assert pks(scope(funds, finance, Capability.VIEW_DONORS, "foundation")) == {rows[ours.pk]["fund"].pk}
    assert pks(scope(funds, finance, Capability.DECIDE_APPLICATIONS, "foundation")) == set()
    assert pks(scope(ExportJob.objects.all(), finance, Capability.EXPORT, "foundation")) == {
        rows[ours.pk]["job"].pk
    }
    root = factories.UserFactory(is_superuser=True)
    assert pks(scope(funds, root, Capability.VIEW_DONORS, "foundation")) == pks(funds)
    assert pks(scope(funds, AnonymousUser(), Capability.VIEW_DONORS, "foundation")) == set()
    assert theirs.pk in rows  # both foundations have rows: the empty answers above are real refusals


@pytest.mark.parametrize(
    ("visible_to", "key", "seen_by", "not_seen_by"),
    [
        (funds_visible_to, "fund", Role.PROGRAM_OFFICER, Role.REVIEWER),
        (activity_visible_to, "entry", Role.AUDITOR, Role.PROGRAM_OFFICER),
        (jobs_visible_to, "job", Role.FINANCE_OFFICER, Role.PROGRAM_OFFICER),
        (applications_visible_to_staff, "application", Role.AUDITOR, Role.FINANCE_OFFICER),
    ],
    ids=["funds", "activity", "exports", "applications"],
)
def test_an_areas_list_shows_its_own_foundations_rows_only(
    two_foundations, rows, visible_to, key, seen_by, not_seen_by
):
    ours, theirs = two_foundations
    assert pks(visible_to(staff(ours, seen_by))) == {rows[ours.pk][key].pk}
    assert pks(visible_to(staff(ours, not_seen_by))) == set()
    assert pks(visible_to(staff(theirs, seen_by))) == {rows[theirs.pk][key].pk}
    root = factories.UserFactory(is_superuser=True)
    assert pks(visible_to(root)) == {rows[ours.pk][key].pk, rows[theirs.pk][key].pk}
    assert pks(visible_to(AnonymousUser())) == set()


# --- The guard: no roles outside grants/permissions.py ---------------------------------------

GRANTS = Path(__file__).resolve().parents[2] / "grants"
# Where a role is data, not a decision: the models define roles and their groups' names, the
# migrations and the seed commands create memberships, and the role groups get their Django
# and page permissions per role in services/staff.py.
ROLES_AS_DATA = {
    "services/staff.py": "each role's group and its Django model/page permissions",
    "services/foundations.py": "a new foundation's first admin is given the foundation admin role",
}
NOT_SCANNED = ("permissions.py", "models/", "migrations/", "management/commands/")
SCOPING_CALLS_WITH_ROLES = {"foundation_ids": 1, "scope_to_foundations": 3}  # positional args before roles


def role_decisions(source: str) -> list[str]:
    """Places in ``source`` that decide from role names instead of capabilities."""
    found = []
    for node in ast.walk(ast.parse(source)):
        line = getattr(node, "lineno", 0)
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id == "Role":
            found.append(f"line {line}: Role.{node.attr}")
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            if isinstance(target, ast.Name) and target.id.endswith("_ROLES"):
                found.append(f"line {line}: {target.id} = ...")
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name | ast.Attribute):
            name = node.func.id if isinstance(node.func, ast.Name) else node.func.attr
            if name == "has_role":
                found.append(f"line {line}: has_role(...)")
            if name in SCOPING_CALLS_WITH_ROLES and (
                len(node.args) > SCOPING_CALLS_WITH_ROLES[name]
                or any(k.arg == "roles" for k in node.keywords)
            ):
                found.append(f"line {line}: {name}(..., roles)")
            for keyword in node.keywords:
                if (keyword.arg or "").endswith("role__in") and not (
                    isinstance(keyword.value, ast.Call)
                    and getattr(keyword.value.func, "id", getattr(keyword.value.func, "attr", ""))
                    == "roles_with"
                ):
                    found.append(f"line {line}: {keyword.arg}= not from roles_with()")
    return found


def test_the_guard_sees_each_way_of_deciding_by_role():
    source = (
        "OFFICER_ROLES = (Role.PROGRAM_OFFICER,)\n"
        "has_role(user, foundation, *OFFICER_ROLES)\n"
        "foundation_ids(user, OFFICER_ROLES)\n"
        "scope_to_foundations(qs, user, 'foundation', roles=OFFICER_ROLES)\n"
        "User.objects.filter(staff_memberships__role__in=['auditor'])\n"
    )
    assert len(role_decisions(source)) == 6
    fine = (
        "can(user, Capability.EXPORT, foundation)\n"
        "foundation_ids(user)\n"
        "scope_to_foundations(qs, user, 'foundation')\n"
        "User.objects.filter(staff_memberships__role__in=roles_with(Capability.REVIEW))\n"
        "OrganizationMembership.Role.OWNER\n"
    )
    assert role_decisions(fine) == []


def test_no_code_outside_permissions_decides_by_role():
    scanned, offenders = 0, {}
    for path in sorted(GRANTS.rglob("*.py")):
        relative = path.relative_to(GRANTS).as_posix()
        if relative.startswith(NOT_SCANNED) or relative in ROLES_AS_DATA:
            continue
        scanned += 1
        found = role_decisions(path.read_text(encoding="utf-8"))
        if found:
            offenders[relative] = found
    assert scanned > 50  # the scan really walked grants/admin, services, views, forms...
    assert not offenders, (
        "Ask grants.permissions (can / foundations_where / scope / roles_with with a Capability) "
        f"instead of naming roles: {offenders}"
    )
