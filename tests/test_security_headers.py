"""Browser security headers: the Content Security Policy of the public site and of the admin,
the brand-colour stylesheet that replaced the inline <style>, Permissions-Policy, and the
production settings (HSTS, cookies, COOP) including a clean ``check --deploy``."""

import base64
import json
import os
import re
import secrets
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.template import Context, Template
from django.test import RequestFactory, override_settings
from django.urls import reverse
from djmoney.money import Money
from wagtail.test.utils.form_data import inline_formset, nested_form_data, rich_text

from cms.models import BrandingSettings
from grants.demo_questions import eligibility_json, questions_json
from grants.middleware_headers import (
    ContentSecurityPolicyMiddleware,
    PermissionsPolicyMiddleware,
    current_csp_nonce,
    permissions_policy_header,
)
from grants.models import OrganizationMembership, Role
from grants.services import applications, reports
from tests import factories, pages
from tests.grants.money_fixtures import staff, world  # noqa: F401 - fixture
from tests.grants.report_helpers import reporting_award

ROOT = Path(__file__).resolve().parent.parent


# --- helpers --------------------------------------------------------------------------------


def directives(header: str) -> dict[str, list[str]]:
    """``"default-src 'self'; img-src 'self' data:"`` → ``{"default-src": ["'self'"], ...}``."""
    parsed = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            parsed[words[0]] = words[1:]
    return parsed


class _InlineCode(HTMLParser):
    """Collects everything a strict CSP would block: inline scripts, <style>, style="", on*=."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.scripts = []  # (attributes, text) of each <script>
        self.style_elements = 0
        self.style_attributes = []
        self.handlers = []
        self.javascript_urls = []
        self._script = None

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "script":
            self._script = (attributes, [])
        if tag == "style":
            self.style_elements += 1
        if "style" in attributes:
            self.style_attributes.append((tag, attributes["style"]))
        self.handlers += [(tag, name) for name in attributes if name.startswith("on")]
        self.javascript_urls += [
            (tag, value)
            for value in attributes.values()
            if (value or "").strip().lower().startswith("javascript:")
        ]

    def handle_data(self, data):
        if self._script is not None:
            self._script[1].append(data)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            self.scripts.append((self._script[0], "".join(self._script[1]).strip()))
            self._script = None

    def executable_inline_scripts(self):
        """Inline scripts the browser would run (JSON data blocks are never run)."""
        return [
            (attributes, text)
            for attributes, text in self.scripts
            if "src" not in attributes
            and attributes.get("type", "text/javascript") in ("text/javascript", "module", "")
        ]


def inline_code(html: str) -> _InlineCode:
    parser = _InlineCode()
    parser.feed(html)
    return parser


def assert_strict_public_page(response):
    """A public page: the strict policy, and nothing in the markup that it would block."""
    assert response.status_code == 200, response.status_code
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert policy["style-src"] == ["'self'"]
    assert policy["default-src"] == ["'self'"]
    assert policy["object-src"] == ["'none'"]
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["base-uri"] == ["'self'"]
    html = response.content.decode()
    found = inline_code(html)
    assert found.executable_inline_scripts() == []
    assert found.style_elements == 0
    assert found.style_attributes == []
    assert found.handlers == []
    assert found.javascript_urls == []


# --- fixtures -------------------------------------------------------------------------------


@pytest.fixture
def public(site):
    """A fund taking donations with an open call (the demo questions), its pages in both
    languages, and an applicant whose organization has a draft application."""
    foundation = factories.FoundationFactory(slug="bay-area")
    fund = factories.FundFactory(foundation=foundation, slug="defense", accepts_donations=True)
    call = factories.FundingCallFactory(
        fund=fund, min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD")
    )
    fund_pages = pages.add_fund_page(site, fund)
    call_pages = pages.add_call_page(fund_pages, call, questions=questions_json, eligibility=eligibility_json)
    applicant = factories.UserFactory(email="ana@example.org", preferred_language="es")
    organization = factories.OrganizationFactory()
    OrganizationMembership.objects.create(organization=organization, user=applicant, role="owner")
    draft = applications.start_application(call=call, organization=organization, by=applicant, language="en")
    return {
        "fund": fund,
        "call": call,
        "fund_pages": fund_pages,
        "call_pages": call_pages,
        "applicant": applicant,
        "application": draft,
    }


def donate_url(fund, language="en"):
    return f"/{language}/donate/{fund.foundation.slug}/{fund.slug}/"


# --- the public policy ----------------------------------------------------------------------


@pytest.mark.parametrize("language", ["en", "es"])
def test_public_pages_send_the_strict_policy_and_carry_no_inline_code(public, client, language):
    fund_page = public["fund_pages"][0 if language == "en" else 1]
    call_page = public["call_pages"][0 if language == "en" else 1]
    for path in (
        f"/{language}/",
        fund_page.url,
        call_page.url,
        donate_url(public["fund"], language),
        f"/{language}/accounts/login/",
        f"/{language}/accounts/signup/",
        f"/{language}/accounts/password/reset/",
    ):
        assert_strict_public_page(client.get(path))


def test_the_donate_page_with_errors_and_the_simulated_checkout_stay_strict(public, client):
    refused = client.post(donate_url(public["fund"]), {"amount": "other", "other_amount": "abc"})
    assert refused.status_code in (200, 400)
    assert "Content-Security-Policy" in refused
    found = inline_code(refused.content.decode())
    assert found.executable_inline_scripts() == [] and found.style_attributes == []

    sent = client.post(
        donate_url(public["fund"]),
        {"amount": "50", "frequency": "one_time", "name": "Dana", "email": "dana@example.org"},
    )
    assert sent.status_code == 302 and "/simulated-stripe/checkout/" in sent["Location"]
    assert_strict_public_page(client.get(sent["Location"]))


def test_application_pages_of_an_applicant_are_strict(public, client):
    client.force_login(public["applicant"])
    application = public["application"]
    assert_strict_public_page(client.get("/en/dashboard/"))
    assert_strict_public_page(client.get("/en/accounts/email/"))
    assert_strict_public_page(client.get(f"/es/apply/{public['call'].pk}/"))
    assert_strict_public_page(client.get(f"/en/applications/{application.pk}/"))
    steps = 0
    for number in range(1, 10):
        response = client.get(f"/en/applications/{application.pk}/step/{number}/")
        if response.status_code == 404:
            break
        assert_strict_public_page(response)
        steps += 1
    assert steps >= 2, "the demo questions have several steps"
    # A step sent back with errors (a required amount left out) is still strict.
    refused = client.post(f"/en/applications/{application.pk}/step/1/", {"_title": "", "action": "next"})
    assert "Content-Security-Policy" in refused
    assert inline_code(refused.content.decode()).style_attributes == []
    assert_strict_public_page(client.get(f"/es/applications/{application.pk}/review/"))


def test_the_spending_report_page_is_strict(world, client):  # noqa: F811 - fixture
    award = reporting_award(world)
    due = award.report_due_dates.get(kind="interim")
    reports.report_for(due, by=world["grantee"])
    client.force_login(world["grantee"])
    assert_strict_public_page(client.get(f"/es/reports/{due.pk}/"))
    assert_strict_public_page(client.get(f"/en/awards/{award.pk}/"))


def test_form_action_allows_stripe_only_with_the_real_gateway(public, client, settings):
    policy = directives(client.get("/en/")["Content-Security-Policy"])
    assert policy["form-action"] == ["'self'"]
    assert "report-uri" not in policy

    settings_module = _settings_in_subprocess(
        {"STRIPE_GATEWAY": "stripe", "CSP_REPORT_URI": "https://reports.example.org/csp"},
        ["CONTENT_SECURITY_POLICY"],
    )
    stripe_directives = settings_module["CONTENT_SECURITY_POLICY"]["DIRECTIVES"]
    assert stripe_directives["form-action"] == [
        "'self'",
        "https://checkout.stripe.com",
        "https://connect.stripe.com",
    ]
    assert stripe_directives["report-uri"] == ["https://reports.example.org/csp"]
    assert "'unsafe-inline'" not in stripe_directives["script-src"]


# --- the brand colour stylesheet ------------------------------------------------------------


def test_pages_link_the_brand_colour_stylesheet_which_browsers_may_keep(public, client):
    site = public["fund_pages"][0].get_site()
    BrandingSettings.objects.update_or_create(site=site, defaults={"primary_color": "#7A1F5C"})
    html = client.get("/en/").content.decode()
    link = next(href for href in _stylesheets(html) if href.startswith("/branding.css?v="))

    response = client.get(link)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/css")
    assert response.content.decode() == ":root { --brand: #7a1f5c; }\n"
    assert "immutable" in response["Cache-Control"] and "max-age=31536000" in response["Cache-Control"]

    # Without (or with an old) fingerprint the answer is short-lived, and revalidates by ETag.
    plain = client.get("/branding.css?v=old")
    assert "max-age=300" in plain["Cache-Control"]
    assert client.get("/branding.css", HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 304

    # A new colour is a new address: browsers never keep the old colour.
    BrandingSettings.objects.filter(site=site).update(primary_color="#204a30")
    new_link = next(href for href in _stylesheets(client.get("/en/").content.decode()) if "branding" in href)
    assert new_link != link
    assert client.get("/branding.css", HTTP_IF_NONE_MATCH=plain["ETag"]).status_code == 200


def test_a_brand_colour_that_is_not_a_hex_colour_never_reaches_the_stylesheet(public, client):
    site = public["fund_pages"][0].get_site()
    BrandingSettings.objects.update_or_create(site=site, defaults={"primary_color": "red}*{x"})
    assert client.get("/branding.css").content.decode() == ":root { --brand: #1d4e89; }\n"


def test_the_stylesheet_only_answers_get(public, client):
    assert client.post("/branding.css").status_code == 405


def _stylesheets(html):
    parser = _Links()
    parser.feed(html)
    return parser.hrefs


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if tag == "link" and attributes.get("rel") == "stylesheet":
            self.hrefs.append(attributes["href"])


# --- the admin policy -----------------------------------------------------------------------


@pytest.fixture
def officer(public):
    return staff(public["fund"].foundation, Role.PROGRAM_OFFICER, email="officer@example.org")


def assert_admin_page_nonces_every_inline_script(response):
    """The admin policy: scripts from us or with this response's nonce; every inline script
    Wagtail writes carries that nonce. Returns how many inline scripts the page has."""
    assert response.status_code == 200, response.status_code
    policy = directives(response["Content-Security-Policy"])
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'self'" in policy["script-src"]
    assert policy["style-src"] == ["'self'", "'unsafe-inline'"]
    found = inline_code(response.content.decode())
    inline = found.executable_inline_scripts()
    nonces = [word for word in policy["script-src"] if word.startswith("'nonce-")]
    if inline:
        assert len(nonces) == 1, policy["script-src"]
        nonce = nonces[0][len("'nonce-") : -1]
        assert [text[:60] for attributes, text in inline if attributes.get("nonce") != nonce] == []
    assert found.handlers == []
    return len(inline)


def test_admin_date_widgets_and_choosers_get_the_responses_nonce(public, officer, client):
    client.force_login(officer)
    call_edit = client.get(reverse("calls:edit", args=[public["call"].pk]))
    assert assert_admin_page_nonces_every_inline_script(call_edit) >= 2  # opens_at, closes_at

    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    site = public["fund_pages"][0].get_site()
    settings_edit = client.get(reverse("wagtailsettings:edit", args=["cms", "brandingsettings", site.pk]))
    assert "PageChooser" in settings_edit.content.decode()
    assert assert_admin_page_nonces_every_inline_script(settings_edit) >= 1


def test_admin_nonce_changes_with_every_response(public, officer, client):
    client.force_login(officer)
    url = reverse("calls:edit", args=[public["call"].pk])
    first = directives(client.get(url)["Content-Security-Policy"])["script-src"]
    second = directives(client.get(url)["Content-Security-Policy"])["script-src"]
    assert first != second


def test_admin_pages_without_inline_scripts_send_no_nonce(public, officer, client):
    client.force_login(officer)
    response = client.get(reverse("wagtailadmin_home"))
    assert assert_admin_page_nonces_every_inline_script(response) == 0
    assert directives(response["Content-Security-Policy"])["script-src"] == ["'self'"]


def test_the_public_policy_never_carries_a_nonce_even_for_staff(public, officer, client):
    client.force_login(officer)
    assert_strict_public_page(client.get(public["fund_pages"][0].url))


def test_a_nonce_is_only_written_while_a_request_is_handled():
    assert current_csp_nonce() == ""
    assert Template("{% load portal_csp %}[{% csp_nonce %}]").render(Context({})) == "[]"


# --- framing --------------------------------------------------------------------------------


def _through_csp_middleware(path, response):
    middleware = ContentSecurityPolicyMiddleware(lambda request: response)
    return middleware(RequestFactory().get(path))


def test_framing_follows_x_frame_options(db):
    denied = HttpResponse("x")
    denied["X-Frame-Options"] = "DENY"
    assert directives(_through_csp_middleware("/admin/pages/", denied)["Content-Security-Policy"])[
        "frame-ancestors"
    ] == ["'none'"]
    # Wagtail's preview views are framed by the page editor, and say so with SAMEORIGIN.
    preview = HttpResponse("x")
    preview["X-Frame-Options"] = "SAMEORIGIN"
    header = _through_csp_middleware("/admin/pages/3/edit/preview/", preview)["Content-Security-Policy"]
    assert directives(header)["frame-ancestors"] == ["'self'"]


# --- Permissions-Policy ---------------------------------------------------------------------


def test_permissions_policy_switches_off_what_the_portal_never_uses(public, client):
    for path in ("/en/", donate_url(public["fund"]), "/admin/login/"):
        header = client.get(path)["Permissions-Policy"]
        features = dict(part.strip().split("=", 1) for part in header.split(","))
        assert features["camera"] == "()"
        assert features["microphone"] == "()"
        assert features["geolocation"] == "()"
        assert features["payment"] == "(self)"


def test_permissions_policy_header_format_and_an_empty_policy_sends_nothing():
    assert permissions_policy_header({"camera": [], "payment": ["self", "https://pay.example.org"]}) == (
        'camera=(), payment=(self "https://pay.example.org")'
    )
    with override_settings(PERMISSIONS_POLICY={}):
        middleware = PermissionsPolicyMiddleware(lambda request: HttpResponse("x"))
        assert "Permissions-Policy" not in middleware(RequestFactory().get("/"))


# --- production settings --------------------------------------------------------------------


def _production_env(**extra) -> dict:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in ("FUNDPORTAL_TESTING", "DJANGO_SETTINGS_MODULE", "DATABASE_URL")
    }
    env.update(
        DJANGO_DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(60),
        ALLOWED_HOSTS="portal.example.org",
        FIELD_ENCRYPTION_KEYS=base64.urlsafe_b64encode(os.urandom(32)).decode(),
        DATABASE_URL="sqlite:////tmp/fundportal-check-deploy.sqlite3",
    )
    env.update(extra)
    return env


def _settings_in_subprocess(extra_env: dict, names: list[str]) -> dict:
    script = (
        "import json; from django.conf import settings as s; "
        f"print(json.dumps({{n: getattr(s, n) for n in {names!r}}}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", script],
        cwd=ROOT,
        env=_production_env(**extra_env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_check_deploy_reports_no_issue_in_production():
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout


def test_check_deploy_does_complain_about_a_weakened_production(tmp_path):
    """The test above would pass on a check that finds nothing: show it finds something."""
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=_production_env(SECURE_HSTS_SECONDS="0", SECURE_SSL_REDIRECT="0"),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0
    assert "security.W004" in result.stderr + result.stdout  # no HSTS
    assert "security.W008" in result.stderr + result.stdout  # no HTTPS redirect


PRODUCTION_NAMES = [
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_HSTS_PRELOAD",
    "SECURE_SSL_REDIRECT",
    "SECURE_CROSS_ORIGIN_OPENER_POLICY",
    "SECURE_REFERRER_POLICY",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SESSION_COOKIE_NAME",
    "SESSION_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_NAME",
    "CSRF_COOKIE_SECURE",
    "CSRF_COOKIE_HTTPONLY",
    "LANGUAGE_COOKIE_SECURE",
    "LANGUAGE_COOKIE_HTTPONLY",
    "LANGUAGE_COOKIE_SAMESITE",
    "X_FRAME_OPTIONS",
]


@pytest.fixture(scope="module")
def production_settings():
    return _settings_in_subprocess({}, PRODUCTION_NAMES)


def test_production_settings_values(production_settings):
    assert production_settings["SECURE_HSTS_SECONDS"] >= 31536000
    assert production_settings["SECURE_SSL_REDIRECT"] is True
    assert production_settings["SESSION_COOKIE_NAME"] == "__Host-sessionid"
    assert production_settings["CSRF_COOKIE_NAME"] == "__Host-csrftoken"
    for name in (
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "LANGUAGE_COOKIE_SECURE",
        "CSRF_COOKIE_HTTPONLY",
    ):
        assert production_settings[name] is True, name


def test_production_headers_on_a_page(public, client, production_settings):
    values = {
        name: value
        for name, value in production_settings.items()
        if name not in ("SECURE_SSL_REDIRECT", "SESSION_COOKIE_NAME", "CSRF_COOKIE_NAME")
    }
    with override_settings(**values, CSRF_COOKIE_NAME=production_settings["CSRF_COOKIE_NAME"]):
        client.handler.load_middleware()
        response = client.get(donate_url(public["fund"]), secure=True)
    assert response.status_code == 200
    assert response["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains; preload"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["X-Frame-Options"] == "DENY"
    csrf = response.cookies["__Host-csrftoken"]
    assert csrf["secure"] and csrf["httponly"] and csrf["samesite"] == "Lax"
    assert csrf["path"] == "/" and not csrf["domain"]


def test_production_session_cookie_is_a_host_cookie(db, production_settings):
    values = {name: value for name, value in production_settings.items() if name.startswith("SESSION_")}
    with override_settings(**values):
        request = RequestFactory().get("/", secure=True)

        def view(request):
            request.session["seen"] = True
            return HttpResponse("x")

        response = SessionMiddleware(view)(request)
    cookie = response.cookies["__Host-sessionid"]
    # The browser keeps a __Host- cookie only with all of these.
    assert cookie["secure"] and cookie["path"] == "/" and not cookie["domain"]
    assert cookie["httponly"] and cookie["samesite"] == "Lax"


def test_a_wagtail_preview_may_be_framed_by_the_editor_only(public, client):
    """Wagtail runs the previewed page through the middleware again and marks it SAMEORIGIN."""
    client.force_login(factories.UserFactory(is_superuser=True, is_staff=True))
    home = public["fund_pages"][0].get_parent().get_parent().specific
    preview_url = reverse("wagtailadmin_pages:preview_on_edit", args=[home.pk])
    data = nested_form_data(
        {
            "title": home.title,
            "slug": home.slug,
            "intro": rich_text("<p>Hello</p>"),
            "comments": inline_formset([]),
        }
    )
    assert client.post(preview_url, data).json()["is_valid"] is True
    preview = client.get(preview_url, {"in_preview_panel": "true"})
    assert preview.status_code == 200 and preview["X-Frame-Options"] == "SAMEORIGIN"
    policy = directives(preview["Content-Security-Policy"])
    assert policy["frame-ancestors"] == ["'self'"]
    assert policy["script-src"] == ["'self'"]  # the page's own (public) policy otherwise


def test_every_wagtail_template_with_an_inline_script_is_overridden_with_the_nonce():
    """A Wagtail upgrade that adds an inline script to a template in use fails here first."""
    inline_script = re.compile(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)[^>]*>", re.IGNORECASE)
    missing = []
    for app in apps.get_app_configs():
        if not app.name.startswith("wagtail"):
            continue
        templates = Path(app.path) / "templates"
        for template in templates.rglob("*.html"):
            if inline_script.search(template.read_text()):
                relative = template.relative_to(templates)
                override = ROOT / "templates" / relative
                if not override.exists() or 'nonce="{% csp_nonce %}"' not in override.read_text():
                    missing.append(str(relative))
    assert missing == []


@pytest.mark.parametrize(
    ("language", "heading"),
    [("en", "Your form could not be sent"), ("es", "No se pudo enviar su formulario")],
)
def test_a_form_sent_without_its_token_gets_a_translated_strict_page_and_changes_nothing(
    public, language, heading
):
    from django.test import Client

    from grants.models import Donation

    client = Client(enforce_csrf_checks=True)
    response = client.post(
        donate_url(public["fund"], language),
        {"amount": "50", "frequency": "one_time", "name": "Dana", "email": "dana@example.org"},
    )
    assert response.status_code == 403
    html = response.content.decode()
    assert heading in html and f'lang="{language}"' in html
    assert Donation.objects.count() == 0
    policy = directives(response["Content-Security-Policy"])
    assert policy["style-src"] == ["'self'"] and policy["script-src"] == ["'self'"]
    found = inline_code(html)
    assert found.style_elements == 0 and found.style_attributes == []
    assert found.executable_inline_scripts() == []
