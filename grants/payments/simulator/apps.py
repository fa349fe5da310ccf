from django.apps import AppConfig


class SimulatorConfig(AppConfig):
    """The simulated Stripe: its own app so that its tables and code stay apart from the portal's."""

    name = "grants.payments.simulator"
    label = "stripe_sim"
    verbose_name = "Simulated Stripe"
    default_auto_field = "django.db.models.BigAutoField"
