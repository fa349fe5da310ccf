"""The foundation's brand colour as a small stylesheet (``/branding.css``).

Public pages carry no inline ``<style>`` (the Content Security Policy allows styles from our
own files only), so the colour an editor picks in the site settings reaches the page as a
stylesheet of one rule. Its URL carries a fingerprint of the colour, so browsers keep it for a
year and fetch a new one as soon as the colour changes.
"""

import hashlib
import re

from cms.models import BrandingSettings

DEFAULT_BRAND_COLOR = "#1d4e89"
_HEX_COLOR = re.compile(r"#(?:[0-9a-fA-F]{3}){1,2}")


def brand_color(request) -> str:
    """The site's primary colour as ``#rrggbb`` (or ``#rgb``); the default for anything else.

    The field is free text; only a hex colour may reach a stylesheet.
    """
    color = (BrandingSettings.for_request(request).primary_color or "").strip()
    return color.lower() if _HEX_COLOR.fullmatch(color) else DEFAULT_BRAND_COLOR


def stylesheet(color: str) -> str:
    return f":root {{ --brand: {color}; }}\n"


def fingerprint(color: str) -> str:
    """Short, stable token naming this version of the stylesheet (cache busting, ETag)."""
    return hashlib.sha256(stylesheet(color).encode()).hexdigest()[:12]
