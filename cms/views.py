"""Small views of the public site that are not Wagtail pages."""

from django.conf import settings
from django.http import HttpResponse, HttpResponseRedirect
from django.utils.cache import patch_cache_control
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import condition, require_GET

from cms import branding


@require_GET
def set_language(request):
    """Remember the chosen language and go to ``next`` (the same page in that language).

    A plain link rather than Django's POST form, so it works without JavaScript and is
    announced as a link by screen readers.
    """
    language = request.GET.get("lang", "")
    next_url = request.GET.get("next", "")
    if language not in dict(settings.LANGUAGES):
        language = settings.LANGUAGE_CODE
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = f"/{language}/"
    response = HttpResponseRedirect(next_url)
    response.set_cookie(
        settings.LANGUAGE_COOKIE_NAME,
        language,
        max_age=365 * 24 * 3600,
        samesite="Lax",
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
    )
    return response


def _branding_etag(request) -> str:
    return branding.fingerprint(branding.brand_color(request))


@require_GET
@condition(etag_func=_branding_etag)
def branding_css(request):
    """The site's brand colour as a stylesheet (see ``cms.branding``); public, cacheable.

    Pages link it as ``/branding.css?v=<fingerprint>``: that exact version may be kept for a
    year, any other request (an old fingerprint, none at all) for five minutes.
    """
    color = branding.brand_color(request)
    response = HttpResponse(branding.stylesheet(color), content_type="text/css; charset=utf-8")
    if request.GET.get("v") == branding.fingerprint(color):
        patch_cache_control(response, public=True, max_age=365 * 24 * 3600, immutable=True)
    else:
        patch_cache_control(response, public=True, max_age=300)
    return response
