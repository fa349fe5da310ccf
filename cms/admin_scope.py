"""Wagtail's admin shows staff their foundations' part of the page tree, and nothing of others'.

Page permissions are held per foundation on its section pages (``grants.services.staff``), so
Wagtail's explorer, page search, admin API and the page reports list a person's own pages only.
What permissions alone leave open is closed here:

- choosers list the pages beneath a person's sections and the shared pages that belong to no
  foundation (``visible_pages``, used by the ``construct_page_chooser_queryset`` hook);
- every admin URL that names a page (explorer, chooser, edit, history, usage, move, copy,
  revisions, workflow, bulk actions, the admin API's page actions) answers 404 for a page of a
  foundation the person does not work for, whether it sits in that foundation's section or,
  as fund and call pages of an older tree, elsewhere (``cms.sections.foundation_id_of``);
- Wagtail's page reports (aging pages, locked pages, page types usage, workflows, workflow
  tasks, site history) are for platform administrators: their filters list every person who
  published, locked or asked for a review anywhere, and "page types usage" names the last
  edited page of each type across the site; no hook filters those;
- the admin API's image and document endpoints list every collection's files whatever a
  person's collection permissions (the admin's own screens and choosers do follow them, and
  nothing in the admin reads these endpoints): platform administrators only.

Superusers (platform administrators) see everything.
"""

from django.db.models import Q, QuerySet
from django.http import Http404
from wagtail.models import Page

from grants.models import Foundation
from grants.permissions import foundation_ids

from .models import FundingCallPage, FundPage
from .sections import foundation_id_of, section_pages

# URL keyword arguments of Wagtail's admin views that name a page.
PAGE_KWARGS = ("page_id", "parent_page_id", "page_to_move_id", "destination_id", "page_pk")
# Views whose ``pk`` argument is a page.
PAGE_PK_VIEWS = frozenset({"wagtailadmin_pages:revisions_compare"})
PAGE_API_PREFIX = "/admin/api/main/pages/"
MEDIA_API_PREFIXES = ("/admin/api/main/images/", "/admin/api/main/documents/")
# Views that take pages as ``?id=`` (the chooser's "chosen" answer, bulk actions on pages).
PAGE_ID_LIST_VIEWS = frozenset({"wagtailadmin_choose_page_chosen_multiple"})

# Wagtail's page reports (see the module's docstring), by URL name and by reports-menu item name.
# (Wagtail itself already keeps the site history to superusers.)
SUPERUSER_REPORTS = frozenset(
    {
        f"{view}{suffix}"
        for view in ("aging_pages", "locked_pages", "page_types_usage", "workflow", "workflow_tasks")
        for suffix in ("", "_results")
    }
)
SUPERUSER_REPORT_MENU_ITEMS = frozenset(
    {"aging-pages", "locked-pages", "page-types-usage", "workflows", "workflow-tasks", "site-history"}
)


def foreign_pages(user) -> Q:
    """Pages of foundations ``user`` does not work for: inside their sections, or fund and call
    pages of theirs wherever they sit.

    Only ``id`` and ``path`` are used, the fields Wagtail's search can filter on (choosers and
    the explorer search the filtered queryset).
    """
    mine = foundation_ids(user)
    foreign = list(Foundation.objects.exclude(pk__in=mine).values_list("pk", flat=True))
    fund_and_call_pages = [
        *FundPage.objects.filter(fund__foundation_id__in=foreign).values_list("pk", flat=True),
        *FundingCallPage.objects.filter(funding_call__fund__foundation_id__in=foreign).values_list(
            "pk", flat=True
        ),
    ]
    condition = Q(id__in=fund_and_call_pages)
    for path in section_pages(foreign).values_list("path", flat=True):
        condition |= Q(path__startswith=path)
    return condition


def visible_pages(user, queryset: QuerySet) -> QuerySet:
    """``queryset`` without other foundations' pages (superusers: all of it)."""
    if user.is_superuser:
        return queryset
    return queryset.exclude(foreign_pages(user))


def is_foreign(user, page: Page) -> bool:
    """Whether ``page`` belongs to a foundation ``user`` does not work for."""
    if user.is_superuser:
        return False
    owner = foundation_id_of(page)
    return owner is not None and owner not in foundation_ids(user)


def _named_page_ids(request, match, view_kwargs) -> list[str]:
    ids = [str(view_kwargs[name]) for name in PAGE_KWARGS if name in view_kwargs]
    view_name = match.view_name
    if view_name in PAGE_PK_VIEWS or request.path.startswith(PAGE_API_PREFIX):
        ids.append(str(view_kwargs.get("pk", "")))
    if view_name in PAGE_ID_LIST_VIEWS or (
        match.url_name == "wagtail_bulk_action" and view_kwargs.get("app_label") == "wagtailcore"
    ):
        ids.extend(request.GET.getlist("id"))
    return [value for value in ids if value.isdigit()]


class WagtailAdminScopeMiddleware:
    """404 for admin URLs naming another foundation's page; page reports for superusers only."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        user = request.user
        if (
            match is None
            or not request.path.startswith("/admin/")
            or user.is_superuser
            # Wagtail sends people without admin access to sign in (as for every admin URL).
            or not user.has_perm("wagtailadmin.access_admin")
        ):
            return None
        if match.namespace == "wagtailadmin_reports" and match.url_name in SUPERUSER_REPORTS:
            raise Http404
        if request.path.startswith(MEDIA_API_PREFIXES):
            raise Http404
        for page in Page.objects.filter(pk__in=_named_page_ids(request, match, view_kwargs)):
            if is_foreign(user, page):
                raise Http404
        return None
