"""A pseudo-locale for tests: every translatable string of the portal and of the libraries it
shows (Django, Wagtail, allauth, …) bracketed and accented, so that text which never went
through a translation catalogue stands out.

``build_catalogue(directory)`` writes ``<directory>/eo/LC_MESSAGES/django.mo``; the test adds the
language ``eo`` to the settings (``pseudo_settings``) — configuration and a catalogue, no code,
which is how a real language is added (docs/decisions.md "Adding a language"). The pseudo
catalogue takes a real language code that the portal does not offer (Esperanto), so Django's and
Babel's locale data (dates, numbers, currencies) are those of a language nobody configured for
the portal, as they would be for any new language.

``untranslated(html, user_content)`` lists the visible text of a page (text nodes and the
attributes a person reads or hears) that is neither pseudo-translated nor user content.
"""

import html as html_lib
import re
from html.parser import HTMLParser
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from django.apps import apps
from django.conf import settings

CODE = "eo"
LOCALE_DIR_NAME = "eo"
OPEN, CLOSE = "⟦", "⟧"

ACCENTED = dict(
    zip(
        "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ",
        "áƀçđéƒĝĥíĵķĺḿñóþǫŕšťúṽŵẋýžÁƁÇĐÉƑĜĤÍĴĶĹḾÑÓÞǪŔŠŤÚṼŴẊÝŽ",
        strict=True,
    )
)
# Parts of a message that code or markup reads: placeholders, tags, entities, template variables.
KEEP = re.compile(
    r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[a-zA-Z]|%[-#0 +]*\d*(?:\.\d+)?[sdifr%]|\{[^{}]*\}|<[^>]+>|&[#\w]+;"
)


def pseudo(text: str) -> str:
    """ "Hello %(name)s <b>now</b>" → "⟦Ĥéĺĺó %(name)s <b>ñóŵ</b>⟧" (empty stays empty)."""
    if not text:
        return text
    parts, last = [], 0
    for match in KEEP.finditer(text):
        parts.append("".join(ACCENTED.get(ch, ch) for ch in text[last : match.start()]))
        parts.append(match.group(0))
        last = match.end()
    parts.append("".join(ACCENTED.get(ch, ch) for ch in text[last:]))
    return OPEN + "".join(parts) + CLOSE


def source_catalogues() -> list[Path]:
    """Every gettext catalogue the portal shows text from: the project's (its Spanish catalogue
    holds every msgid) and the English source catalogue of each installed app and of Django."""
    found = [Path(settings.BASE_DIR) / "locale" / "es" / "LC_MESSAGES" / "django.po"]
    import django

    roots = [Path(django.__file__).parent / "conf"] + [Path(app.path) for app in apps.get_app_configs()]
    for root in roots:
        for language in ("en", "es"):
            po = root / "locale" / language / "LC_MESSAGES" / "django.po"
            if po.exists():
                found.append(po)
                break
    return found


# Library messages that are data, not sentences: a pseudo translation would break the code that
# splits or parses them (Django's yesno default "yes,no,maybe").
NOT_PSEUDO = {"yes,no,maybe"}


def build_catalogue(directory: Path) -> Path:
    catalogue = Catalog(locale="en", domain="django", charset="utf-8")
    seen = set()
    for path in source_catalogues():
        with path.open("rb") as handle:
            source = read_po(handle, charset="utf-8")
        for message in source:
            if not message.id or (message.context, message.id) in seen:
                continue
            seen.add((message.context, message.id))
            if isinstance(message.id, (list, tuple)):
                singular, plural = message.id[0], message.id[1]
                strings = (pseudo(singular), pseudo(plural))
            else:
                strings = message.id if message.id in NOT_PSEUDO else pseudo(message.id)
            catalogue.add(message.id, strings, context=message.context)
    target = directory / LOCALE_DIR_NAME / "LC_MESSAGES"
    target.mkdir(parents=True, exist_ok=True)
    with (target / "django.mo").open("wb") as handle:
        write_mo(handle, catalogue)
    return target / "django.mo"


def pseudo_settings(directory: Path) -> dict:
    """The settings that add the pseudo-language: nothing else changes."""
    languages = [*settings.LANGUAGES, (CODE, "Pseudo")]
    return {
        "LANGUAGES": languages,
        "WAGTAILADMIN_PERMITTED_LANGUAGES": languages,
        "LOCALE_PATHS": [directory, *settings.LOCALE_PATHS],
    }


# ---------------------------------------------------------------------------------------------
# Reading a page as a person does


SKIP_ELEMENTS = {"script", "style", "template", "noscript", "svg", "code", "pre", "textarea"}
HIDDEN = "[hidden]"
READ_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "aria-description", "label"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}


class _Reader(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.chunks: list[tuple[str, str]] = []  # (where, text)

    def _skipping(self) -> bool:
        return any(tag in SKIP_ELEMENTS or tag == HIDDEN for tag in self.stack)

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if not self._skipping() and "hidden" not in attributes:
            for name, value in attrs:
                if value and name in READ_ATTRIBUTES:
                    self.chunks.append((f"<{tag} {name}>", value))
            if (
                tag == "input"
                and attributes.get("type") in ("submit", "button", "reset")
                and attributes.get("value")
            ):
                self.chunks.append((f"<{tag} value>", attributes["value"]))
        if tag not in VOID:
            self.stack.append(tag)
            if "hidden" in attributes:
                self.stack.append(HIDDEN)

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag not in VOID and self.stack and self.stack[-1] == tag:
            self.stack.pop()

    def handle_endtag(self, tag):
        if tag in self.stack:
            while self.stack:
                if self.stack.pop() == tag:
                    break

    def handle_data(self, data):
        if not self._skipping() and data.strip():
            where = self.stack[-1] if self.stack else "document"
            self.chunks.append((f"<{where}>", data))


def visible_text(document: str) -> list[tuple[str, str]]:
    reader = _Reader()
    reader.feed(document)
    reader.close()
    return reader.chunks


BRACKETED = re.compile(f"{OPEN}[^{OPEN}{CLOSE}]*{CLOSE}")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
URL = re.compile(r"(https?://|/)[^\s]+")
WORD = re.compile(r"[A-Za-z]{2,}")
# Not words of any language: currency codes and signs, units and the portal's brand-free codes.
NOT_WORDS = {"USD", "EUR", "MXN", "GBP", "CAD", "US", "PDF", "CSV", "XLSX", "ODS", "OK", "ID", "IBAN", "UTC"}


REFERENCE = re.compile(r"\b[A-Z0-9]+(?:-[A-Z0-9]+)+\b")  # receipt numbers, references: BAY-AREA-000001
ZONE = re.compile(r"\b[A-Z][A-Za-z_-]+(?:/[A-Za-z_+-]+)+")  # IANA time zones: America/Los_Angeles
ABBREVIATION = re.compile(r"\b[A-Z]{2,5}\b")  # currency codes, time zones (PST), file kinds (PDF)


def locale_words(language: str, zones=()) -> set[str]:
    """Words that come from a language's locale data rather than a catalogue: its own name and
    the literal words of its date formats (Esperanto's "6-a de decembro 2026, je 14:00")."""
    from django.utils import formats, translation

    words = set()
    from babel.numbers import get_currency_name
    from django.utils.translation import get_language_info
    from djmoney.settings import CURRENCY_CHOICES

    for code, name in settings.LANGUAGES:  # each language is offered in its own name
        words.update(WORD.findall(str(name)))
        words.update(WORD.findall(get_language_info(code)["name_local"]))
        with translation.override(code):
            words.update(WORD.findall(str(name)))
    with translation.override(language):
        for name in formats.FORMAT_SETTINGS:
            value = formats.get_format(name, lang=language)
            for text in value if isinstance(value, (list, tuple)) else [value]:
                if isinstance(text, str):
                    words.update("".join(m) for m in re.findall(r"((?:\\[A-Za-z])+)", text))
    from babel.dates import get_month_names, get_timezone, get_timezone_name

    from grants.money import reader_locale

    for width in ("wide", "abbreviated"):  # month names from Babel's locale data (charts' tables)
        for context in ("format", "stand-alone"):
            for month in get_month_names(width, context, locale=reader_locale(language)).values():
                words.update(WORD.findall(month))
    for code, _name in CURRENCY_CHOICES:  # currency names from Babel's locale data ("usona dolaro")
        words.update(WORD.findall(get_currency_name(code, locale=reader_locale(language))))
    import zoneinfo

    for zone in (
        zones or zoneinfo.available_timezones()
    ):  # zone names from Babel's locale data ("pacifika nordamerika tempo")
        words.update(WORD.findall(get_timezone_name(get_timezone(zone), locale=reader_locale(language))))
    return {word.replace("\\", "").casefold() for word in words}


def leftover(text: str, user_content: list[str], allowed: set[str] = frozenset()) -> str:
    """What is left of ``text`` after removing pseudo-translated parts, user content, e-mail
    addresses, links and words that are codes; empty when the text passed."""
    text = " ".join(html_lib.unescape(text).split())
    previous = None
    while previous != text:  # nested messages: a translated string inside another
        previous = text
        text = BRACKETED.sub(" ", text)
    for content in user_content:
        if content in text:  # whole words only: "no" in a name must not cut "nordamerika"
            text = re.sub(rf"(?<!\w){re.escape(content)}(?!\w)", " ", text)
    text = EMAIL.sub(" ", text)
    text = ZONE.sub(" ", text)
    text = URL.sub(" ", text)
    text = REFERENCE.sub(" ", text)
    text = ABBREVIATION.sub(" ", text)
    words = [word for word in WORD.findall(text) if word not in NOT_WORDS and word.casefold() not in allowed]
    return " ".join(words)


CODE_FIELDS = re.compile(
    r"(^|_)(kind|status|type|action|endpoint|password|slug|key|token|hash|secret|id|cause|method|code)$"
)


def user_content() -> list[str]:
    """Every text a person or the data put into the database (names, titles, answers, page
    bodies), longest first; fields with choices and fields holding codes are left out, so a raw
    code on a page is still found."""
    from django.db import models as db_models
    from wagtail.fields import StreamField

    from grants.fields import EncryptedField

    found = set()

    def add(value):
        if isinstance(value, str):
            if "<" in value and ">" in value:
                for _where, text in visible_text(value):
                    add_text(text)
            else:
                add_text(value)
        elif isinstance(value, dict):
            for item in value.values():
                add(item)
        elif hasattr(value, "raw_data"):  # a StreamField's value
            add(list(value.raw_data))
        elif isinstance(value, (list, tuple)):
            for item in value:
                add(item)

    def add_text(text):
        text = " ".join(text.split())
        if len(text) >= 2:
            found.add(text)

    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        fields = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(
                field,
                (db_models.CharField, db_models.TextField, db_models.JSONField, StreamField, EncryptedField),
            )
            and not field.choices
            and not CODE_FIELDS.search(field.name)
        ]
        files = [
            field.attname for field in model._meta.concrete_fields if isinstance(field, db_models.FileField)
        ]
        for row in (
            model._base_manager.exclude(**dict.fromkeys(files[:1], "")).values_list(*files) if files else []
        ):
            for value in row:
                if value:
                    add_text(Path(value).name)
        if not fields:
            continue
        for row in model._base_manager.values_list(*fields):
            for value in row:
                add(value)
    return sorted(found, key=len, reverse=True)


# Text the libraries write in English whatever the language, and why it is accepted here: each
# entry is (where, text, URL prefix).
LIBRARY_TEXT = [
    # Wagtail 8's admin header and dashboard: the hidden search button of the search field
    # (wagtailadmin/shared/header.html, home.html) has value="Search" written in English.
    ("<input value>", "Search", "/admin/"),
    # Wagtail 8's "You are viewing a previous version of this page from … by …" prints the
    # revision's user, "None" for a revision saved by code (the test world's pages).
    ("<li>", "None ⟧", "/admin/pages/"),
]


def library_text(url: str, where: str, text: str) -> bool:
    text = " ".join(text.split())
    return any(w == where and t == text and url.startswith(p) for w, t, p in LIBRARY_TEXT)


def untranslated(
    document: str, user_content: list[str], allowed: set[str] = frozenset(), url: str = ""
) -> list[str]:
    """Each visible text of ``document`` that holds a word neither translated nor user content
    (``allowed``: words of the language's own locale data, see ``locale_words``)."""
    problems = []
    for where, text in visible_text(document):
        if library_text(url, where, text):
            continue
        rest = leftover(text, user_content, allowed)
        if rest:
            problems.append(f"{where} {' '.join(text.split())[:160]!r} → {rest!r}")
    return problems
