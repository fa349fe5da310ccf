"""What bond funds report: money expected back, and the revolving figures the public may see.

Staff figures come straight from ``grants.services.bonds`` (``revolving``, ``figures_for``).
This module adds what the Fund money screens need for several funds at once (money expected
back from bonds whose case ended) and the public version of the revolving figures, with the
transparency pages' small-group suppression (``settings.TRANSPARENCY_MIN_GROUP``, *min*):

- Each group (bonds posted; bonds with money returned; bonds with money lost; bonds out now)
  is published as a count and a sum. A group of 1 … min−1 bonds is shown as "fewer than min"
  and its sum is hidden, so one person's bond cannot be read off the page.
- The sums make one equation, *posted = returned + lost + out* (every dollar lent is back,
  lost or still out), so when one sum is hidden another is hidden too (the transparency
  module's ``suppress``): the hidden one cannot be recovered by subtraction.
- The average time out is shown only when min or more bonds have ended; "times lent"
  (posted ÷ money received) only when the posted sum is shown, since the fund's income is
  public.

Figures are all-time (a bond's life crosses years), the same on the fund page and on the fund's
transparency page.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from djmoney.money import Money

from grants.models import (
    BOND_OUT_STATES,
    AccountKind,
    Bond,
    BondStatus,
    Foundation,
    Fund,
    JournalLine,
    ProgramType,
)
from grants.money import ExactSum, zero
from grants.services import bonds, ledger
from grants.services.transparency import SMALL, VISIBLE, suppress

GROUPS = ("posted", "returned", "lost", "out")


def is_bond_fund(fund: Fund) -> bool:
    return fund.program_type == ProgramType.BOND_FUND


def bond_funds(foundation: Foundation) -> list[Fund]:
    """The foundation's bond funds, by name (their pages show how the bond money revolves)."""
    return list(
        Fund.objects.filter(foundation=foundation, program_type=ProgramType.BOND_FUND).order_by("name")
    )


def expected_back_for_funds(funds: Iterable[Fund]) -> dict[int, Money]:
    """Per fund: what is still out on bonds cancelled by the court (refund expected), one query."""
    funds = list(funds)
    result = {fund.pk: zero(fund.currency) for fund in funds}
    currencies = {fund.pk: fund.currency for fund in funds}
    rows = (
        JournalLine.objects.filter(
            account__fund__in=funds,
            account__kind=AccountKind.BONDS_OUTSTANDING,
            entry__bond__status=BondStatus.REFUND_EXPECTED,
        )
        .values_list("account__fund_id")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )
    for fund_id, total in rows:
        result[fund_id] = Money(Decimal(total or 0), currencies[fund_id])
    return result


def expected_back(fund: Fund) -> Money:
    return expected_back_for_funds([fund])[fund.pk]


@dataclass(frozen=True)
class PublicFigure:
    """One published group of bonds: its count and sum, or ``hidden`` (why) and less."""

    count: int
    total: Money | None
    hidden: str = VISIBLE

    @property
    def is_small(self) -> bool:
        return self.hidden == SMALL

    @property
    def shown_count(self) -> int | None:
        """The count a reader sees: None when it is only "fewer than min"."""
        return None if self.is_small else self.count


@dataclass(frozen=True)
class PublicRevolving:
    """A bond fund's revolving figures as a public page shows them (see the module docstring)."""

    currency: str
    min_group: int
    posted: PublicFigure
    returned: PublicFigure
    lost: PublicFigure
    out: PublicFigure
    average_days_out: int | None
    times_lent: Decimal | None


def public_revolving(fund: Fund) -> PublicRevolving | None:
    """The fund's revolving figures with small groups suppressed; None for a fund without bonds."""
    if not is_bond_fund(fund):
        return None
    min_group = settings.TRANSPARENCY_MIN_GROUP
    posted_bonds = list(Bond.objects.filter(fund=fund).exclude(posted_on=None))
    numbers = bonds.figures_for(posted_bonds)
    nothing = zero(fund.currency)
    members = {
        "posted": posted_bonds,
        "returned": [b for b in posted_bonds if numbers[b.pk].returned.amount > 0],
        "lost": [b for b in posted_bonds if numbers[b.pk].written_off.amount > 0],
        "out": [b for b in posted_bonds if b.status in BOND_OUT_STATES],
    }
    sums = {
        "posted": sum((numbers[b.pk].posted for b in posted_bonds), nothing),
        "returned": sum((numbers[b.pk].returned for b in posted_bonds), nothing),
        "lost": sum((numbers[b.pk].written_off for b in posted_bonds), nothing),
        "out": sum((numbers[b.pk].outstanding for b in members["out"]), nothing),
    }
    counts = {name: len(members[name]) for name in GROUPS}
    hidden = suppress(counts, [("posted", ("returned", "lost", "out"))], min_group)
    figures = {
        name: PublicFigure(counts[name], None if name in hidden else sums[name], hidden.get(name, VISIBLE))
        for name in GROUPS
    }
    ended = [b for b in posted_bonds if b.settled_on and b.posted_on]
    average = None
    if len(ended) >= min_group:
        average = round(sum((b.settled_on - b.posted_on).days for b in ended) / len(ended))
    times_lent = None
    received = ledger.balances(fund).received
    if "posted" not in hidden and received.amount > 0 and counts["posted"]:
        times_lent = (sums["posted"].amount / received.amount).quantize(Decimal("0.01"))
    return PublicRevolving(
        currency=fund.currency,
        min_group=min_group,
        average_days_out=average,
        times_lent=times_lent,
        **figures,
    )
