"""The auditor's workbook: a foundation's money story for a date range, sheet by sheet.

``audit_sheets(scope)`` returns, in order: Summary (one row per fund), Donations, Applications,
Awards, Installments and disbursements, Stipend payments, Vendor payments, Expenditures, Bonds,
Journal, Activity.

The Summary is computed from the same journal lines the Journal sheet lists (one grouped sum
by fund and account, split at ``date_from``), so every figure ties out:

    closing cash = opening cash + donations − fees − refunds and disputes + other income
                   + bond interest − disbursed + returned − (out on bonds at end − at start)

where *opening cash* is the cash held before ``date_from`` plus opening balances recorded in the
period (money the fund held before it used the portal is not income of the period), and
*disbursed* is money paid to grantees and stipend payees net of reversals (the change in
"grants awarded" minus the change in "grants committed, not yet paid"). A bond's loss is
written off as a grant, so it counts as committed and disbursed; its money left when the bond
was posted, which is why the change in *out on bonds* gives it back in the identity above.
Amounts of different currencies are never added: totals rows are per currency.

The detail sheets' money columns are the same journal lines again, tied to their rows
(``grants.exports.movements``), so per fund and currency:

    Donations: Σ gross, Σ fee, Σ refunds and disputes  = Summary's donations, fees, refunds
    Installments + Stipend payments + Vendor payments: Σ paid out − Σ reversed = Summary's disbursed
    Vendor payments: Σ paid out − Σ reversed = Summary's "of which paid to vendors"
                     = Journal: lines of "Payment to a vendor" − "Payment to a vendor reversed"
    Expenditures: Σ amount = Summary's reported spending
    Bonds: Σ posted − Σ returned − Σ written off = change in out on bonds; Σ outstanding at end
           = out on bonds at end; Σ interest = bond interest; Σ written off is part of disbursed
    Journal: the lines themselves (debits = credits)

Application answers (and sensitive answers) are never exported: only reference, organization,
call, status, amounts and dates. Nor are a bond's government reference, label, facility or notes:
a bond is its B-number, partner, status, amounts and dates.
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import Count, Q, Sum
from django.utils import translation
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.budget_labels import category_labels
from grants.models import (
    AccountKind,
    ActivityEntry,
    Application,
    ApplicationStatus,
    Award,
    AwardStatus,
    Bond,
    BondStatus,
    DisbursementStatus,
    Donation,
    DonationStatus,
    EntryCause,
    Expenditure,
    Foundation,
    Fund,
    GiftKind,
    Installment,
    InstallmentStatus,
    JournalEntry,
    JournalLine,
    Obligor,
    PaymentChannel,
    PostingMethod,
    ReportKind,
    ReportStatus,
    StipendPayment,
    VendorKind,
    VendorPayment,
    VendorPaymentMethod,
    VendorPaymentStatus,
)
from grants.models.ledger import NORMAL_BALANCE
from grants.money import without_negative_zero
from grants.services import bonds as bond_service

from .base import DATE, DATETIME, INT, MONEY, TEXT, Column, Sheet, chunked
from .movements import (
    PaymentFlow,
    Unmatched,
    disbursement_of_entry,
    gift_flow,
    gift_of_entry,
    gift_sums,
    payment_movements,
    unmatched_gift_lines,
)

CASH = (AccountKind.PROCESSOR_CASH, AccountKind.BANK_CASH)


@dataclass(frozen=True)
class AuditScope:
    """What one audit export covers: a foundation, the days from/to (inclusive), some funds."""

    foundation: Foundation
    date_from: datetime.date
    date_to: datetime.date
    fund_ids: tuple[int, ...]

    @classmethod
    def build(cls, *, foundation, date_from, date_to, funds=()) -> "AuditScope":
        """All the foundation's funds when ``funds`` is empty; funds of others are ignored."""
        chosen = Fund.objects.filter(foundation=foundation)
        if funds:
            chosen = chosen.filter(pk__in=[getattr(fund, "pk", fund) for fund in funds])
        return cls(foundation, date_from, date_to, tuple(chosen.order_by("pk").values_list("pk", flat=True)))

    @property
    def days(self) -> tuple[datetime.date, datetime.date]:
        return (self.date_from, self.date_to)

    def funds(self):
        return Fund.objects.filter(pk__in=self.fund_ids).order_by("currency", "name", "pk")


def _label(choices, value) -> str:
    return str(dict(choices.choices).get(value, value)) if value else ""


def _person(user) -> str:
    if user is None:
        return ""
    return user.get_full_name() or user.email


def _money(value: Decimal | None, currency: str) -> Money:
    return Money(without_negative_zero(value or Decimal(0)), currency)


# --- Summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundSummary:
    """The figures of one fund's Summary row (all in the fund's currency)."""

    fund: Fund
    opening: Money
    donations: Money
    fees: Money
    refunds: Money
    other_income: Money
    bond_interest: Money
    committed: Money
    disbursed: Money
    paid_to_vendors: Money
    returned: Money
    outstanding: Money
    reported_spending: Money
    closing: Money
    bonds_out_start: Money
    bonds_out_end: Money

    @property
    def available(self) -> Money:
        return self.closing - self.outstanding


def journal_lines(scope: AuditScope):
    """The journal lines of the scope's funds dated in the range (what the Journal sheet lists)."""
    return JournalLine.objects.filter(
        account__fund_id__in=scope.fund_ids,
        entry__foundation=scope.foundation,
        entry__effective_date__range=scope.days,
    )


def fund_summaries(scope: AuditScope) -> list[FundSummary]:
    """One ``FundSummary`` per fund, from one grouped sum of journal lines up to ``date_to``."""
    before = defaultdict(Decimal)
    during = defaultdict(Decimal)
    rows = (
        JournalLine.objects.filter(
            account__fund_id__in=scope.fund_ids,
            entry__foundation=scope.foundation,
            entry__effective_date__lte=scope.date_to,
        )
        .values("account__fund_id", "account__kind")
        .annotate(
            before=Sum("amount", filter=Q(entry__effective_date__lt=scope.date_from)),
            during=Sum("amount", filter=Q(entry__effective_date__gte=scope.date_from)),
        )
        .order_by()
    )
    for row in rows:
        sign = NORMAL_BALANCE[AccountKind(row["account__kind"])]
        key = (row["account__fund_id"], row["account__kind"])
        before[key] = Decimal(row["before"] or 0) * sign
        during[key] = Decimal(row["during"] or 0) * sign
    spending = dict(
        Expenditure.objects.filter(
            report__status=ReportStatus.ACCEPTED,
            report__award__fund_id__in=scope.fund_ids,
            date__range=scope.days,
        )
        .values_list("report__award__fund_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    # Payments to vendors (part of *Disbursed*): the journal's lines of those causes, net.
    to_vendors = dict(
        journal_lines(scope)
        .filter(
            account__kind=AccountKind.GRANTS_PAYABLE,
            entry__cause__in=(EntryCause.VENDOR_PAYMENT, EntryCause.VENDOR_PAYMENT_REVERSAL),
        )
        .values_list("account__fund_id")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    summaries = []
    for fund in scope.funds():

        def moved(*kinds, fund_id=fund.pk):
            return sum((during[(fund_id, kind)] for kind in kinds), Decimal(0))

        cash_before = sum((before[(fund.pk, kind)] for kind in CASH), Decimal(0))
        opening = cash_before + moved(AccountKind.OPENING_BALANCE)
        committed = moved(AccountKind.GRANTS_AWARDED)
        c = fund.currency
        summaries.append(
            FundSummary(
                fund=fund,
                opening=_money(opening, c),
                donations=_money(moved(AccountKind.DONATIONS), c),
                fees=_money(moved(AccountKind.FEES), c),
                refunds=_money(moved(AccountKind.REFUNDS), c),
                other_income=_money(moved(AccountKind.OTHER_INCOME), c),
                committed=_money(committed, c),
                disbursed=_money(committed - moved(AccountKind.GRANTS_PAYABLE), c),
                paid_to_vendors=_money(to_vendors.get(fund.pk), c),
                returned=_money(moved(AccountKind.GRANTS_RETURNED), c),
                outstanding=_money(
                    before[(fund.pk, AccountKind.GRANTS_PAYABLE)] + moved(AccountKind.GRANTS_PAYABLE), c
                ),
                reported_spending=_money(spending.get(fund.pk), c),
                closing=_money(cash_before + moved(*CASH), c),
                bond_interest=_money(moved(AccountKind.BOND_INTEREST), c),
                bonds_out_start=_money(before[(fund.pk, AccountKind.BONDS_OUTSTANDING)], c),
                bonds_out_end=_money(
                    before[(fund.pk, AccountKind.BONDS_OUTSTANDING)] + moved(AccountKind.BONDS_OUTSTANDING), c
                ),
            )
        )
    return summaries


def summary_sheet(scope: AuditScope) -> Sheet:
    def rows():
        for s in fund_summaries(scope):
            yield [
                s.fund.name, s.fund.currency, s.opening, s.donations, s.fees, s.refunds, s.other_income,
                s.committed, s.disbursed, s.paid_to_vendors, s.returned, s.outstanding, s.reported_spending,
                s.closing, s.available, s.bond_interest, s.bonds_out_start, s.bonds_out_end,
            ]  # fmt: skip

    def money(label, width=16):
        return Column(label, MONEY, width, total=True)

    return Sheet(
        title=_("Summary"),
        columns=[
            Column(_("Fund"), TEXT, 32),
            Column(_("Currency"), TEXT, 9),
            money(_("Opening balance (cash)")),
            money(_("Donations (gross)")),
            money(_("Processing fees")),
            money(_("Refunds and disputes")),
            money(_("Other income")),
            money(_("Awards committed")),
            money(_("Disbursed")),
            money(_("of which paid to vendors")),
            money(_("Returned")),
            money(_("Outstanding commitments at end")),
            money(_("Reported spending")),
            money(_("Closing balance (cash)")),
            money(_("Available at end")),
            money(_("Bond interest")),
            money(_("Out on bonds at start")),
            money(_("Out on bonds at end")),
        ],
        rows=rows,
        count=lambda: len(scope.fund_ids),
    )


# --- Detail sheets ----------------------------------------------------------------------------


def donations_queryset(scope: AuditScope):
    """Gifts to the scope's funds received in the range (by the day they were received), or
    whose money moved in it (a refund or dispute of an earlier gift)."""
    moved = journal_lines(scope).annotate(gift=gift_of_entry()).filter(gift__isnull=False).values("gift")
    return (
        Donation.objects.filter(foundation=scope.foundation, fund_id__in=scope.fund_ids)
        .filter(Q(received_on__range=scope.days) | Q(pk__in=moved))
        .select_related("donor", "fund")
        .order_by("received_on", "pk")
    )


def donations_with_movements(scope: AuditScope):
    """``donations_queryset`` with what the ledger moved for each gift in the period."""
    return donations_queryset(scope).annotate(**gift_sums(journal_lines(scope)))


def _fund_names(scope: AuditScope) -> dict[int, str]:
    return dict(Fund.objects.filter(pk__in=scope.fund_ids).values_list("pk", "name"))


def donations_sheet(scope: AuditScope) -> Sheet:
    """One row per gift: date, receipt, donor (the foundation's own file), Stripe ids, and what
    the ledger moved for it in the period (gross received, fee, refunds and disputes)."""

    def rows():
        for d in chunked(donations_with_movements(scope)):
            c = str(d.gross.currency)
            flow = gift_flow(d)
            yield [
                d.received_on, d.receipt_number, d.pk, d.donor.name, d.donor.email,
                _("yes") if d.anonymous else _("no"), d.fund.name, _label(GiftKind, d.kind),
                _label(PaymentChannel, d.channel), c, d.gross, _money(flow.gross, c),
                _money(flow.fee, c), _money(flow.refunded, c), _label(DonationStatus, d.status),
                d.reference, d.checkout_session_id or "", d.payment_intent_id or "", d.charge_id,
                d.invoice_id or "",
            ]  # fmt: skip
        funds = _fund_names(scope)
        for u in unmatched_gift_lines(journal_lines(scope)):
            yield [
                u.date, None, None, "", "", "", funds.get(u.fund_id, ""), "", "", u.currency, None,
                _money(u.flow.gross, u.currency), _money(u.flow.fee, u.currency),
                _money(u.flow.refunded, u.currency), _("Not matched to a gift (entry #%(entry)s)") % {
                    "entry": u.entry_id}, u.reference, "", "", "", "",
            ]  # fmt: skip

    return Sheet(
        title=_("Donations"),
        columns=[
            Column(_("Date received"), DATE, 12),
            Column(_("Receipt number"), INT, 10),
            Column(_("Donation"), INT, 9),
            Column(_("Donor"), TEXT, 24),
            Column(_("Donor email"), TEXT, 26),
            Column(_("Anonymous"), TEXT, 10),
            Column(_("Fund"), TEXT, 24),
            Column(_("Kind"), TEXT, 11),
            Column(_("Channel"), TEXT, 14),
            Column(_("Currency"), TEXT, 9),
            Column(_("Amount given"), MONEY, 14),
            Column(_("Gross received in period"), MONEY, 14, total=True),
            Column(_("Processing fee"), MONEY, 14, total=True),
            Column(_("Refunds and disputes"), MONEY, 14, total=True),
            Column(_("Status"), TEXT, 16),
            Column(_("Reference"), TEXT, 18),
            Column(_("Stripe Checkout session"), TEXT, 24),
            Column(_("Stripe payment intent"), TEXT, 24),
            Column(_("Stripe charge"), TEXT, 24),
            Column(_("Stripe invoice"), TEXT, 24),
        ],
        rows=rows,
        count=lambda: donations_queryset(scope).count() + len(unmatched_gift_lines(journal_lines(scope))),
    )


def applications_queryset(scope: AuditScope):
    """Applications to calls of the scope's funds submitted or decided in the range."""
    return (
        Application.objects.filter(call__fund_id__in=scope.fund_ids, call__fund__foundation=scope.foundation)
        .filter(Q(submitted_at__date__range=scope.days) | Q(decided_at__date__range=scope.days))
        .exclude(status=ApplicationStatus.DRAFT)
        .select_related("organization", "call__fund")
        .defer("answers", "sensitive_answers", "question_snapshot", "decision_reason")
        .order_by("submitted_at", "pk")
    )


def applications_sheet(scope: AuditScope) -> Sheet:
    def rows():
        for a in chunked(applications_queryset(scope)):
            yield [
                a.reference or f"#{a.pk}", a.organization.name, a.call.title, a.call.fund.name,
                _label(ApplicationStatus, a.status), a.requested_amount, a.award_amount, a.submitted_at,
                a.decided_at,
            ]  # fmt: skip

    return Sheet(
        title=_("Applications"),
        columns=[
            Column(_("Reference"), TEXT, 14),
            Column(_("Organization"), TEXT, 28),
            Column(_("Funding call"), TEXT, 28),
            Column(_("Fund"), TEXT, 24),
            Column(_("Status"), TEXT, 16),
            Column(_("Requested"), MONEY, 14),
            Column(_("Awarded"), MONEY, 14),
            Column(_("Submitted"), DATETIME, 17),
            Column(_("Decided"), DATETIME, 17),
        ],
        rows=rows,
        count=lambda: applications_queryset(scope).count(),
    )


def awards_queryset(scope: AuditScope):
    """Awards of the scope's funds offered in the range or with money moving in it."""
    award_ids = journal_lines(scope).filter(entry__award__isnull=False).values("entry__award_id")
    return (
        Award.objects.filter(fund_id__in=scope.fund_ids)
        .filter(Q(offered_at__date__range=scope.days) | Q(pk__in=award_ids))
        .select_related("application__organization", "fund")
        .annotate(amendment_count=Count("amendments"))
        .order_by("offered_at", "pk")
    )


def awards_sheet(scope: AuditScope) -> Sheet:
    def rows():
        for a in chunked(awards_queryset(scope)):
            yield [
                a.reference, a.application.organization.name, a.fund.name, str(a.amount.currency), a.amount,
                _label(AwardStatus, a.status), a.start_date, a.end_date, a.offered_at, a.accepted_at,
                a.closed_at, a.amendment_count,
            ]  # fmt: skip

    return Sheet(
        title=_("Awards"),
        columns=[
            Column(_("Award"), TEXT, 14),
            Column(_("Organization"), TEXT, 28),
            Column(_("Fund"), TEXT, 24),
            Column(_("Currency"), TEXT, 9),
            Column(_("Amount"), MONEY, 14, total=True),
            Column(_("Status"), TEXT, 12),
            Column(_("Start date"), DATE, 12),
            Column(_("End date"), DATE, 12),
            Column(_("Offered"), DATETIME, 17),
            Column(_("Accepted"), DATETIME, 17),
            Column(_("Closed"), DATETIME, 17),
            Column(_("Amendments"), INT, 11),
        ],
        rows=rows,
        count=lambda: awards_queryset(scope).count(),
    )


def installments_queryset(scope: AuditScope, paid_in_period=()):
    """Installments of the scope's funds due or paid in the range, or with a payment moving
    money in it (``paid_in_period``: ids the ledger ties to a payment without a disbursement)."""
    moved = (
        journal_lines(scope)
        .annotate(paid_by=disbursement_of_entry())
        .filter(paid_by__isnull=False)
        .values("paid_by")
    )
    return (
        Installment.objects.filter(award__fund_id__in=scope.fund_ids)
        .filter(
            Q(due_date__range=scope.days)
            | Q(paid_at__date__range=scope.days)
            | Q(disbursement__in=moved)
            | Q(pk__in=list(paid_in_period))
        )
        .select_related("award__application", "award__fund", "disbursement")
        .order_by("award_id", "number", "pk")
    )


def _unmatched_payment_row(u: Unmatched, funds: dict[int, str], awards: dict[int, str]) -> list:
    """A payment the ledger holds that no installment or stipend payment accounts for."""
    c = u.currency
    return [
        awards.get(u.award_id, ""), funds.get(u.fund_id, ""), None, None, c, None,
        _("Not matched to a payment (entry #%(entry)s)") % {"entry": u.entry_id}, u.date, "", "", u.reference,
        _money(u.flow.paid, c), _money(u.flow.reversed, c),
    ]  # fmt: skip


def installments_sheet(scope: AuditScope) -> Sheet:
    """One row per installment: schedule, status, how it was paid, and what the ledger moved for
    it in the period (paid out by Stripe or by check, taken back by a reversal). Payments the
    ledger holds that belong to no installment or stipend payment follow as rows of their own."""

    def rows():
        movements = payment_movements(journal_lines(scope))
        for i in chunked(installments_queryset(scope, movements.paid_outside_processor)):
            d = getattr(i, "disbursement", None)
            c = str(i.amount.currency)
            flow = movements.by_installment.get(i.pk) or PaymentFlow()
            yield [
                i.award.reference, i.award.fund.name, i.number, i.due_date, c, i.amount,
                _label(InstallmentStatus, i.status), i.paid_at, _label(DisbursementStatus, d.status) if d else "",
                (d.stripe_transfer_id or "") if d else "", i.payment_reference, _money(flow.paid, c),
                _money(flow.reversed, c),
            ]  # fmt: skip
        if movements.unmatched:
            linked = Award.objects.filter(pk__in={u.award_id for u in movements.unmatched})
            awards = {award.pk: award.reference for award in linked.select_related("application")}
            funds = _fund_names(scope)
            for u in movements.unmatched:
                yield _unmatched_payment_row(u, funds, awards)

    def count():
        movements = payment_movements(journal_lines(scope))
        return installments_queryset(scope, movements.paid_outside_processor).count() + len(
            movements.unmatched
        )

    return Sheet(
        title=_("Installments and disbursements"),
        columns=[
            Column(_("Award"), TEXT, 14),
            Column(_("Fund"), TEXT, 24),
            Column(_("Installment"), INT, 11),
            Column(_("Due date"), DATE, 12),
            Column(_("Currency"), TEXT, 9),
            Column(_("Amount"), MONEY, 14, total=True),
            Column(_("Status"), TEXT, 16),
            Column(_("Paid at"), DATETIME, 17),
            Column(_("Disbursement status"), TEXT, 16),
            Column(_("Stripe transfer"), TEXT, 24),
            Column(_("Payment reference"), TEXT, 20),
            Column(_("Paid out"), MONEY, 14, total=True),
            Column(_("Reversed"), MONEY, 14, total=True),
        ],
        rows=rows,
        count=count,
    )


def stipend_payments_queryset(scope: AuditScope):
    """Stipend payments of the scope's funds for batch months in the range, paid in it, or with
    money moving in it."""
    moved = (
        journal_lines(scope)
        .annotate(paid_by=disbursement_of_entry())
        .filter(paid_by__isnull=False)
        .values("paid_by")
    )
    return (
        StipendPayment.objects.filter(batch__program__fund_id__in=scope.fund_ids)
        .filter(
            Q(batch__month__range=scope.days)
            | Q(disbursement__paid_at__date__range=scope.days)
            | Q(disbursement__in=moved)
        )
        .select_related("batch__program__fund", "batch__organization", "payee__organization", "disbursement")
        .order_by("batch__month", "batch_id", "pk")
    )


def stipend_payments_sheet(scope: AuditScope) -> Sheet:
    """One row per stipend payment, with what the ledger moved for it in the period."""

    def rows():
        movements = payment_movements(journal_lines(scope))
        for p in chunked(stipend_payments_queryset(scope)):
            d = p.disbursement
            c = str(p.amount.currency)
            flow = movements.by_stipend_payment.get(p.pk) or PaymentFlow()
            payee = p.payee.volunteer_pseudonym or p.payee.organization.name
            yield [
                p.batch.month, p.batch.program.name, p.batch.program.fund.name, p.batch.organization.name,
                payee, c, p.amount, _label(DisbursementStatus, d.status) if d else "",
                d.paid_at if d else None, (d.stripe_transfer_id or "") if d else "", _money(flow.paid, c),
                _money(flow.reversed, c),
            ]  # fmt: skip

    return Sheet(
        title=_("Stipend payments"),
        columns=[
            Column(_("Month"), DATE, 12),
            Column(_("Program"), TEXT, 24),
            Column(_("Fund"), TEXT, 24),
            Column(_("Coordinating organization"), TEXT, 26),
            Column(_("Payee"), TEXT, 20),
            Column(_("Currency"), TEXT, 9),
            Column(_("Amount"), MONEY, 14, total=True),
            Column(_("Disbursement status"), TEXT, 16),
            Column(_("Paid at"), DATETIME, 17),
            Column(_("Stripe transfer"), TEXT, 24),
            Column(_("Paid out"), MONEY, 14, total=True),
            Column(_("Reversed"), MONEY, 14, total=True),
        ],
        rows=rows,
        count=lambda: stipend_payments_queryset(scope).count(),
    )


def vendor_payments_queryset(scope: AuditScope, moved=()):
    """Vendor payments from the scope's funds asked for or paid in the range, or with money
    moving in it (``moved``: ids the ledger ties to a payment or reversal dated in the range)."""
    return (
        VendorPayment.objects.filter(fund_id__in=scope.fund_ids, foundation=scope.foundation)
        .filter(
            Q(requested_at__date__range=scope.days) | Q(paid_on__range=scope.days) | Q(pk__in=list(moved))
        )
        .select_related("vendor", "organization", "fund", "award__application", "installment")
        .order_by("requested_at", "pk")
    )


def vendor_payments_sheet(scope: AuditScope) -> Sheet:
    """One row per payment to a vendor on a grantee's behalf, with what the ledger moved for it in
    the period (paid out, taken back by Stripe) and the journal entries that moved it."""

    def rows():
        movements = payment_movements(journal_lines(scope))
        payments = list(vendor_payments_queryset(scope, movements.by_vendor_payment))
        entries = defaultdict(list)
        for entry_id, payment_id in (
            JournalEntry.objects.filter(vendor_payment__in=payments, foundation=scope.foundation)
            .order_by("pk")
            .values_list("pk", "vendor_payment_id")
        ):
            entries[payment_id].append(str(entry_id))
        for p in payments:
            c = str(p.amount.currency)
            flow = movements.by_vendor_payment.get(p.pk) or PaymentFlow()
            yield [
                p.reference_code, p.vendor.name, _label(VendorKind, p.vendor.kind), p.organization.name,
                p.award.reference if p.award_id else "", p.installment.number if p.installment_id else None,
                p.fund.name, c, p.amount, _label(VendorPaymentStatus, p.status),
                _label(VendorPaymentMethod, p.vendor.payment_method), p.check_number, p.paid_on,
                ", ".join(entries[p.pk]), _money(flow.paid, c), _money(flow.reversed, c),
            ]  # fmt: skip

    def count():
        return vendor_payments_queryset(
            scope, payment_movements(journal_lines(scope)).by_vendor_payment
        ).count()

    return Sheet(
        title=_("Vendor payments"),
        columns=[
            Column(_("Reference"), TEXT, 10),
            Column(_("Vendor"), TEXT, 26),
            Column(_("Kind"), TEXT, 16),
            Column(_("On behalf of"), TEXT, 26),
            Column(_("Award"), TEXT, 14),
            Column(_("Installment"), INT, 11),
            Column(_("Fund"), TEXT, 24),
            Column(_("Currency"), TEXT, 9),
            Column(_("Amount"), MONEY, 14, total=True),
            Column(_("Status"), TEXT, 16),
            Column(_("Method"), TEXT, 16),
            Column(_("Check number"), TEXT, 14),
            Column(_("Paid on"), DATE, 12),
            Column(_("Journal entries"), TEXT, 16),
            Column(_("Paid out"), MONEY, 14, total=True),
            Column(_("Reversed"), MONEY, 14, total=True),
        ],
        rows=rows,
        count=count,
    )


def expenditures_queryset(scope: AuditScope):
    """Spending in accepted reports of the scope's funds, dated in the range."""
    return (
        Expenditure.objects.filter(
            report__status=ReportStatus.ACCEPTED,
            report__award__fund_id__in=scope.fund_ids,
            date__range=scope.days,
        )
        .select_related("report__award__application__call", "report__award__fund", "report__due")
        .order_by("date", "pk")
    )


def expenditures_sheet(scope: AuditScope) -> Sheet:
    """Spending reported and accepted, each in its budget category's name (in the workbook's
    language, as the report pages name it), never the category's position."""

    def rows():
        language = translation.get_language() or "en"
        names: dict[int, dict[str, str]] = {}  # per award: a call page is read once per award
        for e in chunked(expenditures_queryset(scope)):
            award = e.report.award
            if award.pk not in names:
                names[award.pk] = dict(category_labels(award, language))
            yield [
                award.reference, award.fund.name, _label(ReportKind, e.report.due.kind), e.report.due.due_date,
                e.date, names[award.pk].get(e.category) or _("Category no longer in the budget"), e.description,
                str(e.amount.currency), e.amount,
            ]  # fmt: skip

    return Sheet(
        title=_("Expenditures"),
        columns=[
            Column(_("Award"), TEXT, 14),
            Column(_("Fund"), TEXT, 24),
            Column(_("Report"), TEXT, 14),
            Column(_("Report due"), DATE, 12),
            Column(_("Date"), DATE, 12),
            Column(_("Budget category"), TEXT, 24),
            Column(_("Description"), TEXT, 40),
            Column(_("Currency"), TEXT, 9),
            Column(_("Amount"), MONEY, 14, total=True),
        ],
        rows=rows,
        count=lambda: expenditures_queryset(scope).count(),
    )


# --- Bonds ---------------------------------------------------------------------------------------


def bonds_in_scope(scope: AuditScope) -> list[tuple[Bond, object, object, list[int]]]:
    """Bonds of the scope's funds requested in the range, with money moving in it, or still out
    at its end: (bond, its figures in the period, its figures up to the end, the period's entry
    ids). Bonds are few (one per person helped), so they are read in one go."""
    period_lines = journal_lines(scope).filter(entry__bond__isnull=False)
    until_end = JournalLine.objects.filter(
        account__fund_id__in=scope.fund_ids,
        entry__foundation=scope.foundation,
        entry__effective_date__lte=scope.date_to,
    )
    entries = defaultdict(set)
    for bond_id, entry_id in period_lines.values_list("entry__bond_id", "entry_id"):
        entries[bond_id].add(entry_id)
    candidates = list(
        Bond.objects.filter(foundation=scope.foundation, fund_id__in=scope.fund_ids)
        .filter(
            Q(requested_at__date__range=scope.days)
            | Q(pk__in=list(entries))
            | Q(posted_on__lte=scope.date_to)
        )
        .select_related("fund", "partner")
        .defer("reference", "label", "facility", "notes", "decline_reason", "breach_reason")
        .order_by("fund__currency", "pk")
    )
    during = bond_service.figures_for(candidates, lines=period_lines)
    at_end = bond_service.figures_for(candidates, lines=until_end)
    rows = []
    for bond in candidates:
        requested = scope.date_from <= bond.requested_at.date() <= scope.date_to
        if requested or bond.pk in entries or at_end[bond.pk].outstanding.amount:
            rows.append((bond, during[bond.pk], at_end[bond.pk], sorted(entries[bond.pk])))
    return rows


def bonds_sheet(scope: AuditScope) -> Sheet:
    """One row per bond: what the journal moved for it in the period, and what was still out at
    the end. Never the bond's government reference, the partner's label, the facility or notes."""

    def rows():
        for bond, during, at_end, entry_ids in bonds_in_scope(scope):
            c = str(bond.amount.currency)
            yield [
                bond.reference_code, bond.fund.name, bond.partner.name, _label(BondStatus, bond.status),
                _label(Obligor, bond.obligor), _label(PostingMethod, bond.posting_method), c, bond.amount,
                bond.posted_on, _money(during.posted.amount, c), _money(during.returned.amount, c),
                _money(during.interest.amount, c), _money(during.written_off.amount, c),
                _money(at_end.outstanding.amount, c), bond.cancelled_on, bond.settled_on,
                ", ".join(str(pk) for pk in entry_ids),
            ]  # fmt: skip

    return Sheet(
        title=_("Bonds"),
        columns=[
            Column(_("Bond"), TEXT, 10),
            Column(_("Fund"), TEXT, 24),
            Column(_("Partner organization"), TEXT, 28),
            Column(_("Status"), TEXT, 18),
            Column(_("Obligor"), TEXT, 22),
            Column(_("How the money went out"), TEXT, 22),
            Column(_("Currency"), TEXT, 9),
            Column(_("Bond amount"), MONEY, 14),
            Column(_("Posted on"), DATE, 12),
            Column(_("Posted in period"), MONEY, 14, total=True),
            Column(_("Returned in period"), MONEY, 14, total=True),
            Column(_("Interest in period"), MONEY, 14, total=True),
            Column(_("Written off in period"), MONEY, 14, total=True),
            Column(_("Out at end"), MONEY, 14, total=True),
            Column(_("Cancelled on"), DATE, 12),
            Column(_("Settled on"), DATE, 12),
            Column(_("Journal entries"), TEXT, 18),
        ],
        rows=rows,
        count=lambda: len(bonds_in_scope(scope)),
    )


def journal_queryset(scope: AuditScope):
    return (
        journal_lines(scope)
        .select_related("entry__created_by", "account__fund")
        .order_by("entry__effective_date", "entry_id", "pk")
    )


def journal_sheet(scope: AuditScope) -> Sheet:
    """Every journal line of the scope's funds dated in the range: debits and credits."""

    def rows():
        for line in chunked(journal_queryset(scope)):
            entry = line.entry
            yield [
                entry.pk, entry.effective_date, _label(EntryCause, entry.cause), entry.memo, entry.reference,
                line.account.fund.name, _label(AccountKind, line.account.kind), str(line.amount.currency),
                line.debit, line.credit, _person(entry.created_by), entry.reverses_id,
            ]  # fmt: skip

    return Sheet(
        title=_("Journal"),
        columns=[
            Column(_("Entry"), INT, 8),
            Column(_("Date"), DATE, 12),
            Column(_("Cause"), TEXT, 20),
            Column(_("Description"), TEXT, 40),
            Column(_("Reference"), TEXT, 20),
            Column(_("Fund"), TEXT, 24),
            Column(_("Account"), TEXT, 28),
            Column(_("Currency"), TEXT, 9),
            Column(_("Debit"), MONEY, 14, total=True),
            Column(_("Credit"), MONEY, 14, total=True),
            Column(_("Recorded by"), TEXT, 22),
            Column(_("Reverses entry"), INT, 10),
        ],
        rows=rows,
        count=lambda: journal_queryset(scope).count(),
    )


def activity_queryset(scope: AuditScope):
    return (
        ActivityEntry.objects.filter(foundation=scope.foundation, created_at__date__range=scope.days)
        .select_related("actor")
        .order_by("created_at", "pk")
    )


def activity_sheet(scope: AuditScope) -> Sheet:
    """The foundation's own activity log for the range (notes included: it is their record)."""

    def rows():
        for a in chunked(activity_queryset(scope)):
            yield [
                a.created_at, _person(a.actor), a.subject_type, a.subject_id, a.action, a.from_state, a.to_state,
                a.note,
            ]  # fmt: skip

    return Sheet(
        title=_("Activity"),
        columns=[
            Column(_("When"), DATETIME, 17),
            Column(_("Who"), TEXT, 22),
            Column(_("Subject"), TEXT, 14),
            Column(_("Subject id"), INT, 10),
            Column(_("Action"), TEXT, 18),
            Column(_("From"), TEXT, 14),
            Column(_("To"), TEXT, 14),
            Column(_("Note"), TEXT, 50),
        ],
        rows=rows,
        count=lambda: activity_queryset(scope).count(),
    )


SHEETS = (
    summary_sheet,
    donations_sheet,
    applications_sheet,
    awards_sheet,
    installments_sheet,
    stipend_payments_sheet,
    vendor_payments_sheet,
    expenditures_sheet,
    bonds_sheet,
    journal_sheet,
    activity_sheet,
)


def audit_sheets(scope: AuditScope) -> list[Sheet]:
    """The workbook's sheets, Summary first (LibreOffice's CSV conversion reads the first)."""
    return [build(scope) for build in SHEETS]


def count_rows(scope: AuditScope) -> int:
    """How many data rows the workbook will hold (decides whether it is built in the background)."""
    return sum(sheet.count() for sheet in audit_sheets(scope))
