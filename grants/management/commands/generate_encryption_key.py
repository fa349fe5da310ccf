"""``manage.py generate_encryption_key``: print a new key for FIELD_ENCRYPTION_KEYS."""

from django.core.management.base import BaseCommand

from grants.crypto import generate_key


class Command(BaseCommand):
    help = (
        "Print a new random Fernet key for FIELD_ENCRYPTION_KEYS (only the key, on one line). "
        "Keep it with the portal's other secrets: whoever loses every key loses the encrypted "
        "answers and stored Stripe keys. To rotate, put the new key first in the list, deploy, run "
        "rotate_encryption_keys, then remove the old key."
    )
    requires_system_checks = []

    def handle(self, *args, **options):
        self.stdout.write(generate_key())
