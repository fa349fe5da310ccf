"""The email backend of the portal: every message goes to the outbox (``grants.services.outbox``).

``EMAIL_BACKEND`` is this class; the backend that really talks to the mail server is
``EMAIL_DELIVERY_BACKEND`` (SMTP in production, the console in the demo). A sender may set
``message.kind`` (what the message is, for staff) and ``message.foundation_id`` (whose staff see
its state) before ``send()``.
"""

from django.core.mail.backends.base import BaseEmailBackend


class OutboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages):
        from grants.services import outbox

        count = 0
        for message in email_messages:
            if not message.recipients():
                continue
            outbox.queue(
                message,
                kind=getattr(message, "kind", ""),
                foundation_id=getattr(message, "foundation_id", None),
            )
            count += 1
        return count
