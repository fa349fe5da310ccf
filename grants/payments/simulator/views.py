"""Stand-ins for Stripe's hosted pages (Connect onboarding, Checkout) in simulated mode.

They exist only when ``settings.STRIPE_GATEWAY == "simulated"`` (404 otherwise). Like Stripe's
pages they need no login: the account and session ids in the URL are unguessable. What the
person chooses is passed to the ``SimulatedGateway`` helpers, which emit the webhook events.
"""

from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from grants.models import Foundation
from grants.money import from_minor_units
from grants.payments.gateway import PaymentError

from .gateway import ONBOARDING_OUTCOMES, SimulatedGateway
from .models import SimulatedStripeObject

TEST_CARD = "4242 4242 4242 4242"


def _simulated_object(object_id: str, kind: str) -> tuple[SimulatedGateway, dict]:
    if settings.STRIPE_GATEWAY != "simulated":
        raise Http404
    row = get_object_or_404(SimulatedStripeObject, id=object_id, kind=kind)
    foundation = get_object_or_404(Foundation, slug=row.platform)
    return SimulatedGateway(foundation), row.data


def _safe_url(request, url: str) -> str:
    # The URLs come from the query string (onboarding) or from the portal (checkout); either way
    # only send people back to this site.
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return "/"


@never_cache
@require_http_methods(["GET", "POST"])
def onboarding(request, account_id):
    """Stripe's Express onboarding: the grantee submits complete details, leaves some out, or is restricted."""
    gateway, account = _simulated_object(account_id, "account")
    return_url = request.GET.get("return_url", "")
    if request.method == "POST":
        outcome = request.POST.get("outcome")
        if outcome in ONBOARDING_OUTCOMES:
            gateway.complete_onboarding(account_id, outcome)
            return redirect(_safe_url(request, return_url))
    return render(request, "payments/simulated/onboarding.html", {"account": account})


@never_cache
@require_http_methods(["GET", "POST"])
def checkout(request, session_id):
    """Stripe Checkout: the donor pays with a test card or cancels.

    The card 4000 0000 0000 0002 is declined: the page says so and nothing is recorded.
    """
    gateway, session = _simulated_object(session_id, "checkout.session")
    card_number, error = TEST_CARD, ""
    if request.method == "POST" and session["status"] == "open":
        if "cancel" in request.POST:
            return redirect(_safe_url(request, session["cancel_url"]))
        card_number = request.POST.get("card_number", "")[:40]
        try:
            gateway.complete_checkout(session_id, card_number=card_number)
        except PaymentError as exc:
            error = exc.message
        else:
            # Stripe fills in this placeholder so the success page can look the session up.
            success_url = session["success_url"].replace("{CHECKOUT_SESSION_ID}", session_id)
            return redirect(_safe_url(request, success_url))
    context = {
        "session": session,
        "product_name": session.get("_sim", {}).get("product_name", ""),
        "amount": from_minor_units(session["amount_total"], session["currency"]),
        "card_number": card_number,
        "error": error,
    }
    return render(request, "payments/simulated/checkout.html", context)
