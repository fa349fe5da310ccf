"""Awards and their payments, as a program officer, a finance officer and a grantee live them."""

import datetime

import pytest
from django.core import mail
from djmoney.money import Money

from grants.models import (
    ActivityEntry,
    Award,
    AwardStatus,
    EntryCause,
    Installment,
    InstallmentStatus,
    JournalEntry,
)
from grants.models import ApplicationStatus as S
from grants.services import awards, installments, ledger
from grants.services.errors import DomainError, IllegalTransition
from grants.services.installments import FINANCE, INSTALLMENT_TRANSITIONS, OFFICER, SYSTEM
from grants.services.schedules import ScheduleError, split_evenly
from grants.services.workflow import check_transition
from tests.factories import UserFactory
from tests.grants.money_fixtures import approved, award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date


def _accept(world, award):
    return awards.accept_award(
        award, by=world["grantee"], full_name="Ana María López", agreed=True, language="es"
    )


def _three_payments(amount=3000):
    """Three payments, 1 Feb, 1 May and 1 Aug 2026 (quarterly), the remainder on the last."""
    return split_evenly(usd(amount), 3, D(2026, 2, 1), 3)


# --- Making an award ---------------------------------------------------------------------------


def test_award_commits_its_amount_and_tells_the_grantee_in_their_language(
    world, django_capture_on_commit_callbacks
):
    fund_with(world, 10000)
    with django_capture_on_commit_callbacks(execute=True):
        award = award_for(world, 3000, schedule=_three_payments())
    assert award.status == AwardStatus.OFFERED
    assert [i.number for i in award.installments.all()] == [1, 2, 3]
    assert sum((i.amount for i in award.installments.all()), usd(0)) == usd(3000)
    assert [r.kind for r in award.report_due_dates.all()] == ["interim", "final"]
    assert ledger.balances(world["fund"]).outstanding == usd(3000)
    (email,) = mail.outbox
    assert email.to == ["grantee@example.org"]
    assert "Lea el acuerdo" in email.body, "the grantee reads Spanish"
    assert "3.000,00" in email.body
    assert f"/es/awards/{award.pk}/" in email.body
    assert ActivityEntry.objects.filter(subject_type="award", subject_id=award.pk, action="offer").exists()


def test_fund_short_of_money_refuses_the_award_and_writes_nothing(world):
    fund_with(world, 1000)
    with pytest.raises(ledger.InsufficientFunds) as error:
        award_for(world, 1500)
    assert "1,000.00" in error.value.message
    assert not Award.objects.exists()
    assert not Installment.objects.exists()
    assert JournalEntry.objects.filter(cause=EntryCause.AWARD).count() == 0


def test_second_award_on_the_same_application_is_refused_harmlessly(world):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    with pytest.raises(awards.AlreadyAwarded) as error:
        awards.make_award(award.application, by=world["officer"], amount=usd(1000), start_date=D(2026, 1, 1),
                          end_date=D(2026, 12, 31), schedule=[(D(2026, 1, 1), usd(1000))])  # fmt: skip
    assert error.value.award == award
    assert JournalEntry.objects.filter(cause=EntryCause.AWARD).count() == 1


@pytest.mark.parametrize("status", [S.SUBMITTED, S.IN_REVIEW, S.DECLINED, S.WITHDRAWN])
def test_only_approved_applications_get_awards(world, status):
    fund_with(world, 10000)
    application = approved(world, 1000)
    application.status = status
    application.save()
    with pytest.raises(awards.AwardError):
        awards.make_award(application, by=world["officer"], amount=usd(1000), start_date=D(2026, 1, 1),
                          end_date=D(2026, 12, 31), schedule=[(D(2026, 1, 1), usd(1000))])  # fmt: skip


def test_only_officers_of_the_foundation_make_awards(world, other_foundation):
    fund_with(world, 10000)
    application = approved(world, 1000)
    for person in (
        world["finance"],
        world["auditor"],
        world["grantee"],
        staff(other_foundation, "program_officer"),
    ):
        with pytest.raises(IllegalTransition):
            awards.make_award(application, by=person, amount=usd(1000), start_date=D(2026, 1, 1),
                              end_date=D(2026, 12, 31), schedule=[(D(2026, 1, 1), usd(1000))])  # fmt: skip
    assert not Award.objects.exists()


@pytest.mark.parametrize(
    ("amount", "schedule", "start", "end"),
    [
        (usd(1000), [(D(2026, 1, 1), usd(999))], D(2026, 1, 1), D(2026, 12, 31)),  # does not sum
        (usd(1000), [(D(2026, 1, 1), usd(1000)), (D(2026, 2, 1), usd(0))], D(2026, 1, 1), D(2026, 12, 31)),
        (usd(1000), [], D(2026, 1, 1), D(2026, 12, 31)),
        (usd(1000), [(D(2026, 1, 1), usd(1000))], D(2026, 12, 31), D(2026, 1, 1)),  # ends before start
        (Money(1000, "MXN"), [(D(2026, 1, 1), Money(1000, "MXN"))], D(2026, 1, 1), D(2026, 12, 31)),
        (usd(0), [(D(2026, 1, 1), usd(0))], D(2026, 1, 1), D(2026, 12, 31)),
    ],
)
def test_bad_terms_are_refused_with_a_message(world, amount, schedule, start, end):
    fund_with(world, 10000)
    with pytest.raises((awards.AwardError, ScheduleError)) as error:
        awards.make_award(approved(world, 1000), by=world["officer"], amount=amount, start_date=start,
                          end_date=end, schedule=schedule)  # fmt: skip
    assert error.value.message
    assert not Award.objects.exists()
    assert ledger.balances(world["fund"]).committed == usd(0)


# --- The grantee accepts or declines -----------------------------------------------------------


def test_grantee_accepts_by_typing_their_name(world):
    fund_with(world, 10000)
    award = award_for(world, 1000)
    with pytest.raises(awards.AwardError):
        awards.accept_award(award, by=world["grantee"], full_name="Ana", agreed=False, language="es")
    with pytest.raises(awards.AwardError):
        awards.accept_award(award, by=world["grantee"], full_name=" ", agreed=True, language="es")
    with pytest.raises(IllegalTransition):
        awards.accept_award(award, by=UserFactory(), full_name="Mallory", agreed=True, language="en")
    accepted = _accept(world, award)
    assert accepted.status == AwardStatus.ACCEPTED
    assert accepted.accepted_name == "Ana María López"
    assert accepted.accepted_language == "es"
    assert accepted.accepted_at is not None
    assert _accept(world, award).accepted_at == accepted.accepted_at, "a second click changes nothing"


def test_declining_gives_the_whole_amount_back(world):
    fund_with(world, 10000)
    award = award_for(world, 4000, schedule=_three_payments(4000))
    awards.decline_award(award, by=world["grantee"], reason="We merged with another group")
    award.refresh_from_db()
    assert award.status == AwardStatus.CANCELLED
    assert set(award.installments.values_list("status", flat=True)) == {InstallmentStatus.CANCELLED}
    assert ledger.balances(world["fund"]).available == usd(10000)
    with pytest.raises(IllegalTransition):
        _accept(world, award)


# --- Amendments --------------------------------------------------------------------------------


def test_raise_adds_to_the_last_unpaid_payment_and_needs_money(world):
    fund_with(world, 5000)
    award = award_for(world, 3000, schedule=_three_payments())
    with pytest.raises(ledger.InsufficientFunds):
        awards.amend_award(award, by=world["officer"], new_amount=usd(5001), reason="More hearings")
    with pytest.raises(awards.AwardError):
        awards.amend_award(award, by=world["officer"], new_amount=usd(4000), reason="  ")
    awards.amend_award(award, by=world["officer"], new_amount=usd(4000), reason="More hearings")
    amounts = list(award.installments.order_by("number").values_list("amount", flat=True))
    assert [str(a) for a in amounts] == ["1000.00", "1000.00", "2000.00"]
    assert award.amendments.get().reason == "More hearings"
    assert ledger.balances(world["fund"]).committed == usd(4000)


def test_cut_takes_from_the_last_payments_and_never_below_what_is_paid(world):
    fund_with(world, 5000)
    award = award_for(world, 3000, schedule=_three_payments())
    _accept(world, award)
    first = award.installments.get(number=1)
    installments.record_payment_outside_processor(
        first, by=world["finance"], paid_on=D(2026, 2, 1), reference="CHK 1"
    )
    with pytest.raises(awards.AwardError) as error:
        awards.amend_award(award, by=world["officer"], new_amount=usd(999), reason="Scope reduced")
    assert "1,000.00" in error.value.message
    awards.amend_award(award, by=world["officer"], new_amount=usd(1500), reason="Scope reduced")
    rows = list(award.installments.order_by("number").values_list("status", "amount"))
    assert [(s, str(a)) for s, a in rows] == [
        ("paid", "1000.00"),
        ("due", "500.00"),
        ("cancelled", "1000.00"),
    ] or [(s, str(a)) for s, a in rows] == [
        ("paid", "1000.00"),
        ("scheduled", "500.00"),
        ("cancelled", "1000.00"),
    ]
    assert awards.scheduled_total(Award.objects.get(pk=award.pk)) == usd(1500)
    assert ledger.balances(world["fund"]).outstanding == usd(500)


# --- Cancel and complete -----------------------------------------------------------------------


def test_cancel_releases_only_what_was_not_paid(world, django_capture_on_commit_callbacks):
    fund_with(world, 5000)
    award = award_for(world, 3000, schedule=_three_payments())
    _accept(world, award)
    installments.record_payment_outside_processor(award.installments.get(number=1), by=world["finance"],
                                                  paid_on=D(2026, 2, 1), reference="CHK 1")  # fmt: skip
    with pytest.raises(awards.AwardError):
        awards.cancel_award(award, by=world["officer"], reason="")
    with django_capture_on_commit_callbacks(execute=True):
        awards.cancel_award(award, by=world["officer"], reason="Group dissolved")
    b = ledger.balances(world["fund"])
    assert (b.committed, b.paid, b.outstanding, b.available) == (usd(1000), usd(1000), usd(0), usd(4000))
    assert any("cancel" in m.subject.lower() for m in mail.outbox)


def test_cancel_waits_while_a_payment_is_in_flight(world):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    installment = award.installments.get()
    installment.status = InstallmentStatus.APPROVED
    installment.save()
    with pytest.raises(awards.AwardError):
        awards.cancel_award(award, by=world["officer"], reason="Stop")
    assert Award.objects.get(pk=award.pk).status == AwardStatus.OFFERED


def test_complete_only_when_everything_is_paid(world):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    _accept(world, award)
    with pytest.raises(awards.AwardError):
        awards.complete_award(award, by=world["officer"])
    installments.record_payment_outside_processor(award.installments.get(), by=world["finance"],
                                                  paid_on=D(2026, 2, 1), reference="WIRE 7")  # fmt: skip
    assert Award.objects.get(pk=award.pk).status == AwardStatus.ACTIVE, "the first payment activates it"
    awards.complete_award(award, by=world["officer"], note="All done")
    assert Award.objects.get(pk=award.pk).status == AwardStatus.COMPLETED


# --- Installments ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "state", "actor"),
    [
        (n, s, a)
        for n in INSTALLMENT_TRANSITIONS
        for s in InstallmentStatus.values
        for a in (FINANCE, OFFICER, SYSTEM)
    ],
)
def test_installment_table_allows_exactly_what_it_declares(name, state, actor):
    transition = INSTALLMENT_TRANSITIONS[name]
    allowed = state in transition.sources and actor in transition.actors
    if allowed:
        assert (
            check_transition(INSTALLMENT_TRANSITIONS, name, state, actor, states=InstallmentStatus).target
            == transition.target
        )
    else:
        with pytest.raises(IllegalTransition):
            check_transition(INSTALLMENT_TRANSITIONS, name, state, actor, states=InstallmentStatus)


def test_payments_fall_due_on_their_date(world):
    fund_with(world, 5000)
    award = award_for(world, 3000, schedule=_three_payments())
    assert installments.mark_due_installments(today=D(2026, 3, 1)) == 1
    assert installments.mark_due_installments(today=D(2026, 3, 1)) == 0
    statuses = list(award.installments.order_by("number").values_list("status", flat=True))
    assert statuses == ["due", "scheduled", "scheduled"]


def test_hold_and_lift(world):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    _accept(world, award)
    installment = award.installments.get()
    with pytest.raises(DomainError):
        installments.hold_installment(installment, by=world["grantee"], reason="x")
    with pytest.raises(DomainError):
        installments.hold_installment(installment, by=world["officer"], reason="")
    installments.hold_installment(installment, by=world["officer"], reason="Interim report overdue")
    with pytest.raises(awards.AwardError):
        installments.record_payment_outside_processor(installment, by=world["finance"], paid_on=D(2026, 2, 1),
                                                      reference="CHK")  # fmt: skip
    lifted = installments.lift_hold(installment, by=world["finance"], today=D(2026, 3, 1))
    assert lifted.status == InstallmentStatus.DUE
    assert lifted.hold_reason == ""


def test_payment_needs_four_eyes_an_accepted_award_and_posts_once(world):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    installment = award.installments.get()
    with pytest.raises(awards.AwardError):  # not accepted yet
        installments.record_payment_outside_processor(installment, by=world["finance"], paid_on=D(2026, 2, 1),
                                                      reference="CHK")  # fmt: skip
    _accept(world, award)
    approver = world["officer"]
    from grants.services.staff import add_staff

    add_staff(approver, foundation=world["foundation"], role="finance_officer")
    with pytest.raises(IllegalTransition) as error:
        installments.record_payment_outside_processor(
            installment, by=approver, paid_on=D(2026, 2, 1), reference="C"
        )
    assert "another finance officer" in error.value.message
    for person in (world["auditor"], world["grantee"]):
        with pytest.raises(IllegalTransition):
            installments.record_payment_outside_processor(
                installment, by=person, paid_on=D(2026, 2, 1), reference="C"
            )
    with pytest.raises(awards.AwardError):
        installments.record_payment_outside_processor(installment, by=world["finance"], paid_on=D(2026, 2, 1),
                                                      reference=" ")  # fmt: skip
    for _ in range(2):
        installments.record_payment_outside_processor(installment, by=world["finance"], paid_on=D(2026, 2, 1),
                                                      reference="CHK 1001")  # fmt: skip
    assert JournalEntry.objects.filter(cause=EntryCause.DISBURSEMENT).count() == 1
    b = ledger.balances(world["fund"])
    assert (b.paid, b.outstanding, b.cash) == (usd(1000), usd(0), usd(4000))


# --- Grantee pages -----------------------------------------------------------------------------


def test_grantee_reads_and_accepts_the_award_in_spanish(world, client):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    client.force_login(world["grantee"])
    page = client.get(f"/es/awards/{award.pk}/")
    assert page.status_code == 200
    assert "Use el dinero para el proyecto." in page.content.decode()
    assert "Informes que deberá presentar" in page.content.decode(), (
        "the reports to come are listed before accepting"
    )
    refused = client.post(f"/es/awards/{award.pk}/accept/", {"full_name": "Ana López"})
    assert refused.status_code == 400
    assert 'value="Ana López"' in refused.content.decode(), "what was typed is kept"
    assert Award.objects.get(pk=award.pk).status == AwardStatus.OFFERED
    done = client.post(f"/es/awards/{award.pk}/accept/", {"full_name": "Ana López", "agree": "on"})
    assert done.status_code == 302
    assert Award.objects.get(pk=award.pk).accepted_name == "Ana López"
    dashboard = client.get("/es/dashboard/").content.decode()
    assert f"/es/awards/{award.pk}/" in dashboard


def test_award_pages_are_404_for_anyone_else(world, client):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    for person in (UserFactory(), world["officer"], world["finance"]):
        client.force_login(person)
        for url in (f"/en/awards/{award.pk}/", f"/en/awards/{award.pk}/decline/"):
            assert client.get(url).status_code == 404
        assert (
            client.post(f"/en/awards/{award.pk}/accept/", {"full_name": "X Y", "agree": "on"}).status_code
            == 404
        )
    assert Award.objects.get(pk=award.pk).status == AwardStatus.OFFERED


def test_grantee_declines_from_the_page(world, client):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    client.force_login(world["grantee"])
    assert client.get(f"/en/awards/{award.pk}/decline/").status_code == 200
    assert client.post(f"/en/awards/{award.pk}/decline/", {"reason": "No longer needed"}).status_code == 302
    assert Award.objects.get(pk=award.pk).status == AwardStatus.CANCELLED


def test_daily_command_makes_payments_due(world):
    import io

    import time_machine
    from django.core.management import call_command

    fund_with(world, 5000)
    award = award_for(world, 3000, schedule=_three_payments())
    out = io.StringIO()
    with time_machine.travel(datetime.datetime(2026, 5, 2, 12, tzinfo=datetime.UTC)):
        call_command("run_daily", stdout=out)
        call_command("run_daily", stdout=io.StringIO())
    assert out.getvalue().startswith("2 ")
    assert list(award.installments.order_by("number").values_list("status", flat=True)) == [
        "due",
        "due",
        "scheduled",
    ]


def test_accepted_award_page_sends_the_grantee_to_set_up_payouts(world, client):
    fund_with(world, 5000)
    award = award_for(world, 1000)
    client.force_login(world["grantee"])
    offered = client.get(f"/en/awards/{award.pk}/").content.decode()
    assert "Set up payouts" not in offered, "only once the award is accepted"
    _accept(world, award)
    page = client.get(f"/en/awards/{award.pk}/").content.decode()
    assert f'href="/en/payouts/{world["foundation"].slug}/{world["organization"].pk}/"' in page
