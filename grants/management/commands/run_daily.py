"""The portal's daily work: ``manage.py run_daily`` (from cron or a scheduler)."""

from django.core.management.base import BaseCommand

from grants.tasks import mark_installments_due, purge_expired_exports, send_report_reminders_task


class Command(BaseCommand):
    help = (
        "Run the portal's daily work: installments whose due date has come become due (so finance "
        "sees them in the payments to release), and grantees are reminded of spending reports due "
        "in 7 days, due today or overdue (weekly), with the next payment held where the call says "
        "so; expired export files are deleted. Safe to run more than once a day. Example cron line: "
        "'5 6 * * * cd /srv/fundportal && .venv/bin/python manage.py run_daily'. With --enqueue the "
        "work goes to the task worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="Queue the work for the task worker.")

    def handle(self, *args, **options):
        if options["enqueue"]:
            for task in (mark_installments_due, send_report_reminders_task, purge_expired_exports):
                result = task.enqueue()
                self.stdout.write(f"Queued {task.name} ({result.id}).")
            return
        due = mark_installments_due.call()
        reminders = send_report_reminders_task.call()
        purged = purge_expired_exports.call()
        self.stdout.write(
            f"{due} installments became due. {reminders} report reminders sent. {purged} expired exports deleted."
        )
