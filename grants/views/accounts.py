"""Account pages of our own next to allauth's: the one-time sign-in link, and the way from
Wagtail's /admin/login/ to the one sign-in page."""

from allauth.account.utils import perform_login
from allauth.core import ratelimit
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from grants.services.accounts import LoginLinkError, check_login_link, redeem_login_link


@never_cache
@require_http_methods(["GET", "POST"])
def login_link(request, token: str):
    """Sign in with the link from the sign-in code email.

    GET shows a page with one button and changes nothing, so link scanners in mail systems
    cannot use the link up; POST signs the person in through allauth's normal login (so its
    checks and any later steps, such as two-factor, still apply). Both are throttled per IP
    address (``ACCOUNT_RATE_LIMITS["login_link"]``): the token is a secret.
    """
    throttled = ratelimit.consume_or_429(request, action="login_link", limit_get=True)
    if throttled:
        return throttled
    try:
        link = redeem_login_link(token=token) if request.method == "POST" else check_login_link(token=token)
    except LoginLinkError as error:
        return render(request, "account/login_link_invalid.html", {"error": error.message}, status=400)
    if request.method == "GET":
        return render(request, "account/login_link.html", {"email": link.email})
    next_url = link.next_url
    if not _is_safe(request, next_url):
        next_url = None
    return perform_login(request, link.user, email=link.email, redirect_url=next_url)


@never_cache
@require_http_methods(["GET", "POST"])
def staff_login(request):
    """/admin/login/ (Wagtail's sign-in URL): staff sign in on allauth's page, with its second
    factor, and come back to ``next`` (the admin dashboard by default).

    Someone already signed in reaches this page only when Wagtail refused them the admin: they
    are told so instead of being sent to the sign-in page, which would send them straight back.
    """
    next_url = request.GET.get("next") or ""
    if not _is_safe(request, next_url):
        next_url = reverse("wagtailadmin_home")
    if request.user.is_authenticated:
        if request.user.has_perm("wagtailadmin.access_admin"):
            return redirect(next_url)
        return render(request, "account/staff_only.html", {"next": next_url}, status=403)
    return redirect(f"{reverse('account_login')}?{urlencode({'next': next_url})}")


def _is_safe(request, url: str | None) -> bool:
    return bool(url) and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    )
