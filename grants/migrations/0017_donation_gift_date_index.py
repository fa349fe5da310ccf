"""The donations list's sort index (PostgreSQL only; see grants/indexes.py)."""

from django.db import migrations


def create(apps, schema_editor):
    from grants.indexes import ensure_gift_date_index

    ensure_gift_date_index(schema_editor.connection)


def drop(apps, schema_editor):
    from grants.indexes import drop_gift_date_index

    drop_gift_date_index(schema_editor.connection)


class Migration(migrations.Migration):
    dependencies = [("grants", "0016_webhook_event_received")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
