"""The double-entry ledger: accounts per fund, journal entries and their lines.

Every movement of money posts one ``JournalEntry`` whose ``JournalLine`` amounts sum to zero
(debits positive, credits negative), all in the entry's currency. Rows are append-only: the
ORM refuses to change or delete them, and on PostgreSQL triggers refuse it too (``TRUNCATE``
included) and check at commit that each entry balances. Mistakes are corrected by a reversing
entry. An entry's lines are written in the transaction that created the entry and never later:
the ORM only takes lines for an entry object it has just inserted and whose transaction is still
open, and on PostgreSQL a trigger compares the entry's transaction id with the line's.
"""

from django.conf import settings
from django.db import models, transaction
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from .activity import AppendOnlyError
from .foundations import Foundation
from .funds import Fund


class AccountKind(models.TextChoices):
    """The accounts every fund has. The sign a balance normally has is in ``NORMAL_BALANCE``."""

    PROCESSOR_CASH = "processor_cash", _("Cash at the payment processor")
    BANK_CASH = "bank_cash", _("Cash received outside the payment processor")
    DONATIONS = "donations", _("Donations received")
    OTHER_INCOME = "other_income", _("Other income")
    OPENING_BALANCE = "opening_balance", _("Opening balance")
    FEES = "fees", _("Processing fees")
    REFUNDS = "refunds", _("Refunds and disputes")
    GRANTS_AWARDED = "grants_awarded", _("Grants awarded")
    GRANTS_PAYABLE = "grants_payable", _("Grants committed, not yet paid")
    GRANTS_RETURNED = "grants_returned", _("Grant money returned")
    BONDS_OUTSTANDING = "bonds_outstanding", _("Bonds outstanding")
    BOND_INTEREST = "bond_interest", _("Interest on returned bonds")


DEBIT, CREDIT = 1, -1
NORMAL_BALANCE = {
    AccountKind.PROCESSOR_CASH: DEBIT,
    AccountKind.BANK_CASH: DEBIT,
    AccountKind.DONATIONS: CREDIT,
    AccountKind.OTHER_INCOME: CREDIT,
    AccountKind.OPENING_BALANCE: CREDIT,
    AccountKind.FEES: DEBIT,
    AccountKind.REFUNDS: DEBIT,
    AccountKind.GRANTS_AWARDED: DEBIT,
    AccountKind.GRANTS_PAYABLE: CREDIT,
    AccountKind.GRANTS_RETURNED: CREDIT,
    AccountKind.BONDS_OUTSTANDING: DEBIT,
    AccountKind.BOND_INTEREST: CREDIT,
}


class LedgerAccount(models.Model):
    """One account of one fund, in the fund's currency."""

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="ledger_accounts")
    kind = models.CharField(_("account"), max_length=32, choices=AccountKind.choices)
    currency = models.CharField(max_length=3)

    class Meta:
        verbose_name = _("ledger account")
        verbose_name_plural = _("ledger accounts")
        constraints = [models.UniqueConstraint(fields=["fund", "kind"], name="ledger_one_account_per_kind")]

    def __str__(self):
        return f"{self.fund} · {self.get_kind_display()}"


class EntryCause(models.TextChoices):
    OPENING_BALANCE = "opening_balance", _("Opening balance")
    INCOME = "income", _("Money received outside the payment processor")
    DONATION = "donation", _("Donation")
    REFUND = "refund", _("Refund")
    DISPUTE = "dispute", _("Dispute")
    AWARD = "award", _("Award committed")
    AMENDMENT = "amendment", _("Award amended")
    RELEASE = "release", _("Unpaid award released")
    DISBURSEMENT = "disbursement", _("Grant payment")
    DISBURSEMENT_REVERSAL = "disbursement_reversal", _("Grant payment reversed")
    STIPEND = "stipend", _("Stipend payment")
    RETURN = "return", _("Grant money returned")
    BOND_POSTED = "bond_posted", _("Bond posted")
    BOND_RETURNED = "bond_returned", _("Bond money returned")
    BOND_WRITE_OFF = "bond_write_off", _("Bond loss written off as a grant")
    DIRECT_ASSISTANCE = "direct_assistance", _("Direct assistance committed")
    VENDOR_PAYMENT = "vendor_payment", _("Payment to a vendor")
    VENDOR_PAYMENT_REVERSAL = "vendor_payment_reversal", _("Payment to a vendor reversed")
    REVERSAL = "reversal", _("Reversing entry")
    MANUAL = "manual", _("Manual entry")


class AppendOnlyQuerySet(models.QuerySet):
    """Bulk updates and deletes are refused: the ledger is corrected by reversing entries."""

    def update(self, **kwargs):
        raise AppendOnlyError("Journal rows cannot be changed; post a reversing entry.")

    def delete(self):
        raise AppendOnlyError("Journal rows cannot be deleted; post a reversing entry.")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Journal rows cannot be changed; post a reversing entry.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Journal rows cannot be deleted; post a reversing entry.")


class LinesClosed(AppendOnlyError):
    """Lines were offered for an entry posted earlier (another transaction, or already written)."""


class JournalLineQuerySet(AppendOnlyQuerySet):
    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        entries = {id(line.entry): line.entry for line in objs}
        for entry in entries.values():
            entry.require_open_lines()
        created = super().bulk_create(objs, *args, **kwargs)
        for entry in entries.values():
            entry._lines_open = False  # an entry's lines are written once, all together
        return created


class JournalEntry(AppendOnlyModel):
    """One movement of money: what caused it, who recorded it, when it happened."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="journal_entries")
    currency = models.CharField(max_length=3)
    cause = models.CharField(_("cause"), max_length=32, choices=EntryCause.choices)
    memo = models.CharField(_("description"), max_length=300)
    reference = models.CharField(
        _("reference"), max_length=120, blank=True, help_text=_("Check number, bank reference, Stripe id…")
    )
    effective_date = models.DateField(_("date"), db_index=True)
    # What caused the entry. Later issues add donation / disbursement / stipend links.
    award = models.ForeignKey(
        "grants.Award", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entries"
    )
    donation = models.ForeignKey(
        "grants.Donation", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entries"
    )
    disbursement = models.ForeignKey(
        "grants.Disbursement", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entries"
    )
    bond = models.ForeignKey(
        "grants.Bond", on_delete=models.PROTECT, null=True, blank=True, related_name="journal_entries"
    )
    vendor_payment = models.ForeignKey(
        "grants.VendorPayment",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="journal_entries",
    )
    reverses = models.OneToOneField(
        "self", on_delete=models.PROTECT, null=True, blank=True, related_name="reversed_by"
    )
    # A deterministic key ("award:12:commit") so a retried action never posts twice.
    idempotency_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("journal entry")
        verbose_name_plural = _("journal entries")
        ordering = ["-effective_date", "-pk"]
        indexes = [models.Index(fields=["foundation", "effective_date"], name="journal_foundation_date_idx")]

    def __str__(self):
        return f"#{self.pk} {self.memo}"

    def save(self, *args, **kwargs):
        adding = self._state.adding
        super().save(*args, **kwargs)
        if adding:
            # Lines may follow while this transaction is open; its commit closes the entry.
            self._lines_open = True
            transaction.on_commit(lambda: setattr(self, "_lines_open", False), using=self._state.db)

    def require_open_lines(self) -> None:
        """Raise ``LinesClosed`` unless this object was just inserted and its transaction is open."""
        if not getattr(self, "_lines_open", False):
            raise LinesClosed(
                f"Journal entry #{self.pk} was posted earlier; its lines cannot change. Post a new entry."
            )


class JournalLine(AppendOnlyModel):
    """One side of an entry: a debit (positive) or credit (negative) to one account."""

    entry = models.ForeignKey(JournalEntry, on_delete=models.PROTECT, related_name="lines")
    account = models.ForeignKey(LedgerAccount, on_delete=models.PROTECT, related_name="lines")
    amount = MoneyField(max_digits=16, decimal_places=2, currency_field_name="currency")

    objects = JournalLineQuerySet.as_manager()

    class Meta:
        verbose_name = _("journal line")
        verbose_name_plural = _("journal lines")
        indexes = [
            # Balances are sums per account: answered from this index alone on PostgreSQL.
            models.Index(fields=["account"], include=["amount"], name="journal_line_account_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="journal_line_not_zero"),
        ]

    def save(self, *args, **kwargs):
        if self._state.adding:
            self.entry.require_open_lines()
        super().save(*args, **kwargs)

    @property
    def debit(self):
        return self.amount if self.amount.amount > 0 else None

    @property
    def credit(self):
        return -self.amount if self.amount.amount < 0 else None


class ReferenceMethod(models.TextChoices):
    """Namespaces of references to money moved outside Stripe: one check number is used once in each."""

    GIFT_CHECK = "gift_check", _("Check received")
    GIFT_BANK_TRANSFER = "gift_bank_transfer", _("Bank transfer received")
    GIFT_CASH = "gift_cash", _("Cash received")
    GRANT_PAYMENT = "grant_payment", _("Grant payment by check or bank transfer")


def normalise_reference(reference: str) -> str:
    """The form of a reference compared for duplicates: " chk  0042 " and "CHK 0042" are one."""
    return " ".join((reference or "").split()).casefold()


class PaymentReference(models.Model):
    """A check number or bank reference already recorded, so the same money is never counted twice.

    One row per offline gift or grant payment outside Stripe that carries a reference; the
    database refuses a second row with the same normalised reference for the foundation and
    method. Voiding a gift frees its reference (the check may be entered again, correctly).
    """

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="+")
    method = models.CharField(max_length=24, choices=ReferenceMethod.choices)
    key = models.CharField(max_length=120)
    reference = models.CharField(_("reference"), max_length=120)
    donation = models.OneToOneField(
        "grants.Donation", on_delete=models.CASCADE, null=True, blank=True, related_name="payment_reference"
    )
    installment = models.OneToOneField(
        "grants.Installment",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="outside_reference",
    )
    recorded_on = models.DateField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("payment reference")
        verbose_name_plural = _("payment references")
        constraints = [
            models.UniqueConstraint(fields=["foundation", "method", "key"], name="payment_reference_once"),
            models.CheckConstraint(condition=~models.Q(key=""), name="payment_reference_not_blank"),
        ]

    def __str__(self):
        return self.reference
