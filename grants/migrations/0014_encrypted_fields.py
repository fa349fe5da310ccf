# Answers to sensitive questions encrypted at rest; foundations' Stripe keys stored encrypted.
#
# The answers move from a JSON column (jsonb on PostgreSQL) to a text column of Fernet tokens:
# a new column is added, every row's answers are copied into it encrypted (with the current key
# of FIELD_ENCRYPTION_KEYS), the old column is dropped and the new one takes its name. Going
# back decrypts into a JSON column the same way.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

import grants.fields

BATCH_SIZE = 500
MODELS = ("Application", "ApplicationVersion")


def _copy(model, source: str, target: str, using: str) -> None:
    rows = model._base_manager.using(using).order_by("pk").only("pk", source)
    batch = []
    for row in rows.iterator(chunk_size=BATCH_SIZE):
        value = getattr(row, source)
        setattr(row, target, {} if value is None else value)
        batch.append(row)
        if len(batch) == BATCH_SIZE:
            model._base_manager.using(using).bulk_update(batch, [target])
            batch = []
    if batch:
        model._base_manager.using(using).bulk_update(batch, [target])


def encrypt_answers(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("grants", name)
        _copy(model, "sensitive_answers", "sensitive_answers_encrypted", schema_editor.connection.alias)


def decrypt_answers(apps, schema_editor):
    for name in MODELS:
        model = apps.get_model("grants", name)
        _copy(model, "sensitive_answers_encrypted", "sensitive_answers", schema_editor.connection.alias)


class Migration(migrations.Migration):

    dependencies = [
        ("grants", "0013_exports_and_name_consent"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="application",
            name="sensitive_answers_encrypted",
            field=grants.fields.EncryptedJSONField(null=True),
        ),
        migrations.AddField(
            model_name="applicationversion",
            name="sensitive_answers_encrypted",
            field=grants.fields.EncryptedJSONField(null=True),
        ),
        migrations.RunPython(encrypt_answers, decrypt_answers),
        migrations.RemoveField(model_name="application", name="sensitive_answers"),
        migrations.RemoveField(model_name="applicationversion", name="sensitive_answers"),
        migrations.RenameField(
            model_name="application", old_name="sensitive_answers_encrypted", new_name="sensitive_answers"
        ),
        migrations.RenameField(
            model_name="applicationversion",
            old_name="sensitive_answers_encrypted",
            new_name="sensitive_answers",
        ),
        migrations.AlterField(
            model_name="application",
            name="sensitive_answers",
            field=grants.fields.EncryptedJSONField(blank=True, default=dict),
        ),
        migrations.AlterField(
            model_name="applicationversion",
            name="sensitive_answers",
            field=grants.fields.EncryptedJSONField(default=dict),
        ),
        migrations.CreateModel(
            name="StripeAccountSecrets",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("secret_key", grants.fields.EncryptedTextField(blank=True, verbose_name="secret key")),
                ("publishable_key", models.CharField(blank=True, max_length=255, verbose_name="publishable key")),
                (
                    "webhook_secret",
                    grants.fields.EncryptedTextField(blank=True, verbose_name="webhook signing secret"),
                ),
                (
                    "connect_webhook_secret",
                    grants.fields.EncryptedTextField(blank=True, verbose_name="Connect webhook signing secret"),
                ),
                ("secret_key_last4", models.CharField(blank=True, max_length=4)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "foundation",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="stripe_secrets",
                        to="grants.foundation",
                    ),
                ),
                (
                    "updated_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "Stripe keys",
                "verbose_name_plural": "Stripe keys",
            },
        ),
    ]
