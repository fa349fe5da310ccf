"""Forms staff use to record the answer of a group without a login to its award offer."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import AnswerChannel
from grants.services.awards import STAFF_CHANNELS


class GroupAnswerForm(TextLimits, forms.Form):
    channel = forms.ChoiceField(
        label=_("How the group gave its answer"),
        choices=[(value, AnswerChannel(value).label) for value in STAFF_CHANNELS],
        widget=forms.RadioSelect,
    )
    given_on = date_field(_("Date the group gave its answer"))
    given_by = forms.CharField(
        label=_("Who gave it"),
        max_length=200,
        help_text=_("The name of the person who spoke or signed for the group."),
    )
    document = forms.FileField(
        label=_("Signed paper"),
        required=False,
        help_text=_("Needed for a signed paper: a PDF or a photo, at most 10 MB. Kept private."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.fields["given_on"].initial = timezone.localdate


class AcceptForGroupForm(GroupAnswerForm):
    confirm = forms.BooleanField(
        label=_("The group accepted the agreement as offered; payments can start."),
    )


class DeclineForGroupForm(GroupAnswerForm):
    reason = forms.CharField(
        label=_("Reason they gave (optional)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    confirm = forms.BooleanField(
        label=_("I understand: the award is cancelled and its money goes back to the fund."),
    )
