"""``manage.py demo_scheduler``: cron's work for the demo, every few minutes (``make demo``)."""

import io
import logging
import time

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

logger = logging.getLogger(__name__)

# What production runs from cron (README, "Running in production"); each is safe to run again:
# run_daily does nothing twice, and an officer gets at most one digest in 20 hours.
JOBS = ("run_daily", "send_digests")


class Command(BaseCommand):
    help = (
        "Demo mode only: run the scheduled jobs (run_daily: payments fall due, report reminders, "
        "expired exports, the retention rule, Stripe events and payments left waiting, emails to "
        "retry; send_digests: the officers' digest) now and then every --every minutes, until "
        "stopped. `make demo` starts it beside the web server."
    )

    def add_arguments(self, parser):
        parser.add_argument("--every", type=float, default=5, help="Minutes between two runs (default 5).")
        parser.add_argument("--once", action="store_true", help="Run the jobs once and stop.")

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("demo_scheduler only runs in demo mode (DJANGO_DEBUG=1).")
        while True:
            self.run_jobs()
            if options["once"]:
                return
            time.sleep(max(options["every"], 0.1) * 60)

    def run_jobs(self):
        for job in JOBS:
            out = io.StringIO()
            try:
                call_command(job, stdout=out)
            except Exception:  # one failing job must not stop the demo's clock
                logger.exception("Scheduled job %s failed", job)
                continue
            stamp = timezone.localtime().strftime("%H:%M")
            self.stdout.write(f"[scheduler {stamp}] {job}: {out.getvalue().strip()}")
