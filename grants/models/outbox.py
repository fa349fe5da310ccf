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


# What each kind of message is, in words staff read (the kind is the template's name).
KIND_LABELS = {
    "application_submitted": _("Application received"),
    "application_approved": _("Application approved"),
    "application_declined": _("Application declined"),
    "application_withdrawn": _("Application withdrawn"),
    "more_information_requested": _("More information requested"),
    "award_offered": _("Award offered"),
    "award_amended": _("Award amended"),
    "award_cancelled": _("Award cancelled"),
    "report_submitted": _("Spending report submitted"),
    "report_accepted": _("Spending report accepted"),
    "report_changes_requested": _("Changes to a spending report requested"),
    "report_reminder_before": _("Spending report reminder"),
    "report_reminder_due": _("Spending report due today"),
    "report_reminder_overdue": _("Spending report overdue"),
    "review_assignments": _("Reviews assigned"),
    "review_conflict": _("Reviewer's conflict of interest"),
    "officer_digest": _("Officer's daily digest"),
    "donation_receipt": _("Donation receipt"),
    "donation_manage_link": _("Link to manage a monthly gift"),
    "donation_payment_problem": _("Problem with a monthly gift's payment"),
    "donor_yearly_summary": _("Donor's yearly summary"),
    "data_deletion_done": _("Data deletion done"),
    "data_deletion_rejected": _("Data deletion refused"),
    "organization_invite": _("Invitation to an organization"),
    "foundation_admin_invite": _("Invitation to run a foundation"),
    "vendor_onboarding_link": _("Payout setup link for a vendor"),
    "bond_requested": _("Bond request waiting for a decision"),
    "bond_approved": _("Bond request approved"),
    "bond_declined": _("Bond request declined"),
    "bond_check_reminder": _("Reminder to check on bonds out a long time"),
}


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

    @property
    def kind_label(self) -> str:
        """The kind in words; account emails (sign-in codes, password, address) have no kind."""
        return str(KIND_LABELS.get(self.kind, _("Account email")))
