"""Values every public template needs."""

from django.utils import translation

from .models import FundIndexPage
from .page_cache import public_fragment


def navigation(request):
    """The fund index page of the current language, for the main menu (a cache read; one query
    when the public pages changed)."""

    def fund_index_url():
        return public_fragment(request, "fund-index-url", lambda: _fund_index_url(request)) or None

    return {"fund_index_url": fund_index_url}


def _fund_index_url(request) -> str:
    page = (
        FundIndexPage.objects.live()
        .filter(locale__language_code=translation.get_language())
        .only("id", "url_path", "path", "depth", "locale_id")
        .first()
    )
    return page.get_url(request) if page else ""
