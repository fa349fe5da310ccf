"""Bonds in Wagtail admin: the list (requests first, on their decision clock), one bond with its
figures, activity and the forms its reader may use, and the foundation's bond partners.

Officers, finance staff, admins and auditors of the bond's foundation see it (``VIEW_BONDS``);
officers and admins decide (``DECIDE_BONDS``); finance staff and admins post and record how the
bond ends (``MANAGE_BONDS``); only finance staff read or enter the government's reference
(``READ_BOND_REFERENCES``). Another foundation's bonds and partners are 404 on every URL; the
rules are ``grants.services.bonds``'.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404, HttpResponseNotAllowed
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from grants.admin.activity import action_label
from grants.admin.menus import CapabilityViewSet
from grants.forms.bonds import (
    ApproveForm,
    BreachForm,
    CancellationForm,
    DeclineForm,
    PartnerForm,
    PostForm,
    ReferenceForm,
    RefundForm,
)
from grants.models import (
    BOND_OUT_STATES,
    ActivityEntry,
    Bond,
    BondPartner,
    BondStatus,
    Disbursement,
)
from grants.permissions import Capability, can, foundations_where, scope
from grants.scoping_organizations import organizations_related_to
from grants.services import bonds as service
from grants.services.errors import DomainError
from grants.services.work_queues import time_left

PER_PAGE = 50


def visible_bonds(user):
    return scope(
        Bond.objects.select_related("foundation", "fund", "partner", "call", "decided_by", "posted_by"),
        user,
        Capability.VIEW_BONDS,
        "foundation",
    )


class _BondAdminView(WagtailAdminTemplateMixin, TemplateView):
    header_icon = "tasks"

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, Capability.VIEW_BONDS):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": reverse("bonds:index"), "label": _("Bonds")}]


class BondIndexView(_BondAdminView):
    template_name = "grants/admin/bonds/index.html"
    page_title = _("Bonds")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        status = self.request.GET.get("status", "")
        bonds = visible_bonds(self.request.user)
        if status in BondStatus.values:
            bonds = bonds.filter(status=status)
        else:
            status = ""
        bonds = bonds.annotate(
            waiting=Case(
                When(status=BondStatus.REQUESTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        ).order_by("waiting", "decision_due_at", "-requested_at", "-pk")
        page = Paginator(bonds, PER_PAGE).get_page(self.request.GET.get("p"))
        now = timezone.now()
        rows = list(page.object_list)
        for bond in rows:
            bond.clock, bond.urgent = ("", False)
            if bond.status == BondStatus.REQUESTED and bond.decision_due_at:
                bond.clock, bond.urgent = time_left(bond.decision_due_at, now)
        context.update(
            page=page,
            rows=rows,
            status=status,
            statuses=BondStatus.choices,
            can_manage_partners=bool(foundations_where(self.request.user, Capability.DECIDE_BONDS)),
            several_foundations=len(foundations_where(self.request.user, Capability.VIEW_BONDS)) > 1,
        )
        return context


# Which capability each action needs, and its form.
ACTIONS = {
    "approve": (Capability.DECIDE_BONDS, ApproveForm),
    "decline": (Capability.DECIDE_BONDS, DeclineForm),
    "post": (Capability.MANAGE_BONDS, PostForm),
    "resend": (Capability.MANAGE_BONDS, None),
    "cancel": (Capability.MANAGE_BONDS, CancellationForm),
    "refund": (Capability.MANAGE_BONDS, RefundForm),
    "breach": (Capability.MANAGE_BONDS, BreachForm),
    "reference": (Capability.READ_BOND_REFERENCES, ReferenceForm),
}


class BondView(_BondAdminView):
    """One bond; with ``action``, a POST of that action's form (GET: 405)."""

    template_name = "grants/admin/bonds/detail.html"
    action = ""

    def dispatch(self, request, *args, **kwargs):
        self.bond = visible_bonds(request.user).filter(pk=kwargs["bond_id"]).first()
        if self.bond is None:
            raise Http404
        if self.action:
            if request.method != "POST":
                return HttpResponseNotAllowed(["POST"])
            if not can(request.user, ACTIONS[self.action][0], self.bond.foundation_id):
                raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return f"{self.bond.reference_code} · {self.bond.label}"

    def may(self, capability) -> bool:
        return can(self.request.user, capability, self.bond.foundation_id)

    @cached_property
    def disbursement(self):
        return Disbursement.objects.filter(bond=self.bond).first()

    def available(self) -> dict:
        """The actions the reader may take on the bond in its state."""
        bond, status = self.bond, self.bond.status
        decide, manage = self.may(Capability.DECIDE_BONDS), self.may(Capability.MANAGE_BONDS)
        return {
            "approve": decide and status == BondStatus.REQUESTED,
            "decline": decide and status in (BondStatus.REQUESTED, BondStatus.APPROVED),
            "post": manage and status == BondStatus.APPROVED and bond.decided_by_id != self.request.user.pk,
            "resend": manage
            and self.disbursement is not None
            and status in (BondStatus.APPROVED, BondStatus.SENDING),
            "cancel": manage and status == BondStatus.POSTED,
            "refund": manage and status in BOND_OUT_STATES,
            "breach": manage and status in BOND_OUT_STATES,
            "reference": self.may(Capability.READ_BOND_REFERENCES) and bond.reference_purged_at is None,
        }

    def make_form(self, name, data=None):
        form_class = ACTIONS[name][1]
        if form_class is None:
            return None
        kwargs = {"prefix": name}
        if name == "post":
            kwargs.update(bond=self.bond, reference_allowed=self.may(Capability.READ_BOND_REFERENCES))
        elif name == "refund":
            kwargs["currency"] = self.bond.fund.currency
        elif name == "reference" and data is None:
            kwargs["initial"] = {"reference": self.bond.reference}
        return form_class(data, **kwargs)

    def get_context_data(self, bound=None, **kwargs):
        context = super().get_context_data(**kwargs)
        bond = self.bond
        forms = {}
        for name, allowed in self.available().items():
            if allowed:
                forms[name] = bound if bound is not None and name == self.action else self.make_form(name)
        entries = list(
            ActivityEntry.objects.filter(subject_type="bond", subject_id=bond.pk)
            .select_related("actor")
            .order_by("created_at", "pk")
        )
        for entry in entries:
            entry.label = action_label(entry)
        clock = time_left(bond.decision_due_at, timezone.now()) if (
            bond.status == BondStatus.REQUESTED and bond.decision_due_at) else ("", False)  # fmt: skip
        context.update(
            bond=bond,
            figures=service.figures(bond),
            entries=entries,
            forms=forms,
            available=self.available(),
            clock=clock[0],
            urgent=clock[1],
            reads_reference=self.may(Capability.READ_BOND_REFERENCES),
            reference=service.reference_for(bond, self.request.user),
            disbursement=self.disbursement,
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.action:
            return HttpResponseNotAllowed(["GET"])
        bond, user, name = self.bond, request.user, self.action
        form = self.make_form(name, request.POST)
        if form is None or form.is_valid():
            data = form.cleaned_data if form is not None else {}
            try:
                message = self.run(name, form, data)
            except DomainError as error:
                if form is not None:
                    form.add_error(None, error.message)
                messages.error(request, error.message)
            else:
                messages.success(request, message)
                return redirect("bonds:bond", bond.pk)
        else:
            messages.error(request, _t("Check what you typed: some fields need a correction."))
        self.bond = visible_bonds(user).get(pk=bond.pk)
        return self.render_to_response(self.get_context_data(bound=form), status=400)

    def run(self, name, form, data) -> str:
        bond, user = self.bond, self.request.user
        if name == "approve":
            service.approve(bond, by=user, note=data["note"])
            return _t("The bond is approved. Finance posts it.")
        if name == "decline":
            service.decline(bond, by=user, reason=data["reason"])
            return _t("The request is declined; the partner reads your reason.")
        if name == "post":
            posted = service.post_bond(
                bond,
                by=user,
                method=data["method"],
                posted_on=data["posted_on"],
                reference=data.get("reference", ""),
            )
            if posted.status == BondStatus.SENDING:
                return _t("The money is on its way to the partner through Stripe.")
            return _t("The bond is recorded as posted.")
        if name == "resend":
            service.resend(bond, by=user)
            return _t("The transfer was sent again or checked with Stripe.")
        if name == "cancel":
            service.record_cancellation(bond, by=user, cancelled_on=data["cancelled_on"])
            return _t("The bond is cancelled; its refund is expected.")
        if name == "refund":
            service.record_refund(
                bond, by=user, received_on=data["received_on"], principal=form.money("principal"),
                interest=form.money("interest"), receipt=data["receipt"], write_off_rest=data["write_off_rest"],
                reason=data["reason"],
            )  # fmt: skip
            return _t("The refund is recorded.")
        if name == "breach":
            service.record_breach(bond, by=user, reason=data["reason"], breached_on=data["breached_on"])
            return _t("The breach is recorded and the loss written off.")
        service.set_reference(bond, by=user, reference=data["reference"])
        return _t("The reference is saved.")


class PartnersView(_BondAdminView):
    """Bond partners of the person's foundations; officers and admins add and remove them."""

    template_name = "grants/admin/bonds/partners.html"
    page_title = _("Bond partners")

    @cached_property
    def deciding(self) -> set[int]:
        return foundations_where(self.request.user, Capability.DECIDE_BONDS)

    def make_form(self, data=None):
        return PartnerForm(
            data,
            foundations=self.deciding,
            organizations=organizations_related_to(self.deciding).order_by("name"),
        )

    def get_context_data(self, form=None, **kwargs):
        context = super().get_context_data(**kwargs)
        partners = scope(
            BondPartner.objects.select_related("foundation", "organization", "added_by"),
            self.request.user,
            Capability.VIEW_BONDS,
            "foundation",
        ).order_by("foundation__name", "organization__name")
        rows = list(partners)
        for partner in rows:
            partner.can_remove = partner.foundation_id in self.deciding
        context.update(
            partners=rows,
            form=(form or self.make_form()) if self.deciding else None,
            several_foundations=len(foundations_where(self.request.user, Capability.VIEW_BONDS)) > 1,
        )
        return context

    def post(self, request, *args, **kwargs):
        if not self.deciding:
            raise PermissionDenied
        form = self.make_form(request.POST)
        if form.is_valid():
            try:
                service.add_partner(
                    foundation=form.cleaned_data["foundation"],
                    organization=form.cleaned_data["organization"],
                    by=request.user,
                )
            except DomainError as error:
                form.add_error(None, error.message)
            else:
                messages.success(
                    request,
                    _t("%(organization)s is a bond partner now.")
                    % {"organization": form.cleaned_data["organization"]},
                )
                return redirect("bonds:partners")
        messages.error(request, _t("Check what you typed: some fields need a correction."))
        return self.render_to_response(self.get_context_data(form=form), status=400)


class PartnerRemoveView(_BondAdminView):
    def dispatch(self, request, *args, **kwargs):
        self.partner = (
            scope(
                BondPartner.objects.select_related("foundation", "organization"),
                request.user,
                Capability.VIEW_BONDS,
                "foundation",
            )  # fmt: skip
            .filter(pk=kwargs["partner_id"])
            .first()
        )
        if self.partner is None:
            raise Http404
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        if not can(request.user, Capability.DECIDE_BONDS, self.partner.foundation_id):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def post(self, request, *args, **kwargs):
        name = self.partner.organization.name
        try:
            service.remove_partner(self.partner, by=request.user)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            messages.success(
                request, _t("%(organization)s no longer asks for bonds.") % {"organization": name}
            )
        return redirect("bonds:partners")


class BondViewSet(CapabilityViewSet):
    """ "Bonds": URL namespace ``bonds``."""

    icon = "tasks"
    menu_label = _("Bonds")
    menu_order = 159
    menu_capability = Capability.VIEW_BONDS
    url_prefix = "bonds"

    def get_urlpatterns(self):
        return [
            path("", BondIndexView.as_view(), name="index"),
            path("partners/", PartnersView.as_view(), name="partners"),
            path("partners/<int:partner_id>/remove/", PartnerRemoveView.as_view(), name="partner_remove"),
            path("<int:bond_id>/", BondView.as_view(), name="bond"),
            *(path(f"<int:bond_id>/{name}/", BondView.as_view(action=name), name=name) for name in ACTIONS),
        ]
