"""Emails, always in the recipient's language, sent only after the transaction commits."""

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string
from django.utils import translation


def send_templated_email(template: str, *, to: list[str], language: str, context: dict) -> None:
    """Render ``templates/emails/<template>_subject.txt``, ``.txt`` and ``.html`` in ``language``
    and send after commit. Context must never carry answers to sensitive questions."""
    context = {**context, "base_url": settings.WAGTAILADMIN_BASE_URL, "language": language}

    def send():
        with translation.override(language):
            subject = " ".join(render_to_string(f"emails/{template}_subject.txt", context).split())
            text = render_to_string(f"emails/{template}.txt", context)
            html = render_to_string(f"emails/{template}.html", context)
        message = EmailMultiAlternatives(subject, text, settings.DEFAULT_FROM_EMAIL, to)
        message.attach_alternative(html, "text/html")
        message.send()

    transaction.on_commit(send)
