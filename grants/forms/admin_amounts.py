"""Amounts in Wagtail's editor, typed the reader's way.

Wagtail builds the add and edit forms of funds and funding calls from their model fields, which
gives a plain number input for a decimal (Django reads "1.500,75" as nothing and "1.500" as 1.5)
and, for a ``MoneyField``, a number input next to a currency menu. ``AmountsAdminForm`` replaces
those inputs with the project's ``AmountField`` (see ``grants.forms.amounts``): the staff
member's admin language decides what the marks mean, ambiguous writing is refused, the column
bounds the value, and the stored value is shown grouped the reader's way.

A fund's money is in the fund's currency, and only in it (the models refuse anything else), so
the currency menu is gone: the amount is in the currency chosen on the fund's form (a call's,
in its fund's currency), named in the help text, and its decimals follow that currency (no
decimals for JPY, so "1.500" in Spanish is 1500 yen).
"""

from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField
from djmoney.money import Money
from wagtail.admin.forms import WagtailAdminModelForm

from grants.forms.amounts import AmountField


class AmountsAdminForm(WagtailAdminModelForm):
    """A Wagtail admin model form whose ``amount_fields`` are ``AmountField``s in the currency
    ``amount_currency()`` names. Subclasses set ``amount_fields`` and ``amount_currency``."""

    amount_fields: tuple[str, ...] = ()
    # Columns that must hold more than zero (the rest refuse negatives only).
    positive_fields: tuple[str, ...] = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._place_amount_fields(self.instance_currency())

    def instance_currency(self) -> str | None:
        return None

    def amount_currency(self) -> str | None:
        """The currency of the amounts as posted (bound forms), else the instance's."""
        return self.instance_currency()

    def _place_amount_fields(self, currency):
        model = self._meta.model
        for name in self.amount_fields:
            old = self.fields.get(name)
            if old is None:
                continue
            column = model._meta.get_field(name)
            field = AmountField.for_column(
                model,
                name,
                currency=currency,
                label=old.label,
                required=old.required,
                allow_zero=name not in self.positive_fields,
                help_text=None if currency else _("In the fund's currency."),
            )
            field.money = isinstance(column, MoneyField)
            self.fields[name] = field

    def full_clean(self):
        # Only now are the other fields' choices final (a scoped form narrows them after this
        # form's ``__init__``), so the currency is read from the posted data here.
        if self.is_bound:
            self._place_amount_fields(self.amount_currency())
        super().full_clean()

    def clean(self):
        cleaned_data = super().clean()
        currency = self.amount_currency()
        for name in self.amount_fields:
            field = self.fields.get(name)
            value = cleaned_data.get(name)
            if field is None or not getattr(field, "money", False) or name not in cleaned_data:
                continue
            if value is None:
                continue
            if currency is None:  # no fund chosen: that field says so; nothing to store
                cleaned_data.pop(name)
                continue
            cleaned_data[name] = Money(value, currency)
        return cleaned_data


class FundAmountsForm(AmountsAdminForm):
    """A fund's goal and gift bounds, in the currency chosen on the same form."""

    amount_fields = ("fundraising_goal", "donation_minimum", "donation_maximum")
    positive_fields = ("donation_minimum", "donation_maximum")

    def instance_currency(self):
        return self.instance.currency or None

    def amount_currency(self):
        if self.is_bound and "currency" in self.fields:
            posted = self.data.get(self.add_prefix("currency"))
            if posted in {str(code) for code, _label in self.fields["currency"].choices}:
                return posted
        return self.instance_currency()


class FundingCallAmountsForm(AmountsAdminForm):
    """A call's smallest and largest amount, in the currency of the fund chosen on the form."""

    amount_fields = ("min_amount", "max_amount")

    def instance_currency(self):
        return self.instance.fund.currency if self.instance.fund_id else None

    def amount_currency(self):
        if self.is_bound and "fund" in self.fields:
            posted = self.data.get(self.add_prefix("fund"))
            fund = None
            if posted and str(posted).isdigit():
                fund = self.fields["fund"].queryset.filter(pk=int(posted)).first()
            return fund.currency if fund else None
        return self.instance_currency()
