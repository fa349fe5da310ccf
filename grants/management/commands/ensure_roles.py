"""Create or update the staff role groups and their admin permissions (run after each upgrade)."""

from django.core.management.base import BaseCommand

from grants.services.staff import ensure_role_groups


class Command(BaseCommand):
    help = "Create or update one Django group per staff role with the admin permissions it needs."

    def handle(self, *args, **options):
        groups = ensure_role_groups()
        self.stdout.write(self.style.SUCCESS(f"{len(groups)} role groups are up to date."))
