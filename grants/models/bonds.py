"""Immigration bonds a bond fund posts, and the partner organizations that ask for them.

A bond is money lent, not spent: posting it moves money from the fund's cash to *bonds
outstanding* (an asset); when the case ends with every appearance made, the bond is cancelled
and the money comes back (with any interest, as income); when it is breached, what is lost is
written off as a grant. The amounts a bond has out, got back and lost are sums of the journal
lines linked to it (``grants.services.bonds``), never stored counters.

What is never stored: the person's name, A-number, country of origin or date of birth. The
partner chooses a ``label`` ("Family R, Adelanto") that means something only to them; the text
fields refuse anything shaped like an A-number (``validate_no_a_number``). The bond's own
reference at the government (the receipt or bond number the foundation needs to claim the
refund) is encrypted at rest, shown to finance staff only, and erased by the retention rules
once the bond is settled (``Foundation.purge_bond_references_after_days``).
"""

import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from djmoney.models.fields import MoneyField

from grants.fields import EncryptedTextField

from .awards import Award
from .foundations import Foundation
from .funds import Fund, FundingCall
from .organizations import Organization

# An alien registration number: "A" then 8 or 9 digits, written A123456789, A-123-456-789,
# A# 123 456 789; also a bare run of 8 or 9 digits (the A is often left out).
A_NUMBER_PATTERN = re.compile(
    r"(?<![0-9A-Za-z])(?:[Aa]\s*[#:.\-]?\s*)?\d{2,3}[\s.\-]?\d{3}[\s.\-]?\d{3}(?![0-9])"
)


def looks_like_a_number(text: str) -> bool:
    """Whether ``text`` holds something shaped like an A-number (8–9 digits, with or without A)."""
    for match in A_NUMBER_PATTERN.finditer(text or ""):
        digits = re.sub(r"\D", "", match.group(0))
        if 8 <= len(digits) <= 9:
            return True
    return False


def validate_no_a_number(value: str) -> None:
    """Refuse text holding an A-number pattern: the portal never keeps one."""
    if looks_like_a_number(value):
        raise ValidationError(
            _(
                "This looks like an A-number (8 or 9 digits). Never enter A-numbers, names or "
                "countries of origin here: use a label only your organization understands."
            ),
            code="a_number",
        )


class BondPartner(models.Model):
    """An organization the foundation trusts to ask for bonds (and to act as obligor)."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="bond_partners")
    organization = models.ForeignKey(
        Organization,
        on_delete=models.PROTECT,
        related_name="bond_partnerships",
        verbose_name=_("organization"),
    )
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    added_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("bond partner")
        verbose_name_plural = _("bond partners")
        constraints = [
            models.UniqueConstraint(fields=["foundation", "organization"], name="bond_partner_once"),
        ]

    def __str__(self):
        return str(self.organization)


class BondUrgency(models.TextChoices):
    TODAY = "today", _("Today: release possible now")
    DAYS = "days", _("Within a few days")
    WEEK = "week", _("Within a week or more")


class Obligor(models.TextChoices):
    FOUNDATION = "foundation", _("The foundation posts the bond")
    PARTNER = "partner", _("Our organization posts the bond")


class BondStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    APPROVED = "approved", _("Approved, not posted yet")
    DECLINED = "declined", _("Declined")
    WITHDRAWN = "withdrawn", _("Withdrawn")
    SENDING = "sending", _("Money on its way to the partner")
    POSTED = "posted", _("Posted")
    REFUND_EXPECTED = "refund_expected", _("Cancelled, refund expected")
    RETURNED = "returned", _("Returned")
    BREACHED = "breached", _("Breached, loss written off")


# States in which the bond's money is out (posted and not settled).
BOND_OUT_STATES = (BondStatus.POSTED, BondStatus.REFUND_EXPECTED)
BOND_SETTLED_STATES = (BondStatus.RETURNED, BondStatus.BREACHED)


class PostingMethod(models.TextChoices):
    WIRE = "wire", _("Wire, recorded by the foundation")
    ACH = "ach", _("ACH, recorded by the foundation")
    TRANSFER = "transfer", _("Transfer to the partner through Stripe")


class Bond(models.Model):
    """One bond request and, once approved and posted, the bond itself."""

    foundation = models.ForeignKey(Foundation, on_delete=models.PROTECT, related_name="bonds")
    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="bonds", verbose_name=_("fund"))
    partner = models.ForeignKey(
        Organization, on_delete=models.PROTECT, related_name="bonds", verbose_name=_("partner organization")
    )
    call = models.ForeignKey(
        FundingCall, on_delete=models.PROTECT, null=True, blank=True, related_name="bonds"
    )
    award = models.ForeignKey(Award, on_delete=models.PROTECT, null=True, blank=True, related_name="bonds")
    label = models.CharField(
        _("your label for this case"),
        max_length=60,
        validators=[validate_no_a_number],
        help_text=_("Something only your organization understands, e.g. “Family R, Adelanto”. No names."),
    )
    facility = models.CharField(
        _("detention facility or ICE field office"), max_length=120, validators=[validate_no_a_number]
    )
    urgency = models.CharField(_("how urgent"), max_length=8, choices=BondUrgency.choices)
    amount = MoneyField(_("bond amount"), max_digits=14, decimal_places=2, currency_field_name="currency")
    obligor = models.CharField(_("who posts the bond"), max_length=12, choices=Obligor.choices)
    notes = models.TextField(
        _("anything else the foundation should know"),
        max_length=1000,
        blank=True,
        validators=[validate_no_a_number],
    )
    status = models.CharField(
        _("status"), max_length=16, choices=BondStatus.choices, default=BondStatus.REQUESTED
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    requested_at = models.DateTimeField(auto_now_add=True)
    decision_due_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    decline_reason = models.CharField(_("reason"), max_length=500, blank=True)
    posting_method = models.CharField(
        _("how the money went out"), max_length=10, choices=PostingMethod.choices, blank=True
    )
    posted_on = models.DateField(_("posted on"), null=True, blank=True)
    posted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The government's receipt or bond number: encrypted, finance only, erased once settled.
    reference = EncryptedTextField(_("bond reference"), blank=True)
    reference_purged_at = models.DateTimeField(null=True, blank=True)
    cancelled_on = models.DateField(_("cancelled on"), null=True, blank=True)
    breach_reason = models.CharField(_("reason for the loss"), max_length=500, blank=True)
    settled_on = models.DateField(_("settled on"), null=True, blank=True)
    last_reminded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("bond")
        verbose_name_plural = _("bonds")
        ordering = ["-requested_at", "-pk"]
        indexes = [models.Index(fields=["foundation", "status"], name="bond_status_idx")]
        constraints = [models.CheckConstraint(condition=models.Q(amount__gt=0), name="bond_amount_positive")]

    def __str__(self):
        return f"B-{self.pk} · {self.label}"

    @property
    def reference_code(self) -> str:
        return f"B-{self.pk}"

    @property
    def is_out(self) -> bool:
        return self.status in BOND_OUT_STATES

    def clean(self):
        if self.fund_id and self.amount is not None and str(self.amount.currency) != self.fund.currency:
            raise ValidationError({"amount": _("The amount must be in the fund's currency.")})
