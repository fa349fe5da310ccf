"""``{% csp_nonce %}``: this response's Content Security Policy nonce, for a ``<script nonce>``.

Works where the template has no ``request`` (form widgets render without it): the nonce then
comes from the request being handled (``grants.middleware_headers.current_csp_nonce``).
"""

from django import template

from grants.middleware_headers import current_csp_nonce

register = template.Library()


@register.simple_tag(takes_context=True)
def csp_nonce(context) -> str:
    request = context.get("request")
    nonce = getattr(request, "csp_nonce", None) if request is not None else None
    return str(nonce) if nonce is not None else current_csp_nonce()
