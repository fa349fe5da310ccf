"""Donations in Wagtail admin (menu "Donations", URL namespace ``donations_admin``).

* Donations: every gift of the user's foundations with filters (fund, period, kind, status,
  channel) and a search by donor name or email; each gift's detail page shows all its fields,
  its journal entries and activity, a "Resend receipt" button and, for an offline gift, "Void
  this gift" (with a reason; online gifts are refunded in Stripe instead).
* Donor: one donor's gifts and their totals per currency.
* Record an offline gift (check, cash, bank transfer).

Donor identity is shown only to the foundation's admins, finance officers and auditors
(``Capability.VIEW_DONORS``). Program officers do not see donors: they decide grants, and who gave is
not needed for that. Admins and finance officers act (record gifts, resend receipts);
auditors read. Rows of another foundation are never listed and are a 404 when asked for.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import Menu, SubmenuMenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from cms.templatetags.portal_tags import money
from grants.admin.menus import CapabilityMenuItem
from grants.admin.paging import choice_labels, rows_of_page, url_maker
from grants.forms.donation_admin import DonationFilterForm, OfflineGiftForm
from grants.models import ActivityEntry, Donation, Donor, Fund, JournalEntry
from grants.permissions import Capability, donations_visible_to, foundations_where, scope
from grants.services import receipts
from grants.services.access_log import record_access
from grants.services.charts import donations_chart
from grants.services.errors import DomainError
from grants.services.offline_gifts import (
    OFFLINE_CHANNELS,
    VOID,
    OfflineGiftError,
    record_offline_gift,
    void_gift,
)

PER_PAGE = 50

DONATION_ACTIVITY = {
    "recorded_offline": _("Recorded as an offline gift"),
    "receipt_issued": _("Receipt sent"),
    "receipt_resent": _("Receipt sent again"),
    "voided": _("Gift voided"),
    "receipt_voided": _("Receipt voided; the donor was told"),
}


def funds_of(user, capability: Capability):
    return scope(Fund.objects.all(), user, capability, "foundation").order_by("name", "pk")


class DonationsPage(WagtailAdminTemplateMixin, TemplateView):
    """A page of the Donations menu: reachable with ``capability`` at some foundation, else 404."""

    capability = Capability.VIEW_DONORS
    header_icon = "pick"

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, self.capability):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.page_title

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.get_page_title()}]

    @cached_property
    def act_foundations(self) -> set[int]:
        return foundations_where(self.request.user, Capability.ACT_ON_DONATIONS)

    @cached_property
    def several_foundations(self) -> bool:
        return len(foundations_where(self.request.user, Capability.VIEW_DONORS)) > 1

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(several_foundations=self.several_foundations, can_record=bool(self.act_foundations))
        return context


class DonationIndexView(DonationsPage):
    template_name = "grants/admin/donations/index.html"
    page_title = _("Donations")

    def filtered(self, form):
        queryset = donations_visible_to(self.request.user).select_related("fund", "donor", "foundation")
        if not form.is_valid():
            return queryset.none()
        data = form.cleaned_data
        if data["q"]:
            queryset = queryset.filter(
                Q(donor__name__icontains=data["q"]) | Q(donor__email__icontains=data["q"])
            )
        for field in ("fund", "kind", "status", "channel"):
            if data[field]:
                queryset = queryset.filter(**{field: data[field]})
        if data["date_from"]:
            queryset = queryset.filter(gift_date__gte=data["date_from"])
        if data["date_to"]:
            queryset = queryset.filter(gift_date__lte=data["date_to"])
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = DonationFilterForm(self.request.GET, funds=funds_of(self.request.user, Capability.VIEW_DONORS))
        queryset = self.filtered(form).order_by("-gift_date", "-pk")
        page = Paginator(queryset, PER_PAGE).get_page(self.request.GET.get("p"))
        context.update(form=form, page=page, rows=list(shown_rows(rows_of_page(queryset, page.object_list))))
        if form.is_valid():
            dates = {key: form.cleaned_data[key] for key in ("date_from", "date_to")}
            context["charts"] = donations_chart(self.filtered(form), **dates)
        return context


def shown_rows(donations):
    """What each row of the list shows, worked out in Python: the template only places it.

    Labels, links and amounts of 50 rows are the page's main cost when the template computes
    them cell by cell (a choices dict rebuilt per ``get_FOO_display``, a ``reverse`` per link).
    """
    donation_url, donor_url = url_maker("donations_admin:donation"), url_maker("donations_admin:donor")
    kinds, channels, statuses = (choice_labels(Donation, name) for name in ("kind", "channel", "status"))
    for donation in donations:
        yield {
            "pk": donation.pk,
            "url": donation_url(donation.pk),
            "date": donation.gift_date,
            "donor_url": donor_url(donation.donor_id),
            "donor_name": donation.donor.name,
            "donor_email": donation.donor.email,
            "anonymous": donation.anonymous,
            "fund": donation.fund.name,
            "foundation": donation.foundation.name,
            "kind": kinds.get(donation.kind, donation.kind),
            "channel": channels.get(donation.channel, donation.channel),
            "gross": money(donation.gross),
            "fee": money(donation.fee) or "—",
            "refunded": money(donation.amount_refunded) or "—",
            "status": statuses.get(donation.status, donation.status),
            "receipt": receipts.receipt_label(donation.foundation, donation.receipt_number) or "—",
        }


class DonationView(DonationsPage):
    template_name = "grants/admin/donations/donation.html"

    def dispatch(self, request, *args, **kwargs):
        self.donation = (
            donations_visible_to(request.user)
            .select_related("fund", "donor", "foundation", "created_by", "recurring_gift")
            .filter(pk=kwargs["pk"])
            .first()
        )
        if self.donation is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _t("Donation #%(id)s") % {"id": self.donation.pk}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("donations_admin:index"), "label": _("Donations")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        donation = self.donation
        record_access(self.request, "donation", donation, donation.foundation_id)
        entries = (
            JournalEntry.objects.filter(donation=donation)
            .prefetch_related("lines__account")
            .order_by("effective_date", "pk")
        )
        activity = [
            {"entry": entry, "label": DONATION_ACTIVITY.get(entry.action, entry.action)}
            for entry in ActivityEntry.objects.filter(subject_type="donation", subject_id=donation.pk)
            .select_related("actor")
            .order_by("created_at", "pk")
        ]
        context.update(
            donation=donation,
            receipt_number=receipts.receipt_label(donation.foundation, donation.receipt_number),
            can_resend=donation.foundation_id in self.act_foundations
            and donation.status in receipts.RECEIPTABLE_STATES,
            can_act=donation.foundation_id in self.act_foundations,
            can_void=donation.foundation_id in self.act_foundations
            and donation.channel in OFFLINE_CHANNELS
            and donation.status in VOID.sources,
            entries=entries,
            activity=activity,
        )
        return context


class GiftActionView(DonationsPage):
    """A POST-only action on one gift: another foundation's gift is 404; staff who may see it but
    not act on it (auditors) are refused."""

    http_method_names = ["post"]

    def gift_to_act_on(self, pk: int):
        donation = donations_visible_to(self.request.user).filter(pk=pk).first()
        if donation is None:
            raise Http404
        if donation.foundation_id not in self.act_foundations:
            raise PermissionDenied
        return donation


class ResendReceiptView(GiftActionView):
    """POST only: email the receipt again (same number); back to the donation with a message."""

    def post(self, request, *args, **kwargs):
        donation = self.gift_to_act_on(kwargs["pk"])
        try:
            receipts.resend_receipt(donation, by=request.user)
        except receipts.ReceiptError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request,
                _t("Receipt %(number)s sent again to the donor.")
                % {"number": receipts.receipt_label(donation.foundation, donation.receipt_number)},
            )
        return redirect("donations_admin:donation", donation.pk)


class VoidGiftView(GiftActionView):
    """POST only: void an offline gift with a reason (finance); back to the donation with a message."""

    def post(self, request, *args, **kwargs):
        donation = self.gift_to_act_on(kwargs["pk"])
        try:
            void_gift(donation, by=request.user, reason=request.POST.get("reason", ""))
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _t("The gift is void. The ledger was reversed and the donor was told."))
        return redirect("donations_admin:donation", donation.pk)


class DonorView(DonationsPage):
    template_name = "grants/admin/donations/donor.html"

    def dispatch(self, request, *args, **kwargs):
        self.donor = (
            scope(Donor.objects.all(), request.user, Capability.VIEW_DONORS, "foundation")
            .select_related("foundation")
            .filter(pk=kwargs["pk"])
            .first()
        )
        if self.donor is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.donor.name or self.donor.email

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("donations_admin:index"), "label": _("Donations")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        record_access(self.request, "donor", self.donor, self.donor.foundation_id)
        gifts = list(
            donations_visible_to(self.request.user)
            .filter(donor=self.donor)
            .select_related("fund", "foundation")
            .order_by("-gift_date", "-pk")
        )
        received = [gift for gift in gifts if gift.status in receipts.RECEIPTABLE_STATES]
        context.update(
            donor=self.donor,
            gifts=gifts,
            totals=receipts.totals_per_currency(gift.gross for gift in received),
            net_totals=receipts.totals_per_currency(receipts.net_amount(gift) for gift in received),
        )
        return context


class RecordOfflineGiftView(DonationsPage):
    template_name = "grants/admin/donations/record.html"
    page_title = _("Record an offline gift")
    capability = Capability.ACT_ON_DONATIONS

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("donations_admin:index"), "label": _("Donations")},
            {"url": "", "label": self.page_title},
        ]

    def form(self, data=None):
        return OfflineGiftForm(data, funds=funds_of(self.request.user, Capability.ACT_ON_DONATIONS))

    def get(self, request, *args, **kwargs):
        return self.render_to_response(self.get_context_data(form=self.form()))

    def post(self, request, *args, **kwargs):
        form = self.form(request.POST)
        if form.is_valid():
            try:
                donation = record_offline_gift(**form.service_arguments(), by=request.user)
            except OfflineGiftError as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _t("The gift was recorded."))
                return redirect("donations_admin:donation", donation.pk)
        return self.render_to_response(self.get_context_data(form=form), status=400)


class DonationsViewSet(ViewSet):
    """ "Donations": the pages above, shown to the foundation's admins, finance officers and auditors."""

    icon = "pick"
    menu_label = _("Donations")
    menu_order = 157
    add_to_admin_menu = True
    url_prefix = "donations"

    def get_menu_item(self, order=None):
        menu = Menu(
            items=[
                CapabilityMenuItem(_("Donations"), reverse("donations_admin:index"), icon_name="list-ul",
                                   order=100, capability=Capability.VIEW_DONORS),
                CapabilityMenuItem(_("Record an offline gift"), reverse("donations_admin:record"),
                                   icon_name="plus", order=200, capability=Capability.ACT_ON_DONATIONS),
            ]
        )  # fmt: skip
        return SubmenuMenuItem(
            self.menu_label,
            menu,
            name="donations",
            icon_name=self.icon,
            order=self.get_menu_item_order(order),
        )

    def get_urlpatterns(self):
        return [
            path("", DonationIndexView.as_view(), name="index"),
            path("record/", RecordOfflineGiftView.as_view(), name="record"),
            path("<int:pk>/", DonationView.as_view(), name="donation"),
            path("<int:pk>/resend-receipt/", ResendReceiptView.as_view(), name="resend"),
            path("<int:pk>/void/", VoidGiftView.as_view(), name="void"),
            path("donors/<int:pk>/", DonorView.as_view(), name="donor"),
        ]
