"""The portal's own error pages while DEBUG is on (the demo: ``make demo`` sets
``PORTAL_ERROR_PAGES=1``).

With DEBUG on, Django answers a missing page with its debug page, which lists every URL of the
portal, and an error with a traceback. A newcomer trying the demo should meet what visitors
meet: templates/404.html, 400.html and 500.html. The traceback is still logged on the console.
Without DEBUG Django shows these templates itself, so this does nothing.
"""

from django.conf import settings
from django.views import defaults

# Both of Django's debug pages (technical_404.html, technical_500.html) carry this tag.
DEBUG_PAGE_MARK = b'<meta name="robots" content="NONE,NOARCHIVE">'

PAGES = {
    400: lambda request: defaults.bad_request(request, exception=None),
    404: lambda request: defaults.page_not_found(request, exception=None),
    500: defaults.server_error,
}


class PortalErrorPagesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            settings.DEBUG
            and getattr(settings, "PORTAL_ERROR_PAGES", False)
            and response.status_code in PAGES
            and not response.streaming
            and DEBUG_PAGE_MARK in response.content
        ):
            return PAGES[response.status_code](request)
        return response
