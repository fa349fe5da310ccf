"""Hotline stipends as a coordinator, a program officer, a finance officer and an auditor live them."""

import datetime
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import IntegrityError, transaction
from django.test import override_settings
from django.urls import reverse
from djmoney.money import Money

from grants.models import (
    AccountKind,
    DisbursementStatus,
    EntryCause,
    JournalEntry,
    OrganizationMembership,
    PayeeAccount,
    PayoutStatus,
    Role,
    Shift,
    StipendBatch,
    StipendBatchStatus,
    StipendPayment,
    Volunteer,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.payments.simulator.models import SimulatedStripeObject
from grants.services import ledger, stipend_payments, stipends
from grants.services.errors import DomainError, IllegalTransition
from grants.services.ledger import InsufficientFunds
from tests.factories import OrganizationFactory, UserFactory
from tests.grants.money_fixtures import fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date
TODAY = D(2026, 11, 10)
SEP, OCT = D(2026, 9, 1), D(2026, 10, 1)


def transfers():
    return SimulatedStripeObject.objects.filter(kind="transfer")


def _program(world, rate=25, unit="shift", cap=100, coordinators=None):
    return stipends.save_program(
        fund=world["fund"],
        name="Línea de respuesta",
        rate=usd(rate),
        rate_unit=unit,
        monthly_cap=usd(cap),
        coordinators=coordinators or [world["organization"]],
        by=world["officer"],
    )


@pytest.fixture
def hotline(world):
    program = _program(world)
    org, grantee = world["organization"], world["grantee"]
    volunteers = {
        name: stipends.add_volunteer(program=program, organization=org, pseudonym=name, by=grantee)
        for name in ("Luna", "Sol", "Río")
    }
    return {"program": program, **volunteers}


def shift(world, volunteer, day, hours=4):
    return stipends.log_shift(volunteer=volunteer, date=day, hours=hours, by=world["grantee"], today=TODAY)


def compute(world, program, month=SEP, by="officer"):
    return stipends.compute_batch(
        program=program, organization=world["organization"], month=month, by=world[by], today=TODAY
    )


def payee(world, *, volunteer=None, ready=True) -> PayeeAccount:
    """A connected account in the simulated Stripe (the org's, or a volunteer's own)."""
    gateway = SimulatedGateway(world["foundation"], deliver=lambda delivery: None)
    key = f"test:{volunteer.pk if volunteer else 'org'}"
    account = gateway.create_connected_account(email="x@example.org", metadata={}, idempotency_key=key)
    if ready:
        gateway.complete_onboarding(account.id)
    account_row = PayeeAccount.objects.create(
        foundation=world["foundation"],
        organization=world["organization"],
        volunteer_pseudonym=volunteer.pseudonym if volunteer else "",
        stripe_account_id=account.id,
        payout_status=PayoutStatus.READY if ready else PayoutStatus.INFORMATION_NEEDED,
    )
    if volunteer:
        volunteer.payee = account_row
        volunteer.save(update_fields=["payee"])
    return account_row


# --- Computing a month -----------------------------------------------------------------------


def test_per_shift_stipends_count_the_months_shifts_of_this_groups_volunteers(world, hotline):
    luna, sol = hotline["Luna"], hotline["Sol"]
    for day in (2, 9, 16):
        shift(world, luna, D(2026, 9, day))
    shift(world, sol, D(2026, 9, 30), hours=8)
    shift(world, luna, D(2026, 10, 1))  # next month
    shift(world, luna, D(2026, 8, 31))  # last month
    other_org = OrganizationFactory()
    hotline["program"].coordinators.add(other_org)
    stranger = Volunteer.objects.create(program=hotline["program"], organization=other_org, pseudonym="Luna")
    Shift.objects.create(volunteer=stranger, date=D(2026, 9, 3), hours=4, created_by=world["grantee"])

    batch = compute(world, hotline["program"])

    assert batch.status == StipendBatchStatus.DRAFT
    assert batch.month == SEP and batch.computed_by == world["officer"]
    lines = {line.volunteer.pseudonym: line for line in batch.lines.all()}
    assert set(lines) == {"Luna", "Sol"}
    assert (lines["Luna"].shifts, lines["Luna"].hours, lines["Luna"].amount) == (3, 12, usd(75))
    assert (lines["Sol"].shifts, lines["Sol"].amount, lines["Sol"].capped) == (1, usd(25), False)
    assert batch.total == usd(100)
    assert set(batch.shifts.values_list("date", flat=True)) == {D(2026, 9, d) for d in (2, 9, 16, 30)}
    assert Shift.objects.get(volunteer=stranger).batch is None


def test_per_hour_stipends_multiply_the_hours(world):
    program = _program(world, rate="12.50", unit="hour", cap=500)
    luna = stipends.add_volunteer(
        program=program, organization=world["organization"], pseudonym="Luna", by=world["grantee"]
    )
    shift(world, luna, D(2026, 9, 1), hours="3.5")
    shift(world, luna, D(2026, 9, 2), hours="4.25")

    (line,) = compute(world, program).lines.all()

    assert (line.shifts, line.hours) == (2, pytest.approx(7.75))
    assert line.earned == line.amount == usd("96.88")  # 7.75 x 12.50 = 96.875, rounded half up
    assert not line.capped


def test_the_monthly_cap_limits_the_amount_and_is_flagged(world, hotline):
    for day in range(1, 6):
        shift(world, hotline["Luna"], D(2026, 9, day))
    shift(world, hotline["Sol"], D(2026, 9, 1))

    batch = compute(world, hotline["program"])

    luna = batch.lines.get(volunteer=hotline["Luna"])
    assert (luna.earned, luna.amount, luna.capped) == (usd(125), usd(100), True)
    assert batch.lines.get(volunteer=hotline["Sol"]).capped is False
    assert batch.total == usd(125)


def test_a_month_without_shifts_or_not_yet_ended_is_refused(world, hotline):
    shift(world, hotline["Luna"], D(2026, 9, 1))
    with pytest.raises(stipends.StipendError, match="No shifts"):
        compute(world, hotline["program"], month=D(2026, 8, 1))
    with pytest.raises(stipends.StipendError, match="once it has ended"):
        compute(world, hotline["program"], month=D(2026, 11, 1))
    assert not StipendBatch.objects.exists()


def test_only_officers_compute_and_approve(world, hotline):
    shift(world, hotline["Luna"], D(2026, 9, 1))
    for role in ("finance", "auditor", "grantee"):
        with pytest.raises(IllegalTransition):
            compute(world, hotline["program"], by=role)
    batch = compute(world, hotline["program"])
    with pytest.raises(IllegalTransition):
        stipends.approve_batch(batch, by=world["finance"])


def test_computing_again_replaces_a_draft_but_never_an_approved_batch(world, hotline):
    fund_with(world, 1000)
    payee(world)
    shift(world, hotline["Luna"], D(2026, 9, 1))
    shift(world, hotline["Sol"], D(2026, 9, 2))
    first = compute(world, hotline["program"])

    second = compute(world, hotline["program"])

    first.refresh_from_db()
    assert first.status == StipendBatchStatus.CANCELLED
    assert second.status == StipendBatchStatus.DRAFT and second.total == usd(50)
    assert Shift.objects.filter(batch=second).count() == 2
    assert not Shift.objects.filter(batch=first).exists()

    stipends.approve_batch(second, by=world["officer"])
    with pytest.raises(stipends.StipendError, match="already approved"):
        compute(world, hotline["program"])
    second.refresh_from_db()
    assert second.status == StipendBatchStatus.APPROVED
    assert Shift.objects.filter(batch=second).count() == 2
    assert StipendBatch.objects.count() == 2


def test_cancelling_a_draft_frees_its_shifts(world, hotline):
    s = shift(world, hotline["Luna"], D(2026, 9, 1))
    batch = compute(world, hotline["program"])
    stipends.cancel_batch(batch, by=world["officer"])
    s.refresh_from_db()
    assert s.batch is None
    shift(world, hotline["Luna"], D(2026, 9, 2))  # the month is open again


# --- Shifts ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "hours", "message"),
    [
        (D(2026, 11, 11), 4, "future"),
        (D(2026, 11, 1), 0, "more than 0"),
        (D(2026, 11, 1), "24.5", "at most 24"),
        (D(2026, 11, 1), "-2", "more than 0"),
        (D(2026, 11, 1), "abc", "number"),
        (D(2026, 11, 1), "1.255", "two decimals"),
    ],
)
def test_bad_shifts_are_refused_with_the_reason(world, hotline, day, hours, message):
    with pytest.raises(stipends.StipendError, match=message):
        shift(world, hotline["Luna"], day, hours=hours)
    assert not Shift.objects.exists()


def test_an_inactive_volunteer_gets_no_new_shifts(world, hotline):
    stipends.set_volunteer_active(hotline["Luna"], active=False, by=world["grantee"])
    with pytest.raises(stipends.StipendError, match="no longer active"):
        shift(world, hotline["Luna"], D(2026, 9, 1))


def test_a_pseudonym_is_unique_in_its_group(world, hotline):
    with pytest.raises(stipends.StipendError, match="already registered"):
        stipends.add_volunteer(
            program=hotline["program"],
            organization=world["organization"],
            pseudonym=" luna ",
            by=world["grantee"],
        )


def test_shifts_of_an_approved_month_cannot_be_added_or_removed(world, hotline):
    fund_with(world, 1000)
    payee(world)
    logged = shift(world, hotline["Luna"], D(2026, 9, 1))
    stipends.approve_batch(compute(world, hotline["program"]), by=world["officer"])

    with pytest.raises(stipends.StipendError, match="already computed"):
        shift(world, hotline["Sol"], D(2026, 9, 20))
    with pytest.raises(stipends.StipendError, match="cannot be removed"):
        stipends.delete_shift(logged, by=world["grantee"])
    with pytest.raises(stipends.ShiftImportError) as raised:
        _import(world, hotline, "pseudonym,date,hours\nSol,2026-09-21,3\n")
    assert raised.value.row_errors[0][0] == 2
    assert Shift.objects.count() == 1
    shift(world, hotline["Sol"], D(2026, 10, 2))  # the next month is open


def test_members_of_another_group_cannot_log_shifts_for_these_volunteers(world, hotline):
    other_org = OrganizationFactory()
    hotline["program"].coordinators.add(other_org)
    outsider = UserFactory()
    OrganizationMembership.objects.create(organization=other_org, user=outsider, role="owner")
    with pytest.raises(stipends.StipendError):
        stipends.log_shift(volunteer=hotline["Luna"], date=D(2026, 9, 1), hours=4, by=outsider, today=TODAY)
    with pytest.raises(stipends.StipendError):
        stipends.import_shifts_csv(
            program=hotline["program"], organization=world["organization"],
            data=b"pseudonym,date,hours\nLuna,2026-09-01,4\n", by=outsider, today=TODAY,
        )  # fmt: skip
    with pytest.raises(stipends.StipendError):
        stipends.set_volunteer_active(hotline["Luna"], active=False, by=outsider)
    assert not Shift.objects.exists()


# --- CSV import --------------------------------------------------------------------------------


def _import(world, hotline, text, *, bom=False):
    data = ("\ufeff" if bom else "").encode() + text.encode("utf-8")
    return stipends.import_shifts_csv(
        program=hotline["program"],
        organization=world["organization"],
        data=data,
        by=world["grantee"],
        today=TODAY,
    )


def test_a_valid_file_logs_every_shift(world, hotline):
    shifts = _import(
        world, hotline, "pseudonym,date,hours\nLuna,2026-09-01,4\nSol,2026-09-02,2.5\n\nRío,2026-10-03,6\n"
    )
    assert len(shifts) == 3
    assert sorted(Shift.objects.values_list("volunteer__pseudonym", "hours")) == [
        ("Luna", 4), ("Río", 6), ("Sol", 2.5)
    ]  # fmt: skip


def test_a_file_with_a_bom_is_read(world, hotline):
    _import(world, hotline, "pseudonym,date,hours\r\nLuna,2026-09-01,4\r\n", bom=True)
    assert Shift.objects.get().volunteer == hotline["Luna"]


def test_a_file_with_bad_rows_saves_nothing_and_names_the_rows(world, hotline):
    text = (
        "pseudonym,date,hours\n"
        "Luna,2026-09-01,4\n"  # row 2: fine
        "Estrella,2026-09-02,4\n"  # row 3: unknown pseudonym
        "Sol,02/09/2026,4\n"  # row 4: not an ISO date
        "Sol,2026-09-03,30\n"  # row 5: too many hours
        "Luna,2026-09-01,4\n"  # row 6: repeats row 2
        "Río,2026-12-01,4\n"  # row 7: future
    )
    with pytest.raises(stipends.ShiftImportError) as raised:
        _import(world, hotline, text)
    rows = dict(raised.value.row_errors)
    assert sorted(rows) == [3, 4, 5, 6, 7]
    assert "Estrella" in rows[3]
    assert "2026-03-31" in rows[4]
    assert "24" in rows[5]
    assert "row 2" in rows[6]
    assert "future" in rows[7]
    assert not Shift.objects.exists()


def test_a_file_imported_twice_is_refused_the_second_time(world, hotline):
    text = "pseudonym,date,hours\nLuna,2026-09-01,4\n"
    _import(world, hotline, text)
    with pytest.raises(stipends.ShiftImportError) as raised:
        _import(world, hotline, text)
    assert raised.value.row_errors[0][0] == 2
    assert Shift.objects.count() == 1


@pytest.mark.parametrize(
    "data",
    [b"name,day,h\nLuna,2026-09-01,4\n", "pseudonym,date,hours\nLuna,2026-09-01,4\n".encode("utf-16"), b""],
)
def test_a_file_of_the_wrong_shape_is_refused(world, hotline, data):
    with pytest.raises(stipends.ShiftImportError):
        stipends.import_shifts_csv(
            program=hotline["program"],
            organization=world["organization"],
            data=data,
            by=world["grantee"],
            today=TODAY,
        )
    assert not Shift.objects.exists()


def _import_bytes(world, hotline, data):
    return stipends.import_shifts_csv(
        program=hotline["program"],
        organization=world["organization"],
        data=data,
        by=world["grantee"],
        today=TODAY,
    )


def test_a_spanish_excel_file_is_read(world, hotline):
    """What Excel in Spanish writes: a BOM, semicolons, Spanish column names, decimal commas."""
    data = "\ufeffFecha;SEUDÓNIMO;Horas\r\n2026-09-01;Luna;7,5\r\n2026-09-02;Río;4\r\n".encode()
    shifts = _import_bytes(world, hotline, data)
    assert len(shifts) == 2
    assert sorted(Shift.objects.values_list("volunteer__pseudonym", "date", "hours")) == [
        ("Luna", datetime.date(2026, 9, 1), Decimal("7.5")),
        ("Río", datetime.date(2026, 9, 2), Decimal("4")),
    ]


@pytest.mark.parametrize(
    "data",
    [
        "seudonimo,fecha,horas\nRío,2026-09-01,2.5\n".encode("cp1252"),  # Excel's plain "CSV" on Windows
        b"pseudonym\tdate\thours\nR\xc3\xado\t2026-09-01\t2.5\n",  # tab-separated UTF-8
    ],
)
def test_windows_1252_and_tab_separated_files_are_read(world, hotline, data):
    _import_bytes(world, hotline, data)
    shift = Shift.objects.get()
    assert shift.volunteer == hotline["Río"] and shift.hours == Decimal("2.5")


def test_a_spanish_file_with_a_wrong_row_names_the_row_and_saves_nothing(world, hotline):
    data = "\ufeffseudónimo;fecha;horas\r\nLuna;2026-09-01;4\r\nSol;2026-09-02;1.234,5\r\n".encode()
    with pytest.raises(stipends.ShiftImportError) as raised:
        _import_bytes(world, hotline, data)
    assert [number for number, _message in raised.value.row_errors] == [3]
    assert "Hours" in raised.value.row_errors[0][1]
    assert not Shift.objects.exists()


def test_a_header_in_neither_language_is_refused_with_both_names(world, hotline):
    with pytest.raises(stipends.ShiftImportError) as raised:
        _import_bytes(world, hotline, b"nombre;dia;horas\nLuna;2026-09-01;4\n")
    assert "seudónimo, fecha, horas" in raised.value.message
    assert not Shift.objects.exists()


# --- Approving ---------------------------------------------------------------------------------


def test_approval_commits_the_total_and_splits_payments_per_payee(world, hotline):
    fund_with(world, 1000)
    org_account = payee(world)
    luna_account = payee(world, volunteer=hotline["Luna"])
    for day in (1, 2):
        shift(world, hotline["Luna"], D(2026, 9, day))
    shift(world, hotline["Sol"], D(2026, 9, 3))
    shift(world, hotline["Río"], D(2026, 9, 4))
    batch = compute(world, hotline["program"])

    stipends.approve_batch(batch, by=world["officer"])

    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.APPROVED and batch.approved_by == world["officer"]
    payments = {p.payee: p.amount for p in batch.payments.all()}
    assert payments == {luna_account: usd(50), org_account: usd(50)}
    (entry,) = JournalEntry.objects.filter(cause=EntryCause.STIPEND)
    assert entry.idempotency_key == f"stipend-batch:{batch.pk}:commit"
    assert {line.account.kind: line.amount for line in entry.lines.all()} == {
        AccountKind.GRANTS_AWARDED: usd(100),
        AccountKind.GRANTS_PAYABLE: usd(-100),
    }
    money = ledger.balances(world["fund"])
    assert (money.committed, money.outstanding, money.available) == (usd(100), usd(100), usd(900))
    with pytest.raises(IllegalTransition):
        stipends.approve_batch(batch, by=world["officer"])


def test_approval_is_refused_when_the_fund_is_short_and_changes_nothing(world, hotline):
    fund_with(world, 40)
    payee(world)
    shift(world, hotline["Luna"], D(2026, 9, 1))
    shift(world, hotline["Sol"], D(2026, 9, 1))
    batch = compute(world, hotline["program"])

    with pytest.raises(InsufficientFunds):
        stipends.approve_batch(batch, by=world["officer"])

    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.DRAFT
    assert not StipendPayment.objects.exists()
    assert not JournalEntry.objects.filter(cause=EntryCause.STIPEND).exists()
    assert ledger.balances(world["fund"]).committed == usd(0)


def test_approval_needs_the_organization_to_have_set_up_payouts(world, hotline):
    fund_with(world, 1000)
    shift(world, hotline["Sol"], D(2026, 9, 1))
    batch = compute(world, hotline["program"])
    with pytest.raises(stipends.StipendError, match="set up payouts first"):
        stipends.approve_batch(batch, by=world["officer"])
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.DRAFT


# --- Paying ------------------------------------------------------------------------------------


@pytest.fixture
def approved(world, hotline):
    """September approved: Luna ($50, her own account) and Sol ($25, through the group)."""
    fund_with(world, 1000)
    payee(world)
    payee(world, volunteer=hotline["Luna"])
    for day in (1, 2):
        shift(world, hotline["Luna"], D(2026, 9, day))
    shift(world, hotline["Sol"], D(2026, 9, 3))
    return stipends.approve_batch(compute(world, hotline["program"]), by=world["officer"])


def test_paying_sends_one_transfer_per_payee_even_when_clicked_twice(world, approved):
    result = stipend_payments.pay_batch(approved, by=world["finance"])
    again = stipend_payments.pay_batch(approved, by=world["finance2"])

    assert not result.failures and not again.failures
    assert transfers().count() == 2
    disbursements = [p.disbursement for p in approved.payments.select_related("disbursement")]
    assert all(d.status == DisbursementStatus.SUBMITTED and d.attempts == 1 for d in disbursements)
    assert all(
        d.award is None and d.installment is None and d.released_by == world["finance"] for d in disbursements
    )
    sent = {t.data["metadata"]["disbursement"]: t.data for t in transfers()}
    for d in disbursements:
        assert sent[str(d.pk)]["metadata"]["stipend_batch"] == str(approved.pk)
        assert sent[str(d.pk)]["transfer_group"] == f"stipend-batch:{approved.pk}"
        assert sent[str(d.pk)]["destination"] == d.payee.stripe_account_id
    approved.refresh_from_db()
    assert approved.status == StipendBatchStatus.APPROVED  # until Stripe confirms


def test_the_batch_is_paid_once_stripe_confirms_every_payment(world, approved):
    stipend_payments.pay_batch(approved, by=world["finance"])
    first, second = [p.disbursement for p in approved.payments.select_related("disbursement").order_by("pk")]

    assert stipend_payments.record_stipend_transfer_paid(first, transfer_id=first.stripe_transfer_id)
    assert not stipend_payments.mark_batch_paid_if_complete(approved)
    assert stipend_payments.record_stipend_transfer_paid(second, transfer_id=second.stripe_transfer_id)
    assert not stipend_payments.record_stipend_transfer_paid(second, transfer_id=second.stripe_transfer_id)

    approved.refresh_from_db()
    assert approved.status == StipendBatchStatus.PAID
    money = ledger.balances(world["fund"])
    assert (money.paid, money.outstanding) == (usd(75), usd(0))


def test_a_reversed_stipend_payment_puts_the_money_back_and_the_batch_is_owed_again(world, approved):
    stipend_payments.pay_batch(approved, by=world["finance"])
    for p in approved.payments.select_related("disbursement"):
        stipend_payments.record_stipend_transfer_paid(
            p.disbursement, transfer_id=p.disbursement.stripe_transfer_id
        )
    luna = approved.payments.get(payee__volunteer_pseudonym="Luna").disbursement

    assert stipend_payments.record_stipend_transfer_reversed(
        luna, transfer_id=luna.stripe_transfer_id, amount_reversed=usd(50)
    )
    assert not stipend_payments.record_stipend_transfer_reversed(
        luna, transfer_id=luna.stripe_transfer_id, amount_reversed=usd(50)
    )

    approved.refresh_from_db()
    luna.refresh_from_db()
    assert luna.status == DisbursementStatus.REVERSED
    assert approved.status == StipendBatchStatus.APPROVED
    assert ledger.balances(world["fund"]).outstanding == usd(50)
    with pytest.raises(stipends.StipendError, match="reversed"):
        stipend_payments.pay_batch(approved, by=world["finance"])


def test_the_approver_cannot_pay(world, hotline):
    admin = staff(world["foundation"], Role.FOUNDATION_ADMIN)
    fund_with(world, 1000)
    payee(world)
    shift(world, hotline["Sol"], D(2026, 9, 3))
    batch = stipends.approve_batch(compute(world, hotline["program"]), by=admin)
    with pytest.raises(IllegalTransition, match="another finance officer"):
        stipend_payments.pay_batch(batch, by=admin)
    with pytest.raises(IllegalTransition):
        stipend_payments.pay_batch(batch, by=world["officer"])
    assert not transfers().exists()


def test_payees_not_ready_are_named_and_nothing_is_sent(world, approved):
    luna = PayeeAccount.objects.get(volunteer_pseudonym="Luna")
    luna.payout_status = PayoutStatus.RESTRICTED
    luna.save()
    with pytest.raises(stipends.StipendError) as raised:
        stipend_payments.pay_batch(approved, by=world["finance"])
    assert "Luna" in raised.value.message and "Restricted" in raised.value.message
    assert not transfers().exists()
    assert not StipendPayment.objects.filter(disbursement__isnull=False).exists()


def test_a_stripe_refusal_is_recorded_and_a_retry_reuses_the_disbursement(world, approved):
    SimulatedGateway.fail_next(world["foundation"], "insufficient_balance", operation="create_transfer")
    result = stipend_payments.pay_batch(approved, by=world["finance"])
    assert len(result.failures) == 1
    failed = [p.disbursement for p in approved.payments.select_related("disbursement").order_by("pk")]
    assert sorted(d.status for d in failed) == [DisbursementStatus.FAILED, DisbursementStatus.SUBMITTED]

    retry = stipend_payments.pay_batch(approved, by=world["finance"])

    assert not retry.failures
    assert transfers().count() == 2
    after = [p.disbursement for p in approved.payments.select_related("disbursement").order_by("pk")]
    assert [d.pk for d in after] == [d.pk for d in failed]
    assert all(d.status == DisbursementStatus.SUBMITTED for d in after)
    (retried,) = [d for d in after if d.attempts == 2]
    assert retried.key_generation == 1  # Stripe answered the failure: the retry uses a new key


# --- Tax-reporting threshold ----------------------------------------------------------------


@override_settings(STIPEND_TAX_THRESHOLD=50)
def test_yearly_totals_flag_payees_and_volunteers_at_the_threshold(world, approved, hotline):
    totals = stipends.yearly_totals(world["foundation"], 2026)

    by_payee = {row.label: row for row in totals.payees}
    assert by_payee["“Luna” (Comité de Defensa)"].total == usd(50)
    assert by_payee["“Luna” (Comité de Defensa)"].reaches_threshold
    assert by_payee["Comité de Defensa"].total == usd(25)
    assert not by_payee["Comité de Defensa"].reaches_threshold
    by_volunteer = {row.label: row for row in totals.volunteers}
    assert by_volunteer["Luna"].reaches_threshold and not by_volunteer["Sol"].reaches_threshold
    assert stipends.yearly_totals(world["foundation"], 2025).payees == []
    with override_settings(STIPEND_TAX_THRESHOLD=51):
        assert not any(
            row.reaches_threshold for row in stipends.yearly_totals(world["foundation"], 2026).payees
        )


def test_yearly_totals_leave_out_drafts(world, hotline):
    payee(world)
    shift(world, hotline["Sol"], D(2026, 9, 3))
    compute(world, hotline["program"])
    assert stipends.yearly_totals(world["foundation"], 2026).volunteers == []


# --- Programs ----------------------------------------------------------------------------------


def test_programs_are_set_up_by_officers_in_the_funds_currency(world):
    with pytest.raises(DomainError):
        _program(world, rate=0)
    with pytest.raises(DomainError, match="USD"):
        stipends.save_program(fund=world["fund"], name="X", rate=Money(10, "EUR"), rate_unit="shift",
                              monthly_cap=usd(10), coordinators=[], by=world["officer"])  # fmt: skip
    with pytest.raises(DomainError):
        stipends.save_program(fund=world["fund"], name="X", rate=usd(10), rate_unit="shift",
                              monthly_cap=usd(10), coordinators=[], by=world["finance"])  # fmt: skip


# --- Coordinator pages -------------------------------------------------------------------------


def _pages(program, org):
    kwargs = {"program_id": program.pk, "organization_id": org.pk}
    return [
        reverse("stipend_program", kwargs=kwargs),
        reverse("stipend_volunteers", kwargs=kwargs),
        reverse("stipend_shift_new", kwargs=kwargs),
        reverse("stipend_shift_import", kwargs=kwargs),
    ]


def test_coordinators_see_their_programs_and_pages(world, hotline, client):
    client.force_login(world["grantee"])
    index = client.get(reverse("stipends"))
    assert index.status_code == 200
    assert "Línea de respuesta" in index.content.decode()
    for url in _pages(hotline["program"], world["organization"]):
        assert client.get(url).status_code == 200, url


def test_members_of_another_group_get_404_everywhere(world, hotline, client):
    other_org = OrganizationFactory()
    hotline["program"].coordinators.add(other_org)
    outsider = UserFactory()
    OrganizationMembership.objects.create(organization=other_org, user=outsider, role="owner")
    client.force_login(outsider)
    for url in _pages(hotline["program"], world["organization"]):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"volunteer": hotline["Luna"].pk, "date": "2026-09-01", "hours": "4",
                                 "pseudonym": "X"}).status_code == 404  # fmt: skip
    # Their own page does not take the other group's volunteers either.
    own = reverse(
        "stipend_shift_new", kwargs={"program_id": hotline["program"].pk, "organization_id": other_org.pk}
    )
    response = client.post(own, {"volunteer": hotline["Luna"].pk, "date": "2026-09-01", "hours": "4"})
    assert response.status_code == 400
    assert not Shift.objects.exists()
    assert not Volunteer.objects.filter(pseudonym="X").exists()


def test_a_shift_logged_through_the_page_with_a_mistake_keeps_what_was_typed(world, hotline, client):
    client.force_login(world["grantee"])
    url = reverse(
        "stipend_shift_new",
        kwargs={"program_id": hotline["program"].pk, "organization_id": world["organization"].pk},
    )
    response = client.post(url, {"volunteer": hotline["Luna"].pk, "date": "2026-09-01", "hours": "30"})
    assert response.status_code == 400
    assert 'value="30"' in response.content.decode()
    response = client.post(url, {"volunteer": hotline["Luna"].pk, "date": "2026-09-01", "hours": "4"})
    assert response.status_code == 302
    assert Shift.objects.get().hours == 4


def test_an_upload_with_bad_rows_lists_them_and_saves_nothing(world, hotline, client):
    client.force_login(world["grantee"])
    url = reverse(
        "stipend_shift_import",
        kwargs={"program_id": hotline["program"].pk, "organization_id": world["organization"].pk},
    )
    upload = SimpleUploadedFile(
        "shifts.csv", b"pseudonym,date,hours\nLuna,2026-09-01,4\nNadie,2026-09-02,4\n"
    )
    response = client.post(url, {"file": upload})
    assert response.status_code == 400
    assert ">3</td>" in response.content.decode() and "Nadie" in response.content.decode()
    assert not Shift.objects.exists()
    good = SimpleUploadedFile("shifts.csv", b"\xef\xbb\xbfpseudonym,date,hours\nLuna,2026-09-01,4\n")
    assert client.post(url, {"file": good}).status_code == 302
    assert Shift.objects.count() == 1


def test_stripe_confirmations_through_the_webhook_endpoint_mark_the_batch_paid(
    world, approved, django_capture_on_commit_callbacks
):
    from grants.models import WebhookEvent

    with django_capture_on_commit_callbacks(execute=True):
        result = stipend_payments.pay_batch(approved, by=world["finance"])
    assert not result.failures
    approved.refresh_from_db()
    assert approved.status == StipendBatchStatus.PAID
    assert set(WebhookEvent.objects.filter(type="transfer.created").values_list("status", flat=True)) == {
        "processed"
    }
    money = ledger.balances(world["fund"])
    assert (money.paid, money.outstanding) == (usd(75), usd(0))


def test_coordinators_find_volunteers_and_shifts_from_their_dashboard(world, hotline, client):
    client.force_login(world["grantee"])
    assert 'href="/es/stipends/"' in client.get("/es/dashboard/").content.decode()
    client.force_login(UserFactory())
    assert "/stipends/" not in client.get("/en/dashboard/").content.decode()


def test_a_volunteer_can_be_paid_to_their_own_account(
    world, hotline, client, django_capture_on_commit_callbacks
):
    from grants.models import PayoutStatus

    luna = hotline["Luna"]
    url = f"/en/stipends/{hotline['program'].pk}/{world['organization'].pk}/volunteers/{luna.pk}/payouts/"
    client.force_login(UserFactory())
    assert client.post(url).status_code == 404
    client.force_login(world["grantee"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url)
    assert response.status_code == 302 and "/simulated-stripe/onboarding/" in response["Location"]
    luna.refresh_from_db()
    assert luna.payee.volunteer_pseudonym == "Luna"
    assert luna.payee.organization == world["organization"]
    with django_capture_on_commit_callbacks(execute=True):
        again = client.post(url)
    assert again.status_code == 302
    assert PayeeAccount.objects.filter(volunteer_pseudonym="Luna").count() == 1
    with django_capture_on_commit_callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(
            luna.payee.stripe_account_id, outcome="complete"
        )
    luna.payee.refresh_from_db()
    assert luna.payee.payout_status == PayoutStatus.READY
    page = client.get(
        f"/en/stipends/{hotline['program'].pk}/{world['organization'].pk}/volunteers/"
    ).content.decode()
    assert "Their own account" in page


def test_a_volunteers_account_is_created_without_the_coordinators_email(world, hotline, client):
    luna = hotline["Luna"]
    url = f"/en/stipends/{hotline['program'].pk}/{world['organization'].pk}/volunteers/{luna.pk}/payouts/"
    client.force_login(world["grantee"])
    assert client.post(url).status_code == 302
    luna.refresh_from_db()
    account = SimulatedStripeObject.objects.get(kind="account", id=luna.payee.stripe_account_id)
    # Stripe would write to that address about the volunteer's own money and identity checks.
    assert not account.data.get("email")
    assert world["grantee"].email not in str(account.data)


def test_an_organizations_award_is_never_paid_to_a_volunteers_account(world, hotline, client):
    """The volunteer set up payouts before the organization did: the award waits for the
    organization's own account instead of going to the volunteer's."""
    from grants.models import Disbursement
    from grants.services import awards, installments, payments
    from tests.grants.money_fixtures import award_for

    fund_with(world, 5000)
    volunteer_account = payee(world, volunteer=hotline["Luna"])
    award = award_for(world, 920)
    awards.accept_award(award, by=world["grantee"], full_name="Ana López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2027, 1, 1))

    assert payments.payee_for(award) is None
    # The grantee's payout page speaks of the organization's account, not the volunteer's.
    client.force_login(world["grantee"])
    page = client.get(f"/en/payouts/{world['foundation'].slug}/{world['organization'].pk}/").content.decode()
    assert "Set up payouts with Stripe" in page
    with pytest.raises(payments.PaymentRefused, match="has not set up payouts"):
        payments.release_installment(award.installments.get(), by=world["finance"])
    assert not Disbursement.objects.exists()

    # The database refuses it too, whatever code tries.
    with pytest.raises(IntegrityError), transaction.atomic():
        Disbursement.objects.create(
            foundation=world["foundation"],
            award=award,
            installment=award.installments.get(),
            payee=volunteer_account,
            amount=award.amount,
            released_by=world["finance"],
        )
    organization_account = payee(world)
    assert payments.payee_for(award) == organization_account
    # And an account never changes from a volunteer's to the organization's (or back).
    with pytest.raises(IntegrityError), transaction.atomic():
        PayeeAccount.objects.filter(pk=volunteer_account.pk).update(volunteer_pseudonym="")


def test_coordinators_page_through_months_but_not_into_the_future(world, hotline, client):
    import time_machine

    program_url = f"/en/stipends/{hotline['program'].pk}/{world['organization'].pk}/"
    client.force_login(world["grantee"])
    with time_machine.travel(datetime.datetime(2026, 11, 20, 12, tzinfo=datetime.UTC)):
        assert "Shifts in October 2026" in client.get(program_url + "?month=2026-10").content.decode()
        assert "Shifts in November 2026" in client.get(program_url + "?month=2027-05").content.decode()
        assert "Shifts in November 2026" in client.get(program_url + "?month=nonsense").content.decode()
