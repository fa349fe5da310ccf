"""Django's LocaleMiddleware, except that paths outside the language prefixes stay 404.

Django answers a 404 outside ``/en/`` and ``/es/`` with a redirect to the same path under the
visitor's language when that path would resolve, and Wagtail's catch-all page route makes every
path resolve. So a webhook for an unknown foundation, a missing admin or simulator URL, was
answered "302 to /en/stripe/webhooks/…" instead of "not found". The paths the root URLconf
serves without a language prefix (admin, documents, webhooks, the simulator, …) are not pages:
their 404 is kept as it is. Other unprefixed paths (``/about/``) still go to their page.
"""

import functools

from django.conf import settings
from django.middleware.locale import LocaleMiddleware as DjangoLocaleMiddleware
from django.urls import LocalePrefixPattern, URLResolver, get_resolver
from django.utils import translation
from django.utils.cache import patch_vary_headers


@functools.cache
def unprefixed_roots(urlconf: str) -> frozenset[str]:
    """First path segments of the URL patterns served without a language prefix."""
    roots = set()
    for pattern in get_resolver(urlconf).url_patterns:
        if isinstance(pattern, URLResolver) and isinstance(pattern.pattern, LocalePrefixPattern):
            continue
        route = str(pattern.pattern).lstrip("^")
        segment = route.split("/", 1)[0]
        if segment and not any(char in segment for char in "<([\\?*+$"):
            roots.add(segment)
    return frozenset(roots)


def is_outside_pages(path_info: str, urlconf: str) -> bool:
    """Whether ``path_info`` starts with a segment the root URLconf serves outside the pages."""
    return path_info.lstrip("/").split("/", 1)[0] in unprefixed_roots(urlconf)


class LocaleMiddleware(DjangoLocaleMiddleware):
    def process_response(self, request, response):
        urlconf = getattr(request, "urlconf", None) or settings.ROOT_URLCONF
        if response.status_code == 404 and is_outside_pages(request.path_info, urlconf):
            # What Django's middleware does to a response it does not redirect.
            patch_vary_headers(response, ("Accept-Language",))
            response.headers.setdefault("Content-Language", translation.get_language())
            return response
        return super().process_response(request, response)
