"""The site name and tagline in every language: the Spanish columns move into ``translations``
(like other staff-written text), so a language added later gets its own name without a column."""

from django.db import migrations, models

FIELDS = {"site_name": "site_name_es", "tagline": "tagline_es"}


def columns_to_translations(apps, schema_editor):
    for branding in apps.get_model("cms", "BrandingSettings").objects.all():
        spanish = {field: getattr(branding, column) for field, column in FIELDS.items() if getattr(branding, column)}
        branding.translations = {"es": spanish} if spanish else {}
        branding.save(update_fields=["translations"])


def translations_to_columns(apps, schema_editor):
    for branding in apps.get_model("cms", "BrandingSettings").objects.all():
        spanish = (branding.translations or {}).get("es", {})
        for field, column in FIELDS.items():
            setattr(branding, column, (spanish.get(field) or "")[:200 if field == "tagline" else 100])
        branding.save(update_fields=list(FIELDS.values()))


class Migration(migrations.Migration):
    dependencies = [
        ("cms", "0010_number_questions_and_counts"),
    ]

    operations = [
        migrations.AddField(
            model_name="brandingsettings",
            name="translations",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The texts of this row in the portal's other languages.",
                verbose_name="translations",
            ),
        ),
        migrations.RunPython(columns_to_translations, translations_to_columns),
        migrations.RemoveField(model_name="brandingsettings", name="site_name_es"),
        migrations.RemoveField(model_name="brandingsettings", name="tagline_es"),
    ]
