"""Shared fixtures for the money tests: a foundation with a fund, its staff and a grantee."""

import datetime

import pytest
from djmoney.money import Money

from grants.models import Fund, OrganizationMembership, Role
from grants.services import awards, ledger
from grants.services.staff import add_staff
from tests.factories import (
    FoundationFactory,
    FundFactory,
    OrganizationFactory,
    UserFactory,
    approved_application,
)


def usd(amount) -> Money:
    return Money(str(amount), "USD")


def staff(foundation, role, **kwargs):
    user = UserFactory(is_staff=True, preferred_language="en", **kwargs)
    add_staff(user, foundation=foundation, role=role)
    return user


@pytest.fixture
def world(db):
    """Bay Area foundation, a USD fund with no money yet, officer, two finance officers, a grantee."""
    foundation = FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    fund = FundFactory(foundation=foundation, name="Rapid Defense Fund", currency="USD")
    # The fund exists since before the dates the tests use (shifts are refused before it began).
    Fund.objects.filter(pk=fund.pk).update(created_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
    fund.refresh_from_db()
    grantee = UserFactory(email="grantee@example.org", preferred_language="es")
    organization = OrganizationFactory(name="Comité de Defensa")
    OrganizationMembership.objects.create(organization=organization, user=grantee, role="owner")
    return {
        "foundation": foundation,
        "fund": fund,
        "officer": staff(foundation, Role.PROGRAM_OFFICER, email="officer@example.org"),
        "finance": staff(foundation, Role.FINANCE_OFFICER, email="finance@example.org"),
        "finance2": staff(foundation, Role.FINANCE_OFFICER, email="finance2@example.org"),
        "auditor": staff(foundation, Role.AUDITOR, email="auditor@example.org"),
        "grantee": grantee,
        "organization": organization,
    }


def fund_with(world, amount) -> None:
    """The fund receives ``amount`` by check."""
    ledger.record_income(
        fund=world["fund"],
        amount=usd(amount),
        source="check",
        received_on=datetime.date(2026, 1, 5),
        reference=f"CHK-{amount}",
        by=world["finance"],
    )


def approved(world, amount=5000, **kwargs):
    return approved_application(
        world["fund"],
        decided_by=world["officer"],
        amount=usd(amount),
        organization=world["organization"],
        **kwargs,
    )


def award_for(world, amount=5000, schedule=None, **kwargs):
    """Make an award of ``amount`` (one payment due 2026-02-01 unless ``schedule`` is given)."""
    application = approved(world, amount)
    return awards.make_award(
        application,
        by=world["officer"],
        amount=usd(amount),
        start_date=datetime.date(2026, 2, 1),
        end_date=datetime.date(2027, 1, 31),
        schedule=schedule or [(datetime.date(2026, 2, 1), usd(amount))],
        report_dates=[("interim", datetime.date(2026, 8, 1)), ("final", datetime.date(2027, 3, 1))],
        agreement={
            "en": "<p>Use the money for the project.</p>",
            "es": "<p>Use el dinero para el proyecto.</p>",
        },
        **kwargs,
    )
