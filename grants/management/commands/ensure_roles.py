"""Create or update the staff role groups and their admin permissions (run after each upgrade).

Also brings every foundation's part of Wagtail in step: its section pages, its collection, and
its per-role groups with their page and collection permissions and members.
"""

from django.core.management.base import BaseCommand

from grants.models import Foundation
from grants.services.staff import ensure_role_groups, sync_foundation_access


class Command(BaseCommand):
    help = "Create or update one Django group per staff role, and each foundation's Wagtail permissions."

    def handle(self, *args, **options):
        groups = ensure_role_groups()
        self.stdout.write(self.style.SUCCESS(f"{len(groups)} role groups are up to date."))
        foundations = list(Foundation.objects.all())
        for foundation in foundations:
            sync_foundation_access(foundation)
        self.stdout.write(
            self.style.SUCCESS(f"{len(foundations)} foundations' Wagtail permissions are up to date.")
        )
