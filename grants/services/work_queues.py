"""What waits for each person: the work queues shown on the Wagtail admin home.

One function per queue, each a plain read: it asks ``grants.permissions`` where the person may
act, runs one query for the first items and one for the count, whatever the number of items or
foundations (the admin home must stay fast for a person in several foundations). Nothing here
changes state, and nothing depends on a daily job having run: a payment falls due on its date,
read from the date, not from a state the job flips.

Each ``Item`` names its foundation and links to the page where the action is taken.
"""

import datetime
from dataclasses import dataclass, field

from django.conf import settings
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.timesince import timesince, timeuntil
from django.utils.translation import gettext as _

from cms.templatetags.portal_tags import money
from grants.models import (
    Application,
    ApplicationStatus,
    AwardStatus,
    Bond,
    BondStatus,
    Disbursement,
    DisbursementStatus,
    ExportJob,
    ExportStatus,
    Installment,
    InstallmentStatus,
    ReportStatus,
    ReviewAssignment,
    SpendingReport,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.permissions import Capability, foundations_where

# How many items a queue shows; the rest is counted and reached through the queue's page.
SHOWN = 10
# Applications an officer still has to decide (submitted, being screened or reviewed, answered).
WAITING_FOR_DECISION = (
    ApplicationStatus.SUBMITTED,
    ApplicationStatus.SCREENING,
    ApplicationStatus.IN_REVIEW,
    ApplicationStatus.RESUBMITTED,
)
OPEN_ASSIGNMENT = (ReviewAssignment.Status.AWAITING_DECLARATION, ReviewAssignment.Status.REVIEWING)
REPORTS_TO_REVIEW = (ReportStatus.SUBMITTED, ReportStatus.RESUBMITTED)
PAYABLE_AWARDS = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE)
# A transfer Stripe accepted but has not confirmed after this long is worth a reconciliation.
UNCONFIRMED_AFTER = datetime.timedelta(days=2)


def review_days() -> int:
    """Days a reviewer has for an assignment (``REVIEW_DAYS``; a rapid-response clock is shorter)."""
    return int(getattr(settings, "REVIEW_DAYS", 14))


@dataclass
class Item:
    """One thing to do: what, where (the foundation), and the page where it is done."""

    foundation: str
    title: str
    detail: str
    url: str
    urgent: bool = False


@dataclass
class Queue:
    """One list of a panel: its heading, what it shows when empty, its first items and total."""

    key: str
    title: str
    empty: str
    items: list[Item] = field(default_factory=list)
    total: int = 0
    more_url: str = ""

    @property
    def more(self) -> int:
        return max(self.total - len(self.items), 0)


def _queue(key, title, empty, queryset, to_item, *, more_url="", limit=SHOWN) -> Queue:
    rows = list(queryset[:limit])
    total = queryset.count()  # always asked, so the number of queries never depends on the data
    return Queue(key, title, empty, [to_item(row) for row in rows], total, more_url)


def _local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def time_left(due: datetime.datetime, now: datetime.datetime) -> tuple[str, bool]:
    """ "3 hours left" / "Overdue by 2 hours", and whether it runs out today (or already has)."""
    if due <= now:
        return _("Overdue by %(time)s") % {"time": timesince(due, now, depth=1)}, True
    urgent = _local_day(due) <= _local_day(now)
    return _("%(time)s left") % {"time": timeuntil(due, now, depth=2)}, urgent


# --- Program officers -------------------------------------------------------------------------


def _application_item(application: Application) -> Item:
    return Item(
        foundation=application.call.fund.foundation.name,
        title=f"{application.reference} · {application.organization.name}",
        detail=_("%(status)s since %(date)s")
        % {
            "status": application.get_status_display(),
            "date": _format_date(_local_day(application.submitted_at or application.updated_at)),
        },
        url=reverse("applications:inspect", args=[application.pk]),
    )


def _format_date(day: datetime.date) -> str:
    return date_format(day, "SHORT_DATE_FORMAT")


def _applications(foundation_ids):
    return Application.objects.filter(
        call__fund__foundation__in=foundation_ids, status__in=WAITING_FOR_DECISION
    ).select_related("call__fund__foundation", "organization")


def decisions_waiting(user) -> Queue:
    """Applications (not on a rapid-response clock) waiting for a decision, oldest first."""
    foundations = foundations_where(user, Capability.DECIDE_APPLICATIONS)
    queryset = _applications(foundations).filter(decision_due_at__isnull=True).order_by("submitted_at", "pk")
    return _queue(
        "decisions",
        _("Applications waiting for a decision"),
        _("No application waits for a decision."),
        queryset,
        _application_item,
        more_url=reverse("applications:index"),
    )


def rapid_response_clocks(user, *, now=None) -> Queue:
    """Applications on a rapid-response clock, those running out first (overdue, then today)."""
    now = now or timezone.now()
    foundations = foundations_where(user, Capability.DECIDE_APPLICATIONS)
    queryset = (
        _applications(foundations).filter(decision_due_at__isnull=False).order_by("decision_due_at", "pk")
    )

    def to_item(application):
        item = _application_item(application)
        item.detail, item.urgent = time_left(application.decision_due_at, now)
        return item

    return _queue(
        "rapid",
        _("Rapid response: decision clocks"),
        _("No rapid-response application is waiting."),
        queryset,
        to_item,
        more_url=reverse("applications:index") + "?ordering=decision_due_at",
    )


def _late(now) -> Q:
    return Q(created_at__lt=now - datetime.timedelta(days=review_days())) | Q(
        application__decision_due_at__lt=now
    )


def review_due(assignment: ReviewAssignment) -> datetime.datetime:
    """When a review is due: ``REVIEW_DAYS`` after it was assigned, or the decision clock if sooner."""
    due = assignment.created_at + datetime.timedelta(days=review_days())
    clock = assignment.application.decision_due_at
    return min(due, clock) if clock else due


def late_reviews(user, *, now=None) -> Queue:
    """Reviews not yet submitted past their due date, on applications the officer decides."""
    now = now or timezone.now()
    foundations = foundations_where(user, Capability.DECIDE_APPLICATIONS)
    queryset = (
        ReviewAssignment.objects.filter(
            application__call__fund__foundation__in=foundations,
            application__status__in=WAITING_FOR_DECISION,
            status__in=OPEN_ASSIGNMENT,
        )
        .filter(_late(now))
        .select_related("application__call__fund__foundation", "application__organization", "reviewer")
        .order_by("created_at", "pk")
    )

    def to_item(assignment):
        application = assignment.application
        reviewer = assignment.reviewer.get_full_name() or assignment.reviewer.email
        return Item(
            foundation=application.call.fund.foundation.name,
            title=f"{application.reference} · {reviewer}",
            detail=_("Review due %(date)s") % {"date": _format_date(_local_day(review_due(assignment)))},
            url=reverse("applications:inspect", args=[application.pk]),
            urgent=True,
        )

    return _queue("late_reviews", _("Late reviews"), _("No review is late."), queryset, to_item)


def reports_to_review(user) -> Queue:
    """Spending reports a grantee submitted that wait for the officer's answer, oldest first."""
    foundations = foundations_where(user, Capability.DECIDE_REPORTS)
    queryset = (
        SpendingReport.objects.filter(award__fund__foundation__in=foundations, status__in=REPORTS_TO_REVIEW)
        .select_related("award__fund__foundation", "award__application__organization", "due")
        .order_by("submitted_at", "pk")
    )

    def to_item(report):
        award = report.award
        return Item(
            foundation=award.fund.foundation.name,
            title=f"{award.application.reference} · {award.application.organization.name}",
            detail=_("%(kind)s, sent %(date)s")
            % {
                "kind": report.due.get_kind_display(),
                "date": _format_date(_local_day(report.submitted_at or report.updated_at)),
            },
            url=reverse("reports_admin:report", args=[report.due_id]),
        )

    return _queue(
        "reports",
        _("Reports waiting for review"),
        _("No report waits for review."),
        queryset,
        to_item,
        more_url=reverse("reports_admin:index"),
    )


def _bond_item(bond: Bond, detail: str, *, urgent=False) -> Item:
    return Item(
        foundation=bond.foundation.name,
        title=f"{bond.reference_code} · {bond.partner.name} · {money(bond.amount)}",
        detail=detail,
        url=reverse("bonds:bond", args=[bond.pk]),
        urgent=urgent,
    )


def bond_requests_waiting(user, *, now=None) -> Queue:
    """Bond requests waiting for a decision, on their clock (overdue first)."""
    now = now or timezone.now()
    foundations = foundations_where(user, Capability.DECIDE_BONDS)
    queryset = (
        Bond.objects.filter(foundation__in=foundations, status=BondStatus.REQUESTED)
        .select_related("foundation", "partner")
        .order_by("decision_due_at", "pk")
    )

    def to_item(bond):
        detail, urgent = time_left(bond.decision_due_at, now) if bond.decision_due_at else ("", False)
        return _bond_item(bond, detail, urgent=urgent)

    return _queue(
        "bond_requests", _("Bond requests waiting"), _("No bond request is waiting."), queryset, to_item,
        more_url=reverse("bonds:index") + "?status=requested",
    )  # fmt: skip


def officer_queues(user, *, now=None) -> list[Queue]:
    now = now or timezone.now()
    queues = [
        rapid_response_clocks(user, now=now),
        decisions_waiting(user),
        late_reviews(user, now=now),
        reports_to_review(user),
    ]
    if foundations_where(user, Capability.DECIDE_BONDS):
        queues.insert(1, bond_requests_waiting(user, now=now))
    return queues


# --- Reviewers --------------------------------------------------------------------------------


def my_assignments(user, *, now=None) -> Queue:
    """The reviewer's own open assignments, soonest due first, with the due date."""
    now = now or timezone.now()
    foundations = foundations_where(user, Capability.REVIEW)
    assignments = list(
        ReviewAssignment.objects.filter(
            reviewer=user,
            status__in=OPEN_ASSIGNMENT,
            application__status__in=WAITING_FOR_DECISION,
            application__call__fund__foundation__in=foundations,
        ).select_related("application__call__fund__foundation", "application__organization")
    )
    assignments.sort(key=lambda a: (review_due(a), a.pk))

    def to_item(assignment):
        application = assignment.application
        due = review_due(assignment)
        if assignment.status == ReviewAssignment.Status.AWAITING_DECLARATION:
            step = _("Declare any conflict of interest first.")
        else:
            step = _("Score and recommend.")
        left, urgent = time_left(due, now)
        return Item(
            foundation=application.call.fund.foundation.name,
            title=f"{application.reference} · {application.organization.name}",
            detail=_("Due %(date)s (%(left)s). %(step)s")
            % {"date": _format_date(_local_day(due)), "left": left, "step": step},
            url=reverse("reviews:detail", args=[application.pk]),
            urgent=urgent,
        )

    return Queue(
        "assignments",
        _("Your reviews"),
        _("No review is assigned to you."),
        [to_item(a) for a in assignments[:SHOWN]],
        len(assignments),
        reverse("reviews:index"),
    )


# --- Finance ----------------------------------------------------------------------------------


def _installment_item(installment: Installment, detail: str, *, urgent=False) -> Item:
    award = installment.award
    return Item(
        foundation=award.fund.foundation.name,
        title=_("%(reference)s · %(organization)s · payment %(number)s")
        % {
            "reference": award.application.reference,
            "organization": award.application.organization.name,
            "number": installment.number,
        },
        detail=detail,
        url=f"{reverse('payments:review')}?installment={installment.pk}",
        urgent=urgent,
    )


def _installments(user, *states):
    foundations = foundations_where(user, Capability.RELEASE_PAYMENTS)
    return Installment.objects.filter(
        award__fund__foundation__in=foundations, award__status__in=PAYABLE_AWARDS, status__in=states
    ).select_related("award__fund__foundation", "award__application__organization")


def payments_due(user, *, today=None) -> Queue:
    """Payments of accepted awards whose date has come, whether or not the daily job marked them
    due: a scheduled payment falling due today is here today."""
    today = today or timezone.localdate()
    queryset = (
        _installments(user, InstallmentStatus.SCHEDULED, InstallmentStatus.DUE)
        .filter(due_date__lte=today)
        .order_by("due_date", "award_id", "number")
    )

    def to_item(installment):
        if installment.due_date == today:
            when = _("due today")
        else:
            when = _("due since %(date)s") % {"date": _format_date(installment.due_date)}
        return _installment_item(
            installment,
            _("%(amount)s, %(when)s") % {"amount": money(installment.amount), "when": when},
            urgent=installment.due_date == today,
        )

    return _queue(
        "payments_due",
        _("Payments due"),
        _("No payment is due."),
        queryset,
        to_item,
        more_url=reverse("payments:index"),
    )


def failed_payments(user) -> Queue:
    """Payments Stripe refused: release them again once the reason is fixed."""
    queryset = (
        _installments(user, InstallmentStatus.FAILED)
        .select_related("disbursement")
        .order_by("due_date", "award_id", "number")
    )

    def to_item(installment):
        disbursement = getattr(installment, "disbursement", None)
        reason = disbursement.failure_message if disbursement is not None else ""
        return _installment_item(installment, reason or _("The payment failed."), urgent=True)

    return _queue(
        "failed", _("Failed payments"), _("No payment has failed."), queryset, to_item,
        more_url=reverse("payments:index"),
    )  # fmt: skip


def _disbursement_item(disbursement: Disbursement, detail: str, url: str) -> Item:
    award = disbursement.award
    title = (
        f"{award.application.reference} · {award.application.organization.name}"
        if award is not None
        else f"#{disbursement.pk}"
    )
    return Item(foundation=disbursement.foundation.name, title=title, detail=detail, url=url, urgent=True)


def _disbursements(user, status):
    foundations = foundations_where(user, Capability.RELEASE_PAYMENTS)
    return Disbursement.objects.filter(foundation__in=foundations, status=status).select_related(
        "foundation", "award__application__organization"
    )


def unknown_outcomes(user) -> Queue:
    """Payments Stripe has not said it made or refused: ask Stripe before anything else."""
    queryset = _disbursements(user, DisbursementStatus.UNKNOWN).order_by("outcome_unknown_since", "pk")

    def to_item(disbursement):
        return _disbursement_item(
            disbursement,
            _("%(amount)s: Stripe has not said whether it paid. Ask Stripe.")
            % {"amount": money(disbursement.amount)},
            reverse("payments:disbursement", args=[disbursement.pk]),
        )

    return _queue(
        "unknown", _("Payments with outcome unknown"), _("Every payment's outcome is known."), queryset, to_item,
        more_url=reverse("payments:disbursements") + "?status=unknown",
    )  # fmt: skip


def flagged_events(user) -> Queue:
    """Stripe events the portal could not apply and flagged for a person to read."""
    foundations = foundations_where(user, Capability.REAPPLY_WEBHOOK_EVENTS)
    queryset = (
        WebhookEvent.objects.filter(foundation__in=foundations, status=WebhookEventStatus.FLAGGED)
        .select_related("foundation")
        .defer("payload")
        .order_by("received_at", "pk")
    )

    def to_item(event):
        return Item(
            foundation=event.foundation.name,
            title=event.type,
            detail=event.note or _("Flagged for review"),
            url=reverse("payments:webhook_reapply", args=[event.pk]),
            urgent=True,
        )

    return _queue(
        "flagged", _("Flagged Stripe events"), _("No Stripe event is flagged."), queryset, to_item,
        more_url=reverse("payments:webhooks") + "?status=flagged",
    )  # fmt: skip


def reconciliation_differences(user, *, now=None) -> Queue:
    """Payments sent to Stripe that Stripe has not confirmed for two days: what a reconciliation
    would show first. (The full comparison asks Stripe, so it runs on the Reconciliation page.)"""
    now = now or timezone.now()
    queryset = (
        _disbursements(user, DisbursementStatus.SUBMITTED)
        .filter(submitted_at__lt=now - UNCONFIRMED_AFTER)
        .order_by("submitted_at", "pk")
    )

    def to_item(disbursement):
        sent = _local_day(disbursement.submitted_at)
        query = f"?foundation={disbursement.foundation_id}&date_from={sent.isoformat()}&date_to={_local_day(now).isoformat()}"
        return _disbursement_item(
            disbursement,
            _("Sent to Stripe on %(date)s, not confirmed yet: compare with Stripe.")
            % {"date": _format_date(sent)},
            reverse("payments:reconciliation") + query,
        )

    return _queue(
        "reconciliation", _("To reconcile with Stripe"), _("Nothing to reconcile."), queryset, to_item,
        more_url=reverse("payments:reconciliation"),
    )  # fmt: skip


def bonds_to_post(user) -> Queue:
    """Approved bonds finance has not posted (or sent to the partner) yet."""
    foundations = foundations_where(user, Capability.MANAGE_BONDS)
    queryset = (
        Bond.objects.filter(foundation__in=foundations, status=BondStatus.APPROVED)
        .select_related("foundation", "partner")
        .order_by("decided_at", "pk")
    )

    def to_item(bond):
        return _bond_item(bond, str(bond.get_obligor_display()), urgent=bond.urgency == "today")

    return _queue(
        "bonds_to_post", _("Bonds to post"), _("No bond waits to be posted."), queryset, to_item,
        more_url=reverse("bonds:index") + "?status=approved",
    )  # fmt: skip


def bonds_to_check_on(user, *, now=None) -> Queue:
    """Bonds out longer than their foundation's period (``bonds.bonds_to_check``)."""
    from grants.services import bonds

    rows = []
    for foundation_id in sorted(foundations_where(user, Capability.MANAGE_BONDS)):
        rows += bonds.bonds_to_check(now=now, foundation=foundation_id)

    def to_item(bond):
        since = bond.posted_on or _local_day(bond.requested_at)
        return _bond_item(bond, _("Out since %(date)s: ask about the case.") % {"date": _format_date(since)})

    return Queue(
        "bonds_to_check", _("Bonds to check on"), _("No bond needs checking on."),
        [to_item(bond) for bond in rows[:SHOWN]], len(rows), reverse("bonds:index") + "?status=posted",
    )  # fmt: skip


def finance_queues(user, *, now=None) -> list[Queue]:
    now = now or timezone.now()
    queues = [
        payments_due(user, today=_local_day(now)),
        failed_payments(user),
        unknown_outcomes(user),
        flagged_events(user),
        reconciliation_differences(user, now=now),
    ]
    if foundations_where(user, Capability.MANAGE_BONDS):
        queues += [bonds_to_post(user), bonds_to_check_on(user, now=now)]
    return queues


# --- Exports (auditors, finance, foundation admins) ---------------------------------------------


def my_exports(user) -> Queue:
    """The person's own exports that are not expired, newest first."""
    foundations = foundations_where(user, Capability.EXPORT)
    queryset = (
        ExportJob.objects.filter(requested_by=user, foundation__in=foundations)
        .exclude(status=ExportStatus.EXPIRED)
        .select_related("foundation")
        .order_by("-created_at", "-pk")
    )

    def to_item(job):
        return Item(
            foundation=job.foundation.name,
            title=_("%(start)s to %(end)s")
            % {"start": _format_date(job.date_from), "end": _format_date(job.date_to)},
            detail=str(job.get_status_display()),
            url=reverse("exports:detail", args=[job.pk]),
            urgent=job.status == ExportStatus.FAILED,
        )

    return _queue(
        "exports", _("Your exports"), _("You have no export. Start one from Exports."), queryset, to_item,
        more_url=reverse("exports:index"),
    )  # fmt: skip


# --- Who sees which panel -----------------------------------------------------------------------


def panels_for(user, *, now=None) -> list[tuple[str, str, list[Queue]]]:
    """The panels for ``user``: (key, heading, queues), only for what the person does somewhere."""
    now = now or timezone.now()
    panels = []
    deciders = foundations_where(user, Capability.DECIDE_APPLICATIONS)
    if deciders:
        panels.append(("officer", _("Decisions and reports"), officer_queues(user, now=now)))
    reviews = my_assignments(user, now=now)
    if reviews.total or foundations_where(user, Capability.REVIEW) - deciders:
        panels.append(("reviewer", _("Reviews assigned to you"), [reviews]))
    if foundations_where(user, Capability.RELEASE_PAYMENTS):
        panels.append(("finance", _("Payments"), finance_queues(user, now=now)))
    if foundations_where(user, Capability.EXPORT):
        panels.append(("exports", _("Exports"), [my_exports(user)]))
    return panels
