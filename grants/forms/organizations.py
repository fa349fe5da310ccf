"""Forms for an applicant organization's profile and for inviting people to it."""

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext_lazy as _

from grants import languages
from grants.forms.limits import TextLimits
from grants.models import LegalStatus, Organization
from grants.services.organizations import PROFILE_FIELDS, normalize_ein

PRIVACY_HELP = _(
    "Describe your group's work in general terms. Never enter client names, case numbers, "
    "immigration status or street addresses."
)


class OrganizationForm(TextLimits, forms.ModelForm):
    """The profile. Tax ids are checked as EINs (NN-NNNNNNN) only where the legal status needs
    them; the model checks which ones each status requires."""

    class Meta:
        model = Organization
        fields = PROFILE_FIELDS
        widgets = {
            "name": forms.TextInput(attrs={"autocomplete": "organization"}),
            "mission": forms.Textarea(attrs={"rows": 4}),
            "legal_status": forms.RadioSelect,
            "tax_id": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
            "sponsor_name": forms.TextInput(attrs={"autocomplete": "off"}),
            "sponsor_tax_id": forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
        }
        labels = {
            "mission": _("What your group does"),
        }
        help_texts = {
            "mission": _("In general terms. No client names or case numbers."),
            "region_served": _("Cities, counties or region — never a street address."),
            "tax_id": _("Only for nonprofits: the EIN, like 12-3456789."),
            "sponsor_name": _("Only for fiscally sponsored projects."),
            "sponsor_tax_id": _("Only for fiscally sponsored projects: the sponsor's EIN, like 12-3456789."),
        }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # A radio list without an empty "---------" choice.
        self.fields["legal_status"].choices = LegalStatus.choices
        # Required or not depending on the legal status: not marked "optional".
        for name in ("tax_id", "sponsor_name", "sponsor_tax_id"):
            self.fields[name].conditional = True

    def clean(self):
        cleaned = super().clean()
        status = cleaned.get("legal_status")
        needs = {
            "tax_id": status == LegalStatus.NONPROFIT,
            "sponsor_tax_id": status == LegalStatus.FISCALLY_SPONSORED,
        }
        for field, needed in needs.items():
            value = cleaned.get(field) or ""
            if not needed:
                cleaned[field] = ""
            elif value:
                try:
                    cleaned[field] = normalize_ein(value)
                except ValidationError as error:
                    self.add_error(field, error)
                    # A tax id was given, only mistyped: do not also say it is missing.
                    setattr(self.instance, field, value)
        if status != LegalStatus.FISCALLY_SPONSORED:
            cleaned["sponsor_name"] = ""
        return cleaned

    def profile(self) -> dict:
        """The cleaned profile, as keyword arguments for the organization services."""
        return {field: self.cleaned_data.get(field, "") for field in PROFILE_FIELDS}


class InviteForm(TextLimits, forms.Form):
    """Invite someone by email address, in the language they read."""

    email = forms.EmailField(
        label=_("Their email address"),
        max_length=254,
        help_text=_("They will need to sign in or create an account with this address to join."),
        widget=forms.EmailInput(attrs={"autocomplete": "off"}),
    )
    language = forms.ChoiceField(
        label=_("Language of the invitation email"),
        choices=languages.own_names,  # each in its own name
        widget=forms.RadioSelect,
        help_text=_("If they already have an account, we use the language they chose."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = translation.get_language()
        self.fields["language"].initial = current if current in dict(settings.LANGUAGES) else "en"

    def clean_email(self):
        return self.cleaned_data["email"].strip().lower()
