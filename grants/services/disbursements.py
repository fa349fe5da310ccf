"""The payout engine: every transfer of money to a payee goes through here, whatever it pays
(an award's installment, a month of hotline stipends).

The one rule: **a disbursement never has two live transfers at Stripe.** Stripe's idempotency
keys make a repeated request safe only while Stripe remembers the key (24 hours) and only if
the repeat carries the same key and the same parameters. So:

- A disbursement's parameters (amount, destination, transfer group, metadata) are fixed when it
  is created; every attempt sends them with ``Disbursement.idempotency_key``.
- Only a *definite* answer from Stripe (card/balance/invalid-request/authentication errors:
  Stripe refused before doing anything) fails the disbursement and moves it to a new key
  (``key_generation``), so finance can send it again.
- Any other failure — a timeout or dropped connection, a 5xx (which Stripe replays to the same
  key for 24 hours even when it made the transfer), a 409 (the first request with the key is
  still running), a 429 — leaves the outcome **unknown**. The same key stays; nothing new is sent
  until Stripe says what happened: ``settle`` first looks the transfer up at Stripe (by its
  transfer group and our id in its metadata) and only when Stripe has none asks again, with the
  same key. A ``transfer.created`` event settles it too.

Locks (the portal's one lock order, docs/decisions.md): the award or the bond, then the
installment, then the stipend batch, then the disbursement; funds and foundations after them.
Network calls never run inside a transaction: rows are committed before Stripe is asked.
"""

import datetime
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    Award,
    Bond,
    Disbursement,
    DisbursementStatus,
    Foundation,
    Installment,
    InstallmentStatus,
    PayeeAccount,
    StipendBatch,
    StipendPayment,
    VendorPayment,
)
from grants.payments.gateway import PaymentError, Transfer, get_gateway
from grants.services import installments
from grants.services.errors import DomainError
from grants.services.workflow import SYSTEM, Transition, check_transition, record

FINANCE = installments.FINANCE

D = DisbursementStatus
# States in which Stripe may still make (or may have made) the transfer.
OPEN_STATES = (D.PENDING, D.SUBMITTED, D.UNKNOWN)
DISBURSEMENT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("submit", (D.PENDING, D.UNKNOWN), D.SUBMITTED, (SYSTEM,)),
        Transition("outcome_unknown", (D.PENDING,), D.UNKNOWN, (SYSTEM,)),
        Transition("fail", (D.PENDING, D.UNKNOWN), D.FAILED, (SYSTEM,)),
        Transition("retry", (D.FAILED,), D.PENDING, (FINANCE,)),
        # Stripe made the transfer: whatever we believed before (even a failure we were told of).
        Transition("confirm", (D.PENDING, D.SUBMITTED, D.UNKNOWN, D.FAILED), D.PAID, (SYSTEM,)),
        Transition("reverse", (D.PENDING, D.SUBMITTED, D.UNKNOWN, D.FAILED, D.PAID), D.REVERSED, (SYSTEM,)),
    )
}


class PayeeKindError(DomainError):
    """An installment of an organization's award can only be paid to the organization's own
    account, never to a volunteer's personal one."""


def move(disbursement: Disbursement, name: str, *, by=None, actor: str = SYSTEM, note: str = "", fields=()):
    """Apply transition ``name`` to a locked disbursement, save it and record the activity."""
    previous = disbursement.status
    target = check_transition(
        DISBURSEMENT_TRANSITIONS, name, previous, actor, states=DisbursementStatus
    ).target
    disbursement.status = target
    disbursement.save(update_fields=["status", *fields])
    record(
        subject=disbursement,
        subject_type="disbursement",
        action=name,
        actor=by,
        foundation=disbursement.foundation,
        from_state=previous,
        to_state=target,
        note=note[:500],
    )


# --- Creating and restarting -----------------------------------------------------------------


def create(
    *,
    foundation: Foundation,
    payee: PayeeAccount,
    amount: Money,
    by,
    transfer_group: str,
    award: Award | None = None,
    installment: Installment | None = None,
    note: str = "",
    vendor_payment=None,
) -> Disbursement:
    """Record a new disbursement (the caller holds its locks, inside its transaction)."""
    if installment is not None and payee.volunteer_pseudonym:
        raise PayeeKindError(_("An award is paid to the organization's own payout account."))
    disbursement = Disbursement.objects.create(
        foundation=foundation,
        award=award,
        installment=installment,
        vendor_payment=vendor_payment,
        payee=payee,
        amount=amount,
        released_by=by,
        transfer_group=transfer_group,
    )
    record(subject=disbursement, subject_type="disbursement", action="release", actor=by,
           foundation=foundation, to_state=disbursement.status, note=note)  # fmt: skip
    return disbursement


def restart(disbursement: Disbursement, *, by, actor: str, amount: Money | None = None) -> None:
    """Send a failed (locked) disbursement again: it already has its next key (a failure Stripe
    answered moved it on), so the new attempt cannot be mistaken for the refused one."""
    fields = ["released_by", "failure_kind", "failure_message", "last_attempt_at"]
    disbursement.last_attempt_at = None  # no request has been sent with the new key yet
    if amount is not None and amount != disbursement.amount:
        disbursement.amount = amount
        fields += ["amount", "currency"]
    disbursement.released_by = by
    disbursement.failure_kind = disbursement.failure_message = ""
    move(disbursement, "retry", by=by, actor=actor, fields=fields)


# --- Locks -----------------------------------------------------------------------------------


def lock(disbursement: Disbursement | int) -> Disbursement:
    """Lock a disbursement and what it pays, in the portal's lock order (award, installment,
    stipend batch, then the disbursement), so a release, an award's cancellation and a Stripe
    event about the same money queue up instead of deadlocking."""
    pk = disbursement if isinstance(disbursement, int) else disbursement.pk
    row = (
        Disbursement.objects.filter(pk=pk)
        .values(
            "award_id",
            "installment_id",
            "bond_id",
            "vendor_payment__award_id",
            "vendor_payment__installment_id",
        )
        .first()
    )
    if row is None:
        raise Disbursement.DoesNotExist(pk)
    if row["bond_id"]:  # a bond posted by its partner: the bond first, as its own actions do
        list(Bond.objects.select_for_update().filter(pk=row["bond_id"]).values_list("pk"))
    # A vendor's payment locks what it pays for (its award, its installment) first, then itself.
    row["award_id"] = row["award_id"] or row["vendor_payment__award_id"]
    row["installment_id"] = row["installment_id"] or row["vendor_payment__installment_id"]
    if row["award_id"]:
        list(Award.objects.select_for_update().filter(pk=row["award_id"]).values_list("pk"))
    if row["installment_id"]:
        list(Installment.objects.select_for_update().filter(pk=row["installment_id"]).values_list("pk"))
    batch_id = StipendPayment.objects.filter(disbursement_id=pk).values_list("batch_id", flat=True).first()
    if batch_id:
        list(StipendBatch.objects.select_for_update().filter(pk=batch_id).values_list("pk"))
    list(VendorPayment.objects.select_for_update().filter(disbursement__pk=pk).values_list("pk"))
    return (
        Disbursement.objects.select_for_update(of=("self",)).select_related("foundation", "payee").get(pk=pk)
    )


# --- Asking Stripe ---------------------------------------------------------------------------


def metadata_for(disbursement: Disbursement) -> dict[str, str]:
    """What the transfer carries so our rows can be found from Stripe's side (strings, as Stripe
    keeps metadata). Derived from the row only: every attempt sends exactly the same."""
    metadata = {"disbursement": str(disbursement.pk)}
    if disbursement.installment_id:
        metadata["installment"] = str(disbursement.installment_id)
    if disbursement.award_id:
        metadata["award"] = str(disbursement.award_id)
    if disbursement.bond_id:
        metadata["bond"] = str(disbursement.bond_id)
    batch_id = (
        StipendPayment.objects.filter(disbursement_id=disbursement.pk)
        .values_list("batch_id", flat=True)
        .first()
    )
    if batch_id:
        metadata["stipend_batch"] = str(batch_id)
    if disbursement.vendor_payment_id:
        metadata["vendor_payment"] = str(disbursement.vendor_payment_id)
    return metadata


@dataclass(frozen=True)
class Attempt:
    """What one attempt did: the disbursement as it is now, and Stripe's error if there was one."""

    disbursement: Disbursement
    error: PaymentError | None = None

    @property
    def message(self) -> str:
        """For the person who acted: Stripe's refusal, or what an unknown outcome means."""
        if self.disbursement.status == D.UNKNOWN:
            return str(UNKNOWN_MESSAGE())
        return str(self.error.message) if self.error else ""


def UNKNOWN_MESSAGE() -> str:
    return _(
        "Stripe did not say whether this payment was made. Nothing will be sent again until "
        "Stripe confirms what happened; the portal checks automatically, or use “Check with Stripe”."
    )


def submit(disbursement: Disbursement) -> Attempt:
    """Ask Stripe for the transfer of a pending (or unknown) disbursement with its current key and
    record the answer. Must run outside any transaction (the row is committed first)."""
    with transaction.atomic():
        locked = lock(disbursement)
        if locked.status not in (D.PENDING, D.UNKNOWN):
            return Attempt(locked)
        locked.attempts += 1
        locked.last_attempt_at = timezone.now()
        locked.save(update_fields=["attempts", "last_attempt_at"])
        metadata = metadata_for(locked)
    try:
        transfer = get_gateway(locked.foundation).create_transfer(
            amount=locked.amount,
            destination=locked.payee.stripe_account_id,
            transfer_group=locked.transfer_group,
            metadata=metadata,
            idempotency_key=locked.idempotency_key,
        )
    except PaymentError as error:
        return Attempt(record_failure(locked, error), error)
    return Attempt(record_answer(locked, transfer))


def record_answer(disbursement: Disbursement, transfer: Transfer) -> Disbursement:
    """Stripe answered with the transfer: remember its id (the ``transfer.created`` event, which
    may already have arrived, confirms the payment and posts the ledger)."""
    with transaction.atomic():
        locked = lock(disbursement)
        fields = []
        if not locked.stripe_transfer_id:
            locked.stripe_transfer_id = transfer.id
            locked.submitted_at = timezone.now()
            fields += ["stripe_transfer_id", "submitted_at"]
        if locked.status in (D.PENDING, D.UNKNOWN):
            locked.failure_kind = locked.failure_message = ""
            locked.outcome_unknown_since = None
            move(locked, "submit", note=transfer.id,
                 fields=(*fields, "failure_kind", "failure_message", "outcome_unknown_since"))  # fmt: skip
        elif fields:
            locked.save(update_fields=fields)
    return locked


def mark_paid(disbursement: Disbursement, *, transfer_id: str) -> bool:
    """Stripe made the transfer of a locked disbursement: it is paid, whatever we believed before
    (pending, sent, unknown, even failed), and any failure noted is cleared. Never moves backwards:
    returns ``False`` (and changes nothing) once it is paid or reversed."""
    if disbursement.status not in (*OPEN_STATES, D.FAILED):
        return False
    now = timezone.now()
    disbursement.stripe_transfer_id = disbursement.stripe_transfer_id or transfer_id
    disbursement.submitted_at = disbursement.submitted_at or now
    disbursement.paid_at = now
    disbursement.failure_kind = disbursement.failure_message = ""
    disbursement.outcome_unknown_since = None
    move(disbursement, "confirm", note=transfer_id,
         fields=("stripe_transfer_id", "submitted_at", "paid_at", "failure_kind", "failure_message",
                 "outcome_unknown_since"))  # fmt: skip
    return True


def record_failure(disbursement: Disbursement, error: PaymentError) -> Disbursement:
    """Record a failed attempt. A definite refusal fails the disbursement (and its installment)
    and moves it to its next key; anything else leaves the outcome unknown, with the same key."""
    with transaction.atomic():
        locked = lock(disbursement)
        if locked.status not in (D.PENDING, D.UNKNOWN):
            return locked  # Stripe's event settled it meanwhile
        locked.failure_kind = error.kind
        fields = ["failure_kind", "failure_message"]
        if error.outcome_unknown:
            locked.failure_message = UNKNOWN_MESSAGE()[:500]
            if locked.status == D.PENDING:
                locked.outcome_unknown_since = timezone.now()
                move(locked, "outcome_unknown", note=error.kind, fields=(*fields, "outcome_unknown_since"))
            else:
                locked.save(update_fields=fields)
            return locked
        locked.failure_message = str(error.message)[:500]
        locked.key_generation += 1
        locked.outcome_unknown_since = None
        move(locked, "fail", note=error.kind, fields=(*fields, "key_generation", "outcome_unknown_since"))
        if locked.installment_id:
            installment = Installment.objects.select_related("award__fund__foundation").get(
                pk=locked.installment_id
            )
            if installment.status == InstallmentStatus.APPROVED:
                installments.transition(
                    installment, "fail", by=None, actor=SYSTEM, note=locked.failure_message
                )
        if locked.bond_id:
            from grants.services import bonds

            bonds.record_transfer_failed(locked, note=locked.failure_message)
        if locked.vendor_payment_id:
            from grants.services import vendor_payments

            vendor_payments.record_vendor_transfer_failed(locked)
    return locked


# --- Finding out what happened ---------------------------------------------------------------


def find_at_stripe(disbursement: Disbursement) -> list[Transfer]:
    """The transfers Stripe has for this disbursement (by its group and our id in the metadata),
    oldest first: normally none or one; more than one is a double payment to flag."""
    gateway = get_gateway(disbursement.foundation)
    if disbursement.transfer_group:
        candidates = gateway.list_transfers(transfer_group=disbursement.transfer_group)
    else:  # rows from before the group was stored: a window around the release
        start = disbursement.released_at - datetime.timedelta(days=1)
        candidates = gateway.list_transfers(created_from=start)
    found = [t for t in candidates if t.metadata.get("disbursement") == str(disbursement.pk)]
    found.sort(key=lambda t: (t.created or timezone.now(), t.id))
    return found


def transfer_mismatch(
    disbursement: Disbursement, *, amount: Money, destination: str, transfer_id: str
) -> str:
    """Why a transfer Stripe reports cannot be this disbursement's ("" when it matches)."""
    if amount != disbursement.amount:
        return f"amount {amount} != {disbursement.amount}"
    if destination != disbursement.payee.stripe_account_id:
        return f"destination {destination} != {disbursement.payee.stripe_account_id}"
    if disbursement.stripe_transfer_id and transfer_id != disbursement.stripe_transfer_id:
        return f"transfer {transfer_id} != {disbursement.stripe_transfer_id} (a second transfer)"
    return ""


Confirm = Callable[[Disbursement, Transfer], bool]


def settle(disbursement: Disbursement, *, confirm: Confirm) -> Attempt:
    """Find out what happened to a disbursement Stripe has not settled, and act on it.

    Looks the transfer up at Stripe first. Found: ``confirm(locked_disbursement, transfer)`` (the
    caller's "Stripe paid it", run under the locks, the same as a ``transfer.created``).
    Not found and still pending or unknown: ask again **with the same key** — within Stripe's 24
    hours the key replays the first answer, after them no request can still be running, and the
    lookup just showed no transfer, so a new one is the only one. Never runs in a transaction.
    """
    found = find_at_stripe(disbursement)
    if found:
        transfer = found[0]
        with transaction.atomic():
            locked = lock(disbursement)
            if locked.status in OPEN_STATES and not transfer_mismatch(
                locked, amount=transfer.amount, destination=transfer.destination, transfer_id=transfer.id
            ):
                confirm(locked, transfer)
        return Attempt(locked)
    if disbursement.status in (D.PENDING, D.UNKNOWN):
        return submit(disbursement)
    return Attempt(disbursement)


def needs_settling(*, older_than: datetime.timedelta, foundation: Foundation | None = None):
    """Disbursements whose outcome Stripe has not told us for ``older_than``: unknown ones, pending
    ones whose request never got an answer (a crash between commit and call), and submitted ones
    whose ``transfer.created`` never came."""
    cutoff = timezone.now() - older_than
    rows = Disbursement.objects.filter(status__in=OPEN_STATES, released_at__lt=cutoff).exclude(
        last_attempt_at__gte=cutoff
    )
    if foundation is not None:
        rows = rows.filter(foundation=foundation)
    return rows.order_by("pk")
