"""Settings for Fund portal: one module, everything from the environment.

With no environment at all the portal runs as a demo: DEBUG on, SQLite file, simulated
Stripe, email printed to the console. Setting ``DJANGO_DEBUG=0`` switches to production
behaviour, which refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

import base64
import os
from pathlib import Path

import dj_database_url
from csp import constants as csp_constants
from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name: str, default: str = "") -> list[str]:
    return [item.strip() for item in env(name, default).split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)
TESTING = env_bool("FUNDPORTAL_TESTING", False)

# Demo key: only ever accepted while DEBUG is on.
_DEMO_SECRET_KEY = "demo-only-insecure-key-never-use-in-production-0123456789abcdef"
SECRET_KEY = env("SECRET_KEY", _DEMO_SECRET_KEY if DEBUG else "")
if not DEBUG and (not SECRET_KEY or SECRET_KEY == _DEMO_SECRET_KEY or len(SECRET_KEY) < 50):
    raise ImproperlyConfigured(
        "SECRET_KEY must be set to a random value of at least 50 characters when DJANGO_DEBUG=0."
    )

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "127.0.0.1,localhost,[::1]" if DEBUG else "")
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must list the portal's host names when DJANGO_DEBUG=0.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "grants",
    # The simulated Stripe (demo and tests); its tables exist whatever STRIPE_GATEWAY says.
    "grants.payments.simulator.apps.SimulatorConfig",
    "cms",
    "wagtail.contrib.forms",
    "wagtail.contrib.redirects",
    "wagtail.contrib.settings",
    "wagtail.contrib.routable_page",
    "wagtail.contrib.simple_translation",
    "wagtail.locales",
    "wagtail.embeds",
    "wagtail.sites",
    "wagtail.users",
    "wagtail.snippets",
    "wagtail.documents",
    "wagtail.images",
    "wagtail.search",
    "wagtail.admin",
    "wagtail",
    "modelcluster",
    "taggit",
    "django_filters",
    "djmoney",
    "django_tasks",
    "django_tasks_db",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "csp",
]

MIDDLEWARE = [
    "grants.middleware_health.HealthCheckMiddleware",  # /healthz for load balancers, before host checks
    "django.middleware.security.SecurityMiddleware",
    "grants.middleware_headers.ContentSecurityPolicyMiddleware",  # django-csp, admin policy by path
    "grants.middleware_headers.PermissionsPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "fundportal.locale_middleware.LocaleMiddleware",  # Django's; no /en/ redirect for admin, webhooks…
    "grants.middleware.RejectNulBytesMiddleware",  # NUL in a path, query or form field: 400 (translated)
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "grants.middleware_roles.StaffRolesMemoMiddleware",  # a user's staff roles read once per request
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "grants.middleware_error_pages.PortalErrorPagesMiddleware",  # the demo shows the portal's 404/500
    "grants.middleware.StaffSecurityMiddleware",
    "cms.middleware.ForeignPageContentMiddleware",  # other foundations' page drafts and history: 404
    "cms.admin_scope.WagtailAdminScopeMiddleware",  # admin URLs naming another foundation's page: 404
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

CSRF_FAILURE_VIEW = "grants.views.errors.csrf_failure"  # translated, no inline styles
ROOT_URLCONF = "fundportal.urls"
# Form widgets may use project templates (e.g. the budget table).
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"
WSGI_APPLICATION = "fundportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "wagtail.contrib.settings.context_processors.settings",
                "cms.context_processors.navigation",
            ],
        },
    },
]

# Database: SQLite file by default, PostgreSQL in production and CI via DATABASE_URL.
DATABASES = {
    "default": dj_database_url.parse(
        env("DATABASE_URL", f"sqlite:///{BASE_DIR / 'db.sqlite3'}"),
        # Each process keeps its connection for a minute (checked before reuse) instead of
        # opening one per request; the tests open and close their own.
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "0" if TESTING else "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("TEST", {})["NAME"] = env("DATABASE_TEST_NAME", "test_fundportal")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "grants.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

# Languages: English and Spanish, URL prefixes /en/ and /es/ for every public page.
LANGUAGE_CODE = "en"
# Adding a language is configuration and a catalogue (docs/decisions.md "Adding a language"):
# PORTAL_LANGUAGES=en,es,pt plus locale/pt/LC_MESSAGES/django.po; names come from Django's list.
_LANGUAGE_NAMES = {"en": _("English"), "es": _("Spanish")}
LANGUAGES = [
    (code, _LANGUAGE_NAMES[code] if code in _LANGUAGE_NAMES else _(LANG_INFO[code]["name"]))
    for code in (part.strip() for part in env("PORTAL_LANGUAGES", "en,es").split(","))
    if code
]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
# One way to write a date per language, long or short (fundportal/formats/<lang>/formats.py):
# "Dec 5, 2026" and "5 dic 2026", never "12/05/2026".
FORMAT_MODULE_PATH = ["fundportal.formats"]
TIME_ZONE = env("TIME_ZONE", "America/Los_Angeles")
# Babel locale used to format money for each interface language.
MONEY_FORMAT_LOCALES = {"en": "en_US", "es": "es"}

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
# Applicant uploads and receipts never live under MEDIA_URL: a view checks permission first.
PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", str(BASE_DIR / "private_media")))
# Files: the local disk (the demo's default) or an S3-compatible object store (STORAGE_BACKEND=s3),
# so every web node and the worker read the same files. Public media (Wagtail images and
# documents) and private files (applicant uploads, receipts, exports) live in separate buckets or
# prefixes; private objects are never public: they are streamed by the views that check
# permission (grants/views/files.py), never linked.
STORAGE_BACKEND = env("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "s3":
    _s3 = {
        "endpoint_url": env("S3_ENDPOINT_URL") or None,  # empty: Amazon S3 itself
        "region_name": env("S3_REGION") or None,
        "access_key": env("S3_ACCESS_KEY_ID") or None,  # empty: boto3's own chain (AWS_* variables, roles)
        "secret_key": env("S3_SECRET_ACCESS_KEY") or None,
        "addressing_style": env("S3_ADDRESSING_STYLE", "path"),
        "signature_version": "s3v4",
        "file_overwrite": False,
    }
    _public_bucket = env("S3_PUBLIC_BUCKET")
    _private_bucket = env("S3_PRIVATE_BUCKET", _public_bucket)
    if not _public_bucket:
        raise ImproperlyConfigured(
            "STORAGE_BACKEND=s3 needs S3_PUBLIC_BUCKET (and S3_PRIVATE_BUCKET, or prefixes)."
        )
    if _private_bucket == _public_bucket and env("S3_PUBLIC_PREFIX", "public") == env(
        "S3_PRIVATE_PREFIX", "private"
    ):
        raise ImproperlyConfigured("Public and private files need different buckets or prefixes.")
    PUBLIC_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3,
            "bucket_name": _public_bucket,
            "location": env("S3_PUBLIC_PREFIX", "public"),
            "custom_domain": env("S3_PUBLIC_DOMAIN") or None,  # a CDN or the bucket's public host
            "querystring_auth": env_bool("S3_PUBLIC_SIGNED_URLS", False),
            "default_acl": None,  # the bucket's policy decides; never per-object public ACLs
        },
    }
    PRIVATE_STORAGE = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            **_s3,
            "bucket_name": _private_bucket,
            "location": env("S3_PRIVATE_PREFIX", "private"),
            "querystring_auth": True,
            "default_acl": "private",
        },
    }
elif STORAGE_BACKEND == "filesystem":
    PUBLIC_STORAGE = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
    PRIVATE_STORAGE = {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    }
else:
    raise ImproperlyConfigured("STORAGE_BACKEND is 'filesystem' (the default) or 's3'.")
STORAGES = {
    "default": PUBLIC_STORAGE,
    "private": PRIVATE_STORAGE,
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG or TESTING
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
DATA_UPLOAD_MAX_NUMBER_FIELDS = 10_000

# Email: printed to the console unless an SMTP host is configured.
EMAIL_HOST = env("EMAIL_HOST")
# Every email goes through the outbox (grants/mail.py, grants/services/outbox.py): kept in the
# database, delivered by the worker, retried. EMAIL_BACKEND (the environment variable) names the
# backend that talks to the mail server.
EMAIL_DELIVERY_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
EMAIL_BACKEND = "grants.mail.OutboxBackend"
EMAIL_PORT = int(env("EMAIL_PORT", "587"))
EMAIL_HOST_USER = env("EMAIL_HOST_USER")
EMAIL_HOST_PASSWORD = env("EMAIL_HOST_PASSWORD")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", True)
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "Fund portal <no-reply@fundportal.localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# Cache: local memory for the demo, Redis when REDIS_URL / CACHE_URL is set.
CACHE_URL = env("CACHE_URL")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": CACHE_URL}
        if CACHE_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Background tasks: run at once in the demo and tests, from the database queue in production.
# The journal-line index carries the amount as a non-key column so PostgreSQL answers balances
# from the index alone; SQLite (demo only) ignores that part, which is harmless.
SILENCED_SYSTEM_CHECKS = ["models.W040"]

TASKS = {
    "default": {
        "BACKEND": env(
            "TASKS_BACKEND",
            "django_tasks.backends.immediate.ImmediateBackend"
            if DEBUG or TESTING
            else "django_tasks_db.DatabaseBackend",
        )
    }
}

# Stripe: the simulated gateway unless real keys are configured (see README).
# The version the pinned stripe library is generated for (stripe.api_version): its parameter and
# object types, which tests/grants/test_stripe_params.py checks every request against, describe
# this version only. Upgrading the library means moving this too (docs/decisions.md).
STRIPE_API_VERSION = "2026-10-28.endive"
STRIPE_GATEWAY = env("STRIPE_GATEWAY", "simulated")
# How kind the simulated Stripe is: "kind" answers at once and truthfully; "adverse" times out,
# answers 500 after doing the work, leaves keys in flight (409), refuses transfers beyond the
# balance and delivers events late, twice and out of order (docs/decisions.md "The simulated
# Stripe"). The seed makes an adverse run repeatable. Tests never read these: they script it.
STRIPE_SIMULATOR = "kind" if TESTING else env("STRIPE_SIMULATOR", "kind")
STRIPE_SIMULATOR_SEED = int(env("STRIPE_SIMULATOR_SEED", "0"))
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
# Webhook events whose livemode differs from this are refused and flagged (test keys: off).
STRIPE_LIVEMODE = env_bool("STRIPE_LIVEMODE", False)
# A webhook event about something not known yet (a refund before its payment) waits this many
# days for the event it depends on, then is flagged for finance.
WEBHOOK_WAITING_MAX_DAYS = float(env("WEBHOOK_WAITING_MAX_DAYS", "3"))
# Processing fee estimate shown to donors who choose to cover it: percent + fixed amount in
# minor units of the currency (no fixed part for zero-decimal currencies such as JPY).
DONATION_FEE_PERCENT = env("DONATION_FEE_PERCENT", "2.9")
DONATION_FEE_FIXED_MINOR_UNITS = int(env("DONATION_FEE_FIXED_MINOR_UNITS", "30"))
# How long a donor's emailed link to manage a monthly gift stays valid.
DONOR_LINK_MAX_AGE_DAYS = int(env("DONOR_LINK_MAX_AGE_DAYS", "7"))
# Public transparency pages suppress any figure describing fewer grants than this.
TRANSPARENCY_MIN_GROUP = int(env("TRANSPARENCY_MIN_GROUP", "3"))
# Auditor exports: how long a download link works, and from how many rows the export is
# prepared in the background (with progress) instead of at once.
EXPORT_LINK_HOURS = int(env("EXPORT_LINK_HOURS", "24"))
EXPORT_BACKGROUND_ROWS = int(env("EXPORT_BACKGROUND_ROWS", "5000"))
# Yearly stipend total (in the fund's currency) at which a payee is flagged for tax reporting.
STIPEND_TAX_THRESHOLD = int(env("STIPEND_TAX_THRESHOLD", "2000"))
# How long Stripe may stay silent about a payment before the sweep asks it (grants.services.payouts).
PAYOUT_SETTLE_AFTER_SECONDS = int(env("PAYOUT_SETTLE_AFTER_SECONDS", "300"))

# Wagtail
WAGTAIL_SITE_NAME = env("SITE_NAME", "Fund portal")
# The portal's public address, for links in emails. `make demo` sets it from HOST and PORT.
WAGTAILADMIN_BASE_URL = env("BASE_URL", f"http://127.0.0.1:{env('PORT', '8000')}")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# Demo data (logins printed by seed_demo) may only be created while DEBUG is on.
DEMO_MODE = DEBUG
# With DEBUG on, show the portal's own 404, 400 and 500 pages instead of Django's debug pages
# (which list every URL); `make demo` turns it on. Without DEBUG they are always shown.
PORTAL_ERROR_PAGES = env_bool("PORTAL_ERROR_PAGES", False)

# Production hardening: on whenever DEBUG is off.
SECURE_SSL_REDIRECT = not DEBUG and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not DEBUG else None
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# No script reads the CSRF cookie: forms carry the token, Wagtail's admin gets it in its page.
CSRF_COOKIE_HTTPONLY = True
CSRF_COOKIE_SAMESITE = "Lax"
# The "__Host-" prefix makes browsers refuse these cookies unless they are Secure, for "/" and
# without a Domain: a neighbouring subdomain cannot set or shadow them. HTTPS only, so not in
# the demo (which runs on plain http).
if not DEBUG:
    SESSION_COOKIE_NAME = "__Host-sessionid"
    CSRF_COOKIE_NAME = "__Host-csrftoken"
LANGUAGE_COOKIE_SECURE = not DEBUG
LANGUAGE_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Our pages open no window that must reach back (Stripe's pages are reached by redirect).
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"  # Wagtail marks its own preview views SAMEORIGIN

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        "django.request": {"level": "ERROR"},
        "django_tasks": {"level": "WARNING"},
        "wagtail": {"level": "WARNING"},
    },
}

# --- Applicant accounts (django-allauth) -------------------------------------------------
# Applicants sign up and sign in on the public site under /<lang>/accounts/; staff keep
# Wagtail's own login at /admin/login/ (Django's ModelBackend, email as the username).
AUTHENTICATION_BACKENDS = [
    "django.contrib.auth.backends.ModelBackend",
    "allauth.account.auth_backends.AuthenticationBackend",
]
LOGIN_URL = "account_login"  # replaces the /admin/login/ default above for the public site
# Until the applicant dashboard exists the adapter falls back to this; it prefers the URL
# named "dashboard" as soon as one is defined (grants.adapters.AccountAdapter).
LOGIN_REDIRECT_URL = "/"
ACCOUNT_ADAPTER = "grants.adapters.AccountAdapter"
ACCOUNT_FORMS = {"signup": "grants.forms.accounts.SignupForm"}
ACCOUNT_LOGIN_METHODS = {"email"}
ACCOUNT_SIGNUP_FIELDS = ["email*", "password1*", "password2*"]
ACCOUNT_USER_MODEL_USERNAME_FIELD = None
ACCOUNT_UNIQUE_EMAIL = True
ACCOUNT_EMAIL_VERIFICATION = "mandatory"
ACCOUNT_LOGIN_ON_EMAIL_CONFIRMATION = True
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
# Account emails (templates/account/email/, templates/mfa/email/) are the portal's own, in the
# recipient's language; grants.adapters.AccountAdapter prefixes their subject with the
# branding's site name in that language, so allauth's prefix setting is not used.
# People are told of every change to their account's security (password, addresses, 2FA).
ACCOUNT_EMAIL_NOTIFICATIONS = True
# Passwordless sign-in: a code by email, and in the same email a one-time link
# (grants.views.accounts.login_link). Ten minutes rather than allauth's three: people often
# switch between apps on a phone to read the code. The link expires with the code.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 600
# --- end of applicant accounts ------------------------------------------------------------

# --- encryption at rest ---
# Fernet keys for encrypted database fields (sensitive answers, stored Stripe secrets), comma
# separated: the first key encrypts, every key decrypts. To rotate, put a new key first, deploy,
# run `manage.py rotate_encryption_keys`, then remove the old key. `manage.py
# generate_encryption_key` prints a new key. With DEBUG on and no key set (demo, tests), one key
# is derived from SECRET_KEY (grants.crypto.demo_key): changing SECRET_KEY then makes the demo
# database's encrypted values unreadable.
FIELD_ENCRYPTION_KEYS = env_list("FIELD_ENCRYPTION_KEYS")
FIELD_ENCRYPTION_DEMO_KEY = DEBUG and not FIELD_ENCRYPTION_KEYS
if not DEBUG and not FIELD_ENCRYPTION_KEYS:
    raise ImproperlyConfigured(
        "FIELD_ENCRYPTION_KEYS must be set when DJANGO_DEBUG=0: make a key with "
        "`DJANGO_DEBUG=1 manage.py generate_encryption_key` and keep it with your other secrets."
    )
for _position, _key in enumerate(FIELD_ENCRYPTION_KEYS, start=1):
    try:
        _valid_key = len(base64.urlsafe_b64decode(_key.encode())) == 32
    except ValueError:
        _valid_key = False
    if not _valid_key:
        # The key itself is never repeated in the message: it may end up in a log.
        raise ImproperlyConfigured(
            f"Key number {_position} of FIELD_ENCRYPTION_KEYS is not a Fernet key (44 characters "
            "of URL-safe base64); make one with `manage.py generate_encryption_key`."
        )
# --- end of encryption at rest ---

# --- staff security ---
# Staff (anyone with a staff role, admin access or superuser rights) sign in on allauth's page
# like applicants, then must pass a second factor: an authenticator app (TOTP) or a security
# key / passkey (WebAuthn), with recovery codes (grants.middleware.StaffSecurityMiddleware
# guards /admin/). Applicants may turn it on.
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes", "webauthn"]
# Browsers only offer WebAuthn on HTTPS pages, or on http://localhost / 127.0.0.1 (the demo and
# the browser tests); production is HTTPS, so insecure origins are never accepted there.
MFA_WEBAUTHN_ALLOW_INSECURE_ORIGIN = DEBUG or TESTING
MFA_ADAPTER = "grants.adapters.MFAAdapter"  # secrets encrypted with FIELD_ENCRYPTION_KEYS
MFA_TOTP_ISSUER = WAGTAIL_SITE_NAME
# One 30-second step either side: phones' clocks drift, and a code typed just as it changes
# still works. Each code is accepted once.
MFA_TOTP_TOLERANCE = 1
MFA_FORMS = {
    "authenticate": "grants.forms.mfa.AuthenticateForm",
    "add_webauthn": "grants.forms.mfa.AddWebAuthnForm",
}
# /admin/login/ sends people to allauth's sign-in page (grants.views.accounts.staff_login).
WAGTAILADMIN_LOGIN_URL = "/admin/login/"
# Staff reset a forgotten password on allauth's (rate-limited) page, not Wagtail's.
WAGTAIL_PASSWORD_RESET_ENABLED = False
# A staff session ends after this many minutes without a request (0: never). Applicants'
# sessions keep Django's SESSION_COOKIE_AGE.
STAFF_SESSION_IDLE_MINUTES = int(env("STAFF_SESSION_IDLE_MINUTES", "30"))
# Throttling (allauth.core.ratelimit; counted in the cache, so use Redis with several
# processes). "N/period/per": per "ip", per "key" (the email address or account) or per "user".
LOGIN_LOCKOUT_ATTEMPTS = int(env("LOGIN_LOCKOUT_ATTEMPTS", "5"))
LOGIN_LOCKOUT_MINUTES = int(env("LOGIN_LOCKOUT_MINUTES", "15"))
ACCOUNT_RATE_LIMITS = {
    # Any sign-in form post, from one address.
    "login": "30/m/ip",
    # Failed sign-ins: from one address, and per account. An account with too many failures is
    # locked for LOGIN_LOCKOUT_MINUTES even for the right password. Wrong authenticator codes
    # count here too (allauth's 2FA stage uses this limit, keyed by the account).
    "login_failed": f"20/10m/ip,{LOGIN_LOCKOUT_ATTEMPTS}/{LOGIN_LOCKOUT_MINUTES}m/key",
    # Emailed sign-in codes: from one address, and per email address (a code lasts 10 minutes).
    "request_login_code": "20/10m/ip,3/10m/key",
    # Password reset emails: from one address, and per email address.
    "reset_password": "20/10m/ip,3/h/key",
    # The page the reset email links to (carries a secret key).
    "reset_password_from_key": "20/m/ip",
    # New accounts from one address (a community centre may sign up a room of people).
    "signup": "30/h/ip",
    # Signed-in people changing their password or confirming it again.
    "change_password": "5/m/user",
    "reauthenticate": "10/m/user",
    # Ours: opening or using one-time sign-in links (grants.views.accounts.login_link).
    "login_link": "20/10m/ip",
    # Ours: donors asking for a new link to manage a monthly gift (sends email).
    "donor_manage_link": "10/h/ip,3/h/key",
}
# --- end of staff security ---

# --- content security policy ---
# django-csp sends the policy; grants.middleware_headers picks the admin one under /admin/.
# Public pages: no inline script or style at all (the brand colour comes from /branding.css).
# Forms may post only to us, and to Stripe's hosted Checkout and Connect onboarding when the
# real gateway is on: browsers check the redirect that follows a form post against form-action.
_CSP_REPORT_URI = env("CSP_REPORT_URI")
# Origins other than ours that serve images (e.g. an S3 bucket or CDN holding Wagtail images).
_CSP_IMG_HOSTS = env_list("CSP_IMG_HOSTS")
_CSP_FORM_ACTION = [csp_constants.SELF]
if STRIPE_GATEWAY == "stripe":
    _CSP_FORM_ACTION += ["https://checkout.stripe.com", "https://connect.stripe.com"]
_CSP_PUBLIC_DIRECTIVES = {
    "default-src": [csp_constants.SELF],
    "script-src": [csp_constants.SELF],
    "style-src": [csp_constants.SELF],
    "img-src": [csp_constants.SELF, "data:", *_CSP_IMG_HOSTS],
    "font-src": [csp_constants.SELF],
    "connect-src": [csp_constants.SELF],
    "form-action": _CSP_FORM_ACTION,
    "frame-ancestors": [csp_constants.NONE],
    "base-uri": [csp_constants.SELF],
    "object-src": [csp_constants.NONE],
}
if _CSP_REPORT_URI:
    _CSP_PUBLIC_DIRECTIVES["report-uri"] = [_CSP_REPORT_URI]
CONTENT_SECURITY_POLICY = {"DIRECTIVES": _CSP_PUBLIC_DIRECTIVES}
# Wagtail's admin: scripts still only from our files or with this response's nonce (Wagtail's
# few inline scripts get it: templates/wagtailadmin/ and grants.middleware_headers), but inline
# styles are allowed: Wagtail writes style="" attributes all over its markup and its widgets.
# blob: shows an image being uploaded before it is saved.
CONTENT_SECURITY_POLICY_ADMIN = {
    "DIRECTIVES": {
        **_CSP_PUBLIC_DIRECTIVES,
        "script-src": [csp_constants.SELF, csp_constants.NONCE],
        "style-src": [csp_constants.SELF, csp_constants.UNSAFE_INLINE],
        "img-src": [csp_constants.SELF, "data:", "blob:", *_CSP_IMG_HOSTS],
    }
}
# Browser features no page of the portal uses are switched off for it and anything it embeds.
PERMISSIONS_POLICY = {
    "accelerometer": [],
    "camera": [],
    "display-capture": [],
    "geolocation": [],
    "gyroscope": [],
    "magnetometer": [],
    "microphone": [],
    "midi": [],
    "payment": ["self"],
    "usb": [],
}
# Staff browsers ask no third party anything: no Gravatar (it would send a hash of each
# person's email address), no check for new Wagtail releases.
WAGTAIL_GRAVATAR_PROVIDER_URL = None
WAGTAIL_ENABLE_UPDATE_CHECK = False
# --- end of content security policy ---

# --- performance ---
# Public pages (home, funds, calls) are kept whole in the cache for visitors who are not signed
# in (cms.page_cache), for at most this many seconds; any change they show clears them at once.
# 0 turns the page cache off (the test suite's default: tests that need it turn it on).
PUBLIC_PAGE_CACHE_SECONDS = int(env("PUBLIC_PAGE_CACHE_SECONDS", "0" if TESTING else "300"))
# --- end of performance ---

if TESTING:
    # Search indexing on every page save only slows tests down; nothing here searches.
    WAGTAILSEARCH_BACKENDS["default"]["AUTO_UPDATE"] = False
    # Fast hashing keeps the suite quick; production keeps Django's default PBKDF2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", "/tmp/fundportal-test-private"))
    if STORAGE_BACKEND != "s3":
        STORAGES["private"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT
    # Public uploads made by tests (CMS documents, images) stay out of the checkout.
    MEDIA_ROOT = Path(env("MEDIA_ROOT", "/tmp/fundportal-test-media"))
