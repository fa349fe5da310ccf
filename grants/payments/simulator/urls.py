"""URLs of the simulated Stripe's hosted pages (outside the language prefixes, like Stripe's own)."""

from django.urls import path

from . import views

urlpatterns = [
    path("onboarding/<str:account_id>/", views.onboarding, name="simulated_onboarding"),
    path("checkout/<str:session_id>/", views.checkout, name="simulated_checkout"),
]
