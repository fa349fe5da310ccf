"""Stipends in Wagtail admin: who sees what, and computing, approving and paying a month."""

import datetime

import pytest
from django.urls import reverse

from grants.models import Role, StipendBatch, StipendBatchStatus, StipendProgram
from grants.services import stipends
from tests.factories import FoundationFactory
from tests.grants.money_fixtures import approved, fund_with, staff
from tests.grants.test_stipends import _program, compute, payee, shift, transfers

pytestmark = pytest.mark.django_db
D = datetime.date


def refused(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


@pytest.fixture
def month(world):
    """A program with Luna (her own account, 2 shifts) and Sol (through the group, 1 shift) in September."""
    program = _program(world)
    org, grantee = world["organization"], world["grantee"]
    luna = stipends.add_volunteer(program=program, organization=org, pseudonym="Luna", by=grantee)
    sol = stipends.add_volunteer(program=program, organization=org, pseudonym="Sol", by=grantee)
    fund_with(world, 1000)
    payee(world)
    payee(world, volunteer=luna)
    shift(world, luna, D(2026, 9, 1))
    shift(world, luna, D(2026, 9, 2))
    shift(world, sol, D(2026, 9, 3))
    return program


def urls(program, batch):
    return {
        "program": reverse("stipends_admin:program", args=[program.pk]),
        "edit": reverse("stipends_admin:edit", args=[program.pk]),
        "batch": reverse("stipends_admin:batch", args=[batch.pk]),
        "approve": reverse("stipends_admin:approve", args=[batch.pk]),
        "cancel": reverse("stipends_admin:cancel", args=[batch.pk]),
        "pay": reverse("stipends_admin:pay", args=[batch.pk]),
    }


@pytest.mark.parametrize("role", ["officer", "finance", "auditor"])
def test_staff_of_the_foundation_see_programs_and_batches(world, month, client, role):
    batch = compute(world, month)
    client.force_login(world[role])
    assert client.get(reverse("stipends_admin:index")).status_code == 200
    page = client.get(urls(month, batch)["program"])
    assert page.status_code == 200
    assert "Comité de Defensa" in page.content.decode()
    batch_page = client.get(urls(month, batch)["batch"])
    assert batch_page.status_code == 200
    assert "Luna" in batch_page.content.decode()


@pytest.mark.parametrize(
    "role", [Role.PROGRAM_OFFICER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.FOUNDATION_ADMIN]
)
def test_another_foundations_staff_get_404_everywhere(world, month, client, role):
    batch = compute(world, month)
    client.force_login(staff(FoundationFactory(name="Elsewhere"), role))
    for name, url in urls(month, batch).items():
        assert client.get(url, follow=True).status_code == 404, name
        assert (
            client.post(
                url, {"organization": world["organization"].pk, "month": "2026-09"}, follow=True
            ).status_code
            == 404
        ), name
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.DRAFT


def test_auditors_see_no_actions_and_cannot_act(world, month, client):
    batch = compute(world, month)
    client.force_login(world["auditor"])
    program_page = client.get(urls(month, batch)["program"]).content.decode()
    assert "Compute the stipends" not in program_page and "Edit the program" not in program_page
    page = client.get(urls(month, batch)["batch"]).content.decode()
    assert "Approve…" not in page and "Pay…" not in page and "Cancel this computation" not in page
    assert refused(client.post(urls(month, batch)["approve"]))
    assert refused(
        client.post(
            urls(month, batch)["program"], {"organization": world["organization"].pk, "month": "2026-09"}
        )
    )
    stipends.approve_batch(batch, by=world["officer"])
    assert "Pay…" not in client.get(urls(month, batch)["batch"]).content.decode()
    assert refused(client.post(urls(month, batch)["pay"]))
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.APPROVED and not transfers().exists()


def test_compute_approve_and_pay_through_the_admin(world, month, client):
    client.force_login(world["officer"])
    computed = client.post(
        reverse("stipends_admin:program", args=[month.pk]),
        {"organization": world["organization"].pk, "month": "2026-09"},
    )
    batch = StipendBatch.objects.get()
    assert computed.status_code == 302 and computed["Location"] == urls(month, batch)["batch"]
    assert batch.total.amount == 75

    confirm = client.get(urls(month, batch)["approve"]).content.decode()
    assert "Approve these stipends?" in confirm
    assert (
        "“Luna” (Comité de Defensa)" in confirm
        and "$50.00" in confirm
        and "$25.00" in confirm
        and "$75.00" in confirm
    )
    assert "Pay…" not in client.get(urls(month, batch)["batch"]).content.decode()
    assert client.post(urls(month, batch)["approve"]).status_code == 302
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.APPROVED
    assert refused(client.post(urls(month, batch)["pay"]))  # officers do not pay

    client.force_login(world["finance"])
    page = client.get(urls(month, batch)["batch"]).content.decode()
    assert "Pay…" in page and "Approve…" not in page
    confirm = client.get(urls(month, batch)["pay"]).content.decode()
    assert "Send these payments?" in confirm and "$75.00" in confirm
    assert client.post(urls(month, batch)["pay"]).status_code == 302
    assert client.post(urls(month, batch)["pay"]).status_code == 302  # a second click sends nothing more
    assert transfers().count() == 2
    assert all(p.disbursement_id for p in batch.payments.all())


def test_an_empty_month_is_refused_with_the_reason(world, month, client):
    client.force_login(world["officer"])
    response = client.post(
        reverse("stipends_admin:program", args=[month.pk]),
        {"organization": world["organization"].pk, "month": "2026-08"},
    )
    assert response.status_code == 400
    assert "No shifts were logged" in response.content.decode()
    assert not StipendBatch.objects.exists()


def test_a_short_fund_refuses_approval_in_the_admin(world, client):
    program = _program(world, rate=600, cap=1000)
    sol = stipends.add_volunteer(
        program=program, organization=world["organization"], pseudonym="Sol", by=world["grantee"]
    )
    payee(world)
    fund_with(world, 500)
    shift(world, sol, D(2026, 9, 3))
    batch = compute(world, program)
    client.force_login(world["officer"])
    response = client.post(urls(program, batch)["approve"])
    assert response.status_code == 400
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.DRAFT


def test_officers_set_up_a_program_and_others_cannot(world, client):
    approved(world)  # the coordinating group has worked with the foundation (it may be offered)
    data = {
        "fund": world["fund"].pk,
        "name": "Hotline stipends",
        "rate": "30",
        "rate_unit": "shift",
        "monthly_cap": "300",
        "coordinators": [world["organization"].pk],
        "active": "on",
    }
    client.force_login(world["finance"])
    assert client.get(reverse("stipends_admin:new"), follow=True).status_code == 404
    client.force_login(world["officer"])
    assert client.post(reverse("stipends_admin:new"), {**data, "rate": "0"}).status_code == 400
    response = client.post(reverse("stipends_admin:new"), data)
    program = StipendProgram.objects.get()
    assert response.status_code == 302
    assert program.rate.amount == 30 and list(program.coordinators.all()) == [world["organization"]]
    other_fund_officer = staff(FoundationFactory(), Role.PROGRAM_OFFICER)
    client.force_login(other_fund_officer)
    assert client.post(reverse("stipends_admin:new"), data).status_code == 400  # not one of their funds
    assert StipendProgram.objects.count() == 1
