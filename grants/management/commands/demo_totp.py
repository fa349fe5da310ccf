"""Print the current authenticator code of the demo staff logins (demo mode only)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from grants.demo_mfa import current_demo_code


class Command(BaseCommand):
    help = "Print the current two-factor code of the demo staff logins (demo mode only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError("demo_totp only runs in demo mode (DJANGO_DEBUG=1).")
        self.stdout.write(current_demo_code())
