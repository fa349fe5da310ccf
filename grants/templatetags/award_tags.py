"""How an award's history reads to the grantee."""

from django import template
from django.utils.translation import gettext as _

register = template.Library()


@register.filter
def award_event(entry) -> str:
    """One line of an award's history in the reader's language (the note kept as written)."""
    texts = {
        "offer": _("The foundation offered the award."),
        "accept": _("The award was accepted, signed by %(note)s."),
        "decline": _("The award was declined."),
        "activate": _("The first payment was made."),
        "amend": _("The amount changed: %(note)s"),
        "cancel": _("The foundation cancelled the award: %(note)s"),
        "complete": _("The award was completed."),
    }
    text = texts.get(entry.action)
    if text is None:
        return entry.action
    return text % {"note": entry.note} if "%(note)s" in text else text
