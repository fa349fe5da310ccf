"""The portal's daily work: ``manage.py run_daily`` (from cron or a scheduler)."""

from django.core.management.base import BaseCommand

from grants.tasks import mark_installments_due


class Command(BaseCommand):
    help = (
        "Run the portal's daily work: installments whose due date has come become due, so finance "
        "sees them in the payments to release. Safe to run more than once a day. Example cron line: "
        "'5 6 * * * cd /srv/fundportal && .venv/bin/python manage.py run_daily'. With --enqueue the "
        "work goes to the task worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="Queue the work for the task worker.")

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = mark_installments_due.enqueue()
            self.stdout.write(f"Queued the daily work ({result.id}).")
            return
        count = mark_installments_due.call()
        self.stdout.write(f"{count} installments became due.")
