"""Another foundation's unpublished page content stays with that foundation's staff.

Wagtail lets every page editor read any page's draft, old revisions, comparisons and history, and
offers no hook on those views (the ``before_*_page`` hooks of ``cms.wagtail_hooks`` cover the
actions). A fund or funding call page's draft may name a fund before it is announced, or a call's
partners, so these views answer 404 to editors of other foundations, as the edit page does.
"""

from wagtail.models import Page

from .wagtail_hooks import check_page_foundation

# Wagtail's page views (namespace ``wagtailadmin_pages``) that show a page's unpublished content
# or its history, or change its schedule without the edit page.
SCOPED_PAGE_VIEWS = frozenset(
    {
        "view_draft",
        "revisions_view",
        "revisions_compare",
        "revisions_unschedule",
        "history",
        "history_results",
        "workflow_history",
        "workflow_history_detail",
        "workflow_preview",
    }
)


class ForeignPageContentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_view(self, request, view_func, view_args, view_kwargs):
        match = request.resolver_match
        if (
            match is None
            or match.namespace != "wagtailadmin_pages"
            or match.url_name not in SCOPED_PAGE_VIEWS
            or not request.user.is_authenticated  # the view sends them to sign in
        ):
            return None
        page_id = view_kwargs.get("page_id", view_kwargs.get("pk"))
        page = Page.objects.filter(pk=page_id).first() if str(page_id or "").isdigit() else None
        if page is None:
            return None
        permissions = page.permissions_for_user(request.user)
        if permissions.can_edit() or permissions.can_publish():
            # Wagtail would show it: refuse another foundation's page as the edit page does.
            # Anyone else gets Wagtail's own refusal.
            check_page_foundation(request, page)
        return None
