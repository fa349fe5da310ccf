"""allauth's two-factor sign-in form, which in demo mode also knows the demo accounts' code."""

from allauth.mfa.base.forms import AuthenticateForm as AllauthAuthenticateForm

from grants.demo_mfa import current_demo_code, uses_demo_authenticator


class AuthenticateForm(AllauthAuthenticateForm):
    """The code form of allauth's sign-in stage (``MFA_FORMS["authenticate"]``)."""

    @property
    def demo_code(self) -> str:
        """The current demo code when this is a seeded demo account in demo mode, else ""."""
        return current_demo_code() if uses_demo_authenticator(self.user) else ""
