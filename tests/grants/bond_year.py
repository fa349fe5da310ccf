"""A bond fund's year, moved through the bond services, for the reporting and tie-out tests.

The fund (USD) received $30,000 by check before 2026. Against the audit period 2026-01-01 …
2026-06-30 its bonds are, by how they end:

==  ======  ==========  ===================================================================
A   $5,000  2025-11-15  posted before the period, still out at its end (returned 2026-07-05)
B   $2,000  2025-12-01  cancelled 2026-01-20, returned 2026-02-10 with $15.50 interest
C   $4,000  2026-01-10  breached 2026-03-01: all of it written off
D   $3,000  2026-01-15  $2,000 back with $10 interest 2026-04-01, the rest written off
E   $1,500  2026-02-01  cancelled 2026-05-01: refund expected at the period's end
F   $1,000  requested 2026-03-01, never posted
==  ======  ==========  ===================================================================
"""

import datetime

import time_machine
from djmoney.money import Money

from grants.models import BondUrgency, Fund, FundStatus, Obligor, ProgramType
from grants.services import bonds, ledger
from tests.factories import FundFactory

D = datetime.date
START, END = D(2026, 1, 1), D(2026, 6, 30)
RECEIVED = 30000


def usd(amount) -> Money:
    return Money(str(amount), "USD")


def on(day: D):
    return time_machine.travel(datetime.datetime(day.year, day.month, day.day, 17, tzinfo=datetime.UTC))


def bond_fund(world, name="Fondo de Fianzas") -> Fund:
    """A USD bond fund of the world's foundation with $30,000 received; the world's organization
    its bond partner."""
    fund = FundFactory(
        foundation=world["foundation"],
        name=name,
        currency="USD",
        program_type=ProgramType.BOND_FUND,
        status=FundStatus.ACTIVE,
    )
    Fund.objects.filter(pk=fund.pk).update(created_at=datetime.datetime(2025, 1, 1, tzinfo=datetime.UTC))
    fund.refresh_from_db()
    ledger.record_income(fund=fund, amount=usd(RECEIVED), source="check", received_on=D(2025, 10, 1),
                         reference="CHK-BONDS", by=world["finance"])  # fmt: skip
    if not bonds.is_partner(world["organization"], world["foundation"]):
        bonds.add_partner(
            foundation=world["foundation"], organization=world["organization"], by=world["officer"]
        )
    return fund


def request(world, fund, amount, day: D, label="Familia R"):
    with on(day):
        return bonds.request_bond(
            partner=world["organization"], fund=fund, by=world["grantee"], label=label,
            facility="Adelanto ICE Processing Center", urgency=BondUrgency.TODAY, amount=usd(amount),
            obligor=Obligor.FOUNDATION, notes="Hearing in March",
        )  # fmt: skip


def posted(world, fund, amount, day: D, reference: str, label="Familia R"):
    bond = request(world, fund, amount, day, label=label)
    with on(day):
        bond = bonds.approve(bond, by=world["officer"])
        return bonds.post_bond(bond, by=world["finance"], method="wire", posted_on=day, reference=reference)


def bond_year(world) -> dict:
    """The year of the module docstring; returns the fund, its bonds by letter, and the
    ledger's balances at the period's edges."""
    fund = bond_fund(world)
    finance = world["finance"]
    a = posted(world, fund, 5000, D(2025, 11, 15), "EROBOND-A-1111", label="Caso A")
    b = posted(world, fund, 2000, D(2025, 12, 1), "EROBOND-B-2222", label="Caso B")
    at_start = ledger.balances(fund)
    c = posted(world, fund, 4000, D(2026, 1, 10), "EROBOND-C-3333", label="Caso C")
    d = posted(world, fund, 3000, D(2026, 1, 15), "EROBOND-D-4444", label="Caso D")
    with on(D(2026, 1, 20)):
        b = bonds.record_cancellation(b, by=finance, cancelled_on=D(2026, 1, 20))
    e = posted(world, fund, 1500, D(2026, 2, 1), "EROBOND-E-5555", label="Caso E")
    with on(D(2026, 2, 10)):
        b = bonds.record_refund(b, by=finance, received_on=D(2026, 2, 10), principal=usd(2000),
                                interest=usd("15.50"), receipt="Treasury 1")  # fmt: skip
    f = request(world, fund, 1000, D(2026, 3, 1), label="Caso F")
    with on(D(2026, 3, 1)):
        c = bonds.record_breach(c, by=finance, reason="Missed hearing", breached_on=D(2026, 3, 1))
    with on(D(2026, 4, 1)):
        d = bonds.record_refund(d, by=finance, received_on=D(2026, 4, 1), principal=usd(2000),
                                interest=usd(10), receipt="Treasury 2", write_off_rest=True,
                                reason="Fee kept by the surety")  # fmt: skip
    with on(D(2026, 5, 1)):
        e = bonds.record_cancellation(e, by=finance, cancelled_on=D(2026, 5, 1))
    at_end = ledger.balances(fund)
    with on(D(2026, 7, 5)):
        bonds.record_cancellation(a, by=finance, cancelled_on=D(2026, 7, 1))
        a = bonds.record_refund(a, by=finance, received_on=D(2026, 7, 5), principal=usd(5000),
                                receipt="Treasury 3")  # fmt: skip
    return {
        "fund": fund,
        "bonds": {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f},
        "at_start": at_start,
        "at_end": at_end,
    }
