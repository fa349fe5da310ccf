"""Wagtail admin views for foundations, funds and funding calls, scoped to the user's foundations."""

import django_filters
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, FieldRowPanel, MultiFieldPanel, ObjectList
from wagtail.admin.views import generic
from wagtail.admin.views.generic import history, usage
from wagtail.admin.viewsets.model import ModelViewSet, ModelViewSetGroup

from grants.admin.paging import ModelChoiceFilter
from grants.forms.admin_amounts import FundAmountsForm, FundingCallAmountsForm
from grants.forms.translations import translated_model_form, translation_column, translation_row
from grants.models import Foundation, Fund, FundingCall, FundStatus, ProgramType
from grants.permissions import Capability, foundation_ids, foundations_where, scope_to_foundations


def _scoped(view_class, foundation_path: str, *, listing: bool = False):
    """``view_class`` limited to rows of the user's foundations: lists are filtered, and
    opening another foundation's row (edit, delete, history, usage, copy, inspect) is a 404."""

    if listing:

        class ScopedListing(view_class):
            def get_base_queryset(self):
                return scope_to_foundations(super().get_base_queryset(), self.request.user, foundation_path)

        return ScopedListing

    class ScopedObject(view_class):
        def get_object(self, *args, **kwargs):
            obj = super().get_object(*args, **kwargs)
            visible = scope_to_foundations(
                type(obj)._default_manager.filter(pk=obj.pk), self.request.user, foundation_path
            )
            if not visible.exists():
                raise Http404
            return obj

    return ScopedObject


class FoundationScopedViewSet(ModelViewSet):
    """A model viewset that only lists and opens rows of the user's own foundations."""

    foundation_path = "foundation"

    @property
    def index_view_class(self):
        return _scoped(generic.IndexView, self.foundation_path, listing=True)

    @property
    def edit_view_class(self):
        return _scoped(generic.EditView, self.foundation_path)

    @property
    def delete_view_class(self):
        return _scoped(generic.DeleteView, self.foundation_path)

    @property
    def copy_view_class(self):
        return _scoped(generic.CopyView, self.foundation_path)

    @property
    def inspect_view_class(self):
        return _scoped(generic.InspectView, self.foundation_path)

    @property
    def history_view_class(self):
        return _scoped(history.HistoryView, self.foundation_path)

    @property
    def usage_view_class(self):
        return _scoped(usage.UsageView, self.foundation_path)


class AddFoundationRedirect(generic.CreateView):
    """A foundation is added with its section, groups, collection and first admin in one form
    (``grants.admin.foundations_add``), never as a bare row: the listing's "Add" goes there, after
    the same permission check."""

    def get(self, request, *args, **kwargs):
        return redirect("foundation_add:add")

    post = get


class FoundationViewSet(FoundationScopedViewSet):
    model = Foundation
    add_view_class = AddFoundationRedirect
    icon = "group"
    menu_label = _("Foundations")
    foundation_path = "pk"
    list_display = ["name", "legal_name", "tax_id", "default_currency", translation_column()]
    search_fields = ["name", "legal_name"]
    edit_handler = ObjectList(
        [
            FieldRowPanel([FieldPanel("name"), FieldPanel("slug")]),
            FieldRowPanel([FieldPanel("legal_name"), FieldPanel("tax_id")]),
            FieldRowPanel([FieldPanel("default_currency"), FieldPanel("time_zone")]),
            FieldRowPanel([FieldPanel("contact_email"), FieldPanel("contact_phone")]),
            translation_row("receipt_text"),
            FieldPanel("purge_declined_after_days"),
            FieldPanel("anonymise_donors_after_years"),
            FieldPanel("keep_access_log_years"),
            FieldPanel("purge_bond_references_after_days"),
            FieldPanel("check_bonds_after_days"),
        ],
        base_form_class=translated_model_form(Foundation),
    )


def _foundations_for(request):
    """Filter choices: only the foundations the user works for (others' names stay private)."""
    if request is None:
        return Foundation.objects.none()
    return Foundation.objects.filter(pk__in=foundation_ids(request.user))


def _funds_for(request):
    if request is None:
        return Fund.objects.none()
    return Fund.objects.filter(foundation__in=foundation_ids(request.user))


class FundFilterSet(WagtailFilterSet):
    program_type = django_filters.ChoiceFilter(choices=ProgramType.choices, label=_("program type"))
    status = django_filters.ChoiceFilter(choices=FundStatus.choices, label=_("status"))
    foundation = ModelChoiceFilter(queryset=_foundations_for, label=_("foundation"))

    class Meta:
        model = Fund
        fields = ["program_type", "status", "foundation"]


class FundingCallFilterSet(WagtailFilterSet):
    fund = ModelChoiceFilter(queryset=_funds_for, label=_("fund"))

    class Meta:
        model = FundingCall
        fields = ["fund"]


class FundViewSet(FoundationScopedViewSet):
    model = Fund
    icon = "tag"
    menu_label = _("Funds")
    list_display = [
        "name", "foundation", "program_type", "currency", "fundraising_goal", "status", translation_column()
    ]  # fmt: skip
    filterset_class = FundFilterSet
    search_fields = ["name"]
    panels = [
        FieldRowPanel([FieldPanel("foundation"), FieldPanel("slug")]),
        translation_row("name"),
        FieldRowPanel([FieldPanel("program_type"), FieldPanel("status")]),
        FieldRowPanel([FieldPanel("currency"), FieldPanel("fundraising_goal")]),
        MultiFieldPanel(
            [
                FieldPanel("accepts_donations"),
                FieldPanel("donation_presets"),
                FieldRowPanel([FieldPanel("donation_minimum"), FieldPanel("donation_maximum")]),
            ],
            heading=_("Giving"),
        ),
    ]
    edit_handler = ObjectList(panels, base_form_class=translated_model_form(Fund, base=FundAmountsForm))

    def get_form_class(self, for_update=False):
        form_class = super().get_form_class(for_update)
        return _limit_foundation_choices(form_class, "foundation", Foundation)


class FundingCallViewSet(FoundationScopedViewSet):
    model = FundingCall
    icon = "date"
    menu_label = _("Funding calls")
    foundation_path = "fund__foundation"
    list_display = ["title", "fund", "opens_at", "closes_at", "min_amount", "max_amount"]
    filterset_class = FundingCallFilterSet
    search_fields = ["title"]
    panels = [
        FieldPanel("fund"),
        FieldPanel("title"),
        MultiFieldPanel(
            [FieldRowPanel([FieldPanel("opens_at"), FieldPanel("closes_at")]), FieldPanel("time_zone")],
            heading=_("Dates"),
        ),
        FieldRowPanel([FieldPanel("min_amount"), FieldPanel("max_amount")], heading=_("Amounts")),
        MultiFieldPanel(
            [FieldPanel("report_variance_percent"), FieldPanel("hold_payments_for_overdue_reports")],
            heading=_("Spending reports"),
        ),
    ]
    edit_handler = ObjectList(panels, base_form_class=FundingCallAmountsForm)

    def get_form_class(self, for_update=False):
        form_class = super().get_form_class(for_update)
        return _limit_foundation_choices(form_class, "fund", Fund, "foundation")


def _limit_foundation_choices(form_class, field_name, model, foundation_path="pk"):
    """Wrap ``form_class`` so its ``field_name`` only offers rows of the user's foundations."""

    class ScopedForm(form_class):
        def __init__(self, *args, for_user=None, **kwargs):
            super().__init__(*args, for_user=for_user, **kwargs)
            user = for_user
            if user is not None and not user.is_superuser and field_name in self.fields:
                allowed = foundations_where(user, Capability.EDIT_CONTENT)
                self.fields[field_name].queryset = model.objects.filter(
                    **{f"{foundation_path}__in" if foundation_path != "pk" else "pk__in": allowed}
                )

    ScopedForm.__name__ = form_class.__name__
    return ScopedForm


class GrantsViewSetGroup(ModelViewSetGroup):
    items = (FoundationViewSet("foundations"), FundViewSet("funds"), FundingCallViewSet("calls"))
    menu_label = _("Foundations & funds")
    menu_icon = "folder-open-inverse"
    menu_order = 200
