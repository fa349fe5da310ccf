"""Spending reports: what a grantee spent against the approved budget, and what it achieved.

A report belongs to one ``ReportDueDate`` of an award. The grantee (any member of the
organization) drafts it, lists expenditures by category of the approved budget with a receipt
each, explains categories that are off budget, gives the call's metrics and submits; a program
officer of the foundation accepts it or asks for changes (the grantee edits and resubmits).
Every submission is kept as a ``SpendingReportVersion``. Accepting a report lifts the payments
held because it was overdue (reminders and holds: ``grants.services.report_reminders``).

Unspent money the grantee gives back is a ``GrantReturn``: announced by the grantee, posted to
the ledger once finance confirms it arrived.
"""

import datetime
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation, localcontext
from typing import NamedTuple

import filetype
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import NoReverseMatch, reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.metrics import NUMBER
from grants.models import (
    AccountKind,
    Award,
    AwardStatus,
    EntryCause,
    Expenditure,
    GrantReturn,
    Installment,
    InstallmentStatus,
    ReportDueDate,
    ReportKind,
    ReportStatus,
    ReturnStatus,
    SpendingReport,
    SpendingReportVersion,
)
from grants.money import is_whole_in_minor_units
from grants.permissions import Capability, can, is_organization_member
from grants.questions import Question
from grants.services import installments, ledger
from grants.services.applications import notify_members
from grants.services.awards import is_award_officer, paid_total
from grants.services.errors import DomainError, IllegalTransition
from grants.services.notifications import send_templated_email
from grants.services.reviews import officers_of
from grants.services.workflow import Transition, check_transition, record

GRANTEE = "grantee"
OFFICER = "program_officer"
SYSTEM = installments.SYSTEM
SUBJECT_TYPE = "spending_report"

R = ReportStatus
REPORT_TRANSITIONS = {
    t.name: t
    for t in (
        # Saving a draft (or changing its expenditures) keeps the state: the target is unused.
        Transition("save", (R.DRAFT, R.CHANGES_REQUESTED), "", (GRANTEE,)),
        Transition("submit", (R.DRAFT,), R.SUBMITTED, (GRANTEE,)),
        Transition("resubmit", (R.CHANGES_REQUESTED,), R.RESUBMITTED, (GRANTEE,)),
        Transition("request_changes", (R.SUBMITTED, R.RESUBMITTED), R.CHANGES_REQUESTED, (OFFICER,)),
        Transition("accept", (R.SUBMITTED, R.RESUBMITTED), R.ACCEPTED, (OFFICER,)),
    )
}
#: Reports in the officers' hands or done: no reminders, not overdue.
SUBMITTED_STATES = (R.SUBMITTED, R.RESUBMITTED, R.ACCEPTED)
#: Awards whose grantees report.
REPORTING_AWARD_STATES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE)

RECEIPT_MAX_MB = 10
RECEIPT_TYPES = {
    "application/pdf": "PDF",
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/heic": "HEIC",
}
#: Expenditures may go back this far before the award's start date (costs just before it).
EARLIEST_EXPENDITURE = datetime.timedelta(days=30)


class ReportError(DomainError):
    """A report action was refused (not editable, bad expenditure, bad receipt, bad return...).

    ``field`` names the form field the message is about (``category``, ``description``,
    ``amount``, ``date``, ``receipt``, ``method``...), or is None.
    """

    def __init__(self, message, *, field: str | None = None):
        super().__init__(message)
        self.field = field


class ReportInvalid(ReportError):
    """The report cannot be submitted yet; ``errors`` maps a field to its messages."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__(_("The report is not complete yet: see the notes next to each part."))
        self.errors = errors


# --- Who acts -------------------------------------------------------------------------------


def _grantee(by, award: Award) -> str:
    if not is_organization_member(by, award.application.organization_id):
        raise IllegalTransition(_("You are not allowed to do this."))
    return GRANTEE


def _officer(by, award: Award) -> str:
    if not is_award_officer(by, award):
        raise IllegalTransition(_("You are not allowed to do this."))
    return OFFICER


def _lock(report: SpendingReport) -> SpendingReport:
    return (
        SpendingReport.objects.select_for_update(of=("self",))
        .select_related("award__fund__foundation", "award__application__call", "due")
        .get(pk=report.pk)
    )


def _change_state(report: SpendingReport, name: str, *, by, actor: str, note: str = "", fields=()) -> None:
    previous = report.status
    target = check_transition(REPORT_TRANSITIONS, name, previous, actor, states=ReportStatus).target
    report.status = target
    report.save(update_fields=["status", "updated_at", *fields])
    record(subject=report, subject_type=SUBJECT_TYPE, action=name, actor=by,
           foundation=report.award.fund.foundation, from_state=previous, to_state=target, note=note,
           visible_to_applicant=True)  # fmt: skip


def _check_editable(report: SpendingReport, actor: str) -> None:
    check_transition(REPORT_TRANSITIONS, "save", report.status, actor, states=ReportStatus)


def report_link(due: ReportDueDate) -> tuple[str, dict]:
    """The grantee's page of the report due on ``due``, as (url name, kwargs) for emails."""
    try:
        reverse("report_detail", kwargs={"due_id": due.pk})
    except NoReverseMatch:  # the report pages are not wired yet: the award page lists reports
        return "award_detail", {"pk": due.award_id}
    return "report_detail", {"due_id": due.pk}


# --- The approved budget --------------------------------------------------------------------


@dataclass(frozen=True)
class BudgetLine:
    """A category of the approved budget: its position (the key everywhere), label and amount."""

    position: str
    label: str
    approved: Money


@dataclass(frozen=True)
class BudgetRow:
    """A budget category compared with what was reported spent on it."""

    position: str
    label: str
    approved: Money
    spent: Money
    variance: Money
    variance_percent: Decimal | None
    needs_explanation: bool


def _budget_question(application) -> Question | None:
    for section in application.question_snapshot or []:
        for data in section.get("questions", []):
            if data.get("type") == "budget":
                return Question.from_dict(data)
    return None


def approved_budget(award: Award) -> list[BudgetLine]:
    """Categories of the application's budget answer with the amount approved for each.

    Every category of the budget question is listed (with zero when nothing was budgeted for
    it), labelled in the language the application was submitted in. An award made without a
    budget question has one category, the whole grant.
    """
    currency = str(award.amount.currency)
    application = award.application
    question = _budget_question(application)
    if question is None:
        return [BudgetLine("0", _("Whole grant"), award.amount)]
    totals = {str(position): Decimal(0) for position in range(len(question.categories))}
    for line in (application.answers or {}).get(question.id) or []:
        position = str(line.get("category", ""))
        try:
            amount = Decimal(str(line.get("amount", "")).replace(",", ""))
        except InvalidOperation:
            continue
        if position in totals and amount.is_finite():
            totals[position] += amount
    return [
        BudgetLine(position, question.categories[int(position)], Money(total, currency))
        for position, total in totals.items()
    ]


def _spent_by_category(report: SpendingReport) -> dict[str, Money]:
    """This report's expenditures plus those of the award's earlier accepted reports."""
    earlier = SpendingReport.objects.filter(
        award_id=report.award_id, status=R.ACCEPTED, due__due_date__lte=report.due.due_date
    ).exclude(pk=report.pk)
    zero = Money(0, str(report.award.amount.currency))
    spent: dict[str, Money] = {}
    for expenditure in Expenditure.objects.filter(Q(report=report) | Q(report__in=earlier)):
        spent[expenditure.category] = spent.get(expenditure.category, zero) + expenditure.amount
    return spent


def needs_explanation(*, kind: str, approved: Money, spent: Money, percent: int) -> bool:
    """Whether a category's spending is far enough off its approved amount to be explained."""
    if approved.amount == 0:
        return spent.amount > 0
    variance = spent.amount - approved.amount
    if kind != ReportKind.FINAL and variance < 0:
        return False
    return abs(variance) * 100 > approved.amount * percent


def budget_rows(report: SpendingReport) -> list[BudgetRow]:
    """Per budget category: approved, spent so far, the variance and whether it must be explained.

    *Spent* is this report's expenditures plus those of the award's earlier accepted reports.
    A category needs an explanation when its variance is more than the call's
    ``report_variance_percent`` of the approved amount (exactly that share is fine):

    * on the **final** report, over- and under-spending both count;
    * on **interim** reports only over-spending counts: money not yet spent mid-grant is
      expected;
    * a category approved at zero needs an explanation for any spending.
    """
    award = report.award
    currency = str(award.amount.currency)
    percent = award.application.call.report_variance_percent
    kind = report.due.kind
    lines = approved_budget(award)
    spent = _spent_by_category(report)
    known = {line.position for line in lines}
    for position in sorted(set(spent) - known):  # a category no longer in the budget
        lines.append(BudgetLine(position, position, Money(0, currency)))
    rows = []
    for line in lines:
        used = spent.get(line.position) or Money(0, currency)
        variance = used - line.approved
        ratio = None
        if line.approved.amount:
            with localcontext() as wide:  # any stored amounts: a ratio never overflows the context
                wide.prec = 60
                ratio = (variance.amount * 100 / line.approved.amount).quantize(Decimal("0.1"))
        rows.append(
            BudgetRow(line.position, line.label, line.approved, used, variance, ratio,
                      needs_explanation(kind=kind, approved=line.approved, spent=used, percent=percent))
        )  # fmt: skip
    return rows


# --- Drafting -------------------------------------------------------------------------------


def report_for(due: ReportDueDate, *, by) -> SpendingReport:
    """The organization's report for ``due``, created as a draft on first call (members only)."""
    award = due.award
    _grantee(by, award)
    if award.status not in (*REPORTING_AWARD_STATES, AwardStatus.COMPLETED):
        raise ReportError(_("Reports open once the award has been accepted."))
    report, _created = SpendingReport.objects.get_or_create(due=due, defaults={"award": award})
    return report


def save_draft(
    report: SpendingReport,
    *,
    by,
    period_start: datetime.date | None = None,
    period_end: datetime.date | None = None,
    narrative: str = "",
    metrics: dict,
    variance_explanations: dict,
) -> SpendingReport:
    """Save what the grantee wrote (nothing is checked here; ``validate_report`` says what is
    missing). Only a draft or a report sent back for changes can be saved."""
    actor = _grantee(by, report.award)
    with transaction.atomic():
        locked = _lock(report)
        _check_editable(locked, actor)
        locked.period_start = period_start
        locked.period_end = period_end
        locked.narrative = (narrative or "").strip()
        locked.metrics = {str(k): str(v).strip() for k, v in (metrics or {}).items() if v not in (None, "")}
        locked.variance_explanations = {
            str(k): str(v).strip() for k, v in (variance_explanations or {}).items() if str(v or "").strip()
        }
        locked.save(update_fields=["period_start", "period_end", "narrative", "metrics",
                                   "variance_explanations", "updated_at"])  # fmt: skip
    return locked


def _check_receipt(upload) -> str:
    return check_upload(upload)


def check_upload(upload, *, error=None, field="receipt") -> str:
    """A receipt or signed paper: at most ``RECEIPT_MAX_MB``, a PDF or image by its content.
    Returns the detected type; raises ``error`` (``ReportError`` by default) with the reason."""

    def error_with(message):
        return ReportError(message, field=field) if error is None else error(message)

    if upload.size > RECEIPT_MAX_MB * 1024 * 1024:
        raise error_with(
            _("“%(name)s” is %(size)s; receipts can be at most %(limit)d MB.")
            % {"name": upload.name, "size": formats.number_format(upload.size / 1048576, 1) + " MB",
               "limit": RECEIPT_MAX_MB},
        )  # fmt: skip
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    detected = kind.mime if kind else None
    if detected not in RECEIPT_TYPES:
        raise error_with(
            _("“%(name)s” is not an accepted file type. Accepted: %(types)s.")
            % {"name": upload.name, "types": ", ".join(RECEIPT_TYPES.values())}
        )
    return detected


def _store_receipt(expenditure: Expenditure, upload, content_type: str) -> None:
    expenditure.receipt_name = upload.name[:255]
    expenditure.receipt_content_type = content_type
    expenditure.receipt.save(upload.name, upload, save=False)


def add_expenditure(
    report: SpendingReport,
    *,
    by,
    date: datetime.date,
    category: str,
    description: str,
    amount: Money,
    receipt=None,
    today: datetime.date | None = None,
) -> Expenditure:
    """Add one expenditure (and its receipt, if given) to an editable report.

    Refused with a ``ReportError``: a category not in the approved budget; an amount that is
    not positive, not in the fund's currency or not whole in its minor unit; an empty
    description or one over 300 characters (the form reminds grantees not to name clients); a
    date in the future or more than 30 days before the award started; a receipt that is not a
    PDF, JPEG, PNG or HEIC (read from its bytes) or is over 10 MB.
    """
    award = report.award
    actor = _grantee(by, award)
    today = today or timezone.localdate()
    category = str(category if category is not None else "")
    if category not in {line.position for line in approved_budget(award)}:
        raise ReportError(_("Choose a category of the approved budget."), field="category")
    description = " ".join((description or "").split())
    if not description:
        raise ReportError(
            _("Say what the money paid for (no client names or case numbers)."), field="description"
        )
    if len(description) > 300:
        raise ReportError(_("Keep the description under 300 characters."), field="description")
    currency = str(award.amount.currency)
    if not isinstance(amount, Money) or not isinstance(amount.amount, Decimal):
        raise ReportError(_("Enter the amount, like 1500.00."), field="amount")
    if str(amount.currency) != currency:
        raise ReportError(
            _("Enter the amount in %(currency)s, the grant's currency.") % {"currency": currency},
            field="amount",
        )
    if (
        not amount.amount.is_finite()
        or amount.amount <= 0
        or not is_whole_in_minor_units(amount.amount, currency)
    ):
        raise ReportError(_("Enter an amount greater than zero, like 1500.00."), field="amount")
    if date is None or date > today:
        raise ReportError(_("The date of an expenditure cannot be in the future."), field="date")
    earliest = award.start_date - EARLIEST_EXPENDITURE
    if date < earliest:
        raise ReportError(
            _("The date cannot be before %(date)s (30 days before the grant started).")
            % {"date": formats.date_format(earliest)},
            field="date",
        )
    content_type = _check_receipt(receipt) if receipt is not None else ""
    with transaction.atomic():
        locked = _lock(report)
        _check_editable(locked, actor)
        expenditure = Expenditure(report=locked, date=date, category=category, description=description,
                                  amount=amount)  # fmt: skip
        if receipt is not None:
            _store_receipt(expenditure, receipt, content_type)
        expenditure.save()
    return expenditure


def attach_receipt(expenditure: Expenditure, *, by, receipt) -> Expenditure:
    """Add or replace the receipt of an expenditure of an editable report (same checks)."""
    actor = _grantee(by, expenditure.report.award)
    content_type = _check_receipt(receipt)
    with transaction.atomic():
        report = _lock(expenditure.report)
        _check_editable(report, actor)
        old = expenditure.receipt.name if expenditure.receipt else ""
        _store_receipt(expenditure, receipt, content_type)
        expenditure.save(update_fields=["receipt", "receipt_name", "receipt_content_type"])
    if old and not report.version:  # a submitted version may still show the old receipt
        expenditure.receipt.storage.delete(old)
    return expenditure


def remove_expenditure(expenditure: Expenditure, *, by) -> None:
    """Remove an expenditure of an editable report. Its receipt file is deleted unless a
    submitted version of the report lists it (versions keep what officers saw)."""
    actor = _grantee(by, expenditure.report.award)
    with transaction.atomic():
        report = _lock(expenditure.report)
        _check_editable(report, actor)
        if expenditure.receipt and not report.version:
            expenditure.receipt.delete(save=False)
        expenditure.delete()


# --- Checking and submitting ----------------------------------------------------------------


def _is_count(value) -> bool:
    try:
        number = Decimal(str(value).replace(",", "").strip())
    except InvalidOperation:
        return False
    return number.is_finite() and number >= 0


def validate_report(
    report: SpendingReport, *, metric_definitions: list[dict], category_labels: dict | None = None
) -> dict[str, list[str]]:
    """What stops the report from being submitted, as ``{field: [messages]}`` (empty when ready).

    Messages name budget categories by ``category_labels`` (position → name in the reader's
    language, see ``grants.budget_labels``), else as the application was submitted.

    Fields: ``period_start``, ``period_end``, ``expenditures``, ``explanation_<position>`` for
    each budget category that needs an explanation and has none, ``metric_<key>`` for a number
    metric that is missing or not a number ≥ 0 (text metrics are optional).
    """
    errors: dict[str, list[str]] = {}

    def add(field, message):
        errors.setdefault(field, []).append(message)

    if report.period_start is None:
        add("period_start", _("Give the first day of the period this report covers."))
    if report.period_end is None:
        add("period_end", _("Give the last day of the period this report covers."))
    elif report.period_start and report.period_end < report.period_start:
        add("period_end", _("The period cannot end before it starts."))
    expenditures = list(report.expenditures.all())
    if not expenditures:
        add("expenditures", _("List at least one expenditure."))
    for expenditure in expenditures:
        if not expenditure.receipt:
            add("expenditures", _("Add the receipt of “%(description)s” (%(date)s).") % {
                "description": expenditure.description, "date": formats.date_format(expenditure.date)})  # fmt: skip
    explanations = report.variance_explanations or {}
    for row in budget_rows(report):
        if row.needs_explanation and not str(explanations.get(row.position, "")).strip():
            add(f"explanation_{row.position}",
                _("Explain why spending on “%(category)s” differs from the budget.")
                % {"category": (category_labels or {}).get(row.position, row.label)})  # fmt: skip
    metrics = report.metrics or {}
    for metric in metric_definitions:
        if metric.get("kind", NUMBER) != NUMBER:
            continue
        value = metrics.get(metric["key"], "")
        if not _is_count(value):
            add(
                f"metric_{metric['key']}",
                _("“%(label)s”: enter a number, 0 or more.") % {"label": metric["label"]},
            )
        elif metric.get("whole") and Decimal(str(value).replace(",", "").strip()) % 1:
            add(
                f"metric_{metric['key']}",
                _("“%(label)s”: enter a whole number, without decimals.") % {"label": metric["label"]},
            )
    return errors


def _snapshot(report: SpendingReport) -> dict:
    currency = str(report.award.amount.currency)
    expenditures = list(report.expenditures.all())
    total = sum((e.amount.amount for e in expenditures), Decimal(0))
    return {
        "kind": report.due.kind,
        "due_date": report.due.due_date.isoformat(),
        "period_start": report.period_start.isoformat() if report.period_start else None,
        "period_end": report.period_end.isoformat() if report.period_end else None,
        "narrative": report.narrative,
        "metrics": report.metrics,
        "variance_explanations": report.variance_explanations,
        "currency": currency,
        "total": str(total),
        # Paid by the foundation to vendors on the grantee's behalf: counted as spent (read only).
        "paid_to_vendors": [
            {
                "reference": v.reference_code,
                "vendor": v.vendor.name,
                "purpose": v.purpose,
                "amount": str(v.amount.amount),
                "paid_on": v.paid_on.isoformat() if v.paid_on else None,
            }
            for v in paid_to_vendors(report.award)
        ],  # fmt: skip
        "expenditures": [
            {
                "id": e.pk,
                "date": e.date.isoformat(),
                "category": e.category,
                "description": e.description,
                "amount": str(e.amount.amount),
                "receipt": e.receipt.name,
                "receipt_name": e.receipt_name,
            }
            for e in expenditures
        ],  # fmt: skip
        "budget": [
            {
                "position": row.position,
                "label": row.label,
                "approved": str(row.approved.amount),
                "spent": str(row.spent.amount),
                "variance": str(row.variance.amount),
                "needs_explanation": row.needs_explanation,
            }
            for row in budget_rows(report)
        ],  # fmt: skip
    }


def _admin_url(due: ReportDueDate) -> str:
    try:
        path = reverse("reports_admin:report", args=[due.pk])
    except NoReverseMatch:  # the admin screens are not wired yet
        path = reverse("wagtailadmin_home")
    return settings.WAGTAILADMIN_BASE_URL + path


def submit_report(
    report: SpendingReport, *, by, metric_definitions: list[dict], category_labels: dict | None = None
) -> SpendingReport:
    """Submit (or resubmit after changes) a complete report; officers of the foundation are told.

    Raises ``ReportInvalid`` (with ``errors`` from ``validate_report``) when something is
    missing. Keeps the report as submitted in a new ``SpendingReportVersion``. Submitting a
    report already submitted returns it unchanged (a double click is harmless).
    """
    actor = _grantee(by, report.award)
    with transaction.atomic():
        locked = _lock(report)
        if locked.status in (R.SUBMITTED, R.RESUBMITTED):
            return locked
        name = "resubmit" if locked.status == R.CHANGES_REQUESTED else "submit"
        check_transition(REPORT_TRANSITIONS, name, locked.status, actor, states=ReportStatus)
        errors = validate_report(
            locked, metric_definitions=metric_definitions, category_labels=category_labels
        )
        if errors:
            raise ReportInvalid(errors)
        locked.version += 1
        SpendingReportVersion.objects.create(report=locked, number=locked.version, snapshot=_snapshot(locked),
                                             submitted_by=by)  # fmt: skip
        locked.submitted_at = timezone.now()
        locked.submitted_by = by
        _change_state(locked, name, by=by, actor=actor, fields=("version", "submitted_at", "submitted_by"))
        award = locked.award
        for officer in officers_of(award.application).filter(is_active=True):
            send_templated_email(
                "report_submitted",
                to=[officer.email],
                language=officer.preferred_language or settings.LANGUAGE_CODE,
                context={"report": locked, "award": award, "due": locked.due, "user": officer,
                         "organization": award.application.organization.name, "resubmitted": name == "resubmit",
                         "foundation": award.fund.foundation, "admin_url": _admin_url(locked.due)},
            )  # fmt: skip
    return locked


def request_changes(report: SpendingReport, *, by, message: str) -> SpendingReport:
    """An officer of the foundation sends the report back with a message the grantee reads."""
    actor = _officer(by, report.award)
    message = (message or "").strip()
    if not message:
        raise ReportError(_("Tell the grantee what to change."), field="message")
    with transaction.atomic():
        locked = _lock(report)
        locked.officer_message = message
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = by
        _change_state(locked, "request_changes", by=by, actor=actor, note=message[:1000],
                      fields=("officer_message", "reviewed_at", "reviewed_by"))  # fmt: skip
        notify_members(locked.award.application, "report_changes_requested",
                       {"report": locked, "award": locked.award, "due": locked.due, "message": message},
                       link=report_link(locked.due))  # fmt: skip
    return locked


def accept_report(report: SpendingReport, *, by, today: datetime.date | None = None) -> SpendingReport:
    """An officer of the foundation accepts the report. Payments held because it was overdue
    are released (due again, or scheduled if their date has not come) and the grantee is told."""
    actor = _officer(by, report.award)
    with transaction.atomic():
        locked = _lock(report)
        locked.reviewed_at = timezone.now()
        locked.reviewed_by = by
        _change_state(locked, "accept", by=by, actor=actor, fields=("reviewed_at", "reviewed_by"))
        for installment in Installment.objects.filter(held_for_report=locked.due):
            if installment.status == InstallmentStatus.ON_HOLD:
                installments.lift_hold(installment, by=by, actor=SYSTEM, today=today)
        Installment.objects.filter(held_for_report=locked.due).update(held_for_report=None)
        notify_members(locked.award.application, "report_accepted",
                       {"report": locked, "award": locked.award, "due": locked.due},
                       link=report_link(locked.due))  # fmt: skip
    return locked


# --- Money of an award, returns -------------------------------------------------------------


class AwardMoney(NamedTuple):
    """Where an award's money stands: remaining = paid − reported spent − returned.

    Payments the foundation made to vendors on the grantee's behalf count as paid and as spent
    (``paid_to_vendors`` is that part of ``reported_spent``): the money never reached the grantee,
    so it is never part of what remains with it."""

    awarded: Money
    paid: Money
    reported_spent: Money
    returned: Money
    remaining: Money
    paid_to_vendors: Money


def _sum(amounts, currency: str) -> Money:
    return Money(sum((a.amount for a in amounts), Decimal(0)), currency)


def award_money(award: Award) -> AwardMoney:
    """Awarded, paid, spent in accepted reports, returned (received by finance) and what is left."""
    currency = str(award.amount.currency)
    vendors = list(paid_to_vendors(award))
    to_vendors = _sum((v.amount for v in vendors), currency)
    # An installment paid to a vendor is a paid installment already; direct assistance is not.
    paid = paid_total(award) + _sum((v.amount for v in vendors if v.installment_id is None), currency)
    spent = _sum((e.amount for e in Expenditure.objects.filter(report__award=award, report__status=R.ACCEPTED)),
                 currency) + to_vendors  # fmt: skip
    returned = _sum((r.amount for r in award.returns.filter(status=ReturnStatus.RECEIVED)), currency)
    return AwardMoney(award.amount, paid, spent, returned, paid - spent - returned, to_vendors)


def paid_to_vendors(award: Award):
    """The award's payments to vendors that are paid: spent on the grantee's behalf."""
    from grants.services.vendor_payments import paid_for_award

    return paid_for_award(award)


def announce_return(award: Award, *, by, amount: Money, method: str, reference: str = "",
                    note: str = "") -> GrantReturn:  # fmt: skip
    """The grantee says they are giving back unspent money (finance confirms it arrived).

    ``amount`` must be positive, in the grant's currency and at most what was paid minus what
    accepted reports spent and what was already returned or announced.
    """
    _grantee(by, award)
    currency = str(award.amount.currency)
    if (
        not isinstance(amount, Money)
        or str(amount.currency) != currency
        or not isinstance(amount.amount, Decimal)
        or not amount.amount.is_finite()
        or amount.amount <= 0
        or not is_whole_in_minor_units(amount.amount, currency)
    ):
        raise ReportError(
            _("Enter an amount in %(currency)s greater than zero.") % {"currency": currency}, field="amount"
        )
    method = (method or "").strip()
    if not method:
        raise ReportError(_("Say how the money is sent back (check, bank transfer...)."), field="method")
    with transaction.atomic():
        locked = (
            Award.objects.select_for_update(of=("self",)).select_related("fund__foundation").get(pk=award.pk)
        )
        money = award_money(locked)
        pending = _sum((r.amount for r in locked.returns.filter(status=ReturnStatus.ANNOUNCED)), currency)
        unspent = money.remaining - pending
        if amount > unspent:
            raise ReportError(
                _("At most %(amount)s of this grant is paid and not reported spent or returned.")
                % {"amount": unspent if unspent.amount > 0 else Money(0, currency)},
                field="amount",
            )
        grant_return = GrantReturn.objects.create(award=locked, amount=amount, method=method[:40],
                                                  reference=reference.strip()[:120], note=note.strip(),
                                                  announced_by=by)  # fmt: skip
        record(subject=grant_return, subject_type="grant_return", action="announced", actor=by,
               foundation=locked.fund.foundation, to_state=ReturnStatus.ANNOUNCED, note=str(amount),
               visible_to_applicant=True)  # fmt: skip
    return grant_return


def confirm_return(grant_return: GrantReturn, *, by, received_on: datetime.date) -> GrantReturn:
    """Finance of the foundation confirms the money arrived: the ledger moves it back into the
    fund's bank cash (credit *grant money returned*). A repeat is harmless."""
    award = grant_return.award
    if not can(by, Capability.CONFIRM_RETURNS, award.fund.foundation_id):
        raise IllegalTransition(_("Only finance staff of this foundation can confirm returned money."))
    if received_on is None or received_on > timezone.localdate():
        raise ReportError(_("The date received cannot be in the future."), field="received_on")
    with transaction.atomic():
        locked = (
            GrantReturn.objects.select_for_update(of=("self",))
            .select_related("award__fund__foundation")
            .get(pk=grant_return.pk)
        )
        if locked.status == ReturnStatus.RECEIVED:
            return locked
        fund = locked.award.fund
        ledger.post_entry(
            foundation=fund.foundation,
            cause=EntryCause.RETURN,
            memo=_("Money returned on award %(reference)s") % {"reference": locked.award.reference},
            lines=[ledger.debit(fund, AccountKind.BANK_CASH, locked.amount),
                   ledger.credit(fund, AccountKind.GRANTS_RETURNED, locked.amount)],
            by=by,
            award=locked.award,
            reference=locked.reference,
            effective_date=received_on,
            idempotency_key=f"return:{locked.pk}",
        )  # fmt: skip
        locked.status = ReturnStatus.RECEIVED
        locked.received_by = by
        locked.received_on = received_on
        locked.save(update_fields=["status", "received_by", "received_on"])
        record(subject=locked, subject_type="grant_return", action="received", actor=by,
               foundation=fund.foundation, from_state=ReturnStatus.ANNOUNCED, to_state=ReturnStatus.RECEIVED,
               note=str(locked.amount), visible_to_applicant=True)  # fmt: skip
    return locked


# --- Reading: totals and the grantee's dashboard --------------------------------------------


def fund_metric_totals(fund, *, metric_definitions: list[dict]) -> list[dict]:
    """What the fund's grants achieved, from accepted reports: number metrics summed (``total``
    a Decimal; values that are not numbers are skipped), text metrics as how many reports gave
    one (``total`` an int). One dict per definition: key, label, kind, total."""
    reports = list(
        SpendingReport.objects.filter(award__fund=fund, status=R.ACCEPTED).values_list("metrics", flat=True)
    )
    result = []
    for metric in metric_definitions:
        key, kind = metric["key"], metric.get("kind", NUMBER)
        values = [str((m or {}).get(key, "")).strip() for m in reports]
        if kind == NUMBER:
            total = sum((Decimal(v.replace(",", "")) for v in values if v and _is_count(v)), Decimal(0))
        else:
            total = sum(1 for v in values if v)
        result.append({"key": key, "label": metric["label"], "kind": kind, "total": total})
    return result


@dataclass(frozen=True)
class ReportDue:
    """A report due date on the grantee's dashboard: its report (or None) and where it stands."""

    due: ReportDueDate
    report: SpendingReport | None
    state: str  # due, overdue, submitted, changes_requested, accepted
    days_left: int


def report_state(due: ReportDueDate, report: SpendingReport | None, today: datetime.date) -> str:
    if report is not None and report.status in (R.SUBMITTED, R.RESUBMITTED):
        return "submitted"
    if report is not None and report.status in (R.CHANGES_REQUESTED, R.ACCEPTED):
        return str(report.status)
    return "overdue" if due.due_date < today else "due"


def reports_due_for(organization_ids, *, today: datetime.date | None = None) -> list[ReportDue]:
    """Every report due date of the organizations' accepted or active awards, by date, with its
    report and state: "due" (not yet due; ``days_left`` says how soon), "overdue", "submitted"
    (or resubmitted), "changes_requested" or "accepted"."""
    today = today or timezone.localdate()
    dues = (
        ReportDueDate.objects.filter(
            award__application__organization_id__in=list(organization_ids),
            award__status__in=REPORTING_AWARD_STATES,
        )
        .select_related("award__application__organization", "award__fund", "report")
        .order_by("due_date", "pk")
    )
    result = []
    for due in dues:
        report = getattr(due, "report", None)  # the reverse one-to-one raises when missing
        result.append(ReportDue(due, report, report_state(due, report, today), (due.due_date - today).days))
    return result
