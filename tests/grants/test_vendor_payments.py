"""Paying vendors on a grantee's behalf, as the grantee, an officer, finance staff and Stripe live it."""

import contextlib
import datetime

import pytest
from django.core import mail
from django.urls import reverse

from grants.models import (
    AccountKind,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    PayeeAccount,
    Role,
    Vendor,
    VendorPayment,
    VendorPaymentMethod,
    VendorPaymentStatus,
)
from grants.payments.gateway import PaymentError
from grants.payments.simulator.gateway import SimulatedGateway
from grants.payments.simulator.models import SimulatedStripeObject
from grants.services import installments, ledger, payments, vendor_payments
from grants.services.awards import AwardError
from grants.services.errors import DomainError
from grants.services.vendor_payments import VendorPaymentRefused
from tests.factories import FoundationFactory, OrganizationFactory, UserFactory
from tests.grants.money_fixtures import staff, usd
from tests.grants.vendor_helpers import (
    add_officer2,
    check_vendor,
    due_award,
    invoice,
    stripe_vendor,
)

pytestmark = pytest.mark.django_db
D = datetime.date
V = VendorPaymentStatus


def transfers():
    return SimulatedStripeObject.objects.filter(kind="transfer")


def _asked(world, vendor, award=None, by="grantee"):
    award = award or due_award(world)
    return vendor_payments.request_vendor_payment(
        by=world[by], vendor=vendor, installment=award.installments.get(), purpose="Rent for March",
        invoice=invoice(),
    )  # fmt: skip


def _direct(world, vendor, amount=750, by="officer"):
    return vendor_payments.request_vendor_payment(
        by=world[by], vendor=vendor, fund=world["fund"], organization=world["organization"], amount=usd(amount),
        purpose="Electricity bill",
    )  # fmt: skip


# --- Vendors ---------------------------------------------------------------------------------------


def test_vendors_are_added_by_finance_with_a_valid_name_once_per_foundation(world):
    vendor = check_vendor(world, name="  Casa   Rivera  Rentals ")
    assert vendor.name == "Casa Rivera Rentals" and vendor.foundation == world["foundation"]

    with pytest.raises(VendorPaymentRefused, match="already has a vendor"):
        check_vendor(world, name="casa rivera rentals")
    with pytest.raises(VendorPaymentRefused) as caught:
        check_vendor(world, name="A123-456-789 bond")
    assert caught.value.field == "name"
    with pytest.raises(VendorPaymentRefused):
        check_vendor(world, name="   ")
    with pytest.raises(VendorPaymentRefused, match="Only finance staff"):
        vendor_payments.add_vendor(world["foundation"], by=world["officer"], name="X", kind="other",
                                   payment_method="check")  # fmt: skip
    with pytest.raises(VendorPaymentRefused, match="email"):
        vendor_payments.add_vendor(world["foundation"], by=world["finance"], name="Y", kind="utility",
                                   payment_method=VendorPaymentMethod.STRIPE)  # fmt: skip
    # Another foundation may use the same name.
    other = FoundationFactory(slug="other")
    other_finance = staff(other, Role.FINANCE_OFFICER)
    vendor_payments.add_vendor(other, by=other_finance, name="Casa Rivera Rentals", kind="landlord",
                               payment_method="check")  # fmt: skip
    with pytest.raises(VendorPaymentRefused):
        vendor_payments.add_vendor(world["foundation"], by=other_finance, name="Z", kind="other",
                                   payment_method="check")  # fmt: skip
    assert Vendor.objects.count() == 2


def test_the_onboarding_link_creates_one_account_and_emails_the_vendor(
    world, django_capture_on_commit_callbacks
):
    vendor = vendor_payments.add_vendor(
        world["foundation"], by=world["finance"], name="Pacific Power", kind="utility",
        payment_method=VendorPaymentMethod.STRIPE, email="billing@pacific.example",
    )  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        first = vendor_payments.send_onboarding_link(vendor, by=world["finance"], language="es")
    with django_capture_on_commit_callbacks(execute=True):
        again = vendor_payments.send_onboarding_link(vendor, by=world["finance2"])

    payee = PayeeAccount.objects.get()
    assert payee.vendor == vendor and payee.organization is None and payee.holder == vendor
    assert first and again
    assert SimulatedStripeObject.objects.filter(kind="account").count() == 1
    assert [m.to for m in mail.outbox] == [["billing@pacific.example"]] * 2
    assert first in mail.outbox[0].body
    assert "Bay Area Foundation" in mail.outbox[0].subject  # in Spanish, the foundation's name kept

    with pytest.raises(VendorPaymentRefused):
        vendor_payments.send_onboarding_link(vendor, by=world["officer"])
    with pytest.raises(VendorPaymentRefused, match="check"):
        vendor_payments.send_onboarding_link(check_vendor(world), by=world["finance"])


# --- Asking ------------------------------------------------------------------------------------------


def test_a_member_asks_for_an_unpaid_installment_to_go_to_a_vendor(world):
    vendor = check_vendor(world)
    payment = _asked(world, vendor)

    assert payment.status == V.REQUESTED
    assert payment.amount == usd(1000) and payment.organization == world["organization"]
    assert payment.invoice.name.startswith("invoices/") and payment.invoice_name == "invoice.pdf"
    assert not payment.is_direct_assistance
    with pytest.raises(VendorPaymentRefused, match="already asked"):
        _asked(world, vendor, award=payment.award)


def test_a_purpose_with_an_a_number_is_refused(world):
    vendor = check_vendor(world)
    award = due_award(world)
    for purpose in ("Bond for A-123-456-789", "A123456789 hearing", "  "):
        with pytest.raises(VendorPaymentRefused) as caught:
            vendor_payments.request_vendor_payment(
                by=world["grantee"], vendor=vendor, installment=award.installments.get(), purpose=purpose
            )
        assert caught.value.field == "purpose"
    assert not VendorPayment.objects.exists()


def test_an_invoice_that_is_not_a_pdf_or_image_is_refused(world):
    vendor = check_vendor(world)
    award = due_award(world)
    with pytest.raises(VendorPaymentRefused, match="not an accepted file type") as caught:
        vendor_payments.request_vendor_payment(
            by=world["grantee"], vendor=vendor, installment=award.installments.get(), purpose="Rent",
            invoice=invoice("invoice.pdf", b"MZ\x90\x00 a program"),
        )  # fmt: skip
    assert caught.value.field == "invoice"
    assert not VendorPayment.objects.exists()


def test_strangers_and_other_foundations_cannot_ask(world):
    vendor = check_vendor(world)
    award = due_award(world)
    installment = award.installments.get()
    stranger = UserFactory()
    with pytest.raises(VendorPaymentRefused):
        vendor_payments.request_vendor_payment(
            by=stranger, vendor=vendor, installment=installment, purpose="Rent"
        )
    # A grantee cannot ask for direct assistance.
    with pytest.raises(VendorPaymentRefused, match="program officers"):
        _direct(world, vendor, by="grantee")
    # A vendor of another foundation cannot be paid from this award.
    other = FoundationFactory(slug="other")
    foreign = vendor_payments.add_vendor(other, by=staff(other, Role.FINANCE_OFFICER), name="Elsewhere LLP",
                                         kind="law_firm", payment_method="check")  # fmt: skip
    with pytest.raises(VendorPaymentRefused, match="active vendors"):
        vendor_payments.request_vendor_payment(by=world["grantee"], vendor=foreign, installment=installment,
                                               purpose="Rent")  # fmt: skip
    # Another foundation's officer cannot ask from this fund.
    with pytest.raises(VendorPaymentRefused):
        _direct(world | {"x": staff(other, Role.PROGRAM_OFFICER)}, vendor, by="x")
    assert not VendorPayment.objects.exists()


# --- Deciding -----------------------------------------------------------------------------------------


def test_declining_needs_a_reason_and_lets_the_installment_be_asked_again(world):
    vendor = check_vendor(world)
    payment = _asked(world, vendor)
    with pytest.raises(VendorPaymentRefused):
        vendor_payments.decline(payment, by=world["officer"], reason=" ")
    with pytest.raises(VendorPaymentRefused):
        vendor_payments.decline(payment, by=world["finance"], reason="No")
    vendor_payments.decline(payment, by=world["officer"], reason="The invoice is for another family")
    payment.refresh_from_db()
    assert payment.status == V.DECLINED and payment.installment is None
    again = _asked(world, vendor, award=payment.award)
    assert again.status == V.REQUESTED


def test_an_approved_vendor_payment_takes_the_installment_from_the_grantee(
    world, django_capture_on_commit_callbacks
):
    vendor = check_vendor(world)
    payment = _asked(world, vendor)
    vendor_payments.approve(payment, by=world["officer"])
    installment = payment.installment
    installment.refresh_from_db()

    with pytest.raises(AwardError, match="goes to Bufete Legal Sánchez"):
        installments.record_payment_outside_processor(
            installment, by=world["finance"], paid_on=D(2026, 3, 2), reference="CHK 9"
        )
    rows, _totals = payments.release_preview([installment], by=world["finance"])
    assert "goes to Bufete Legal Sánchez" in rows[0].problem
    assert not JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).exists()

    # Cancelled before release, the installment is the grantee's again.
    vendor_payments.cancel(payment, by=world["officer"], reason="Paid by the family")
    installments.record_payment_outside_processor(
        installment, by=world["finance"], paid_on=D(2026, 3, 2), reference="CHK 9"
    )
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID


def test_direct_assistance_needs_the_money_and_cancelling_releases_the_commitment(world):
    due_award(world, amount=1000, funded=1500)  # $500 available
    vendor = check_vendor(world)
    too_much = _direct(world, vendor, amount=600)
    with pytest.raises(ledger.InsufficientFunds):
        vendor_payments.approve(too_much, by=world["officer"])
    too_much.refresh_from_db()
    assert too_much.status == V.REQUESTED

    payment = _direct(world, vendor, amount=400)
    vendor_payments.approve(payment, by=world["officer"])
    assert ledger.balances(world["fund"]).available == usd(100)
    vendor_payments.cancel(payment, by=world["finance"])
    assert ledger.balances(world["fund"]).available == usd(500)
    payment.refresh_from_db()
    assert payment.status == V.CANCELLED
    commit = JournalEntry.objects.get(cause=EntryCause.DIRECT_ASSISTANCE)
    assert JournalEntry.objects.get(reverses=commit).vendor_payment_id == payment.pk


# --- Releasing: four eyes ---------------------------------------------------------------------------


def test_release_is_four_eyes(world, django_capture_on_commit_callbacks):
    admin = staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org")
    world["admin"] = admin
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks)
    due_award(world)
    by_admin = _direct(world, vendor, by="admin")
    vendor_payments.approve(by_admin, by=world["officer"])
    # Who asked cannot release, however many capabilities they hold.
    with pytest.raises(VendorPaymentRefused, match="another finance officer"):
        vendor_payments.release(by_admin, by=admin)
    # Nor who approved.
    approved_by_admin = _direct(world, vendor)
    vendor_payments.approve(approved_by_admin, by=admin)
    with pytest.raises(VendorPaymentRefused, match="another finance officer"):
        vendor_payments.release(approved_by_admin, by=admin)
    with pytest.raises(VendorPaymentRefused, match="another finance officer"):
        vendor_payments.record_check(approved_by_admin, by=admin, check_number="1", paid_on=D(2026, 3, 1))
    # Nor staff without the capability.
    for person in ("officer", "auditor", "grantee"):
        with pytest.raises(VendorPaymentRefused, match="Only finance staff"):
            vendor_payments.release(approved_by_admin, by=world[person])
    assert not Disbursement.objects.exists() and not transfers().exists()

    with django_capture_on_commit_callbacks(execute=True):
        vendor_payments.release(approved_by_admin, by=world["finance"])
    approved_by_admin.refresh_from_db()
    assert approved_by_admin.status == V.PAID and approved_by_admin.released_by == world["finance"]


def test_who_made_the_award_cannot_release_its_vendor_payment(world):
    admin = staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org")
    world["admin"] = admin
    vendor = check_vendor(world)
    award = due_award(world)
    type(award).objects.filter(pk=award.pk).update(offered_by=admin)
    payment = _asked(world, vendor, award=award)
    vendor_payments.approve(payment, by=world["officer"])
    with pytest.raises(VendorPaymentRefused, match="approved this grant"):
        vendor_payments.record_check(payment, by=admin, check_number="77", paid_on=D(2026, 3, 1))


def test_a_payment_not_approved_or_to_a_vendor_not_ready_is_refused(
    world, django_capture_on_commit_callbacks
):
    due_award(world)
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks, ready=False)
    payment = _direct(world, vendor)
    with pytest.raises(VendorPaymentRefused, match="Requested"):
        vendor_payments.release(payment, by=world["finance"])
    vendor_payments.approve(payment, by=world["officer"])
    with pytest.raises(VendorPaymentRefused, match="cannot receive payments yet"):
        vendor_payments.release(payment, by=world["finance"])
    by_check = _direct(world, check_vendor(world))
    vendor_payments.approve(by_check, by=world["officer"])
    with pytest.raises(VendorPaymentRefused, match="record the check"):
        vendor_payments.release(by_check, by=world["finance"])
    assert not transfers().exists()


# --- Releasing: Stripe ---------------------------------------------------------------------------------


def test_double_release_and_a_second_officer_make_one_transfer(world, django_capture_on_commit_callbacks):
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks)
    payment = _asked(world, vendor)
    vendor_payments.approve(payment, by=world["officer"])
    with django_capture_on_commit_callbacks(execute=True):
        first = vendor_payments.release(payment, by=world["finance"])
        again = vendor_payments.release(payment, by=world["finance"])
        other = vendor_payments.release(payment, by=world["finance2"])

    assert first.pk == again.pk == other.pk
    assert transfers().count() == 1
    transfer = transfers().get().data
    assert transfer["metadata"] == {"disbursement": str(first.pk), "vendor_payment": str(payment.pk)}
    assert transfer["destination"] == PayeeAccount.objects.get(vendor=vendor).stripe_account_id
    (entry,) = JournalEntry.objects.filter(cause=EntryCause.VENDOR_PAYMENT)
    assert entry.disbursement_id == first.pk
    assert {line.account.kind: line.amount for line in entry.lines.all()} == {
        AccountKind.GRANTS_PAYABLE: usd(1000),
        AccountKind.PROCESSOR_CASH: usd(-1000),
    }
    installment = payment.installment
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID
    # Paying the grantee too is refused.
    with pytest.raises(DomainError):
        payments.release_installment(installment, by=world["finance"])
    assert transfers().count() == 1


@pytest.mark.parametrize("when", ["in_flight", "after"])
def test_an_unknown_outcome_pays_once(world, django_capture_on_commit_callbacks, when):
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks)
    due_award(world)
    payment = _direct(world, vendor)
    vendor_payments.approve(payment, by=world["officer"])
    SimulatedGateway.script(world["foundation"], "network", when=when, operation="create_transfer")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PaymentError):
        vendor_payments.release(payment, by=world["finance"])
    disbursement = Disbursement.objects.get()
    if disbursement.status != DisbursementStatus.PAID:  # the event may have confirmed it already
        assert disbursement.status == DisbursementStatus.UNKNOWN
        payment.refresh_from_db()
        assert payment.status == V.SENT
        # Nothing else may be sent to this vendor meanwhile: a check is refused.
        with pytest.raises(VendorPaymentRefused):
            vendor_payments.record_check(
                payment, by=world["finance2"], check_number="5", paid_on=D(2026, 3, 1)
            )

    for _ in range(3):
        with django_capture_on_commit_callbacks(execute=True), contextlib.suppress(PaymentError):
            vendor_payments.release(payment, by=world["finance2"])
    disbursement.refresh_from_db()
    payment.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.idempotency_key == f"disbursement:{disbursement.pk}"
    assert payment.status == V.PAID
    assert transfers().count() == 1
    assert JournalEntry.objects.filter(cause=EntryCause.VENDOR_PAYMENT).count() == 1


def test_a_refusal_stripe_answered_fails_the_payment_and_the_retry_uses_the_next_key(
    world, django_capture_on_commit_callbacks
):
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks)
    payment = _asked(world, vendor)
    vendor_payments.approve(payment, by=world["officer"])
    SimulatedGateway.fail_next(world["foundation"], "card_declined", operation="create_transfer")

    with django_capture_on_commit_callbacks(execute=True), pytest.raises(PaymentError):
        vendor_payments.release(payment, by=world["finance"])
    payment.refresh_from_db()
    assert payment.status == V.FAILED and payment.failure_message
    installment = payment.installment
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.DUE  # still the vendor's, still unpaid
    assert not transfers().exists()

    with django_capture_on_commit_callbacks(execute=True):
        retried = vendor_payments.release(payment, by=world["finance2"])
    retried.refresh_from_db()
    assert retried.idempotency_key == f"disbursement:{retried.pk}:1"
    assert retried.status == DisbursementStatus.PAID
    assert transfers().count() == 1


def test_a_stripe_payment_cannot_be_cancelled_and_a_cancelled_one_cannot_be_released(
    world, django_capture_on_commit_callbacks
):
    vendor = stripe_vendor(world, django_capture_on_commit_callbacks)
    due_award(world)
    paid = _direct(world, vendor)
    vendor_payments.approve(paid, by=world["officer"])
    with django_capture_on_commit_callbacks(execute=True):
        vendor_payments.release(paid, by=world["finance"])
    with pytest.raises(DomainError):
        vendor_payments.cancel(paid, by=world["officer"])

    cancelled = _direct(world, vendor)
    vendor_payments.cancel(cancelled, by=world["officer"])
    with pytest.raises(VendorPaymentRefused):
        vendor_payments.release(cancelled, by=world["finance"])
    assert transfers().count() == 1


def test_a_check_number_is_used_once(world):
    add_officer2(world)
    due_award(world)
    vendor = check_vendor(world)
    first, second = _direct(world, vendor, amount=100), _direct(world, vendor, amount=200)
    for payment in (first, second):
        vendor_payments.approve(payment, by=world["officer2"])
    vendor_payments.record_check(first, by=world["finance"], check_number="CHK 500", paid_on=D(2026, 3, 1))
    with pytest.raises(ledger.DuplicateReference, match="CHK 500"):
        vendor_payments.record_check(
            second, by=world["finance"], check_number="chk  500", paid_on=D(2026, 3, 1)
        )
    with pytest.raises(VendorPaymentRefused):
        vendor_payments.record_check(second, by=world["finance"], check_number="CHK 501",
                                     paid_on=datetime.date.today() + datetime.timedelta(days=3))  # fmt: skip
    second.refresh_from_db()
    assert second.status == V.APPROVED


def test_the_grantee_sees_what_was_paid_on_its_behalf(world, client):
    vendor = check_vendor(world)
    payment = _asked(world, vendor)
    vendor_payments.approve(payment, by=world["officer"])
    vendor_payments.record_check(payment, by=world["finance"], check_number="CHK 7", paid_on=D(2026, 3, 4))
    assert list(vendor_payments.paid_for_award(payment.award)) == [payment]
    assert vendor_payments.paid_net(payment) == usd(1000)
    other_org = OrganizationFactory()
    assert not other_org.vendor_payments.exists()


# --- Reports count vendor payments as spent -----------------------------------------------------


def test_reports_count_what_was_paid_to_vendors_as_spent(world, client):
    from grants.services import reports
    from tests.grants.report_helpers import reporting_award

    schedule = [(D(2026, 2, 1), usd(3000)), (D(2026, 3, 1), usd(2000))]
    award = reporting_award(world, amount=5000, schedule=schedule)  # payment 1 ($3,000) paid by check
    installments.mark_due_installments(today=D(2026, 3, 2))
    vendor = check_vendor(world)
    second = award.installments.get(number=2)
    payment = vendor_payments.request_vendor_payment(
        by=world["grantee"], vendor=vendor, installment=second, purpose="Legal fees, March"
    )
    vendor_payments.approve(payment, by=world["officer"])
    direct = vendor_payments.request_vendor_payment(
        by=world["officer"], vendor=vendor, fund=world["fund"], organization=world["organization"],
        amount=usd(400), purpose="Filing fee", award=award,
    )  # fmt: skip
    vendor_payments.approve(direct, by=world["officer"])
    before = reports.award_money(award)
    assert (before.paid, before.reported_spent, before.paid_to_vendors) == (usd(3000), usd(0), usd(0))

    vendor_payments.record_check(payment, by=world["finance"], check_number="V1", paid_on=D(2026, 3, 3))
    vendor_payments.record_check(direct, by=world["finance"], check_number="V2", paid_on=D(2026, 3, 4))

    money = reports.award_money(award)
    assert money.paid == usd(5400)  # both installments, and the direct assistance on its behalf
    assert money.paid_to_vendors == usd(2400)
    assert money.reported_spent == usd(2400)
    assert money.remaining == usd(3000)  # what reached the grantee and is not reported yet

    due = award.report_due_dates.get(kind="interim")
    report = reports.report_for(due, by=world["grantee"])
    client.force_login(world["grantee"])
    page = client.get(reverse("report_detail", args=[due.pk])).content.decode()
    assert "Paid on your behalf" in page and "Legal fees, March" in page and "Filing fee" in page
    assert [row["reference"] for row in reports._snapshot(report)["paid_to_vendors"]] == [
        payment.reference_code, direct.reference_code,
    ]  # fmt: skip
