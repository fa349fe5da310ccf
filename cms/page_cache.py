"""Whole public pages from the cache for visitors who are not signed in.

``serve`` stands in front of Wagtail's page view. A GET of a public page (home, fund index,
fund, call, standard page) by a visitor without a session cookie, without a query string and
without pending messages is answered from Django's cache when it is there, else rendered by
Wagtail and stored if nothing in it is personal: status 200, a cached page type, no view
restriction, no cookie set, no CSRF token used. Anyone signed in always gets a fresh page.

Staleness is bounded twice. Every change a page shows moves the cache version on at commit
(``grants.services.page_cache``; the receivers below, and ``donations.invalidate_progress``).
Call statuses move with the clock (upcoming → open → closing soon → closed), so an entry never
outlives ``PUBLIC_PAGE_CACHE_SECONDS`` nor the next moment any call changes status.
"""

import datetime

from django.conf import settings
from django.core.cache import cache
from django.db.models import Min, Q
from django.db.models.signals import post_delete, post_save
from django.http import HttpResponse
from django.template.response import SimpleTemplateResponse
from django.utils import timezone, translation
from django.utils.safestring import SafeString, mark_safe
from wagtail import views as wagtail_views
from wagtail.models import Locale, Page, PageViewRestriction, Site
from wagtail.signals import page_published, page_unpublished, post_page_move

from grants.models import Foundation, Fund, FundingCall
from grants.models.funds import CLOSING_SOON_WINDOW
from grants.services.page_cache import current_version, invalidate_public_pages

from .models import (
    BrandingSettings,
    FoundationPage,
    FundIndexPage,
    FundingCallPage,
    FundPage,
    HomePage,
    StandardPage,
)

CACHED_PAGE_TYPES = (HomePage, FundIndexPage, FoundationPage, FundPage, FundingCallPage, StandardPage)


def serve(request, path):
    """Wagtail's ``serve`` with the anonymous page cache in front."""
    key = _key(request) if _cacheable_request(request) else None
    if key is not None:
        cached = cache.get(key)
        if cached is not None:
            return HttpResponse(cached["content"], content_type=cached["content_type"])
    response = wagtail_views.serve(request, path)
    if key is not None and request.method == "GET" and _cacheable_response(request, response):
        seconds = _seconds_to_keep()
        if seconds > 0:
            cache.set(key, {"content": response.content, "content_type": response["Content-Type"]}, seconds)
    return response


def public_fragment(request, name: str, render) -> SafeString:
    """Public content shown inside a personal page (``render()``'s HTML), from the cache.

    The open calls on an applicant's dashboard, the menu's link to the funds: the same for
    everyone, yet costly to build on every signed-in request. They are kept like whole public pages
    (same version, moved on by every change they show; never past ``PUBLIC_PAGE_CACHE_SECONDS`` nor
    the next moment a call changes status), per site and language.
    """
    if settings.PUBLIC_PAGE_CACHE_SECONDS <= 0:
        return mark_safe(render())
    key = f"public-fragment:{current_version()}:{request.get_host()}:{translation.get_language()}:{name}"
    html = cache.get(key)
    if html is None:
        html = str(render())
        seconds = _seconds_to_keep()
        if seconds > 0:
            cache.set(key, html, seconds)
    return mark_safe(html)


def _cacheable_request(request) -> bool:
    return (
        settings.PUBLIC_PAGE_CACHE_SECONDS > 0
        and request.method in ("GET", "HEAD")
        and not request.GET
        # No session: not signed in, nothing personal (no messages, no sign-in in progress).
        and settings.SESSION_COOKIE_NAME not in request.COOKIES
        and "messages" not in request.COOKIES
    )


def _key(request) -> str:
    return f"public-page:{current_version()}:{request.get_host()}:{translation.get_language()}:{request.path}"


def _cacheable_response(request, response) -> bool:
    if not isinstance(response, SimpleTemplateResponse) or response.status_code != 200:
        return False
    page = (response.context_data or {}).get("page")
    if not isinstance(page, CACHED_PAGE_TYPES) or page.get_view_restrictions():
        return False
    response.render()
    return not response.cookies and not request.META.get("CSRF_COOKIE_NEEDS_UPDATE")


def _seconds_to_keep() -> int:
    """``PUBLIC_PAGE_CACHE_SECONDS``, or less when a call changes status sooner (one query)."""
    now = timezone.now()
    soon = now + CLOSING_SOON_WINDOW
    moments = FundingCall.objects.aggregate(
        opens=Min("opens_at", filter=Q(opens_at__gt=now)),
        closes=Min("closes_at", filter=Q(closes_at__gt=now)),
        closing_soon=Min("closes_at", filter=Q(closes_at__gt=soon)),
    )
    if moments["closing_soon"] is not None:
        moments["closing_soon"] -= CLOSING_SOON_WINDOW
    seconds = settings.PUBLIC_PAGE_CACHE_SECONDS
    for moment in moments.values():
        if moment is not None:
            seconds = min(seconds, int((moment - now) / datetime.timedelta(seconds=1)))
    return seconds


def _invalidate(**kwargs) -> None:
    invalidate_public_pages()


for _signal in (page_published, page_unpublished, post_page_move):
    _signal.connect(_invalidate, dispatch_uid=f"public_page_cache_{_signal}")
for _model in (Page, *CACHED_PAGE_TYPES, Fund, FundingCall, Foundation, BrandingSettings, Site, Locale,
               PageViewRestriction):  # fmt: skip
    post_save.connect(_invalidate, sender=_model, dispatch_uid=f"public_page_cache_save_{_model.__name__}")
    post_delete.connect(
        _invalidate, sender=_model, dispatch_uid=f"public_page_cache_delete_{_model.__name__}"
    )
