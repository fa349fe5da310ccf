"""A hotline volunteer's own payouts: their own connected Stripe account, set up through their group.

Volunteers have no portal account; their coordinating organization starts Stripe's hosted
onboarding for them and passes the link on. Stripe collects what it needs from the volunteer
(legal name, bank account) and keeps it; the portal knows the volunteer only by pseudonym.
"""

from django.db import transaction
from django.utils.translation import gettext as _

from grants.models import PayeeAccount, PayoutStatus, Volunteer
from grants.payments.gateway import get_gateway
from grants.services.errors import DomainError
from grants.services.stipends import is_coordinator
from grants.services.workflow import record


def start_volunteer_onboarding(volunteer: Volunteer, *, by, return_url: str) -> str:
    """Create ``volunteer``'s own connected account at the program's foundation (once) and return a
    fresh onboarding link. Only coordinators of the volunteer's organization; not for inactive
    volunteers. From then on the volunteer's stipends go to that account once it is ready."""
    program, organization = volunteer.program, volunteer.organization
    if not is_coordinator(by, program, organization):
        raise DomainError(_("You are not allowed to do this."))
    if not volunteer.active:
        raise DomainError(_("Reactivate the volunteer first."))
    foundation = program.fund.foundation
    gateway = get_gateway(foundation)
    with transaction.atomic():
        locked = Volunteer.objects.select_for_update().get(pk=volunteer.pk)
        payee = locked.payee
        if payee is None:
            # Not the coordinator's email: Stripe writes to the account's email about the
            # volunteer's own money and identity checks. The volunteer gives their own contact
            # to Stripe during onboarding; the portal never learns it.
            account = gateway.create_connected_account(
                email="",
                metadata={
                    "organization": organization.pk,
                    "volunteer": locked.pk,
                    "foundation": foundation.pk,
                },
                idempotency_key=f"payee:{foundation.pk}:{organization.pk}:volunteer:{locked.pk}",
            )
            payee = PayeeAccount.objects.create(
                foundation=foundation,
                organization=organization,
                volunteer_pseudonym=locked.pseudonym,
                stripe_account_id=account.id,
                payout_status=PayoutStatus.PENDING,
                requirements_due=list(account.requirements_due),
                created_by=by,
            )
            locked.payee = payee
            locked.save(update_fields=["payee"])
            record(subject=payee, subject_type="payee_account", action="create", actor=by,
                   foundation=foundation, to_state=payee.payout_status, note=locked.pseudonym)  # fmt: skip
    return gateway.create_onboarding_link(account_id=payee.stripe_account_id, refresh_url=return_url,
                                          return_url=return_url)  # fmt: skip
