"""Error pages that need more than a template."""

from django.shortcuts import render
from django.views.decorators.csrf import requires_csrf_token


@requires_csrf_token
def csrf_failure(request, reason: str = ""):
    """A form sent without its security token (the page was open very long, the browser refuses
    cookies, or another site sent it): the portal's own page, translated and without the inline
    styles of Django's default one, which the Content Security Policy would block. The reason is
    for logs, not for the visitor."""
    return render(request, "403_csrf.html", status=403)
