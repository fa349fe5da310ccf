"""Form fields for translated text: one input per language, side by side, marked when missing.

The source-language input is the model field itself (``name``); every other language of
``settings.LANGUAGES`` gets ``<field>_<code>`` (``name_es``). Staff see "Not translated yet"
under an empty translation whose source is written, so a missing Spanish fund name is visible
before a donor meets the English one.
"""

from django import forms
from django.conf import settings
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel
from wagtail.admin.ui.tables import Column

from grants.models import missing_translations, source_language, text_in, translation_languages

NOT_TRANSLATED = _("Not translated yet: readers of this language see the text in another language.")


def input_name(field: str, code: str) -> str:
    return f"{field}_{code}"


def language_name(code: str) -> str:
    return str(dict(settings.LANGUAGES).get(code, code))


def _translation_field(model, field: str, code: str) -> forms.Field:
    model_field = model._meta.get_field(field)
    form_field = model_field.formfield(required=False)
    # Lazy: the form classes are built at import, the label is read in the staff member's language.
    form_field.label = format_lazy(
        "{} ({})", capfirst(model_field.verbose_name), dict(settings.LANGUAGES).get(code, code)
    )
    form_field.required = False
    return form_field


def add_translation_fields(form: forms.BaseForm, model, *, instance=None, fields=None) -> None:
    """Add the other languages' inputs of ``model``'s translated fields to ``form`` (a plain or
    model form), filled from ``instance``; label the source input with its language; mark
    empty translations of written texts."""
    for field in fields or model.translated_fields:
        if field in form.fields:
            source_label = form.fields[field].label or model._meta.get_field(field).verbose_name
            form.fields[field].label = f"{source_label} ({language_name(source_language())})"
        for code, _name in translation_languages():
            name = input_name(field, code)
            if name not in form.fields:
                form.fields[name] = _translation_field(model, field, code)
            if instance is not None and not form.is_bound:
                form.initial.setdefault(name, text_in(instance, field, code))
            if (
                instance is not None
                and text_in(instance, field, source_language())
                and not text_in(instance, field, code)
            ):
                form.fields[name].help_text = NOT_TRANSLATED


def translations_from(cleaned_data: dict, model, *, fields=None, current: dict | None = None) -> dict:
    """``{code: {field: text}}`` from the cleaned inputs (blank ones dropped), kept fields of
    ``current`` not on the form untouched."""
    translations = {code: dict(values) for code, values in (current or {}).items()}
    for field in fields or model.translated_fields:
        for code, _name in translation_languages():
            name = input_name(field, code)
            if name not in cleaned_data:
                continue
            text = (cleaned_data.get(name) or "").strip()
            if text:
                translations.setdefault(code, {})[field] = text
            else:
                translations.get(code, {}).pop(field, None)
    return {code: values for code, values in translations.items() if values}


def translated_model_form(model, base=WagtailAdminModelForm) -> type:
    """A Wagtail admin model form for ``model`` with the other languages' inputs declared (so
    panels can place them) and saved into ``translations``."""
    declared = {
        input_name(field, code): _translation_field(model, field, code)
        for field in model.translated_fields
        for code, _name in translation_languages()
    }

    def __init__(self, *args, **kwargs):
        base.__init__(self, *args, **kwargs)
        add_translation_fields(self, model, instance=self.instance if self.instance.pk else None)

    def save(self, commit=True):
        self.instance.translations = translations_from(
            self.cleaned_data, model, current=self.instance.translations
        )
        return base.save(self, commit)

    return type(f"Translated{model.__name__}Form", (base,), {**declared, "__init__": __init__, "save": save})


def translation_row(field: str) -> FieldRowPanel:
    """``field`` in every language, side by side."""
    return FieldRowPanel(
        [FieldPanel(field)] + [FieldPanel(input_name(field, code)) for code, _name in translation_languages()]
    )


def missing_label(obj) -> str:
    """What a listing shows for a row: "Not translated yet: Spanish", or nothing."""
    codes = dict.fromkeys(code for _field, code in missing_translations(obj))
    if not codes:
        return ""
    return _("Not translated yet: %(languages)s") % {"languages": ", ".join(language_name(c) for c in codes)}


def translation_column() -> Column:
    return Column("translations", label=_("Translations"), accessor=missing_label)
