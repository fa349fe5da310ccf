"""Paying grantees through Stripe Connect, as a grantee, a finance officer and Stripe live it."""

import datetime

import pytest
from django.urls import reverse

from grants.models import (
    AccountKind,
    AwardStatus,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    PayeeAccount,
    PayoutStatus,
)
from grants.payments.gateway import OUTCOME_UNKNOWN_KINDS, PaymentError
from grants.payments.simulator.gateway import FAILURE_KINDS, SimulatedGateway
from grants.payments.simulator.models import SimulatedIdempotencyKey, SimulatedStripeObject
from grants.services import awards, installments, ledger, payments
from grants.services.errors import DomainError, IllegalTransition
from tests.factories import OrganizationFactory, UserFactory
from tests.grants.money_fixtures import award_for, fund_with, usd

pytestmark = pytest.mark.django_db
D = datetime.date


def transfers():
    return SimulatedStripeObject.objects.filter(kind="transfer")


def _due_award(world, amount=1000, schedule=None):
    fund_with(world, 10000)
    award = award_for(world, amount, schedule=schedule)
    awards.accept_award(award, by=world["grantee"], full_name="Ana María López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    return award


def _onboard(world, callbacks, outcome="complete") -> PayeeAccount:
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    payee = PayeeAccount.objects.get()
    with callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id, outcome)
    payee.refresh_from_db()
    return payee


@pytest.fixture
def ready(world, django_capture_on_commit_callbacks):
    """A $1,000 award, accepted, its one payment due, the grantee's Stripe account ready."""
    award = _due_award(world)
    _onboard(world, django_capture_on_commit_callbacks)
    return award


def _release(world, installment, callbacks, by="finance"):
    with callbacks(execute=True):
        return payments.release_installment(installment, by=world[by])


# --- Onboarding ------------------------------------------------------------------------------


def test_onboarding_creates_one_account_and_a_link_back_to_the_payout_page(world):
    _due_award(world)
    org, foundation = world["organization"], world["foundation"]
    first = payments.start_onboarding(organization=org, foundation=foundation, by=world["grantee"])
    again = payments.start_onboarding(organization=org, foundation=foundation, by=world["grantee"])

    payee = PayeeAccount.objects.get()
    assert payee.payout_status == PayoutStatus.PENDING
    assert SimulatedStripeObject.objects.filter(kind="account").count() == 1
    assert payee.stripe_account_id in first and payee.stripe_account_id in again
    assert "return_url" in first and "payouts" in first
    assert payments.payee_for(org.applications.first().award) == payee


def test_onboarding_is_only_for_members_with_an_award(world):
    org, foundation = world["organization"], world["foundation"]
    with pytest.raises(payments.PaymentRefused):  # no award yet
        payments.start_onboarding(organization=org, foundation=foundation, by=world["grantee"])
    _due_award(world)
    with pytest.raises(payments.PaymentRefused):
        payments.start_onboarding(organization=org, foundation=foundation, by=UserFactory())
    assert not PayeeAccount.objects.exists()


@pytest.mark.parametrize(
    ("outcome", "status"),
    [
        ("complete", PayoutStatus.READY),
        ("information_needed", PayoutStatus.INFORMATION_NEEDED),
        ("restricted", PayoutStatus.RESTRICTED),
    ],
)
def test_status_follows_account_updated_through_the_connect_endpoint(
    world, django_capture_on_commit_callbacks, outcome, status
):
    _due_award(world)
    payee = _onboard(world, django_capture_on_commit_callbacks, outcome)
    assert payee.payout_status == status
    assert (payee.requirements_due == []) == (status == PayoutStatus.READY)
    assert payee.status_event_created > 0


def test_an_older_account_update_does_not_win(world, django_capture_on_commit_callbacks):
    _due_award(world)
    payee = _onboard(world, django_capture_on_commit_callbacks, "complete")
    applied = payments.update_payee_status(
        payee,
        status=PayoutStatus.RESTRICTED,
        requirements_due=["x"],
        event_created=payee.status_event_created - 1,
    )
    assert not applied
    payee.refresh_from_db()
    assert payee.payout_status == PayoutStatus.READY


def test_payout_page_for_members_only(world, client, django_capture_on_commit_callbacks):
    award = _due_award(world)
    url = reverse(
        "payouts", kwargs={"foundation_slug": "bay-area", "organization_id": world["organization"].pk}
    )
    client.force_login(world["grantee"])
    page = client.get(url)
    assert page.status_code == 200
    assert "Set up payouts with Stripe" in page.content.decode()

    answer = client.post(url)
    assert answer.status_code == 302
    assert "/simulated-stripe/onboarding/" in answer["Location"]
    assert PayeeAccount.objects.count() == 1

    with django_capture_on_commit_callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(
            PayeeAccount.objects.get().stripe_account_id
        )
    assert "Ready" in client.get(url).content.decode()

    client.force_login(UserFactory())
    assert client.get(url).status_code == 404
    stranger_org = OrganizationFactory()
    client.force_login(world["grantee"])
    other = reverse("payouts", kwargs={"foundation_slug": "bay-area", "organization_id": stranger_org.pk})
    assert client.get(other).status_code == 404
    assert award.pk


# --- Releasing ---------------------------------------------------------------------------------


def test_release_pays_once_posts_processor_cash_and_activates_the_award(
    world, ready, django_capture_on_commit_callbacks
):
    installment = ready.installments.get()
    disbursement = _release(world, installment, django_capture_on_commit_callbacks)

    disbursement.refresh_from_db()
    installment.refresh_from_db()
    ready.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.stripe_transfer_id == transfers().get().id
    assert disbursement.attempts == 1
    assert installment.status == InstallmentStatus.PAID
    assert installment.approved_by == world["finance"]
    assert ready.status == AwardStatus.ACTIVE
    (entry,) = JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT)
    assert entry.disbursement == disbursement
    assert entry.reference == disbursement.stripe_transfer_id
    assert {line.account.kind: line.amount for line in entry.lines.all()} == {
        AccountKind.GRANTS_PAYABLE: usd(1000),
        AccountKind.PROCESSOR_CASH: usd(-1000),
    }
    transfer = transfers().get().data
    assert transfer["metadata"] == {
        "disbursement": str(disbursement.pk),
        "installment": str(installment.pk),
        "award": str(ready.pk),
    }
    assert transfer["transfer_group"] == f"award:{ready.pk}"
    b = ledger.balances(world["fund"])
    assert (b.paid, b.outstanding) == (usd(1000), usd(0))


def test_the_approver_and_non_finance_staff_are_refused(world, ready):
    installment = ready.installments.get()
    for person in ("officer", "auditor", "grantee"):
        with pytest.raises(IllegalTransition):
            payments.release_installment(installment, by=world[person])
    assert not Disbursement.objects.exists()
    assert not transfers().exists()


def test_a_payment_on_hold_is_refused_with_the_reason(world, ready):
    installment = ready.installments.get()
    installments.hold_installment(installment, by=world["officer"], reason="Interim report overdue")
    with pytest.raises(payments.PaymentRefused, match="Interim report overdue"):
        payments.release_installment(installment, by=world["finance"])
    assert not Disbursement.objects.exists()


def test_a_payment_not_yet_due_is_refused(world, django_capture_on_commit_callbacks, monkeypatch):
    # A scheduled payment is due on its date (no daily job needed): the test's today is 1 March.
    monkeypatch.setattr(payments.timezone, "localdate", lambda *args: D(2026, 3, 1))
    award = _due_award(world, 2000, schedule=[(D(2026, 2, 1), usd(1000)), (D(2026, 9, 1), usd(1000))])
    _onboard(world, django_capture_on_commit_callbacks)
    with pytest.raises(payments.PaymentRefused, match="not due"):
        payments.release_installment(award.installments.get(number=2), by=world["finance"])
    assert not transfers().exists()


@pytest.mark.parametrize("outcome", [None, "information_needed", "restricted"])
def test_a_payee_not_ready_is_refused_naming_the_organization(
    world, django_capture_on_commit_callbacks, outcome
):
    award = _due_award(world)
    if outcome:
        _onboard(world, django_capture_on_commit_callbacks, outcome)
    with pytest.raises(payments.PaymentRefused, match="Comité de Defensa"):
        payments.release_installment(award.installments.get(), by=world["finance"])
    assert not Disbursement.objects.exists()
    assert award.installments.get().status == InstallmentStatus.DUE


def test_an_award_not_accepted_is_refused(world, django_capture_on_commit_callbacks):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    installments.mark_due_installments(today=D(2026, 3, 1))
    with pytest.raises(DomainError, match="accepted"):
        payments.release_installment(award.installments.get(), by=world["finance"])


def test_double_click_and_a_second_officer_make_one_transfer(
    world, ready, django_capture_on_commit_callbacks
):
    installment = ready.installments.get()
    first = _release(world, installment, django_capture_on_commit_callbacks)
    again = _release(world, installment, django_capture_on_commit_callbacks)
    other = _release(world, installment, django_capture_on_commit_callbacks, by="finance2")

    assert first.pk == again.pk == other.pk
    assert transfers().count() == 1
    assert len(SimulatedGateway(world["foundation"]).events("transfer.created")) == 1
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1


def test_a_release_stranded_after_commit_is_resubmitted_with_the_same_key(
    world, ready, django_capture_on_commit_callbacks
):
    """The server died after Stripe created the transfer but before we wrote its id down."""
    installment = ready.installments.get()
    disbursement, _ = payments._prepare(installment, by=world["finance"])
    stranded = SimulatedGateway(world["foundation"], deliver=lambda delivery: None).create_transfer(
        amount=disbursement.amount,
        destination=disbursement.payee.stripe_account_id,
        transfer_group=disbursement.transfer_group,
        metadata={
            "disbursement": str(disbursement.pk),
            "installment": str(installment.pk),
            "award": str(ready.pk),
        },
        idempotency_key=disbursement.idempotency_key,
    )
    assert Disbursement.objects.get().status == DisbursementStatus.PENDING

    again = _release(world, installment, django_capture_on_commit_callbacks)

    assert again.pk == disbursement.pk
    assert again.stripe_transfer_id == stranded.id
    assert transfers().count() == 1


@pytest.mark.parametrize("kind", sorted(set(FAILURE_KINDS) - OUTCOME_UNKNOWN_KINDS))
def test_a_refusal_stripe_answered_fails_the_payment_and_the_retry_uses_the_next_key(
    world, ready, django_capture_on_commit_callbacks, kind
):
    installment = ready.installments.get()
    SimulatedGateway.fail_next(world["foundation"], kind, operation="create_transfer")

    with pytest.raises(PaymentError) as caught:
        _release(world, installment, django_capture_on_commit_callbacks)

    failed = Disbursement.objects.get()
    assert failed.status == DisbursementStatus.FAILED
    assert failed.failure_kind == kind
    assert failed.failure_message == str(caught.value.message) != ""
    assert ready.installments.get().status == InstallmentStatus.FAILED
    assert not transfers().exists()
    assert not JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).exists()

    retried = _release(world, installment, django_capture_on_commit_callbacks, by="finance2")

    retried.refresh_from_db()
    assert retried.pk == failed.pk
    # Stripe replays an answered refusal for the same key: the retry needs the next one.
    assert retried.idempotency_key == f"disbursement:{failed.pk}:1"
    assert SimulatedIdempotencyKey.objects.filter(key=retried.idempotency_key).count() == 1
    assert retried.status == DisbursementStatus.PAID
    assert retried.failure_kind == ""
    assert retried.attempts == 2
    assert transfers().count() == 1
    assert ready.installments.get().status == InstallmentStatus.PAID
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1


@pytest.mark.parametrize("kind", sorted(set(FAILURE_KINDS) & OUTCOME_UNKNOWN_KINDS))
def test_an_answer_that_does_not_say_leaves_the_outcome_unknown_and_keeps_the_key(
    world, ready, django_capture_on_commit_callbacks, kind
):
    installment = ready.installments.get()
    SimulatedGateway.fail_next(world["foundation"], kind, operation="create_transfer")

    with pytest.raises(PaymentError):
        _release(world, installment, django_capture_on_commit_callbacks)

    unknown = Disbursement.objects.get()
    assert unknown.status == DisbursementStatus.UNKNOWN
    assert unknown.key_generation == 0
    assert unknown.outcome_unknown_since is not None
    # Not "failed": a person must not be invited to send it again as if nothing had happened.
    assert ready.installments.get().status == InstallmentStatus.APPROVED
    assert "Stripe did not say" in unknown.failure_message

    retried = _release(world, installment, django_capture_on_commit_callbacks, by="finance2")

    retried.refresh_from_db()
    assert retried.idempotency_key == f"disbursement:{unknown.pk}"
    assert retried.status == DisbursementStatus.PAID
    assert transfers().count() == 1
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1


def test_batch_releases_what_it_can_and_says_why_not_for_the_rest(
    world, ready, django_capture_on_commit_callbacks, monkeypatch
):
    monkeypatch.setattr(payments.timezone, "localdate", lambda *args: D(2026, 3, 1))  # see above
    schedule = [(D(2026, 2, 1), usd(500)), (D(2026, 2, 15), usd(500)), (D(2026, 9, 1), usd(500))]
    second = award_for(world, 1500, schedule=schedule)
    awards.accept_award(second, by=world["grantee"], full_name="Ana María López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    held = second.installments.get(number=2)
    installments.hold_installment(held, by=world["officer"], reason="Receipts missing")
    batch = [
        ready.installments.get(),
        second.installments.get(number=1),
        held,
        second.installments.get(number=3),
    ]

    rows, totals = payments.release_preview(batch, by=world["finance"])
    assert [row.problem for row in rows][:2] == [None, None]
    assert [row.problem is None for row in rows] == [True, True, False, False]
    assert totals == {"USD": usd(1500)}
    assert not Disbursement.objects.exists(), "the preview changes nothing"

    with django_capture_on_commit_callbacks(execute=True):
        results = payments.release_installments(batch, by=world["finance"])

    assert [r.ok for r in results] == [True, True, False, False]
    assert "Receipts missing" in results[2].message
    assert "not due" in results[3].message
    assert transfers().count() == 2
    assert Disbursement.objects.filter(status=DisbursementStatus.PAID).count() == 2
