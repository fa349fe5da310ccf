"""Stripe's webhook endpoints, one pair per foundation (outside the language prefixes)."""

from django.urls import path

from grants.payments import webhooks

urlpatterns = [
    path("<slug:foundation>/", webhooks.platform_webhook, name="stripe_webhook"),
    path("<slug:foundation>/connect/", webhooks.connect_webhook, name="stripe_connect_webhook"),
]
