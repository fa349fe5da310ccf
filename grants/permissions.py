"""Who may see and do what: decided here, from role and foundation, and nowhere else.

``CAPABILITIES`` is the table: for each ``Capability`` (a thing a person may do or see), the
staff roles that hold it. Code asks one question, ``can(user, capability, foundation)``, or scopes
rows with ``foundations_where(user, capability)`` / ``scope(queryset, user, capability, path)``;
it never names roles. Objects of a foundation the user does not work for are treated as missing
(404), so their existence is not revealed.
"""

from collections.abc import Iterable
from contextlib import contextmanager
from contextvars import ContextVar
from enum import StrEnum

from django.db.models import DateField, QuerySet
from django.db.models.functions import Coalesce, TruncDate
from django.db.models.signals import post_delete, post_save
from django.http import Http404

from .models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    Award,
    AwardStatus,
    Disbursement,
    Donation,
    ExportJob,
    Foundation,
    Fund,
    IntakeChannel,
    OrganizationMembership,
    ReportDueDate,
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


# --- The table: what each role may do --------------------------------------------------------


class Capability(StrEnum):
    """One thing a person may do or see at a foundation. Which roles hold it: ``CAPABILITIES``."""

    # Applications
    VIEW_APPLICATIONS = "view_applications"
    READ_SENSITIVE_ANSWERS = "read_sensitive_answers"
    INTAKE_APPLICATIONS = "intake_applications"
    DECIDE_APPLICATIONS = "decide_applications"
    REVIEW = "review"
    # Awards
    VIEW_AWARDS = "view_awards"
    MANAGE_AWARDS = "manage_awards"
    HOLD_PAYMENTS = "hold_payments"
    RECORD_GROUP_ANSWERS = "record_group_answers"
    # Money, payments, Stripe
    VIEW_MONEY = "view_money"
    RECORD_MONEY = "record_money"
    CONFIRM_RETURNS = "confirm_returns"
    VIEW_PAYMENTS = "view_payments"
    RELEASE_PAYMENTS = "release_payments"
    VIEW_WEBHOOK_EVENTS = "view_webhook_events"
    REAPPLY_WEBHOOK_EVENTS = "reapply_webhook_events"
    MANAGE_STRIPE_KEYS = "manage_stripe_keys"
    # Donations
    VIEW_DONORS = "view_donors"
    ACT_ON_DONATIONS = "act_on_donations"
    RESEND_RECEIPTS = "resend_receipts"
    # Spending reports
    VIEW_REPORTS = "view_reports"
    DECIDE_REPORTS = "decide_reports"
    # Stipends
    VIEW_STIPENDS = "view_stipends"
    MANAGE_STIPENDS = "manage_stipends"
    PAY_STIPENDS = "pay_stipends"
    # Bonds and vendors
    VIEW_BONDS = "view_bonds"
    DECIDE_BONDS = "decide_bonds"
    MANAGE_BONDS = "manage_bonds"
    READ_BOND_REFERENCES = "read_bond_references"
    REQUEST_VENDOR_PAYMENTS = "request_vendor_payments"
    MANAGE_VENDORS = "manage_vendors"
    # Oversight and privacy
    VIEW_ACTIVITY = "view_activity"
    EXPORT = "export"
    PRIVACY_READ = "privacy_read"
    PRIVACY_ADMIN = "privacy_admin"
    DECIDE_DELETIONS = "decide_deletions"
    MANAGE_EMAILS = "manage_emails"
    # Content
    EDIT_CONTENT = "edit_content"


_ADMIN, _OFFICER, _REVIEWER, _FINANCE, _AUDITOR = (
    Role.FOUNDATION_ADMIN,
    Role.PROGRAM_OFFICER,
    Role.REVIEWER,
    Role.FINANCE_OFFICER,
    Role.AUDITOR,
)

# Who may do what, at the foundations where they hold the role. Superusers (platform
# administrators) hold every capability everywhere. Program officers do not see donors; auditors
# read and change nothing; reviewers only see what they are assigned (decided per assignment).
CAPABILITIES: dict[Capability, frozenset[Role]] = {
    # Applications ---------------------------------------------------------------------------
    # List and read submitted applications (never drafts) and their reviews' summary.
    Capability.VIEW_APPLICATIONS: frozenset({_ADMIN, _OFFICER, _AUDITOR}),
    # Read the answers to questions marked sensitive (encrypted at rest).
    Capability.READ_SENSITIVE_ANSWERS: frozenset({_ADMIN, _OFFICER}),
    # Enter an application for a group by phone or in person, and complete that draft.
    Capability.INTAKE_APPLICATIONS: frozenset({_ADMIN, _OFFICER}),
    # The officer's work on an application: screen, assign reviewers, ask for more, decide.
    Capability.DECIDE_APPLICATIONS: frozenset({_ADMIN, _OFFICER}),
    # Be assigned to review, declare conflicts, score; the "My reviews" area.
    Capability.REVIEW: frozenset({_ADMIN, _OFFICER, _REVIEWER}),
    # Awards ---------------------------------------------------------------------------------
    # List and read awards, their payment schedules and activity.
    Capability.VIEW_AWARDS: frozenset({_ADMIN, _OFFICER, _FINANCE, _AUDITOR}),
    # Make, amend and cancel awards (set terms and payment schedules).
    Capability.MANAGE_AWARDS: frozenset({_ADMIN, _OFFICER}),
    # Record the answer of a group without a login to an award (accepted or declined, on paper,
    # by phone or in person) on its behalf.
    Capability.RECORD_GROUP_ANSWERS: frozenset({_ADMIN, _OFFICER}),
    # Hold a payment of an award, and lift the hold.
    Capability.HOLD_PAYMENTS: frozenset({_ADMIN, _OFFICER, _FINANCE}),
    # Money, payments, Stripe ----------------------------------------------------------------
    # Read a fund's figures and journal ("Fund money").
    Capability.VIEW_MONEY: frozenset({_ADMIN, _OFFICER, _FINANCE, _AUDITOR}),
    # Record income and opening balances; reverse such entries.
    Capability.RECORD_MONEY: frozenset({_ADMIN, _FINANCE}),
    # Confirm that grant money a grantee returned has arrived.
    Capability.CONFIRM_RETURNS: frozenset({_ADMIN, _FINANCE}),
    # Read payments to release, disbursements, reconciliation, payee accounts.
    Capability.VIEW_PAYMENTS: frozenset({_ADMIN, _FINANCE, _AUDITOR}),
    # Release installments, record a payment made outside Stripe, ask Stripe about a payment.
    Capability.RELEASE_PAYMENTS: frozenset({_ADMIN, _FINANCE}),
    # Read Stripe's webhook events (refused and flagged ones are part of the money story).
    Capability.VIEW_WEBHOOK_EVENTS: frozenset({_ADMIN, _FINANCE, _AUDITOR}),
    # Apply a flagged webhook event again (it moves money).
    Capability.REAPPLY_WEBHOOK_EVENTS: frozenset({_ADMIN, _FINANCE}),
    # Set or replace the foundation's Stripe keys.
    Capability.MANAGE_STRIPE_KEYS: frozenset({_ADMIN}),
    # Donations ------------------------------------------------------------------------------
    # See donations and who gave them (donor identity).
    Capability.VIEW_DONORS: frozenset({_ADMIN, _FINANCE, _AUDITOR}),
    # Record an offline gift, void one recorded by mistake.
    Capability.ACT_ON_DONATIONS: frozenset({_ADMIN, _FINANCE}),
    # Email a gift's receipt again.
    Capability.RESEND_RECEIPTS: frozenset({_ADMIN, _FINANCE}),
    # Spending reports -----------------------------------------------------------------------
    # Read grantees' spending reports, their receipts and program results.
    Capability.VIEW_REPORTS: frozenset({_ADMIN, _OFFICER, _FINANCE, _AUDITOR}),
    # Accept a report or ask for changes.
    Capability.DECIDE_REPORTS: frozenset({_ADMIN, _OFFICER}),
    # Stipends -------------------------------------------------------------------------------
    # Read stipend programs, volunteers' shifts and monthly batches.
    Capability.VIEW_STIPENDS: frozenset({_ADMIN, _OFFICER, _FINANCE, _AUDITOR}),
    # Set up stipend programs, compute and approve monthly batches.
    Capability.MANAGE_STIPENDS: frozenset({_ADMIN, _OFFICER}),
    # Pay an approved stipend batch (never one the same person approved).
    Capability.PAY_STIPENDS: frozenset({_ADMIN, _FINANCE}),
    # Bonds and vendors ----------------------------------------------------------------------
    # Read bond requests and bonds (never their government reference) and the bond partners.
    Capability.VIEW_BONDS: frozenset({_ADMIN, _OFFICER, _FINANCE, _AUDITOR}),
    # Approve or decline bond requests; mark organizations as bond partners.
    Capability.DECIDE_BONDS: frozenset({_ADMIN, _OFFICER}),
    # Post an approved bond, record its cancellation, refund or breach.
    Capability.MANAGE_BONDS: frozenset({_ADMIN, _FINANCE}),
    # Read and enter a bond's government reference (encrypted; finance staff only).
    Capability.READ_BOND_REFERENCES: frozenset({_FINANCE}),
    # Ask for or approve a payment to a vendor on a grantee's behalf.
    Capability.REQUEST_VENDOR_PAYMENTS: frozenset({_ADMIN, _OFFICER}),
    # Add vendors, send their payout setup link (release is RELEASE_PAYMENTS, four eyes).
    Capability.MANAGE_VENDORS: frozenset({_ADMIN, _FINANCE}),
    # Oversight and privacy ------------------------------------------------------------------
    # Read the activity log.
    Capability.VIEW_ACTIVITY: frozenset({_ADMIN, _FINANCE, _AUDITOR}),
    # Export the audit workbook and download it.
    Capability.EXPORT: frozenset({_ADMIN, _FINANCE, _AUDITOR}),
    # Read the Privacy area (settings, retention runs, access log, deletion requests).
    Capability.PRIVACY_READ: frozenset({_ADMIN, _AUDITOR}),
    # Act in the Privacy area: run the retention preview, approve or reject deletion requests.
    Capability.PRIVACY_ADMIN: frozenset({_ADMIN}),
    # Approve or reject an organization's request to delete its data (the service's own check).
    Capability.DECIDE_DELETIONS: frozenset({_ADMIN}),
    # Read the foundation's outgoing emails (the outbox) and send a failed one again.
    Capability.MANAGE_EMAILS: frozenset({_ADMIN}),
    # Content --------------------------------------------------------------------------------
    # Create and change funds, funding calls and decision messages (Wagtail pages: the role
    # groups' page permissions in grants/services/staff.py give the same roles).
    Capability.EDIT_CONTENT: frozenset({_ADMIN, _OFFICER}),
}


def roles_with(capability: Capability) -> list[Role]:
    """The roles that hold ``capability``, for queries about people (``role__in=...``)."""
    return sorted(CAPABILITIES[capability])


def can(user, capability: Capability, foundation: Foundation | int | None) -> bool:
    """Whether ``user`` may do ``capability`` at ``foundation`` (an object or its id).

    Superusers may do everything; anonymous users nothing; nobody anything at no foundation.
    """
    if foundation is None:
        return False
    return has_role(user, foundation, *CAPABILITIES[capability])


def foundations_where(user, capability: Capability) -> set[int]:
    """Ids of the foundations where ``user`` may do ``capability`` (every one for superusers)."""
    return foundation_ids(user, CAPABILITIES[capability])


def scope(queryset: QuerySet, user, capability: Capability, foundation_path: str) -> QuerySet:
    """The rows of ``queryset`` whose foundation (reached by ``foundation_path``) is one where
    ``user`` may do ``capability``; superusers keep every row."""
    return scope_to_foundations(queryset, user, foundation_path, CAPABILITIES[capability])


# --- What each area lists -------------------------------------------------------------------
# The rows an area of the admin shows, for the capability that opens it. A row that is not in
# these querysets does not exist for the user (404).


def activity_visible_to(user) -> QuerySet:
    """Activity entries of the foundations whose activity log ``user`` may read."""
    return scope(ActivityEntry.objects.all(), user, Capability.VIEW_ACTIVITY, "foundation")


def awards_visible_to(user) -> QuerySet:
    """Awards of the foundations where ``user`` may read awards."""
    return scope(Award.objects.all(), user, Capability.VIEW_AWARDS, "fund__foundation")


def funds_visible_to(user) -> QuerySet:
    """Funds whose money (figures and journal) ``user`` may read."""
    return scope(Fund.objects.all(), user, Capability.VIEW_MONEY, "foundation")


def disbursements_visible_to(user) -> QuerySet:
    """Disbursements of the foundations where ``user`` may read payments."""
    return scope(Disbursement.objects.all(), user, Capability.VIEW_PAYMENTS, "foundation")


def donations_visible_to(user) -> QuerySet:
    """Donations of the foundations where ``user`` may see donors, with the day each was
    received (``gift_date``: the day given for an offline gift, else the day it completed)."""
    return scope(Donation.objects.all(), user, Capability.VIEW_DONORS, "foundation").annotate(
        gift_date=Coalesce(
            "received_on", TruncDate("completed_at"), TruncDate("created_at"), output_field=DateField()
        )
    )


# Reports are listed for awards that report or have reported (a completed award's reports stay).
LISTED_REPORT_AWARD_STATES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE, AwardStatus.COMPLETED)


def due_dates_visible_to(user) -> QuerySet:
    """Report due dates of accepted, active or completed awards where ``user`` may read reports."""
    due_dates = ReportDueDate.objects.filter(award__status__in=LISTED_REPORT_AWARD_STATES)
    return scope(due_dates, user, Capability.VIEW_REPORTS, "award__fund__foundation")


def jobs_visible_to(user) -> QuerySet:
    """Export jobs of the foundations where ``user`` may export."""
    return scope(ExportJob.objects.all(), user, Capability.EXPORT, "foundation")


# --- Applications ---------------------------------------------------------------------------


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
    if application.intake_channel != IntakeChannel.ONLINE and can(
        user, Capability.INTAKE_APPLICATIONS, foundation_id
    ):
        return "intake_staff"
    if application.status != ApplicationStatus.DRAFT and can(
        user, Capability.VIEW_APPLICATIONS, foundation_id
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
    return scope(queryset, user, Capability.VIEW_APPLICATIONS, "call__fund__foundation")


# --- Emails ---------------------------------------------------------------------------------


def emails_visible_to(user):
    """The outbox rows ``user`` may see (Settings → Emails): their foundations' messages for
    those who manage emails; every message, foundation or not, for superusers."""
    from .models import OutgoingEmail

    return scope(OutgoingEmail.objects.all(), user, Capability.MANAGE_EMAILS, "foundation")
