"""Foundations and the staff who work for them.

Every row that belongs to a foundation is scoped to it; ``StaffMembership`` is the one
place that says which foundation a staff member works for and in which role.
"""

import functools
import zoneinfo

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

from grants.money import currency_choices, reader_locale

from .translated import TranslatedText


class Role(models.TextChoices):
    """Staff roles. Each has a Django group of the same name for Wagtail admin permissions."""

    FOUNDATION_ADMIN = "foundation_admin", _("Foundation admin")
    PROGRAM_OFFICER = "program_officer", _("Program officer")
    REVIEWER = "reviewer", _("Reviewer")
    FINANCE_OFFICER = "finance_officer", _("Finance officer")
    AUDITOR = "auditor", _("Auditor")


ROLE_GROUP_NAMES = {
    Role.FOUNDATION_ADMIN: "Foundation admins",
    Role.PROGRAM_OFFICER: "Program officers",
    Role.REVIEWER: "Reviewers",
    Role.FINANCE_OFFICER: "Finance officers",
    Role.AUDITOR: "Auditors",
}


@functools.lru_cache(maxsize=16)
def _zones_named_in(locale: str) -> tuple[tuple[str, str], ...]:
    from babel.dates import get_timezone, get_timezone_name

    zones = sorted(
        name
        for name in zoneinfo.available_timezones()
        if "/" in name and not name.startswith(("Etc/", "SystemV/"))  # places, not legacy aliases
    )
    return tuple((name, f"{name} · {get_timezone_name(get_timezone(name), locale=locale)}") for name in zones)


def time_zone_choices() -> list[tuple[str, str]]:
    """Time zones of places, each with its name in the reader's language ("America/Los_Angeles ·
    hora del Pacífico"): the ``choices`` of the foundation's and the call's zone."""
    return list(_zones_named_in(reader_locale()))


def default_time_zone() -> str:
    """A new foundation works in the portal's zone (settings.TIME_ZONE) until told otherwise."""
    return settings.TIME_ZONE


class Foundation(TranslatedText):
    """A community foundation that runs funds on the portal."""

    translated_fields = ("receipt_text",)

    name = models.CharField(_("name"), max_length=200)
    slug = models.SlugField(_("slug"), max_length=80, unique=True)
    legal_name = models.CharField(_("legal name"), max_length=255)
    tax_id = models.CharField(
        _("tax id (EIN)"),
        max_length=20,
        blank=True,
        validators=[RegexValidator(r"^\d{2}-?\d{7}$", _("Enter an EIN such as 12-3456789."))],
    )
    default_currency = models.CharField(
        _("default currency"), max_length=3, choices=currency_choices, default="USD"
    )
    contact_email = models.EmailField(_("contact email"))
    contact_phone = models.CharField(_("contact phone"), max_length=40, blank=True)
    receipt_text = models.TextField(
        _("receipt text"),
        blank=True,
        help_text=_("Tax-deductibility statement printed on every donation receipt."),
    )
    # Retention (grants.services.retention): applicants' files and sensitive answers of declined
    # or withdrawn applications, and donors' contact details, are erased after these periods.
    purge_declined_after_days = models.PositiveIntegerField(
        _("erase declined and withdrawn applications' files after (days)"),
        default=365,
        validators=[MinValueValidator(30)],
        help_text=_(
            "Attachments and answers to sensitive questions of applications declined or withdrawn "
            "longer ago than this are erased. At least 30 days."
        ),
    )
    anonymise_donors_after_years = models.PositiveSmallIntegerField(
        _("anonymise donors after (years)"),
        default=7,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Contact details of donors whose last gift is older than this are erased; receipts "
            "and amounts are kept for the tax records. Donors with an active monthly gift are kept."
        ),
    )
    keep_access_log_years = models.PositiveSmallIntegerField(
        _("keep the access log for (years)"),
        default=3,
        validators=[MinValueValidator(1)],
        help_text=_(
            "Entries of the access log (who opened which application, file or donor) older than "
            "this are deleted. At least 1 year."
        ),
    )
    check_bonds_after_days = models.PositiveIntegerField(
        _("remind to check on bonds out longer than (days)"),
        default=180,
        validators=[MinValueValidator(7)],
        help_text=_(
            "Finance staff are reminded of every bond posted longer ago than this, and again as often."
        ),
    )
    purge_bond_references_after_days = models.PositiveIntegerField(
        _("erase a settled bond's reference after (days)"),
        default=90,
        validators=[MinValueValidator(1)],
        help_text=_(
            "The government's bond number is erased this long after the bond is returned or written off."
        ),
    )
    time_zone = models.CharField(
        _("time zone"),
        max_length=64,
        choices=time_zone_choices,
        default=default_time_zone,
        help_text=_("Where the foundation works: dates and times in its exports are in this zone."),
    )
    # The foundation's own collection of images and documents (``grants.services.staff``).
    collection = models.OneToOneField(
        "wagtailcore.Collection",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        editable=False,
        related_name="foundation",
        verbose_name=_("collection"),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("foundation")
        verbose_name_plural = _("foundations")
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(purge_declined_after_days__gte=30), name="retention_days_at_least_30"
            ),
            models.CheckConstraint(
                condition=models.Q(anonymise_donors_after_years__gte=1),
                name="donor_retention_at_least_1_year",
            ),
            models.CheckConstraint(
                condition=models.Q(keep_access_log_years__gte=1), name="access_log_retention_at_least_1_year"
            ),
        ]

    def __str__(self):
        return self.name


class StaffMembership(models.Model):
    """Links a staff user to one foundation in one role. A person may hold several roles."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        verbose_name=_("user"),
    )
    foundation = models.ForeignKey(
        Foundation,
        on_delete=models.CASCADE,
        related_name="staff_memberships",
        verbose_name=_("foundation"),
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("staff membership")
        verbose_name_plural = _("staff memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "foundation", "role"], name="unique_staff_role_per_foundation"
            )
        ]

    def __str__(self):
        return f"{self.user} – {self.get_role_display()} – {self.foundation}"


class FoundationRoleGroup(models.Model):
    """The Django group holding one role's Wagtail permissions at one foundation.

    Its members are the people with a ``StaffMembership`` of that role there; it holds page
    permissions on the foundation's section pages and collection permissions on its collection
    (``grants.services.staff.sync_foundation_access``). The row keeps the link when the
    foundation's slug, and so the group's name, changes.
    """

    foundation = models.ForeignKey(
        Foundation, on_delete=models.CASCADE, related_name="role_groups", verbose_name=_("foundation")
    )
    role = models.CharField(_("role"), max_length=32, choices=Role.choices)
    group = models.OneToOneField(
        "auth.Group", on_delete=models.CASCADE, related_name="foundation_role", verbose_name=_("group")
    )

    class Meta:
        verbose_name = _("foundation role group")
        verbose_name_plural = _("foundation role groups")
        constraints = [
            models.UniqueConstraint(fields=["foundation", "role"], name="one_group_per_foundation_role")
        ]

    def __str__(self):
        return self.group.name
