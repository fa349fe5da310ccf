"""Funds and funding calls: the facts that do not change with the language of a page.

A ``FundPage`` / ``FundingCallPage`` in each language points at one ``Fund`` /
``FundingCall``, so amounts, dates and currency are entered once and every translation
shows the same figures.
"""

import datetime
import zoneinfo

from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from djmoney.models.fields import MoneyField

from grants.money import currency_choices, currency_exponent, is_fund_currency

from .foundations import Foundation, time_zone_choices
from .translated import TranslatedText, translated

CLOSING_SOON_WINDOW = datetime.timedelta(days=7)


class ProgramType(models.TextChoices):
    DEPORTATION_DEFENSE = "deportation_defense", _("Deportation defense")
    HOTLINE_STIPENDS = "hotline_stipends", _("Hotline volunteer stipends")
    CO_ENFORCEMENT = "co_enforcement", _("Co-enforcement organizing")
    BOND_FUND = "bond_fund", _("Bond fund")
    OTHER = "other", _("Other")


class FundStatus(models.TextChoices):
    ACTIVE = "active", pgettext_lazy("fund status", "Active")
    PAUSED = "paused", _("Paused")
    CLOSED = "closed", pgettext_lazy("fund status", "Closed")


def validate_fund_currency(value: str) -> None:
    """A fund's currency must be one the portal splits exactly (no decimals, or two)."""
    if not is_fund_currency(value):
        raise ValidationError(
            _(
                "%(currency)s has %(digits)s decimals; the portal keeps amounts with two, so it cannot "
                "split them exactly. Choose a currency with two decimals or none."
            ),
            code="unsupported_currency",
            params={"currency": value, "digits": currency_exponent(value)},
        )


class Fund(TranslatedText):
    """A pool of money a foundation raises and grants from, in one currency.

    ``str(fund)`` is its name in the active language (``translated``).
    """

    translated_fields = ("name",)

    foundation = models.ForeignKey(
        Foundation, on_delete=models.PROTECT, related_name="funds", verbose_name=_("foundation")
    )
    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80)
    program_type = models.CharField(_("program type"), max_length=32, choices=ProgramType.choices)
    currency = models.CharField(
        _("currency"),
        max_length=3,
        choices=currency_choices,
        default="USD",
        validators=[validate_fund_currency],
    )
    fundraising_goal = MoneyField(
        _("fundraising goal"),
        max_digits=14,
        decimal_places=2,
        currency_field_name="goal_currency",
        null=True,
        blank=True,
    )
    status = models.CharField(
        _("status"), max_length=16, choices=FundStatus.choices, default=FundStatus.ACTIVE
    )
    accepts_donations = models.BooleanField(_("accepts donations"), default=True)
    donation_presets = models.CharField(
        _("suggested amounts"),
        max_length=100,
        default="25,50,100,250",
        help_text=_("Whole amounts in the fund's currency, separated by commas."),
    )
    donation_minimum = models.DecimalField(_("smallest gift"), max_digits=10, decimal_places=2, default=5)
    donation_maximum = models.DecimalField(_("largest gift"), max_digits=12, decimal_places=2, default=10000)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("fund")
        verbose_name_plural = _("funds")
        ordering = ["foundation__name", "name"]
        constraints = [
            models.UniqueConstraint(fields=["foundation", "slug"], name="unique_fund_slug_per_foundation"),
        ]

    def __str__(self):
        return translated(self, "name")

    def clean(self):
        errors = {}
        if self.fundraising_goal is not None and str(self.fundraising_goal.currency) != self.currency:
            errors["fundraising_goal"] = _("The goal must be in the fund's currency.")
        if self.donation_minimum is not None and self.donation_minimum <= 0:
            errors["donation_minimum"] = _("The smallest gift must be more than zero.")
        elif (
            self.donation_minimum is not None
            and self.donation_maximum is not None
            and self.donation_maximum < self.donation_minimum
        ):
            errors["donation_maximum"] = _("The largest gift must be at least the smallest.")
        for part in (self.donation_presets or "").split(","):
            if part.strip() and not part.strip().isdigit():
                errors["donation_presets"] = _("Use whole amounts separated by commas, e.g. 25,50,100.")
                break
        if errors:
            raise ValidationError(errors)


class CallStatus(models.TextChoices):
    UPCOMING = "upcoming", _("Upcoming")
    OPEN = "open", pgettext_lazy("call status", "Open")
    CLOSING_SOON = "closing_soon", _("Closing soon")
    CLOSED = "closed", pgettext_lazy("call status", "Closed")


class FundingCallQuerySet(models.QuerySet):
    def open_at(self, moment: datetime.datetime):
        return self.filter(opens_at__lte=moment, closes_at__gt=moment)

    def upcoming_at(self, moment: datetime.datetime):
        return self.filter(opens_at__gt=moment)

    def closed_at(self, moment: datetime.datetime):
        return self.filter(closes_at__lte=moment)

    def with_status(self, status: str, moment: datetime.datetime):
        if status == CallStatus.UPCOMING:
            return self.upcoming_at(moment)
        if status == CallStatus.CLOSED:
            return self.closed_at(moment)
        if status == CallStatus.CLOSING_SOON:
            return self.open_at(moment).filter(closes_at__lte=moment + CLOSING_SOON_WINDOW)
        if status == CallStatus.OPEN:
            return self.open_at(moment)
        return self


class FundingCall(models.Model):
    """One round of applications to a fund: when it is open and how much can be asked for.

    Dates are stored in UTC and shown in the call's own time zone, so "closes at 17:00"
    means 17:00 where the foundation works, whatever the visitor's zone.
    """

    fund = models.ForeignKey(Fund, on_delete=models.PROTECT, related_name="calls", verbose_name=_("fund"))
    title = models.CharField(_("internal title"), max_length=200)
    opens_at = models.DateTimeField(_("opens at"))
    closes_at = models.DateTimeField(_("closes at"))
    time_zone = models.CharField(
        _("time zone"), max_length=64, choices=time_zone_choices, default="America/Los_Angeles"
    )
    min_amount = MoneyField(
        _("smallest amount"), max_digits=14, decimal_places=2, currency_field_name="min_amount_currency"
    )
    max_amount = MoneyField(
        _("largest amount"), max_digits=14, decimal_places=2, currency_field_name="max_amount_currency"
    )
    rapid_response = models.BooleanField(
        _("rapid response"),
        default=False,
        help_text=_("A short form decided within hours, e.g. after a raid."),
    )
    decision_target_hours = models.PositiveIntegerField(
        _("decision target (hours)"), null=True, blank=True, help_text=_("Hours from submission to decision.")
    )
    report_variance_percent = models.PositiveSmallIntegerField(
        _("budget variance needing an explanation (%)"),
        default=15,
        help_text=_("Grantees explain any budget category that is off by more than this share."),
    )
    hold_payments_for_overdue_reports = models.BooleanField(
        _("hold the next payment while a report is overdue"), default=True
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects = FundingCallQuerySet.as_manager()

    class Meta:
        verbose_name = _("funding call")
        verbose_name_plural = _("funding calls")
        ordering = ["closes_at"]
        indexes = [models.Index(fields=["opens_at", "closes_at"], name="call_open_window_idx")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(closes_at__gt=models.F("opens_at")), name="call_closes_after_opening"
            ),
            models.CheckConstraint(
                condition=models.Q(max_amount__gte=models.F("min_amount")), name="call_amount_range_ordered"
            ),
            models.CheckConstraint(
                condition=models.Q(min_amount__gte=0), name="call_min_amount_not_negative"
            ),
        ]

    def __str__(self):
        return self.title

    @property
    def tz(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def status_at(self, moment: datetime.datetime | None = None) -> str:
        moment = moment or timezone.now()
        if moment < self.opens_at:
            return CallStatus.UPCOMING
        if moment >= self.closes_at:
            return CallStatus.CLOSED
        if self.closes_at - moment <= CLOSING_SOON_WINDOW:
            return CallStatus.CLOSING_SOON
        return CallStatus.OPEN

    @property
    def status(self) -> str:
        return self.status_at()

    def get_status_display(self) -> str:
        return CallStatus(self.status).label

    def is_open(self, moment: datetime.datetime | None = None) -> bool:
        return self.status_at(moment) in (CallStatus.OPEN, CallStatus.CLOSING_SOON)

    @property
    def opens_at_local(self) -> datetime.datetime:
        return self.opens_at.astimezone(self.tz)

    @property
    def closes_at_local(self) -> datetime.datetime:
        return self.closes_at.astimezone(self.tz)

    def clean(self):
        errors = {}
        if self.opens_at and self.closes_at and self.closes_at <= self.opens_at:
            errors["closes_at"] = _("The call must close after it opens.")
        currency = self.fund.currency if self.fund_id else None
        for field in ("min_amount", "max_amount"):
            value = getattr(self, field)
            if value is not None and currency and str(value.currency) != currency:
                errors[field] = _("Amounts must be in the fund's currency (%(currency)s).") % {
                    "currency": currency
                }
        if (
            self.min_amount is not None
            and self.max_amount is not None
            and self.min_amount.currency == self.max_amount.currency
            and self.max_amount < self.min_amount
        ):
            errors["max_amount"] = _("The largest amount must not be smaller than the smallest amount.")
        if errors:
            raise ValidationError(errors)
