"""``manage.py demo_serve [addrport]``: the demo's web server with its scheduler (``make demo``)."""

import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grants.demo_processes import run_together


class Command(BaseCommand):
    help = (
        "Demo mode only: serve the portal (runserver) and, in the background, run the demo's "
        "scheduler (`manage.py demo_scheduler`: the daily jobs and the officers' digest every few "
        "minutes, so payments fall due, reminders and retried emails go out without cron). "
        "Ctrl-C, or the end of the web server, stops both."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--every",
            type=float,
            default=5,
            help="Minutes between two runs of the scheduled jobs (default 5).",
        )

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("demo_serve only runs in demo mode (DJANGO_DEBUG=1).")
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        code = run_together(
            [*manage, "runserver", options["addrport"]],
            [[*manage, "demo_scheduler", "--every", str(options["every"])]],
        )
        if code:
            raise CommandError(f"The web server stopped with exit code {code}.", returncode=code)
