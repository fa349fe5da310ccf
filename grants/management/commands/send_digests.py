"""Daily officer digest: ``manage.py send_digests`` (see ``grants.tasks``)."""

from django.core.management.base import BaseCommand

from grants.tasks import send_officer_digests


class Command(BaseCommand):
    help = (
        "Email each program officer and foundation admin one digest: new submissions and "
        "resubmissions since their last digest (the first one covers 24 hours), reviews still "
        "waiting REVIEW_OVERDUE_DAYS days (setting, default 7) after assignment, and "
        "rapid-response applications past their decision target. Officers with nothing to report "
        "get nothing; an officer gets at most one digest in 20 hours, so running it again the same "
        "day sends nothing twice. Run it once a day from cron or your scheduler, for example "
        "'0 7 * * * cd /srv/fundportal && .venv/bin/python manage.py send_digests'. "
        "With --enqueue the work goes to the task worker instead of running here."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--enqueue",
            action="store_true",
            help="Queue the digest task for the task worker instead of sending now.",
        )

    def handle(self, *args, **options):
        if options["enqueue"]:
            result = send_officer_digests.enqueue()
            self.stdout.write(f"Queued the officer digest task ({result.id}).")
            return
        sent = send_officer_digests.call()
        self.stdout.write(f"Sent {sent} officer digest(s).")
