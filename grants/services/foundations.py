"""Adding a foundation to the portal: one step for the platform administrator.

``add_foundation`` creates, in one transaction, everything a new foundation needs to start:
the foundation row, its section of the page tree in English and Spanish, its Stripe keys (when
given; none means the simulated Stripe of the demo and the tests, or the environment's keys),
and its first foundation admin, who is invited by email in their language to set a password
and sign in. If any part fails, nothing is created and no email leaves.
"""

from allauth.account import app_settings as allauth_settings
from allauth.account.models import EmailAddress
from allauth.account.utils import user_pk_to_url_str
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email
from django.db import transaction
from django.urls import reverse
from django.utils import translation
from django.utils.html import linebreaks
from django.utils.translation import gettext as _

from cms.sections import ensure_foundation_section
from grants.models import Foundation, Role, User
from grants.payments import credentials
from grants.services.notifications import send_templated_email
from grants.services.staff import add_staff
from grants.services.workflow import record

LANGUAGE_CODES = tuple(code for code, _name in settings.LANGUAGES)


def intro_html(text: str) -> str:
    """Plain text typed in a form as the section page's rich text: paragraphs, escaped."""
    text = (text or "").strip()
    return linebreaks(text, autoescape=True) if text else ""


def _check_admin(email: str, language: str) -> None:
    errors = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["admin_email"] = [_("Enter a valid email address.")]
    if language not in LANGUAGE_CODES:
        errors["admin_language"] = [_("Choose English or Spanish.")]
    if errors:
        raise ValidationError(errors)


def _first_admin(*, email: str, name: str, language: str) -> tuple[User, bool]:
    """The user with ``email``, or a new one with an unusable password (set through the invitation)."""
    user = User.objects.filter(email__iexact=email).first()
    if user is not None:
        if not user.is_staff:
            user.is_staff = True
            user.save(update_fields=["is_staff"])
        return user, False
    first_name, _space, last_name = name.strip().partition(" ")
    user = User.objects.create_user(
        email, password=None, first_name=first_name[:150], last_name=last_name[:150],
        preferred_language=language, is_staff=True,
    )  # fmt: skip
    # Only the person who reads this mailbox can set the password (the link goes nowhere else),
    # so the address is as good as verified: they are not asked to confirm it again.
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user, True


def _in_language(language: str, name: str, **kwargs) -> str:
    with translation.override(language):
        return reverse(name, kwargs=kwargs or None)


def _set_password_url(user: User, language: str) -> str:
    """A link to allauth's "set a new password" page, on the portal's configured address (never
    the request's host, which a client chooses)."""
    token = allauth_settings.PASSWORD_RESET_TOKEN_GENERATOR().make_token(user)
    path = _in_language(
        language, "account_reset_password_from_key", uidb36=user_pk_to_url_str(user), key=token
    )
    return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


def add_foundation(
    *,
    by,
    name: str,
    slug: str,
    legal_name: str,
    tax_id: str = "",
    default_currency: str = "USD",
    contact_email: str,
    contact_phone: str = "",
    intro_en: str = "",
    intro_es: str = "",
    stripe_secret_key: str = "",
    stripe_publishable_key: str = "",
    stripe_webhook_secret: str = "",
    stripe_connect_webhook_secret: str = "",
    admin_email: str,
    admin_name: str = "",
    admin_language: str = "en",
) -> Foundation:
    """Create a foundation with its section pages, Stripe keys and first admin; invite the admin.

    Only a platform administrator (Django superuser) may (``PermissionDenied`` otherwise).
    Bad input raises ``ValidationError`` keyed by field name (slug taken, EIN format, emails,
    Stripe key formats) before anything is written; a failure later rolls everything back.
    ``intro_en`` / ``intro_es`` are plain text, shown as paragraphs on the section pages. The
    admin is found by email or created with an unusable password; the invitation (in their
    language: the one given for a new person, their own for someone already in the portal)
    carries a link to set a password and one to the admin, built on ``WAGTAILADMIN_BASE_URL``.
    """
    if not getattr(by, "is_superuser", False):
        raise PermissionDenied
    admin_email = (admin_email or "").strip().lower()
    foundation = Foundation(
        name=name.strip(), slug=slug.strip(), legal_name=legal_name.strip(), tax_id=tax_id.strip(),
        default_currency=default_currency, contact_email=contact_email.strip(),
        contact_phone=contact_phone.strip(),
    )  # fmt: skip
    errors = {}
    try:
        foundation.full_clean()
    except ValidationError as error:
        errors.update(error.message_dict)
    try:
        _check_admin(admin_email, admin_language)
    except ValidationError as error:
        errors.update(error.message_dict)
    stripe_keys = {
        "stripe_secret_key": (stripe_secret_key.strip(), credentials.validate_secret_key),
        "stripe_publishable_key": (stripe_publishable_key.strip(), credentials.validate_publishable_key),
        "stripe_webhook_secret": (stripe_webhook_secret.strip(), credentials.validate_webhook_secret),
        "stripe_connect_webhook_secret": (
            stripe_connect_webhook_secret.strip(),
            credentials.validate_webhook_secret,
        ),
    }
    for field, (value, validate) in stripe_keys.items():
        if value:
            try:
                validate(value)
            except ValidationError as error:
                errors[field] = error.messages
    if errors:
        raise ValidationError(errors)
    with transaction.atomic():
        foundation.save()
        ensure_foundation_section(foundation, intro={"en": intro_html(intro_en), "es": intro_html(intro_es)})
        keys = {field: value for field, (value, _validate) in stripe_keys.items()}
        if any(keys.values()):
            credentials.save_stripe_secrets(
                foundation, by=by, secret_key=keys["stripe_secret_key"],
                publishable_key=keys["stripe_publishable_key"], webhook_secret=keys["stripe_webhook_secret"],
                connect_webhook_secret=keys["stripe_connect_webhook_secret"],
            )  # fmt: skip
        admin, created = _first_admin(email=admin_email, name=admin_name, language=admin_language)
        add_staff(admin, foundation=foundation, role=Role.FOUNDATION_ADMIN)
        record(subject=foundation, subject_type="foundation", action="created", actor=by, foundation=foundation,
               note=f"first foundation admin: user {admin.pk}{' (new)' if created else ''}")  # fmt: skip
        language = admin_language if created else (admin.preferred_language or admin_language)
        base_url = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        send_templated_email(
            "foundation_admin_invite",
            to=[admin.email],
            language=language,
            context={
                "foundation": foundation.name,
                "person": admin.get_full_name(),
                "site_name": settings.WAGTAIL_SITE_NAME,
                "set_password_url": _set_password_url(admin, language)
                if not admin.has_usable_password()
                else "",
                "sign_in_url": base_url + reverse("wagtailadmin_home"),
                "reset_url": base_url + _in_language(language, "account_reset_password"),
                "link_days": max(1, settings.PASSWORD_RESET_TIMEOUT // 86400),
            },
        )
    return foundation
