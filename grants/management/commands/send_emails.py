"""Deliver the emails that are due: ``manage.py send_emails`` (from cron every few minutes)."""

from django.core.management.base import BaseCommand

from grants.services import outbox


class Command(BaseCommand):
    help = (
        "Send the emails whose next attempt is due and the ones whose task never ran (the worker "
        "was down, or a machine crashed): each is locked while it is sent, so this is safe to run "
        "on several machines at once and next to the worker. Example cron line: "
        "'*/5 * * * * cd /srv/fundportal && .venv/bin/python manage.py send_emails'."
    )

    def handle(self, *args, **options):
        counts = outbox.send_due()
        self.stdout.write(
            f"{counts.get('sent', 0)} sent, {counts.get('retrying', 0)} to be tried again, "
            f"{counts.get('failed', 0)} not sent after the last attempt."
        )
