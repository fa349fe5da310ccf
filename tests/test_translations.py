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


def test_every_gettext_alias_is_extracted():
    """``makemessages`` extracts ``_`` and Django's own names, plus ``_t`` (the portal's
    makemessages command): a module importing gettext under any other name would keep its
    strings out of the catalogue, in English for every reader."""
    import re

    root = Path(__file__).resolve().parent.parent
    alias = re.compile(
        r"import (?:gettext|gettext_lazy|pgettext|pgettext_lazy|ngettext|ngettext_lazy) as (\w+)"
    )
    found = {}
    for directory in ("grants", "cms", "fundportal"):
        for path in (root / directory).rglob("*.py"):
            for name in alias.findall(path.read_text()):
                found.setdefault(name, []).append(str(path.relative_to(root)))
    unknown = {name: paths for name, paths in found.items() if name not in ("_", "_t")}
    assert unknown == {}


def test_makemessages_knows_the_t_alias():
    from grants.management.commands.makemessages import Command

    assert "--keyword=_t" in Command.xgettext_options
