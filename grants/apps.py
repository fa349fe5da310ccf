from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def _check_gift_date_index(sender, using, **kwargs):
    """After every ``migrate``: the donations list's index is built for the current TIME_ZONE."""
    from django.db import connections

    from grants.indexes import ensure_gift_date_index

    ensure_gift_date_index(connections[using])


class GrantsConfig(AppConfig):
    name = "grants"
    verbose_name = _("Grants")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        post_migrate.connect(_check_gift_date_index, sender=self, dispatch_uid="grants.gift_date_index")
        from grants.services.staff import connect_membership_signals

        connect_membership_signals()
