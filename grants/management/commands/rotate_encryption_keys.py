"""``manage.py rotate_encryption_keys [--dry-run]``: re-encrypt every encrypted value with the
current key (the first of FIELD_ENCRYPTION_KEYS).

Runbook: add the new key first in FIELD_ENCRYPTION_KEYS (keeping the old one after it), deploy
everywhere, run this command until it reports nothing left to re-encrypt and no errors, then
remove the old key and deploy again.

Every encrypted column of every model is found through the app registry; the second factor's
secrets (allauth's authenticator rows: an app's secret, the recovery codes' seed) are rotated
too, and any still stored in the clear from before encryption are encrypted. Rows are read in
batches by primary key; each batch is one transaction that locks its rows (PostgreSQL), so a
value the portal writes meanwhile is never overwritten with an older one. Values already under
the current key are left alone, so the command can be stopped and run again at any time. A
value no configured key opens is reported by primary key (never shown) and left as it is; the
command then exits with an error, and the old key must stay until those rows are dealt with.
"""

from dataclasses import dataclass, field

from allauth.mfa.models import Authenticator
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.db.models.functions import Cast

from grants import crypto
from grants.fields import encrypted_fields

SHOWN_FAILURES = 20


@dataclass
class FieldRotation:
    """What happened to one encrypted column."""

    label: str
    rotated: int = 0
    current: int = 0
    empty: int = 0
    failed: list = field(default_factory=list)


def rotate_field(model, model_field, *, dry_run: bool = False, batch_size: int = 500) -> FieldRotation:
    """Re-encrypt ``model_field`` of every row of ``model`` under the current key (counting only,
    with ``dry_run``). Works on the stored tokens: no plaintext is held longer than one value."""
    label = f"{model._meta.label}.{model_field.name}"
    result = FieldRotation(label)
    manager = model._base_manager
    last_pk = None
    while True:
        with transaction.atomic():
            queryset = manager.order_by("pk")
            if last_pk is not None:
                queryset = queryset.filter(pk__gt=last_pk)
            if not dry_run:
                queryset = queryset.select_for_update()
            # The raw token, as stored: the cast keeps the field from decrypting it.
            rows = list(
                queryset.annotate(stored_token=Cast(model_field.name, models.TextField())).values_list(
                    "pk", "stored_token"
                )[:batch_size]
            )
            if not rows:
                break
            for pk, token in rows:
                if not token:
                    result.empty += 1
                    continue
                if crypto.is_current(token):
                    result.current += 1
                    continue
                try:
                    rotated = crypto.rotate(token, what=f"{label} of row {pk}")
                except crypto.DecryptionError:
                    result.failed.append(pk)
                    continue
                result.rotated += 1
                if not dry_run:
                    manager.filter(pk=pk).update(
                        **{model_field.name: models.Value(rotated, output_field=models.TextField())}
                    )
            last_pk = rows[-1][0]
    return result


AUTHENTICATOR_SECRETS = ("secret", "seed")  # the app's TOTP secret; the recovery codes' seed


def _renewed(value: str, *, what: str) -> str | None:
    """``value`` under the current key, or ``None`` when it already is."""
    if not crypto.is_token(value):
        return crypto.encrypt(value)  # stored in the clear before encryption was turned on
    if crypto.is_current(value):
        return None
    return crypto.rotate(value, what=what)


def rotate_authenticators(*, dry_run: bool = False, batch_size: int = 500) -> FieldRotation:
    """Re-encrypt (or encrypt, if still in the clear) each authenticator's secrets under the
    current key, counting values; rows are locked batch by batch as for the model fields."""
    result = FieldRotation("mfa.Authenticator secrets")
    last_pk = 0
    while True:
        with transaction.atomic():
            queryset = Authenticator.objects.filter(pk__gt=last_pk).order_by("pk")
            if not dry_run:
                queryset = queryset.select_for_update()
            rows = list(queryset[:batch_size])
            if not rows:
                break
            for authenticator in rows:
                data, changed = dict(authenticator.data or {}), False
                values = [(name, data.get(name)) for name in AUTHENTICATOR_SECRETS]
                values += [
                    (("migrated_codes", i), code) for i, code in enumerate(data.get("migrated_codes") or [])
                ]
                for where, value in values:
                    if not value:
                        continue
                    try:
                        renewed = _renewed(value, what=f"{result.label} of row {authenticator.pk}")
                    except crypto.DecryptionError:
                        result.failed.append(authenticator.pk)
                        continue
                    if renewed is None:
                        result.current += 1
                        continue
                    result.rotated += 1
                    changed = True
                    if isinstance(where, tuple):
                        data["migrated_codes"] = list(data["migrated_codes"])
                        data["migrated_codes"][where[1]] = renewed
                    else:
                        data[where] = renewed
                if changed and not dry_run:
                    Authenticator.objects.filter(pk=authenticator.pk).update(data=data)
            last_pk = rows[-1].pk
    return result


class Command(BaseCommand):
    help = (
        "Re-encrypt every encrypted value (sensitive answers, stored Stripe secrets...) with the "
        "first key of FIELD_ENCRYPTION_KEYS, in batches, one transaction per batch; values already "
        "under that key are left alone, so it is safe to run again. Rotation: put the new key first "
        "in FIELD_ENCRYPTION_KEYS, deploy, run this command, then remove the old key."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--dry-run", action="store_true", help="Count what would be re-encrypted; change nothing."
        )
        parser.add_argument("--batch-size", type=int, default=500, help="Rows per transaction (500).")

    def handle(self, *args, **options):
        dry_run, batch_size = options["dry_run"], options["batch_size"]
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        keys = crypto.configured_keys()
        if len(keys) == 1:
            self.stdout.write(
                "Only one key is configured: values written under any other key cannot be opened."
            )
        rotated_word = "to re-encrypt" if dry_run else "re-encrypted"
        results = [
            rotate_field(model, model_field, dry_run=dry_run, batch_size=batch_size)
            for model, model_field in encrypted_fields()
        ]
        results.append(rotate_authenticators(dry_run=dry_run, batch_size=batch_size))
        for result in results:
            line = (
                f"{result.label}: {result.rotated} {rotated_word}, {result.current} already under the "
                f"current key, {result.empty} empty"
            )
            if result.failed:
                line += f", {len(result.failed)} that no key opens"
            self.stdout.write(line + ".")
        total = sum(result.rotated for result in results)
        failures = [result for result in results if result.failed]
        if failures:
            details = "; ".join(
                f"{result.label} rows {', '.join(map(str, result.failed[:SHOWN_FAILURES]))}"
                + (" …" if len(result.failed) > SHOWN_FAILURES else "")
                for result in failures
            )
            raise CommandError(
                f"Some values could not be decrypted with any key in FIELD_ENCRYPTION_KEYS ({details}). "
                "They were left as they are. Do not remove any key until they are dealt with: restore "
                "the key they were written with (after the current one) and run this command again."
            )
        if dry_run:
            self.stdout.write(f"Dry run: {total} values would be re-encrypted; nothing was changed.")
        else:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Done: {total} values re-encrypted. Every encrypted value is now under the current "
                    "key; keys after the first may be removed from FIELD_ENCRYPTION_KEYS."
                )
            )
