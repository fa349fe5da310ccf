# The models moved here from the grants app (its 0005_simulated_stripe created the tables): this
# migration only adds them to this app's state; the tables keep their names and their rows.

from django.db import migrations, models


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        ("grants", "0005_simulated_stripe"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="SimulatedIdempotencyKey",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("platform", models.CharField(max_length=80)),
                        ("key", models.CharField(max_length=255)),
                        ("method", models.CharField(max_length=8)),
                        ("path", models.CharField(max_length=255)),
                        ("fingerprint", models.CharField(max_length=64)),
                        ("response", models.JSONField()),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                    ],
                    options={
                        "db_table": "grants_simulatedidempotencykey",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("platform", "key"), name="simstripe_unique_idempotency_key"
                            )
                        ],
                    },
                ),
                migrations.CreateModel(
                    name="SimulatedStripeObject",
                    fields=[
                        ("id", models.CharField(max_length=64, primary_key=True, serialize=False)),
                        ("platform", models.CharField(db_index=True, max_length=80)),
                        ("kind", models.CharField(max_length=40)),
                        ("data", models.JSONField(default=dict)),
                        ("created_at", models.DateTimeField(auto_now_add=True)),
                        ("updated_at", models.DateTimeField(auto_now=True)),
                    ],
                    options={
                        "db_table": "grants_simulatedstripeobject",
                        "indexes": [
                            models.Index(fields=["platform", "kind", "created_at"], name="simstripe_kind_idx")
                        ],
                    },
                ),
            ],
            database_operations=[],
        ),
    ]
