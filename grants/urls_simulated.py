"""URLs of the simulated Stripe's hosted pages (outside the language prefixes, like Stripe's own)."""

from django.urls import path

from grants.views import simulated_stripe

urlpatterns = [
    path("onboarding/<str:account_id>/", simulated_stripe.onboarding, name="simulated_onboarding"),
    path("checkout/<str:session_id>/", simulated_stripe.checkout, name="simulated_checkout"),
]
