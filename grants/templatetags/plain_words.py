"""``{% load plain_words %}``: codes turned into words (see ``grants.plain_words``)."""

from django import template

from grants import plain_words

register = template.Library()


@register.filter
def stripe_requirements(codes) -> list[str]:
    """What Stripe still needs, each item in words: ``{% for item in codes|stripe_requirements %}``."""
    return plain_words.stripe_requirements(codes)
