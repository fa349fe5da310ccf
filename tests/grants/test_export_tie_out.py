"""The auditor's workbook ties out, per fund and currency, for any mix of payments.

For each fund: every Summary figure equals the sums of the detail sheets (Donations, Installments
and disbursements, Stipend payments, Expenditures, Journal), equals the ledger's balances (at the
period's edges), and — for a workbook covering all of time — equals what *Fund money* shows.
Budget categories are named, never numbered; no amount anywhere is a negative zero.

The scripted year mixes what real Stripe and a real finance office produce: an opening balance
recorded mid-period, checks, gifts covering fees, a partial refund, a refund of last year's gift,
disputes won and lost, payments by Stripe and by check, a transfer reversed and then paid by
check, stipends (one reversed), an amendment, a cancellation, money returned, and a second fund in
another currency. A seeded-random year (three seeds, bounded) mixes the same moves in other orders.
"""

import datetime
import io
import math
import random
import re
import zipfile
from collections import defaultdict
from decimal import Decimal

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from djmoney.money import Money

from grants.demo_questions import questions_json
from grants.models import (
    AccountKind,
    EntryCause,
    Installment,
    InstallmentStatus,
    JournalEntry,
    ReportKind,
    ReportStatus,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import (
    awards,
    donations,
    exports,
    installments,
    ledger,
    offline_gifts,
    payments,
    reports,
    stipend_payments,
    stipends,
)
from tests import pages
from tests.factories import FundFactory, approved_application
from tests.grants.bond_year import bond_year
from tests.grants.money_fixtures import award_for, usd
from tests.grants.report_helpers import METRICS, reporting_award, set_budget, spend

pytestmark = pytest.mark.django_db
D = datetime.date
START, END = D(2026, 1, 1), D(2026, 6, 30)
ALL_TIME = (D(2000, 1, 1), D(2030, 12, 31))
CATEGORIES = ("Legal fees", "Filing fees", "Interpreters")
SUMMARY_MONEY = (
    "Opening balance (cash)", "Donations (gross)", "Processing fees", "Refunds and disputes", "Other income",
    "Awards committed", "Disbursed", "of which paid to vendors", "Returned", "Outstanding commitments at end",
    "Reported spending", "Closing balance (cash)", "Available at end", "Bond interest", "Out on bonds at start",
    "Out on bonds at end",
)  # fmt: skip


def on(day: D):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 17, tzinfo=datetime.UTC))


def eur(amount) -> Money:
    return Money(str(amount), "EUR")


# --- Building a year through the services ------------------------------------------------------


class Year:
    """One foundation's money, moved through the services as staff, grantees and Stripe would."""

    def __init__(self, world, callbacks):
        self.world, self.callbacks = world, callbacks
        self.fund, self.finance, self.officer = world["fund"], world["finance"], world["officer"]
        self.gateway = SimulatedGateway(world["foundation"])
        self.payee = None

    def give(self, amount, *, cover_fee=False, email="rosa@example.org"):
        donation, _url = donations.start_donation(
            fund=self.fund, amount=usd(amount), monthly=False, cover_fee=cover_fee, anonymous=False,
            name="Rosa Díaz", email=email, language="es", success_url="http://testserver/thanks/",
            cancel_url="http://testserver/",
        )  # fmt: skip
        with self.callbacks(execute=True):
            self.gateway.complete_checkout(donation.checkout_session_id)
        donation.refresh_from_db()
        return donation

    def refund(self, donation, amount, key):
        with self.callbacks(execute=True):
            self.gateway.create_refund(payment_intent=donation.payment_intent_id, amount=usd(amount), metadata={},
                                       idempotency_key=key)  # fmt: skip

    def dispute(self, donation, outcome=None):
        with self.callbacks(execute=True):
            self.gateway.open_dispute(donation.charge_id)
        if outcome:
            with self.callbacks(execute=True):
                self.gateway.close_dispute(donation.charge_id, outcome)

    def check_gift(self, fund, amount, day, reference):
        offline_gifts.record_offline_gift(fund=fund, donor_name="Iglesia San José", donor_email="sj@example.org",
                                          amount=amount, channel="check", received_on=day, reference=reference,
                                          by=self.finance, send_receipt=False)  # fmt: skip

    def award(self, amount, schedule, *, fund=None, budget=True):
        if fund is None:
            award = award_for(self.world, amount, schedule=[(day, usd(part)) for day, part in schedule])
        else:
            money = Money(str(amount), fund.currency)
            application = approved_application(fund, decided_by=self.officer, amount=money,
                                               organization=self.world["organization"])  # fmt: skip
            award = awards.make_award(application, by=self.officer, amount=money, start_date=schedule[0][0],
                                      end_date=D(2027, 1, 31),
                                      schedule=[(day, Money(str(part), fund.currency)) for day, part in schedule],
                                      report_dates=[("interim", D(2026, 8, 1)), ("final", D(2027, 3, 1))],
                                      agreement={"en": "<p>Use it well.</p>", "es": "<p>Úselo bien.</p>"})  # fmt: skip
        award = awards.accept_award(award, by=self.world["grantee"], full_name="Ana López", agreed=True,
                                    language="es")  # fmt: skip
        if budget:
            set_budget(award.application, categories=CATEGORIES)
        return award

    def onboard(self):
        if self.payee is None:
            payments.start_onboarding(organization=self.world["organization"], foundation=self.world["foundation"],
                                      by=self.world["grantee"])  # fmt: skip
            self.payee = payments.payee_for(Installment.objects.first().award)
            with self.callbacks(execute=True):
                self.gateway.complete_onboarding(self.payee.stripe_account_id, "complete")
        return self.payee

    def pay_by_stripe(self, installment, day):
        installments.mark_due_installments(today=day)
        installment.refresh_from_db()
        with self.callbacks(execute=True):
            disbursement = payments.release_installment(installment, by=self.finance)
        disbursement.refresh_from_db()
        return disbursement

    def reverse(self, disbursement, key):
        with self.callbacks(execute=True):
            self.gateway.reverse_transfer(transfer_id=disbursement.stripe_transfer_id, amount=None, metadata={},
                                          idempotency_key=key)  # fmt: skip

    def pay_by_check(self, installment, day, reference):
        installment.refresh_from_db()
        if installment.status == InstallmentStatus.ON_HOLD:
            installments.lift_hold(installment, by=self.finance, today=day)
        installments.record_payment_outside_processor(installment, by=self.finance, paid_on=day,
                                                      reference=reference)  # fmt: skip

    def report(self, award, spending, day):
        report = reports.report_for(
            award.report_due_dates.get(kind=ReportKind.INTERIM), by=self.world["grantee"]
        )
        for amount, category, when in spending:
            spend(report, self.world, amount, category, date=when)
        report = reports.save_draft(report, by=self.world["grantee"], period_start=D(2026, 2, 1),
                                    period_end=D(2026, 7, 31), narrative="Hearings.",
                                    metrics={"people_represented": "12"},
                                    variance_explanations={"0": "x", "1": "x", "2": "x"})  # fmt: skip
        report = reports.submit_report(report, by=self.world["grantee"], metric_definitions=METRICS)
        assert reports.accept_report(report, by=self.officer).status == ReportStatus.ACCEPTED

    def stipends_paid(self, month, day, *, reverse_one):
        """A month of hotline stipends approved and paid by Stripe; one payment taken back."""
        world = self.world
        program = stipends.save_program(fund=self.fund, name="Línea de respuesta", rate=usd(25), rate_unit="shift",
                                        monthly_cap=usd(100), coordinators=[world["organization"]],
                                        by=self.officer)  # fmt: skip
        for name, shifts in (("Luna", 2), ("Sol", 1)):
            volunteer = stipends.add_volunteer(program=program, organization=world["organization"], pseudonym=name,
                                               by=world["grantee"])  # fmt: skip
            for n in range(shifts):
                stipends.log_shift(volunteer=volunteer, date=month + datetime.timedelta(days=n), hours=4,
                                   by=world["grantee"], today=day)  # fmt: skip
        batch = stipends.compute_batch(program=program, organization=world["organization"], month=month,
                                       by=self.officer, today=day)  # fmt: skip
        batch = stipends.approve_batch(batch, by=self.officer)
        stipend_payments.pay_batch(batch, by=self.finance)
        paid = [p.disbursement for p in batch.payments.select_related("disbursement").order_by("pk")]
        for disbursement in paid:
            stipend_payments.record_stipend_transfer_paid(
                disbursement, transfer_id=disbursement.stripe_transfer_id
            )
        if reverse_one:
            first = paid[0]
            first.refresh_from_db()
            stipend_payments.record_stipend_transfer_reversed(first, transfer_id=first.stripe_transfer_id,
                                                      amount_reversed=first.amount)  # fmt: skip


def scripted_year(world, callbacks) -> tuple[dict, dict]:
    """The year of the module docstring; returns the ledger's balances per fund at both edges."""
    year = Year(world, callbacks)
    fund, finance = world["fund"], world["finance"]
    euro = FundFactory(foundation=world["foundation"], name="Fondo Europa", currency="EUR")
    with on(D(2025, 11, 20)):
        ledger.record_opening_balance(fund=euro, amount=eur(8000), as_of=D(2025, 11, 20), reference="IBAN stmt",
                                      by=finance)  # fmt: skip
        ledger.record_income(fund=fund, amount=usd(3000), source="check", received_on=D(2025, 11, 20),
                             reference="CHK-OLD", by=finance)  # fmt: skip
    with on(D(2025, 12, 10)):
        last_years = year.give(300, email="old@example.org")
    at_start = {f.pk: ledger.balances(f) for f in (fund, euro)}

    with on(D(2026, 1, 2)):  # the USD fund starts using the portal mid-period
        ledger.record_opening_balance(fund=fund, amount=usd(5000), as_of=D(2026, 1, 2), reference="Bank stmt",
                                      by=finance)  # fmt: skip
    with on(D(2026, 1, 5)):
        ledger.record_income(fund=fund, amount=usd(10000), source="grant", received_on=D(2026, 1, 5),
                             reference="GRANT-1", by=finance)  # fmt: skip
        ledger.record_income(fund=euro, amount=eur(1500), source="bank_transfer", received_on=D(2026, 1, 5),
                             reference="SEPA-9", by=finance)  # fmt: skip
    with on(D(2026, 1, 20)):
        year.give(100, cover_fee=True)
        refunded = year.give(50, email="luis@example.org")
        won = year.give(80, email="ana@example.org")
        lost = year.give(60, email="eva@example.org")
    with on(D(2026, 1, 25)):
        year.check_gift(fund, usd(250), D(2026, 1, 25), "CHK-77")
        year.check_gift(euro, eur(400), D(2026, 1, 25), "CHK-E1")
    with on(D(2026, 2, 1)):
        year.refund(refunded, 20, "refund:partial")
        year.refund(last_years, 300, "refund:last-year")
        award_a = year.award(4000, [(D(2026, 2, 1), 2000), (D(2026, 3, 1), 2000)])
        award_b = year.award(2500, [(D(2026, 3, 1), 2500)], budget=False)
        award_c = year.award(3000, [(D(2026, 2, 1), 3000)])
        award_e = year.award(1200, [(D(2026, 2, 1), 1200)], fund=euro)
    with on(D(2026, 2, 10)):
        year.dispute(won, "won")
        year.dispute(lost, "lost")
    with on(D(2026, 2, 15)):
        awards.amend_award(award_b, by=world["officer"], new_amount=usd(2000), reason="Smaller caseload")
    with on(D(2026, 2, 20)):
        year.onboard()
        year.pay_by_check(award_c.installments.get(), D(2026, 2, 20), "CHK-501")
        year.pay_by_check(award_e.installments.get(), D(2026, 2, 20), "CHK-E2")
    with on(D(2026, 3, 2)):
        award_b.refresh_from_db()
        awards.cancel_award(award_b, by=world["officer"], reason="The organization merged")
        first, second = award_a.installments.order_by("number")
        year.pay_by_stripe(first, D(2026, 3, 2))
        reversed_one = year.pay_by_stripe(second, D(2026, 3, 2))
    with on(D(2026, 4, 1)):
        year.reverse(reversed_one, "reverse:second")
    with on(D(2026, 4, 10)):
        year.stipends_paid(D(2026, 3, 1), D(2026, 4, 10), reverse_one=True)
    with on(D(2026, 5, 5)):
        year.pay_by_check(second, D(2026, 5, 5), "CHK-502")  # the reversed transfer, paid by check
    with on(D(2026, 5, 10)):
        award_a.refresh_from_db()
        year.report(award_a, [(1200, "0", D(2026, 3, 10)), (300, "2", D(2026, 4, 2))], D(2026, 5, 10))
        award_c.refresh_from_db()
        year.report(award_c, [(500, "1", D(2026, 3, 15))], D(2026, 5, 10))
    with on(D(2026, 6, 1)):
        grant_return = reports.announce_return(award_c, by=world["grantee"], amount=usd(400), method="check",
                                               reference="CHK-R1")  # fmt: skip
        reports.confirm_return(grant_return, by=finance, received_on=D(2026, 6, 1))
    at_end = {f.pk: ledger.balances(f) for f in (fund, euro)}
    with on(D(2026, 7, 10)):
        year.give(500, email="late@example.org")
    return at_start, at_end


def random_year(world, callbacks, seed: int) -> tuple[dict, dict]:
    """A bounded, seeded mix of the same moves, in an order the seed picks."""
    rng = random.Random(seed)
    year = Year(world, callbacks)
    fund, finance = world["fund"], world["finance"]
    with on(D(2025, 12, 1)):
        ledger.record_income(fund=fund, amount=usd(rng.randint(1, 5) * 1000), source="check",
                             received_on=D(2025, 12, 1), reference="CHK-0", by=finance)  # fmt: skip
    at_start = {fund.pk: ledger.balances(fund)}
    day = D(2026, 1, 2)
    with on(day):
        if rng.random() < 0.5:
            ledger.record_opening_balance(fund=fund, amount=usd(rng.randint(1, 9) * 1000), as_of=day,
                                          reference="Bank stmt", by=finance)  # fmt: skip
        ledger.record_income(fund=fund, amount=usd(20000), source="grant", received_on=day, reference="G-1",
                             by=finance)  # fmt: skip
    gifts, stripe_paid, unpaid = [], [], []
    moves = ["gift", "gift", "check_gift", "refund", "dispute", "award", "award", "pay", "pay", "reverse",
             "amend", "cancel", "income"]  # fmt: skip
    rng.shuffle(moves)
    for n, move in enumerate(moves):
        day = D(2026, 1, 5) + datetime.timedelta(days=9 * n)
        with on(day):
            if move == "gift":
                gifts.append(
                    year.give(rng.randint(20, 400), cover_fee=rng.random() < 0.5, email=f"d{n}@example.org")
                )
            elif move == "check_gift":
                year.check_gift(fund, usd(rng.randint(20, 400)), day, f"CHK-G{n}")
            elif move == "income":
                ledger.record_income(fund=fund, amount=usd(rng.randint(1, 30) * 100), source="check",
                                     received_on=day, reference=f"CHK-I{n}", by=finance)  # fmt: skip
            elif move == "refund" and gifts:
                gift = rng.choice(gifts)
                year.refund(gift, rng.randint(1, int(gift.gross.amount)), f"refund:{n}")
            elif move == "dispute" and gifts:
                year.dispute(gifts.pop(rng.randrange(len(gifts))), rng.choice([None, "won", "lost"]))
            elif move == "award":
                parts = rng.randint(1, 3)
                award = year.award(parts * 1000, [(day, 1000) for _ in range(parts)])
                unpaid.extend(award.installments.order_by("number"))
            elif move == "pay" and unpaid:
                installment = unpaid.pop(rng.randrange(len(unpaid)))
                installment.award.refresh_from_db()
                if installment.award.status == "cancelled":
                    continue
                if rng.random() < 0.5:
                    year.onboard()
                    stripe_paid.append((installment, year.pay_by_stripe(installment, day)))
                else:
                    year.pay_by_check(installment, day, f"CHK-P{n}")
            elif move == "reverse" and stripe_paid:
                installment, disbursement = stripe_paid.pop()
                year.reverse(disbursement, f"reverse:{n}")
                with on(day + datetime.timedelta(days=3)):
                    year.pay_by_check(installment, day + datetime.timedelta(days=3), f"CHK-R{n}")
            elif move in ("amend", "cancel") and unpaid:
                award = rng.choice(unpaid).award
                award.refresh_from_db()
                if award.status not in ("accepted", "active"):
                    continue
                if move == "cancel":
                    awards.cancel_award(award, by=world["officer"], reason="Merged")
                    unpaid = [i for i in unpaid if i.award_id != award.pk]
                else:
                    paid = awards.paid_total(award)
                    if award.amount - paid > usd(500):
                        awards.amend_award(award, by=world["officer"], new_amount=award.amount - usd(500),
                                           reason="Smaller caseload")  # fmt: skip
                        unpaid = [i for i in unpaid if i.award_id != award.pk]
    at_end = {fund.pk: ledger.balances(fund)}
    return at_start, at_end


# --- Reading the workbook --------------------------------------------------------------------


def export(world, date_from, date_to, fmt="xlsx", language="en") -> bytes:
    job = exports.request_export(foundation=world["foundation"], by=world["auditor"], date_from=date_from,
                                 date_to=date_to, format=fmt, language=language)  # fmt: skip
    with job.file.open("rb") as handle:
        return handle.read()


def sheet_rows(book, title) -> list[dict]:
    sheet = book[title]
    header = [c.value for c in sheet[1]]
    rows = [dict(zip(header, (c.value for c in row), strict=True)) for row in sheet.iter_rows(min_row=2)]
    return [row for row in rows if not str(row[header[0]] or "").startswith("Total")]


def amount(value) -> Decimal:
    return Decimal(str(value or 0)).quantize(Decimal("0.01"))


def sums(rows, *columns) -> dict[str, dict[str, Decimal]]:
    """Per fund, the sum of each column."""
    result: dict[str, dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for row in rows:
        for column in columns:
            result[row["Fund"]][column] += amount(row[column])
    return result


def journal_net(rows, fund_name, kind: AccountKind) -> Decimal:
    """Net movement of one account of one fund, signed as the account normally runs."""
    label = str(kind.label)
    lines = [row for row in rows if row["Fund"] == fund_name and row["Account"] == label]
    net = sum((amount(row["Debit"]) - amount(row["Credit"]) for row in lines), Decimal(0))
    return net * ledger.NORMAL_BALANCE[kind]


def journal_cause_net(rows, fund_name, kind: AccountKind, causes) -> Decimal:
    """Debits less credits of one account of one fund in entries of ``causes`` (debit positive)."""
    labels = {str(EntryCause(cause).label) for cause in causes}
    lines = [
        r for r in rows if r["Fund"] == fund_name and r["Account"] == str(kind.label) and r["Cause"] in labels
    ]
    return sum((amount(row["Debit"]) - amount(row["Credit"]) for row in lines), Decimal(0))


def journal_cause(rows, fund_name, kind: AccountKind, cause: str) -> Decimal:
    """Net movement of one account of one fund by entries of one cause (its English label)."""
    label = str(kind.label)
    lines = [
        row for row in rows if row["Fund"] == fund_name and row["Account"] == label and row["Cause"] == cause
    ]
    net = sum((amount(row["Debit"]) - amount(row["Credit"]) for row in lines), Decimal(0))
    return net * ledger.NORMAL_BALANCE[kind]


def summaries(book) -> dict[str, dict[str, Decimal]]:
    return {row["Fund"]: {k: amount(row[k]) for k in SUMMARY_MONEY} for row in sheet_rows(book, "Summary")}


def assert_sheets_tie_out_with_summary(book):
    """Summary == the detail sheets' sums, per fund (each fund has one currency)."""
    journal = sheet_rows(book, "Journal")
    gifts = sums(
        sheet_rows(book, "Donations"), "Gross received in period", "Processing fee", "Refunds and disputes"
    )
    paid = sums(sheet_rows(book, "Installments and disbursements"), "Paid out", "Reversed")
    stipend_paid = sums(sheet_rows(book, "Stipend payments"), "Paid out", "Reversed")
    vendor_paid = sums(sheet_rows(book, "Vendor payments"), "Paid out", "Reversed")
    spent = sums(sheet_rows(book, "Expenditures"), "Amount")
    bond_rows = sums(
        sheet_rows(book, "Bonds"), "Posted in period", "Returned in period", "Interest in period",
        "Written off in period", "Out at end",
    )  # fmt: skip
    for name, s in summaries(book).items():
        bonds_moved = bond_rows[name]
        assert (
            bonds_moved["Interest in period"]
            == s["Bond interest"]
            == journal_net(journal, name, AccountKind.BOND_INTEREST)
        ), name
        assert bonds_moved["Out at end"] == s["Out on bonds at end"], name
        assert (
            bonds_moved["Posted in period"]
            - bonds_moved["Returned in period"]
            - bonds_moved["Written off in period"]
            == s["Out on bonds at end"] - s["Out on bonds at start"]
            == journal_net(journal, name, AccountKind.BONDS_OUTSTANDING)
        ), name
        assert bonds_moved["Posted in period"] == journal_cause(
            journal, name, AccountKind.BONDS_OUTSTANDING, "Bond posted"
        )
        assert bonds_moved["Written off in period"] == -journal_cause(
            journal, name, AccountKind.BONDS_OUTSTANDING, "Bond loss written off as a grant"
        ), name
        assert s["Donations (gross)"] == gifts[name]["Gross received in period"], name
        assert s["Donations (gross)"] == journal_net(journal, name, AccountKind.DONATIONS), name
        assert (
            s["Processing fees"]
            == gifts[name]["Processing fee"]
            == journal_net(journal, name, AccountKind.FEES)
        )
        assert s["Refunds and disputes"] == gifts[name]["Refunds and disputes"], name
        assert s["Refunds and disputes"] == journal_net(journal, name, AccountKind.REFUNDS), name
        assert s["Other income"] == journal_net(journal, name, AccountKind.OTHER_INCOME), name
        assert s["Awards committed"] == journal_net(journal, name, AccountKind.GRANTS_AWARDED), name
        assert s["Returned"] == journal_net(journal, name, AccountKind.GRANTS_RETURNED), name
        assert s["Disbursed"] == (
            paid[name]["Paid out"] - paid[name]["Reversed"]
            + stipend_paid[name]["Paid out"] - stipend_paid[name]["Reversed"]
            + vendor_paid[name]["Paid out"] - vendor_paid[name]["Reversed"]
            + bonds_moved["Written off in period"]
        ), name  # fmt: skip
        assert (
            s["of which paid to vendors"] == vendor_paid[name]["Paid out"] - vendor_paid[name]["Reversed"]
        ), name
        assert s["of which paid to vendors"] == journal_cause_net(journal, name, AccountKind.GRANTS_PAYABLE, (
            EntryCause.VENDOR_PAYMENT, EntryCause.VENDOR_PAYMENT_REVERSAL)), name  # fmt: skip
        assert s["Reported spending"] == spent[name]["Amount"], name
        cash_moved = journal_net(journal, name, AccountKind.PROCESSOR_CASH) + journal_net(
            journal, name, AccountKind.BANK_CASH
        )
        assert s["Closing balance (cash)"] == s["Opening balance (cash)"] + cash_moved - journal_net(
            journal, name, AccountKind.OPENING_BALANCE
        ), name
        assert s["Closing balance (cash)"] == (
            s["Opening balance (cash)"] + s["Donations (gross)"] - s["Processing fees"] - s["Refunds and disputes"]
            + s["Other income"] + s["Bond interest"] - s["Disbursed"] + s["Returned"]
            - (s["Out on bonds at end"] - s["Out on bonds at start"])
        ), name  # fmt: skip
        assert s["Available at end"] == s["Closing balance (cash)"] - s["Outstanding commitments at end"], (
            name
        )
    debits = sum((amount(row["Debit"]) for row in journal), Decimal(0))
    assert debits == sum((amount(row["Credit"]) for row in journal), Decimal(0)) and debits > 0


def part(balances, kind) -> Decimal:
    """One account's balance (zero when it never moved)."""
    return balances.by_account.get(kind, Money(0, balances.currency)).amount


def assert_summary_ties_out_with_the_ledger(book, funds, at_start, at_end):
    """Summary == the ledger's balances at the period's edges (flows are end minus start)."""
    figures = summaries(book)
    for fund in funds:
        s, start, end = figures[fund.name], at_start[fund.pk], at_end[fund.pk]

        opening_balance = part(end, AccountKind.OPENING_BALANCE) - part(start, AccountKind.OPENING_BALANCE)
        assert s["Opening balance (cash)"] == start.cash.amount + opening_balance, fund.name
        assert s["Other income"] == part(end, AccountKind.OTHER_INCOME) - part(
            start, AccountKind.OTHER_INCOME
        )
        assert s["Donations (gross)"] == (end.donations - start.donations).amount, fund.name
        assert s["Processing fees"] == (end.fees - start.fees).amount, fund.name
        assert s["Refunds and disputes"] == (end.refunds - start.refunds).amount, fund.name
        assert s["Awards committed"] == (end.committed - start.committed).amount, fund.name
        assert s["Disbursed"] == (end.paid - start.paid).amount, fund.name
        assert s["Returned"] == (end.returned - start.returned).amount, fund.name
        assert s["Outstanding commitments at end"] == end.outstanding.amount, fund.name
        assert s["Closing balance (cash)"] == end.cash.amount, fund.name
        assert s["Available at end"] == end.available.amount, fund.name
        assert s["Bond interest"] == (end.bond_interest - start.bond_interest).amount, fund.name
        assert s["Out on bonds at start"] == start.bonds_out.amount, fund.name
        assert s["Out on bonds at end"] == end.bonds_out.amount, fund.name


NEGATIVE_ZERO_TEXT = re.compile(r"-\D{0,4}0[.,]00(?!\d)")


def assert_no_negative_zero(xlsx: bytes):
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    for sheet in book:
        for row in sheet.iter_rows():
            for cell in row:
                if isinstance(cell.value, int | float | Decimal) and cell.value == 0:
                    assert math.copysign(1, cell.value) > 0, f"{sheet.title}!{cell.coordinate} is -0"
    with zipfile.ZipFile(io.BytesIO(xlsx)) as archive:
        for name in archive.namelist():
            if name.startswith("xl/worksheets/"):
                assert not re.search(rb"<v>-0(\.0+)?</v>", archive.read(name)), name


def page_figures(client, fund) -> dict[str, Decimal]:
    """The figures *Fund money* shows for ``fund`` (its ``data-figure`` amounts)."""
    html = client.get(reverse("fund_money:detail", args=[fund.pk])).content.decode()
    assert not NEGATIVE_ZERO_TEXT.search(html), NEGATIVE_ZERO_TEXT.search(html).group(0)
    found = re.findall(r'data-figure="(\w+)">([^<]+)<', html)
    assert len(found) == 15, found
    return {key: Decimal(re.sub(r"[^\d.-]", "", text)) for key, text in found}


def assert_all_time_summary_is_what_fund_money_shows(world, client, funds):
    xlsx = export(world, *ALL_TIME)
    assert_no_negative_zero(xlsx)
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert_sheets_tie_out_with_summary(book)
    figures = summaries(book)
    client.force_login(world["auditor"])
    index = client.get(reverse("fund_money:index")).content.decode()
    assert not NEGATIVE_ZERO_TEXT.search(index)
    for fund in funds:
        s, page = figures[fund.name], page_figures(client, fund)
        assert s["Opening balance (cash)"] == page["opening"], fund.name  # nothing before the start of time
        assert s["Other income"] == page["other_income"], fund.name
        assert s["Donations (gross)"] == page["donations"], fund.name
        assert page["received"] == (
            page["donations"] + page["other_income"] + page["opening"] + page["bond_interest"]
        ), fund.name
        assert s["Bond interest"] == page["bond_interest"], fund.name
        assert s["Out on bonds at end"] == page["bonds_out"], fund.name
        assert s["Processing fees"] == page["fees"], fund.name
        assert s["Refunds and disputes"] == page["refunds"], fund.name
        assert s["Awards committed"] == page["committed"], fund.name
        assert s["Disbursed"] == page["paid"], fund.name
        assert s["Returned"] == page["returned"], fund.name
        assert s["Outstanding commitments at end"] == page["outstanding"], fund.name
        assert s["Closing balance (cash)"] == page["cash"], fund.name
        assert s["Available at end"] == page["available"], fund.name


# --- The tests ---------------------------------------------------------------------------------


@pytest.fixture
def scripted(world, django_capture_on_commit_callbacks):
    at_start, at_end = scripted_year(world, django_capture_on_commit_callbacks)
    funds = list(world["foundation"].funds.order_by("pk"))
    return funds, at_start, at_end


def test_every_sheet_ties_out_with_summary_the_ledger_and_fund_money(world, client, scripted):
    funds, at_start, at_end = scripted
    dollars, euros = funds
    xlsx = export(world, START, END)
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert_sheets_tie_out_with_summary(book)
    assert_summary_ties_out_with_the_ledger(book, funds, at_start, at_end)
    assert_no_negative_zero(xlsx)
    assert_all_time_summary_is_what_fund_money_shows(world, client, funds)

    # Checks count as paid out, next to Stripe transfers; a reversed transfer paid by check shows both.
    payouts = sheet_rows(book, "Installments and disbursements")
    by_check = [r for r in payouts if r["Payment reference"] in ("CHK-501", "CHK-E2")]
    assert sorted(amount(r["Paid out"]) for r in by_check) == [Decimal(1200), Decimal(3000)]
    assert all(not r["Disbursement status"] and r["Status"] == "Paid" for r in by_check)
    (reversed_then_check,) = [r for r in payouts if amount(r["Reversed"])]
    assert reversed_then_check["Payment reference"] == "CHK-502"
    assert amount(reversed_then_check["Reversed"]) == 2000
    figures = summaries(book)
    assert figures[euros.name]["Disbursed"] == Decimal(1200)  # paid by check only
    assert figures[dollars.name]["Returned"] == Decimal(400)

    # An opening balance recorded in the period is opening cash, not income of the period.
    assert figures[dollars.name]["Opening balance (cash)"] == at_start[dollars.pk].cash.amount + 5000
    assert figures[dollars.name]["Other income"] == Decimal(10000)
    assert figures[euros.name]["Opening balance (cash)"] == Decimal(8000)  # recorded before the period
    assert figures[euros.name]["Other income"] == Decimal(1500)

    # A refund of last year's gift is in the period's Donations sheet (and only its refund is).
    (old_gift,) = [r for r in sheet_rows(book, "Donations") if r["Donor email"] == "old@example.org"]
    assert (
        amount(old_gift["Gross received in period"]) == 0 and amount(old_gift["Refunds and disputes"]) == 300
    )

    # Spending is named by its budget category, never numbered.
    names = sorted(row["Budget category"] for row in sheet_rows(book, "Expenditures"))
    assert names == ["Filing fees", "Interpreters", "Legal fees"]

    # The CSV zip says the same without a negative zero.
    with zipfile.ZipFile(io.BytesIO(export(world, START, END, fmt="csv"))) as archive:
        text = {name: archive.read(name).decode("utf-8-sig") for name in archive.namelist()}
    assert not any(NEGATIVE_ZERO_TEXT.search(content) for content in text.values())
    summary = next(content for name, content in text.items() if name.endswith("Summary.csv"))
    assert dollars.name in summary and euros.name in summary


# --- Each defect on its own (small worlds; the columns exist in every version of the sheet) ---------


def test_an_installment_paid_by_check_is_paid_out(world):
    award = reporting_award(world, amount=3000)  # funded by check, paid by check
    book = openpyxl.load_workbook(io.BytesIO(export(world, START, END)))
    (row,) = sheet_rows(book, "Installments and disbursements")
    (summary,) = sheet_rows(book, "Summary")
    assert row["Award"] == award.reference and amount(row["Paid out"]) == 3000 == amount(summary["Disbursed"])


def test_an_opening_balance_of_the_period_is_opening_cash(world):
    with on(D(2026, 1, 2)):
        ledger.record_opening_balance(fund=world["fund"], amount=usd(5000), as_of=D(2026, 1, 2), reference="Stmt",
                                      by=world["finance"])  # fmt: skip
    (summary,) = sheet_rows(openpyxl.load_workbook(io.BytesIO(export(world, START, END))), "Summary")
    assert amount(summary["Opening balance (cash)"]) == 5000 and amount(summary["Other income"]) == 0
    assert amount(summary["Closing balance (cash)"]) == 5000


def test_no_negative_zero_in_the_workbook_or_on_fund_money(world, client):
    with on(D(2025, 12, 1)):
        ledger.record_income(fund=world["fund"], amount=usd(700), source="check", received_on=D(2025, 12, 1),
                             reference="CHK-1", by=world["finance"])  # fmt: skip
    xlsx = export(world, START, END)  # nothing moved in the period: every flow is zero
    assert_no_negative_zero(xlsx)
    client.force_login(world["finance"])
    for url in (reverse("fund_money:index"), reverse("fund_money:detail", args=[world["fund"].pk])):
        html = client.get(url).content.decode()
        assert "$700.00" in html and "$0.00" in html
        assert not NEGATIVE_ZERO_TEXT.search(html), url


def test_payments_are_tied_to_rows_whatever_their_key_and_loose_lines_get_rows_of_their_own(world):
    """A check payment keyed some other way is found by its award and reference; a reversing
    entry counts for the gift it reverses; lines that fit no row (a manual correction) are listed
    as such, so the totals still tie."""
    award = reporting_award(world, amount=3000, paid=False)
    installment = award.installments.get()
    fund = world["fund"]
    with on(D(2026, 2, 20)):
        installments.record_payment_outside_processor(installment, by=world["finance"], paid_on=D(2026, 2, 20),
                                                      reference="CHK-9")  # fmt: skip
        # As the payment would post if keyed by what paid it: no disbursement, no installment key.
        ledger.post_entry(foundation=world["foundation"], cause=EntryCause.DISBURSEMENT, memo="Second check",
                          lines=[ledger.debit(fund, AccountKind.GRANTS_PAYABLE, usd(100)),
                                 ledger.credit(fund, AccountKind.BANK_CASH, usd(100))],
                          award=award, reference="CHK-9", idempotency_key="check:CHK-9:second")  # fmt: skip
        loose = ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="Correction",
                                  lines=[ledger.debit(fund, AccountKind.GRANTS_PAYABLE, usd(40)),
                                         ledger.credit(fund, AccountKind.BANK_CASH, usd(40))])  # fmt: skip
        year = Year(world, callbacks=None)
        year.check_gift(fund, usd(250), D(2026, 2, 20), "CHK-G")
        gift_entry = JournalEntry.objects.get(donation__reference="CHK-G")
        ledger.reverse_entry(gift_entry, by=world["finance"], memo="Void: the check bounced")  # names no gift
        gift_fix = ledger.post_entry(foundation=world["foundation"], cause=EntryCause.MANUAL, memo="Fee fix",
                                     lines=[ledger.debit(fund, AccountKind.FEES, usd(3)),
                                            ledger.credit(fund, AccountKind.PROCESSOR_CASH, usd(3))])  # fmt: skip
    book = openpyxl.load_workbook(io.BytesIO(export(world, START, END)))
    payouts = sheet_rows(book, "Installments and disbursements")
    (row,) = [r for r in payouts if r["Installment"] == 1]
    assert amount(row["Paid out"]) == 3100
    (unmatched,) = [r for r in payouts if str(r["Status"]).startswith("Not matched")]
    assert f"#{loose.pk}" in unmatched["Status"] and amount(unmatched["Paid out"]) == 40
    (fee_row,) = [r for r in sheet_rows(book, "Donations") if str(r["Status"]).startswith("Not matched")]
    assert f"#{gift_fix.pk}" in fee_row["Status"] and amount(fee_row["Processing fee"]) == 3
    (voided,) = [r for r in sheet_rows(book, "Donations") if r["Reference"] == "CHK-G"]
    assert amount(voided["Amount given"]) == 250 and amount(voided["Gross received in period"]) == 0
    assert_sheets_tie_out_with_summary(book)


@pytest.mark.parametrize(("language", "column", "expected"), [
    ("en", "Budget category", ["Bonds", "Legal fees"]),
    ("es", "Categoría del presupuesto", ["Fianzas", "Honorarios legales"]),
])  # fmt: skip
def test_budget_categories_are_named_in_the_workbooks_language(world, site, language, column, expected):
    award = reporting_award(world, amount=5000)
    set_budget(award.application, [("0", "Lawyer", "4000"), ("1", "Bond", "1000")],
               categories=("Legal fees", "Bonds", "Stipends", "Training", "Other"))  # fmt: skip
    fund_pages = pages.add_fund_page(site, world["fund"])
    pages.add_call_page(fund_pages, award.application.call, questions=questions_json)
    report = reports.report_for(award.report_due_dates.get(kind=ReportKind.INTERIM), by=world["grantee"])
    spend(report, world, 900, "0", date=D(2026, 3, 1))
    spend(report, world, 100, "1", date=D(2026, 3, 2))
    report = reports.save_draft(report, by=world["grantee"], period_start=D(2026, 2, 1), period_end=D(2026, 7, 31),
                                narrative="Hearings.", metrics={"people_represented": "3"},
                                variance_explanations={str(n): "x" for n in range(5)})  # fmt: skip
    report = reports.submit_report(report, by=world["grantee"], metric_definitions=METRICS)
    reports.accept_report(report, by=world["officer"])
    book = openpyxl.load_workbook(io.BytesIO(export(world, START, END, language=language)))
    sheet = book.worksheets[7]
    header = [c.value for c in sheet[1]]
    names = sorted(row[header.index(column)].value for row in sheet.iter_rows(min_row=2) if row[1].value)
    assert names == expected


@pytest.mark.parametrize("seed", [3, 17, 2026])
def test_a_random_mix_of_payments_ties_out(world, client, django_capture_on_commit_callbacks, seed):
    at_start, at_end = random_year(world, django_capture_on_commit_callbacks, seed)
    xlsx = export(world, START, END)
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert_sheets_tie_out_with_summary(book)
    assert_summary_ties_out_with_the_ledger(book, [world["fund"]], at_start, at_end)
    assert_no_negative_zero(xlsx)
    assert_all_time_summary_is_what_fund_money_shows(world, client, [world["fund"]])


def test_a_bond_fund_with_bonds_in_every_state_ties_out(world, client):
    """Bonds posted before and in the period, returned with interest, breached, partly refunded,
    cancelled and awaiting the refund, and only requested: the Bonds sheet, the Summary, the
    Journal, the ledger and Fund money agree."""
    year = bond_year(world)
    fund = year["fund"]
    xlsx = export(world, START, END)
    book = openpyxl.load_workbook(io.BytesIO(xlsx))
    assert_sheets_tie_out_with_summary(book)
    assert_summary_ties_out_with_the_ledger(
        book, [fund], {fund.pk: year["at_start"]}, {fund.pk: year["at_end"]}
    )
    assert_no_negative_zero(xlsx)
    s = summaries(book)[fund.name]
    assert (s["Out on bonds at start"], s["Out on bonds at end"], s["Bond interest"]) == (
        7000,
        6500,
        Decimal("25.50"),
    )
    assert s["Disbursed"] == 5000  # the losses: all of C, the rest of D
    assert len(sheet_rows(book, "Bonds")) == 6
    assert_all_time_summary_is_what_fund_money_shows(world, client, [fund])
