"""The donate form and the form to ask for a new manage link.

Forms only shape input; which amounts a fund accepts is the service's rule (``check_amount``),
whose message is shown on the amount the donor chose or typed.
"""

from decimal import Decimal

from django import forms
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money

from grants.forms.amounts import AmountInput, example, parse_typed_amount
from grants.forms.limits import TextLimits
from grants.models import Fund, GiftKind
from grants.money import currency_exponent
from grants.services import donations

OTHER = "other"


def amount_key(amount: Money) -> str:
    """How an amount travels in a form or link: "50" for 50.00, "12.5" for 12.50."""
    return f"{amount.amount.normalize():f}"


def parse_amount(text: str, *, currency: str | None = None) -> Decimal:
    """A typed amount as a Decimal, read the way the page's language writes numbers: "1.000,50"
    in Spanish, "1,000.50" in English (``grants.forms.amounts.parse_typed_amount``)."""
    decimals = currency_exponent(currency) if currency else 2
    return parse_typed_amount(text or "", decimals=decimals, currency=currency)


class DonationForm(TextLimits, forms.Form):
    """A gift to ``fund``: a suggested amount or another one, once or monthly, and who gives it."""

    amount = forms.ChoiceField(label=_("Amount"), required=False, widget=forms.RadioSelect)
    other_amount = forms.CharField(
        label=_("Other amount"),
        required=False,
        max_length=20,
        widget=AmountInput(),
    )
    frequency = forms.ChoiceField(
        label=_("How often"),
        choices=[(GiftKind.ONE_TIME, _("Once")), (GiftKind.MONTHLY, _("Every month"))],
        initial=GiftKind.ONE_TIME,
        widget=forms.RadioSelect,
        error_messages={
            "required": _("Choose once or every month."),
            "invalid_choice": _("Choose once or every month."),
        },
    )
    cover_fee = forms.BooleanField(label=_("Cover the processing fee"), required=False)
    anonymous = forms.BooleanField(
        label=_("Give anonymously"),
        required=False,
        help_text=_(
            "Public pages show “Anonymous” instead of your name. The foundation still sends you a receipt."
        ),
    )
    name = forms.CharField(
        label=_("Your name"), max_length=200, error_messages={"required": _("Enter your name.")}
    )
    email = forms.EmailField(
        label=_("Email"),
        help_text=_("We send your receipt here."),
        error_messages={
            "required": _("Enter your email address so we can send your receipt."),
            "invalid": _("Enter an email address like name@example.org."),
        },
    )
    dedication = forms.CharField(label=_("In honor or memory of (optional)"), required=False, max_length=200)
    message = forms.CharField(
        label=_("Message to the foundation (optional)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "Please do not write anyone's immigration status, case details or other private information."
        ),
    )
    consent_to_contact = forms.BooleanField(
        label=_("The foundation may email me about its work"), required=False
    )

    def __init__(self, *args, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fund = fund
        self.presets = donations.suggested_amounts(fund)
        self.preset_choices = [(amount_key(m), m) for m in self.presets]
        self.fields["amount"].choices = [(amount_key(m), amount_key(m)) for m in self.presets] + [
            (OTHER, _("Other amount"))
        ]
        self.fields["email"].widget.attrs["autocomplete"] = "email"
        self.fields["name"].widget.attrs["autocomplete"] = "name"
        for name in ("name", "dedication", "message"):
            self.fields[name].widget.attrs["class"] = "readable-width"  # CSS: no style attributes
        self.gift: Money | None = None

    def clean(self):
        data = super().clean()
        choice, typed = data.get("amount") or "", (data.get("other_amount") or "").strip()
        field = "other_amount" if typed or choice == OTHER else "amount"
        try:
            if typed:
                value = parse_amount(typed, currency=self.fund.currency)
            elif choice and choice != OTHER:
                value = Decimal(choice)
            elif choice == OTHER:
                raise forms.ValidationError(_("Type the amount you want to give."), code="required")
            else:
                raise forms.ValidationError(_("Choose an amount or type another one."), code="required")
            self.gift = donations.check_amount(self.fund, Money(value, self.fund.currency))
        except forms.ValidationError as error:
            self.add_error(field, error)
        except donations.DonationRefused as error:
            self.add_error(field, error.message)
        return data

    @property
    def amount_example(self) -> str:
        """An amount written the reader's way, in the fund's currency ("1.500,75" in Spanish)."""
        return example(currency_exponent(self.fund.currency))

    @property
    def monthly(self) -> bool:
        return self.cleaned_data.get("frequency") == GiftKind.MONTHLY

    def selected_amount(self) -> Money | None:
        """The amount to show the fee estimate for: what was chosen or typed, else the first preset."""
        if self.gift is not None:
            return self.gift
        source = self.data if self.is_bound else self.initial
        for text in (source.get("other_amount"), source.get("amount")):
            try:
                value = parse_amount(text, currency=self.fund.currency) if text and text != OTHER else None
                if value is not None:
                    return donations.check_amount(self.fund, Money(value, self.fund.currency))
            except (forms.ValidationError, donations.DonationRefused):
                continue
        return self.presets[0] if self.presets else None


class ManageLinkForm(TextLimits, forms.Form):
    email = forms.EmailField(
        label=_("Email"),
        error_messages={
            "required": _("Enter the email address you give with."),
            "invalid": _("Enter an email address like name@example.org."),
        },
    )
