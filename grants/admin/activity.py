"""The activity log in Wagtail admin (menu "Activity", URL namespace ``activity``).

Every state change of the user's foundations, newest first: who, when, what (subject type and
id), the action, from → to and the note. Filters by subject type and period; 50 per page. Shown
to foundation admins, finance officers and auditors, whose work is to follow the money and the
decisions; entries of another foundation are never listed. The page runs a constant number of
queries whatever the number of entries.
"""

from django import forms
from django.core.paginator import Paginator
from django.http import Http404
from django.urls import NoReverseMatch, path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from grants.admin.applications import ACTIVITY_LABELS as APPLICATION_LABELS
from grants.admin.awards import ACTIVITY_LABELS as AWARD_LABELS
from grants.admin.donations import DONATION_ACTIVITY
from grants.admin.menus import CapabilityViewSet
from grants.forms.awards import date_field
from grants.forms.limits import TextLimits
from grants.models import ActivityEntry
from grants.permissions import Capability, activity_visible_to, foundations_where
from grants.plain_words import activity_words

PER_PAGE = 50

SUBJECT_LABELS = {
    "application": _("Application"),
    "award": _("Award"),
    "installment": _("Payment"),
    "disbursement": _("Disbursement"),
    "donation": _("Donation"),
    "donor": _("Donor"),
    "recurring_gift": _("Monthly gift"),
    "payee_account": _("Payout account"),
    "grant_return": _("Returned money"),
    "spending_report": _("Spending report"),
    "stipend_program": _("Stipend program"),
    "stipend_batch": _("Stipend month"),
    "stipend_shifts": _("Stipend shifts"),
    "volunteer": _("Volunteer"),
    "organization": _("Organization"),
    "retention_run": _("Retention rule"),
    "foundation": _("Foundation"),
    "export": _("Export"),
    "webhook_event": _("Stripe event"),
    "stripe_payout": _("Stripe payout"),
    "user": _("Staff member"),
    "bond": _("Bond"),
    "bond_partner": _("Bond partner"),
    "vendor": _("Vendor"),
    "vendor_payment": _("Vendor payment"),
}

# Privacy and security actions (retention, deletion requests, data downloads, Stripe keys).
PRIVACY_ACTIVITY = {
    "retention_purge": _("Retention rule applied"),
    "deletion_requested": _("Asked to delete its data"),
    "deletion_approved": _("Deletion request approved"),
    "deletion_done": _("Data deleted"),
    "deletion_rejected": _("Deletion request rejected"),
    "organization_anonymised": _("Organization anonymised"),
    "data_downloaded": _("Data downloaded by the organization"),
    "stripe_keys_changed": _("Stripe keys replaced"),
}

# Where the subject of an entry is read in admin (those without a page of their own have none).
SUBJECT_URLS = {
    "application": "applications:inspect",
    "award": "awards:inspect",
    "disbursement": "payments:disbursement",
    "donation": "donations_admin:donation",
    "donor": "donations_admin:donor",
    "stipend_program": "stipends_admin:program",
    "stipend_batch": "stipends_admin:batch",
    "bond": "bonds:bond",
    "vendor_payment": "vendors:payment",
}


def action_label(entry: ActivityEntry) -> str:
    """The words for what happened, from the areas' own labels, else ``plain_words``' table;
    never the action's code."""
    if entry.subject_type == "application" and entry.action in APPLICATION_LABELS:
        return str(APPLICATION_LABELS[entry.action])
    label = AWARD_LABELS.get((entry.subject_type, entry.action))
    if label is not None:
        # Installment labels name the payment's number, which the log does not hold: leave it out.
        return " ".join((str(label) % {"number": ""}).split())
    if entry.subject_type == "donation" and entry.action in DONATION_ACTIVITY:
        return str(DONATION_ACTIVITY[entry.action])
    if entry.action in PRIVACY_ACTIVITY:
        return str(PRIVACY_ACTIVITY[entry.action])
    return activity_words(entry.subject_type, entry.action)


def subject_url(entry: ActivityEntry) -> str:
    name = SUBJECT_URLS.get(entry.subject_type)
    if name is None:
        return ""
    try:
        return reverse(name, args=[entry.subject_id])
    except NoReverseMatch:
        return ""


class ActivityFilterForm(TextLimits, forms.Form):
    """Filters of the activity list; every field is optional."""

    subject_type = forms.ChoiceField(label=_("About"), required=False)
    date_from = date_field(_("From"), required=False)
    date_to = date_field(_("To (included)"), required=False)

    def __init__(self, *args, subject_types, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["subject_type"].choices = [("", _("All"))] + [
            (value, SUBJECT_LABELS.get(value, value)) for value in subject_types
        ]

    def clean(self):
        cleaned = super().clean()
        start, end = cleaned.get("date_from"), cleaned.get("date_to")
        if start and end and start > end:
            self.add_error("date_to", _("The end of the period is before its start."))
        return cleaned


class ActivityIndexView(WagtailAdminTemplateMixin, TemplateView):
    template_name = "grants/admin/activity/index.html"
    page_title = _("Activity")
    header_icon = "history"

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_superuser and not foundations_where(request.user, Capability.VIEW_ACTIVITY):
            raise Http404
        return super().dispatch(request, *args, **kwargs)

    def get_page_title(self):
        return self.page_title

    def get_breadcrumbs_items(self):
        return self.breadcrumbs_items + [{"url": "", "label": self.page_title}]

    def filtered(self, form):
        entries = activity_visible_to(self.request.user)
        if not form.is_valid():
            return entries.none()
        data = form.cleaned_data
        if data["subject_type"]:
            entries = entries.filter(subject_type=data["subject_type"])
        if data["date_from"]:
            entries = entries.filter(created_at__date__gte=data["date_from"])
        if data["date_to"]:
            entries = entries.filter(created_at__date__lte=data["date_to"])
        return entries

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        subject_types = (
            activity_visible_to(self.request.user)
            .order_by("subject_type")
            .values_list("subject_type", flat=True)
            .distinct()
        )
        form = ActivityFilterForm(self.request.GET, subject_types=list(subject_types))
        entries = self.filtered(form).select_related("actor", "foundation").order_by("-created_at", "-pk")
        page = Paginator(entries, PER_PAGE).get_page(self.request.GET.get("p"))
        rows = list(page.object_list)
        for entry in rows:
            entry.subject_label = SUBJECT_LABELS.get(entry.subject_type, entry.subject_type)
            entry.action_label = action_label(entry)
            entry.subject_url = subject_url(entry)
        several = (
            self.request.user.is_superuser
            or len(foundations_where(self.request.user, Capability.VIEW_ACTIVITY)) > 1
        )
        context.update(form=form, page=page, rows=rows, several_foundations=several)
        return context


class ActivityViewSet(CapabilityViewSet):
    """ "Activity": the log of the user's foundations, for admins, finance officers and auditors."""

    icon = "history"
    menu_label = _("Activity")
    menu_order = 190
    url_prefix = "activity"

    menu_capability = Capability.VIEW_ACTIVITY

    def get_urlpatterns(self):
        return [path("", ActivityIndexView.as_view(), name="index")]
