"""Staff security: a second factor for the staff area, and staff sessions that end when idle.

Staff sign in on allauth's page like everyone else. allauth asks for the authenticator code
of anyone who has set one up; this middleware makes sure staff cannot use the Wagtail admin
(everything under /admin/) without one:

- a staff session that did not pass a second factor is sent to set one up (also when it opens
  an applicant's private file or an organization's data download through the public site) (no authenticator
  yet) or signed out to sign in again with it (an authenticator exists, e.g. an old session);
- a staff session with no request for ``STAFF_SESSION_IDLE_MINUTES`` is signed out.

"Passed a second factor" is what allauth records in the session when an authenticator code or
recovery code is accepted (an authentication record with method "mfa"), or that the person set
up their authenticator app in this very session (they just typed a code from it).
"""

import re
import time

from allauth.account.authentication import get_authentication_records
from allauth.mfa.models import Authenticator
from allauth.mfa.signals import authenticator_added, authenticator_removed
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.signals import user_logged_in
from django.core.exceptions import BadRequest
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from grants.models import StaffMembership

ADMIN_PREFIX = "/admin/"
# Admin URLs that work without a finished sign-in: the way to the sign-in page, and signing out.
OPEN_ADMIN_PATHS = frozenset({"/admin/login/", "/admin/logout/"})

# Outside the admin, what staff may open only with a second factor: applicants' private files
# (attachments, receipts) and organizations' data downloads, reachable by staff on the public site.
PRIVATE_PUBLIC_PATH = re.compile(
    r"^/[a-z]{2}/(applications/\d+/files/|reports/\d+/receipts/|organizations/\d+/data/)"
)

# Session keys (all cleared with the session when the person signs out).
STAFF_SESSION_KEY = "staff_security_staff"
LAST_ACTIVITY_KEY = "staff_security_last_activity"
SECOND_FACTOR_ADDED_KEY = "staff_security_second_factor_added"
SECOND_FACTOR_REMOVED_KEY = "staff_security_second_factor_removed"
CONTINUE_KEY = "staff_security_continue"
# The last-activity time is written at most this often, so most requests do not save the session.
ACTIVITY_RESOLUTION_SECONDS = 60


def is_staff_user(user) -> bool:
    """Whether ``user`` works in the staff area: a staff role at a foundation, Wagtail admin
    access, or Django's staff or superuser flags. Staff must use a second factor."""
    if not getattr(user, "is_authenticated", False):
        return False
    if user.is_superuser or user.is_staff:
        return True
    return user.has_perm("wagtailadmin.access_admin") or StaffMembership.objects.filter(user=user).exists()


def passed_second_factor(request: HttpRequest, user) -> bool:
    """Whether this session passed an authenticator or recovery code (or set up the app).

    Removing the app in this session takes that back until a new one is set up.
    """
    if request.session.get(SECOND_FACTOR_ADDED_KEY) == str(user.pk):
        return True
    if request.session.get(SECOND_FACTOR_REMOVED_KEY) == str(user.pk):
        return False
    return any(record.get("method") == "mfa" for record in get_authentication_records(request, user))


# What counts as a second factor of one's own (recovery codes only back these up).
SECOND_FACTORS = (Authenticator.Type.TOTP, Authenticator.Type.WEBAUTHN)


def has_authenticator_app(user) -> bool:
    """Whether ``user`` set up an authenticator app or a security key / passkey."""
    return Authenticator.objects.filter(user_id=user.pk, type__in=SECOND_FACTORS).exists()


def sign_in_url(next_url: str) -> str:
    return f"{reverse('account_login')}?{urlencode({'next': next_url})}"


class StaffSecurityMiddleware:
    """Guards the Wagtail admin for staff sessions; see the module docstring.

    Goes after allauth's AccountMiddleware (and Django's authentication and messages).
    Staff are recognised afresh on every admin request; on other pages only sessions already
    marked as staff (at sign-in or on an admin page) are looked at, so applicants' requests
    cost no query.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest):
        user = request.user
        if not user.is_authenticated:
            return self.get_response(request)
        in_admin = request.path.startswith(ADMIN_PREFIX)
        if in_admin:
            staff = is_staff_user(user)
            if staff and not request.session.get(STAFF_SESSION_KEY):
                request.session[STAFF_SESSION_KEY] = True
        else:
            staff = bool(request.session.get(STAFF_SESSION_KEY))
        if not staff:
            return self.get_response(request)

        response = self._end_if_idle(request)
        guarded = (in_admin and request.path not in OPEN_ADMIN_PATHS) or PRIVATE_PUBLIC_PATH.match(
            request.path
        )
        if response is None and guarded:
            response = self._require_second_factor(request, user)
        return response or self.get_response(request)

    def _end_if_idle(self, request: HttpRequest) -> HttpResponseRedirect | None:
        minutes = settings.STAFF_SESSION_IDLE_MINUTES
        if minutes <= 0:
            return None
        now = time.time()
        last = request.session.get(LAST_ACTIVITY_KEY)
        if last is not None and now - last > minutes * 60:
            message = ngettext(
                "You were signed out after %(minutes)d minute without activity.",
                "You were signed out after %(minutes)d minutes without activity.",
                minutes,
            ) % {"minutes": minutes}
            return self._sign_in_again(request, message)
        if last is None or now - last >= ACTIVITY_RESOLUTION_SECONDS:
            request.session[LAST_ACTIVITY_KEY] = now
        return None

    def _require_second_factor(self, request: HttpRequest, user) -> HttpResponseRedirect | None:
        if passed_second_factor(request, user):
            if CONTINUE_KEY in request.session:
                del request.session[CONTINUE_KEY]
            return None
        if has_authenticator_app(user):
            return self._sign_in_again(
                request, _("Sign in again with your authenticator app to use the staff area.")
            )
        if request.method == "GET":
            # Offered as "Continue" once the app is set up (templates/mfa/recovery_codes/index.html).
            request.session[CONTINUE_KEY] = request.get_full_path()
        messages.warning(request, _("The staff area needs two-factor authentication. Set it up to continue."))
        return HttpResponseRedirect(reverse("mfa_activate_totp"))

    def _sign_in_again(self, request: HttpRequest, message: str) -> HttpResponseRedirect:
        in_admin = request.path.startswith(ADMIN_PREFIX)
        if request.method == "GET" and request.path not in OPEN_ADMIN_PATHS:
            next_url = request.get_full_path()
        else:
            next_url = reverse("wagtailadmin_home") if in_admin else "/"
        logout(request)
        messages.info(request, message)
        return HttpResponseRedirect(sign_in_url(next_url))


# Signal receivers. This module is imported when Django loads the middleware, before the first
# request, so they are connected whenever a request can sign someone in.


@receiver(user_logged_in, dispatch_uid="staff_security_signed_in")
def _mark_staff_session(sender, request, user, **kwargs):
    """Staff sessions count idle time from the moment of signing in, on every page."""
    if request is None or not hasattr(request, "session") or not is_staff_user(user):
        return
    request.session[STAFF_SESSION_KEY] = True
    request.session[LAST_ACTIVITY_KEY] = time.time()


@receiver(authenticator_added, dispatch_uid="staff_security_authenticator_added")
def _second_factor_set_up(sender, request, user, authenticator, **kwargs):
    """Setting up the authenticator app took a code from it (a security key, its touch): that
    session passed a second factor."""
    if request is not None and authenticator.type in SECOND_FACTORS:
        request.session[SECOND_FACTOR_ADDED_KEY] = str(user.pk)
        request.session.pop(SECOND_FACTOR_REMOVED_KEY, None)


@receiver(authenticator_removed, dispatch_uid="staff_security_authenticator_removed")
def _second_factor_removed(sender, request, user, authenticator, **kwargs):
    """Without the app, a staff session must set up a new one before using the staff area."""
    if request is not None and authenticator.type in SECOND_FACTORS and not has_authenticator_app(user):
        request.session[SECOND_FACTOR_REMOVED_KEY] = str(user.pk)
        request.session.pop(SECOND_FACTOR_ADDED_KEY, None)


class RejectNulBytesMiddleware:
    """A NUL character is never valid input here: a request with one in its path, query string or
    form fields is a 400, before any view runs.

    PostgreSQL cannot store or even compare text containing NUL, so such a value would otherwise
    reach the first query that uses it as a 500. Forms already refuse it field by field
    (Django's ``ProhibitNullCharactersValidator``); this covers every other way a value arrives —
    URL parts, query parameters read by views, answers stored as JSON.

    Form fields are looked at once the view is known: a view marked with :func:`reads_raw_body`
    (Stripe's webhooks, which verify a signature over the exact bytes) reads the body itself, and
    parsing it as a form here — whatever its content type claims — would leave nothing to verify.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if "\x00" in request.path or _has_nul(request.GET):
            raise BadRequest("NUL character in the request")
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        if (
            request.method == "POST"
            and not getattr(view_func, "reads_raw_body", False)
            and _has_nul(request.POST)
        ):
            raise BadRequest("NUL character in a form field")
        return None


def reads_raw_body(view):
    """Mark a view that reads ``request.body`` itself: no middleware parses its body as a form."""
    view.reads_raw_body = True
    return view


def _has_nul(data) -> bool:
    return any("\x00" in key or any("\x00" in value for value in data.getlist(key)) for key in data)
