"""Staff make awards and act on them in Wagtail admin, each role only as far as the services allow."""

import datetime

import pytest
from django.urls import reverse

from grants.models import (
    Award,
    AwardStatus,
    EntryCause,
    InstallmentStatus,
    JournalEntry,
    Role,
)
from grants.services import awards
from grants.services.installments import hold_installment
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import approved, award_for, fund_with, staff, usd

pytestmark = pytest.mark.django_db


def make_url(application):
    return reverse("awards:make", args=[application.pk])


def inspect_url(award):
    return reverse("awards:inspect", args=[award.pk])


def action_url(award, name):
    return reverse("awards:action", args=[award.pk, name])


def payment_url(award, installment, name):
    return reverse("awards:installment_action", args=[award.pk, installment.pk, name])


def refused(response) -> bool:
    """Wagtail answers PermissionDenied by sending the user to the dashboard with a message."""
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


def terms(**overrides):
    data = {
        "amount": "3000",
        "start_date": "2026-02-01",
        "end_date": "2027-01-31",
        "conditions": "Report on each detention case funded.",
        "schedule_kind": "quarterly",
        "count": "3",
        "first_due": "2026-02-15",
        "interim_report": "2026-08-01",
        "final_report": "2027-03-01",
    }
    data.update(overrides)
    return data


def rows(*pairs):
    data = {"rows-TOTAL_FORMS": str(len(pairs)), "rows-INITIAL_FORMS": str(len(pairs)),
            "rows-MIN_NUM_FORMS": "0", "rows-MAX_NUM_FORMS": "60"}  # fmt: skip
    for index, (due, amount) in enumerate(pairs):
        data[f"rows-{index}-due_date"] = due
        data[f"rows-{index}-amount"] = amount
    return data


def accepted_award(world, amount=5000, **kwargs):
    award = award_for(world, amount, **kwargs)
    return awards.accept_award(
        award, by=world["grantee"], full_name="Rosa Martínez", agreed=True, language="es"
    )


@pytest.fixture
def other_staff(db):
    foundation = FoundationFactory(slug="elsewhere")
    FundFactory(foundation=foundation)
    return {role: staff(foundation, role) for role in Role.values}


# --- Make award ------------------------------------------------------------------------------


def test_officer_previews_the_schedule_and_makes_the_award(
    world, client, mailoutbox, django_capture_on_commit_callbacks
):
    fund_with(world, 10000)
    application = approved(world, 3000)
    client.force_login(world["officer"])
    form = client.get(make_url(application))
    assert form.status_code == 200
    assert "USD" in form.content.decode()

    preview = client.post(make_url(application), {**terms(), "preview": "1"})
    html = preview.content.decode()
    assert preview.status_code == 200
    assert 'name="rows-2-amount"' in html and 'value="1,000.00"' in html
    assert "$10,000.00" in html  # the fund's available money

    with django_capture_on_commit_callbacks(execute=True):
        made = client.post(
            make_url(application),
            {
                **terms(),
                **rows(("2026-02-15", "1500"), ("2026-05-15", "1000"), ("2026-08-15", "500")),
                "make": "1",
            },
        )
    award = Award.objects.get(application=application)
    assert made.status_code == 302 and made["Location"] == inspect_url(award)
    assert award.amount == usd(3000) and award.status == AwardStatus.OFFERED
    assert [i.amount for i in award.installments.order_by("number")] == [usd(1500), usd(1000), usd(500)]
    assert sorted(award.report_due_dates.values_list("kind", flat=True)) == ["final", "interim"]
    assert award.agreement["en"] and award.agreement["es"]
    assert JournalEntry.objects.filter(award=award, cause=EntryCause.AWARD).count() == 1
    assert [m.to for m in mailoutbox] == [["grantee@example.org"]]


def test_insufficient_funds_keeps_what_was_typed(world, client):
    fund_with(world, 1000)
    application = approved(world, 3000)
    client.force_login(world["officer"])
    response = client.post(
        make_url(application),
        {**terms(conditions="Keep receipts"), **rows(("2026-02-15", "3000")), "make": "1"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "available to commit; this needs" in html
    assert "Keep receipts" in html and 'value="3000"' in html and 'value="2026-02-15"' in html
    assert not Award.objects.filter(application=application).exists()


def test_hand_adjusted_rows_must_add_up(world, client):
    fund_with(world, 10000)
    application = approved(world, 3000)
    client.force_login(world["officer"])
    response = client.post(make_url(application), {**terms(), **rows(("2026-02-15", "2000")), "make": "1"})
    assert response.status_code == 400
    assert "The payments add up to" in response.content.decode()
    assert not Award.objects.exists()


def test_double_submit_lands_on_the_same_award(world, client):
    fund_with(world, 10000)
    application = approved(world, 3000)
    client.force_login(world["officer"])
    data = {**terms(), **rows(("2026-02-15", "3000")), "make": "1"}
    first = client.post(make_url(application), data)
    second = client.post(make_url(application), data)
    award = Award.objects.get(application=application)
    assert first["Location"] == second["Location"] == inspect_url(award)
    assert JournalEntry.objects.filter(cause=EntryCause.AWARD).count() == 1


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_other_roles_cannot_make_an_award(world, client, role):
    fund_with(world, 10000)
    application = approved(world, 3000)
    client.force_login(world[role])
    data = {**terms(), **rows(("2026-02-15", "3000")), "make": "1"}
    response = client.post(make_url(application), data)
    assert refused(response) or client.post(make_url(application), data, follow=True).status_code == 404
    assert not Award.objects.exists()


def test_application_page_offers_make_award_then_links_the_award(world, client):
    fund_with(world, 10000)
    application = approved(world, 3000)
    client.force_login(world["officer"])
    page = client.get(reverse("applications:inspect", args=[application.pk])).content.decode()
    assert make_url(application) in page
    award = award_for(world, 2000)
    page = client.get(reverse("applications:inspect", args=[award.application_id])).content.decode()
    assert inspect_url(award) in page


# --- List and detail -----------------------------------------------------------------------


@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_foundation_staff_list_and_open_awards(world, client, role):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    client.force_login(world[role])
    listing = client.get(reverse("awards:index"))
    assert listing.status_code == 200
    assert award.reference in listing.content.decode()
    assert client.get(inspect_url(award)).status_code == 200


def test_auditor_sees_everything_but_no_forms(world, client):
    fund_with(world, 10000)
    award = accepted_award(world, 2000)
    client.force_login(world["auditor"])
    html = client.get(inspect_url(award)).content.decode()
    assert "Rosa Martínez" in html and "<form" not in html.split('id="main"')[-1]
    installment = award.installments.get()
    for url in (action_url(award, "cancel"), payment_url(award, installment, "hold")):
        assert refused(client.post(url, {"cancel-reason": "x", "cancel-confirm": "on"}))
    award.refresh_from_db()
    assert award.status == AwardStatus.ACCEPTED


def test_list_filters_by_fund_and_status(world, client):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    client.force_login(world["officer"])
    assert award.reference in client.get(reverse("awards:index") + "?status=offered").content.decode()
    assert award.reference not in client.get(reverse("awards:index") + "?status=completed").content.decode()
    assert (
        award.reference in client.get(reverse("awards:index") + f"?fund={world['fund'].pk}").content.decode()
    )


def test_another_foundations_staff_get_404_everywhere(world, client, other_staff):
    fund_with(world, 10000)
    award = accepted_award(world, 2000)
    installment = award.installments.get()
    application = approved(world, 1000)
    urls = [inspect_url(award), make_url(application)]
    urls += [action_url(award, name) for name in ("amend", "cancel", "complete")]
    urls += [payment_url(award, installment, name) for name in ("hold", "lift_hold", "record_payment")]
    for user in other_staff.values():
        client.force_login(user)
        assert award.reference not in client.get(reverse("awards:index")).content.decode()
        for url in urls:
            # (a 404 outside the language prefix is redirected to /en/…, which is a 404 too)
            assert client.get(url, follow=True).status_code in (404, 405), url
            assert client.post(url, {}, follow=True).status_code == 404, url


def test_awards_list_queries_do_not_grow_with_rows(world, client, django_assert_max_num_queries):
    fund_with(world, 100000)
    award_for(world, 1000)
    client.force_login(world["officer"])
    client.get(reverse("awards:index"))
    with django_assert_max_num_queries(30) as one:
        client.get(reverse("awards:index"))
    for _ in range(9):
        award_for(world, 1000)
    with django_assert_max_num_queries(len(one.captured_queries)):
        assert client.get(reverse("awards:index")).status_code == 200


# --- Actions -------------------------------------------------------------------------------


def test_officer_amends_with_a_reason(world, client):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    client.force_login(world["officer"])
    response = client.post(
        action_url(award, "amend"), {"amend-new_amount": "2500", "amend-reason": "Bond raised"}
    )
    assert response.status_code == 302
    award.refresh_from_db()
    assert award.amount == usd(2500)
    html = client.get(inspect_url(award)).content.decode()
    assert "Bond raised" in html and "$2,000.00 → $2,500.00" in html


def test_amend_beyond_available_shows_the_message_and_keeps_the_reason(world, client):
    fund_with(world, 2000)
    award = award_for(world, 2000)
    client.force_login(world["officer"])
    response = client.post(
        action_url(award, "amend"), {"amend-new_amount": "9000", "amend-reason": "More bonds"}
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "available to commit" in html and "More bonds" in html
    award.refresh_from_db()
    assert award.amount == usd(2000)


def test_finance_cannot_amend_or_cancel(world, client):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    client.force_login(world["finance"])
    assert refused(client.post(action_url(award, "amend"), {"amend-new_amount": "1", "amend-reason": "x"}))
    assert refused(client.post(action_url(award, "cancel"), {"cancel-reason": "x", "cancel-confirm": "on"}))
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED and award.amount == usd(2000)
    assert "amend-new_amount" not in client.get(inspect_url(award)).content.decode()


def test_cancel_needs_the_confirmation_then_releases_the_money(world, client):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    client.force_login(world["officer"])
    unconfirmed = client.post(action_url(award, "cancel"), {"cancel-reason": "Group dissolved"})
    assert unconfirmed.status_code == 400 and "Group dissolved" in unconfirmed.content.decode()
    award.refresh_from_db()
    assert award.status == AwardStatus.OFFERED
    done = client.post(
        action_url(award, "cancel"), {"cancel-reason": "Group dissolved", "cancel-confirm": "on"}
    )
    assert done.status_code == 302
    award.refresh_from_db()
    assert award.status == AwardStatus.CANCELLED
    assert JournalEntry.objects.filter(award=award, cause=EntryCause.RELEASE).count() == 1


def test_complete_with_payments_left_shows_the_service_message(world, client):
    fund_with(world, 10000)
    award = accepted_award(world, 2000)
    client.force_login(world["officer"])
    response = client.post(action_url(award, "complete"), {"complete-note": ""})
    assert response.status_code == 400
    assert "payments are still to be made" in response.content.decode()


@pytest.mark.parametrize("role", ["officer", "finance"])
def test_officer_and_finance_hold_and_lift(world, client, role):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    installment = award.installments.get()
    client.force_login(world[role])
    prefix = f"hold-{installment.pk}"
    assert (
        client.post(
            payment_url(award, installment, "hold"), {f"{prefix}-reason": "Receipts missing"}
        ).status_code
        == 302
    )
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.ON_HOLD and installment.hold_reason == "Receipts missing"
    assert "Receipts missing" in client.get(inspect_url(award)).content.decode()
    assert client.post(payment_url(award, installment, "lift_hold"), {}).status_code == 302
    installment.refresh_from_db()
    assert installment.status != InstallmentStatus.ON_HOLD


def test_hold_without_reason_is_refused(world, client):
    fund_with(world, 10000)
    award = award_for(world, 2000)
    installment = award.installments.get()
    client.force_login(world["officer"])
    response = client.post(payment_url(award, installment, "hold"), {f"hold-{installment.pk}-reason": ""})
    assert response.status_code == 400
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.SCHEDULED


def test_finance_records_a_payment_made_by_check(world, client):
    fund_with(world, 10000)
    award = accepted_award(world, 2000)
    installment = award.installments.get()
    client.force_login(world["finance"])
    prefix = f"record_payment-{installment.pk}"
    response = client.post(
        payment_url(award, installment, "record_payment"),
        {f"{prefix}-paid_on": "2026-02-03", f"{prefix}-reference": "CHK-2231"},
    )
    assert response.status_code == 302
    installment.refresh_from_db()
    assert installment.status == InstallmentStatus.PAID and installment.payment_reference == "CHK-2231"
    award.refresh_from_db()
    assert award.status == AwardStatus.ACTIVE
    assert "CHK-2231" in client.get(inspect_url(award)).content.decode()


def test_officer_cannot_record_a_payment(world, client):
    fund_with(world, 10000)
    award = accepted_award(world, 2000)
    installment = award.installments.get()
    client.force_login(world["officer"])
    prefix = f"record_payment-{installment.pk}"
    data = {f"{prefix}-paid_on": "2026-02-03", f"{prefix}-reference": "CHK-1"}
    assert refused(client.post(payment_url(award, installment, "record_payment"), data))
    installment.refresh_from_db()
    assert installment.status != InstallmentStatus.PAID
    assert f"{prefix}-reference" not in client.get(inspect_url(award)).content.decode()


def test_the_person_who_approved_cannot_record_the_payment(world, client):
    fund_with(world, 10000)
    admin = staff(world["foundation"], Role.FOUNDATION_ADMIN)
    application = approved(world, 2000)
    application.decided_by = admin
    application.save(update_fields=["decided_by"])
    award = awards.make_award(
        application, by=world["officer"], amount=usd(2000), start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2026, 12, 31), schedule=[(datetime.date(2026, 2, 1), usd(2000))],
    )  # fmt: skip
    awards.accept_award(award, by=world["grantee"], full_name="Rosa Martínez", agreed=True, language="es")
    installment = award.installments.get()
    client.force_login(admin)
    prefix = f"record_payment-{installment.pk}"
    response = client.post(
        payment_url(award, installment, "record_payment"),
        {f"{prefix}-paid_on": "2026-02-03", f"{prefix}-reference": "CHK-77"},
    )
    html = response.content.decode()
    assert response.status_code == 400
    assert "You approved this grant" in html and "CHK-77" in html
    installment.refresh_from_db()
    assert installment.status != InstallmentStatus.PAID


def test_payment_on_hold_is_refused_with_the_message(world, client):
    fund_with(world, 10000)
    award = accepted_award(world, 2000)
    installment = award.installments.get()
    hold_installment(installment, by=world["officer"], reason="Receipts missing")
    client.force_login(world["finance"])
    prefix = f"record_payment-{installment.pk}"
    response = client.post(
        payment_url(award, installment, "record_payment"),
        {f"{prefix}-paid_on": "2026-02-03", f"{prefix}-reference": "CHK-5"},
    )
    assert response.status_code == 400
    assert "lift the hold first" in response.content.decode()
