"""Texts typed outside a form class (a reason, a note) are refused when too long, never cut."""

from django.utils.translation import gettext as _

from grants.services.errors import DomainError


class TextTooLong(DomainError):
    """A typed text is longer than its limit; the person shortens it (what they typed is kept)."""


def within_limit(text: str, limit: int) -> str:
    text = (text or "").strip()
    if len(text) > limit:
        raise TextTooLong(
            _("This text can be at most %(limit)s characters long (it has %(count)s); shorten it.")
            % {"limit": limit, "count": len(text)}
        )
    return text
