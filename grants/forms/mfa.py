"""allauth's two-factor sign-in form, which in demo mode also knows the demo accounts' code."""

from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm
from allauth.mfa.models import Authenticator
from allauth.mfa.webauthn.forms import AddWebAuthnForm as AllauthAddWebAuthnForm
from django import forms
from django.utils.translation import gettext_lazy as _

from grants.demo_mfa import current_demo_code, uses_demo_authenticator
from grants.forms.limits import TextLimits

KEY_NAME_LENGTH = 100


class AuthenticateForm(AllauthAuthenticateForm):
    """The code form of allauth's sign-in stage (``MFA_FORMS["authenticate"]``)."""

    @property
    def demo_code(self) -> str:
        """The current demo code when this is a seeded demo account in demo mode, else ""."""
        return current_demo_code() if uses_demo_authenticator(self.user) else ""

    @property
    def has_security_key(self) -> bool:
        """Whether the person signing in registered a security key or passkey (then the page
        offers it next to the code)."""
        return Authenticator.objects.filter(user_id=self.user.pk, type=Authenticator.Type.WEBAUTHN).exists()


class AddWebAuthnForm(TextLimits, AllauthAddWebAuthnForm):
    """Adding a security key or passkey (``MFA_FORMS["add_webauthn"]``): the name field gets a
    translated label, a hint and a limit (allauth's has none of them)."""

    name = forms.CharField(
        label=_("Name of this key"),
        required=False,
        max_length=KEY_NAME_LENGTH,
        help_text=_("So you can tell your keys apart, for example “Office key”."),
    )
