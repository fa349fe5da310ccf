"""Sign-up form: allauth's, plus the person's name and the language for our emails."""

from allauth.account.forms import SignupForm as AllauthSignupForm
from django import forms
from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from grants import languages
from grants.forms.limits import TextLimits


class SignupForm(TextLimits, AllauthSignupForm):
    """Email and password (allauth), a name to greet people by, and their language.

    The language defaults to that of the page the form is on, so signing up on /es/ means
    Spanish emails unless the person picks English.
    """

    field_order = ["first_name", "email", "password1", "password2", "preferred_language"]

    first_name = forms.CharField(
        label=_("Your name"),
        max_length=150,
        help_text=_("How we greet you in emails. A first name or nickname is enough."),
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    preferred_language = forms.ChoiceField(
        label=_("Language for emails"),
        choices=languages.own_names,  # each in its own name
        widget=forms.RadioSelect,
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = translation.get_language()
        if current in dict(self.fields["preferred_language"].choices) and current in dict(settings.LANGUAGES):
            self.fields["preferred_language"].initial = current
        # allauth sets placeholders that repeat the label; a visible label is enough.
        for field in self.fields.values():
            field.widget.attrs.pop("placeholder", None)
