"""Walking the URL patterns and asking one of them as one person: what came back, and whether
anything was written."""

import copy
import re
from dataclasses import dataclass

from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import URLPattern, URLResolver, get_resolver
from django.urls.resolvers import LocalePrefixPattern

from tests.url_matrix.table import DENIED, LOGIN, MFA, NOT_FOUND, OK, REDIRECT

LANG = "<lang>/"  # the i18n prefix, whatever the language (/en/, /es/)
DENIED_TEXT = "Sorry, you do not have permission to access this area."
ADMIN_LOGIN = "/admin/login/"
PUBLIC_LOGIN = "/en/accounts/login/"
# Rows a request may write without changing anything anyone relies on: the session, the access
# log (who looked at what), and allauth's and Wagtail's own bookkeeping of a visit.
HARMLESS_WRITES = re.compile(
    r'^(INSERT INTO|UPDATE|DELETE FROM) "?(django_session|grants_accesslogentry|wagtailusers_userprofile'
    r'|wagtailadmin_editingsession|account_emailconfirmation)"?',
    re.IGNORECASE,
)
WRITE = re.compile(r"^\s*(INSERT|UPDATE|DELETE|REPLACE)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Pattern:
    route: str  # the full pattern, the i18n prefix written as <lang>/
    name: str  # namespace:name, or "" for an unnamed pattern
    module: str  # where the view lives


def walk(patterns=None, prefix="", namespace=""):
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        if isinstance(entry, URLResolver):
            part = LANG if isinstance(entry.pattern, LocalePrefixPattern) else str(entry.pattern)
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from walk(entry.url_patterns, prefix + part, inner)
        elif isinstance(entry, URLPattern):
            callback = entry.callback
            view_class = getattr(callback, "view_class", None)
            module = (view_class or callback).__module__
            yield Pattern(
                prefix + str(entry.pattern), f"{namespace}{entry.name}" if entry.name else "", module
            )


def all_patterns() -> list[Pattern]:
    return list(walk())


CONVERTER = re.compile(r"<(?:(\w+):)?(\w+)>")


def url_template(route: str) -> str:
    """``admin/funds/edit/<int:pk>/`` → ``/admin/funds/edit/{pk}/`` (English for <lang>/)."""
    return "/" + CONVERTER.sub(r"{\2}", route.replace(LANG, "en/"))


def route_args(route: str) -> list[str]:
    return [name for _conv, name in CONVERTER.findall(route)]


def classify(response, path: str) -> str:
    """One word for what the person got: a status code, or where a redirect went."""
    status = response.status_code
    if status == 200:
        return OK
    if status == 403:
        return DENIED
    if status not in (301, 302, 303):
        return str(status)
    location = response["Location"]
    if location.startswith((ADMIN_LOGIN, PUBLIC_LOGIN)):
        return LOGIN
    if "/2fa/" in location or "mfa" in location:
        return MFA
    if location in ("/admin/", "/en/admin/") and any(
        DENIED_TEXT in str(m) for m in get_messages(response.wsgi_request)
    ):
        return DENIED
    # Django's LocaleMiddleware answers a 404 outside the language prefix with a redirect to the
    # same path under /en/ when that resolves (Wagtail's page catch-all always does).
    if location.split("?")[0] == "/en" + path.split("?")[0]:
        return NOT_FOUND
    return REDIRECT


@dataclass
class Answer:
    outcome: str
    location: str
    body: bytes
    writes: list[str]


def ask(client, method: str, url: str, data=None) -> Answer:
    """Request ``url``; whatever the view did to the database is rolled back afterwards, and the
    client keeps its cookies (a sign-in or sign-out cycles the session key, and the new session's
    row is rolled back with the rest)."""
    cookies = copy.deepcopy(client.cookies)
    with transaction.atomic():
        with CaptureQueriesContext(connection) as queries:
            response = client.post(url, data or {}) if method == "POST" else client.get(url)
            # Reading a download to the end closes it the way the test client expects (calling
            # close() ourselves would close the database connection too).
            body = b"".join(response.streaming_content) if response.streaming else response.content
        transaction.set_rollback(True)
    client.cookies = cookies
    writes = [
        q["sql"][:160]
        for q in queries.captured_queries
        if WRITE.match(q["sql"]) and not HARMLESS_WRITES.match(q["sql"])
    ]
    answer = Answer(
        outcome=classify(response, url),
        location=response.get("Location", ""),
        body=body,
        writes=writes,
    )
    return answer


def signed_in_clients(world: dict, *, raise_request_exception: bool = False) -> dict:
    """One test client per role, signed in once as ``client.force_login`` does in this suite
    (tests/conftest.py): staff sessions hold the second factor."""
    from django.test import Client

    from tests.security_helpers import force_login_without_second_factor, record_second_factor

    result = {}
    for role, user in world["users"].items():
        client = Client(raise_request_exception=raise_request_exception)
        if user is not None:
            force_login_without_second_factor(client, user)
            record_second_factor(client, user)
        result[role] = client
    return result
