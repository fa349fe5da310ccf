"""Finance's side of paying grants in Wagtail admin (menu "Payments", URL namespace ``payments``).

* Payments to release: due and failed installments of accepted awards; finance staff pick some,
  review them on a separate confirmation page (``release_preview``) and release them
  (``release_installments``), then read one result per payment. A repeated POST pays nothing
  twice: the service returns the disbursement already made, and the page shows the same result.
* Disbursements (with each one's activity), reconciliation with Stripe, webhook events (flagged
  first) and payee accounts.

Finance officers and foundation admins act; auditors read the lists; webhook events are for
finance and admins. Rows of another foundation are never listed and are a 404 when asked for.
"""

import datetime
import uuid

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.menu import Menu, SubmenuMenuItem
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.base import ViewSet

from grants.admin.menus import CapabilityMenuItem
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import (
    ActivityEntry,
    Disbursement,
    DisbursementStatus,
    Foundation,
    Installment,
    InstallmentStatus,
    PayeeAccount,
    PayoutStatus,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments import webhooks
from grants.permissions import Capability, disbursements_visible_to, foundations_where, scope
from grants.services import disbursements as disbursement_service
from grants.services import installments as installment_service
from grants.services import payments as payment_service
from grants.services import payouts, reconciliation
from grants.services.errors import DomainError

FAILED_PAYOUT_DAYS = 30
RELEASABLE_STATES = (InstallmentStatus.DUE, InstallmentStatus.FAILED)
PER_PAGE = 50
KEPT_RESULTS = 5

DIFFERENCE_LABELS = {
    reconciliation.UNKNOWN_AT_STRIPE: _("Transfer at Stripe the portal does not know"),
    reconciliation.MISSING_AT_STRIPE: _("Payment the portal sent that Stripe does not list"),
    reconciliation.AMOUNT_MISMATCH: _("Different amount"),
    reconciliation.DESTINATION_MISMATCH: _("Paid to a different Stripe account"),
    reconciliation.REVERSED_AT_STRIPE_ONLY: _("Reversed at Stripe, not in the portal"),
    reconciliation.REVERSED_HERE_ONLY: _("Reversed in the portal, not at Stripe"),
    reconciliation.SECOND_TRANSFER: _("Paid twice at Stripe"),
    reconciliation.NOT_RECORDED_PAID: _("Paid at Stripe, not yet recorded as paid"),
    reconciliation.OUTCOME_UNKNOWN: _("Outcome not known yet"),
}
DISBURSEMENT_ACTIVITY = {
    "release": _("Released"),
    "submit": _("Sent to Stripe"),
    "retry": _("Released again after a failure"),
    "fail": _("Stripe refused the transfer"),
    "outcome_unknown": _("Stripe did not say whether it paid"),
    "confirm": _("Stripe confirmed the transfer"),
    "reverse": _("Stripe reversed the transfer"),
}


# --- Reads ---------------------------------------------------------------------------------


def installments_to_release(user):
    """Due and failed installments of accepted or active awards of the user's foundations; a
    scheduled one is due on its date, whether or not the daily job has marked it."""
    return scope(
        Installment.objects.filter(
            Q(status__in=RELEASABLE_STATES)
            | Q(status=InstallmentStatus.SCHEDULED, due_date__lte=timezone.localdate()),
            award__status__in=installment_service.PAYABLE_AWARD_STATES,
        ),
        user,
        Capability.VIEW_PAYMENTS,
        "award__fund__foundation",
    ).select_related("award__fund__foundation", "award__application__organization", "disbursement")


def attach_payees(installment_list) -> None:
    """Set ``installment.payee`` (the organization's account or ``None``) in one query."""
    pairs = {(i.award.fund.foundation_id, i.award.application.organization_id) for i in installment_list}
    payees = {
        (payee.foundation_id, payee.organization_id): payee
        for payee in PayeeAccount.objects.filter(
            foundation_id__in={f for f, _o in pairs},
            organization_id__in={o for _f, o in pairs},
            volunteer_pseudonym="",
        )
    }
    for installment in installment_list:
        award = installment.award
        installment.payee = payees.get((award.fund.foundation_id, award.application.organization_id))


def payout_status_label(payee) -> str:
    return PayoutStatus(payee.payout_status).label if payee else _t("Not started")


class PaymentsPage(WagtailAdminTemplateMixin, TemplateView):
    """A page of the Payments menu: reachable with ``capability`` at some foundation, else 404."""

    capability = Capability.VIEW_PAYMENTS
    header_icon = "form"
    crumb = ""

    def dispatch(self, request, *args, **kwargs):
        if not foundations_where(request.user, self.capability):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.page_title

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    @cached_property
    def release_foundations(self) -> set[int]:
        return foundations_where(self.request.user, Capability.RELEASE_PAYMENTS)

    @cached_property
    def several_foundations(self) -> bool:
        return len(foundations_where(self.request.user, self.capability)) > 1

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["several_foundations"] = self.several_foundations
        return context


# --- Payments to release -------------------------------------------------------------------


class ReleaseIndexView(PaymentsPage):
    template_name = "grants/admin/payments/index.html"
    page_title = _("Payments to release")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = installments_to_release(self.request.user).order_by("due_date", "award_id", "number")
        page = Paginator(queryset, PER_PAGE * 2).get_page(self.request.GET.get("p"))
        rows = list(page.object_list)
        attach_payees(rows)
        for installment in rows:
            installment.can_release = installment.award.fund.foundation_id in self.release_foundations
            installment.payout_label = payout_status_label(installment.payee)
        context.update(page=page, rows=rows, can_release=any(row.can_release for row in rows))
        return context


def _selected(view, values) -> list[Installment]:
    """The installments named in ``values`` (ids), in that order; 404 if one is not visible."""
    try:
        pks = list(dict.fromkeys(int(value) for value in values))
    except ValueError:
        raise Http404 from None
    if not pks:
        return []
    found = scope(
        Installment.objects.select_related("award__fund__foundation", "award__application__organization"),
        view.request.user,
        Capability.VIEW_PAYMENTS,
        "award__fund__foundation",
    ).in_bulk(pks)
    if len(found) != len(pks):
        raise Http404
    chosen = [found[pk] for pk in pks]
    if any(i.award.fund.foundation_id not in view.release_foundations for i in chosen):
        raise PermissionDenied
    return chosen


class ReviewView(PaymentsPage):
    """The confirmation step: who gets what, what will not be released and why, totals."""

    template_name = "grants/admin/payments/review.html"
    page_title = _("Review and release")
    capability = Capability.RELEASE_PAYMENTS

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("payments:index"), "label": _("Payments to release")},
            {"url": "", "label": self.page_title},
        ]

    def get(self, request, *args, **kwargs):
        chosen = _selected(self, request.GET.getlist("installment"))
        if not chosen:
            messages.warning(request, _t("Choose at least one payment to release."))
            return redirect("payments:index")
        preview, totals = payment_service.release_preview(chosen, by=request.user)
        rows = [
            {"installment": row.installment, "payee": row.payee, "amount": row.amount, "problem": row.problem,
             "payout_label": payout_status_label(row.payee)}
            for row in preview
        ]  # fmt: skip
        return self.render_to_response(
            self.get_context_data(
                releasable=[row for row in rows if row["problem"] is None],
                refused=[row for row in rows if row["problem"] is not None],
                totals=[totals[currency] for currency in sorted(totals)],
            )
        )


class ReleaseView(PaymentsPage):
    """POST only: release what was confirmed, keep one result per payment, show them."""

    http_method_names = ["post"]
    capability = Capability.RELEASE_PAYMENTS

    def post(self, request, *args, **kwargs):
        chosen = _selected(self, request.POST.getlist("installment"))
        if not chosen:
            messages.warning(request, _t("Choose at least one payment to release."))
            return redirect("payments:index")
        changed, confirmed = [], []
        for installment in chosen:
            # The amount the person confirmed is the amount that leaves, or nothing does.
            if request.POST.get(f"amount-{installment.pk}") != str(installment.amount.amount):
                changed.append(installment)
            else:
                confirmed.append(installment)
        results = payment_service.release_installments(confirmed, by=request.user)
        stored = [{"installment": r.installment.pk, "ok": r.ok, "message": r.message} for r in results]
        stored += [
            {"installment": i.pk, "ok": False,
             "message": _t("The amount changed after you reviewed it; review it again.")}
            for i in changed
        ]  # fmt: skip
        token = uuid.uuid4().hex
        kept = request.session.get("payment_results", {})
        kept = dict(list(kept.items())[-(KEPT_RESULTS - 1) :])
        kept[token] = stored
        request.session["payment_results"] = kept
        return redirect("payments:results", token)


class ResultsView(PaymentsPage):
    template_name = "grants/admin/payments/results.html"
    page_title = _("Release results")
    capability = Capability.RELEASE_PAYMENTS

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("payments:index"), "label": _("Payments to release")},
            {"url": "", "label": self.page_title},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        stored = self.request.session.get("payment_results", {}).get(self.kwargs["token"])
        if stored is None:
            raise Http404
        found = scope(
            Installment.objects.select_related(
                "award__application__organization", "disbursement__payee", "award__fund__foundation"
            ),
            self.request.user,
            Capability.RELEASE_PAYMENTS,
            "award__fund__foundation",
        ).in_bulk([item["installment"] for item in stored])
        rows = []
        for item in stored:
            installment = found.get(item["installment"])
            if installment is None:
                continue
            disbursement = getattr(installment, "disbursement", None)
            rows.append({"installment": installment, "ok": item["ok"], "message": item["message"],
                         "disbursement": disbursement})  # fmt: skip
        context.update(rows=rows, released=sum(1 for row in rows if row["ok"]))
        return context


# --- Disbursements -------------------------------------------------------------------------


class StatusFilterForm(TextLimits, forms.Form):
    status = forms.ChoiceField(label=_("Status"), required=False)

    def __init__(self, *args, choices, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("All")), *choices]


class DisbursementIndexView(PaymentsPage):
    template_name = "grants/admin/payments/disbursements.html"
    page_title = _("Disbursements")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = StatusFilterForm(self.request.GET or None, choices=DisbursementStatus.choices)
        queryset = disbursements_visible_to(self.request.user).select_related(
            "foundation",
            "payee__organization",
            "payee__vendor",
            "released_by",
            "award__application",
            "installment",
        )
        if form.is_valid() and form.cleaned_data["status"]:
            queryset = queryset.filter(status=form.cleaned_data["status"])
        page = Paginator(queryset.order_by("-released_at", "-pk"), PER_PAGE).get_page(
            self.request.GET.get("p")
        )
        context.update(form=form, page=page, rows=page.object_list)
        return context


class DisbursementView(PaymentsPage):
    template_name = "grants/admin/payments/disbursement.html"

    def dispatch(self, request, *args, **kwargs):
        self.disbursement = (
            disbursements_visible_to(request.user)
            .select_related(
                "foundation", "payee__organization", "released_by", "award__application", "installment"
            )
            .filter(pk=kwargs["pk"])
            .first()
        )
        if self.disbursement is None:
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return _t("Disbursement #%(id)s") % {"id": self.disbursement.pk}

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("payments:disbursements"), "label": _("Disbursements")},
            {"url": "", "label": self.get_page_title()},
        ]

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entries = ActivityEntry.objects.filter(
            subject_type="disbursement", subject_id=self.disbursement.pk
        ).select_related("actor")
        states = dict(DisbursementStatus.choices)
        activity = [
            {"entry": entry, "label": DISBURSEMENT_ACTIVITY.get(entry.action, entry.action),
             "from": states.get(entry.from_state, entry.from_state), "to": states.get(entry.to_state, entry.to_state)}
            for entry in entries
        ]  # fmt: skip
        can_check = (
            self.disbursement.status in disbursement_service.OPEN_STATES
            and self.disbursement.foundation_id in self.release_foundations
        )
        context.update(disbursement=self.disbursement, activity=activity, can_check=can_check)
        return context


class CheckWithStripeView(DisbursementView):
    """POST only: ask Stripe now what happened to a payment it has not settled (finance)."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        disbursement = self.disbursement
        if disbursement.foundation_id not in self.release_foundations:
            raise PermissionDenied
        if disbursement.status not in disbursement_service.OPEN_STATES:
            messages.info(request, _t("Stripe has already settled this payment: it is “%(status)s”.")
                          % {"status": disbursement.get_status_display()})  # fmt: skip
            return redirect("payments:disbursement", disbursement.pk)
        try:
            attempt = payouts.settle(disbursement)
        except DomainError as error:
            messages.error(request, error.message)
        else:
            status = attempt.disbursement.get_status_display()
            if attempt.error is not None or attempt.disbursement.status == DisbursementStatus.UNKNOWN:
                messages.warning(request, attempt.message)
            else:
                messages.success(
                    request, _t("Stripe was asked: the payment is “%(status)s”.") % {"status": status}
                )
        return redirect("payments:disbursement", disbursement.pk)


# --- Reconciliation ------------------------------------------------------------------------


class ReconcileForm(TextLimits, forms.Form):
    foundation = forms.ModelChoiceField(label=_("Foundation"), queryset=Foundation.objects.none())
    date_from = date_field(_("From"))
    date_to = date_field(_("To (included)"))

    def __init__(self, *args, foundations, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["foundation"].queryset = foundations
        listed = list(foundations)
        self.only = listed[0] if len(listed) == 1 else None
        if self.only is not None:
            self.fields["foundation"].required = False
            self.fields["foundation"].widget = forms.HiddenInput()

    def clean(self):
        cleaned = super().clean()
        if self.only is not None and not cleaned.get("foundation"):
            cleaned["foundation"] = self.only
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned


class ReconciliationView(PaymentsPage):
    template_name = "grants/admin/payments/reconciliation.html"
    page_title = _("Reconciliation with Stripe")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        foundations = Foundation.objects.filter(pk__in=self.foundations).order_by("name")
        today = timezone.localdate()
        data = self.request.GET if "date_from" in self.request.GET else None
        initial = {"date_from": today - datetime.timedelta(days=30), "date_to": today}
        form = ReconcileForm(data, initial=initial, foundations=foundations)
        context["form"] = form
        if data is None or not form.is_valid():
            return context
        foundation, start, end = (form.cleaned_data[k] for k in ("foundation", "date_from", "date_to"))
        differences = reconciliation.reconcile(foundation, date_from=start, date_to=end)
        bounds = reconciliation.period_bounds(start, end)
        context.update(
            checked=True,
            foundation=foundation,
            differences=[
                {"difference": d, "label": DIFFERENCE_LABELS.get(d.kind, d.kind)} for d in differences
            ],
            sent_count=Disbursement.objects.filter(
                foundation=foundation,
                status__in=reconciliation.SENT_STATES,
                submitted_at__gte=bounds[0],
                submitted_at__lt=bounds[1],
            ).count(),
        )
        return context

    @cached_property
    def foundations(self) -> set[int]:
        return foundations_where(self.request.user, Capability.VIEW_PAYMENTS)

    def get(self, request, *args, **kwargs):
        asked = request.GET.get("foundation", "")
        if asked and (not asked.isdigit() or int(asked) not in self.foundations):
            raise Http404  # another foundation's money is not even named
        return super().get(request, *args, **kwargs)


# --- Webhook events and payee accounts -----------------------------------------------------


class WebhookEventIndexView(PaymentsPage):
    template_name = "grants/admin/payments/webhooks.html"
    page_title = _("Stripe webhook events")
    capability = Capability.VIEW_WEBHOOK_EVENTS

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        form = StatusFilterForm(self.request.GET or None, choices=WebhookEventStatus.choices)
        queryset = scope(
            WebhookEvent.objects.all(), self.request.user, Capability.VIEW_WEBHOOK_EVENTS, "foundation"
        )
        if form.is_valid() and form.cleaned_data["status"]:
            queryset = queryset.filter(status=form.cleaned_data["status"])
        flagged_first = Case(
            When(status=WebhookEventStatus.FLAGGED, then=Value(0)),
            default=Value(1),
            output_field=IntegerField(),
        )
        queryset = (
            queryset.select_related("foundation")
            .defer("payload")
            .order_by(flagged_first, "-received_at", "-pk")
        )
        page = Paginator(queryset, PER_PAGE).get_page(self.request.GET.get("p"))
        # The foundation's own payouts to its bank that failed lately: finance must fix the bank
        # details at Stripe (the money waits in the Stripe balance).
        since = timezone.now() - datetime.timedelta(days=FAILED_PAYOUT_DAYS)
        failed_payouts = scope(
            ActivityEntry.objects.filter(
                subject_type=webhooks.PAYOUT_SUBJECT, action=webhooks.PAYOUT_FAILED, created_at__gte=since
            ),
            self.request.user,
            Capability.VIEW_WEBHOOK_EVENTS,
            "foundation",
        ).select_related("foundation")
        context.update(
            form=form,
            page=page,
            rows=page.object_list,
            flagged=scope(
                WebhookEvent.objects.filter(status=WebhookEventStatus.FLAGGED),
                self.request.user,
                Capability.VIEW_WEBHOOK_EVENTS,
                "foundation",
            ).count(),
            reapply_foundations=foundations_where(self.request.user, Capability.REAPPLY_WEBHOOK_EVENTS),
            failed_payouts=list(failed_payouts.order_by("-created_at")[:20]),
            failed_payout_days=FAILED_PAYOUT_DAYS,
        )
        return context


class WebhookEventReapplyView(PaymentsPage):
    """Apply a flagged event again, after a confirmation page (GET shows it, POST does it).

    Another foundation's event, or one the person may not re-apply, is a 404; an event that is
    not flagged is refused with a message and nothing changes.
    """

    template_name = "grants/admin/payments/webhook_reapply.html"
    page_title = _("Apply a flagged event again")
    capability = Capability.REAPPLY_WEBHOOK_EVENTS

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("payments:webhooks"), "label": _("Stripe webhook events")},
            {"url": "", "label": self.page_title},
        ]

    @cached_property
    def event(self) -> WebhookEvent:
        found = scope(
            WebhookEvent.objects.select_related("foundation"),
            self.request.user,
            Capability.REAPPLY_WEBHOOK_EVENTS,
            "foundation",
        ).filter(pk=self.kwargs["pk"])
        event = found.first()
        if event is None:
            raise Http404
        return event

    def get(self, request, *args, **kwargs):
        if self.event.status != WebhookEventStatus.FLAGGED:
            messages.error(request, _t("Only a flagged event can be applied again."))
            return redirect("payments:webhooks")
        return super().get(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["event"] = self.event
        return context

    def post(self, request, *args, **kwargs):
        try:
            status = webhooks.reapply(self.event, by=request.user)
        except webhooks.NotReapplicable as error:
            messages.error(request, str(error))
            return redirect("payments:webhooks")
        label = WebhookEventStatus(status).label
        if status == WebhookEventStatus.FLAGGED:
            messages.warning(request, _t("The event was applied again and is still flagged: %(status)s.")
                             % {"status": label})  # fmt: skip
        else:
            messages.success(request, _t("The event was applied again: %(status)s.") % {"status": label})
        return redirect("payments:webhooks")


class PayeeIndexView(PaymentsPage):
    template_name = "grants/admin/payments/payees.html"
    page_title = _("Payee accounts")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        queryset = (
            scope(PayeeAccount.objects.all(), self.request.user, Capability.VIEW_PAYMENTS, "foundation")
            .select_related("foundation", "organization", "vendor")
            .order_by("organization__name", "volunteer_pseudonym", "pk")
        )
        page = Paginator(queryset, PER_PAGE).get_page(self.request.GET.get("p"))
        context.update(page=page, rows=page.object_list)
        return context


# --- Menu and URLs -------------------------------------------------------------------------


class PaymentsViewSet(ViewSet):
    """ "Payments": a submenu of the pages above, each shown to the roles that may open it."""

    icon = "form"
    menu_label = _("Payments")
    menu_order = 156
    add_to_admin_menu = True
    url_prefix = "payments"

    def get_menu_item(self, order=None):
        def item(label, name, icon, capability, position):
            return CapabilityMenuItem(
                label, reverse(f"payments:{name}"), icon_name=icon, order=position, capability=capability
            )

        menu = Menu(
            items=[
                item(_("Payments to release"), "index", "form", Capability.VIEW_PAYMENTS, 100),
                item(_("Disbursements"), "disbursements", "list-ul", Capability.VIEW_PAYMENTS, 200),
                item(_("Reconciliation"), "reconciliation", "tasks", Capability.VIEW_PAYMENTS, 300),
                item(_("Webhook events"), "webhooks", "warning", Capability.VIEW_WEBHOOK_EVENTS, 400),
                item(_("Payee accounts"), "payees", "group", Capability.VIEW_PAYMENTS, 500),
            ]
        )
        return SubmenuMenuItem(
            self.menu_label, menu, name="payments", icon_name=self.icon, order=self.get_menu_item_order(order)
        )

    def get_urlpatterns(self):
        return [
            path("", ReleaseIndexView.as_view(), name="index"),
            path("review/", ReviewView.as_view(), name="review"),
            path("release/", ReleaseView.as_view(), name="release"),
            path("results/<slug:token>/", ResultsView.as_view(), name="results"),
            path("disbursements/", DisbursementIndexView.as_view(), name="disbursements"),
            path("disbursements/<int:pk>/", DisbursementView.as_view(), name="disbursement"),
            path("disbursements/<int:pk>/check/", CheckWithStripeView.as_view(), name="check_with_stripe"),
            path("reconciliation/", ReconciliationView.as_view(), name="reconciliation"),
            path("webhooks/", WebhookEventIndexView.as_view(), name="webhooks"),
            path("webhooks/<int:pk>/reapply/", WebhookEventReapplyView.as_view(), name="webhook_reapply"),
            path("payees/", PayeeIndexView.as_view(), name="payees"),
        ]
