"""Bonds raced on two PostgreSQL connections, committing for real: the same bond posted or
refunded twice at once moves money once, and two bonds approved against the same dollars cannot
both go out. Skipped on SQLite."""

import datetime

import pytest

from grants.models import Bond, BondStatus, BondUrgency, EntryCause, JournalEntry, Obligor, ProgramType
from grants.services import bonds, ledger
from tests import pages
from tests.concurrency import race, successes
from tests.grants.money_fixtures import fund_with, usd

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = datetime.date


@pytest.fixture(autouse=True)
def _page_tree(transactional_db):
    """Staff permissions hang on the page tree, which a transactional test's flush removes."""
    pages.build_site()


@pytest.fixture
def bond_world(world):
    world["fund"].program_type = ProgramType.BOND_FUND
    world["fund"].save(update_fields=["program_type"])
    fund_with(world, 10000)
    bonds.add_partner(foundation=world["foundation"], organization=world["organization"], by=world["officer"])
    return world


def _approved(world, amount) -> Bond:
    bond = bonds.request_bond(
        partner=world["organization"], fund=world["fund"], by=world["grantee"], label="Caso 3",
        facility="Adelanto", urgency=BondUrgency.TODAY, amount=usd(amount), obligor=Obligor.FOUNDATION,
    )  # fmt: skip
    return bonds.approve(bond, by=world["officer"])


def test_two_finance_officers_post_the_same_bond_at_once(bond_world):
    world = bond_world
    bond = _approved(world, 6000)
    outcomes = race(
        lambda: bonds.post_bond(Bond.objects.get(pk=bond.pk), by=world["finance"], method="wire"),
        lambda: bonds.post_bond(Bond.objects.get(pk=bond.pk), by=world["finance2"], method="wire"),
    )
    assert len(successes(outcomes)) == 2  # the second sees it posted and does nothing
    assert JournalEntry.objects.filter(bond=bond, cause=EntryCause.BOND_POSTED).count() == 1
    assert ledger.balances(world["fund"]).bonds_out == usd(6000)


def test_two_bonds_for_the_same_dollars_cannot_both_go_out(bond_world):
    world = bond_world
    first, second = _approved(world, 7000), _approved(world, 7000)
    outcomes = race(
        lambda: bonds.post_bond(Bond.objects.get(pk=first.pk), by=world["finance"], method="wire"),
        lambda: bonds.post_bond(Bond.objects.get(pk=second.pk), by=world["finance2"], method="ach"),
    )
    refused = [o for o in outcomes if isinstance(o, bonds.BondRefused)]
    assert len(successes(outcomes)) == 1 and len(refused) == 1, outcomes
    assert "available" in str(refused[0].message)
    b = ledger.balances(world["fund"])
    assert b.bonds_out == usd(7000) and b.cash == usd(3000)
    assert Bond.objects.filter(status=BondStatus.POSTED).count() == 1


def test_the_same_refund_recorded_twice_at_once_counts_once(bond_world):
    world = bond_world
    bond = bonds.post_bond(_approved(world, 5000), by=world["finance"], method="wire")
    outcomes = race(
        *[
            lambda who=who: bonds.record_refund(
                Bond.objects.get(pk=bond.pk),
                by=world[who],
                received_on=D(2026, 5, 1),
                principal=usd(5000),
                interest=usd("3.10"),
                receipt="Treasury 7781",
            )  # fmt: skip
            for who in ("finance", "finance2")
        ]
    )
    assert len(successes(outcomes)) == 2, outcomes
    assert JournalEntry.objects.filter(bond=bond, cause=EntryCause.BOND_RETURNED).count() == 1
    b = ledger.balances(world["fund"])
    assert b.bonds_out == usd(0) and b.bond_interest == usd("3.10") and b.cash == usd("10003.10")
    assert Bond.objects.get(pk=bond.pk).status == BondStatus.RETURNED
