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
