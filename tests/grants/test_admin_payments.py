"""Finance releases grant payments in Wagtail admin, reads disbursements and reconciles with Stripe."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone

from grants.models import (
    Disbursement,
    DisbursementStatus,
    InstallmentStatus,
    PayeeAccount,
    Role,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.payments.simulator.models import SimulatedStripeObject
from grants.services import awards, installments, payments
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date

INDEX = reverse("payments:index")
REVIEW = reverse("payments:review")
RELEASE = reverse("payments:release")
RECONCILE = reverse("payments:reconciliation")


def transfers():
    return SimulatedStripeObject.objects.filter(kind="transfer")


def due_award(world, amount=1000, schedule=None):
    award = award_for(world, amount, schedule=schedule)
    awards.accept_award(award, by=world["grantee"], full_name="Ana María López", agreed=True, language="es")
    installments.mark_due_installments(today=D(2026, 3, 1))
    return award


def onboard(world, callbacks, outcome="complete") -> PayeeAccount:
    payments.start_onboarding(
        organization=world["organization"], foundation=world["foundation"], by=world["grantee"]
    )
    payee = PayeeAccount.objects.get(foundation=world["foundation"])
    with callbacks(execute=True):
        SimulatedGateway(world["foundation"]).complete_onboarding(payee.stripe_account_id, outcome)
    payee.refresh_from_db()
    return payee


@pytest.fixture
def ready(world, django_capture_on_commit_callbacks):
    """A $1,000 award accepted by the grantee, its one payment due, the payee ready at Stripe."""
    fund_with(world, 10000)
    award = due_award(world)
    onboard(world, django_capture_on_commit_callbacks)
    return award


@pytest.fixture
def other_staff(db):
    foundation = FoundationFactory(slug="elsewhere")
    FundFactory(foundation=foundation)
    return {role: staff(foundation, role) for role in Role.values}


def release_post(client, *installment_list):
    data = {"installment": [i.pk for i in installment_list]}
    for installment in installment_list:
        data[f"amount-{installment.pk}"] = str(installment.amount.amount)
    return client.post(RELEASE, data)


def not_found(response) -> bool:
    """A 404 (outside the language prefix Django's LocaleMiddleware turns it into a redirect to /en/…)."""
    return response.status_code == 404 or (
        response.status_code == 302 and response["Location"].startswith("/en/admin/")
    )


# --- The list ------------------------------------------------------------------------------


def test_finance_sees_due_payments_with_the_payee_status_and_can_choose_them(world, ready, client):
    installment = ready.installments.get()
    client.force_login(world["finance"])
    html = client.get(INDEX).content.decode()
    assert "Comité de Defensa" in html and ready.reference in html
    assert "$1,000.00" in html
    assert "Ready for payments" in html
    assert f'name="installment" value="{installment.pk}"' in html
    assert "Review and release" in html


def test_auditors_read_the_lists_without_buttons_and_officers_see_none(world, ready, client):
    client.force_login(world["auditor"])
    html = client.get(INDEX).content.decode()
    assert ready.reference in html
    assert 'name="installment"' not in html and "Review and release" not in html
    for name in ("disbursements", "reconciliation", "payees", "webhooks"):
        assert client.get(reverse(f"payments:{name}")).status_code == 200

    client.force_login(world["officer"])
    assert not_found(client.get(INDEX))


def test_the_list_shows_a_payee_not_ready_and_the_last_failure(
    world, django_capture_on_commit_callbacks, client
):
    fund_with(world, 10000)
    due_award(world)
    onboard(world, django_capture_on_commit_callbacks, "information_needed")
    client.force_login(world["finance"])
    assert "Information needed" in client.get(INDEX).content.decode()


def test_list_queries_do_not_grow_with_rows(world, ready, client, django_assert_max_num_queries):
    client.force_login(world["finance"])
    with django_assert_max_num_queries(40) as one:
        client.get(INDEX)
    for _ in range(3):
        due_award(world, 500)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(INDEX).content.decode().count('name="installment"') == 4


def test_disbursement_list_queries_do_not_grow(world, ready, client, django_capture_on_commit_callbacks,
                                              django_assert_max_num_queries):  # fmt: skip
    client.force_login(world["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        release_post(client, ready.installments.get())
    url = reverse("payments:disbursements")
    with django_assert_max_num_queries(40) as one:
        client.get(url)
    for _ in range(2):
        award = due_award(world, 300)
        with django_capture_on_commit_callbacks(execute=True):
            payments.release_installment(award.installments.get(), by=world["finance"])
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(url).content.decode().count("payments/disbursements/") >= 3


# --- Review and release --------------------------------------------------------------------


def test_preview_shows_payees_amounts_totals_and_what_will_not_be_released(world, ready, client):
    schedule = [(D(2026, 2, 1), usd(500)), (D(2026, 2, 15), usd(700))]
    second = due_award(world, 1200, schedule=schedule)
    held = second.installments.get(number=2)
    installments.hold_installment(held, by=world["officer"], reason="Receipts missing")
    chosen = [ready.installments.get(), second.installments.get(number=1), held]

    client.force_login(world["finance"])
    response = client.get(REVIEW, {"installment": [i.pk for i in chosen]})
    html = response.content.decode()
    assert response.status_code == 200
    assert PayeeAccount.objects.get().stripe_account_id in html
    assert "$1,500.00" in html  # the total of what will be released
    assert "Release 2 payments" in html
    assert "Will not be released: This payment is on hold (Receipts missing)" in html
    assert f'name="installment" value="{held.pk}"' not in html
    assert not Disbursement.objects.exists(), "reviewing changes nothing"


def test_release_pays_through_stripe_and_a_second_post_pays_nothing_more(
    world, ready, client, django_capture_on_commit_callbacks
):
    installment = ready.installments.get()
    client.force_login(world["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        first = release_post(client, installment)
    assert first.status_code == 302
    results = client.get(first["Location"]).content.decode()
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.stripe_transfer_id == transfers().get().id
    assert "Released: Paid" in results and disbursement.stripe_transfer_id in results

    with django_capture_on_commit_callbacks(execute=True):
        again = release_post(client, installment)
    assert "Released: Paid" in client.get(again["Location"]).content.decode()
    assert transfers().count() == 1
    assert Disbursement.objects.count() == 1
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID

    detail = client.get(reverse("payments:disbursement", args=[disbursement.pk])).content.decode()
    assert "Released" in detail and "Stripe confirmed the transfer" in detail


@pytest.mark.parametrize("case", ["on_hold", "payee_not_ready", "approver"])
def test_a_refused_payment_shows_the_reason(world, client, django_capture_on_commit_callbacks, case):
    fund_with(world, 10000)
    award = due_award(world)
    installment = award.installments.get()
    person = world["finance"]
    if case != "payee_not_ready":
        onboard(world, django_capture_on_commit_callbacks)
    if case == "on_hold":
        installments.hold_installment(installment, by=world["officer"], reason="Interim report overdue")
        expected = "Interim report overdue"
    elif case == "payee_not_ready":
        expected = "Comité de Defensa has not set up payouts with Stripe yet."
    else:
        # A foundation admin who made the award may not release its payments.
        person = staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org")
        award.offered_by = person
        award.save(update_fields=["offered_by"])
        expected = "another finance officer must release"
    client.force_login(person)
    preview = client.get(REVIEW, {"installment": installment.pk}).content.decode()
    assert expected in preview
    assert "None of the payments you chose can be released now." in preview

    with django_capture_on_commit_callbacks(execute=True):
        response = release_post(client, installment)
    assert expected in client.get(response["Location"]).content.decode()
    assert not transfers().exists()


def test_officers_and_auditors_cannot_release(world, ready, client):
    installment = ready.installments.get()
    # Neither holds a role that releases anywhere, so the pages do not exist for them.
    for person, expected in (("auditor", not_found), ("officer", not_found)):
        client.force_login(world[person])
        assert expected(client.get(REVIEW, {"installment": installment.pk}))
        assert expected(release_post(client, installment))
    assert not Disbursement.objects.exists()


def test_an_amount_changed_after_review_is_not_released(
    world, ready, client, django_capture_on_commit_callbacks
):
    installment = ready.installments.get()
    client.force_login(world["finance"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(RELEASE, {"installment": installment.pk, f"amount-{installment.pk}": "900.00"})
    assert "The amount changed after you reviewed it" in client.get(response["Location"]).content.decode()
    assert not transfers().exists()


def test_another_foundation_gets_404_and_sees_none_of_our_rows(
    world, ready, client, other_staff, django_capture_on_commit_callbacks
):
    installment = ready.installments.get()
    with django_capture_on_commit_callbacks(execute=True):
        disbursement = payments.release_installment(installment, by=world["finance"])
    WebhookEvent.objects.filter(foundation=world["foundation"]).update(status=WebhookEventStatus.FLAGGED)
    for role in (Role.FINANCE_OFFICER, Role.FOUNDATION_ADMIN, Role.AUDITOR):
        client.force_login(other_staff[role])
        assert not_found(client.get(REVIEW, {"installment": installment.pk}))
        assert not_found(release_post(client, installment))
        assert not_found(client.get(reverse("payments:disbursement", args=[disbursement.pk])))
        assert not_found(client.get(RECONCILE, {"foundation": world["foundation"].pk, "date_from": "2026-01-01",
                                                "date_to": "2026-12-31"}))  # fmt: skip
        for name in ("index", "disbursements", "payees", "webhooks"):
            response = client.get(reverse(f"payments:{name}"))
            if response.status_code == 200:
                html = response.content.decode()
                assert ready.reference not in html and "Comité de Defensa" not in html
                assert disbursement.payee.stripe_account_id not in html


# --- Reconciliation, webhooks, payees ------------------------------------------------------


def test_reconciliation_lists_a_transfer_made_behind_our_back_and_otherwise_everything_matches(
    world, ready, client, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        payments.release_installment(ready.installments.get(), by=world["finance"])
    today = timezone.localdate()
    period = {"date_from": (today - datetime.timedelta(days=1)).isoformat(), "date_to": today.isoformat()}
    client.force_login(world["auditor"])
    html = client.get(RECONCILE, period).content.decode()
    assert "Everything matches: 1 transfer checked." in html

    payee = PayeeAccount.objects.get()
    SimulatedGateway(world["foundation"], deliver=lambda delivery: None).create_transfer(
        amount=usd(250),
        destination=payee.stripe_account_id,
        transfer_group="manual",
        metadata={},
        idempotency_key="behind-our-back",
    )
    html = client.get(RECONCILE, period).content.decode()
    assert "Transfer at Stripe the portal does not know" in html
    assert "the portal has no such payment" in html
    assert "1 difference found." in html


def test_webhook_events_list_flagged_first(world, client):
    def event(event_id, status, note=""):
        return WebhookEvent.objects.create(
            event_id=event_id, foundation=world["foundation"], endpoint="platform", type="transfer.created",
            created=0, payload={}, status=status, note=note,
        )  # fmt: skip

    event("evt_old_flagged", WebhookEventStatus.FLAGGED, "amount 5 USD != 10 USD")
    event("evt_newer", WebhookEventStatus.PROCESSED)
    client.force_login(world["finance"])
    html = client.get(reverse("payments:webhooks")).content.decode()
    assert html.index("evt_old_flagged") < html.index("evt_newer")
    assert "1 event is flagged for review" in html and "amount 5 USD != 10 USD" in html


def test_payee_accounts_list(world, client, django_capture_on_commit_callbacks):
    fund_with(world, 10000)
    due_award(world)
    payee = onboard(world, django_capture_on_commit_callbacks, "information_needed")
    client.force_login(world["auditor"])
    html = client.get(reverse("payments:payees")).content.decode()
    assert payee.stripe_account_id in html and "Information needed" in html
    # What Stripe still needs, in words (tests/grants/test_plain_words.py), never its codes.
    assert payee.requirements_due and "A photo of an identity document" in html
    assert not any(code in html for code in payee.requirements_due)


# --- The award page ------------------------------------------------------------------------


def test_award_page_shows_the_payee_and_offers_release_to_finance(world, ready, client):
    installment = ready.installments.get()
    url = reverse("awards:inspect", args=[ready.pk])
    client.force_login(world["finance"])
    html = client.get(url).content.decode()
    assert "<dt>Payee</dt>" in html and "Ready for payments" in html
    assert "Release payment through Stripe" in html
    assert f"{REVIEW}?installment={installment.pk}" in html

    client.force_login(world["auditor"])
    html = client.get(url).content.decode()
    assert "<dt>Payee</dt>" in html and "Release payment through Stripe" not in html
