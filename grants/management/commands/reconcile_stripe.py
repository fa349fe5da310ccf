"""``reconcile_stripe --foundation <slug> --from YYYY-MM-DD --to YYYY-MM-DD``: list the differences
between the foundation's Stripe transfers and the portal's disbursements; exit 1 when there are any.
"""

import datetime

from django.core.management.base import BaseCommand, CommandError

from grants.models import Foundation
from grants.services.reconciliation import reconcile


def _date(value: str) -> datetime.date:
    try:
        return datetime.date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"Not a date (YYYY-MM-DD): {value!r}") from None


class Command(BaseCommand):
    help = "Compare a foundation's Stripe transfers with the portal's disbursements for a period."

    def add_arguments(self, parser):
        parser.add_argument("--foundation", required=True, help="The foundation's slug.")
        parser.add_argument(
            "--from", dest="date_from", required=True, type=_date, help="First day (YYYY-MM-DD)."
        )
        parser.add_argument("--to", dest="date_to", required=True, type=_date, help="Last day (YYYY-MM-DD).")

    def handle(self, *args, foundation, date_from, date_to, **options):
        row = Foundation.objects.filter(slug=foundation).first()
        if row is None:
            raise CommandError(f"No foundation {foundation!r}.")
        if date_to < date_from:
            raise CommandError("--to is before --from.")
        differences = reconcile(row, date_from=date_from, date_to=date_to)
        for difference in differences:
            self.stdout.write(str(difference))
        if differences:
            self.stdout.write(f"{len(differences)} difference(s) between Stripe and the portal.")
            raise SystemExit(1)
        self.stdout.write(f"Stripe and the portal agree for {foundation}, {date_from} to {date_to}.")
