"""The retention rule: what a foundation stops keeping, and when (settings on ``Foundation``).

Declined and withdrawn applications
-----------------------------------
An application declined (``decided_at``) or withdrawn (``withdrawn_at``) more than
``purge_declined_after_days`` days before ``today`` loses:

* its attachments — the files are deleted from private storage (after the transaction commits)
  and the attachment rows with them;
* its answers to sensitive questions, on the application and on every kept version;
* the reviewers' free-text notes about it (review comments, per-criterion comments and
  conflict-of-interest notes), because reviewers quote the application there. Scores and
  recommendations stay: they are the record of how the decision was reached.

The application itself stays with its reference, organization, call, amounts, non-sensitive
answers and decision, and ``purged_at`` is set, so a second run finds nothing more to do and
staff read "removed under the retention rule" instead of empty boxes. Drafts and applications
in any other state are never touched.

Donors
------
A donor whose last gift (the day it was received, as on the receipt) is older than
``anonymise_donors_after_years`` years, and who has no active monthly gift, is anonymised:
email → ``donor-<id>@anonymised.invalid`` (unique, and undeliverable by definition), "may be
contacted" off, each gift's dedication and message erased. Kept for the tax records: every
gift's receipt number, date, amount, fees, refunds, currency and fund, and the donor's name when
a receipt was issued to them (it is printed on the receipt, so a copy the donor shows can still
be matched); a donor who never got a receipt loses the name too.

Access log
----------
Entries of the access log older than ``keep_access_log_years`` years are deleted: the log is
itself a record of who looked at whom, and is kept only as long as it may be needed to answer
"who opened this file?".

Bond references
---------------
The government's reference of a bond returned or written off more than
``purge_bond_references_after_days`` days before ``today`` is erased
(``grants.services.bonds.purge_settled_references``); the bond, its amounts and its journal
entries stay.

Every run writes a ``RetentionRun`` with the counts only (a dry run too, marked as such), and a
real run that changed something writes one activity entry for the foundation.
"""

import datetime
from dataclasses import asdict, dataclass

from django.db import transaction
from django.db.models import DateField, Max, Q
from django.db.models.functions import Coalesce, TruncDate
from django.utils import timezone

from grants.models import (
    BOND_SETTLED_STATES,
    AccessLogEntry,
    Application,
    ApplicationStatus,
    Bond,
    Donation,
    Donor,
    Foundation,
    RecurringGiftStatus,
    RetentionRun,
    Review,
    ReviewAssignment,
)
from grants.models.applications import private_storage
from grants.services import bonds
from grants.services.workflow import record

ANONYMISED_EMAIL_DOMAIN = "anonymised.invalid"


@dataclass
class PurgeResult:
    """How many of each kind a run erased (or, for a dry run, would erase)."""

    applications: int = 0
    attachments: int = 0
    versions: int = 0
    review_notes: int = 0
    donors: int = 0
    access_log_entries: int = 0
    bond_references: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)

    @property
    def total(self) -> int:
        return sum(self.as_dict().values())

    def add(self, other: "PurgeResult") -> None:
        for key, value in other.as_dict().items():
            setattr(self, key, getattr(self, key) + value)


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _years_before(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February in a year that has none
        return day.replace(year=day.year - years, day=28)


def application_cutoff(foundation: Foundation, today: datetime.date) -> datetime.datetime:
    """Applications decided or withdrawn before this instant are past the retention period."""
    return _start_of(today - datetime.timedelta(days=foundation.purge_declined_after_days))


def donor_cutoff(foundation: Foundation, today: datetime.date) -> datetime.date:
    """Donors whose last gift was received before this day are past the retention period."""
    return _years_before(today, foundation.anonymise_donors_after_years)


def applications_due(foundation: Foundation, today: datetime.date):
    """Declined or withdrawn applications of ``foundation`` past the period, not yet purged."""
    cutoff = application_cutoff(foundation, today)
    return Application.objects.filter(call__fund__foundation=foundation, purged_at__isnull=True).filter(
        Q(status=ApplicationStatus.DECLINED, decided_at__lt=cutoff)
        | Q(status=ApplicationStatus.WITHDRAWN, withdrawn_at__lt=cutoff)
    )


def access_log_cutoff(foundation: Foundation, today: datetime.date) -> datetime.datetime:
    """Access log entries written before this instant are past the retention period."""
    return _start_of(_years_before(today, foundation.keep_access_log_years))


def access_log_due(foundation: Foundation, today: datetime.date):
    return AccessLogEntry.objects.filter(foundation=foundation, at__lt=access_log_cutoff(foundation, today))


def bond_reference_cutoff(foundation: Foundation, today: datetime.date) -> datetime.date:
    """Bonds settled before this day lose their government reference."""
    return today - datetime.timedelta(days=foundation.purge_bond_references_after_days)


def bond_references_due(foundation: Foundation, today: datetime.date):
    """Settled bonds of ``foundation`` whose reference the rule erases as of ``today``."""
    return Bond.objects.filter(
        foundation=foundation,
        status__in=BOND_SETTLED_STATES,
        reference_purged_at__isnull=True,
        settled_on__lte=bond_reference_cutoff(foundation, today),
    )


def is_anonymised(donor: Donor) -> bool:
    return donor.email.endswith("@" + ANONYMISED_EMAIL_DOMAIN)


def donors_due(foundation: Foundation, today: datetime.date):
    """Donors of ``foundation`` whose last gift is older than the period, without an active
    monthly gift, not yet anonymised."""
    cutoff = donor_cutoff(foundation, today)
    gift_day = Coalesce(
        "donations__received_on",
        TruncDate("donations__completed_at"),
        TruncDate("donations__created_at"),
        output_field=DateField(),
    )
    return (
        Donor.objects.filter(foundation=foundation)
        .exclude(email__endswith="@" + ANONYMISED_EMAIL_DOMAIN)
        .exclude(recurring_gifts__status=RecurringGiftStatus.ACTIVE)
        .annotate(last_gift=Max(gift_day))
        .filter(Q(last_gift__lt=cutoff) | Q(last_gift__isnull=True, created_at__lt=_start_of(cutoff)))
    )


def _review_has_notes(review: Review) -> bool:
    return bool(review.comment) or any(
        isinstance(entry, dict) and entry.get("comment") for entry in (review.scores or {}).values()
    )


def _erase_review_notes(application: Application, *, dry_run: bool) -> int:
    """Reviewers' free text about the application; returns how many reviews/assignments had some."""
    count = 0
    for review in Review.objects.filter(application=application):
        if not _review_has_notes(review):
            continue
        count += 1
        if not dry_run:
            review.comment = ""
            review.scores = {
                key: ({**entry, "comment": ""} if isinstance(entry, dict) else entry)
                for key, entry in (review.scores or {}).items()
            }
            review.save(update_fields=["comment", "scores"])
    notes = ReviewAssignment.objects.filter(application=application).exclude(conflict_note="")
    count += notes.count()
    if not dry_run:
        notes.update(conflict_note="")
    return count


def delete_files_after_commit(names) -> None:
    """Delete private files once the transaction that removed their rows has committed."""
    names = [name for name in names if name]
    if not names:
        return

    def delete():
        storage = private_storage()
        for name in names:
            storage.delete(name)

    transaction.on_commit(delete)


def purge_application(application: Application, *, dry_run: bool, now=None) -> PurgeResult:
    """Erase one application's files, sensitive answers and reviewers' notes (see module doc)."""
    result = PurgeResult(applications=1)
    attachments = list(application.attachments.all())
    versions = list(application.versions.all())
    result.attachments = len(attachments)
    result.versions = sum(1 for version in versions if version.sensitive_answers)
    result.review_notes = _erase_review_notes(application, dry_run=dry_run)
    if dry_run:
        return result
    delete_files_after_commit([attachment.file.name for attachment in attachments])
    application.attachments.all().delete()
    for version in versions:
        if version.sensitive_answers:
            version.sensitive_answers = {}
            version.save(update_fields=["sensitive_answers"])
    application.sensitive_answers = {}
    application.purged_at = now or timezone.now()
    application.save(update_fields=["sensitive_answers", "purged_at"])
    return result


def anonymise_donor(donor: Donor, *, dry_run: bool) -> PurgeResult:
    """Erase a donor's contact details, keeping what the tax records need (see module doc)."""
    if dry_run:
        return PurgeResult(donors=1)
    receipted = Donation.objects.filter(donor=donor, receipt_number__isnull=False).exists()
    donor.email = f"donor-{donor.pk}@{ANONYMISED_EMAIL_DOMAIN}"
    donor.consent_to_contact = False
    if not receipted:
        donor.name = ""
    donor.save(update_fields=["email", "consent_to_contact", "name"])
    Donation.objects.filter(donor=donor).update(dedication="", message="")
    return PurgeResult(donors=1)


def purge(foundation: Foundation, *, today: datetime.date, dry_run: bool, by=None) -> PurgeResult:
    """Apply the retention rule of ``foundation`` as of ``today``; return the counts per kind.

    With ``dry_run`` nothing changes and the counts say what a real run would erase now. Safe to
    repeat: purged applications and anonymised donors are never counted again. Each application
    and each donor is handled in its own transaction, under a row lock, re-checked after locking
    (two runs at once never erase twice or count twice). ``by`` is the person who started the
    run; empty for the scheduled run. Writes a ``RetentionRun`` with the counts.
    """
    result = PurgeResult()
    now = timezone.now()
    for application_id in applications_due(foundation, today).values_list("pk", flat=True):
        with transaction.atomic():
            locked = Application.objects.select_for_update() if not dry_run else Application.objects
            application = locked.filter(pk=application_id, purged_at__isnull=True).first()
            if application is None:
                continue  # purged by a concurrent run
            result.add(purge_application(application, dry_run=dry_run, now=now))
    for donor_id in donors_due(foundation, today).values_list("pk", flat=True):
        with transaction.atomic():
            locked = Donor.objects.select_for_update() if not dry_run else Donor.objects
            donor = locked.filter(pk=donor_id).first()
            if donor is None or is_anonymised(donor):
                continue
            result.add(anonymise_donor(donor, dry_run=dry_run))
    if dry_run:
        result.bond_references = bond_references_due(foundation, today).count()
    else:
        result.bond_references = bonds.purge_settled_references(now=now, foundation=foundation, today=today)
    with transaction.atomic():
        due = access_log_due(foundation, today)
        # A queryset delete: the entries are append-only for people, not for the retention rule.
        result.access_log_entries = due.count() if dry_run else due.delete()[0]
        run = RetentionRun.objects.create(
            foundation=foundation, today=today, dry_run=dry_run, counts=result.as_dict(), started_by=by
        )
        if not dry_run and result.total:
            note = ", ".join(f"{key}: {value}" for key, value in result.as_dict().items() if value)
            record(subject=run, subject_type="retention_run", action="retention_purge", actor=by,
                   foundation=foundation, note=note)  # fmt: skip
    return result


def purge_all(*, today: datetime.date, dry_run: bool = False, by=None, foundations=None) -> dict:
    """Run ``purge`` for every foundation (or those given); returns ``{foundation: PurgeResult}``."""
    foundations = foundations if foundations is not None else Foundation.objects.order_by("slug")
    return {foundation: purge(foundation, today=today, dry_run=dry_run, by=by) for foundation in foundations}
