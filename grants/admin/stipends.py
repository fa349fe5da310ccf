"""Stipend programs in Wagtail admin: set up programs, compute, approve and pay monthly batches.

Officers, finance staff and auditors of the program's foundation see everything (auditors read
only); another foundation's programs and batches are 404 on every URL. Approving and paying ask
for a confirmation that shows each payee, amount and the total. Rules are the service's.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import MenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.forms.stipends import ComputeBatchForm, ProgramForm
from grants.models import Fund, ProgramType, StipendBatch, StipendBatchStatus, Volunteer
from grants.money import zero
from grants.permissions import Capability, can, foundations_where
from grants.services import stipend_payments
from grants.services import stipends as service
from grants.services.errors import DomainError


def _is_officer(user, foundation_id) -> bool:
    return can(user, Capability.MANAGE_STIPENDS, foundation_id)


def _is_finance(user, foundation_id) -> bool:
    return can(user, Capability.PAY_STIPENDS, foundation_id)


class _StipendAdminView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "group"

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("stipends_admin:index"), "label": _("Stipends")}]


class ProgramIndexView(_StipendAdminView):
    template_name = "grants/admin/stipends/index.html"
    page_title = _("Stipend programs")

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, Capability.VIEW_STIPENDS):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["programs"] = service.programs_for_staff(self.request.user).prefetch_related("coordinators")
        context["can_create"] = bool(foundations_where(self.request.user, Capability.MANAGE_STIPENDS))
        return context


class ProgramFormView(_StipendAdminView):
    """Create (no ``program_id``) or change a program: officers and admins only."""

    template_name = "grants/admin/stipends/program_form.html"

    def dispatch(self, request, *args, **kwargs):
        self.program = None
        if "program_id" in kwargs:
            self.program = service.programs_for_staff(request.user).filter(pk=kwargs["program_id"]).first()
            if self.program is None:
                raise Http404
            if not _is_officer(request.user, self.program.fund.foundation_id):
                raise PermissionDenied
        elif not foundations_where(request.user, Capability.MANAGE_STIPENDS):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.program.name if self.program else _("New stipend program")

    def funds(self):
        funds = Fund.objects.filter(
            foundation__in=foundations_where(self.request.user, Capability.MANAGE_STIPENDS)
        )
        return funds.filter(pk=self.program.fund_id) if self.program else funds

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        if form is None:
            initial = {"active": True}
            hotline = self.funds().filter(program_type=ProgramType.HOTLINE_STIPENDS).first()
            if hotline:
                initial["fund"] = hotline
            if self.program:
                p = self.program
                initial = {"fund": p.fund, "name": p.name, "rate": p.rate.amount, "rate_unit": p.rate_unit,
                           "monthly_cap": p.monthly_cap.amount, "active": p.active, "shifts_from": p.shifts_from,
                           "coordinators": list(p.coordinators.all())}  # fmt: skip
            form = ProgramForm(initial=initial, funds=self.funds(), program=self.program)
        context.update(form=form, program=self.program)
        return context

    def post(self, request, *args, **kwargs):
        form = ProgramForm(request.POST, funds=self.funds(), program=self.program)
        if form.is_valid():
            data = form.cleaned_data
            try:
                program = service.save_program(
                    fund=data["fund"], name=data["name"], rate=form.money("rate"), rate_unit=data["rate_unit"],
                    monthly_cap=form.money("monthly_cap"), coordinators=data["coordinators"], active=data["active"],
                    program=self.program, by=request.user, shifts_from=data.get("shifts_from"),
                    translations=form.translations(self.program),
                )  # fmt: skip
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _t("The stipend program was saved."))
                return redirect("stipends_admin:program", program.pk)
        messages.error(request, _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class ProgramView(_StipendAdminView):
    """A program: coordinators, volunteers, batches by month, yearly totals, the compute form."""

    template_name = "grants/admin/stipends/program.html"

    def dispatch(self, request, *args, **kwargs):
        self.program = service.programs_for_staff(request.user).filter(pk=kwargs["program_id"]).first()
        if self.program is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.program.name

    @cached_property
    def is_officer(self):
        return _is_officer(self.request.user, self.program.fund.foundation_id)

    def get_context_data(self, compute_form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        program = self.program
        try:
            year = int(self.request.GET.get("year", ""))
        except ValueError:
            year = timezone.localdate().year
        coordinators = list(program.coordinators.order_by("name"))
        counts = {org.pk: Volunteer.objects.filter(program=program, organization=org, active=True).count()
                  for org in coordinators}  # fmt: skip
        context.update(
            program=program,
            coordinators=[(org, counts[org.pk]) for org in coordinators],
            batches=program.batches.select_related("organization").exclude(
                status=StipendBatchStatus.CANCELLED
            ),
            totals=service.yearly_totals(program.fund.foundation, year),
            year=year,
            is_officer=self.is_officer,
        )
        if self.is_officer:
            context["compute_form"] = compute_form or ComputeBatchForm(program=program)
        return context

    def post(self, request, *args, **kwargs):
        if not self.is_officer:
            raise PermissionDenied
        form = ComputeBatchForm(request.POST, program=self.program)
        if form.is_valid():
            try:
                batch = service.compute_batch(
                    program=self.program, organization=form.cleaned_data["organization"],
                    month=form.cleaned_data["month"], by=request.user,
                )  # fmt: skip
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _t("The stipends were computed. Check them, then approve."))
                return redirect("stipends_admin:batch", batch.pk)
        messages.error(request, _t("The stipends were not computed."))
        return self.render_to_response(self.get_context_data(compute_form=form), status=400)


class BatchView(_StipendAdminView):
    """A batch: its lines and payments; approve (officers) and pay (finance) after a confirmation."""

    template_name = "grants/admin/stipends/batch.html"
    action = ""

    def dispatch(self, request, *args, **kwargs):
        programs = service.programs_for_staff(request.user)
        self.batch = (
            StipendBatch.objects.select_related("program__fund__foundation", "organization", "approved_by")
            .filter(program__in=programs, pk=kwargs["batch_id"])
            .first()
        )
        if self.batch is None:
            raise Http404
        foundation_id = self.batch.program.fund.foundation_id
        self.is_officer = _is_officer(request.user, foundation_id)
        self.is_finance = (
            _is_finance(request.user, foundation_id) and request.user.pk != self.batch.approved_by_id
        )
        allowed = {"": True, "approve": self.is_officer, "cancel": self.is_officer, "pay": self.is_finance}
        if not allowed[self.action]:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return str(self.batch)

    def get_breadcrumbs_items(self):
        return super().get_breadcrumbs_items() + [
            {
                "url": reverse("stipends_admin:program", args=[self.batch.program_id]),
                "label": self.batch.program.name,
            }
        ]

    def preview(self):
        """Who would be paid what on approval (payees as the service will group them)."""
        batch = self.batch
        foundation = batch.program.fund.foundation
        fallback = service.organization_payee(foundation, batch.organization)
        rows = {}
        for line in batch.lines.select_related("volunteer__payee__organization"):
            payee = service.payee_for_line(line, foundation, fallback)
            key = payee.pk if payee else None
            label = service.payee_label(payee) if payee else _t("%(organization)s (payouts not set up)") % {
                "organization": batch.organization.name}  # fmt: skip
            rows.setdefault(key, {"label": label, "amount": zero(str(batch.total.currency))})
            rows[key]["amount"] += line.amount
        return list(rows.values())

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        batch = self.batch
        payments = list(batch.payments.select_related("payee__organization", "disbursement"))
        for payment in payments:
            payment.label = service.payee_label(payment.payee)
        status = batch.status
        context.update(
            batch=batch,
            lines=batch.lines.select_related("volunteer"),
            payments=payments,
            action=self.action,
            can_approve=self.is_officer and status == StipendBatchStatus.DRAFT,
            can_cancel=self.is_officer and status == StipendBatchStatus.DRAFT,
            can_pay=self.is_finance and status == StipendBatchStatus.APPROVED,
        )
        if self.action == "approve":
            context["confirm_rows"] = self.preview()
        elif self.action == "pay":
            context["confirm_rows"] = [{"label": p.label, "amount": p.amount} for p in payments]
            context["problems"] = stipend_payments.payment_problems(batch)
        return context

    def post(self, request, *args, **kwargs):
        if not self.action:
            raise Http404
        batch, user = self.batch, request.user
        try:
            if self.action == "approve":
                service.approve_batch(batch, by=user)
                messages.success(request, _t("The stipends were approved and the money committed."))
            elif self.action == "cancel":
                service.cancel_batch(batch, by=user)
                messages.success(request, _t("The computation was cancelled; its shifts can change again."))
            else:
                result = stipend_payments.pay_batch(batch, by=user)
                for label, message in result.failures:
                    messages.error(request, f"{label}: {message}")
                if not result.failures:
                    messages.success(request, _t("The payments were sent to Stripe."))
        except DomainError as error:
            messages.error(request, error.message)
            return self.render_to_response(self.get_context_data(), status=400)
        return redirect("stipends_admin:batch", batch.pk)


class StipendMenuItem(MenuItem):
    def is_shown(self, request):
        return bool(foundations_where(request.user, Capability.VIEW_STIPENDS))


class StipendViewSet(ViewSet):
    """ "Stipends": URL namespace ``stipends_admin``."""

    icon = "group"
    menu_label = _("Stipends")
    menu_order = 158
    add_to_admin_menu = True
    menu_item_class = StipendMenuItem
    url_prefix = "stipends"

    def get_urlpatterns(self):
        return [
            path("", ProgramIndexView.as_view(), name="index"),
            path("new/", ProgramFormView.as_view(), name="new"),
            path("<int:program_id>/", ProgramView.as_view(), name="program"),
            path("<int:program_id>/edit/", ProgramFormView.as_view(), name="edit"),
            path("batches/<int:batch_id>/", BatchView.as_view(), name="batch"),
            path("batches/<int:batch_id>/approve/", BatchView.as_view(action="approve"), name="approve"),
            path("batches/<int:batch_id>/cancel/", BatchView.as_view(action="cancel"), name="cancel"),
            path("batches/<int:batch_id>/pay/", BatchView.as_view(action="pay"), name="pay"),
        ]
