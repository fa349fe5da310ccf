"""Text staff write about money (fund names, receipt statements, award conditions…) in every
language the portal speaks.

A translated field keeps its column, written in the portal's source language
(``settings.LANGUAGE_CODE``); the other languages of ``settings.LANGUAGES`` live in one JSON
column, ``translations = {"es": {"name": "…"}}``. ``translated(obj, "name")`` reads the active
language and falls back to the source (or any language that has the text), so the public never
sees an empty name. Adding a language is a line in ``settings.LANGUAGES`` and its translation
files: no column, no code. See docs/decisions.md, "Domain text in every language".
"""

from django.conf import settings
from django.db import models
from django.utils import translation
from django.utils.translation import gettext_lazy as _


def source_language() -> str:
    """The language the columns themselves are written in."""
    return settings.LANGUAGE_CODE.split("-")[0]


def translation_languages() -> list[tuple[str, str]]:
    """``(code, name)`` of every language kept in ``translations`` (all but the source)."""
    return [(code, name) for code, name in settings.LANGUAGES if code != source_language()]


def _language(language: str | None) -> str:
    code = language or translation.get_language() or settings.LANGUAGE_CODE
    return code.split("-")[0].lower()


def text_in(obj, field: str, language: str) -> str:
    """``field`` exactly as written in ``language`` ("" when not written): no fallback."""
    if language == source_language():
        return getattr(obj, field) or ""
    return str(((getattr(obj, "translations", None) or {}).get(language) or {}).get(field) or "").strip()


def translated(obj, field: str, language: str | None = None) -> str:
    """``field`` of ``obj`` in ``language`` (default: the active one), else in the source
    language, else in any language that has it."""
    wanted = _language(language)
    order = [wanted, source_language()] + [code for code, _name in settings.LANGUAGES]
    for code in dict.fromkeys(order):
        text = text_in(obj, field, code)
        if text:
            return text
    return ""


def missing_translations(obj) -> list[tuple[str, str]]:
    """``(field, language code)`` of every text written in one language but not yet in another:
    what staff see marked "not translated yet"."""
    missing = []
    for field in type(obj).translated_fields:
        written = [code for code, _name in settings.LANGUAGES if text_in(obj, field, code)]
        if not written:
            continue
        missing += [(field, code) for code, _name in settings.LANGUAGES if code not in written]
    return missing


class TranslatedText(models.Model):
    """Gives a model ``translations`` for its ``translated_fields`` (see the module docstring)."""

    translated_fields: tuple[str, ...] = ()

    translations = models.JSONField(
        _("translations"),
        default=dict,
        blank=True,
        help_text=_("The texts of this row in the portal's other languages."),
    )

    class Meta:
        abstract = True

    def text(self, field: str, language: str | None = None) -> str:
        return translated(self, field, language)
