"""Template helpers for the public site: money in the reader's language, language links."""

from urllib.parse import parse_qsl, urlsplit, urlunsplit

from babel.dates import get_timezone, get_timezone_name
from django import template
from django.conf import settings
from django.urls import reverse, translate_url
from django.utils import translation
from django.utils.http import urlencode
from moneyed import Money
from moneyed.l10n import format_money
from wagtail.models import Page

from cms import branding
from grants.models import translated as translated_text
from grants.money import reader_locale, without_negative_zero

register = template.Library()


@register.filter
def money(value) -> str:
    """Format a ``Money`` for the active language: "$1,500.00" in English, "1.500,00 US$" in Spanish.

    A zero is always "$0.00", never "-$0.00" (see ``without_negative_zero``)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, Money):
        return str(value)
    return format_money(without_negative_zero(value), locale=reader_locale())


@register.simple_tag(takes_context=True)
def site_name(context) -> str:
    """The site's name in the active language (the branding settings' Spanish name on Spanish
    pages)."""
    return branding.site_name(context.get("request"))


@register.simple_tag(takes_context=True)
def language_links(context) -> list[dict]:
    """One entry per language: its name, whether it is current, and the link to this page in it.

    On a Wagtail page the link goes to the page's translation (or that language's home page
    when there is none yet); elsewhere the URL's language prefix is swapped.
    """
    request = context.get("request")
    page = context.get("page")
    current = translation.get_language()
    translations = {}
    if isinstance(page, Page):
        # One query for every language's version of this page.
        for translated in Page.objects.filter(translation_key=page.translation_key, live=True).select_related(
            "locale"
        ):
            translations[translated.locale.language_code] = translated
    links = []
    for code, name in settings.LANGUAGES:
        target = None
        if code in translations:
            target = translations[code].get_url(request)
        if target is None and request is not None:
            target = _with_next_translated(translate_url(request.get_full_path(), code), current, code)
            if target == request.get_full_path() and code != current:
                target = f"/{code}/"
        with translation.override(code):
            native_name = translation.gettext(name)
        links.append(
            {
                "code": code,
                "name": native_name,
                "current": code == current,
                "url": "/language/?" + urlencode({"lang": code, "next": target or f"/{code}/"}),
            }
        )
    return links


def _with_next_translated(url: str, current: str, code: str) -> str:
    """Also switch the language of a ``next`` parameter (sign-in pages), so that after signing
    in the person lands on the page in the language they chose."""
    parts = urlsplit(url)
    query = parse_qsl(parts.query, keep_blank_values=True)
    changed = [
        (
            key,
            f"/{code}/" + value[len(current) + 2 :]
            if key == "next" and value.startswith(f"/{current}/")
            else value,
        )
        for key, value in query
    ]
    return urlunsplit(parts._replace(query=urlencode(changed))) if changed != query else url


@register.filter
def translated(obj, field: str) -> str:
    """``{{ fund|translated:"name" }}``: the text staff wrote, in the active language (with the
    fallback of ``grants.models.translated``)."""
    return translated_text(obj, field) if obj is not None else ""


@register.filter
def tagline(branding, language_code) -> str:
    return branding.tagline_for(language_code) if branding else ""


@register.simple_tag(takes_context=True)
def branding_stylesheet_url(context) -> str:
    """Address of the brand-colour stylesheet, fingerprinted so browsers may keep it a year."""
    request = context.get("request")
    color = branding.brand_color(request) if request is not None else branding.DEFAULT_BRAND_COLOR
    return f"{reverse('branding_css')}?v={branding.fingerprint(color)}"


@register.filter
def zone_name(zone: str) -> str:
    """A time zone as people say it, in the reader's language: "Pacific Time", "hora del
    Pacífico" (the identifier itself when it is not a known zone)."""
    try:
        return get_timezone_name(get_timezone(zone), locale=reader_locale())
    except (LookupError, ValueError):
        return zone
