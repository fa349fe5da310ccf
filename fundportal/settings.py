"""Settings for Fund portal: one module, everything from the environment.

With no environment at all the portal runs as a demo: DEBUG on, SQLite file, simulated
Stripe, email printed to the console. Setting ``DJANGO_DEBUG=0`` switches to production
behaviour, which refuses to start without a real ``SECRET_KEY`` and ``ALLOWED_HOSTS``.
"""

import os
from pathlib import Path

import dj_database_url
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
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "wagtail.contrib.redirects.middleware.RedirectMiddleware",
]

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
        conn_max_age=int(env("DATABASE_CONN_MAX_AGE", "0")),
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
LANGUAGES = [("en", _("English")), ("es", _("Spanish"))]
WAGTAIL_I18N_ENABLED = True
WAGTAIL_CONTENT_LANGUAGES = LANGUAGES
LOCALE_PATHS = [BASE_DIR / "locale"]
USE_I18N = True
USE_TZ = True
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
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "private": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": PRIVATE_MEDIA_ROOT, "base_url": None},
    },
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
EMAIL_BACKEND = env(
    "EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if EMAIL_HOST
    else "django.core.mail.backends.console.EmailBackend",
)
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
STRIPE_API_VERSION = "2025-10-29.clover"
STRIPE_GATEWAY = env("STRIPE_GATEWAY", "simulated")
STRIPE_SECRET_KEY = env("STRIPE_SECRET_KEY")
STRIPE_PUBLISHABLE_KEY = env("STRIPE_PUBLISHABLE_KEY")
STRIPE_WEBHOOK_SECRET = env("STRIPE_WEBHOOK_SECRET")
# Webhook events whose livemode differs from this are refused and flagged (test keys: off).
STRIPE_LIVEMODE = env_bool("STRIPE_LIVEMODE", False)
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

# Wagtail
WAGTAIL_SITE_NAME = env("SITE_NAME", "Fund portal")
WAGTAILADMIN_BASE_URL = env("BASE_URL", "http://127.0.0.1:8000")
WAGTAILSEARCH_BACKENDS = {"default": {"BACKEND": "wagtail.search.backends.database"}}
WAGTAILDOCS_EXTENSIONS = ["csv", "docx", "odt", "pdf", "pptx", "rtf", "txt", "xlsx"]
WAGTAILDOCS_MAX_UPLOAD_SIZE = 10 * 1024 * 1024
WAGTAILADMIN_PERMITTED_LANGUAGES = LANGUAGES

# Demo data (logins printed by seed_demo) may only be created while DEBUG is on.
DEMO_MODE = DEBUG

# Production hardening: on whenever DEBUG is off.
SECURE_SSL_REDIRECT = not DEBUG and env_bool("SECURE_SSL_REDIRECT", True)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https") if not DEBUG else None
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SECURE_HSTS_SECONDS = 0 if DEBUG else int(env("SECURE_HSTS_SECONDS", "31536000"))
SECURE_HSTS_INCLUDE_SUBDOMAINS = not DEBUG
SECURE_HSTS_PRELOAD = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
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
ACCOUNT_EMAIL_SUBJECT_PREFIX = f"[{WAGTAIL_SITE_NAME}] "
# Passwordless sign-in: a code by email, and in the same email a one-time link
# (grants.views.accounts.login_link). Ten minutes rather than allauth's three: people often
# switch between apps on a phone to read the code. The link expires with the code.
ACCOUNT_LOGIN_BY_CODE_ENABLED = True
ACCOUNT_LOGIN_BY_CODE_TIMEOUT = 600
# --- end of applicant accounts ------------------------------------------------------------

if TESTING:
    # Search indexing on every page save only slows tests down; nothing here searches.
    WAGTAILSEARCH_BACKENDS["default"]["AUTO_UPDATE"] = False
    # Fast hashing keeps the suite quick; production keeps Django's default PBKDF2.
    PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    PRIVATE_MEDIA_ROOT = Path(env("PRIVATE_MEDIA_ROOT", "/tmp/fundportal-test-private"))
    STORAGES["private"]["OPTIONS"]["location"] = PRIVATE_MEDIA_ROOT
