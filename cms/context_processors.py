"""Values every public template needs."""

from django.utils import translation

from .models import FundIndexPage


def navigation(request):
    """The fund index page of the current language, for the main menu (one query)."""

    def fund_index_url():
        page = (
            FundIndexPage.objects.live()
            .filter(locale__language_code=translation.get_language())
            .only("id", "url_path", "path", "depth", "locale_id")
            .first()
        )
        return page.get_url(request) if page else None

    return {"fund_index_url": fund_index_url}
