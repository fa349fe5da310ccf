"""Hotline stipends: programs, volunteers' shifts, monthly batches, their approval and payment.

Who does what:
- program officers and foundation admins set up a program (rate, monthly cap, coordinating
  organizations), compute each month's batch per coordinating organization and approve it
  (which commits the money in the fund's ledger, refused when the fund is short);
- members of a coordinating organization register volunteers by pseudonym and log shifts,
  one by one or from a CSV file (all rows or none);
- finance staff who did not approve a batch pay it (``grants.services.stipend_payments``, through
  the payout engine shared with installments).
"""

import csv
import datetime
import io
import unicodedata
from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.db import transaction
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    AccountKind,
    EntryCause,
    Foundation,
    Fund,
    Organization,
    PayeeAccount,
    RateUnit,
    Shift,
    StipendBatch,
    StipendBatchStatus,
    StipendLine,
    StipendPayment,
    StipendProgram,
    Volunteer,
)
from grants.money import ExactSum, check_money, minor_unit, zero
from grants.permissions import Capability, can, is_organization_member, scope
from grants.services import ledger
from grants.services.errors import DomainError, IllegalTransition
from grants.services.workflow import SYSTEM, Transition, check_transition, record


class StipendError(DomainError):
    """A stipend action was refused by a rule; ``message`` says why."""


class ShiftImportError(StipendError):
    """A CSV file of shifts was refused; ``row_errors`` lists ``(row number, message)`` (the header
    is row 1). Nothing of the file was saved."""

    def __init__(self, message, row_errors=()):
        super().__init__(message)
        self.row_errors = list(row_errors)


OFFICER = "program_officer"
FINANCE = "finance_officer"
MAX_CSV_BYTES = 1024 * 1024
MAX_CSV_ROWS = 5000
CSV_COLUMNS = ("pseudonym", "date", "hours")
# The names a column may have in the first row, compared without case or accents: English, and
# Spanish as a coordinator's spreadsheet names them.
CSV_HEADER_NAMES = {
    "pseudonym": {"pseudonym", "nickname", "seudonimo", "pseudonimo", "apodo"},
    "date": {"date", "fecha"},
    "hours": {"hours", "horas"},
}
CSV_DELIMITERS = ",;\t"

B = StipendBatchStatus
BATCH_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("approve", (B.DRAFT,), B.APPROVED, (OFFICER,)),
        Transition("cancel", (B.DRAFT,), B.CANCELLED, (OFFICER,)),
        Transition("pay", (B.APPROVED,), B.PAID, (SYSTEM,)),
        # Stripe took a payment back: the batch is owed again until finance settles it.
        Transition("payment_reversed", (B.PAID,), B.APPROVED, (SYSTEM,)),
    )
}
LIVE_BATCH_STATES = (B.DRAFT, B.APPROVED, B.PAID)
COMMITTED_BATCH_STATES = (B.APPROVED, B.PAID)


def first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def next_month(month: datetime.date) -> datetime.date:
    return (month.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)


def month_label(month: datetime.date) -> str:
    return formats.date_format(month, "YEAR_MONTH_FORMAT")


def transition(batch: StipendBatch, name: str, *, by, actor: str, note: str = "", fields=()) -> None:
    previous = batch.status
    target = check_transition(BATCH_TRANSITIONS, name, previous, actor, states=StipendBatchStatus).target
    batch.status = target
    batch.save(update_fields=["status", *fields])
    record(subject=batch, subject_type="stipend_batch", action=name, actor=by,
           foundation=batch.program.fund.foundation, from_state=previous, to_state=target, note=note[:500])  # fmt: skip


def lock_batch(batch: StipendBatch) -> StipendBatch:
    return (
        StipendBatch.objects.select_for_update(of=("self",))
        .select_related("program__fund__foundation", "organization")
        .get(pk=batch.pk)
    )


# --- Programs --------------------------------------------------------------------------------


def _check_program_terms(fund: Fund, rate: Money, monthly_cap: Money, rate_unit: str) -> None:
    for label, amount in ((_("The rate"), rate), (_("The monthly cap"), monthly_cap)):
        if not isinstance(amount, Money) or str(amount.currency) != fund.currency:
            raise StipendError(
                _("%(what)s must be in the fund's currency (%(currency)s).")
                % {"what": label, "currency": fund.currency}
            )
        check_money(amount, currency=fund.currency)
        if amount.amount <= 0:
            raise StipendError(_("%(what)s must be greater than zero.") % {"what": label})
    if rate_unit not in RateUnit.values:
        raise StipendError(_("Choose whether the rate is per shift or per hour."))


def save_program(
    *,
    fund: Fund,
    name: str,
    rate: Money,
    rate_unit: str,
    monthly_cap: Money,
    coordinators,
    by,
    active: bool = True,
    program: StipendProgram | None = None,
    shifts_from: datetime.date | None = None,
    translations: dict | None = None,
) -> StipendProgram:
    """Create a stipend program on ``fund`` (or change ``program``). Officers and admins of the
    fund's foundation only; rate and cap positive, in the fund's currency; ``shifts_from`` is the
    first day shifts may be logged (``None``: see ``earliest_shift_date``), not in the future;
    ``translations`` the name in the portal's other languages (``{"es": {"name": …}}``; ``None``
    keeps the program's)."""
    if not can(by, Capability.MANAGE_STIPENDS, fund.foundation_id):
        raise StipendError(_("Only program officers of this foundation can set up stipend programs."))
    if program is not None and program.fund_id != fund.pk:
        raise StipendError(_("A program stays on the fund it was created on."))
    name = (name or "").strip()
    if not name:
        raise StipendError(_("Give the program a name."))
    _check_program_terms(fund, rate, monthly_cap, rate_unit)
    if shifts_from is not None and shifts_from > timezone.localdate():
        raise StipendError(_("Shifts cannot start in the future."))
    with transaction.atomic():
        creating = program is None
        program = program or StipendProgram(fund=fund)
        program.name, program.rate, program.rate_unit = name[:200], rate, rate_unit
        program.monthly_cap, program.active = monthly_cap, active
        program.shifts_from = shifts_from
        if translations is not None:
            program.translations = translations
        program.save()
        program.coordinators.set(list(coordinators))
        record(subject=program, subject_type="stipend_program", action="create" if creating else "change",
               actor=by, foundation=fund.foundation,
               note=f"{program.rate} {program.rate_unit}, cap {program.monthly_cap}")  # fmt: skip
    return program


def programs_for_staff(user):
    """Programs of the foundations where ``user`` may read stipends."""
    return scope(
        StipendProgram.objects.select_related("fund__foundation"),
        user,
        Capability.VIEW_STIPENDS,
        "fund__foundation",
    )


# --- Coordinators: volunteers and shifts -----------------------------------------------------


def coordinates_any_program(user) -> bool:
    """Whether ``user`` coordinates any active program (one query)."""
    if not getattr(user, "is_authenticated", False):
        return False
    return StipendProgram.objects.filter(active=True, coordinators__memberships__user=user).exists()


def coordinated_programs(user) -> list[tuple[StipendProgram, Organization]]:
    """(program, organization) pairs ``user`` coordinates: active programs whose coordinating
    organizations include one of the user's organizations."""
    if not getattr(user, "is_authenticated", False):
        return []
    pairs = []
    programs = (
        StipendProgram.objects.filter(active=True, coordinators__memberships__user=user)
        .select_related("fund__foundation")
        .distinct()
    )
    for program in programs:
        for organization in program.coordinators.filter(memberships__user=user).distinct():
            pairs.append((program, organization))
    return pairs


def is_coordinator(user, program: StipendProgram, organization: Organization) -> bool:
    """Whether ``user`` logs shifts for ``organization`` in ``program``."""
    return program.coordinators.filter(pk=organization.pk).exists() and is_organization_member(
        user, organization.pk
    )


def _require_coordinator(by, program: StipendProgram, organization: Organization) -> None:
    if not is_coordinator(by, program, organization):
        raise StipendError(_("Only members of a coordinating organization can do this."))


def add_volunteer(*, program: StipendProgram, organization: Organization, pseudonym: str, by) -> Volunteer:
    """Register a volunteer under a pseudonym (unique within the program and organization)."""
    _require_coordinator(by, program, organization)
    pseudonym = " ".join((pseudonym or "").split())
    if not pseudonym:
        raise StipendError(_("Give the volunteer a nickname."))
    if len(pseudonym) > 80:
        raise StipendError(_("A nickname has at most 80 characters."))
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        taken = Volunteer.objects.filter(
            program=program, organization=organization, pseudonym__iexact=pseudonym
        ).exists()
        if taken:
            raise StipendError(
                _("A volunteer called “%(name)s” is already registered.") % {"name": pseudonym}
            )
        volunteer = Volunteer.objects.create(program=program, organization=organization, pseudonym=pseudonym)
        record(subject=volunteer, subject_type="volunteer", action="add", actor=by,
               foundation=program.fund.foundation)  # fmt: skip
    return volunteer


def set_volunteer_active(volunteer: Volunteer, *, active: bool, by) -> Volunteer:
    """Deactivate (no new shifts) or reactivate a volunteer. Their logged shifts stay payable."""
    _require_coordinator(by, volunteer.program, volunteer.organization)
    if volunteer.active != active:
        volunteer.active = active
        volunteer.save(update_fields=["active"])
        record(subject=volunteer, subject_type="volunteer", action="activate" if active else "deactivate",
               actor=by, foundation=volunteer.program.fund.foundation)  # fmt: skip
    return volunteer


def computed_months(program: StipendProgram, organization: Organization) -> set[datetime.date]:
    """Months that have a live (draft, approved or paid) batch: their shifts are locked."""
    return set(
        StipendBatch.objects.filter(
            program=program, organization=organization, status__in=LIVE_BATCH_STATES
        ).values_list("month", flat=True)
    )


def _parse_hours(value) -> Decimal:
    try:
        hours = value if isinstance(value, Decimal) else Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise StipendError(_("Hours must be a number, such as 4 or 2.5.")) from None
    if not hours.is_finite() or hours <= 0 or hours > 24:
        raise StipendError(_("Hours must be more than 0 and at most 24."))
    if hours != hours.quantize(Decimal("0.01")):
        raise StipendError(_("Hours have at most two decimals."))
    return hours.quantize(Decimal("0.01"))


def earliest_shift_date(program: StipendProgram) -> datetime.date:
    """The first day a shift of ``program`` may fall on: the date officers set on the program
    (``shifts_from``), else the first of the month before its fund was created. Stipends are paid
    monthly in arrears, so a program moving into the portal brings at least its last month;
    anything older than the program's time (a mistyped 1999) is refused."""
    if program.shifts_from:
        return program.shifts_from
    created = timezone.localdate(program.fund.created_at)
    return first_of_month(first_of_month(created) - datetime.timedelta(days=1))


@dataclass(frozen=True)
class _Pending:
    """A shift accepted earlier in the same CSV file, not saved yet."""

    volunteer_id: int
    date: datetime.date
    hours: Decimal
    row: int


def _shift_problem(
    volunteer: Volunteer,
    date: datetime.date,
    hours: Decimal,
    today: datetime.date,
    locked_months,
    pending: list[_Pending] = (),
) -> str | None:
    """Why this shift cannot be logged, or ``None``: the one rule of the form and the CSV import.

    The volunteer is active; the date is within the program's time (``earliest_shift_date`` to
    today) and its month is not computed; the same shift (volunteer, date, hours) is not logged
    already nor earlier in the file (``pending``); the volunteer's shifts that day stay ≤ 24 hours.
    """
    if not volunteer.active:
        return _("“%(name)s” is no longer active; reactivate them to log shifts.") % {
            "name": volunteer.pseudonym
        }
    if date > today:
        return _("A shift cannot be in the future (%(date)s).") % {"date": formats.date_format(date)}
    earliest = earliest_shift_date(volunteer.program)
    if date < earliest:
        return _("A shift on %(date)s is before this program's time: shifts start on %(earliest)s.") % {
            "date": formats.date_format(date), "earliest": formats.date_format(earliest)
        }  # fmt: skip
    if first_of_month(date) in locked_months:
        return _(
            "The stipends of %(month)s are already computed, so its shifts cannot change. "
            "Ask the foundation to cancel that computation if a shift is missing."
        ) % {"month": month_label(first_of_month(date))}
    same_day = [p for p in pending if p.volunteer_id == volunteer.pk and p.date == date]
    for earlier in same_day:
        if earlier.hours == hours:
            return _("It repeats row %(row)s.") % {"row": earlier.row}
    logged = list(Shift.objects.filter(volunteer=volunteer, date=date).values_list("hours", flat=True))
    if hours in logged:
        return _("This shift is already logged.")
    total = sum(logged, Decimal(0)) + sum((p.hours for p in same_day), Decimal(0)) + hours
    if total > 24:
        total = total.quantize(Decimal(1)) if total == total.to_integral() else total.normalize()
        return _("“%(name)s” would have %(total)s hours of shifts on %(date)s; a day has at most 24.") % {
            "name": volunteer.pseudonym,
            "total": formats.number_format(total),
            "date": formats.date_format(date),
        }
    return None


def log_shift(
    *, volunteer: Volunteer, date: datetime.date, hours, by, today: datetime.date | None = None
) -> Shift:
    """Log one shift, under the same rule as the CSV import (``_shift_problem``)."""
    _require_coordinator(by, volunteer.program, volunteer.organization)
    today = today or timezone.localdate()
    hours = _parse_hours(hours)
    with transaction.atomic():
        # The organization row serialises shift logging against a batch being computed.
        Organization.objects.select_for_update().get(pk=volunteer.organization_id)
        volunteer.refresh_from_db(fields=["active"])
        problem = _shift_problem(
            volunteer, date, hours, today, computed_months(volunteer.program, volunteer.organization)
        )
        if problem:
            raise StipendError(problem)
        return Shift.objects.create(volunteer=volunteer, date=date, hours=hours, created_by=by)


def delete_shift(shift: Shift, *, by) -> None:
    """Remove a shift logged by mistake; refused once its month is computed."""
    volunteer = shift.volunteer
    _require_coordinator(by, volunteer.program, volunteer.organization)
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=volunteer.organization_id)
        shift = Shift.objects.get(pk=shift.pk)
        if shift.batch_id or first_of_month(shift.date) in computed_months(
            volunteer.program, volunteer.organization
        ):
            raise StipendError(_("This shift is part of computed stipends and cannot be removed."))
        shift.delete()


@dataclass
class _Row:
    number: int
    volunteer: Volunteer | None = None
    date: datetime.date | None = None
    hours: Decimal | None = None


def import_shifts_csv(
    *,
    program: StipendProgram,
    organization: Organization,
    data: bytes,
    by,
    today: datetime.date | None = None,
) -> list[Shift]:
    """Log every shift of a CSV file. All rows or none: any wrong row raises ``ShiftImportError``
    listing each problem with its row number (the header is row 1), and nothing is saved.

    The file is what a spreadsheet writes in English or Spanish: columns named pseudonym, date,
    hours or seudónimo, fecha, horas (any case, with or without accents, in any order), separated
    by commas, semicolons (Spanish Excel) or tabs; UTF-8 with or without BOM, else Windows-1252;
    dates as YYYY-MM-DD; hours as 2.5 or 2,5."""
    _require_coordinator(by, program, organization)
    today = today or timezone.localdate()
    if len(data) > MAX_CSV_BYTES:
        raise ShiftImportError(_("The file is too big (at most 1 MB)."))
    text = _decode(data)
    reader = _csv_rows(text, _delimiter(text))
    order = _column_order(next(reader, []))
    volunteers = {
        v.pseudonym.casefold(): v
        for v in Volunteer.objects.filter(program=program, organization=organization).select_related(
            "program__fund"
        )
    }
    errors, rows, pending = [], [], []
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        locked = computed_months(program, organization)
        for number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) + len(errors) >= MAX_CSV_ROWS:
                raise ShiftImportError(_("A file has at most %(count)s rows.") % {"count": MAX_CSV_ROWS})
            cells = [cells[i] if i < len(cells) else "" for i in order] if len(cells) >= 3 else cells
            problems = _check_row(cells, volunteers, today, locked, pending)
            if not problems:
                row = _Row(number, *_row_values(cells, volunteers))
                pending.append(_Pending(row.volunteer.pk, row.date, row.hours, number))
                rows.append(row)
            errors += [(number, problem) for problem in problems]
        if errors:
            raise ShiftImportError(
                _("Nothing was imported: %(count)s rows need a correction.")
                % {"count": len({n for n, _m in errors})},
                errors,
            )
        if not rows:
            raise ShiftImportError(_("The file has no shifts."))
        shifts = Shift.objects.bulk_create(
            Shift(volunteer=row.volunteer, date=row.date, hours=row.hours, created_by=by) for row in rows
        )
        record(subject=organization, subject_type="stipend_shifts", action="import", actor=by,
               foundation=program.fund.foundation, note=f"{len(shifts)} shifts, program {program.pk}")  # fmt: skip
    return shifts


def _decode(data: bytes) -> str:
    """UTF-8 (a BOM, as Excel writes it, is dropped), else Windows-1252 (Excel's "CSV" on Windows)."""
    if b"\x00" in data:  # UTF-16 or a binary file: no spreadsheet's CSV has NUL bytes
        raise ShiftImportError(
            _("The file is not text a spreadsheet writes. Save it as “CSV UTF-8” and try again.")
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        raise ShiftImportError(
            _("The file is not text a spreadsheet writes. Save it as “CSV UTF-8” and try again.")
        ) from None


def _delimiter(text: str) -> str:
    """The separator of the first row: whichever of comma, semicolon and tab it has most of."""
    first = text.split("\n", 1)[0]
    counts = {mark: first.count(mark) for mark in CSV_DELIMITERS}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _header_key(cell: str) -> str:
    folded = unicodedata.normalize("NFKD", cell.strip().casefold())
    return "".join(ch for ch in folded if not unicodedata.combining(ch))


def _column_order(header: list[str]) -> list[int]:
    """Where pseudonym, date and hours are in the first row, else a ``ShiftImportError``."""
    keys = [_header_key(cell) for cell in header]
    order = []
    for column in CSV_COLUMNS:
        found = [i for i, key in enumerate(keys) if key in CSV_HEADER_NAMES[column]]
        if len(found) != 1:
            raise ShiftImportError(
                _(
                    "The first row must name the columns: pseudonym, date, hours "
                    "(in Spanish: seudónimo, fecha, horas)."
                )
            )
        order.append(found[0])
    return order


def _csv_rows(text: str, delimiter: str = ","):
    """The rows of ``text``; a cell longer than the csv module reads (128 KiB) is refused."""
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        yield from reader
    except csv.Error:
        raise ShiftImportError(
            _("Row %(row)s cannot be read: one of its values is far too long.") % {"row": reader.line_num}
        ) from None


def _row_values(cells, volunteers):
    return (
        volunteers[" ".join(cells[0].split()).casefold()],
        datetime.date.fromisoformat(cells[1].strip()),
        _parse_hours(cells[2]),
    )


def _check_row(cells, volunteers, today, locked, pending) -> list[str]:
    if len(cells) < 3:
        return [_("The row needs three values: pseudonym, date and hours.")]
    problems = []
    volunteer = volunteers.get(" ".join(cells[0].split()).casefold())
    if volunteer is None:
        problems.append(_("No volunteer is registered as “%(name)s”.") % {"name": cells[0].strip()[:80]})
    try:
        date = datetime.date.fromisoformat(cells[1].strip())
    except ValueError:
        date = None
        problems.append(_("“%(value)s” is not a date like 2026-03-31.") % {"value": cells[1].strip()[:20]})
    try:
        hours = _parse_hours(cells[2])
    except StipendError as error:
        hours = None
        problems.append(error.message)
    if volunteer is not None and date is not None and hours is not None:
        problem = _shift_problem(volunteer, date, hours, today, locked, pending)
        if problem:
            problems.append(problem)
    return problems


# --- Computing amounts -------------------------------------------------------------------------


@dataclass
class LineFigures:
    volunteer: Volunteer
    shifts: int
    hours: Decimal
    earned: Money
    amount: Money
    capped: bool


def _round(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(minor_unit(currency), rounding=ROUND_HALF_UP)


def figures_for(program: StipendProgram, shifts) -> list[LineFigures]:
    """What each volunteer earned for ``shifts``: rate × shifts (or hours), capped per month."""
    currency = str(program.rate.currency)
    by_volunteer = defaultdict(list)
    for shift in shifts:
        by_volunteer[shift.volunteer].append(shift)
    lines = []
    for volunteer, worked in sorted(by_volunteer.items(), key=lambda item: item[0].pseudonym.casefold()):
        hours = sum((s.hours for s in worked), Decimal(0))
        units = hours if program.rate_unit == RateUnit.HOUR else Decimal(len(worked))
        earned = Money(_round(program.rate.amount * units, currency), currency)
        capped = earned > program.monthly_cap
        lines.append(
            LineFigures(
                volunteer, len(worked), hours, earned, program.monthly_cap if capped else earned, capped
            )
        )
    return lines


def month_shifts(program: StipendProgram, organization: Organization, month: datetime.date):
    month = first_of_month(month)
    return Shift.objects.filter(
        volunteer__program=program,
        volunteer__organization=organization,
        date__gte=month,
        date__lt=next_month(month),
    ).select_related("volunteer")


# --- Batches ---------------------------------------------------------------------------------


def _require_officer(by, program: StipendProgram) -> None:
    if not can(by, Capability.MANAGE_STIPENDS, program.fund.foundation_id):
        raise IllegalTransition(_("Only program officers of this foundation can do this."))


def compute_batch(
    *, program: StipendProgram, organization: Organization, month: datetime.date, by,
    today: datetime.date | None = None,
) -> StipendBatch:  # fmt: skip
    """Compute the month's stipends of ``organization``'s volunteers as a draft batch.

    Gathers the month's shifts not yet in a batch; one line per volunteer. A draft batch of the
    same month is replaced (cancelled, its shifts released and counted again); an approved or
    paid one is never touched (refused). Refused for a month that has not ended or has no shifts.
    """
    _require_officer(by, program)
    today = today or timezone.localdate()
    month = first_of_month(month)
    if not program.coordinators.filter(pk=organization.pk).exists():
        raise StipendError(
            _("%(organization)s does not coordinate this program.") % {"organization": organization}
        )
    if next_month(month) > today:
        raise StipendError(_("%(month)s can be computed once it has ended.") % {"month": month_label(month)})
    with transaction.atomic():
        Organization.objects.select_for_update().get(pk=organization.pk)
        live = (
            StipendBatch.objects.select_for_update(of=("self",))
            .select_related("program__fund__foundation")
            .filter(program=program, organization=organization, month=month, status__in=LIVE_BATCH_STATES)
            .first()
        )
        if live is not None and live.status != B.DRAFT:
            raise StipendError(
                _("The stipends of %(month)s are already approved; they cannot be computed again.")
                % {"month": month_label(month)}
            )
        if live is not None:
            _release(live, by=by, note=_("Computed again"))
        shifts = list(
            month_shifts(program, organization, month).filter(batch__isnull=True).select_for_update()
        )
        if not shifts:
            raise StipendError(
                _("No shifts were logged for %(month)s, so there is nothing to compute.")
                % {"month": month_label(month)}
            )
        lines = figures_for(program, shifts)
        currency = str(program.rate.currency)
        batch = StipendBatch.objects.create(
            program=program, organization=organization, month=month, computed_by=by,
            total=sum((line.amount for line in lines), zero(currency)),
        )  # fmt: skip
        StipendLine.objects.bulk_create(
            StipendLine(batch=batch, volunteer=line.volunteer, shifts=line.shifts, hours=line.hours,
                        earned=line.earned, amount=line.amount, capped=line.capped)
            for line in lines
        )  # fmt: skip
        Shift.objects.filter(pk__in=[s.pk for s in shifts]).update(batch=batch)
        record(subject=batch, subject_type="stipend_batch", action="compute", actor=by,
               foundation=program.fund.foundation, to_state=batch.status, note=str(batch.total))  # fmt: skip
    return batch


def _release(batch: StipendBatch, *, by, note: str = "") -> None:
    """Cancel a locked draft batch and free its shifts."""
    transition(batch, "cancel", by=by, actor=OFFICER, note=note)
    Shift.objects.filter(batch=batch).update(batch=None)


def cancel_batch(batch: StipendBatch, *, by, reason: str = "") -> StipendBatch:
    """Cancel a draft batch (officers): its shifts can be changed and computed again."""
    _require_officer(by, batch.program)
    with transaction.atomic():
        locked = lock_batch(batch)
        _release(locked, by=by, note=reason)
    return locked


def organization_payee(foundation: Foundation, organization: Organization) -> PayeeAccount | None:
    return PayeeAccount.objects.filter(
        foundation=foundation, organization=organization, volunteer_pseudonym=""
    ).first()


def payee_for_line(
    line: StipendLine, foundation: Foundation, fallback: PayeeAccount | None
) -> PayeeAccount | None:
    own = line.volunteer.payee
    if own is not None and own.foundation_id == foundation.pk:
        return own
    return fallback


def approve_batch(batch: StipendBatch, *, by) -> StipendBatch:
    """Approve a draft batch (officers): commit its total in the fund's ledger and split it into
    one payment per payee — a volunteer with their own connected account is paid directly, the
    others through the coordinating organization's account.

    Refused when the fund lacks the money or when someone would be paid through an organization
    that has not set up payouts; then nothing changes.
    """
    _require_officer(by, batch.program)
    with transaction.atomic():
        locked = lock_batch(batch)
        check_transition(BATCH_TRANSITIONS, "approve", locked.status, OFFICER, states=StipendBatchStatus)
        fund, foundation = locked.program.fund, locked.program.fund.foundation
        lines = list(locked.lines.select_related("volunteer__payee"))
        fallback = organization_payee(foundation, locked.organization)
        shares: dict[int, Money] = {}
        payees = {}
        for line in lines:
            payee = payee_for_line(line, foundation, fallback)
            if payee is None:
                raise StipendError(_("The coordinating organization must set up payouts first."))
            payees[payee.pk] = payee
            shares[payee.pk] = shares.get(payee.pk, zero(str(line.amount.currency))) + line.amount
        ledger.lock_fund(fund)
        ledger.require_available(fund, locked.total)
        ledger.post_entry(
            foundation=foundation,
            cause=EntryCause.STIPEND,
            memo=_("Stipends of %(month)s: %(organization)s, %(program)s")
            % {"month": month_label(locked.month), "organization": locked.organization.name,
               "program": locked.program.name},
            lines=[
                ledger.debit(fund, AccountKind.GRANTS_AWARDED, locked.total),
                ledger.credit(fund, AccountKind.GRANTS_PAYABLE, locked.total),
            ],
            by=by,
            reference=f"stipend-batch:{locked.pk}",
            idempotency_key=f"stipend-batch:{locked.pk}:commit",
        )  # fmt: skip
        StipendPayment.objects.bulk_create(
            StipendPayment(batch=locked, payee=payees[pk], amount=amount) for pk, amount in shares.items()
        )
        locked.approved_by, locked.approved_at = by, timezone.now()
        transition(locked, "approve", by=by, actor=OFFICER, note=str(locked.total),
                    fields=("approved_by", "approved_at"))  # fmt: skip
    return locked


# --- Payees -------------------------------------------------------------------------------


def payee_label(payee: PayeeAccount) -> str:
    if payee.volunteer_pseudonym:
        return _("“%(name)s” (%(organization)s)") % {
            "name": payee.volunteer_pseudonym,
            "organization": payee.organization.name,
        }
    return payee.organization.name


# --- Tax-reporting threshold -----------------------------------------------------------------


@dataclass(frozen=True)
class YearlyTotal:
    """Stipends approved or paid to one payee (or earned by one volunteer) in a year, per currency."""

    label: str
    organization: Organization
    total: Money
    reaches_threshold: bool
    payee: PayeeAccount | None = None
    volunteer: Volunteer | None = None


@dataclass(frozen=True)
class YearlyTotals:
    year: int
    threshold: Decimal
    payees: list
    volunteers: list


def tax_threshold() -> Decimal:
    return Decimal(str(getattr(settings, "STIPEND_TAX_THRESHOLD", 2000)))


def yearly_totals(foundation: Foundation, year: int) -> YearlyTotals:
    """Per payee, and per volunteer, the stipends of approved or paid batches whose month falls in
    ``year`` at ``foundation``; each total (one per currency, never added across currencies) is
    flagged when it reaches ``settings.STIPEND_TAX_THRESHOLD`` (2000 by default) in its currency."""
    threshold = tax_threshold()
    batches = {"batch__program__fund__foundation": foundation, "batch__month__year": year,
               "batch__status__in": COMMITTED_BATCH_STATES}  # fmt: skip
    payee_rows = (
        StipendPayment.objects.filter(**batches)
        .values("payee", "currency")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )
    payee_objects = PayeeAccount.objects.select_related("organization").in_bulk(
        {r["payee"] for r in payee_rows}
    )
    payees = [
        YearlyTotal(label=payee_label(payee_objects[r["payee"]]), organization=payee_objects[r["payee"]].organization,
                    total=Money(r["total"], r["currency"]), reaches_threshold=r["total"] >= threshold,
                    payee=payee_objects[r["payee"]])
        for r in payee_rows
    ]  # fmt: skip
    line_rows = (
        StipendLine.objects.filter(**batches)
        .values("volunteer", "currency")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )
    volunteer_objects = Volunteer.objects.select_related("organization").in_bulk(
        {r["volunteer"] for r in line_rows}
    )
    volunteers = [
        YearlyTotal(label=volunteer_objects[r["volunteer"]].pseudonym,
                    organization=volunteer_objects[r["volunteer"]].organization,
                    total=Money(r["total"], r["currency"]), reaches_threshold=r["total"] >= threshold,
                    volunteer=volunteer_objects[r["volunteer"]])
        for r in line_rows
    ]  # fmt: skip
    order = lambda row: (row.organization.name.casefold(), row.label.casefold(), str(row.total.currency))  # noqa: E731
    return YearlyTotals(year=year, threshold=threshold, payees=sorted(payees, key=order),
                        volunteers=sorted(volunteers, key=order))  # fmt: skip
