"""``manage.py purge_retention [--dry-run] [--foundation slug]``: apply the retention rule now."""

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from grants.models import Foundation
from grants.services import retention


class Command(BaseCommand):
    help = (
        "Erase the attachments and sensitive answers of applications declined or withdrawn longer "
        "ago than each foundation's retention period, and anonymise donors whose last gift is older "
        "than its donor period (receipts and amounts are kept). Prints the counts per foundation. "
        "run_daily does this every day; use --dry-run to see what would be erased."
    )

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count only; change nothing.")
        parser.add_argument("--foundation", help="Only this foundation (its slug).")

    def handle(self, *args, **options):
        foundations = Foundation.objects.order_by("slug")
        if options["foundation"]:
            foundations = foundations.filter(slug=options["foundation"])
            if not foundations.exists():
                raise CommandError(f"No foundation with the slug {options['foundation']!r}.")
        results = retention.purge_all(
            today=timezone.localdate(), dry_run=options["dry_run"], foundations=list(foundations)
        )
        verb = "would be" if options["dry_run"] else "were"
        for foundation, result in results.items():
            counts = ", ".join(f"{value} {key.replace('_', ' ')}" for key, value in result.as_dict().items())
            self.stdout.write(f"{foundation.slug}: {counts} {verb} erased or anonymised.")
