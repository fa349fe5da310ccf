"""Staff side of awards in Wagtail admin: making an award, the list, the detail and its actions.

Every award is scoped to the user's foundations (another foundation's award is a 404 on every
URL). Actions are POST forms calling ``grants.services``; a refusal shows the service's message
and keeps what was typed. Officers and foundation admins amend, cancel and complete; they and
finance staff hold payments; finance staff record payments made outside Stripe. Auditors read.
"""

import django_filters
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Min, Q
from django.http import Http404
from django.shortcuts import redirect
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import get_language
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView, View
from djmoney.money import Money
from wagtail.admin.admin_url_finder import ModelAdminURLFinder
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import IndexView, InspectView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.admin.viewsets.model import ModelViewSet

from cms.models import agreement_texts
from cms.templatetags.portal_tags import money
from grants.admin.money import journal_entries
from grants.admin.paging import ModelChoiceFilter
from grants.admin.reviews import error_messages, form_error_messages
from grants.forms.awards import (
    AmendForm,
    AwardTermsForm,
    CancelForm,
    CompleteForm,
    HoldForm,
    LiftHoldForm,
    RecordPaymentForm,
    schedule_formset,
)
from grants.forms.group_answers import AcceptForGroupForm, DeclineForGroupForm
from grants.forms.translations import translations_from
from grants.models import (
    UNPAID_INSTALLMENT_STATES,
    ActivityEntry,
    AnswerChannel,
    Award,
    AwardStatus,
    Fund,
    InstallmentStatus,
    JournalEntry,
)
from grants.money import ExactSum, zero
from grants.permissions import (
    Capability,
    applications_visible_to_staff,
    awards_visible_to,
    can,
    foundations_where,
)
from grants.services import awards as award_service
from grants.services import installments as installment_service
from grants.services import ledger, telling
from grants.services import payments as payment_service
from grants.services.errors import DomainError
from grants.services.schedules import build_schedule
from grants.views.files import private_file_response

OPEN_AWARD_STATES = (AwardStatus.OFFERED, AwardStatus.ACCEPTED, AwardStatus.ACTIVE)
PAYABLE_AWARD_STATES = (AwardStatus.ACCEPTED, AwardStatus.ACTIVE)
HOLDABLE = (InstallmentStatus.SCHEDULED, InstallmentStatus.DUE, InstallmentStatus.FAILED)
RELEASABLE = (InstallmentStatus.DUE, InstallmentStatus.FAILED)


def with_payment_summary(queryset):
    """Annotate what is paid and when the next unpaid payment is due (same query as the list)."""
    return queryset.annotate(
        paid_amount=ExactSum("installments__amount", filter=Q(installments__status=InstallmentStatus.PAID)),
        next_due=Min("installments__due_date", filter=Q(installments__status__in=UNPAID_INSTALLMENT_STATES)),
    )


def _paid(award) -> Money:
    return Money(award.paid_amount, award.fund.currency) if award.paid_amount else zero(award.fund.currency)


# --- The list ------------------------------------------------------------------------------


def _funds_for(request):
    if request is None:
        return Fund.objects.none()
    return Fund.objects.filter(foundation__in=foundations_where(request.user, Capability.VIEW_AWARDS))


class AwardFilterSet(WagtailFilterSet):
    fund = ModelChoiceFilter(queryset=_funds_for, label=_("Fund"))
    status = django_filters.ChoiceFilter(choices=AwardStatus.choices, label=_("Status"))

    class Meta:
        model = Award
        fields = ["fund", "status"]


class AwardIndexView(IndexView):
    def get_base_queryset(self):
        return with_payment_summary(
            awards_visible_to(self.request.user).select_related("application__organization", "fund")
        )

    def get_edit_url(self, instance):
        return None

    @cached_property
    def columns(self):
        return [
            TitleColumn(
                "reference",
                label=_("Reference"),
                accessor="reference",
                get_url=lambda award: reverse("awards:inspect", args=[award.pk]),
            ),
            Column(
                "organization", label=_("Organization"), accessor=lambda a: a.application.organization.name
            ),
            Column("fund", label=_("Fund"), accessor=lambda a: a.fund.name),
            Column("amount", label=_("Amount"), accessor=lambda a: money(a.amount), sort_key="amount"),
            Column("paid", label=_("Paid"), accessor=lambda a: money(_paid(a))),
            Column("status", label=_("Status"), accessor="get_status_display", sort_key="status"),
            Column("next_due", label=_("Next payment due"), accessor="next_due", sort_key="next_due"),
        ]


# --- The detail and its actions ------------------------------------------------------------

AWARD_ACTIONS = {
    "accept_for_group": (_("Record the group's acceptance"), AcceptForGroupForm),
    "decline_for_group": (_("Record that the group declined"), DeclineForGroupForm),
    "amend": (_("Change the amount"), AmendForm),
    "cancel": (_("Cancel the award"), CancelForm),
    "complete": (_("Mark as completed"), CompleteForm),
}
GROUP_ANSWER_ACTIONS = ("accept_for_group", "decline_for_group")
INSTALLMENT_ACTIONS = {
    "hold": (_("Put on hold"), HoldForm),
    "lift_hold": (_("Lift the hold"), LiftHoldForm),
    "record_payment": (_("Record a payment made by check or bank transfer"), RecordPaymentForm),
}

ACTIVITY_LABELS = {
    ("award", "offer"): _("Award offered"),
    ("award", "accept"): _("Agreement accepted"),
    ("award", "decline"): _("Declined by the grantee"),
    ("award", "activate"): _("First payment made: award active"),
    ("award", "amend"): _("Amount changed"),
    ("award", "complete"): _("Completed"),
    ("award", "cancel"): _("Cancelled"),
    ("installment", "become_due"): _("Payment %(number)s due"),
    ("installment", "hold"): _("Payment %(number)s put on hold"),
    ("installment", "lift_hold_scheduled"): _("Hold lifted on payment %(number)s"),
    ("installment", "lift_hold_due"): _("Hold lifted on payment %(number)s"),
    ("installment", "approve"): _("Payment %(number)s approved"),
    ("installment", "pay"): _("Payment %(number)s paid"),
    ("installment", "fail"): _("Payment %(number)s failed"),
    ("installment", "pay_outside_processor"): _("Payment %(number)s recorded as paid outside Stripe"),
    ("installment", "pay_vendor"): _("Payment %(number)s paid to a vendor at the grantee's request"),
    ("installment", "cancel"): _("Payment %(number)s cancelled"),
}


def _state_label(subject_type: str, value: str) -> str:
    states = AwardStatus if subject_type == "award" else InstallmentStatus
    return states(value).label if value in states.values else value


def award_timeline(award, installments) -> list[dict]:
    """Activity of the award and its payments, newest first (one query)."""
    numbers = {installment.pk: installment.number for installment in installments}
    entries = ActivityEntry.objects.filter(
        Q(subject_type="award", subject_id=award.pk)
        | Q(subject_type="installment", subject_id__in=list(numbers))
    ).select_related("actor")
    rows = []
    for entry in entries:
        label = ACTIVITY_LABELS.get((entry.subject_type, entry.action), entry.action)
        if entry.subject_type == "installment":
            label = label % {"number": numbers.get(entry.subject_id, "")}
        rows.append(
            {
                "entry": entry,
                "label": label,
                "from": _state_label(entry.subject_type, entry.from_state),
                "to": _state_label(entry.subject_type, entry.to_state),
            }
        )
    return rows


class AwardInspectView(InspectView):
    template_name = "grants/admin/awards/inspect.html"
    page_title = _("Award")

    def get_object(self, queryset=None):
        award = (
            awards_visible_to(self.request.user)
            .select_related("application__organization", "application__call", "fund__foundation", "offered_by",
                            "accepted_by")
            .filter(pk=self.pk)
            .first()
        )  # fmt: skip
        if award is None:
            raise Http404
        return award

    def get_edit_url(self):
        return None

    def get_delete_url(self):
        return None

    @cached_property
    def foundation_id(self) -> int:
        return self.object.fund.foundation_id

    @cached_property
    def is_officer(self) -> bool:
        return award_service.is_award_officer(self.request.user, self.object)

    @cached_property
    def can_hold(self) -> bool:
        return can(self.request.user, Capability.HOLD_PAYMENTS, self.foundation_id)

    @cached_property
    def is_finance(self) -> bool:
        return can(self.request.user, Capability.RELEASE_PAYMENTS, self.foundation_id)

    @cached_property
    def group_has_login(self) -> bool:
        return telling.has_login(self.object.application.organization_id)

    def may(self, name: str) -> bool:
        """Whether the user's role allows action ``name`` (the service still checks the state)."""
        if name in GROUP_ANSWER_ACTIONS:
            return award_service.may_record_for_group(self.request.user, self.object)
        if name in AWARD_ACTIONS:
            return self.is_officer
        if name in ("hold", "lift_hold"):
            return self.can_hold
        return name == "record_payment" and self.is_finance

    def make_form(self, name, *, installment=None, data=None, files=None):
        prefix = name if installment is None else f"{name}-{installment.pk}"
        form_class = {**AWARD_ACTIONS, **INSTALLMENT_ACTIONS}[name][1]
        kwargs = {"data": data, "files": files, "prefix": prefix}
        if name == "amend":
            kwargs["currency"] = self.object.fund.currency
            if data is None:
                kwargs["initial"] = {"new_amount": self.object.amount.amount}
        return form_class(**kwargs)

    def award_actions(self, bound: dict) -> list[dict]:
        award = self.object
        offered_to_group = award.status == AwardStatus.OFFERED and not self.group_has_login
        available = {
            "accept_for_group": offered_to_group,
            "decline_for_group": offered_to_group,
            "amend": award.status in OPEN_AWARD_STATES,
            "cancel": award.status in OPEN_AWARD_STATES,
            "complete": award.status in PAYABLE_AWARD_STATES,
        }
        return [
            {
                "name": name,
                "label": label,
                "form": bound.get(name) or self.make_form(name),
                "url": reverse("awards:action", args=[award.pk, name]),
            }
            for name, (label, _form) in AWARD_ACTIONS.items()
            if available[name] and self.may(name)
        ]

    def installment_actions(self, installment, bound: dict) -> list[dict]:
        award = self.object
        if award.status not in OPEN_AWARD_STATES:
            return []
        available = {
            "hold": installment.status in HOLDABLE,
            "lift_hold": installment.status == InstallmentStatus.ON_HOLD,
            "record_payment": installment.status in HOLDABLE and award.status in PAYABLE_AWARD_STATES,
        }
        return [
            {
                "name": name,
                "label": label,
                "form": bound.get(f"{name}-{installment.pk}")
                or self.make_form(name, installment=installment),
                "url": reverse("awards:installment_action", args=[award.pk, installment.pk, name]),
            }
            for name, (label, _form) in INSTALLMENT_ACTIONS.items()
            if available[name] and self.may(name)
        ]

    def get_context_data(self, bound_forms=None, **kwargs):
        context = super().get_context_data(**kwargs)
        award, bound = self.object, bound_forms or {}
        installments = list(award.installments.select_related("approved_by").order_by("number"))
        currency = award.fund.currency
        can_release = self.is_finance and award.status in PAYABLE_AWARD_STATES
        for installment in installments:
            installment.actions = self.installment_actions(installment, bound)
            # Through the Payments confirmation page, which shows the payee or why it is refused.
            installment.release_url = (
                f"{reverse('payments:review')}?installment={installment.pk}"
                if can_release and installment.status in RELEASABLE
                else ""
            )
        payee = payment_service.payee_for(award)
        paid = sum((i.amount for i in installments if i.status == InstallmentStatus.PAID), zero(currency))
        context.update(
            award=award,
            application=award.application,
            payee=payee,
            installments=installments,
            paid_total=paid,
            unpaid_total=sum((i.amount for i in installments if i.is_unpaid), zero(currency)),
            payments_wait_for_acceptance=award.status == AwardStatus.OFFERED,
            amendments=list(award.amendments.select_related("created_by")),
            report_due_dates=list(award.report_due_dates.all()),
            entries=list(journal_entries(JournalEntry.objects.filter(award=award))),
            timeline=award_timeline(award, installments),
            agreement_text=award.agreement_in(award.accepted_language or get_language() or "en"),
            award_actions=self.award_actions(bound),
            read_only=not (self.is_officer or self.can_hold or self.is_finance),
            application_url=reverse("applications:inspect", args=[award.application_id]),
            fund_money_url=reverse("fund_money:detail", args=[award.fund_id]),
            group_emails=telling.member_emails(award.application.organization_id),
            answer_document_url=(
                reverse("awards:answer_document", args=[award.pk]) if award.answer_document else ""
            ),
        )
        return context


class AwardActionView(AwardInspectView):
    """POST only: one action on the award or on one of its payments, through the services."""

    http_method_names = ["post"]

    def post(self, request, *args, **kwargs):
        name = self.kwargs["action"]
        installment = None
        if "installment_pk" in self.kwargs:
            if name not in INSTALLMENT_ACTIONS:
                raise Http404
            installment = self.object.installments.filter(pk=self.kwargs["installment_pk"]).first()
            if installment is None:
                raise Http404
        elif name not in AWARD_ACTIONS:
            raise Http404
        if not self.may(name):
            raise PermissionDenied
        form = self.make_form(name, installment=installment, data=request.POST, files=request.FILES)
        key = form.prefix
        if not form.is_valid():
            for line in form_error_messages(form):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(bound_forms={key: form}), status=400)
        try:
            done = self.run(name, form.cleaned_data, installment)
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(bound_forms={key: form}), status=400)
        messages.success(request, done)
        return redirect("awards:inspect", self.object.pk)

    def run(self, name, data, installment) -> str:
        award, user = self.object, self.request.user
        group = award.application.organization_id
        if name in GROUP_ANSWER_ACTIONS:
            answer = {"by": user, "channel": data["channel"], "given_on": data["given_on"],
                      "given_by": data["given_by"], "document": data["document"]}  # fmt: skip
            if name == "accept_for_group":
                award_service.accept_for_group(award, **answer)
            else:
                award_service.decline_for_group(award, reason=data["reason"], **answer)
            return telling.group_answer_message(
                accepted=name == "accept_for_group", group=award.application.organization.name,
                how=AnswerChannel(data["channel"]).label, name=" ".join(data["given_by"].split()),
                date=date_format(data["given_on"]),
            )  # fmt: skip
        if name == "amend":
            award_service.amend_award(
                award,
                by=user,
                new_amount=Money(data["new_amount"], award.fund.currency),
                reason=data["reason"],
                due_date=data["due_date"],
            )
            return telling.award_changed_message(group, "amend")
        if name == "cancel":
            award_service.cancel_award(award, by=user, reason=data["reason"])
            return telling.award_changed_message(group, "cancel")
        if name == "complete":
            award_service.complete_award(award, by=user, note=data["note"])
            return _t("The award is completed.")
        if name == "hold":
            installment_service.hold_installment(installment, by=user, reason=data["reason"])
            return _t("Payment %(number)s is on hold.") % {"number": installment.number}
        if name == "lift_hold":
            installment_service.lift_hold(installment, by=user)
            return _t("The hold on payment %(number)s was lifted.") % {"number": installment.number}
        installment_service.record_payment_outside_processor(
            installment, by=user, paid_on=data["paid_on"], reference=data["reference"]
        )
        return _t("Payment %(number)s was recorded as paid.") % {"number": installment.number}


class AnswerDocumentView(View):
    """The signed paper a group gave with its answer: a private file, for the foundation's staff
    who read awards only (another foundation's award, or no paper: 404)."""

    def get(self, request, pk):
        award = awards_visible_to(request.user).filter(pk=pk).first()
        if award is None or not award.answer_document:
            raise Http404
        return private_file_response(
            award.answer_document,
            filename=award.answer_document_name,
            content_type=award.answer_document_type,
        )


# --- Making an award ------------------------------------------------------------------------


class MakeAwardView(WagtailAdminTemplateMixin, TemplateView):
    """Terms, then a preview of the payment schedule the officer may adjust, then the award.

    Officers and foundation admins of the application's foundation only. A second submit of the
    same award lands on the award already made.
    """

    template_name = "grants/admin/awards/make.html"
    page_title = _("Make an award")
    header_icon = "success"

    def dispatch(self, request, *args, **kwargs):
        self.application = (
            applications_visible_to_staff(request.user)
            .select_related("call__fund__foundation", "organization")
            .filter(pk=kwargs["application_id"])
            .first()
        )
        if self.application is None:
            raise Http404
        self.fund = self.application.call.fund
        if not award_service.is_award_officer(request.user, self.fund):
            raise PermissionDenied
        existing = Award.objects.filter(application=self.application).first()
        if existing is not None:
            messages.info(request, _t("This application already has an award."))
            return redirect("awards:inspect", existing.pk)
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("applications:index"), "label": _("Applications")},
            {
                "url": reverse("applications:inspect", args=[self.application.pk]),
                "label": self.application.reference,
            },
            {"url": "", "label": _("Make an award")},
        ]

    @property
    def currency(self) -> str:
        return self.fund.currency

    def initial(self) -> dict:
        terms = award_service.default_terms(self.application)
        amount = terms.pop("amount")
        return {**terms, "amount": amount.amount if amount is not None else None,
                "schedule_kind": "one", "count": 1}  # fmt: skip

    def get_context_data(self, form=None, rows=None, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            application=self.application,
            fund=self.fund,
            currency=self.currency,
            form=form or AwardTermsForm(initial=self.initial(), currency=self.currency),
            rows=rows,
            available=ledger.balances(self.fund).available,
            application_url=reverse("applications:inspect", args=[self.application.pk]),
        )
        if rows is not None and rows.is_bound and rows.is_valid():
            context["rows_total"] = sum((amount for _due, amount in rows.schedule()), zero(self.currency))
        return context

    def refuse(self, form, rows, message):
        form.add_error(None, message)
        return self.render_to_response(self.get_context_data(form=form, rows=rows), status=400)

    def built_schedule(self, form):
        data = form.cleaned_data
        return build_schedule(
            data["schedule_kind"], form.amount_money, count=data["count"], first_due=data["first_due"]
        )

    def post(self, request, *args, **kwargs):
        form = AwardTermsForm(request.POST, currency=self.currency)
        has_rows = "rows-TOTAL_FORMS" in request.POST
        rows = schedule_formset(self.currency, data=request.POST) if has_rows else None
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, rows=rows), status=400)
        if "make" not in request.POST or rows is None:
            # "Preview schedule": (re)build the rows from the kind, number and first date.
            try:
                schedule = self.built_schedule(form)
            except DomainError as error:
                return self.refuse(form, rows, error.message)
            return self.render_to_response(
                self.get_context_data(form=form, rows=schedule_formset(self.currency, schedule=schedule))
            )
        if not rows.is_valid():
            return self.render_to_response(self.get_context_data(form=form, rows=rows), status=400)
        data = form.cleaned_data
        try:
            award = award_service.make_award(
                self.application,
                by=request.user,
                amount=form.amount_money,
                start_date=data["start_date"],
                end_date=data["end_date"],
                schedule=rows.schedule(),
                report_dates=form.report_dates(),
                conditions=data["conditions"],
                translations=translations_from(data, Award, fields=("conditions",)),
                agreement=agreement_texts(self.application.call),
            )
        except award_service.AlreadyAwarded as already:
            messages.info(request, _t("This application already has an award."))
            return redirect("awards:inspect", already.award.pk)
        except DomainError as error:
            return self.refuse(form, rows, error.message)
        messages.success(request, telling.award_made_message(self.application.organization_id))
        return redirect("awards:inspect", award.pk)


class AwardURLFinder(ModelAdminURLFinder):
    edit_url_name = "awards:inspect"


class AwardViewSet(ModelViewSet):
    """Awards: list and detail only; every change goes through an action calling a service."""

    model = Award
    icon = "success"
    menu_label = _("Awards")
    menu_order = 155
    add_to_admin_menu = True
    index_view_class = AwardIndexView
    inspect_view_class = AwardInspectView
    inspect_view_enabled = True
    copy_view_enabled = False
    filterset_class = AwardFilterSet
    list_per_page = 50
    search_fields = ["application__reference", "application__organization__name"]
    form_fields = ["status"]  # never edited: there is no edit URL
    url_finder_class = AwardURLFinder

    def get_common_view_kwargs(self, **kwargs):
        view_kwargs = super().get_common_view_kwargs(**kwargs)
        for name in (
            "add_url_name",
            "edit_url_name",
            "delete_url_name",
            "history_url_name",
            "usage_url_name",
        ):
            view_kwargs[name] = None
        return view_kwargs

    def get_urlpatterns(self):
        inspect_kwargs = self.get_inspect_view_kwargs()
        action_view = self.construct_view(AwardActionView, **inspect_kwargs)
        return [
            path("", self.index_view, name="index"),
            path("results/", self.index_results_view, name="index_results"),
            path("inspect/<int:pk>/", self.inspect_view, name="inspect"),
            path("inspect/<int:pk>/do/<slug:action>/", action_view, name="action"),
            path("inspect/<int:pk>/answer-document/", AnswerDocumentView.as_view(), name="answer_document"),
            path(
                "inspect/<int:pk>/payments/<int:installment_pk>/<slug:action>/",
                action_view,
                name="installment_action",
            ),
            path("make/<int:application_id>/", MakeAwardView.as_view(), name="make"),
        ]
