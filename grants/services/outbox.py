"""Emails as tasks: every message is kept, delivered by the worker, and retried.

Every ``message.send()`` in the portal (its own emails, allauth's, Wagtail's) reaches
``grants.mail.OutboxBackend``, which calls ``queue``: an ``OutgoingEmail`` row and a
``deliver_email`` task, written in the caller's transaction. In production the task backend is
the database, so both rows commit (or vanish) together and the worker (``manage.py db_worker``)
delivers after commit: the request answers at once, a slow mail server slows nobody, a crash
loses nothing. The demo's and tests' immediate backend delivers at once, as before. The portal's
own notifications call ``send()`` only after their change commits (``grants.services.notifications``).

Delivery locks the row, so two workers never send one message twice. A failure (the mail server
down, refusing, timing out) is recorded and tried again after ``BACKOFF``; the worker is asked
to run it then when its backend can defer, and ``manage.py send_emails`` (every few minutes from
cron, and in ``run_daily``) picks up every message that is due, including one whose task was lost
in a crash. After the last attempt the message is *not sent*: staff see it and may send it again.
Bodies are erased once delivered.
"""

import datetime
import logging

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django_tasks import default_task_backend, task

from grants.models import EmailStatus, OutgoingEmail

logger = logging.getLogger(__name__)

# Waits before the 2nd, 3rd, ... attempt; after the last one the message is "not sent".
BACKOFF = [datetime.timedelta(minutes=m) for m in (1, 5, 30, 120, 720)]
MAX_ATTEMPTS = len(BACKOFF) + 1
# A queued message whose task has not run this long after commit is delivered by the sweep.
LOST_AFTER = datetime.timedelta(minutes=2)


class NotRetryable(Exception):
    """Raised for a message that was already delivered."""


def _hint(recipients: list[str]) -> str:
    if not recipients:
        return ""
    domain = recipients[0].rsplit("@", 1)[-1]
    more = f" +{len(recipients) - 1}" if len(recipients) > 1 else ""
    return f"…@{domain}{more}"[:120]


def queue(message, *, kind: str = "", foundation_id: int | None = None) -> OutgoingEmail:
    """Keep ``message`` (any ``EmailMessage``) and have the worker deliver it."""
    html = ""
    for content, mimetype in getattr(message, "alternatives", []) or []:
        if mimetype == "text/html":
            html = content
    recipients = list(message.to) + list(message.cc) + list(message.bcc)
    email = OutgoingEmail.objects.create(
        kind=(kind or "email")[:100],
        foundation_id=foundation_id,
        recipients={
            "to": list(message.to),
            "cc": list(message.cc),
            "bcc": list(message.bcc),
            "reply_to": list(message.reply_to),
        },  # fmt: skip
        recipient_hint=_hint(recipients),
        subject=message.subject,
        text=message.body,
        html=html,
        from_email=message.from_email or settings.DEFAULT_FROM_EMAIL,
    )
    _enqueue(email.pk)
    return email


def _enqueue(email_id: int, run_after: datetime.datetime | None = None) -> None:
    if run_after is not None and not default_task_backend.supports_defer:
        return  # the sweep (``manage.py send_emails``) delivers it when it is due
    try:
        # A savepoint: a task backend that fails to enqueue must not break the caller's transaction.
        with transaction.atomic():
            if run_after is not None:
                deliver_email.using(run_after=run_after).enqueue(email_id=email_id)
            else:
                deliver_email.enqueue(email_id=email_id)
    except Exception:  # the message is safe in the table; the sweep delivers it
        logger.exception("outbox: could not enqueue email %s", email_id)


def _message(email: OutgoingEmail, connection) -> EmailMultiAlternatives:
    recipients = email.recipients or {}
    message = EmailMultiAlternatives(
        email.subject,
        email.text,
        email.from_email or settings.DEFAULT_FROM_EMAIL,
        recipients.get("to", []),
        cc=recipients.get("cc", []),
        bcc=recipients.get("bcc", []),
        reply_to=recipients.get("reply_to", []),
        connection=connection,
    )
    if email.html:
        message.attach_alternative(email.html, "text/html")
    return message


def deliver(email_id: int) -> str | None:
    """Send one message if it is still waiting; returns its status afterwards (None: no such row).

    The row is locked while the mail server is asked, so a second worker waits and then finds it
    sent.
    """
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().filter(pk=email_id).first()
        if email is None:
            return None
        if email.status not in (EmailStatus.QUEUED, EmailStatus.RETRYING):
            return email.status
        now = timezone.now()
        try:
            with get_connection(settings.EMAIL_DELIVERY_BACKEND, fail_silently=False) as connection:
                sent = _message(email, connection).send()
            if not sent:
                raise OSError("the mail server accepted no recipient")
        except Exception as error:  # any backend's failure: SMTP, socket, API client
            email.attempts += 1
            email.last_error = f"{type(error).__name__}: {error}"[:300]
            if email.attempts >= MAX_ATTEMPTS:
                email.status = EmailStatus.FAILED
                email.next_attempt_at = None
            else:
                email.status = EmailStatus.RETRYING
                email.next_attempt_at = now + BACKOFF[email.attempts - 1]
            email.save(update_fields=["attempts", "last_error", "status", "next_attempt_at"])
            logger.warning("outbox: email %s (%s) attempt %s failed", email.pk, email.kind, email.attempts)
            if email.status == EmailStatus.RETRYING:
                run_after = email.next_attempt_at
                transaction.on_commit(lambda: _enqueue(email_id, run_after))
            return email.status
        email.attempts += 1
        email.status = EmailStatus.SENT
        email.sent_at = now
        email.next_attempt_at = None
        email.last_error = ""
        # Delivered: the text is no longer needed here (it may hold a sign-in link).
        email.subject = email.text = email.html = ""
        email.recipients = []
        email.save()
        return email.status


@task()
def deliver_email(*, email_id: int) -> None:
    deliver(email_id)


def due(now: datetime.datetime | None = None):
    """Messages waiting whose time has come: retries that are due, and queued ones whose task
    has not run (lost in a crash, or the worker was down)."""
    now = now or timezone.now()
    return OutgoingEmail.objects.filter(
        Q(status=EmailStatus.RETRYING, next_attempt_at__lte=now)
        | Q(status=EmailStatus.QUEUED, created_at__lte=now - LOST_AFTER)
    ).order_by("pk")


def send_due(now: datetime.datetime | None = None) -> dict[str, int]:
    """Deliver every message that is due (``manage.py send_emails``). Returns counts by outcome."""
    counts: dict[str, int] = {}
    for email_id in list(due(now).values_list("pk", flat=True)):
        status = deliver(email_id)
        if status:
            counts[status] = counts.get(status, 0) + 1
    return counts


def send_again(email: OutgoingEmail) -> OutgoingEmail:
    """Staff's "Send again" for a message that was not sent: one more round of attempts."""
    with transaction.atomic():
        email = OutgoingEmail.objects.select_for_update().get(pk=email.pk)
        if email.status != EmailStatus.FAILED:
            raise NotRetryable(email.status)
        email.status = EmailStatus.RETRYING
        email.attempts = 0
        email.next_attempt_at = timezone.now()
        email.save(update_fields=["status", "attempts", "next_attempt_at"])
        _enqueue(email.pk)
    email.refresh_from_db()
    return email
