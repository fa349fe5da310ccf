"""How allauth treats applicants: emails in the recipient's language under the site's own name, a one-time sign-in
link next to the sign-in code, the sign-up extras, and where people land after signing in; and
how the second factor's secrets are kept (encrypted with the portal's field keys)."""

from allauth.account.adapter import DefaultAccountAdapter
from allauth.account.utils import filter_users_by_email
from allauth.core import context as allauth_context
from allauth.mfa.adapter import DefaultMFAAdapter
from django.conf import settings
from django.urls import NoReverseMatch, reverse, translate_url
from django.utils import translation

from cms.branding import site_name
from grants import crypto
from grants.services.accounts import login_link_max_age, make_login_link_token

LOGIN_CODE_EMAIL = "account/email/login_code"


class AccountAdapter(DefaultAccountAdapter):
    def send_mail(self, template_prefix: str, email: str, context: dict) -> None:
        """Render and send in the recipient's ``preferred_language`` when they have an
        account, else in the language of the page they used. Links in the email point to
        pages in that same language."""
        request = allauth_context.request
        user = context.get("user") or self._account_for(email)
        language = getattr(user, "preferred_language", "") or translation.get_language()
        if language not in dict(settings.LANGUAGES):
            language = settings.LANGUAGE_CODE
        context = dict(context)
        context.setdefault("user", user)
        with translation.override(language):
            # The branding's name in the email's language, never the request's host (which is
            # what allauth's ``current_site`` holds without django.contrib.sites).
            context["site_name"] = site_name(request, language=language)
        for key, value in context.items():
            if key.endswith("_url") and isinstance(value, str):
                # Resolved in the page's language, then rebuilt with the email's prefix.
                context[key] = translate_url(value, language)
        if template_prefix == LOGIN_CODE_EMAIL and user is not None:
            context["login_link"] = self._login_link(request, user, email, language)
            context["login_link_minutes"] = max(1, login_link_max_age() // 60)
        with translation.override(language):
            super().send_mail(template_prefix, email, context)

    def format_email_subject(self, subject: str) -> str:
        """``[Site name] Subject``, the site's name from the branding settings in the language
        the email is being rendered in (``send_mail`` renders inside that language)."""
        name = site_name(allauth_context.request, language=translation.get_language())
        return f"[{name}] {subject}"

    def save_user(self, request, user, form, commit=True):
        """Keep the language chosen at sign-up; the name is stored by allauth as first_name."""
        language = form.cleaned_data.get("preferred_language")
        if language:
            user.preferred_language = language
        return super().save_user(request, user, form, commit=commit)

    def get_login_redirect_url(self, request) -> str:
        """The applicant dashboard once it exists (URL name "dashboard"), else LOGIN_REDIRECT_URL."""
        try:
            return reverse("dashboard")
        except NoReverseMatch:
            return super().get_login_redirect_url(request)

    def _account_for(self, email: str):
        users = filter_users_by_email(email, is_active=True, prefer_verified=True)
        return users[0] if users else None

    def _login_link(self, request, user, email: str, language: str) -> str:
        next_url = ""
        if request is not None:
            candidate = request.POST.get("next") or request.GET.get("next") or ""
            if candidate and self.is_safe_url(candidate):
                next_url = candidate
        token = make_login_link_token(user=user, email=email, next_url=next_url)
        with translation.override(language):
            path = reverse("login_link", kwargs={"token": token})
        if request is not None:
            return request.build_absolute_uri(path)
        return settings.WAGTAILADMIN_BASE_URL.rstrip("/") + path


class MFAAdapter(DefaultMFAAdapter):
    """Authenticator app secrets and recovery-code seeds are stored as Fernet tokens under
    FIELD_ENCRYPTION_KEYS (rotated by ``manage.py rotate_encryption_keys``), as the sensitive
    answers and Stripe secrets are. A value stored in the clear before encryption was turned on
    is still read; the rotation command encrypts it."""

    def encrypt(self, text: str) -> str:
        return crypto.encrypt(text)

    def decrypt(self, encrypted_text: str) -> str:
        if not crypto.is_token(encrypted_text):
            return encrypted_text  # stored in the clear by an earlier version
        return crypto.decrypt(encrypted_text, what="A second-factor secret")
