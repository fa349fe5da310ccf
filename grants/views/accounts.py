"""Account pages of our own next to allauth's: the one-time sign-in link."""

from allauth.account.utils import perform_login
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from grants.services.accounts import LoginLinkError, check_login_link, redeem_login_link


@never_cache
@require_http_methods(["GET", "POST"])
def login_link(request, token: str):
    """Sign in with the link from the sign-in code email.

    GET shows a page with one button and changes nothing, so link scanners in mail systems
    cannot use the link up; POST signs the person in through allauth's normal login (so its
    checks and any later steps, such as two-factor, still apply).
    """
    try:
        link = redeem_login_link(token=token) if request.method == "POST" else check_login_link(token=token)
    except LoginLinkError as error:
        return render(request, "account/login_link_invalid.html", {"error": error.message}, status=400)
    if request.method == "GET":
        return render(request, "account/login_link.html", {"email": link.email})
    next_url = link.next_url
    if not url_has_allowed_host_and_scheme(
        next_url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        next_url = None
    return perform_login(request, link.user, email=link.email, redirect_url=next_url)
