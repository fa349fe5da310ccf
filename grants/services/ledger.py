"""The ledger: posting balanced journal entries and reading fund balances.

Rules (also enforced by the database on PostgreSQL, see migration 0007):
- an entry has at least two lines, all in the entry's currency, summing to zero;
- amounts are ``Money`` with a Decimal amount whole in the currency's minor unit (a float is a
  ``MoneyTypeError``, which is a ``TypeError``);
- entries are never changed: ``reverse_entry`` posts the mirror image;
- a key (``idempotency_key``) makes posting safe to retry: the same key returns the entry
  already posted.

Balances are sums of lines, never stored counters.
"""

import datetime
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import TruncMonth
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    NORMAL_BALANCE,
    AccountKind,
    EntryCause,
    Foundation,
    Fund,
    JournalEntry,
    JournalLine,
    LedgerAccount,
    PaymentReference,
    ReferenceMethod,
    normalise_reference,
)
from grants.money import ExactSum, ExactSumOfColumn, check_money, currency_exponent, is_fund_currency, zero
from grants.permissions import Capability, can
from grants.services import page_cache
from grants.services.errors import DomainError


class LedgerError(DomainError):
    """An entry was refused: it would not balance, mixes currencies or breaks a ledger rule."""


class UnbalancedEntry(LedgerError):
    """The lines of an entry do not sum to zero."""


class MixedCurrencies(LedgerError):
    """Lines of one entry are in different currencies, or not in their account's currency."""


class DuplicateReference(LedgerError):
    """This check number or bank reference was already recorded for the foundation."""


class InsufficientFunds(DomainError):
    """The fund does not have enough money available to commit."""


@dataclass(frozen=True)
class Line:
    """One line to post: ``amount`` is a debit when positive, a credit when negative."""

    fund: Fund
    kind: str
    amount: Money


def debit(fund: Fund, kind: str, amount: Money) -> Line:
    return Line(fund, kind, amount)


def credit(fund: Fund, kind: str, amount: Money) -> Line:
    return Line(fund, kind, -check_money(amount))


def unsupported_currency_message(currency: str) -> str:
    """Why a fund cannot keep its money in ``currency`` (a three-decimal currency such as KWD)."""
    return _(
        "%(currency)s has %(digits)s decimals; the portal keeps amounts with two, so it cannot split "
        "them exactly. Choose a currency with two decimals or none."
    ) % {"currency": currency, "digits": currency_exponent(currency)}


def accounts_for(fund: Fund) -> dict[str, LedgerAccount]:
    """The fund's accounts by kind, created on first use (one per kind, in the fund's currency)."""
    existing = {account.kind: account for account in LedgerAccount.objects.filter(fund=fund)}
    for kind in AccountKind.values:
        if kind not in existing:
            account, _created = LedgerAccount.objects.get_or_create(
                fund=fund, kind=kind, defaults={"currency": fund.currency}
            )
            existing[kind] = account
    return existing


def post_entry(
    *,
    foundation: Foundation,
    cause: str,
    memo: str,
    lines: Iterable[Line],
    by=None,
    effective_date: datetime.date | None = None,
    reference: str = "",
    award=None,
    reverses: JournalEntry | None = None,
    idempotency_key: str | None = None,
    **links,
) -> JournalEntry:
    """Post one balanced entry and return it; with a known ``idempotency_key``, the earlier one.

    Raises ``MoneyTypeError`` for an amount that is not proper ``Money``, ``MixedCurrencies``
    when lines differ in currency (or from their fund's), ``UnbalancedEntry`` when they do not
    sum to zero, ``LedgerError`` for an empty line, a fund of another foundation or a bad cause.
    """
    lines = list(lines)
    if idempotency_key:
        earlier = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
        if earlier is not None:
            return earlier
    if cause not in EntryCause.values:
        raise LedgerError(f"Unknown cause {cause!r}")
    if len(lines) < 2:
        raise UnbalancedEntry(_("An entry needs at least two lines."))
    for line in lines:
        check_money(line.amount)
        if line.amount.amount == 0:
            raise LedgerError(_("A line of an entry cannot be zero."))
        if line.fund.foundation_id != foundation.pk:
            raise LedgerError("A line names a fund of another foundation.")
    currencies = {str(line.amount.currency) for line in lines} | {line.fund.currency for line in lines}
    if len(currencies) != 1:
        raise MixedCurrencies(_("An entry cannot mix currencies (%(currencies)s).") % {
            "currencies": ", ".join(sorted(currencies))
        })  # fmt: skip
    (currency,) = currencies
    if not is_fund_currency(currency):
        raise MixedCurrencies(unsupported_currency_message(currency))
    total = sum((line.amount.amount for line in lines), Decimal(0))
    if total != 0:
        raise UnbalancedEntry(
            _("The entry does not balance: debits and credits differ by %(difference)s.")
            % {"difference": Money(total, currency)}
        )
    try:
        with transaction.atomic():
            entry = JournalEntry.objects.create(
                foundation=foundation,
                currency=currency,
                cause=cause,
                memo=memo[:300],
                reference=reference[:120],
                effective_date=effective_date or timezone.localdate(),
                award=award,
                reverses=reverses,
                idempotency_key=idempotency_key or None,
                created_by=by if getattr(by, "is_authenticated", False) else None,
                **links,
            )
            accounts = {}
            for line in lines:
                if line.fund.pk not in accounts:
                    accounts[line.fund.pk] = accounts_for(line.fund)
            JournalLine.objects.bulk_create(
                [
                    JournalLine(entry=entry, account=accounts[line.fund.pk][line.kind], amount=line.amount)
                    for line in lines
                ]
            )
    except IntegrityError:
        # Another request posted the same key first: that entry is the answer.
        if idempotency_key:
            earlier = JournalEntry.objects.filter(idempotency_key=idempotency_key).first()
            if earlier is not None:
                return earlier
        raise
    return entry


def reverse_entry(entry: JournalEntry, *, by, memo: str = "", effective_date=None, **links) -> JournalEntry:
    """Post the mirror image of ``entry`` (each line negated), linked to it. Once per entry.

    ``links`` (``donation=``…) tie the reversal to what it undoes, as on ``post_entry``."""
    if JournalEntry.objects.filter(reverses=entry).exists():
        raise LedgerError(_("This entry has already been reversed."))
    lines = [
        Line(line.account.fund, line.account.kind, -line.amount)
        for line in entry.lines.select_related("account__fund")
    ]
    return post_entry(
        foundation=entry.foundation,
        cause=EntryCause.REVERSAL,
        memo=memo or _("Reversal of entry #%(number)s: %(memo)s") % {"number": entry.pk, "memo": entry.memo},
        lines=lines,
        by=by,
        effective_date=effective_date,
        reference=entry.reference,
        award=entry.award,
        reverses=entry,
        idempotency_key=f"reversal:{entry.pk}",
        **links,
    )


def lock_fund(fund: Fund) -> Fund:
    """Lock the fund's row until the transaction ends: decisions about its money queue up here."""
    return Fund.objects.select_for_update().get(pk=fund.pk)


# --- Balances ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FundBalances:
    """What a fund's money looks like, from the sums of its journal lines."""

    currency: str
    by_account: dict  # kind -> Money, signed so that the account's normal balance is positive

    def _get(self, kind) -> Money:
        return self.by_account.get(kind, zero(self.currency))

    @property
    def donations(self) -> Money:
        return self._get(AccountKind.DONATIONS)

    @property
    def other_income(self) -> Money:
        return self._get(AccountKind.OTHER_INCOME) + self._get(AccountKind.OPENING_BALANCE)

    @property
    def bond_interest(self) -> Money:
        """Interest paid with bonds returned: income of the fund."""
        return self._get(AccountKind.BOND_INTEREST)

    @property
    def received(self) -> Money:
        return self.donations + self.other_income + self.bond_interest

    @property
    def bonds_out(self) -> Money:
        """Money lent on bonds posted and not yet returned or written off (an asset)."""
        return self._get(AccountKind.BONDS_OUTSTANDING)

    @property
    def fees(self) -> Money:
        return self._get(AccountKind.FEES)

    @property
    def refunds(self) -> Money:
        return self._get(AccountKind.REFUNDS)

    @property
    def committed(self) -> Money:
        """Awards made, net of amendments and releases."""
        return self._get(AccountKind.GRANTS_AWARDED)

    @property
    def outstanding(self) -> Money:
        """Committed and not yet paid."""
        return self._get(AccountKind.GRANTS_PAYABLE)

    @property
    def paid(self) -> Money:
        return self.committed - self.outstanding

    @property
    def returned(self) -> Money:
        return self._get(AccountKind.GRANTS_RETURNED)

    @property
    def cash(self) -> Money:
        return self._get(AccountKind.PROCESSOR_CASH) + self._get(AccountKind.BANK_CASH)

    @property
    def available(self) -> Money:
        """Money held that is not promised to anyone: what can still be committed."""
        return self.cash - self.outstanding


def _account_totals(accounts):
    """``accounts`` annotated with ``total``, the sum of each one's lines (``None`` without lines).

    One correlated sum per account rather than a join grouped by kind: PostgreSQL then answers
    each sum with an Index Only Scan of ``journal_line_account_idx`` (account INCLUDE amount)
    feeding the aggregate directly, which is markedly cheaper per line than passing every line
    through a join and a group (see docs/performance.md).
    """
    line_sum = ExactSumOfColumn(F("amount"))  # exact on SQLite too (grants.money)
    totals = JournalLine.objects.filter(account=OuterRef("pk")).order_by().annotate(total=line_sum)
    return accounts.order_by().annotate(total=Subquery(totals.values("total")))


def balances(fund: Fund) -> FundBalances:
    """Balances of ``fund`` from the sums of its accounts' lines, in one query (index only)."""
    rows = _account_totals(LedgerAccount.objects.filter(fund=fund)).values_list("kind", "total")
    return _balances_from_rows(fund.currency, rows)


def balances_for_funds(funds: Iterable[Fund]) -> dict[int, FundBalances]:
    """Balances of several funds in one query, keyed by fund id."""
    funds = list(funds)
    totals: dict[int, list] = {fund.pk: [] for fund in funds}
    rows = _account_totals(LedgerAccount.objects.filter(fund__in=funds)).values_list(
        "fund_id", "kind", "total"
    )
    for fund_id, kind, total in rows:
        totals[fund_id].append((kind, total))
    return {fund.pk: _balances_from_rows(fund.currency, totals[fund.pk]) for fund in funds}


def balances_by_month(fund: Fund, months: list[datetime.date]) -> list[tuple[datetime.date, FundBalances]]:
    """The fund's balances at the end of each of ``months`` (first days, oldest first), in one query.

    Each figure is the sum of every line dated up to that month's end, so the last month's
    balances are those of ``balances`` (the Fund money table) when no entry is dated later;
    lines dated after the last month are counted in it too, so the two always tie out.
    """
    per_month: dict[datetime.date, dict[str, Decimal]] = {}
    rows = (
        JournalLine.objects.filter(account__fund=fund)
        .annotate(month=TruncMonth("entry__effective_date"))
        .values_list("month", "account__kind")
        .annotate(total=ExactSum("amount"))
        .order_by()
    )
    for month, kind, total in rows:
        month = month.date() if isinstance(month, datetime.datetime) else month
        sums = per_month.setdefault(month, {})
        sums[kind] = sums.get(kind, Decimal(0)) + Decimal(total or 0)
    running: dict[str, Decimal] = {}
    pending = sorted(per_month)
    result = []
    for position, month in enumerate(months):
        last = position == len(months) - 1
        while pending and (last or pending[0] <= month):
            for kind, total in per_month[pending.pop(0)].items():
                running[kind] = running.get(kind, Decimal(0)) + total
        result.append((month, _balances_from_rows(fund.currency, running.items())))
    return result


def _balances_from_rows(currency: str, rows) -> FundBalances:
    by_account = {
        kind: Money(Decimal(total or 0) * NORMAL_BALANCE[AccountKind(kind)], currency) for kind, total in rows
    }
    return FundBalances(currency=currency, by_account=by_account)


def require_available(fund: Fund, amount: Money) -> FundBalances:
    """Raise ``InsufficientFunds`` unless ``fund`` (locked by the caller) can commit ``amount``."""
    current = balances(fund)
    if amount > current.available:
        raise InsufficientFunds(
            _("%(fund)s has %(available)s available to commit; this needs %(amount)s.")
            % {"fund": fund.name, "available": current.available, "amount": amount}
        )
    return current


# --- Money that arrives outside the payment processor ---------------------------------------


class IncomeSource:
    CHECK = "check"
    BANK_TRANSFER = "bank_transfer"
    GRANT = "grant"
    OTHER = "other"

    @classmethod
    def choices(cls):
        return [
            (cls.CHECK, _("Check")),
            (cls.BANK_TRANSFER, _("Bank transfer")),
            (cls.GRANT, _("Grant from another funder")),
            (cls.OTHER, _("Other")),
        ]


def _require_finance(by, fund: Fund) -> None:
    if not can(by, Capability.RECORD_MONEY, fund.foundation_id):
        raise LedgerError(_("Only finance staff of this foundation can record money."))


def _money_in_fund_currency(fund: Fund, amount) -> Money:
    if not is_fund_currency(fund.currency):
        raise MixedCurrencies(unsupported_currency_message(fund.currency))
    if isinstance(amount, Money) and str(amount.currency) != fund.currency:
        raise MixedCurrencies(
            _("The amount must be in the fund's currency (%(currency)s).") % {"currency": fund.currency}
        )
    check_money(amount, currency=fund.currency)
    if amount.amount <= 0:
        raise LedgerError(_("The amount must be greater than zero."))
    return amount


def record_income(
    *, fund: Fund, amount: Money, source: str, received_on: datetime.date, reference: str, memo: str = "", by
) -> JournalEntry:
    """Record money received outside Stripe (check, bank transfer, another funder's grant).

    Debits cash held outside the processor and credits other income. ``reference`` (check
    number, bank reference) is required so the entry can be traced to the bank statement.
    """
    _require_finance(by, fund)
    amount = _money_in_fund_currency(fund, amount)
    reference = (reference or "").strip()
    if not reference:
        raise LedgerError(_("Give a reference (check number, bank reference…)."))
    if source not in dict(IncomeSource.choices()):
        raise LedgerError(_("Choose where the money came from."))
    label = dict(IncomeSource.choices())[source]
    page_cache.invalidate_public_pages()  # the fund page's "money received" chart shows it
    return post_entry(
        foundation=fund.foundation,
        cause=EntryCause.INCOME,
        memo=memo.strip() or f"{label}: {reference}",
        reference=reference,
        effective_date=received_on,
        by=by,
        lines=[debit(fund, AccountKind.BANK_CASH, amount), credit(fund, AccountKind.OTHER_INCOME, amount)],
    )


def record_opening_balance(
    *, fund: Fund, amount: Money, as_of: datetime.date, reference: str, by
) -> JournalEntry:
    """Bring in the money a fund held before it used the portal. Once per fund (reverse to redo)."""
    _require_finance(by, fund)
    amount = _money_in_fund_currency(fund, amount)
    with transaction.atomic():
        lock_fund(fund)
        standing = JournalEntry.objects.filter(
            cause=EntryCause.OPENING_BALANCE, lines__account__fund=fund, reversed_by__isnull=True
        )
        if standing.exists():
            raise LedgerError(_("This fund already has an opening balance. Reverse it first to change it."))
        return post_entry(
            foundation=fund.foundation,
            cause=EntryCause.OPENING_BALANCE,
            memo=_("Opening balance"),
            reference=(reference or "").strip(),
            effective_date=as_of,
            by=by,
            lines=[
                debit(fund, AccountKind.BANK_CASH, amount),
                credit(fund, AccountKind.OPENING_BALANCE, amount),
            ],
        )


def reverse_manual_entry(entry: JournalEntry, *, by, reason: str) -> JournalEntry:
    """Correct an income or opening-balance entry by reversing it (finance staff, with a reason).

    Entries posted by awards, payments or donations are corrected through those, not here.
    """
    if not can(by, Capability.RECORD_MONEY, entry.foundation_id):
        raise LedgerError(_("Only finance staff of this foundation can correct entries."))
    if entry.cause not in (EntryCause.INCOME, EntryCause.OPENING_BALANCE, EntryCause.MANUAL):
        raise LedgerError(_("This entry is corrected through its award, payment or donation."))
    reason = (reason or "").strip()
    if not reason:
        raise LedgerError(_("Say why the entry is reversed."))
    with transaction.atomic():
        for fund in Fund.objects.filter(ledger_accounts__lines__entry=entry).distinct():
            lock_fund(fund)
        return reverse_entry(entry, by=by, memo=reason)


# --- References of money moved outside Stripe ----------------------------------------------


def _first_use(found: PaymentReference) -> str:
    date = formats.date_format(found.recorded_on)
    if found.donation_id:
        donation = found.donation
        return _("%(reference)s was already recorded on %(date)s for gift #%(number)s from %(donor)s.") % {
            "reference": found.reference, "date": date, "number": donation.pk, "donor": donation.donor.name
        }  # fmt: skip
    installment = found.installment
    if installment is None:  # a check to a vendor for direct assistance
        return _("%(reference)s was already recorded on %(date)s.") % {
            "reference": found.reference,
            "date": date,
        }
    return _("%(reference)s was already recorded on %(date)s for payment %(number)s of award %(award)s.") % {
        "reference": found.reference, "date": date, "number": installment.number,
        "award": installment.award.reference,
    }  # fmt: skip


def claim_reference(
    *,
    foundation: Foundation,
    method: str,
    reference: str,
    recorded_on: datetime.date,
    donation=None,
    installment=None,
) -> PaymentReference:
    """Record that ``reference`` (a check number, a bank reference) was used, or raise
    ``DuplicateReference`` naming the first gift or payment that used it.

    References are compared normalised (``normalise_reference``: trimmed, case-folded, inner
    whitespace collapsed), once per foundation and ``ReferenceMethod``; the database's unique
    constraint settles two clerks entering the same check at once.
    """
    if method not in ReferenceMethod.values:
        raise LedgerError(f"Unknown reference method {method!r}")
    key = normalise_reference(reference)[:120]
    if not key:
        raise LedgerError(_("Give a reference (check number, bank reference…)."))
    scope = PaymentReference.objects.select_related("donation__donor", "installment__award")
    found = scope.filter(foundation=foundation, method=method, key=key).first()
    if found is None:
        try:
            with transaction.atomic():
                return PaymentReference.objects.create(
                    foundation=foundation, method=method, key=key, reference=" ".join(reference.split())[:120],
                    recorded_on=recorded_on, donation=donation, installment=installment,
                )  # fmt: skip
        except IntegrityError:
            found = scope.filter(foundation=foundation, method=method, key=key).first()
            if found is None:
                raise
    raise DuplicateReference(_first_use(found))
