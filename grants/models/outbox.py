"""Every email the portal sends passes through here (``grants.services.outbox``).

A message is written in the same transaction as the change it tells about, and delivered by a
task after commit: a slow or failing mail server never slows or fails the request, and a crash
never loses the message. Bodies are encrypted while they wait (they may carry sign-in links) and
erased once delivered; staff see the state of each message, never its text.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _

from grants.fields import EncryptedJSONField, EncryptedTextField


class EmailStatus(models.TextChoices):
    QUEUED = "queued", _("Waiting to be sent")
    RETRYING = "retrying", _("Will be tried again")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Not sent")


class OutgoingEmail(models.Model):
    kind = models.CharField(_("kind"), max_length=100)
    foundation = models.ForeignKey(
        "grants.Foundation",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("foundation"),
    )
    recipients = EncryptedJSONField(_("recipients"), default=list)
    # How many recipients, and the domain of the first: enough for staff to recognise a message
    # without its addresses.
    recipient_hint = models.CharField(_("to"), max_length=120, blank=True)
    subject = EncryptedTextField(_("subject"), blank=True)
    text = EncryptedTextField(_("text"), blank=True)
    html = EncryptedTextField(_("HTML"), blank=True)
    from_email = models.CharField(max_length=254, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    last_error = models.CharField(_("last error"), max_length=300, blank=True)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    created_at = models.DateTimeField(_("queued at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("outgoing email")
        verbose_name_plural = _("outgoing emails")
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="outbox_due")]

    def __str__(self):
        return f"{self.kind} #{self.pk}"
