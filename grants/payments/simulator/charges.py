"""Charges of the simulated Stripe after the payment: refunds, disputes, payouts."""

from decimal import ROUND_HALF_UP, Decimal

from djmoney.money import Money

from grants.money import to_minor_units
from grants.payments.gateway import Charge, PaymentError, Refund, charge_from_json, refund_from_json

from .base import SimulatorBase, _metadata, _now, new_id
from .models import SimulatedStripeObject

# What Stripe charges for a dispute (15.00 in the settlement currency; none for an inquiry).
DISPUTE_FEE_MINOR_UNITS = 1500
# Why a payout fails, as Stripe says it (docs.stripe.com/api/payouts/failures).
PAYOUT_FAILURE_CODES = ("account_closed", "insufficient_funds", "no_account", "invalid_account_number")


class ChargesMixin(SimulatorBase):
    """What happens to a charge later (refunds, disputes) and to the balance (payouts)."""

    def retrieve_charge(self, *, payment_intent=None, invoice=None) -> Charge:
        self._maybe_fail("retrieve_charge")
        if invoice and not payment_intent:
            payments = self._get("invoice", invoice)["payments"]["data"]
            if not payments:
                # Paid from the customer's credit balance: there is no charge to retrieve.
                raise PaymentError("invalid_request", code="resource_missing")
            payment_intent = payments[0]["payment"]["payment_intent"]
        charge_id = self._get("payment_intent", payment_intent)["latest_charge"]
        if not charge_id:
            # A bank debit still processing: no charge yet.
            raise PaymentError("invalid_request", code="resource_missing")
        charge = self._get("charge", charge_id)
        txn = self._get("balance_transaction", charge["balance_transaction"])
        return charge_from_json(charge, txn)

    def create_refund(self, *, payment_intent, amount, metadata, idempotency_key) -> Refund:
        params = {"payment_intent": payment_intent, "metadata": _metadata(metadata)}
        if amount is not None:
            params.update(amount=to_minor_units(amount), currency=str(amount.currency).lower())

        def perform(request):
            charge_id = self._get("payment_intent", payment_intent)["latest_charge"]
            charge = self._get("charge", charge_id, for_update=True)
            remaining = charge["amount"] - charge["amount_refunded"]
            value = params.get("amount", remaining)
            if params.get("currency", charge["currency"]) != charge["currency"] or not 0 < value <= remaining:
                raise PaymentError("invalid_request", code="amount_too_large")
            refund = self._save(
                "refund",
                {
                    "id": new_id("re_"),
                    "object": "refund",
                    "amount": value,
                    "charge": charge_id,
                    "created": _now(),
                    "currency": charge["currency"],
                    "metadata": params["metadata"],
                    "payment_intent": payment_intent,
                    "status": "succeeded",
                },
            )
            previous = {"amount_refunded": charge["amount_refunded"], "refunded": charge["refunded"]}
            charge["amount_refunded"] += value
            charge["refunded"] = charge["amount_refunded"] == charge["amount"]
            charge["refunds"]["data"].insert(0, refund)
            charge["refunds"]["total_count"] += 1
            self._save("charge", charge)
            # The refund leaves the balance in the settlement currency; Stripe keeps its fee.
            self._debit_for(charge, value)
            self._emit("charge.refunded", charge, request=request, previous=previous)
            return refund

        call = {
            "payment_intent": payment_intent,
            "amount": amount,
            "metadata": params["metadata"],
            "idempotency_key": idempotency_key,
        }
        refund = self._idempotent(
            "create_refund", "POST", "/v1/refunds", params, idempotency_key, perform, call
        )
        return refund_from_json(refund)

    def _debit_for(self, charge: dict, value: int, fee: int = 0) -> dict:
        """Take ``value`` (in the charge's currency) of ``charge`` and a ``fee`` from the balance,
        converted like the charge was; returns the balance transaction."""
        txn = self._get("balance_transaction", charge["balance_transaction"])
        settled = int(
            (Decimal(value) * txn["amount"] / charge["amount"]).quantize(Decimal(1), rounding=ROUND_HALF_UP)
        )
        self._move_balance(txn["currency"], -settled - fee)
        return {
            "id": new_id("txn_"),
            "object": "balance_transaction",
            "amount": -settled,
            "currency": txn["currency"],
            "created": _now(),
            "exchange_rate": txn.get("exchange_rate"),
            "fee": fee,
            "fee_details": (
                [{"amount": fee, "application": None, "currency": txn["currency"], "description": "Dispute fee",
                  "type": "stripe_fee"}]
                if fee else []
            ),
            "net": -settled - fee,
            "reporting_category": "dispute",
            "source": None,
            "status": "available",
            "type": "adjustment",
        }  # fmt: skip

    def open_dispute(self, charge_id: str, *, inquiry: bool = False) -> dict:
        """The donor's bank disputes the charge; emits ``charge.dispute.created``. Returns the dispute.

        A dispute takes the amount and Stripe's dispute fee from the balance at once
        (``balance_transactions``, and ``charge.dispute.funds_withdrawn`` as Stripe sends). An
        ``inquiry`` (status ``warning_needs_response``) only asks questions: no money moves.
        """
        self._maybe_fail("open_dispute")
        with self._operation():
            charge = self._get("charge", charge_id, for_update=True)
            if charge["disputed"]:
                raise PaymentError("invalid_request", code="charge_already_disputed")
            dispute = self._save(
                "dispute",
                {
                    "id": new_id("du_"),
                    "object": "dispute",
                    "amount": charge["amount"],
                    "balance_transactions": [],
                    "charge": charge_id,
                    "created": _now(),
                    "currency": charge["currency"],
                    "evidence_details": {
                        "due_by": _now() + 7 * 24 * 3600,
                        "has_evidence": False,
                        "past_due": False,
                        "submission_count": 0,
                    },
                    "is_charge_refundable": inquiry,
                    "livemode": False,
                    "metadata": {},
                    "payment_intent": charge["payment_intent"],
                    "reason": "fraudulent",
                    "status": "warning_needs_response" if inquiry else "needs_response",
                },
            )
            charge["disputed"] = True
            self._save("charge", charge)
            self._emit("charge.dispute.created", dispute)
            if not inquiry:
                txn = self._debit_for(charge, charge["amount"], fee=DISPUTE_FEE_MINOR_UNITS)
                txn["source"] = dispute["id"]
                self._save("balance_transaction", txn)
                dispute["balance_transactions"] = [txn]
                self._save("dispute", dispute)
                self._emit("charge.dispute.funds_withdrawn", dispute)
        return dispute

    def close_dispute(self, charge_id: str, status: str = "won") -> dict:
        """The bank decides the charge's dispute ("won" or "lost"); emits ``charge.dispute.closed``.

        An inquiry closes as ``warning_closed`` whatever ``status`` says (nothing was taken); a won
        dispute gives the amount back (``charge.dispute.funds_reinstated``), not the fee.
        """
        if status not in ("won", "lost"):
            raise ValueError('status must be "won" or "lost"')
        self._maybe_fail("close_dispute")
        with self._operation():
            rows = SimulatedStripeObject.objects.filter(platform=self.platform, kind="dispute")
            dispute = next((row.data for row in rows if row.data["charge"] == charge_id), None)
            if dispute is None or dispute["status"] in ("won", "lost", "warning_closed"):
                raise PaymentError("invalid_request", code="no_open_dispute")
            previous = {"status": dispute["status"]}
            inquiry = dispute["status"].startswith("warning_")
            dispute["status"] = "warning_closed" if inquiry else status
            if status == "won" and not inquiry:
                charge = self._get("charge", charge_id)
                txn = self._debit_for(charge, -charge["amount"])
                txn.update(source=dispute["id"], type="adjustment")
                self._save("balance_transaction", txn)
                dispute["balance_transactions"].append(txn)
                self._save("dispute", dispute)
                self._emit("charge.dispute.funds_reinstated", dispute)
            self._save("dispute", dispute)
            self._emit("charge.dispute.closed", dispute, previous=previous)
        return dispute

    def create_payout(self, amount: Money) -> dict:
        """The platform pays ``amount`` out to its bank (as Stripe's automatic payouts do):
        taken from the balance; emits ``payout.created``. Returns the payout."""
        value, currency = to_minor_units(amount), str(amount.currency).lower()
        self._maybe_fail("create_payout")
        with self._operation():
            if self._enforces_balance() and self.balance().get(currency, 0) < value:
                raise PaymentError("insufficient_balance", code="balance_insufficient")
            self._move_balance(currency, -value)
            payout = self._save(
                "payout",
                {
                    "id": new_id("po_"),
                    "object": "payout",
                    "amount": value,
                    "arrival_date": _now() + 2 * 24 * 3600,
                    "automatic": True,
                    "balance_transaction": new_id("txn_"),
                    "created": _now(),
                    "currency": currency,
                    "description": "STRIPE PAYOUT",
                    "destination": new_id("ba_"),
                    "failure_balance_transaction": None,
                    "failure_code": None,
                    "failure_message": None,
                    "livemode": False,
                    "metadata": {},
                    "method": "standard",
                    "reconciliation_status": "not_applicable",
                    "source_type": "card",
                    "status": "in_transit",
                    "type": "bank_account",
                },
            )
            self._emit("payout.created", payout)
        return payout

    def fail_payout(self, payout_id: str, *, code: str = "account_closed") -> dict:
        """The bank returns the payout: the money comes back to the balance; emits ``payout.failed``
        on the platform account (not a Connect event). Returns the payout."""
        if code not in PAYOUT_FAILURE_CODES:
            raise ValueError(f"code must be one of {PAYOUT_FAILURE_CODES}")
        self._maybe_fail("fail_payout")
        with self._operation():
            payout = self._get("payout", payout_id, for_update=True)
            if payout["status"] not in ("pending", "in_transit"):
                raise PaymentError("invalid_request", code="payout_not_pending")
            previous = {"status": payout["status"], "failure_code": None}
            self._move_balance(payout["currency"], payout["amount"])
            payout.update(
                status="failed",
                failure_code=code,
                failure_message="The bank account has been closed." if code == "account_closed" else code,
                failure_balance_transaction=new_id("txn_"),
            )
            self._save("payout", payout)
            self._emit("payout.failed", payout, previous=previous)
        return payout
