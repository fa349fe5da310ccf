"""Settle payments Stripe left unsettled: ``manage.py settle_payouts``."""

import datetime

from django.core.management.base import BaseCommand

from grants.services.payouts import describe, settle_open_disbursements


class Command(BaseCommand):
    help = (
        "Ask Stripe what happened to payments whose outcome it has not told the portal (a timeout, "
        "a server error, a request still running, a confirmation that never arrived). A transfer "
        "Stripe has is recorded as paid; only when Stripe has none is the payment asked for again, "
        "with the same idempotency key. Safe to run at any time, on several machines."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--older-than",
            type=int,
            default=300,
            help="Only payments Stripe has been silent about for this many seconds (default 300).",
        )

    def handle(self, *args, **options):
        counts = settle_open_disbursements(older_than=datetime.timedelta(seconds=options["older_than"]))
        self.stdout.write(describe(counts))
