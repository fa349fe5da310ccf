"""What the ledger says moved in an audit period, attributed to the rows of the detail sheets.

The money columns of the Donations, Installments and Stipend payments sheets are the journal
lines dated in the period, not the rows' own fields (a status, ``paid_at``, ``amount_refunded``),
so each sheet's totals equal the Summary — which sums the same lines by account — whatever way
the money moved: Stripe or check, a transfer reversed and then paid by check, a refund of a gift
received in an earlier period, a payment whose outcome is not known yet.

Lines are tied to a row by what the entry links to (its gift, its disbursement); a check payment
has no disbursement, so it is tied by its key (``installment:<pk>:…``) or, failing that, by the
award and the payment reference. A line that cannot be tied to any row is not dropped: it becomes
a row of its own ("not matched"), so the totals still tie and the auditor sees what to ask about.
"""

import datetime
import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.db.models import DecimalField, Exists, F, Func, OuterRef, Q, Subquery, Sum
from django.db.models.functions import Coalesce

from grants.models import (
    NORMAL_BALANCE,
    AccountKind,
    Disbursement,
    Installment,
    JournalLine,
    StipendPayment,
)

GIFT_ACCOUNTS = (AccountKind.DONATIONS, AccountKind.FEES, AccountKind.REFUNDS)
INSTALLMENT_KEY = re.compile(r"^installment:(\d+):")


def gift_of_entry() -> Coalesce:
    """The gift a line's entry moves money for: its own link, or that of the entry it reverses
    (a reversing entry, such as a void, need not repeat the link)."""
    return Coalesce("entry__donation_id", "entry__reverses__donation_id")


def vendor_payment_of_entry() -> Coalesce:
    """The vendor payment a line's entry pays or takes back (or that of the entry it reverses)."""
    return Coalesce("entry__vendor_payment_id", "entry__reverses__vendor_payment_id")


def disbursement_of_entry() -> Coalesce:
    """The disbursement a line's entry pays or takes back (or that of the entry it reverses)."""
    return Coalesce("entry__disbursement_id", "entry__reverses__disbursement_id")


def _signed(kind: str, amount) -> Decimal:
    """A line's amount as its account normally runs (a donation credit is a positive gift)."""
    return Decimal(amount or 0) * NORMAL_BALANCE[AccountKind(kind)]


@dataclass
class GiftFlow:
    """One gift's movements in the period: received (gross), fees kept, refunded or disputed."""

    gross: Decimal = Decimal(0)
    fee: Decimal = Decimal(0)
    refunded: Decimal = Decimal(0)

    def add(self, kind: str, amount) -> None:
        value = _signed(kind, amount)
        if kind == AccountKind.DONATIONS:
            self.gross += value
        elif kind == AccountKind.FEES:
            self.fee += value
        else:
            self.refunded += value


@dataclass
class PaymentFlow:
    """Money paid to a payee in the period and money that came back (both positive)."""

    paid: Decimal = Decimal(0)
    reversed: Decimal = Decimal(0)

    def add(self, amount) -> None:
        # A payment debits "committed, not yet paid"; a reversal credits it again.
        amount = Decimal(amount or 0)
        if amount > 0:
            self.paid += amount
        else:
            self.reversed -= amount


@dataclass(frozen=True)
class Unmatched:
    """Journal lines of one entry that no row of the sheet accounts for."""

    entry_id: int
    date: datetime.date
    fund_id: int
    currency: str
    cause: str
    reference: str
    award_id: int | None
    flow: object


@dataclass
class PaymentMovements:
    by_installment: dict[int, PaymentFlow] = field(default_factory=dict)
    by_stipend_payment: dict[int, PaymentFlow] = field(default_factory=dict)
    # Payments to vendors on a grantee's behalf (by check or Stripe), by vendor payment.
    by_vendor_payment: dict[int, PaymentFlow] = field(default_factory=dict)
    unmatched: list[Unmatched] = field(default_factory=list)
    # Installments paid without a disbursement (checks): a query cannot find them by the link.
    paid_outside_processor: set[int] = field(default_factory=set)


def _unmatched(row: dict, flow) -> Unmatched:
    return Unmatched(
        entry_id=row["entry_id"],
        date=row["entry__effective_date"],
        fund_id=row["account__fund_id"],
        currency=row["currency"],
        cause=row["entry__cause"],
        reference=row["entry__reference"],
        award_id=row["entry__award_id"],
        flow=flow,
    )


_ENTRY_FIELDS = (
    "entry_id",
    "entry__effective_date",
    "entry__cause",
    "entry__reference",
    "entry__award_id",
    "entry__idempotency_key",
    "account__fund_id",
    "account__kind",
    "amount",
    "currency",
)


GIFT_SUMS = {
    "ledger_gross": AccountKind.DONATIONS,
    "ledger_fee": AccountKind.FEES,
    "ledger_refunds": AccountKind.REFUNDS,
}


def gift_sums(lines) -> dict[str, Subquery]:
    """Annotations for a ``Donation`` queryset: the sum of the outer gift's lines among ``lines``
    in each gift account (raw, debit positive). Computed by the database row by row, so the sheet
    streams however many gifts there are; ``gift_flow`` reads them."""
    # SUM as a plain function, not an aggregate: one sum per outer row, no GROUP BY (as
    # ``ledger._account_totals`` does).
    line_sum = Func(F("amount"), function="SUM", output_field=DecimalField(max_digits=16, decimal_places=2))
    linked = lines.annotate(gift=gift_of_entry())
    return {
        name: Subquery(
            linked.filter(gift=OuterRef("pk"), account__kind=kind)
            .order_by()
            .annotate(total=line_sum)
            .values("total")
        )
        for name, kind in GIFT_SUMS.items()
    }


def gift_flow(donation) -> GiftFlow:
    """The movements of a gift annotated with ``gift_sums``."""
    flow = GiftFlow()
    for name, kind in GIFT_SUMS.items():
        flow.add(kind, getattr(donation, name))
    return flow


def unmatched_gift_lines(lines) -> list[Unmatched]:
    """Donation, fee and refund lines among ``lines`` whose entry names no gift, one per entry."""
    loose: dict[int, tuple[dict, GiftFlow]] = {}
    unlinked = lines.annotate(gift=gift_of_entry()).filter(account__kind__in=GIFT_ACCOUNTS, gift__isnull=True)
    for row in unlinked.values(*_ENTRY_FIELDS).order_by("entry_id", "pk"):
        _row, flow = loose.setdefault(row["entry_id"], (row, GiftFlow()))
        flow.add(row["account__kind"], row["amount"])
    return [_unmatched(row, flow) for row, flow in loose.values()]


def payment_lines(lines):
    """The lines of ``lines`` that pay a commitment or take a payment back.

    They are the lines of "committed, not yet paid" in entries that do not touch "grants
    awarded": entries that touch both (award, amendment, release, stipend batch) change what is
    committed, not what is paid. Summary's *Disbursed* is exactly the sum of these lines.
    """
    commitment = JournalLine.objects.filter(entry=OuterRef("entry"), account__kind=AccountKind.GRANTS_AWARDED)
    return lines.filter(account__kind=AccountKind.GRANTS_PAYABLE).filter(~Exists(commitment))


def payment_movements(lines) -> PaymentMovements:
    """Payments and reversals among ``lines``, per installment and per stipend payment."""
    result = PaymentMovements()
    lines = payment_lines(lines).annotate(vendor_payment=vendor_payment_of_entry())
    # A payment to a vendor is its own row (tied by its link, whether Stripe or a check paid it).
    for vendor_payment_id, amount in (
        lines.filter(vendor_payment__isnull=False).values_list("vendor_payment", "amount").order_by("pk")
    ):
        result.by_vendor_payment.setdefault(vendor_payment_id, PaymentFlow()).add(amount)
    payments = lines.filter(vendor_payment__isnull=True).annotate(paid_by=disbursement_of_entry())
    flows: dict[int, PaymentFlow] = {}
    for disbursement_id, paid, taken_back in (
        payments.filter(paid_by__isnull=False)
        .values_list("paid_by")
        .annotate(
            paid=Sum("amount", filter=Q(amount__gt=0)), taken_back=Sum("amount", filter=Q(amount__lt=0))
        )
        .order_by()
    ):
        flow = flows[disbursement_id] = PaymentFlow()
        flow.add(paid)
        flow.add(taken_back)
    installment_of = dict(
        Disbursement.objects.filter(pk__in=flows, installment__isnull=False).values_list(
            "pk", "installment_id"
        )
    )
    stipend_of = dict(
        StipendPayment.objects.filter(disbursement_id__in=flows).values_list("disbursement_id", "pk")
    )
    loose_disbursements = []
    for disbursement_id, flow in flows.items():
        if disbursement_id in installment_of:
            target = result.by_installment.setdefault(installment_of[disbursement_id], PaymentFlow())
        elif disbursement_id in stipend_of:
            target = result.by_stipend_payment.setdefault(stipend_of[disbursement_id], PaymentFlow())
        else:
            loose_disbursements.append(disbursement_id)
            continue
        target.paid += flow.paid
        target.reversed += flow.reversed
    # Payments without a disbursement (checks, bank transfers), and lines of disbursements that
    # belong to nothing we list: one by one, they are few.
    loose = payments.filter(Q(paid_by__isnull=True) | Q(paid_by__in=loose_disbursements))
    rows = list(loose.values(*_ENTRY_FIELDS).order_by("entry_id", "pk"))
    by_reference = _installments_by_reference(rows)
    known = set(
        Installment.objects.filter(
            pk__in=[
                int(m.group(1))
                for row in rows
                if (m := INSTALLMENT_KEY.match(row["entry__idempotency_key"] or ""))
            ]
        ).values_list("pk", flat=True)
    )
    for row in rows:
        match = INSTALLMENT_KEY.match(row["entry__idempotency_key"] or "")
        installment_id = int(match.group(1)) if match and int(match.group(1)) in known else None
        if installment_id is None:
            candidates = by_reference.get((row["entry__award_id"], row["entry__reference"]), ())
            installment_id = candidates[0] if len(candidates) == 1 else None
        if installment_id is not None:
            result.by_installment.setdefault(installment_id, PaymentFlow()).add(row["amount"])
            result.paid_outside_processor.add(installment_id)
        else:
            flow = PaymentFlow()
            flow.add(row["amount"])
            result.unmatched.append(_unmatched(row, flow))
    return result


def _installments_by_reference(rows) -> dict[tuple[int, str], list[int]]:
    """Installments of the rows' awards by (award, payment reference), for check payments."""
    awards = {row["entry__award_id"] for row in rows if row["entry__award_id"]}
    found = defaultdict(list)
    for pk, award_id, reference in (
        Installment.objects.filter(award_id__in=awards)
        .exclude(payment_reference="")
        .values_list("pk", "award_id", "payment_reference")
    ):
        found[(award_id, reference)].append(pk)
    return found
