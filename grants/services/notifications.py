"""Emails, always in the recipient's language, sent only after the transaction commits."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def _foundation_id(context: dict) -> int | None:
    """The foundation an email is about, from the objects its context names (for its staff to see
    the message's state in *Emails*)."""
    for key, path in (("foundation", "pk"), ("fund", "foundation_id"), ("call", "fund.foundation_id"),
                      ("application", "call.fund.foundation_id"), ("award", "fund.foundation_id"),
                      ("donation", "fund.foundation_id"), ("program", "fund.foundation_id")):  # fmt: skip
        value = context.get(key)
        for attribute in path.split(".") if value is not None else ():
            value = getattr(value, attribute, None)
        if isinstance(value, int):
            return value
    return None


def send_templated_email(template: str, *, to: list[str], language: str, context: dict) -> None:
    """Render ``templates/emails/<template>_subject.txt``, ``.txt`` and ``.html`` in ``language``
    and send after commit (through the outbox: ``grants.services.outbox``). Context must never
    carry answers to sensitive questions."""
    context = {**context, "base_url": settings.WAGTAILADMIN_BASE_URL, "language": language}

    def send():
        with translation.override(language):
            subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
            text = render_to_string(f"emails/{template}.txt", context)
            html = render_to_string(f"emails/{template}.html", context)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
        message.attach_alternative(html, "text/html")
        message.kind = template
        message.foundation_id = _foundation_id(context)
        message.send()

    transaction.on_commit(send)
