"""Vendors and vendor payments in Wagtail admin (URL namespace ``vendors``).

Staff who see awards (officers, finance, auditors, admins) see their foundation's vendor payments;
officers ask for and decide them; finance staff add vendors, send Stripe's setup link, release
payments and record checks (four eyes: the service refuses who asked, approved or made the
award). Another foundation's vendors and payments are 404 on every URL. Rules are the service's.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from djmoney.money import Money
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from grants.admin.activity import action_label
from grants.admin.menus import CapabilityViewSet
from grants.forms.vendors import CheckForm, DeclineForm, VendorForm, VendorPaymentForm
from grants.models import (
    ActivityEntry,
    Disbursement,
    DisbursementStatus,
    Foundation,
    Vendor,
    VendorPayment,
    VendorPaymentStatus,
)
from grants.permissions import Capability, can, foundations_where
from grants.services import disbursements, vendor_payments
from grants.services.access_log import record_access
from grants.services.errors import DomainError
from grants.views.files import private_file_response

SEE = Capability.VIEW_AWARDS
V = VendorPaymentStatus


class StatusFilter(forms.Form):
    status = forms.ChoiceField(
        label=_("Status"), required=False, choices=[("", _("All"))] + list(VendorPaymentStatus.choices)
    )


class _VendorAdminView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "user"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("vendors:index"), "label": _("Vendor payments")}]

    def seen_foundations(self) -> set[int]:
        return foundations_where(self.request.user, SEE)


class PaymentIndexView(_VendorAdminView):
    template_name = "grants/admin/vendors/index.html"
    page_title = _("Vendor payments")

    def dispatch(self, request, *args, **kwargs):
        if not self.seen_foundations():
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = StatusFilter(self.request.GET or None)
        rows = VendorPayment.objects.filter(foundation__in=self.seen_foundations()).select_related(
            "vendor", "organization", "fund", "award__application", "installment"
        )
        if form.is_valid() and form.cleaned_data["status"]:
            rows = rows.filter(status=form.cleaned_data["status"])
        context.update(
            form=form,
            payments=rows[:500],
            can_request=bool(foundations_where(self.request.user, Capability.REQUEST_VENDOR_PAYMENTS)),
        )
        return context


class PaymentNewView(_VendorAdminView):
    """An officer asks for a payment to a vendor: an award's installment, or direct assistance."""

    template_name = "grants/admin/vendors/new.html"
    page_title = _("New vendor payment")

    def dispatch(self, request, *args, **kwargs):
        self.foundation_ids = foundations_where(request.user, Capability.REQUEST_VENDOR_PAYMENTS)
        if not self.foundation_ids:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context["form"] = form or VendorPaymentForm(foundation_ids=self.foundation_ids)
        return context

    def post(self, request, *args, **kwargs):
        form = VendorPaymentForm(request.POST, request.FILES, foundation_ids=self.foundation_ids)
        if form.is_valid():
            data = form.cleaned_data
            try:
                if data["installment"]:
                    payment = vendor_payments.request_vendor_payment(
                        by=request.user, vendor=data["vendor"], installment=data["installment"],
                        purpose=data["purpose"], invoice=data["invoice"],
                    )  # fmt: skip
                else:
                    payment = vendor_payments.request_vendor_payment(
                        by=request.user, vendor=data["vendor"], fund=data["fund"],
                        organization=data["organization"], amount=Money(data["amount"], data["fund"].currency),
                        purpose=data["purpose"], invoice=data["invoice"],
                    )  # fmt: skip
            except vendor_payments.VendorPaymentRefused as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _t("The payment was asked for. An officer approves it next."))
                return redirect("vendors:payment", payment.pk)
        messages.error(request, _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(form=form), status=400)


ACTIONS = {
    "": SEE,
    "approve": Capability.REQUEST_VENDOR_PAYMENTS,
    "decline": Capability.REQUEST_VENDOR_PAYMENTS,
    "cancel": None,  # officers or finance: checked below
    "release": Capability.RELEASE_PAYMENTS,
    "check": Capability.RELEASE_PAYMENTS,
}


class PaymentView(_VendorAdminView):
    """One vendor payment: its facts, invoice, history, and the actions the person may take."""

    template_name = "grants/admin/vendors/payment.html"
    action = ""

    def dispatch(self, request, *args, **kwargs):
        self.payment = (
            VendorPayment.objects.filter(foundation__in=self.seen_foundations(), pk=kwargs["pk"])
            .select_related(
                "vendor",
                "organization",
                "fund",
                "award__application",
                "installment",
                "requested_by",
                "approved_by",
                "released_by",
                "foundation",
            )  # fmt: skip
            .first()
        )
        if self.payment is None:
            raise Http404
        foundation_id = self.payment.foundation_id
        needed = ACTIONS[self.action]
        if self.action == "cancel":
            allowed = can(request.user, Capability.REQUEST_VENDOR_PAYMENTS, foundation_id) or can(
                request.user, Capability.RELEASE_PAYMENTS, foundation_id
            )
        else:
            allowed = can(request.user, needed, foundation_id)
        if not allowed:
            raise PermissionDenied
        if self.action and request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"{self.payment.reference_code} · {self.payment.vendor.name}"

    def get_context_data(self, decline_form=None, check_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        payment, user = self.payment, self.request.user
        foundation_id = payment.foundation_id
        officer = can(user, Capability.REQUEST_VENDOR_PAYMENTS, foundation_id)
        finance = can(user, Capability.RELEASE_PAYMENTS, foundation_id)
        releasable = payment.status in (V.APPROVED, V.FAILED)
        disbursement = Disbursement.objects.filter(vendor_payment=payment).first()
        stripe_vendor = payment.vendor.payment_method == "stripe"
        context.update(
            payment=payment,
            disbursement=disbursement,
            payee=vendor_payments.vendor_payee(payment.vendor),
            paid_net=vendor_payments.paid_net(payment),
            can_decide=officer and payment.status == V.REQUESTED,
            can_cancel=(officer or finance) and payment.status in (V.REQUESTED, V.APPROVED, V.FAILED),
            can_release=finance and releasable and stripe_vendor,
            can_record_check=finance and releasable,
            release_problem=vendor_payments.release_problem(payment) if releasable else None,
            decline_form=decline_form or DeclineForm(),
            check_form=check_form or CheckForm(),
            timeline=[
                (entry, action_label(entry))
                for entry in ActivityEntry.objects.filter(
                    subject_type="vendor_payment", subject_id=payment.pk
                )
                .select_related("actor")
                .order_by("created_at", "pk")
            ],
        )
        return context

    def post(self, request, *args, **kwargs):
        payment, user = self.payment, request.user
        try:
            if self.action == "approve":
                vendor_payments.approve(payment, by=user)
                messages.success(request, _t("The payment was approved. Finance staff release it next."))
            elif self.action == "decline":
                form = DeclineForm(request.POST)
                if not form.is_valid():
                    return self._invalid(decline_form=form)
                vendor_payments.decline(payment, by=user, reason=form.cleaned_data["reason"])
                messages.success(request, _t("The payment was declined; the grantee sees why."))
            elif self.action == "cancel":
                vendor_payments.cancel(payment, by=user, reason=request.POST.get("reason", ""))
                messages.success(request, _t("The payment was cancelled."))
            elif self.action == "release":
                vendor_payments.release(payment, by=user)
                messages.success(request, _t("The payment was sent to Stripe."))
            elif self.action == "check":
                form = CheckForm(request.POST)
                if not form.is_valid():
                    return self._invalid(check_form=form)
                vendor_payments.record_check(
                    payment, by=user, check_number=form.cleaned_data["check_number"],
                    paid_on=form.cleaned_data["paid_on"],
                )  # fmt: skip
                messages.success(request, _t("The check was recorded; the payment is paid."))
            else:
                raise Http404
        except DomainError as error:
            disbursement = Disbursement.objects.filter(vendor_payment=payment).first()
            if disbursement is not None and disbursement.status == DisbursementStatus.UNKNOWN:
                messages.warning(request, disbursements.UNKNOWN_MESSAGE())
            else:
                messages.error(request, error.message)
        return redirect("vendors:payment", payment.pk)

    def _invalid(self, **forms_):
        messages.error(self.request, _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(**forms_), status=400)


class InvoiceView(_VendorAdminView):
    """The invoice of a vendor payment, for staff of its foundation who see awards (logged)."""

    def get(self, request, *args, **kwargs):
        payment = VendorPayment.objects.filter(
            foundation__in=self.seen_foundations(), pk=kwargs["pk"]
        ).first()
        if payment is None or not payment.invoice:
            raise Http404
        record_access(
            request, "receipt", payment, payment.foundation_id, label=f"{payment.reference_code} · invoice"
        )
        name = payment.invoice_name or payment.invoice.name
        return private_file_response(payment.invoice, filename=name, content_type=_content_type(payment))


def _content_type(payment: VendorPayment) -> str:
    import filetype

    with payment.invoice.open("rb") as handle:
        kind = filetype.guess(handle.read(8192))
    return kind.mime if kind else "application/octet-stream"


class VendorIndexView(_VendorAdminView):
    """The foundation's vendors; finance staff add one here and send Stripe's setup link."""

    template_name = "grants/admin/vendors/vendors.html"
    page_title = _("Vendors")

    def dispatch(self, request, *args, **kwargs):
        if not self.seen_foundations():
            raise Http404
        self.manage_ids = foundations_where(request.user, Capability.MANAGE_VENDORS)
        return super().dispatch(request, *args, **kwargs)

    def vendor_form(self, data=None):
        return VendorForm(
            data, foundations=Foundation.objects.filter(pk__in=self.manage_ids).order_by("name")
        )

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        vendors = list(
            Vendor.objects.filter(foundation__in=self.seen_foundations()).select_related("payee_account")
        )
        for vendor in vendors:
            vendor.can_manage = vendor.foundation_id in self.manage_ids
        context.update(vendors=vendors, form=form or (self.vendor_form() if self.manage_ids else None))
        return context

    def post(self, request, *args, **kwargs):
        if not self.manage_ids:
            raise PermissionDenied
        form = self.vendor_form(request.POST)
        if form.is_valid():
            data = form.cleaned_data
            try:
                vendor = vendor_payments.add_vendor(
                    data["foundation"], by=request.user, name=data["name"], kind=data["kind"],
                    payment_method=data["payment_method"], email=data["email"],
                )  # fmt: skip
            except vendor_payments.VendorPaymentRefused as error:
                form.add_error(error.field if error.field in form.fields else None, error.message)
            else:
                messages.success(request, _t("%(name)s was added.") % {"name": vendor.name})
                return redirect("vendors:vendors")
        messages.error(request, _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class VendorOnboardingView(_VendorAdminView):
    """Email a Stripe vendor the link to set up its payouts (POST only)."""

    def dispatch(self, request, *args, **kwargs):
        self.vendor = Vendor.objects.filter(foundation__in=self.seen_foundations(), pk=kwargs["pk"]).first()
        if self.vendor is None:
            raise Http404
        if not can(request.user, Capability.MANAGE_VENDORS, self.vendor.foundation_id):
            raise PermissionDenied
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        try:
            vendor_payments.send_onboarding_link(self.vendor, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _t("Stripe's setup link was emailed to %(email)s.") % {"email": self.vendor.email}
            )
        return redirect("vendors:vendors")


class VendorViewSet(CapabilityViewSet):
    """ "Vendor payments": URL namespace ``vendors``."""

    icon = "user"
    menu_label = _("Vendor payments")
    menu_order = 159
    menu_capability = SEE
    url_prefix = "vendors"

    def get_urlpatterns(self):
        return [
            path("", PaymentIndexView.as_view(), name="index"),
            path("new/", PaymentNewView.as_view(), name="new"),
            path("<int:pk>/", PaymentView.as_view(), name="payment"),
            path("<int:pk>/approve/", PaymentView.as_view(action="approve"), name="approve"),
            path("<int:pk>/decline/", PaymentView.as_view(action="decline"), name="decline"),
            path("<int:pk>/cancel/", PaymentView.as_view(action="cancel"), name="cancel"),
            path("<int:pk>/release/", PaymentView.as_view(action="release"), name="release"),
            path("<int:pk>/check/", PaymentView.as_view(action="check"), name="check"),
            path("<int:pk>/invoice/", InvoiceView.as_view(), name="invoice"),
            path("list/", VendorIndexView.as_view(), name="vendors"),
            path("list/<int:pk>/onboarding/", VendorOnboardingView.as_view(), name="onboarding"),
        ]
