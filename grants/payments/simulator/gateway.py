"""A Stripe that runs inside the portal: for the demo, for tests, never for real money.

``SimulatedGateway`` keeps Stripe-shaped objects in ``SimulatedStripeObject`` rows (one
"platform" per foundation), honours idempotency keys as Stripe does (forgetting them after 24
hours), can be scripted to fail — before doing the work, after it, or while it is in flight —
and emits the webhook events Stripe would: full event JSON, signed with the foundation's
simulated webhook secrets and delivered to the portal's webhook endpoints. Its "adverse" mode is
as unkind as Stripe's documented behaviour (see ``base``).

What people do on Stripe's side (pay on Checkout, finish onboarding, dispute a charge) is
triggered by helper methods (``complete_checkout``, ``complete_onboarding``, ``open_dispute``,
...), which the simulated hosted pages and the tests call.

The parts, by responsibility: ``base`` (storage, idempotency, adversity, balance, events),
``accounts``, ``transfers``, ``checkout`` (Checkout and billing) and ``charges`` (refunds,
disputes, payouts).
"""

from grants.payments.gateway import PaymentGateway

from .accounts import ONBOARDING_OUTCOMES, AccountsMixin
from .base import FAILURE_KINDS, processing_fee
from .charges import ChargesMixin
from .checkout import CheckoutMixin
from .transfers import TransfersMixin

__all__ = ["FAILURE_KINDS", "ONBOARDING_OUTCOMES", "SimulatedGateway", "processing_fee"]


class SimulatedGateway(AccountsMixin, TransfersMixin, CheckoutMixin, ChargesMixin, PaymentGateway):
    """The gateway of the demo and the tests (see the module docstring).

    ``deliver`` receives each signed event (a ``WebhookDelivery``); the default posts it to the
    foundation's webhook endpoint after the current transaction commits. Tests pass a list's
    ``append`` to look at the events instead.
    """
