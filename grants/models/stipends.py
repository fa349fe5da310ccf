"""Hotline stipends: volunteers known by pseudonym, their shifts, and monthly batches paid out.

A coordinating organization registers its volunteers under pseudonyms (no legal name needed
in the portal) and logs their shifts. Each month a batch computes what each volunteer earned
(rate × shifts or hours, capped per month); an officer approves it, which commits the money in
the fund's ledger; it is then paid like an installment — to the coordinating organization, or
to a volunteer's own connected account.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from .funds import Fund
from .organizations import Organization
from .payments import Disbursement, PayeeAccount
from .translated import TranslatedText, translated


class RateUnit(models.TextChoices):
    SHIFT = "shift", _("per shift")
    HOUR = "hour", _("per hour")


class StipendProgram(TranslatedText):
    """A fund's stipend program: the rate, the monthly cap and which groups log shifts."""

    translated_fields = ("name",)

    fund = models.ForeignKey(
        Fund, on_delete=models.PROTECT, related_name="stipend_programs", verbose_name=_("fund")
    )
    name = models.CharField(_("name"), max_length=200)
    rate = MoneyField(_("rate"), max_digits=10, decimal_places=2, currency_field_name="currency")
    rate_unit = models.CharField(_("paid"), max_length=8, choices=RateUnit.choices, default=RateUnit.SHIFT)
    monthly_cap = MoneyField(
        _("monthly cap per volunteer"), max_digits=10, decimal_places=2, currency_field_name="cap_currency"
    )
    coordinators = models.ManyToManyField(
        Organization,
        related_name="stipend_programs",
        blank=True,
        verbose_name=_("coordinating organizations"),
    )
    active = models.BooleanField(_("active"), default=True)
    # The first day shifts may fall on: set by officers (a program moving into the portal brings
    # its past months); when empty, the first of the month before the fund was created.
    shifts_from = models.DateField(_("shifts from"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("stipend program")
        verbose_name_plural = _("stipend programs")
        ordering = ["fund", "name"]
        constraints = [
            models.CheckConstraint(condition=models.Q(rate__gt=0), name="stipend_rate_positive"),
            models.CheckConstraint(condition=models.Q(monthly_cap__gt=0), name="stipend_cap_positive"),
        ]

    def __str__(self):
        return translated(self, "name")


class Volunteer(models.Model):
    """A hotline volunteer, known to the portal only by a pseudonym chosen by their group."""

    program = models.ForeignKey(StipendProgram, on_delete=models.PROTECT, related_name="volunteers")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="volunteers")
    pseudonym = models.CharField(_("pseudonym"), max_length=80)
    # Paid to their own connected account when set; else through the coordinating organization.
    payee = models.ForeignKey(
        PayeeAccount, on_delete=models.PROTECT, null=True, blank=True, related_name="volunteers"
    )
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("volunteer")
        verbose_name_plural = _("volunteers")
        ordering = ["pseudonym"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "organization", "pseudonym"], name="unique_volunteer_pseudonym"
            )
        ]

    def __str__(self):
        return self.pseudonym


class StipendBatchStatus(models.TextChoices):
    DRAFT = "draft", _("Computed, waiting for approval")
    APPROVED = "approved", pgettext_lazy("batch", "Approved")
    PAID = "paid", _("Paid")
    CANCELLED = "cancelled", pgettext_lazy("batch", "Cancelled")


class StipendBatch(models.Model):
    """One month of one coordinating organization's shifts in one program."""

    program = models.ForeignKey(StipendProgram, on_delete=models.PROTECT, related_name="batches")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="stipend_batches")
    month = models.DateField(_("month"), help_text=_("The first day of the month."))
    status = models.CharField(
        _("status"), max_length=16, choices=StipendBatchStatus.choices, default=StipendBatchStatus.DRAFT
    )
    total = MoneyField(_("total"), max_digits=14, decimal_places=2, currency_field_name="currency")
    computed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    computed_at = models.DateTimeField(auto_now_add=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("stipend batch")
        verbose_name_plural = _("stipend batches")
        ordering = ["-month", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["program", "organization", "month"],
                condition=~models.Q(status="cancelled"),
                name="one_live_stipend_batch_per_month",
            )
        ]

    def __str__(self):
        return f"{self.program} · {self.organization} · {self.month:%Y-%m}"


class Shift(models.Model):
    """One shift a volunteer worked. Locked once a batch includes it."""

    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="shifts")
    date = models.DateField(_("date"))
    hours = models.DecimalField(_("hours"), max_digits=4, decimal_places=2)
    batch = models.ForeignKey(
        StipendBatch, on_delete=models.PROTECT, null=True, blank=True, related_name="shifts"
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("shift")
        verbose_name_plural = _("shifts")
        ordering = ["date", "pk"]
        indexes = [models.Index(fields=["volunteer", "date"], name="shift_volunteer_date_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(hours__gt=0) & models.Q(hours__lte=24), name="shift_hours_in_a_day"
            )
        ]


class StipendLine(models.Model):
    """What one volunteer earned in a batch, and whether the monthly cap cut it."""

    batch = models.ForeignKey(StipendBatch, on_delete=models.CASCADE, related_name="lines")
    volunteer = models.ForeignKey(Volunteer, on_delete=models.PROTECT, related_name="stipend_lines")
    shifts = models.PositiveIntegerField()
    hours = models.DecimalField(max_digits=7, decimal_places=2)
    earned = MoneyField(max_digits=12, decimal_places=2, currency_field_name="earned_currency")
    amount = MoneyField(max_digits=12, decimal_places=2, currency_field_name="currency")
    capped = models.BooleanField(default=False)

    class Meta:
        ordering = ["volunteer__pseudonym"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "volunteer"], name="one_stipend_line_per_volunteer")
        ]


class StipendPayment(models.Model):
    """One payment of a batch to one payee (the coordinating group, or a volunteer's own account)."""

    batch = models.ForeignKey(StipendBatch, on_delete=models.PROTECT, related_name="payments")
    payee = models.ForeignKey(PayeeAccount, on_delete=models.PROTECT, related_name="stipend_payments")
    amount = MoneyField(max_digits=14, decimal_places=2, currency_field_name="currency")
    disbursement = models.OneToOneField(
        Disbursement, on_delete=models.PROTECT, null=True, blank=True, related_name="stipend_payment"
    )

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["batch", "payee"], name="one_stipend_payment_per_payee")
        ]
