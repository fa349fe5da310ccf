"""The site's branding as pages and emails read it: its name in the reader's language, and the
brand colour as a small stylesheet (``/branding.css``).

Public pages carry no inline ``<style>`` (the Content Security Policy allows styles from our
own files only), so the colour an editor picks in the site settings reaches the page as a
stylesheet of one rule. Its URL carries a fingerprint of the colour, so browsers keep it for a
year and fetch a new one as soon as the colour changes.
"""

import hashlib
import re

from django.utils import translation
from wagtail.models import Site

from cms.models import DEFAULT_SITE_NAME, BrandingSettings

DEFAULT_BRAND_COLOR = "#1d4e89"
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def brand_color(request) -> str:
    """The site's primary colour as ``#rrggbb`` (or ``#rgb``); the default for anything else.

    The field is free text; only a hex colour may reach a stylesheet.
    """
    branding = _branding_of(request)
    color = ((branding.primary_color if branding else "") or "").strip()
    return color.lower() if _HEX_COLOR.fullmatch(color) else DEFAULT_BRAND_COLOR


def _branding_of(request):
    """The request's site's branding, read once per request and never written (a site whose
    settings were never saved has none: the defaults apply)."""
    wagtail_cache = BrandingSettings.get_cache_attr_name()  # what ``for_request`` keeps on the request
    if hasattr(request, wagtail_cache):
        return getattr(request, wagtail_cache)
    if not hasattr(request, "_portal_branding"):
        site = Site.find_for_request(request)
        branding = BrandingSettings.objects.filter(site=site).first() if site else None
        if branding is not None:  # templates' ``settings.cms.BrandingSettings`` reuse this read
            branding._request = request
            setattr(request, wagtail_cache, branding)
        request._portal_branding = branding
    return request._portal_branding


def stylesheet(color: str) -> str:
    return f":root {{ --brand: {color}; }}\n"


def fingerprint(color: str) -> str:
    """Short, stable token naming this version of the stylesheet (cache busting, ETag)."""
    return hashlib.sha256(stylesheet(color).encode()).hexdigest()[:12]


def site_name(request=None, *, language: str | None = None) -> str:
    """The site's name as people read it, in ``language`` (the active language by default):
    from the branding settings of the request's Wagtail site, or of the default site when
    there is no request (emails sent by the worker). Never the host name."""
    language = language or translation.get_language() or "en"
    if request is not None and Site.find_for_request(request) is not None:
        branding = _branding_of(request)
    else:
        site = Site.objects.filter(is_default_site=True).first()
        branding = BrandingSettings.objects.filter(site=site).first() if site is not None else None
    if branding is None:  # no settings saved yet: the portal's own name, translated
        with translation.override(language):
            return translation.gettext(DEFAULT_SITE_NAME)
    return branding.site_name_for(language)
