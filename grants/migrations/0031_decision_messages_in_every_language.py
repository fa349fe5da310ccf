"""Decision messages keep their text like every other text staff write: ``body`` in the portal's
source language, the other languages in ``translations``. A third language is then configuration
only. Existing English and Spanish texts are moved over, and back on reverse."""

from django.conf import settings
from django.db import migrations, models


def _source() -> str:
    return settings.LANGUAGE_CODE.split("-")[0]


def forward(apps, schema_editor):
    DecisionMessage = apps.get_model("grants", "DecisionMessage")
    for message in DecisionMessage.objects.all():
        english, spanish = message.body, message.text_es  # body was text_en
        texts = {"en": english, "es": spanish}
        message.body = texts.get(_source(), english)
        message.translations = {
            code: {"body": text.strip()} for code, text in texts.items() if code != _source() and text.strip()
        }
        message.save(update_fields=["body", "translations"])


def backward(apps, schema_editor):
    DecisionMessage = apps.get_model("grants", "DecisionMessage")
    for message in DecisionMessage.objects.all():
        texts = {code: (values or {}).get("body", "") for code, values in (message.translations or {}).items()}
        texts[_source()] = message.body
        # Both columns were required: a language never written gets the other's text.
        fallback = message.body or next((text for text in texts.values() if text), "")
        message.body = texts.get("en") or fallback  # body becomes text_en again
        message.text_es = texts.get("es") or fallback
        message.save(update_fields=["body", "text_es"])


class Migration(migrations.Migration):
    dependencies = [("grants", "0030_foundation_groups")]

    operations = [
        migrations.RenameField("decisionmessage", "text_en", "body"),
        migrations.AddField(
            model_name="decisionmessage",
            name="translations",
            field=models.JSONField(
                blank=True,
                default=dict,
                help_text="The texts of this row in the portal's other languages.",
                verbose_name="translations",
            ),
        ),
        migrations.AlterField(
            model_name="decisionmessage",
            name="text_es",
            field=models.TextField(blank=True, default="", verbose_name="text in Spanish"),
        ),
        migrations.RunPython(forward, backward),
        migrations.RemoveField("decisionmessage", "text_es"),
        migrations.AlterField(
            model_name="decisionmessage", name="body", field=models.TextField(verbose_name="message")
        ),
    ]
