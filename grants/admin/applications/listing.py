"""Officers' list of applications: filters, columns, the one-template table and the CSV export.
Lists show no answers at all; every row is scoped to the user's foundations.
"""

import functools

import django_filters
from django.db.models import Case, F, When
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import localize
from django.utils.functional import cached_property
from django.utils.html import conditional_escape, format_html, format_html_join
from django.utils.timesince import timesince, timeuntil
from django.utils.timezone import template_localtime
from django.utils.translation import gettext as _t
from django.utils.translation import gettext_lazy as _
from djmoney.money import Money
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.ui.tables import Column, TitleColumn
from wagtail.admin.views.generic import IndexView
from wagtail.admin.widgets.button import HeaderButton

from grants.admin.paging import ModelChoiceFilter, RowLinksOncePerPageMixin, choice_labels, rows_of_page
from grants.exports.base import safe_text
from grants.models import (
    Application,
    ApplicationStatus,
    Fund,
    FundingCall,
    IntakeChannel,
    ReviewAssignment,
    StaffMembership,
    User,
)
from grants.permissions import (
    Capability,
    applications_visible_to_staff,
    foundation_ids,
    foundations_where,
    roles_with,
)
from grants.services.workflow import OPEN_STATES


def _calls_for(request):
    if request is None:
        return FundingCall.objects.none()
    return FundingCall.objects.filter(fund__foundation__in=foundation_ids(request.user)).only("id", "title")


def _funds_for(request):
    if request is None:
        return Fund.objects.none()
    return Fund.objects.filter(foundation__in=foundation_ids(request.user)).only("id", "name")


def _reviewers_for(request):
    """Staff who review for the user's foundations (reviewers and officers)."""
    if request is None:
        return User.objects.none()
    reviewers = StaffMembership.objects.filter(
        foundation__in=foundation_ids(request.user), role__in=roles_with(Capability.REVIEW)
    ).values("user_id")
    return User.objects.filter(pk__in=reviewers).only("id", "first_name", "last_name", "email")


def _filter_reviewer(queryset, name, value):
    if not value:
        return queryset
    return queryset.filter(pk__in=ReviewAssignment.objects.filter(reviewer=value).values("application_id"))


class ApplicationFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(
        choices=[c for c in ApplicationStatus.choices if c[0] != ApplicationStatus.DRAFT], label=_("Status")
    )
    call = ModelChoiceFilter(queryset=_calls_for, label=_("Funding call"))
    fund = ModelChoiceFilter(field_name="call__fund", queryset=_funds_for, label=_("Fund"))
    reviewer = ModelChoiceFilter(queryset=_reviewers_for, method=_filter_reviewer, label=_("Reviewer"))
    min_score = django_filters.NumberFilter(
        field_name="review_score", lookup_expr="gte", label=_("Score at least (0–5)")
    )
    max_score = django_filters.NumberFilter(
        field_name="review_score", lookup_expr="lte", label=_("Score at most (0–5)")
    )
    rapid_response = django_filters.BooleanFilter(
        field_name="call__rapid_response", label=_("Rapid response")
    )
    intake_channel = django_filters.ChoiceFilter(choices=IntakeChannel.choices, label=_("Received"))

    class Meta:
        model = Application
        fields = ["status", "call", "fund", "reviewer", "min_score", "max_score", "rapid_response",
                  "intake_channel"]  # fmt: skip


def with_review_summary(queryset):
    """The list's sort key: the decision target, while the application is still open.

    The review summary itself (score, count, recommendations) is stored on the application when a
    review is submitted (``reviews.review_summary``): the list reads columns, no subquery per row.
    """
    return queryset.annotate(
        open_due_at=Case(When(status__in=OPEN_STATES, then=F("decision_due_at")), default=None)
    )


def recommendation_summary(application) -> str:
    counts = (application.fund_count, application.maybe_count, application.do_not_fund_count)
    if not any(counts):
        return "—"
    return _t("Fund %(fund)s · Maybe %(maybe)s · Do not fund %(no)s") % dict(
        zip(("fund", "maybe", "no"), counts, strict=True)
    )


def time_left(application, now=None) -> tuple[str, bool]:
    """Text for the time left against the decision target, and whether it is overdue."""
    due = application.decision_due_at
    if due is None or application.status not in OPEN_STATES:
        return "", False
    now = now or timezone.now()
    if due <= now:
        return _t("Overdue by %(time)s") % {"time": timesince(due, now, depth=1)}, True
    return _t("%(time)s left") % {"time": timeuntil(due, now, depth=2)}, False


class TimeLeftColumn(Column):
    cell_template_name = "grants/admin/cells/time_left.html"

    def get_cell_context_data(self, instance, parent_context):
        context = super().get_cell_context_data(instance, parent_context)
        context["value"], context["overdue"] = time_left(instance)
        return context


def _score(application):
    return application.review_score if application.review_score is not None else "—"


STATUS_LABELS = choice_labels(Application, "status")


def _status(application):
    return STATUS_LABELS.get(application.status, application.status)


LIST_COLUMNS = [
    "reference",
    "organization",
    "call",
    Column("status", label=_("Status"), accessor=_status, sort_key="status"),
    "requested_amount",
    Column("review_score", label=_("Score"), accessor=_score, sort_key="review_score"),
    Column("review_count", label=_("Reviews"), sort_key="review_count"),
    Column("recommendations", label=_("Recommendations"), accessor=recommendation_summary),
    TimeLeftColumn("decision_due_at", label=_("Decision due"), sort_key="decision_due_at"),
    "submitted_at",
]

# What the list and its export read of each row: never the answers (kilobytes of JSON, a
# decryption each), nor columns no cell shows.
LISTED_FIELDS = (
    "id", "reference", "status", "requested_amount", "requested_currency", "submitted_at", "decision_due_at",
    "review_score", "review_count", "fund_count", "maybe_count", "do_not_fund_count", "call_id", "organization_id",
    "call__id", "call__title", "call__fund_id", "call__fund__id", "call__fund__name",
    "organization__id", "organization__name",
)  # fmt: skip

EXPORT_COLUMNS = {
    "reference": _("Reference"),
    "organization": _("Organization"),
    "call": _("Funding call"),
    "fund": _("Fund"),
    "status": _("Status"),
    "requested_amount": _("Amount requested"),
    "currency": _("Currency"),
    "submitted_at": _("Submitted"),
    "decision_due_at": _("Decision due"),
    "time_left": _("Time left"),
    "review_score": _("Score"),
    "review_count": _("Reviews"),
    "fund_count": _("Fund"),
    "maybe_count": _("Maybe"),
    "do_not_fund_count": _("Do not fund"),
}


class OneTemplateTableMixin:
    """Renders the whole table with one template (``_table.html``) and the cells in Python.

    The cells' values come from the columns themselves (``get_cell_context_data``), so columns,
    links, sorting and buttons stay those of the view; the markup of Wagtail's cell, title-cell
    and dropdown templates is written out here once (``format_html``, escaped as a template
    would), instead of a template — or a dozen template tags — per cell: 500 cells a page.
    """

    template_name = "grants/admin/applications/_table.html"

    def cell_rows(self):
        request = getattr(self, "_request", None)
        for row in self.rows:
            context = {"row": row, "table": self, "request": request}
            cells = []
            for column in self.columns.values():
                classname = column.classname or ""
                if type(column).get_cell_context_data is Column.get_cell_context_data:
                    # A plain column shows its value: read it once (Wagtail's cell context
                    # would turn it into text a second time only to test for blankness).
                    html = _shown(column.get_value(row.instance))
                    cells.append({"classname": classname, "html": html})
                    continue
                cell = column.get_cell_context_data(row.instance, context)
                if isinstance(column, TitleColumn):
                    classname, html = f"{classname} title".strip(), _title_cell(cell)
                elif isinstance(column, TimeLeftColumn):
                    html = _time_left_cell(cell)
                else:
                    html = _shown(cell["value"])
                cells.append({"classname": classname, "html": html})
            yield {"attrs": row.attrs, "cells": cells}

    def get_context_data(self, parent_context):
        self._request = parent_context.get("request")
        return super().get_context_data(parent_context)


def _shown(value) -> str:
    """A value as Wagtail's cell shows it: nothing for None, whole numbers unlocalized, dates in
    the local time and localized, as ``{{ value }}`` would; always escaped."""
    if value is None:
        return ""
    if isinstance(value, str):
        return conditional_escape(value)
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if isinstance(value, Money):  # a page repeats the same few amounts; Babel is slow to format
        return _money_text(value.amount, value.currency.code, translation.get_language())
    return conditional_escape(str(localize(template_localtime(value))))


@functools.lru_cache(maxsize=4096)
def _money_text(amount, currency: str, language: str) -> str:
    """An amount as ``str(Money)`` prints it in ``language`` (the active language), escaped."""
    return conditional_escape(str(Money(amount, currency)))


def _title_cell(cell) -> str:
    title = _shown(cell["value"])
    if cell.get("link_url"):
        title = format_html('<a href="{}">{}</a>', cell["link_url"], title)
    buttons = [button for button in cell.get("buttons", ()) if button.show]
    actions = (
        format_html(
            '<ul class="actions">{}</ul>',
            format_html_join("", "<li>{}</li>", ((_dropdown(b),) for b in buttons)),
        )
        if buttons
        else ""
    )
    return format_html('<div class="title-wrapper">{}</div>{}', title, actions)


@functools.lru_cache(maxsize=256)
def _icon(name: str, classname: str) -> str:
    return format_html(
        '<svg class="icon icon-{} {}" aria-hidden="true"><use href="#icon-{}"></use></svg>',
        name,
        classname,
        name,
    )


def _dropdown(button) -> str:
    """Wagtail's "More options" dropdown (``wagtailadmin/shared/dropdown``) for one row."""
    items = format_html_join(
        "",
        '<a href="{}" class="{}">{} {}</a>',
        (
            (item.url, item.classname, _icon(item.icon_name, "icon") if item.icon_name else "", item.label)
            for item in getattr(button, "dropdown_buttons", ())
            if item.show
        ),
    )
    return format_html(
        '<div data-controller="w-dropdown" class="w-dropdown" type="button">'
        '<button type="button" class="w-dropdown__toggle w-dropdown__toggle--icon" '
        'data-w-dropdown-target="toggle" aria-label="{}">{}</button>'
        '<div data-w-dropdown-target="content" class="w-dropdown__content" hidden>{}</div></div>',
        button.attrs.get("aria-label", ""),
        _icon(button.icon_name, "w-dropdown__toggle-icon"),
        items,
    )


def _time_left_cell(cell) -> str:
    if cell["overdue"]:
        return format_html(
            '<strong class="w-status" style="color:#fff;background:#cd4444;border-color:#cd4444">{}</strong>',
            cell["value"],
        )
    return _shown(cell["value"]) if cell["value"] else "—"


class ApplicationIndexView(RowLinksOncePerPageMixin, IndexView):
    # Organization names and titles are typed by applicants: a CSV cell never starts a formula.
    custom_value_preprocess = {**IndexView.custom_value_preprocess, str: {IndexView.FORMAT_CSV: safe_text}}

    @cached_property
    def header_buttons(self):
        buttons = list(super().header_buttons)
        if foundations_where(self.request.user, Capability.DECIDE_APPLICATIONS):
            buttons.append(
                HeaderButton(
                    _("Batch actions"),
                    url=reverse("applications:batch") + self._filter_query(),
                    icon_name="tasks",
                )
            )
            buttons.append(
                HeaderButton(
                    _("Enter an application (phone or in person)"),
                    url=reverse("applications:intake"),
                    icon_name="plus",
                )  # fmt: skip
            )
        return buttons

    @cached_property
    def table_class(self):
        return type("ApplicationTable", (OneTemplateTableMixin, super().table_class), {})

    def paginate_queryset(self, queryset, page_size):
        paginator, page, object_list, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = rows_of_page(queryset, object_list)
        return paginator, page, page.object_list, is_paginated

    def _filter_query(self) -> str:
        params = self.request.GET.copy()
        for key in ("p", "export", "ordering"):
            params.pop(key, None)
        return "?" + params.urlencode() if params else ""

    def get_base_queryset(self):
        return with_review_summary(
            applications_visible_to_staff(self.request.user)
            .select_related("call__fund", "organization")
            .only(*LISTED_FIELDS)
        )

    def to_row_dict(self, item):
        amount = item.requested_amount
        values = {
            "reference": item.reference,
            "organization": item.organization.name,
            "call": item.call.title,
            "fund": item.call.fund.name,
            "status": item.get_status_display(),
            "requested_amount": amount.amount if amount is not None else "",
            "currency": str(amount.currency) if amount is not None else "",
            "submitted_at": item.submitted_at,
            "decision_due_at": item.decision_due_at or "",
            "time_left": time_left(item)[0],
            "review_score": item.review_score if item.review_score is not None else "",
            "review_count": item.review_count,
            "fund_count": item.fund_count,
            "maybe_count": item.maybe_count,
            "do_not_fund_count": item.do_not_fund_count,
        }
        return {field: values[field] for field in self.list_export}

    def order_queryset(self, queryset):
        if self.ordering:
            return queryset.order_by(self.ordering, "pk")
        # Rapid-response applications still open come first, the nearest decision target first;
        # then the ones waiting longest.
        return queryset.order_by(
            F("open_due_at").asc(nulls_last=True), F("submitted_at").asc(nulls_last=True), "pk"
        )
