"""Every interface string has a Spanish translation, and the compiled catalogue is current."""

import gettext
from pathlib import Path

from babel.messages.pofile import read_po

LOCALE = Path(__file__).resolve().parent.parent / "locale" / "es" / "LC_MESSAGES"


def _catalog():
    with open(LOCALE / "django.po", "rb") as handle:
        return read_po(handle)


def test_spanish_catalogue_is_complete():
    untranslated = []
    for message in _catalog():
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if "fuzzy" in message.flags or not all(strings):
            untranslated.append(message.id)
    assert untranslated == []


def test_compiled_catalogue_matches_the_po_file():
    with open(LOCALE / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = []
    for message in _catalog():
        if not message.id or isinstance(message.id, tuple) or not message.string:
            continue
        looked_up = (
            compiled.pgettext(message.context, message.id)
            if message.context
            else compiled.gettext(message.id)
        )
        if looked_up != message.string:
            stale.append(message.id)
    assert stale == [], "run `make messages` to recompile locale/es/LC_MESSAGES/django.mo"
