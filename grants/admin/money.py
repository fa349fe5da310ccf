"""Fund money in Wagtail admin: what each fund holds and owes, its journal, and the entries
finance staff record by hand (money received outside Stripe, opening balances, reversals).

Figures come from ``grants.services.ledger`` (sums of journal lines, one query for all funds).
Funds are scoped to the user's foundations; another foundation's fund is a 404 on every URL.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from djmoney.money import Money
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.forms.amounts import AmountField
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import AccountKind, EntryCause, Fund, JournalEntry, JournalLine
from grants.money import currency_choices, currency_exponent, is_whole_in_minor_units, zero
from grants.permissions import Capability, can, foundations_where, funds_visible_to
from grants.services import bond_reporting, bonds, charts, ledger
from grants.services.errors import DomainError

REVERSIBLE_CAUSES = (EntryCause.INCOME, EntryCause.OPENING_BALANCE)
ENTRIES_PER_PAGE = 50


def journal_entries(queryset):
    """Entries with their lines, accounts and authors, newest first (constant queries)."""
    lines = Prefetch("lines", queryset=JournalLine.objects.select_related("account").order_by("pk"))
    return (
        queryset.select_related("created_by", "reversed_by")
        .prefetch_related(lines)
        .order_by("-effective_date", "-pk")
    )


def received_parts(money: ledger.FundBalances) -> dict[str, Money]:
    """What the fund received, in the parts the audit workbook's Summary names: donations,
    other income (outside Stripe), the opening balance (money held before the portal) and
    interest paid with bonds returned."""
    nothing = zero(money.currency)
    return {
        "donations": money.donations,
        "other_income": money.by_account.get(AccountKind.OTHER_INCOME, nothing),
        "opening": money.by_account.get(AccountKind.OPENING_BALANCE, nothing),
        "bond_interest": money.bond_interest,
    }


# --- Forms ---------------------------------------------------------------------------------


class _MoneyForm(TextLimits, forms.Form):
    """An amount and the currency it was received in (the fund's, unless someone errs)."""

    amount = AmountField.for_column(JournalLine, "amount", label=_("Amount"), example=False)
    currency = forms.ChoiceField(label=_("Currency"), choices=currency_choices)

    def __init__(self, *args, fund: Fund, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["currency"].initial = fund.currency
        self.fields["amount"].help_text = _("The fund keeps its money in %(currency)s.") % {
            "currency": fund.currency
        }

    def clean(self):
        cleaned = super().clean()
        amount, currency = cleaned.get("amount"), cleaned.get("currency")
        if amount is not None and currency and not is_whole_in_minor_units(amount, currency):
            self.add_error(
                "amount",
                _("Amounts in %(currency)s have at most %(digits)s decimals.")
                % {"currency": currency, "digits": currency_exponent(currency)},
            )
        return cleaned

    @property
    def money(self) -> Money:
        return Money(self.cleaned_data["amount"], self.cleaned_data["currency"])


class IncomeForm(_MoneyForm):
    source = forms.ChoiceField(label=_("Where the money came from"), choices=())
    received_on = date_field(_("Date received"))
    reference = forms.CharField(
        label=_("Reference"), required=False, max_length=120, help_text=_("Check number or bank reference.")
    )
    note = forms.CharField(label=_("Note (optional)"), required=False, max_length=300)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["source"].choices = ledger.IncomeSource.choices()
        self.fields["received_on"].initial = timezone.localdate


class OpeningBalanceForm(_MoneyForm):
    as_of = date_field(_("As of"), help_text=_("The day the fund started using the portal."))
    reference = forms.CharField(
        label=_("Reference"),
        required=False,
        max_length=120,
        help_text=_("Bank statement or account reference."),
    )


class ReverseForm(TextLimits, forms.Form):
    reason = forms.CharField(label=_("Why is it reversed?"), max_length=300)


FORMS = {"income": IncomeForm, "opening": OpeningBalanceForm}


# --- Views ---------------------------------------------------------------------------------


class FundMoneyIndexView(WagtailAdminTemplateMixin, TemplateView):
    """Every fund of the user's foundations with its figures (two queries for any number of funds)."""

    template_name = "grants/admin/money/index.html"
    page_title = _("Fund money")
    header_icon = "doc-full"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": _("Fund money")}]

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, Capability.VIEW_MONEY):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        funds = list(
            funds_visible_to(self.request.user)
            .select_related("foundation")
            .order_by("foundation__name", "name")
        )
        figures = ledger.balances_for_funds(funds)
        expected = bond_reporting.expected_back_for_funds(funds)
        context["rows"] = [
            {"fund": fund, "money": figures[fund.pk], "expected_back": expected[fund.pk]} for fund in funds
        ]
        context["several_foundations"] = len({fund.foundation_id for fund in funds}) > 1
        return context


class FundMoneyView(WagtailAdminTemplateMixin, TemplateView):
    """One fund's figures in plain words, its journal, and finance staff's forms."""

    template_name = "grants/admin/money/fund.html"
    header_icon = "doc-full"

    def dispatch(self, request, *args, **kwargs):
        self.fund = (
            funds_visible_to(request.user).select_related("foundation").filter(pk=kwargs["fund_id"]).first()
        )
        if self.fund is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.fund.name

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("fund_money:index"), "label": _("Fund money")},
            {"url": "", "label": self.fund.name},
        ]

    @cached_property
    def is_finance(self) -> bool:
        return can(self.request.user, Capability.RECORD_MONEY, self.fund.foundation_id)

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        fund, bound = self.fund, bound or {}
        entries = journal_entries(
            JournalEntry.objects.filter(
                pk__in=JournalLine.objects.filter(account__fund=fund).values("entry_id")
            )
        )
        page = Paginator(entries, ENTRIES_PER_PAGE).get_page(self.request.GET.get("p"))
        for entry in page:
            entry.reverse_form = None
            reversed_already = getattr(entry, "reversed_by", None) is not None
            if self.is_finance and entry.cause in REVERSIBLE_CAUSES and not reversed_already:
                entry.reverse_form = bound.get(("reverse", entry.pk)) or ReverseForm(
                    prefix=f"reverse-{entry.pk}"
                )
                entry.reverse_url = reverse("fund_money:reverse", args=[fund.pk, entry.pk])
        money = ledger.balances(fund)
        context.update(
            fund=fund,
            money=money,
            money_chart=charts.fund_money_chart(fund),
            received=received_parts(money),
            expected_back=bond_reporting.expected_back(fund),
            revolving=bonds.revolving(fund) if bond_reporting.is_bond_fund(fund) else None,
            page=page,
            entries=page.object_list,
            is_finance=self.is_finance,
        )
        if self.is_finance:
            context.update(
                opening_entry=JournalEntry.objects.filter(
                    cause=EntryCause.OPENING_BALANCE, lines__account__fund=fund, reversed_by__isnull=True
                ).first(),
                income_form=bound.get("income") or IncomeForm(prefix="income", fund=fund),
                opening_form=bound.get("opening") or OpeningBalanceForm(prefix="opening", fund=fund),
            )
        return context


class FundMoneyActionView(FundMoneyView):
    """POST only: record income, an opening balance, or reverse one of those entries."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        name = kwargs["action"]
        if name not in FORMS and not (name == "reverse" and "entry_id" in kwargs):
            raise Http404
        if not self.is_finance:
            raise PermissionDenied
        fund, user = self.fund, request.user
        if name == "reverse":
            entry = (
                JournalEntry.objects.filter(pk=kwargs["entry_id"], lines__account__fund=fund)
                .distinct()
                .first()
            )
            if entry is None:
                raise Http404
            form, key = ReverseForm(request.POST, prefix=f"reverse-{entry.pk}"), ("reverse", entry.pk)
        else:
            form, key = FORMS[name](request.POST, prefix=name, fund=fund), name
        if not form.is_valid():
            return self.refuse(form, key, None)
        data = form.cleaned_data
        try:
            if name == "income":
                ledger.record_income(fund=fund, amount=form.money, source=data["source"], received_on=data["received_on"],
                                     reference=data["reference"], memo=data["note"], by=user)  # fmt: skip
                done = _t("The money received was recorded.")
            elif name == "opening":
                ledger.record_opening_balance(fund=fund, amount=form.money, as_of=data["as_of"],
                                              reference=data["reference"], by=user)  # fmt: skip
                done = _t("The opening balance was recorded.")
            else:
                ledger.reverse_manual_entry(entry, by=user, reason=data["reason"])
                done = _t("The entry was reversed.")
        except DomainError as error:
            return self.refuse(form, key, error.message)
        messages.success(request, done)
        return redirect("fund_money:detail", fund.pk)

    def refuse(self, form, key, message):
        if message:
            form.add_error(None, message)
        messages.error(self.request, message or _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(bound={key: form}), status=400)


class FundMoneyMenuItem(MenuItem):
    def is_shown(self, request):
        return bool(foundations_where(request.user, Capability.VIEW_MONEY))


class FundMoneyViewSet(ViewSet):
    """ "Fund money": URL namespace ``fund_money``."""

    icon = "doc-full"
    menu_label = _("Fund money")
    menu_order = 157
    add_to_admin_menu = True
    menu_item_class = FundMoneyMenuItem
    url_prefix = "fund-money"

    def get_urlpatterns(self):
        action = FundMoneyActionView.as_view()
        return [
            path("", FundMoneyIndexView.as_view(), name="index"),
            path("<int:fund_id>/", FundMoneyView.as_view(), name="detail"),
            path("<int:fund_id>/<slug:action>/", action, name="action"),
            path(
                "<int:fund_id>/entries/<int:entry_id>/reverse/", action, {"action": "reverse"}, name="reverse"
            ),
        ]
