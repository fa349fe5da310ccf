"""Small helpers for the portal's admin templates."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def query_without_page(context) -> str:
    """The current filters as a query string, without the page number (for pagination links)."""
    query = context["request"].GET.copy()
    query.pop("p", None)
    return query.urlencode()
