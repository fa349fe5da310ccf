"""Books that tie out: exact sums on SQLite, entries closed once posted, fund currencies the
portal can split, a check after a Stripe reversal, references counted once, gifts voided, and
shifts checked the same way by the form and the CSV import."""

import datetime
from decimal import Decimal

import pytest
from django import forms
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from grants.admin.awards import with_payment_summary
from grants.models import (
    AccountKind,
    Donation,
    DonationStatus,
    EntryCause,
    Fund,
    InstallmentStatus,
    JournalEntry,
    JournalLine,
    LinesClosed,
    PayeeAccount,
    PaymentReference,
    ReferenceMethod,
    Role,
    Shift,
)
from grants.money import ExactSum, is_fund_currency
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import (
    awards,
    bonds,
    donations,
    installments,
    ledger,
    offline_gifts,
    payments,
    receipts,
    stipends,
)
from grants.services.errors import DomainError
from grants.services.ledger import MixedCurrencies
from grants.services.transparency import foundation_report
from tests.factories import FundFactory
from tests.grants.bond_year import bond_fund, posted
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date


# --- 1. Sums are exact on SQLite as on PostgreSQL ------------------------------------------------


def _cancelling_income(world):
    """4000.00 and 0.01 in, then the 4000.00 reversed: 0.01 left, which floats get wrong."""
    fund_with(world, "4000.00")
    fund_with(world, "0.01")
    big = JournalEntry.objects.filter(cause=EntryCause.INCOME, reference="CHK-4000.00").get()
    ledger.reverse_manual_entry(big, by=world["finance"], reason="Bounced")


def test_balances_are_exact_after_large_amounts_cancel(world):
    _cancelling_income(world)
    b = ledger.balances(world["fund"])
    assert b.cash.amount == Decimal("0.01")
    assert b.other_income.amount == Decimal("0.01")
    assert b.available == usd("0.01")
    many = ledger.balances_for_funds([world["fund"]])[world["fund"].pk]
    assert many.cash.amount == Decimal("0.01")


def test_bond_figures_and_balances_are_exact_after_large_and_tiny_amounts(world):
    """Bonds of a fund with a large balance: a tiny one returned with a cent of interest, a large
    one breached, another partly refunded. Every figure is an exact sum, on SQLite and PostgreSQL,
    and out on bonds + available + committed is what the fund received."""
    fund = bond_fund(world)
    ledger.record_income(fund=fund, amount=usd("999999999.99"), source="check", received_on=datetime.date(2026, 1, 2),
                         reference="CHK-BIG", by=world["finance"])  # fmt: skip
    tiny = posted(world, fund, "0.10", datetime.date(2026, 2, 1), "R-TINY")
    large = posted(world, fund, "987654321.09", datetime.date(2026, 2, 2), "R-LARGE")
    partial = posted(world, fund, "0.30", datetime.date(2026, 2, 3), "R-PART")
    finance = world["finance"]
    bonds.record_refund(tiny, by=finance, received_on=datetime.date(2026, 3, 1), principal=usd("0.10"),
                        interest=usd("0.01"), receipt="T-1")  # fmt: skip
    bonds.record_breach(large, by=finance, reason="Missed hearing", breached_on=datetime.date(2026, 3, 2))
    bonds.record_refund(partial, by=finance, received_on=datetime.date(2026, 3, 3), principal=usd("0.20"),
                        receipt="T-2")  # fmt: skip
    figures = bonds.figures_for([tiny, large, partial])
    assert (figures[tiny.pk].returned, figures[tiny.pk].interest) == (usd("0.10"), usd("0.01"))
    assert figures[large.pk].written_off == usd("987654321.09") and figures[large.pk].outstanding == usd(0)
    assert figures[partial.pk].outstanding == usd("0.10")
    money = ledger.balances(fund)
    assert money.bonds_out == usd("0.10") and money.bond_interest == usd("0.01")
    assert money.received == usd("1000029999.99") + usd("0.01")
    assert money.bonds_out + money.available + money.committed == money.received
    assert isinstance(money.bonds_out.amount, Decimal) and str(money.bonds_out.amount) in ("0.10", "0.1")


def test_exact_sum_aggregates_with_a_filter_and_returns_decimal(world):
    _cancelling_income(world)
    totals = JournalLine.objects.filter(account__fund=world["fund"]).aggregate(
        cash=ExactSum("amount", filter=ledger_kind(AccountKind.BANK_CASH)),
        none=ExactSum("amount", filter=ledger_kind(AccountKind.FEES)),
    )
    assert totals == {"cash": Decimal("0.01"), "none": None}
    assert isinstance(totals["cash"], Decimal)


def ledger_kind(kind):
    return Q(account__kind=kind)


def test_transparency_income_is_exact(world):
    _cancelling_income(world)
    report = foundation_report(world["foundation"], year=2026)
    (summary,) = [m for m in report.money if m.currency == "USD"]
    assert summary.other_income == usd("0.01")


def test_awards_list_paid_sum_is_exact(world):
    fund_with(world, 10000)
    award = award_for(world, "3000.03", schedule=[(D(2026, 2, 1), usd("1000.01"))] * 3)
    awards.accept_award(award, by=world["grantee"], full_name="Ana", agreed=True, language="es")
    for installment in award.installments.order_by("number"):
        installments.record_payment_outside_processor(
            installment, by=world["finance2"], paid_on=D(2026, 2, 2), reference=f"OUT-{installment.number}"
        )
    row = with_payment_summary(type(award).objects.filter(pk=award.pk)).get()
    assert row.paid_amount == Decimal("3000.03")


# --- 3. An entry's lines are written with it, never later (ORM side; PostgreSQL in its file) ----


def test_lines_cannot_be_added_to_an_entry_loaded_from_the_database(world):
    fund_with(world, 100)
    entry = JournalEntry.objects.get()
    accounts = ledger.accounts_for(world["fund"])
    with pytest.raises(LinesClosed):
        JournalLine(entry=entry, account=accounts[AccountKind.BANK_CASH], amount=usd(5)).save()
    with pytest.raises(LinesClosed):
        JournalLine.objects.bulk_create(
            [
                JournalLine(entry=entry, account=accounts[AccountKind.BANK_CASH], amount=usd(5)),
                JournalLine(entry=entry, account=accounts[AccountKind.OTHER_INCOME], amount=usd(-5)),
            ]
        )
    assert JournalLine.objects.filter(entry=entry).count() == 2


def test_lines_are_written_once_even_through_the_same_object(world):
    accounts = ledger.accounts_for(world["fund"])
    with transaction.atomic():
        entry = JournalEntry.objects.create(
            foundation=world["foundation"], currency="USD", cause=EntryCause.MANUAL, memo="m",
            effective_date=D(2026, 1, 1),
        )  # fmt: skip
        pair = [
            JournalLine(entry=entry, account=accounts[AccountKind.BANK_CASH], amount=usd(5)),
            JournalLine(entry=entry, account=accounts[AccountKind.OTHER_INCOME], amount=usd(-5)),
        ]
        JournalLine.objects.bulk_create(pair)
        with pytest.raises(LinesClosed):
            JournalLine(entry=entry, account=accounts[AccountKind.BANK_CASH], amount=usd(1)).save()


# --- 4. Only currencies the portal can split exactly --------------------------------------------


@pytest.mark.parametrize("code", ["KWD", "BHD", "JOD", "OMR", "TND"])
def test_three_decimal_currencies_are_refused_for_a_fund(world, code):
    assert not is_fund_currency(code)
    fund = Fund(
        foundation=world["foundation"], name="Golfo", slug="golfo", program_type="other", currency=code
    )
    with pytest.raises(ValidationError) as refused:
        fund.full_clean()
    assert "decimals" in " ".join(refused.value.message_dict["currency"])


def test_the_fund_form_refuses_kwd_with_a_message_and_takes_usd_and_jpy(world):
    form_class = forms.modelform_factory(
        Fund, fields=["foundation", "name", "slug", "program_type", "currency"]
    )
    data = {"foundation": world["foundation"].pk, "name": "Golfo", "slug": "golfo", "program_type": "other"}
    form = form_class({**data, "currency": "KWD"})
    assert not form.is_valid()
    assert "KWD has 3 decimals" in form.errors["currency"][0]
    assert form_class({**data, "currency": "USD"}).is_valid()
    assert form_class({**data, "currency": "JPY", "slug": "yen"}).is_valid()


def test_the_ledger_refuses_money_for_a_fund_in_a_three_decimal_currency(world):
    fund = FundFactory(foundation=world["foundation"], currency="KWD")  # made before the rule
    with pytest.raises(MixedCurrencies, match="KWD has 3 decimals"):
        ledger.record_income(fund=fund, amount=Money("10.000", "KWD"), source="check",
                             received_on=D(2026, 1, 5), reference="K-1", by=world["finance"])  # fmt: skip
    with pytest.raises(MixedCurrencies):
        ledger.post_entry(
            foundation=world["foundation"], cause=EntryCause.MANUAL, memo="x",
            lines=[ledger.debit(fund, AccountKind.BANK_CASH, Money("10.00", "KWD")),
                   ledger.credit(fund, AccountKind.OTHER_INCOME, Money("10.00", "KWD"))],
        )  # fmt: skip
    assert not JournalEntry.objects.filter(currency="KWD").exists()


# --- 5. Reversed at Stripe, then paid by check --------------------------------------------------


@pytest.fixture
def paid_through_stripe(world, django_capture_on_commit_callbacks):
    """A $1,000 award, paid through Stripe, then the transfer reversed (fully) at Stripe."""
    fund_with(world, 10000)
    award = award_for(world, 1000)
    awards.accept_award(award, by=world["grantee"], full_name="Ana María López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    payments.start_onboarding(organization=world["organization"], foundation=world["foundation"],
                              by=world["grantee"])  # fmt: skip
    payee = PayeeAccount.objects.get()
    gateway = SimulatedGateway(world["foundation"])
    with django_capture_on_commit_callbacks(execute=True):
        gateway.complete_onboarding(payee.stripe_account_id, "complete")
    installment = award.installments.get()
    with django_capture_on_commit_callbacks(execute=True):
        disbursement = payments.release_installment(installment, by=world["finance"])
    disbursement.refresh_from_db()
    return {"award": award, "installment": installment, "disbursement": disbursement, "gateway": gateway}


def _reverse(world, case, callbacks, amount=None):
    with callbacks(execute=True):
        case["gateway"].reverse_transfer(transfer_id=case["disbursement"].stripe_transfer_id, amount=amount,
                                         metadata={}, idempotency_key=f"rev:{amount}")  # fmt: skip
    case["installment"].refresh_from_db()


def test_a_check_after_a_stripe_reversal_reaches_the_ledger(
    world, paid_through_stripe, django_capture_on_commit_callbacks
):
    case = paid_through_stripe
    _reverse(world, case, django_capture_on_commit_callbacks)
    installment = case["installment"]
    assert installment.status == InstallmentStatus.ON_HOLD
    assert ledger.balances(world["fund"]).outstanding == usd(1000)

    installments.record_payment_outside_processor(
        installment, by=world["finance2"], paid_on=D(2026, 4, 2), reference="CHK 5001"
    )
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID
    b = ledger.balances(world["fund"])
    assert (b.outstanding, b.paid) == (usd(0), usd(1000))
    assert b.by_account[AccountKind.BANK_CASH] == usd(10000 - 1000)
    keys = set(
        JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).values_list("idempotency_key", flat=True)
    )
    assert keys == {
        f"disbursement:{case['disbursement'].pk}:paid",
        f"installment:{installment.pk}:paid:outside",
    }

    # Retries change nothing: the same check again, and Stripe's paid event replayed.
    installments.record_payment_outside_processor(
        installment, by=world["finance2"], paid_on=D(2026, 4, 2), reference="CHK 5001"
    )
    installments.post_payment(installment, by=None, cash_account=AccountKind.PROCESSOR_CASH,
                              reference=case["disbursement"].stripe_transfer_id,
                              disbursement=case["disbursement"])  # fmt: skip
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 2
    assert ledger.balances(world["fund"]).outstanding == usd(0)


def test_a_check_after_a_partial_reversal_pays_what_came_back(
    world, paid_through_stripe, django_capture_on_commit_callbacks
):
    case = paid_through_stripe
    _reverse(world, case, django_capture_on_commit_callbacks, amount=usd(300))  # $300 of $1,000
    installments.record_payment_outside_processor(
        case["installment"], by=world["finance2"], paid_on=D(2026, 4, 2), reference="CHK 5002"
    )
    entry = JournalEntry.objects.get(idempotency_key=f"installment:{case['installment'].pk}:paid:outside")
    assert {line.account.kind: line.amount for line in entry.lines.all()} == {
        AccountKind.GRANTS_PAYABLE: usd(300), AccountKind.BANK_CASH: usd(-300)
    }  # fmt: skip
    assert ledger.balances(world["fund"]).outstanding == usd(0)


def test_another_hold_still_refuses_a_check(world, paid_through_stripe, django_capture_on_commit_callbacks):
    case = paid_through_stripe
    _reverse(world, case, django_capture_on_commit_callbacks)
    installments.lift_hold(case["installment"], by=world["finance"], today=D(2026, 4, 1))
    installments.hold_installment(case["installment"], by=world["officer"], reason="Report overdue")
    with pytest.raises(DomainError, match="on hold"):
        installments.record_payment_outside_processor(
            case["installment"], by=world["finance2"], paid_on=D(2026, 4, 2), reference="CHK 5003"
        )
    assert ledger.balances(world["fund"]).outstanding == usd(1000)


def test_an_entry_posted_under_the_old_key_is_not_posted_again(world):
    """Entries posted before the keys named the payer keep ``installment:<pk>:paid``: a replay
    for the same payer returns that entry instead of paying twice."""
    fund_with(world, 10000)
    award = award_for(world, 1000)
    awards.accept_award(award, by=world["grantee"], full_name="Ana", agreed=True, language="es")
    installment = award.installments.get()
    old = ledger.post_entry(
        foundation=world["foundation"], cause=EntryCause.DISBURSEMENT, memo="old", award=award,
        lines=[ledger.debit(world["fund"], AccountKind.GRANTS_PAYABLE, usd(1000)),
               ledger.credit(world["fund"], AccountKind.BANK_CASH, usd(1000))],
        idempotency_key=f"installment:{installment.pk}:paid",
    )  # fmt: skip
    again = installments.post_payment(installment, by=None, cash_account=AccountKind.BANK_CASH, reference="x")
    assert again == old
    assert ledger.balances(world["fund"]).outstanding == usd(0)


# --- 6. A check or bank reference counts once ---------------------------------------------------


def _gift(world, reference, channel="check", email="ana@example.org", **kwargs):
    return offline_gifts.record_offline_gift(
        fund=world["fund"], donor_name="Ana Torres", donor_email=email, amount=usd(250), channel=channel,
        received_on=D(2026, 3, 3), reference=reference, by=world["finance"], send_receipt=False, **kwargs,
    )  # fmt: skip


def test_the_same_check_recorded_twice_is_refused_naming_the_first_gift(world):
    first = _gift(world, "CHK 0042")
    with pytest.raises(offline_gifts.OfflineGiftError) as refused:
        _gift(world, "  chk   0042 ", email="otro@example.org")
    assert refused.value.field == "reference"
    assert f"gift #{first.pk} from Ana Torres" in refused.value.message
    assert "Mar 3, 2026" in refused.value.message
    assert Donation.objects.count() == 1
    assert ledger.balances(world["fund"]).donations == usd(250)
    # Another method is another namespace.
    _gift(world, "CHK 0042", channel="bank_transfer")
    assert Donation.objects.count() == 2


def test_the_database_refuses_a_second_reference_row(world):
    gift = _gift(world, "TR-9")
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentReference.objects.create(foundation=world["foundation"], method=ReferenceMethod.GIFT_CHECK,
                                        key="tr-9", reference="TR-9", recorded_on=D(2026, 1, 1))  # fmt: skip
    assert PaymentReference.objects.get().donation == gift


def test_the_same_check_paying_two_installments_is_refused_naming_the_award(world):
    fund_with(world, 10000)
    award = award_for(world, 2000, schedule=[(D(2026, 2, 1), usd(1000)), (D(2026, 3, 1), usd(1000))])
    awards.accept_award(award, by=world["grantee"], full_name="Ana", agreed=True, language="es")
    first, second = award.installments.order_by("number")
    installments.record_payment_outside_processor(first, by=world["finance2"], paid_on=D(2026, 2, 2),
                                                  reference="Check 7001")  # fmt: skip
    with pytest.raises(ledger.DuplicateReference) as refused:
        installments.record_payment_outside_processor(second, by=world["finance2"], paid_on=D(2026, 3, 2),
                                                      reference="CHECK 7001")  # fmt: skip
    assert f"payment 1 of award {award.reference}" in refused.value.message
    second.refresh_from_db()
    assert second.status != InstallmentStatus.PAID
    assert ledger.balances(world["fund"]).outstanding == usd(1000)


# --- 7. Voiding a gift ----------------------------------------------------------------------------


def test_finance_voids_an_offline_gift_in_the_admin(world, client, site, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        gift = offline_gifts.record_offline_gift(
            fund=world["fund"], donor_name="Ana Torres", donor_email="ana@example.org", amount=usd(250),
            channel="check", received_on=D(2026, 3, 3), reference="CHK 11", by=world["finance"],
        )  # fmt: skip
    gift.refresh_from_db()
    number = gift.receipt_number
    assert donations.fund_progress(world["fund"]).raised == usd(250)
    mail.outbox.clear()
    client.force_login(world["finance"])
    url = reverse("donations_admin:void", args=[gift.pk])
    page = client.get(reverse("donations_admin:donation", args=[gift.pk]))
    assert url in page.content.decode()

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(url, {"reason": "Check bounced"})
    assert response.status_code == 302
    gift.refresh_from_db()
    assert gift.status == DonationStatus.VOIDED
    assert (gift.void_reason, gift.voided_by) == ("Check bounced", world["finance"])
    assert gift.receipt_number == number
    b = ledger.balances(world["fund"])
    assert (b.donations, b.cash) == (usd(0), usd(0))
    reversal = JournalEntry.objects.get(cause=EntryCause.REVERSAL)
    assert reversal.donation == gift and reversal.reverses.donation == gift
    assert donations.fund_progress(world["fund"]).raised == usd(0)
    (notice,) = mail.outbox
    assert notice.subject.startswith("VOID")
    assert "Check bounced" in notice.body and receipts.receipt_label(gift.foundation, number) in notice.body
    page = client.get(reverse("donations_admin:donation", args=[gift.pk])).content.decode()
    assert "VOID" in page and "Check bounced" in page

    # A second void is refused; the receipt cannot be resent; the number is not reused.
    response = client.post(url, {"reason": "again"}, follow=True)
    assert "already void" in response.content.decode()
    assert JournalEntry.objects.filter(cause=EntryCause.REVERSAL).count() == 1
    with pytest.raises(receipts.ReceiptError, match="void"):
        receipts.resend_receipt(gift, by=world["finance"])
    # The check may now be entered again, correctly, and gets a new receipt number.
    with django_capture_on_commit_callbacks(execute=True):
        again = offline_gifts.record_offline_gift(
            fund=world["fund"], donor_name="Ana Torres", donor_email="ana@example.org", amount=usd(25),
            channel="check", received_on=D(2026, 3, 3), reference="CHK 11", by=world["finance"],
        )  # fmt: skip
    again.refresh_from_db()
    assert again.receipt_number == number + 1


def test_void_needs_a_reason_finance_and_the_same_foundation(world, client, site, other_foundation):
    gift = _gift(world, "CHK 12")
    url = reverse("donations_admin:void", args=[gift.pk])
    client.force_login(world["auditor"])
    page = client.get(reverse("donations_admin:donation", args=[gift.pk])).content.decode()
    assert url not in page
    # Refused: Wagtail turns the PermissionDenied into a redirect to the dashboard with a message.
    assert client.post(url, {"reason": "x"})["Location"] == reverse("wagtailadmin_home")
    stranger = staff(other_foundation, Role.FINANCE_OFFICER, email="other@example.org")
    client.force_login(stranger)
    response = client.post(url, {"reason": "x"})
    if response.status_code == 302:  # the stranger's language prefix first
        response = client.post(response["Location"], {"reason": "x"})
    assert response.status_code == 404
    with pytest.raises(offline_gifts.OfflineGiftError, match="Only the foundation"):
        offline_gifts.void_gift(gift, by=stranger, reason="x")
    with pytest.raises(offline_gifts.OfflineGiftError, match="Say why"):
        offline_gifts.void_gift(gift, by=world["finance"], reason="  ")
    gift.refresh_from_db()
    assert gift.status == DonationStatus.COMPLETED
    assert ledger.balances(world["fund"]).donations == usd(250)


def test_a_stripe_gift_is_refunded_not_voided(world):
    gift = _gift(world, "CHK 13")
    Donation.objects.filter(pk=gift.pk).update(channel="stripe")
    gift.refresh_from_db()
    with pytest.raises(offline_gifts.OfflineGiftError, match="refund them in Stripe"):
        offline_gifts.void_gift(gift, by=world["finance"], reason="Mistake")
    assert ledger.balances(world["fund"]).donations == usd(250)


# --- 8. Shifts: the form refuses what the CSV refuses -------------------------------------------

TODAY = D(2026, 11, 10)


@pytest.fixture
def luna(world):
    program = stipends.save_program(
        fund=world["fund"], name="Línea", rate=usd(25), rate_unit="shift", monthly_cap=usd(100),
        coordinators=[world["organization"]], by=world["officer"],
    )  # fmt: skip
    return stipends.add_volunteer(program=program, organization=world["organization"], pseudonym="Luna",
                                  by=world["grantee"])  # fmt: skip


def _log(world, volunteer, day, hours):
    return stipends.log_shift(volunteer=volunteer, date=day, hours=hours, by=world["grantee"], today=TODAY)


def _import(world, volunteer, text):
    return stipends.import_shifts_csv(program=volunteer.program, organization=world["organization"],
                                      data=text.encode(), by=world["grantee"], today=TODAY)  # fmt: skip


def test_the_same_shift_logged_twice_through_the_form_is_refused(world, luna):
    _log(world, luna, D(2026, 10, 3), 4)
    with pytest.raises(stipends.StipendError, match="already logged"):
        _log(world, luna, D(2026, 10, 3), "4.0")
    assert Shift.objects.count() == 1


def test_more_than_24_hours_in_a_day_is_refused_by_the_form_and_the_csv(world, luna):
    _log(world, luna, D(2026, 10, 3), 20)
    with pytest.raises(stipends.StipendError, match="25 hours"):
        _log(world, luna, D(2026, 10, 3), 5)
    _log(world, luna, D(2026, 10, 3), 4)  # exactly 24 is a full day, allowed
    with pytest.raises(stipends.ShiftImportError) as refused:
        _import(world, luna, "pseudonym,date,hours\nLuna,2026-10-04,12\nLuna,2026-10-04,13\n")
    assert refused.value.row_errors == [
        (3, "“Luna” would have 25 hours of shifts on Oct 4, 2026; a day has at most 24.")
    ]
    assert Shift.objects.count() == 2


def test_a_shift_from_1999_is_refused_by_the_form_and_the_csv(world, luna):
    with pytest.raises(stipends.StipendError, match="before this program's time"):
        _log(world, luna, D(1999, 10, 3), 4)
    with pytest.raises(stipends.ShiftImportError) as refused:
        _import(world, luna, "pseudonym,date,hours\nLuna,1999-10-03,4\n")
    assert "before this program's time" in refused.value.row_errors[0][1]
    # The month before the fund began is still accepted (a program brings its last month).
    Fund.objects.filter(pk=world["fund"].pk).update(
        created_at=datetime.datetime(2026, 9, 20, tzinfo=datetime.UTC)
    )
    luna.program.fund.refresh_from_db()
    _log(world, luna, D(2026, 8, 1), 4)
    with pytest.raises(stipends.StipendError, match="before this program's time"):
        _log(world, luna, D(2026, 7, 31), 4)


def test_the_shift_form_shows_why_a_second_identical_shift_is_refused(world, luna, client, site):
    client.force_login(world["grantee"])
    url = reverse(
        "stipend_shift_new",
        kwargs={"program_id": luna.program_id, "organization_id": world["organization"].pk},
    )
    today = timezone.localdate()
    data = {"volunteer": luna.pk, "date": today.isoformat(), "hours": "4"}
    assert client.post(url, data).status_code == 302
    again = client.post(url, data)
    assert again.status_code == 400
    assert "This shift is already logged." in again.content.decode()
    old = client.post(url, {**data, "date": "1999-10-03"})
    assert old.status_code == 400 and "before this program" in old.content.decode()
    assert Shift.objects.count() == 1
