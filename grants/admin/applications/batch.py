"""Batch actions on open applications: assign reviewers, approve, decline with a template."""

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import F
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from grants.admin.applications.listing import (
    ApplicationFilterSet,
    recommendation_summary,
    with_review_summary,
)
from grants.admin.reviews import decline_templates, error_messages, form_error_messages
from grants.forms.limits import TextLimits
from grants.models import User
from grants.permissions import Capability, applications_visible_to_staff, foundations_where, roles_with
from grants.services import reviews as review_service
from grants.services import telling
from grants.services.errors import DomainError
from grants.services.workflow import OPEN_STATES

BATCH_ACTIONS = [
    ("assign", _("Assign reviewers")),
    ("approve", _("Approve at the amount requested")),
    ("decline", _("Decline with a message template")),
]


class BatchForm(TextLimits, forms.Form):
    action = forms.ChoiceField(choices=BATCH_ACTIONS, widget=forms.RadioSelect, label=_("Action"))
    reviewers = forms.ModelMultipleChoiceField(
        queryset=None, required=False, widget=forms.CheckboxSelectMultiple, label=_("Reviewers")
    )
    template = forms.ModelChoiceField(queryset=None, required=False, label=_("Decline message"))

    def __init__(self, *args, reviewers, templates, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reviewers"].queryset = reviewers
        self.fields["template"].queryset = templates

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("action") == "assign" and not cleaned.get("reviewers"):
            self.add_error("reviewers", _("Choose at least one reviewer."))
        if cleaned.get("action") == "decline" and not cleaned.get("template"):
            self.add_error("template", _("Choose the message the applicants will receive."))
        return cleaned


class BatchView(WagtailAdminTemplateMixin, TemplateView):
    """Open applications of the officer's foundations, with checkboxes and three batch actions."""

    template_name = "grants/admin/application_batch.html"
    page_title = _("Batch actions")
    header_icon = "tasks"

    def dispatch(self, request, *args, **kwargs):
        self.officer_foundations = foundations_where(request.user, Capability.DECIDE_APPLICATIONS)
        if not self.officer_foundations:
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [
            {"url": reverse("applications:index"), "label": _("Applications")},
            {"url": "", "label": _("Batch actions")},
        ]

    def get_queryset(self):
        queryset = with_review_summary(
            applications_visible_to_staff(self.request.user)
            .filter(call__fund__foundation__in=self.officer_foundations, status__in=OPEN_STATES)
            .select_related("call__fund", "organization")
        )
        filters = ApplicationFilterSet(data=self.request.GET, queryset=queryset, request=self.request)
        if filters.is_valid():
            queryset = filters.qs
        return queryset.order_by(
            F("open_due_at").asc(nulls_last=True), F("submitted_at").asc(nulls_last=True), "pk"
        )

    def make_form(self, data=None):
        reviewers = User.objects.filter(
            staff_memberships__foundation__in=self.officer_foundations,
            staff_memberships__role__in=roles_with(Capability.REVIEW),
            is_active=True,
        ).distinct()
        return BatchForm(data, reviewers=reviewers.order_by("first_name", "email"),
                         templates=decline_templates(self.officer_foundations))  # fmt: skip

    def get_context_data(self, form=None, selected=(), **kwargs):
        context = super().get_context_data(**kwargs)
        applications = list(self.get_queryset()[:500])
        for application in applications:
            application.recommendations = recommendation_summary(application)
        context.update(
            applications=applications,
            form=form or self.make_form(),
            selected={str(pk) for pk in selected},
        )
        return context

    def post(self, request, *args, **kwargs):
        form = self.make_form(request.POST)
        selected = request.POST.getlist("applications")
        applications = list(self.get_queryset().filter(pk__in=[pk for pk in selected if pk.isdigit()]))
        if not applications:
            messages.error(request, _t("Choose at least one application."))
        if not form.is_valid():
            for line in form_error_messages(form):
                messages.error(request, line)
        template = form.cleaned_data.get("template") if form.is_valid() else None
        if template is not None and any(
            a.call.fund.foundation_id != template.foundation_id for a in applications
        ):
            # Someone working for two foundations: one foundation's message never goes out in another's name.
            form.add_error("template", _("Choose a message of the foundation the applications were sent to."))
            messages.error(request, _("Choose a message of the foundation the applications were sent to."))
        if not applications or not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form, selected=selected))
        data, user = form.cleaned_data, request.user
        try:
            if data["action"] == "assign":
                created, refused = review_service.assign_reviewers_where_possible(
                    applications, list(data["reviewers"]), by=user
                )
                done = _t("%(count)s reviewer assignment(s) made; each reviewer gets one email.") % {
                    "count": len(created)
                }
            else:
                template = data["template"]
                reasons = template.texts_by_language() if template else None
                decided, refused = review_service.decide_batch(
                    applications, by=user, decision=data["action"], reason_by_language=reasons
                )
                done = telling.batch_decision_message(decided)
        except DomainError as error:
            for line in error_messages(error):
                messages.error(request, line)
            return self.render_to_response(self.get_context_data(form=form, selected=selected))
        if done:  # nothing decided: the refusals below speak alone
            messages.success(request, done)
        for application, reason in refused:
            messages.error(request, _t("%(reference)s was not changed: %(reason)s")
                           % {"reference": application.reference, "reason": reason})  # fmt: skip
        return redirect(
            reverse("applications:batch") + ("?" + request.GET.urlencode() if request.GET else "")
        )
