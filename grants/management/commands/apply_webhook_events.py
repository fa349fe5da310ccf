"""Apply Stripe events stored but not yet applied (their task was lost): ``manage.py apply_webhook_events``."""

from django.core.management.base import BaseCommand

from grants.payments.webhooks import apply_pending


class Command(BaseCommand):
    help = (
        "Apply Stripe webhook events that were stored and answered but not applied yet (for "
        "example when the task queue was down). Each event is applied once, under a lock on its "
        "row; safe to run at any time."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=60,
            help="Only events received at least this many seconds ago (default 60).",
        )

    def handle(self, *args, **options):
        applied = apply_pending(older_than_seconds=options["older_than"])
        self.stdout.write(f"{applied} Stripe events applied.")
