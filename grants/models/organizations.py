"""Applicant organizations: the groups that apply for and receive grants.

We keep only what a funding decision needs: no street addresses, no immigration status.
"""

import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy


class LegalStatus(models.TextChoices):
    NONPROFIT = "nonprofit", _("Nonprofit with its own tax id")
    FISCALLY_SPONSORED = "fiscally_sponsored", _("Fiscally sponsored project")
    UNINCORPORATED = "unincorporated", _("Unincorporated community group")


class Organization(models.Model):
    """A group that applies for grants. Its members share its applications."""

    name = models.CharField(_("name"), max_length=200)
    mission = models.TextField(_("mission"), max_length=2000, blank=True)
    region_served = models.CharField(
        _("region served"),
        max_length=200,
        help_text=_("Cities, counties or region — never a street address."),
    )
    languages = models.CharField(
        _("languages you work in"),
        max_length=200,
        blank=True,
        help_text=_("For example: Spanish, Mam, English"),
    )
    legal_status = models.CharField(_("legal status"), max_length=32, choices=LegalStatus.choices)
    tax_id = models.CharField(_("tax id (EIN)"), max_length=20, blank=True)
    sponsor_name = models.CharField(_("fiscal sponsor's name"), max_length=200, blank=True)
    sponsor_tax_id = models.CharField(_("fiscal sponsor's tax id (EIN)"), max_length=20, blank=True)
    publish_name = models.BooleanField(
        _("show our name on public funding reports"),
        default=False,
        help_text=_("Off unless you choose it: public reports count your grant without naming you."),
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization")
        verbose_name_plural = _("organizations")
        ordering = ["name"]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if self.legal_status == LegalStatus.NONPROFIT and not self.tax_id:
            errors["tax_id"] = _("A nonprofit needs its tax id (EIN).")
        if self.legal_status == LegalStatus.FISCALLY_SPONSORED:
            if not self.sponsor_name:
                errors["sponsor_name"] = _("Name the fiscal sponsor.")
            if not self.sponsor_tax_id:
                errors["sponsor_tax_id"] = _("Give the fiscal sponsor's tax id (EIN).")
        if errors:
            raise ValidationError(errors)


class OrganizationMembership(models.Model):
    class Role(models.TextChoices):
        OWNER = "owner", _("Owner")
        MEMBER = "member", _("Member")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="organization_memberships"
    )
    role = models.CharField(_("role"), max_length=16, choices=Role.choices, default=Role.MEMBER)
    joined_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("organization member")
        verbose_name_plural = _("organization members")
        constraints = [
            models.UniqueConstraint(fields=["organization", "user"], name="unique_organization_member")
        ]


def _invite_token() -> str:
    return secrets.token_urlsafe(32)


class OrganizationInvite(models.Model):
    """An emailed invitation to join an organization; the link carries ``token``."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Pending")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", pgettext_lazy("invitation", "Declined")
        REVOKED = "revoked", _("Revoked")

    organization = models.ForeignKey(Organization, on_delete=models.CASCADE, related_name="invites")
    email = models.EmailField(_("email address"))
    token = models.CharField(max_length=64, unique=True, default=_invite_token, editable=False)
    invited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.PENDING)
    created_at = models.DateTimeField(auto_now_add=True)
    responded_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        constraints = [
            models.UniqueConstraint(
                fields=["organization", "email"],
                condition=models.Q(status="pending"),
                name="one_pending_invite_per_email",
            )
        ]
