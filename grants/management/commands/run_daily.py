"""The portal's daily work: ``manage.py run_daily`` (from cron or a scheduler)."""

from django.core.management.base import BaseCommand

from grants.services.payouts import describe
from grants.tasks import (
    apply_pending_webhook_events,
    mark_installments_due,
    purge_expired_exports,
    purge_retention_task,
    send_bond_check_reminders_task,
    send_due_emails_task,
    send_report_reminders_task,
    settle_payouts_task,
)


class Command(BaseCommand):
    help = (
        "Run the portal's daily work: installments whose due date has come become due (so finance "
        "sees them in the payments to release), and grantees are reminded of spending reports due "
        "in 7 days, due today or overdue (weekly), with the next payment held where the call says "
        "so; expired export files are deleted; each foundation's retention rule is applied (files "
        "and sensitive answers of old declined or withdrawn applications, contact details of donors "
        "gone quiet, government references of settled bonds); finance staff are reminded of bonds out longer than the foundation's period; Stripe events whose task was lost are applied; payments Stripe left unsettled (a timeout, "
        "an error that does not say whether it paid) are looked up at Stripe and settled; emails the mail server refused are tried again. Safe to run more than once a day. Example cron line: "
        "'5 6 * * * cd /srv/fundportal && .venv/bin/python manage.py run_daily'. With --enqueue the "
        "work goes to the task worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--enqueue", action="store_true", help="Queue the work for the task worker.")

    def handle(self, *args, **options):
        if options["enqueue"]:
            for task in (
                mark_installments_due,
                send_report_reminders_task,
                purge_expired_exports,
                purge_retention_task,
                send_bond_check_reminders_task,
                apply_pending_webhook_events,
                settle_payouts_task,
                send_due_emails_task,
            ):
                result = task.enqueue()
                self.stdout.write(f"Queued {task.name} ({result.id}).")
            return
        due = mark_installments_due.call()
        reminders = send_report_reminders_task.call()
        purged = purge_expired_exports.call()
        retained = purge_retention_task.call()
        bonds_to_check = send_bond_check_reminders_task.call()
        applied = apply_pending_webhook_events.call()
        settled = settle_payouts_task.call()
        emails = send_due_emails_task.call()
        self.stdout.write(
            f"{due} installments became due. {reminders} report reminders sent. {purged} expired exports deleted."
            f" {retained} applications and donors erased under the retention rule."
            f" {bonds_to_check} bonds to check on named in reminders to finance staff."
            f" {applied} Stripe events left waiting were applied."
            f" Payments waiting for Stripe: {describe(settled)}"
            f" Emails waiting: {emails.get('sent', 0)} sent, {emails.get('retrying', 0)} to be tried again."
        )
