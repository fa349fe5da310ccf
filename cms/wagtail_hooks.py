"""Page editing follows foundation scoping: staff edit only their own foundation's pages.

Each foundation owns its section of the page tree (``cms.sections``), and these hooks add the
foundation check to Wagtail's page permissions: a page of another foundation's section (the
section itself, its fund and call pages, its own standard pages) cannot be edited, deleted,
unpublished, moved, copied or get children (404, as for every other object of another
foundation), and no page can be moved under one. Shared pages (home, fund index, the standard
pages beside the sections) stay editable by page permission.
"""

from django.http import Http404
from wagtail import hooks

from grants.permissions import foundation_ids

from .admin_scope import SUPERUSER_REPORT_MENU_ITEMS, visible_pages
from .sections import foundation_id_of


def check_page_foundation(request, page):
    """404 unless ``page`` is shared or belongs to one of the user's foundations."""
    foundation_id = foundation_id_of(page)
    if foundation_id is not None and foundation_id not in foundation_ids(request.user):
        raise Http404


@hooks.register("before_edit_page")
def before_edit_page(request, page):
    check_page_foundation(request, page)


@hooks.register("before_delete_page")
def before_delete_page(request, page):
    check_page_foundation(request, page)


@hooks.register("before_unpublish_page")
def before_unpublish_page(request, page):
    check_page_foundation(request, page)


@hooks.register("before_create_page")
def before_create_page(request, parent_page, page_class):
    check_page_foundation(request, parent_page)


@hooks.register("before_move_page")
def before_move_page(request, page_to_move, destination):
    check_page_foundation(request, page_to_move)
    check_page_foundation(request, destination)


@hooks.register("before_copy_page")
def before_copy_page(request, page):
    check_page_foundation(request, page)


# --- Each foundation's part of Wagtail (see ``cms.admin_scope``) ----------------------------


@hooks.register("construct_page_chooser_queryset")
def chooser_shows_own_and_shared_pages(pages, request):
    """Choosers list the person's foundations' pages and shared pages, never another's."""
    return visible_pages(request.user, pages)


@hooks.register("construct_explorer_page_queryset")
def explorer_shows_own_and_shared_pages(parent_page, pages, request):
    """Wagtail's explorer already lists what page permissions reach; this keeps it so should a
    permission ever be given higher up the tree."""
    return visible_pages(request.user, pages)


@hooks.register("construct_reports_menu")
def page_reports_for_superusers(request, menu_items):
    """Wagtail's page reports list people and pages of every foundation: superusers only."""
    if not request.user.is_superuser:
        menu_items[:] = [item for item in menu_items if item.name not in SUPERUSER_REPORT_MENU_ITEMS]
