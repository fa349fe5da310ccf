"""Stripe objects and events as Stripe sends them, for tests that post events themselves.

Each builder starts from the shape of Stripe's own example object (the OpenAPI fixtures of
``stripe/openapi``: checkout.session, charge, balance_transaction, dispute, invoice, payout,
subscription, refund, event), with the fields Stripe really fills in, including those the portal
does not read, and ``None`` where Stripe sends null. Tests override what their story needs.
"""

import copy
import itertools
import time

_ids = itertools.count(1)


def new_id(prefix: str) -> str:
    return f"{prefix}{time.time_ns()}{next(_ids)}"


def _merge(base: dict, overrides: dict) -> dict:
    result = copy.deepcopy(base)
    result.update(overrides)
    return result


CHECKOUT_SESSION = {
    "adaptive_pricing": {"enabled": False},
    "after_expiration": None,
    "allow_promotion_codes": None,
    "amount_subtotal": 5000,
    "amount_total": 5000,
    "automatic_tax": {"enabled": False, "liability": None, "status": None, "provider": None},
    "billing_address_collection": None,
    "cancel_url": "https://example.com/cancel",
    "client_reference_id": None,
    "client_secret": None,
    "collected_information": {"shipping_details": None},
    "consent": None,
    "consent_collection": None,
    "created": 1234567890,
    "currency": "usd",
    "currency_conversion": None,
    "custom_fields": [],
    "custom_text": {
        "after_submit": None,
        "shipping_address": None,
        "submit": None,
        "terms_of_service_acceptance": None,
    },  # fmt: skip
    "customer": "cus_QXg1o8vcGmoR32",
    "customer_creation": "if_required",
    "customer_details": {
        "address": {
            "city": None,
            "country": "US",
            "line1": None,
            "line2": None,
            "postal_code": "94110",
            "state": None,
        },
        "email": "example@example.com",
        "name": "Jenny Rosen",
        "phone": None,
        "tax_exempt": "none",
        "tax_ids": [],
    },  # fmt: skip
    "customer_email": "example@example.com",
    "discounts": [],
    "expires_at": 1234654290,
    "id": "cs_test_a1YS1URlnyQCN5fUUduORoQ7Pw41PJqDWkIVQCpJPqkfIhd6tVY8XB1OLY",
    "invoice": None,
    "invoice_creation": None,
    "livemode": False,
    "locale": None,
    "metadata": {},
    "mode": "payment",
    "object": "checkout.session",
    "payment_intent": "pi_1PgafyB7WZ01zgkWSjxsAJo3",
    "payment_link": None,
    "payment_method_collection": "if_required",
    "payment_method_configuration_details": {"id": "pmc_1", "parent": None},
    "payment_method_options": {"card": {"request_three_d_secure": "automatic"}},
    "payment_method_types": ["card", "us_bank_account"],
    "payment_status": "paid",
    "phone_number_collection": {"enabled": False},
    "recovered_from": None,
    "saved_payment_method_options": None,
    "setup_intent": None,
    "shipping_address_collection": None,
    "shipping_cost": None,
    "shipping_options": [],
    "status": "complete",
    "submit_type": None,
    "subscription": None,
    "success_url": "https://example.com/success",
    "total_details": {"amount_discount": 0, "amount_shipping": 0, "amount_tax": 0},
    "ui_mode": "hosted",
    "url": None,
    "wallet_options": None,
}

CHARGE = {
    "amount": 5000,
    "amount_captured": 5000,
    "amount_refunded": 0,
    "application": None,
    "application_fee": None,
    "application_fee_amount": None,
    "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40",
    "billing_details": {
        "address": {
            "city": None,
            "country": None,
            "line1": None,
            "line2": None,
            "postal_code": None,
            "state": None,
        },
        "email": None,
        "name": "Jenny Rosen",
        "phone": None,
        "tax_id": None,
    },  # fmt: skip
    "calculated_statement_descriptor": "FUND PORTAL",
    "captured": True,
    "created": 1234567890,
    "currency": "usd",
    "customer": None,
    "description": None,
    "disputed": False,
    "failure_balance_transaction": None,
    "failure_code": None,
    "failure_message": None,
    "fraud_details": {},
    "id": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
    "livemode": False,
    "metadata": {},
    "object": "charge",
    "on_behalf_of": None,
    "outcome": {
        "advice_code": None,
        "network_advice_code": None,
        "network_decline_code": None,
        "network_status": "approved_by_network",
        "reason": None,
        "risk_level": "normal",
        "seller_message": "Payment complete.",
        "type": "authorized",
    },  # fmt: skip
    "paid": True,
    "payment_intent": "pi_1PgafyB7WZ01zgkWSjxsAJo3",
    "payment_method": "card_1PgaftB7WZ01zgkWm3waTcFp",
    "payment_method_details": {
        "card": {
            "brand": "visa",
            "country": "US",
            "exp_month": 8,
            "exp_year": 2030,
            "funding": "credit",
            "last4": "4242",
            "network": "visa",
        },
        "type": "card",
    },  # fmt: skip
    "receipt_email": None,
    "receipt_number": None,
    "receipt_url": "https://pay.stripe.com/receipts/payment/CAcaFwoV",
    "refunded": False,
    "review": None,
    "shipping": None,
    "source_transfer": None,
    "statement_descriptor": None,
    "statement_descriptor_suffix": None,
    "status": "succeeded",
    "transfer_data": None,
    "transfer_group": None,
}

BALANCE_TRANSACTION = {
    "amount": 5000,
    "available_on": 1234567890,
    "balance_type": "payments",
    "created": 1234567890,
    "currency": "usd",
    "description": None,
    "exchange_rate": None,
    "fee": 175,
    "fee_details": [
        {
            "amount": 175,
            "application": None,
            "currency": "usd",
            "description": "Stripe processing fees",
            "type": "stripe_fee",
        }
    ],  # fmt: skip
    "id": "txn_1PgaxNB7WZ01zgkWEV3TLf40",
    "net": 4825,
    "object": "balance_transaction",
    "reporting_category": "charge",
    "source": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
    "status": "pending",
    "type": "charge",
}

DISPUTE = {
    "amount": 5000,
    "balance_transactions": [],
    "charge": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
    "created": 1234567890,
    "currency": "usd",
    "enhanced_eligibility_types": [],
    "evidence": {"customer_name": None, "product_description": None, "uncategorized_text": None},
    "evidence_details": {
        "due_by": 1723679999,
        "has_evidence": False,
        "past_due": False,
        "submission_count": 0,
        "enhanced_eligibility": {},
    },  # fmt: skip
    "id": "dp_1Pgc71B7WZ01zgkWMevJiAUx",
    "is_charge_refundable": True,
    "livemode": False,
    "metadata": {},
    "object": "dispute",
    "payment_intent": "pi_1PgafyB7WZ01zgkWSjxsAJo3",
    "payment_method_details": {
        "card": {"brand": "visa", "case_type": "inquiry", "network_reason_code": "10.4"},
        "type": "card",
    },  # fmt: skip
    "reason": "general",
    "status": "warning_needs_response",
}

INVOICE = {
    "account_country": "US",
    "account_name": "Bay Area Foundation",
    "amount_due": 2500,
    "amount_overpaid": 0,
    "amount_paid": 2500,
    "amount_remaining": 0,
    "amount_shipping": 0,
    "attempt_count": 1,
    "attempted": True,
    "auto_advance": False,
    "billing_reason": "subscription_cycle",
    "collection_method": "charge_automatically",
    "created": 1234567890,
    "currency": "usd",
    "customer": "cus_QXg1o8vcGmoR32",
    "customer_email": "example@example.com",
    "default_payment_method": None,
    "description": None,
    "discounts": [],
    "due_date": None,
    "ending_balance": 0,
    "hosted_invoice_url": "https://invoice.stripe.com/i/acct_1/test_1",
    "id": "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
    "invoice_pdf": None,
    "issuer": {"type": "self"},
    "last_finalization_error": None,
    "lines": {"data": [], "has_more": False, "object": "list", "url": "/v1/invoices/in_1/lines"},
    "livemode": False,
    "metadata": {},
    "next_payment_attempt": None,
    "number": "ABCD-0001",
    "object": "invoice",
    "on_behalf_of": None,
    # From API version 2025-03-31 the subscription and its metadata are under ``parent``, and the
    # invoice names no payment intent (``payments`` is not included in events).
    "parent": {
        "quote_details": None,
        "subscription_details": {"metadata": {}, "subscription": "sub_1"},
        "type": "subscription_details",
    },  # fmt: skip
    "period_end": 1234567890,
    "period_start": 1234567890,
    "post_payment_credit_notes_amount": 0,
    "pre_payment_credit_notes_amount": 0,
    "receipt_number": None,
    "starting_balance": 0,
    "statement_descriptor": None,
    "status": "paid",
    "status_transitions": {
        "finalized_at": 1234567890,
        "marked_uncollectible_at": None,
        "paid_at": 1234567890,
        "voided_at": None,
    },  # fmt: skip
    "subtotal": 2500,
    "total": 2500,
    "webhooks_delivered_at": 1234567890,
}

SUBSCRIPTION = {
    "application": None,
    "billing_cycle_anchor": 1234567890,
    "cancel_at": None,
    "cancel_at_period_end": False,
    "canceled_at": None,
    "cancellation_details": {"comment": None, "feedback": None, "reason": None},
    "collection_method": "charge_automatically",
    "created": 1234567890,
    "currency": "usd",
    "customer": "cus_QXg1o8vcGmoR32",
    "days_until_due": None,
    "default_payment_method": "pm_1",
    "ended_at": None,
    "id": "sub_1Pgc6rB7WZ01zgkWNy0Cn5nw",
    "items": {"data": [], "has_more": False, "object": "list", "url": "/v1/subscription_items"},
    "latest_invoice": "in_1Pgc6tB7WZ01zgkWu9fdqL6I",
    "livemode": False,
    "metadata": {},
    "object": "subscription",
    "pause_collection": None,
    "start_date": 1234567890,
    "status": "active",
}

REFUND = {
    "amount": 1000,
    "balance_transaction": "txn_2",
    "charge": "ch_1PgafuB7WZ01zgkWXYmPNZs8",
    "created": 1234567890,
    "currency": "usd",
    "destination_details": {"card": {"type": "refund"}, "type": "card"},
    "failure_balance_transaction": None,
    "failure_reason": None,
    "id": "re_1Pgc72B7WZ01zgkWqPvrRrPE",
    "metadata": {},
    "object": "refund",
    "payment_intent": "pi_1PgafyB7WZ01zgkWSjxsAJo3",
    "reason": None,
    "receipt_number": None,
    "source_transfer_reversal": None,
    "status": "succeeded",
    "transfer_reversal": None,
}

PAYOUT = {
    "amount": 1100,
    "application_fee": None,
    "application_fee_amount": None,
    "arrival_date": 1234567890,
    "automatic": True,
    "balance_transaction": "txn_1PgaxNB7WZ01zgkWEV3TLf40",
    "created": 1234567890,
    "currency": "usd",
    "description": "STRIPE PAYOUT",
    "destination": "ba_1Pgc79B7WZ01zgkWoU5vBiXt",
    "failure_balance_transaction": "txn_3",
    "failure_code": "account_closed",
    "failure_message": "The bank account has been closed.",
    "id": "po_1Pgc79B7WZ01zgkWu1KToYf4",
    "livemode": False,
    "metadata": {},
    "method": "standard",
    "object": "payout",
    "original_payout": None,
    "reconciliation_status": "not_applicable",
    "reversed_by": None,
    "source_type": "card",
    "statement_descriptor": None,
    "status": "failed",
    "trace_id": {"status": "unsupported", "value": None},
    "type": "bank_account",
}


def checkout_session(**overrides) -> dict:
    return _merge(CHECKOUT_SESSION, overrides)


def charge(**overrides) -> dict:
    return _merge(CHARGE, overrides)


def balance_transaction(**overrides) -> dict:
    return _merge(BALANCE_TRANSACTION, overrides)


def dispute(**overrides) -> dict:
    return _merge(DISPUTE, overrides)


def invoice(**overrides) -> dict:
    return _merge(INVOICE, overrides)


def subscription(**overrides) -> dict:
    return _merge(SUBSCRIPTION, overrides)


def refund(**overrides) -> dict:
    return _merge(REFUND, overrides)


def payout(**overrides) -> dict:
    return _merge(PAYOUT, overrides)


def event(type_: str, obj: dict, *, created: int | None = None, account: str | None = None,
          previous_attributes: dict | None = None) -> dict:  # fmt: skip
    """An event envelope as Stripe delivers it (API version 2025-03-31)."""
    data = {"object": obj}
    if previous_attributes is not None:
        data["previous_attributes"] = previous_attributes
    envelope = {
        "api_version": "2025-03-31.basil",
        "created": int(time.time()) if created is None else created,
        "data": data,
        "id": new_id("evt_"),
        "livemode": False,
        "object": "event",
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": type_,
    }
    if account:
        envelope["account"] = account
    return envelope
