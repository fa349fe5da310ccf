"""Forms of the stipend pages: coordinators' volunteers and shifts, staff's programs and batches.

Forms only shape input; the rules (future dates, computed months, currencies) are the service's.
"""

import datetime

from django import forms
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.forms.amounts import AmountField
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.forms.translations import add_translation_fields, input_name, translations_from
from grants.models import (
    Fund,
    Organization,
    RateUnit,
    Shift,
    StipendProgram,
    Volunteer,
    translation_languages,
)
from grants.money import currency_exponent, is_whole_in_minor_units
from grants.scoping_organizations import organizations_related_to
from grants.services.stipends import MAX_CSV_BYTES


class VolunteerForm(TextLimits, forms.Form):
    pseudonym = forms.CharField(
        label=_("Nickname"),
        max_length=80,
        help_text=_("Use a nickname, never a legal name. The portal only needs to tell volunteers apart."),
    )


class ShiftForm(TextLimits, forms.Form):
    """One shift; only active volunteers of this program and group can be chosen."""

    volunteer = forms.ModelChoiceField(label=_("Volunteer"), queryset=Volunteer.objects.none())
    date = date_field(_("Date of the shift"))
    # Typed the reader's way; the service explains a value out of range ("at most 24").
    hours = AmountField.for_column(Shift, "hours", label=_("Hours"), example=False)

    def __init__(self, *args, program: StipendProgram, organization: Organization, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].queryset = Volunteer.objects.filter(
            program=program, organization=organization, active=True
        )


class ShiftImportForm(TextLimits, forms.Form):
    file = forms.FileField(
        label=_("CSV file"),
        help_text=_(
            "Columns: pseudonym, date, hours (in Spanish: seudónimo, fecha, horas), separated by commas "
            "or semicolons — dates as 2026-03-31, hours as 4 or 2.5. "
            "If any row is wrong, nothing is imported: fix the file and upload all of it again."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_CSV_BYTES:
            raise forms.ValidationError(_("The file is too big (at most 1 MB)."))
        return upload


# --- Staff ---------------------------------------------------------------------------------


class ProgramForm(TextLimits, forms.Form):
    fund = forms.ModelChoiceField(label=_("Fund"), queryset=Fund.objects.none())
    name = forms.CharField(label=_("Name"), max_length=200)
    rate = AmountField.for_column(
        StipendProgram, "rate", label=_("Rate"), help_text=_("In the fund's currency.")
    )
    rate_unit = forms.ChoiceField(label=_("Paid"), choices=RateUnit.choices)
    monthly_cap = AmountField.for_column(
        StipendProgram,
        "monthly_cap",
        label=_("Monthly cap per volunteer"),
        help_text=_("No volunteer receives more than this in a month."),
    )
    coordinators = forms.ModelMultipleChoiceField(
        label=_("Coordinating organizations"),
        queryset=Organization.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(label=_("Active"), required=False, initial=True)
    shifts_from = date_field(
        _("Shifts from"),
        required=False,
        help_text=_(
            "The first day coordinators may log shifts, e.g. when the hotline started. Empty: the "
            "month before the fund was created. Older dates are refused as typing mistakes."
        ),
    )

    def __init__(self, *args, funds, program=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["fund"].queryset = funds
        # Only groups that already deal with the foundations of these funds (see
        # grants.scoping_organizations); any other id sent by hand is not a valid choice.
        foundations = set(funds.values_list("foundation_id", flat=True))
        self.fields["coordinators"].queryset = organizations_related_to(foundations).order_by("name")
        add_translation_fields(self, StipendProgram, instance=program)

    @property
    def translation_inputs(self):
        return [self[input_name("name", code)] for code, _name in translation_languages()]

    def translations(self, program=None) -> dict:
        return translations_from(
            self.cleaned_data, StipendProgram, current=program.translations if program else None
        )

    def clean(self):
        cleaned = super().clean()
        fund = cleaned.get("fund")
        coordinators = list(cleaned.get("coordinators") or [])
        if fund and coordinators:
            related = set(
                organizations_related_to([fund.foundation_id])
                .filter(pk__in=[organization.pk for organization in coordinators])
                .values_list("pk", flat=True)
            )
            if any(organization.pk not in related for organization in coordinators):
                self.add_error(
                    "coordinators",
                    _("Choose only organizations that have worked with the fund's foundation."),
                )
        for name in ("rate", "monthly_cap"):
            value = cleaned.get(name)
            if fund and value is not None and not is_whole_in_minor_units(value, fund.currency):
                self.add_error(
                    name,
                    _("Amounts in %(currency)s have at most %(digits)s decimals.")
                    % {"currency": fund.currency, "digits": currency_exponent(fund.currency)},
                )
        return cleaned

    def money(self, name) -> Money:
        return Money(self.cleaned_data[name], self.cleaned_data["fund"].currency)


class MonthField(forms.DateField):
    """A month typed as YYYY-MM (the browser's month picker); cleaned to its first day."""

    input_formats = ["%Y-%m", "%Y-%m-%d"]
    widget = forms.DateInput(attrs={"type": "month"}, format="%Y-%m")

    def to_python(self, value):
        day = super().to_python(value)
        return day.replace(day=1) if isinstance(day, datetime.date) else day


class ComputeBatchForm(TextLimits, forms.Form):
    organization = forms.ModelChoiceField(
        label=_("Coordinating organization"), queryset=Organization.objects.none()
    )
    month = MonthField(label=_("Month"), help_text=_("For example 2026-03."))

    def __init__(self, *args, program: StipendProgram, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["organization"].queryset = program.coordinators.order_by("name")
