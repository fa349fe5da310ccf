"""Checkout and billing of the simulated Stripe: sessions, payments, subscriptions, invoices."""

from decimal import ROUND_HALF_UP, Decimal

from django.urls import reverse

from grants.money import check_money, currency_exponent, to_minor_units
from grants.payments.gateway import CheckoutSession, PaymentError, checkout_session_from_json

from .base import DECLINED_CARD, SimulatorBase, _metadata, _normalise_card, _now, new_id, processing_fee

# How a donor can pay on the simulated Checkout page: a card settles at once; a bank debit
# (SEPA, ACH) completes the session unpaid and settles days later (``settle_bank_debit``).
PAYMENT_METHODS = ("card", "bank_debit")


class CheckoutMixin(SimulatorBase):
    """Donations: Checkout sessions, the payments they make, subscriptions and their invoices."""

    def create_checkout_session(
        self,
        *,
        mode,
        amount,
        product_name,
        success_url,
        cancel_url,
        customer_email,
        metadata,
        idempotency_key,
    ) -> CheckoutSession:
        if mode not in ("payment", "subscription"):
            raise ValueError('mode must be "payment" or "subscription"')
        check_money(amount)
        metadata = _metadata(metadata)
        currency = str(amount.currency).lower()
        price_data = {
            "currency": currency,
            "product_data": {"name": product_name},
            "unit_amount": to_minor_units(amount),
        }
        if mode == "subscription":
            price_data["recurring"] = {"interval": "month"}
        params = {
            "mode": mode,
            "line_items": [{"price_data": price_data, "quantity": 1}],
            "success_url": success_url,
            "cancel_url": cancel_url,
            "customer_email": customer_email,
            "metadata": metadata,
            ("payment_intent_data" if mode == "payment" else "subscription_data"): {"metadata": metadata},
        }

        def perform(request):
            session_id = new_id("cs_test_")
            created = _now()
            return self._save(
                "checkout.session",
                {
                    "id": session_id,
                    "object": "checkout.session",
                    "amount_subtotal": price_data["unit_amount"],
                    "amount_total": price_data["unit_amount"],
                    "cancel_url": cancel_url,
                    "created": created,
                    "currency": currency,
                    "customer": None,
                    "customer_details": None,
                    "customer_email": customer_email,
                    "expires_at": created + 24 * 3600,
                    "livemode": False,
                    "metadata": metadata,
                    "mode": mode,
                    "payment_intent": None,
                    "payment_status": "unpaid",
                    "status": "open",
                    "subscription": None,
                    "success_url": success_url,
                    "url": reverse("simulated_checkout", args=[session_id]),
                    "_sim": {"product_name": product_name},
                },
            )

        call = {
            "mode": mode,
            "amount": amount,
            "product_name": product_name,
            "success_url": success_url,
            "cancel_url": cancel_url,
            "customer_email": customer_email,
            "metadata": metadata,
            "idempotency_key": idempotency_key,
        }
        session = self._idempotent(
            "create_checkout_session", "POST", "/v1/checkout/sessions", params, idempotency_key, perform, call
        )
        return checkout_session_from_json(session)

    def checkout_session(self, session_id: str) -> dict:
        """The stored session with the simulator's notes (product name), for the hosted page."""
        return self._get("checkout.session", session_id)

    def complete_checkout(
        self, session_id: str, *, card_number: str = "4242 4242 4242 4242", payment_method: str = "card"
    ) -> CheckoutSession:
        """The donor pays on the Checkout page.

        Emits ``checkout.session.completed``; in subscription mode also
        ``customer.subscription.created`` and ``invoice.paid``. The decline test card
        (4000 0000 0000 0002) raises ``PaymentError("card_declined")`` and records nothing.
        With ``payment_method="bank_debit"`` (payment mode only) the session completes with
        ``payment_status: "unpaid"`` and no charge: ``settle_bank_debit`` decides later.
        """
        if payment_method not in PAYMENT_METHODS:
            raise ValueError(f"payment_method must be one of {PAYMENT_METHODS}")
        self._maybe_fail("complete_checkout")
        with self._operation():
            session = self._get("checkout.session", session_id, for_update=True)
            if session["status"] != "open":
                raise PaymentError("invalid_request", code="checkout_session_not_open")
            if _normalise_card(card_number) == DECLINED_CARD:
                raise PaymentError("card_declined", code="card_declined")
            customer = self._save(
                "customer",
                {
                    "id": new_id("cus_"),
                    "object": "customer",
                    "email": session["customer_email"],
                    "created": _now(),
                },
            )
            session.update(
                status="complete",
                payment_status="paid",
                customer=customer["id"],
                customer_details={"email": session["customer_email"], "name": None},
            )
            if payment_method == "bank_debit":
                if session["mode"] != "payment":
                    raise ValueError("the simulator takes bank debits for one-off payments only")
                payment_intent = self._payment_intent(
                    new_id("pi_"), session["amount_total"], session["currency"], session["metadata"],
                    customer=customer["id"], charge_id=None, status="processing",
                )  # fmt: skip
                session.update(payment_status="unpaid", payment_intent=payment_intent["id"])
                session["payment_method_types"] = ["sepa_debit"]
                self._save("checkout.session", session)
                self._emit("checkout.session.completed", session)
            elif session["mode"] == "payment":
                payment_intent, _ = self._pay(
                    session["amount_total"], session["currency"], session["metadata"], customer=customer["id"]
                )
                session["payment_intent"] = payment_intent["id"]
                self._save("checkout.session", session)
                self._emit("checkout.session.completed", session)
            else:
                subscription = self._save(
                    "subscription",
                    {
                        "id": new_id("sub_"),
                        "object": "subscription",
                        "created": _now(),
                        "currency": session["currency"],
                        "customer": customer["id"],
                        "metadata": session["metadata"],
                        "status": "active",
                        "canceled_at": None,
                        "ended_at": None,
                        "items": {
                            "object": "list",
                            "data": [
                                {
                                    "id": new_id("si_"),
                                    "object": "subscription_item",
                                    "price": {
                                        "id": new_id("price_"),
                                        "object": "price",
                                        "currency": session["currency"],
                                        "unit_amount": session["amount_total"],
                                        "recurring": {"interval": "month", "interval_count": 1},
                                    },
                                    "quantity": 1,
                                }
                            ],
                        },
                    },
                )
                session["subscription"] = subscription["id"]
                self._save("checkout.session", session)
                self._emit("checkout.session.completed", session)
                self._emit("customer.subscription.created", subscription)
                self._invoice(subscription, billing_reason="subscription_create")
        return checkout_session_from_json(session)

    def settle_bank_debit(self, session_id: str, *, succeeded: bool = True) -> dict:
        """The bank debit of a completed session clears (days later): emits
        ``checkout.session.async_payment_succeeded`` (with the charge made now) or
        ``checkout.session.async_payment_failed`` (no money). Returns the session.
        """
        self._maybe_fail("settle_bank_debit")
        with self._operation():
            session = self._get("checkout.session", session_id, for_update=True)
            if session["status"] != "complete" or session["payment_status"] != "unpaid":
                raise PaymentError("invalid_request", code="payment_intent_unexpected_state")
            pending = self._get("payment_intent", session["payment_intent"])
            if pending["status"] != "processing":
                raise PaymentError("invalid_request", code="payment_intent_unexpected_state")
            if succeeded:
                self._pay(
                    session["amount_total"], session["currency"], session["metadata"],
                    customer=session["customer"], payment_intent_id=pending["id"],
                )  # fmt: skip
                session["payment_status"] = "paid"
                self._save("checkout.session", session)
                self._emit(
                    "checkout.session.async_payment_succeeded", session, previous={"payment_status": "unpaid"}
                )
            else:
                pending.update(
                    status="requires_payment_method",
                    last_payment_error={"code": "insufficient_funds", "type": "card_error"},
                )
                self._save("payment_intent", pending)
                self._emit("checkout.session.async_payment_failed", session)
        return session

    def expire_checkout(self, session_id: str) -> dict:
        """The donor never paid and the session's 24 hours ran out: emits ``checkout.session.expired``."""
        self._maybe_fail("expire_checkout")
        with self._operation():
            session = self._get("checkout.session", session_id, for_update=True)
            if session["status"] != "open":
                raise PaymentError("invalid_request", code="checkout_session_not_open")
            session["status"] = "expired"
            self._save("checkout.session", session)
            self._emit("checkout.session.expired", session, previous={"status": "open"})
        return session

    def renew_subscription(self, subscription_id: str, *, outcome: str = "paid") -> dict:
        """A month has passed: the subscription is billed again. Returns the invoice.

        ``outcome`` "paid": the card is charged, ``invoice.paid``. "failed": the card is declined,
        ``invoice.payment_failed`` and ``customer.subscription.updated`` to ``past_due``.
        "credit_balance": the customer's credit balance pays it, ``invoice.paid`` with no payment
        at all (nothing charged, no fee). A past-due subscription paid again becomes active.
        """
        if outcome not in ("paid", "failed", "credit_balance"):
            raise ValueError('outcome must be "paid", "failed" or "credit_balance"')
        self._maybe_fail("renew_subscription")
        with self._operation():
            subscription = self._get("subscription", subscription_id, for_update=True)
            if subscription["status"] not in ("active", "past_due"):
                raise PaymentError("invalid_request", code="subscription_not_active")
            invoice = self._invoice(subscription, billing_reason="subscription_cycle", outcome=outcome)
            status = "past_due" if outcome == "failed" else "active"
            if subscription["status"] != status:
                previous = {"status": subscription["status"]}
                subscription["status"] = status
                self._save("subscription", subscription)
                self._emit("customer.subscription.updated", subscription, previous=previous)
        return invoice

    def cancel_subscription(self, *, subscription_id) -> None:
        self._maybe_fail("cancel_subscription")
        with self._operation():
            subscription = self._get("subscription", subscription_id, for_update=True)
            if subscription["status"] == "canceled":
                return
            subscription.update(status="canceled", canceled_at=_now(), ended_at=_now())
            self._save("subscription", subscription)
            self._emit("customer.subscription.deleted", subscription, previous={"status": "active"})

    def _invoice(self, subscription: dict, *, billing_reason: str, outcome: str = "paid") -> dict:
        item = subscription["items"]["data"][0]
        amount, currency = item["price"]["unit_amount"], subscription["currency"]
        invoice_id = new_id("in_")
        payments = []
        if outcome == "paid":
            # Stripe does not copy a subscription's metadata onto its invoices' payments.
            payment_intent, _ = self._pay(amount, currency, {}, customer=subscription["customer"])
            payments = [
                {
                    "id": new_id("inpay_"),
                    "object": "invoice_payment",
                    "amount_paid": amount,
                    "currency": currency,
                    "invoice": invoice_id,
                    "is_default": True,
                    "payment": {"type": "payment_intent", "payment_intent": payment_intent["id"]},
                    "status": "paid",
                }
            ]
        customer = self._get("customer", subscription["customer"])
        # The invoice as API version 2025-03-31.basil and later show it: the subscription and its
        # metadata under ``parent.subscription_details``, the payment under ``payments``.
        invoice = self._save(
            "invoice",
            {
                "id": invoice_id,
                "object": "invoice",
                "amount_due": amount,
                "amount_paid": amount,
                "amount_remaining": 0,
                "billing_reason": billing_reason,
                "created": _now(),
                "currency": currency,
                "customer": subscription["customer"],
                "customer_email": customer["email"],
                "lines": {
                    "object": "list",
                    "data": [
                        {
                            "id": new_id("il_"),
                            "object": "line_item",
                            "amount": amount,
                            "currency": currency,
                            "metadata": subscription["metadata"],
                            "parent": {
                                "type": "subscription_item_details",
                                "subscription_item_details": {
                                    "subscription": subscription["id"],
                                    "subscription_item": item["id"],
                                },
                            },
                        }
                    ],
                },
                "parent": {
                    "type": "subscription_details",
                    "quote_details": None,
                    "subscription_details": {
                        "metadata": subscription["metadata"],
                        "subscription": subscription["id"],
                    },
                },
                "payments": {"object": "list", "data": payments, "has_more": False},
                "status": "paid",
                "status_transitions": {"paid_at": _now()},
            },
        )
        if outcome == "failed":
            invoice.update(
                amount_paid=0,
                amount_remaining=amount,
                attempt_count=1,
                attempted=True,
                next_payment_attempt=_now() + 3 * 24 * 3600,
                status="open",
                status_transitions={"paid_at": None},
            )
            self._save("invoice", invoice)
            self._emit("invoice.payment_failed", invoice)
        elif outcome == "credit_balance":
            # Paid from the customer's credit balance: nothing due, nothing paid by card.
            invoice.update(amount_due=0, amount_paid=0, starting_balance=-amount, ending_balance=0)
            self._save("invoice", invoice)
            self._emit("invoice.paid", invoice)
        else:
            self._emit("invoice.paid", invoice)
        return invoice

    def _pay(
        self,
        amount: int,
        currency: str,
        metadata: dict,
        *,
        customer: str,
        payment_intent_id: str | None = None,
    ) -> tuple[dict, dict]:
        """A successful payment: payment intent, charge and its balance transaction with the fee.

        The balance transaction is in the platform's settlement currency (``set_settlement``):
        a EUR charge on a USD platform settles ``amount × exchange_rate`` dollars, and the fee
        and net are in dollars. The net is added to the platform balance.
        """
        payment_intent_id = payment_intent_id or new_id("pi_")
        charge_id, txn_id = new_id("ch_"), new_id("txn_")
        settlement = self.config().get("settlement") or {}
        settled_currency = settlement.get("currency", currency)
        exchange_rate = None
        settled = amount
        if settled_currency != currency:
            exchange_rate = Decimal(settlement["exchange_rate"])
            major = Decimal(amount) / 10 ** currency_exponent(currency)
            settled = int(
                (major * exchange_rate * 10 ** currency_exponent(settled_currency)).quantize(
                    Decimal(1), rounding=ROUND_HALF_UP
                )
            )
        fee = processing_fee(settled, settled_currency)
        self._save(
            "balance_transaction",
            {
                "id": txn_id,
                "object": "balance_transaction",
                "amount": settled,
                "available_on": _now(),
                "balance_type": "payments",
                "created": _now(),
                "currency": settled_currency,
                "description": None,
                "exchange_rate": float(exchange_rate) if exchange_rate is not None else None,
                "fee": fee,
                "fee_details": [
                    {
                        "amount": fee,
                        "application": None,
                        "currency": settled_currency,
                        "description": "Stripe processing fees",
                        "type": "stripe_fee",
                    }
                ],
                "net": settled - fee,
                "reporting_category": "charge",
                "source": charge_id,
                "status": "available",
                "type": "charge",
            },
        )
        self._move_balance(settled_currency, settled - fee)
        charge = self._save(
            "charge",
            {
                "id": charge_id,
                "object": "charge",
                "amount": amount,
                "amount_captured": amount,
                "amount_refunded": 0,
                "balance_transaction": txn_id,
                "captured": True,
                "created": _now(),
                "currency": currency,
                "customer": customer,
                "disputed": False,
                "metadata": metadata,
                "paid": True,
                "payment_intent": payment_intent_id,
                "refunded": False,
                "refunds": {"object": "list", "data": [], "has_more": False, "total_count": 0},
                "status": "succeeded",
            },
        )
        payment_intent = self._payment_intent(
            payment_intent_id,
            amount,
            currency,
            metadata,
            customer=customer,
            charge_id=charge_id,
            status="succeeded",
        )
        return payment_intent, charge

    def _payment_intent(
        self,
        payment_intent_id: str,
        amount: int,
        currency: str,
        metadata: dict,
        *,
        customer,
        charge_id,
        status,
    ) -> dict:
        return self._save(
            "payment_intent",
            {
                "id": payment_intent_id,
                "object": "payment_intent",
                "amount": amount,
                "amount_received": amount if status == "succeeded" else 0,
                "currency": currency,
                "customer": customer,
                "last_payment_error": None,
                "latest_charge": charge_id,
                "metadata": metadata,
                "status": status,
                "created": _now(),
            },
        )
