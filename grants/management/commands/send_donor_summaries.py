"""Donors' yearly giving summaries: ``manage.py send_donor_summaries --year 2026``."""

from django.core.management.base import BaseCommand, CommandError

from grants.models import Foundation
from grants.services.receipts import send_donor_summaries


class Command(BaseCommand):
    help = (
        "Email every donor who gave in --year one summary of their gifts that year (net of refunds, "
        "with the total per currency and the foundation's tax statement), in the donor's language. "
        "A donor gets a year's summary at most once, so running it again sends nothing twice. "
        "Run it in January for the year before; --foundation limits it to one foundation (by slug)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="Calendar year of the gifts.")
        parser.add_argument("--foundation", help="Slug of the one foundation whose donors to email.")

    def handle(self, *args, **options):
        foundation = None
        if options["foundation"]:
            foundation = Foundation.objects.filter(slug=options["foundation"]).first()
            if foundation is None:
                raise CommandError(f"No foundation with slug {options['foundation']!r}.")
        sent = send_donor_summaries(options["year"], foundation=foundation)
        self.stdout.write(f"Sent {sent} donor summary email(s) for {options['year']}.")
