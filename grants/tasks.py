"""Background tasks of the grants app (Django's task API through django-tasks).

Officer digest
--------------
Program officers and foundation admins get at most one email a day instead of one per event
(``send_officer_digests``, run daily by ``manage.py send_digests``). It lists, per foundation
they serve as an officer:

* new submissions and resubmissions since their last digest;
* reviews still waiting for a conflict declaration or a score ``REVIEW_OVERDUE_DAYS``
  (a setting, default 7) days after the reviewer was assigned;
* rapid-response applications past their decision target (``decision_due_at``) and not decided.

"Since the last digest" is a stored marker: each digest sent writes an activity entry
(``subject_type="user"``, ``subject_id`` = the officer, ``action="officer_digest_sent"``, the
end of the window it covered in ``note``). The first digest covers the last 24 hours. An
officer with nothing to report gets no email (and no marker, so nothing is skipped later). A
second run within 20 hours of a digest sends that officer nothing, so a retried or doubled
cron job never sends twice; the officer's row is locked while their digest is decided, so two
workers cannot both send it. Emails carry references, organization names and titles only,
never answers; each goes out in the officer's preferred language.
"""

import datetime

from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django_tasks import task

from cms.models import call_titles
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    Foundation,
    ReviewAssignment,
    StaffMembership,
    User,
)
from grants.permissions import Capability, roles_with
from grants.services import bonds, installments, outbox, payouts
from grants.services.notifications import send_templated_email
from grants.services.workflow import OPEN_STATES, record

DIGEST_ACTION = "officer_digest_sent"
DIGEST_SUBJECT_TYPE = "user"
FIRST_WINDOW = datetime.timedelta(hours=24)
MIN_INTERVAL = datetime.timedelta(hours=20)
WAITING_REVIEW = (ReviewAssignment.Status.AWAITING_DECLARATION, ReviewAssignment.Status.REVIEWING)


def review_overdue_days() -> int:
    return int(getattr(settings, "REVIEW_OVERDUE_DAYS", 7))


def _last_digest(officer_id: int) -> ActivityEntry | None:
    return (
        ActivityEntry.objects.filter(
            subject_type=DIGEST_SUBJECT_TYPE, subject_id=officer_id, action=DIGEST_ACTION
        )
        .order_by("-created_at", "-pk")
        .first()
    )


def _window_end(marker: ActivityEntry) -> datetime.datetime:
    return parse_datetime(marker.note or "") or marker.created_at


def _admin_url(application_id: int) -> str:
    return settings.WAGTAILADMIN_BASE_URL + reverse("applications:inspect", args=[application_id])


def _row(application: Application, titles: dict) -> dict:
    return {
        "reference": application.reference or "",
        "organization": application.organization.name,
        "title": application.title,
        "call": titles.get(application.call_id, application.call.title),
        "status": str(ApplicationStatus(application.status).label),
        "url": _admin_url(application.pk),
    }


def build_digest(officer: User, foundation_ids, *, since, now) -> list[dict]:
    """What ``officer`` should hear about, one block per foundation with something to say.

    Only the given foundations (where the officer is a program officer or foundation admin)
    are read, and applications on which the officer declared a conflict of interest are left
    out. Strings are in the active language.
    """
    foundation_ids = set(foundation_ids)
    conflicted = ReviewAssignment.objects.filter(
        reviewer=officer, status=ReviewAssignment.Status.CONFLICT
    ).values("application_id")
    scoped = (
        Application.objects.filter(call__fund__foundation_id__in=foundation_ids)
        .exclude(pk__in=conflicted)
        .select_related("call__fund", "organization")
    )
    entries = ActivityEntry.objects.filter(
        subject_type="application",
        action__in=("submitted", "resubmit"),
        created_at__gt=since,
        created_at__lte=now,
        foundation_id__in=foundation_ids,
    ).values_list("subject_id", "action")
    entries = list(entries)
    new_ids = {pk for pk, action in entries if action == "submitted"}
    resubmitted_ids = {pk for pk, action in entries if action == "resubmit"}
    fresh = list(
        scoped.filter(pk__in=new_ids | resubmitted_ids)
        .exclude(status=ApplicationStatus.WITHDRAWN)
        .order_by("submitted_at", "pk")
    )
    overdue_before = now - datetime.timedelta(days=review_overdue_days())
    overdue = list(
        ReviewAssignment.objects.filter(
            application__in=scoped.filter(status__in=OPEN_STATES),
            status__in=WAITING_REVIEW,
            created_at__lte=overdue_before,
        )
        .select_related("application__call__fund", "application__organization", "reviewer")
        .order_by("created_at", "pk")
    )
    past_due = list(
        scoped.filter(status__in=OPEN_STATES, decision_due_at__lt=now).order_by("decision_due_at", "pk")
    )
    call_ids = {a.call_id for a in fresh + past_due} | {r.application.call_id for r in overdue}
    titles = call_titles(translation.get_language(), call_ids)
    blocks: dict[int, dict] = {}

    def block(foundation_id: int) -> dict:
        return blocks.setdefault(
            foundation_id,
            {
                "foundation_id": foundation_id,
                "new": [],
                "resubmitted": [],
                "overdue": [],
                "past_due": [],
            },  # fmt: skip
        )

    for application in fresh:
        kind = "new" if application.pk in new_ids else "resubmitted"
        block(application.call.fund.foundation_id)[kind].append(_row(application, titles))
    for assignment in overdue:
        application = assignment.application
        reviewer = assignment.reviewer
        block(application.call.fund.foundation_id)["overdue"].append(
            {
                **_row(application, titles),
                "reviewer": reviewer.get_full_name() or reviewer.email,
                "review_status": str(ReviewAssignment.Status(assignment.status).label),
                "days": (now - assignment.created_at).days,
            }
        )
    for application in past_due:
        block(application.call.fund.foundation_id)["past_due"].append(
            {**_row(application, titles), "due": application.decision_due_at}
        )
    names = dict(Foundation.objects.filter(pk__in=blocks).values_list("pk", "name"))
    result = []
    for foundation_id in sorted(blocks, key=lambda pk: names.get(pk, "")):
        item = blocks[foundation_id]
        item["foundation"] = names.get(foundation_id, "")
        item["count"] = sum(len(item[key]) for key in ("new", "resubmitted", "overdue", "past_due"))
        result.append(item)
    return result


def officer_foundations() -> dict[int, set[int]]:
    """Active officers (program officers, foundation admins) and the foundations they serve."""
    served: dict[int, set[int]] = {}
    for user_id, foundation_id in StaffMembership.objects.filter(
        role__in=roles_with(Capability.DECIDE_APPLICATIONS), user__is_active=True
    ).values_list("user_id", "foundation_id"):
        served.setdefault(user_id, set()).add(foundation_id)
    return served


def send_digest_to(officer_id: int, foundation_ids, *, now=None) -> bool:
    """Send one officer their digest if one is due and there is something to say."""
    now = now or timezone.now()
    with transaction.atomic():
        officer = User.objects.select_for_update().filter(pk=officer_id, is_active=True).first()
        if officer is None or not officer.email:
            return False
        marker = _last_digest(officer.pk)
        if marker is not None and now - marker.created_at < MIN_INTERVAL:
            return False
        since = _window_end(marker) if marker is not None else now - FIRST_WINDOW
        language = officer.preferred_language or settings.LANGUAGE_CODE
        with translation.override(language):
            blocks = build_digest(officer, foundation_ids, since=since, now=now)
        if not blocks:
            return False
        send_templated_email(
            "officer_digest",
            to=[officer.email],
            language=language,
            context={
                "officer": officer,
                "foundations": blocks,
                "total": sum(item["count"] for item in blocks),
                "since": since,
                "now": now,
                "overdue_days": review_overdue_days(),
                "list_url": settings.WAGTAILADMIN_BASE_URL + reverse("applications:index"),
            },
        )
        record(subject=officer, subject_type=DIGEST_SUBJECT_TYPE, action=DIGEST_ACTION, actor=None,
               foundation=None, note=now.isoformat())  # fmt: skip
    return True


@task()
def send_officer_digests() -> int:
    """Email each officer their daily digest (see the module docstring). Returns how many were sent."""
    now = timezone.now()
    return sum(
        send_digest_to(officer_id, foundation_ids, now=now)
        for officer_id, foundation_ids in officer_foundations().items()
    )


@task()
def mark_installments_due() -> int:
    """Scheduled installments whose due date has come become due (run daily; safe to repeat)."""
    return installments.mark_due_installments()


# --- Donors' yearly summaries --------------------------------------------------------------
# Imported here, with its task, so that this block stays self-contained (appended by the
# donations work while other tasks were being added above).
from grants.services import receipts  # noqa: E402


@task()
def send_donor_yearly_summaries(year: int) -> int:
    """Email each donor their gifts of ``year`` (see ``grants.services.receipts``); safe to repeat.

    Returns how many emails were sent; donors already sent that year's summary get nothing.
    """
    return receipts.send_donor_summaries(year)


# --- Spending report reminders -------------------------------------------------------------
# Imported here, with its task, so that this block stays self-contained (appended by the
# reports work).
from grants.services import report_reminders  # noqa: E402


@task()
def send_report_reminders_task() -> int:
    """Remind grantees of reports due in 7 days, due today or overdue (weekly), and hold the next
    payment of overdue reports where the call says so (run daily; safe to repeat). Returns how
    many reminders were sent (see ``grants.services.report_reminders``)."""
    return report_reminders.send_report_reminders()


# --- Audit exports -------------------------------------------------------------------------
# Imported here, with its task, so that this block stays self-contained (appended by the
# exports work). ``build_export`` is defined next to its service (services never import this
# module) and re-exported here so the worker's task list names it.
from grants.services import exports  # noqa: E402
from grants.services.exports import build_export  # noqa: E402, F401


@task()
def purge_expired_exports() -> int:
    """Delete export files whose download link expired (run daily; safe to repeat)."""
    return exports.purge_expired_exports()


# --- Retention -----------------------------------------------------------------------------
# Imported here, with its task, so that this block stays self-contained (appended by the
# privacy work).
from grants.services import retention  # noqa: E402


@task()
def purge_retention_task() -> int:
    """Apply every foundation's retention rule as of today (run daily; safe to repeat). Returns
    how many applications and donors were erased or anonymised (see ``grants.services.retention``)."""
    results = retention.purge_all(today=timezone.localdate())
    return sum(result.applications + result.donors for result in results.values())


# --- Payouts Stripe has not settled ----------------------------------------------------------


@task()
def settle_payouts_task() -> dict:
    """Ask Stripe what happened to payments it left unsettled (see ``payouts.settle_open_disbursements``)."""
    return payouts.settle_open_disbursements()


@task()
def send_due_emails_task() -> dict:
    """Deliver the emails that are due (see ``outbox.send_due``)."""
    return outbox.send_due()


# --- Stripe events -------------------------------------------------------------------------
# Defined next to what they run (the webhook view enqueues them without importing this module)
# and re-exported here so the worker's task list names them.
from grants.payments.webhooks import apply_pending_webhook_events, apply_webhook_event  # noqa: E402, F401

# --- Bonds to check on -----------------------------------------------------------------------


@task()
def send_bond_check_reminders_task() -> int:
    """Remind finance staff of bonds out longer than their foundation's period, once per period
    (run daily; safe to repeat). Returns how many bonds were named (``bonds.send_check_reminders``)."""
    return bonds.send_check_reminders()
