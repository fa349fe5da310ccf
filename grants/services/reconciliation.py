"""Comparing our disbursements with the transfers Stripe made, for one foundation and period.

Read-only: it lists differences for finance to investigate and changes nothing.
"""

import datetime
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _

from grants.models import Disbursement, DisbursementStatus, Foundation
from grants.payments.gateway import get_gateway

UNKNOWN_AT_STRIPE = "unknown_transfer"
MISSING_AT_STRIPE = "missing_at_stripe"
AMOUNT_MISMATCH = "amount_mismatch"
DESTINATION_MISMATCH = "destination_mismatch"
REVERSED_AT_STRIPE_ONLY = "reversed_at_stripe_only"
REVERSED_HERE_ONLY = "reversed_here_only"
SECOND_TRANSFER = "second_transfer"
NOT_RECORDED_PAID = "not_recorded_paid"
OUTCOME_UNKNOWN = "outcome_unknown"

SENT_STATES = (DisbursementStatus.SUBMITTED, DisbursementStatus.PAID, DisbursementStatus.REVERSED)


@dataclass(frozen=True)
class Difference:
    """One thing Stripe and the portal disagree on; ``detail`` says what, for a person."""

    kind: str
    transfer_id: str
    disbursement_id: int | None
    detail: str

    def __str__(self):
        ours = f"disbursement #{self.disbursement_id}" if self.disbursement_id else "-"
        return f"{self.kind}\t{self.transfer_id or '-'}\t{ours}\t{self.detail}"


def period_bounds(
    date_from: datetime.date, date_to: datetime.date
) -> tuple[datetime.datetime, datetime.datetime]:
    """``[start of date_from, start of the day after date_to)`` in the portal's time zone."""
    tz = timezone.get_current_timezone()
    start = datetime.datetime.combine(date_from, datetime.time.min, tzinfo=tz)
    end = datetime.datetime.combine(date_to + datetime.timedelta(days=1), datetime.time.min, tzinfo=tz)
    return start, end


def reconcile(
    foundation: Foundation, *, date_from: datetime.date, date_to: datetime.date
) -> list[Difference]:
    """Every difference between the foundation's transfers at Stripe created in the period (dates
    inclusive) and our disbursements sent to Stripe in it. An empty list means they agree.
    """
    start, end = period_bounds(date_from, date_to)
    differences = []
    seen = set()
    transfers = list(get_gateway(foundation).list_transfers(created_from=start, created_to=end))
    at_stripe = {transfer.id for transfer in transfers}
    for transfer in transfers:
        seen.add(transfer.id)
        ours = (
            Disbursement.objects.select_related("payee")
            .filter(foundation=foundation, stripe_transfer_id=transfer.id)
            .first()
        )
        named = transfer.metadata.get("disbursement", "")
        claimed = (
            Disbursement.objects.select_related("payee").filter(foundation=foundation, pk=int(named)).first()
            if ours is None and named.isdigit()
            else None
        )
        if claimed is not None and claimed.stripe_transfer_id in at_stripe:
            # Stripe made another transfer for a payment that already has one: paid twice.
            differences.append(
                Difference(
                    SECOND_TRANSFER,
                    transfer.id,
                    claimed.pk,
                    _(
                        "Stripe sent %(amount)s to %(destination)s for a payment that was already paid "
                        "by %(first)s: the payment went out twice. Reverse one of them at Stripe."
                    )
                    % {"amount": transfer.amount, "destination": transfer.destination,
                       "first": claimed.stripe_transfer_id},
                )
            )  # fmt: skip
            continue
        if claimed is not None and not claimed.stripe_transfer_id:
            differences.append(
                Difference(
                    NOT_RECORDED_PAID,
                    transfer.id,
                    claimed.pk,
                    _(
                        "Stripe sent %(amount)s for this payment; the portal has it as “%(status)s”. "
                        "Use “Check with Stripe” on the payment (or wait for the daily check)."
                    )
                    % {"amount": transfer.amount, "status": claimed.get_status_display()},
                )
            )
            continue
        if ours is None:
            differences.append(
                Difference(
                    UNKNOWN_AT_STRIPE,
                    transfer.id,
                    None,
                    _("Stripe sent %(amount)s to %(destination)s; the portal has no such payment.")
                    % {"amount": transfer.amount, "destination": transfer.destination},
                )
            )
            continue
        if transfer.amount != ours.amount:
            differences.append(
                Difference(
                    AMOUNT_MISMATCH,
                    transfer.id,
                    ours.pk,
                    _("Stripe sent %(theirs)s; the portal released %(ours)s.")
                    % {"theirs": transfer.amount, "ours": ours.amount},
                )
            )
        if transfer.destination != ours.payee.stripe_account_id:
            differences.append(
                Difference(
                    DESTINATION_MISMATCH,
                    transfer.id,
                    ours.pk,
                    _("Stripe paid %(theirs)s; the portal's payee is %(ours)s.")
                    % {"theirs": transfer.destination, "ours": ours.payee.stripe_account_id},
                )
            )
        reversed_at_stripe = transfer.amount_reversed.amount > 0
        reversed_here = ours.status == DisbursementStatus.REVERSED
        if reversed_at_stripe and not reversed_here:
            differences.append(
                Difference(
                    REVERSED_AT_STRIPE_ONLY,
                    transfer.id,
                    ours.pk,
                    _("Stripe reversed %(amount)s; the portal has the payment as “%(status)s”.")
                    % {"amount": transfer.amount_reversed, "status": ours.get_status_display()},
                )
            )
        elif reversed_here and not reversed_at_stripe:
            differences.append(
                Difference(
                    REVERSED_HERE_ONLY,
                    transfer.id,
                    ours.pk,
                    _("The portal has the payment as reversed; Stripe shows no reversal."),
                )
            )
    missing = (
        Disbursement.objects.filter(
            foundation=foundation,
            status__in=SENT_STATES,
            stripe_transfer_id__isnull=False,
            submitted_at__gte=start,
            submitted_at__lt=end,
        )
        .exclude(stripe_transfer_id__in=seen)
        .order_by("submitted_at", "pk")
    )
    unsettled = Disbursement.objects.filter(
        foundation=foundation,
        status__in=(DisbursementStatus.UNKNOWN, DisbursementStatus.PENDING),
        released_at__gte=start,
        released_at__lt=end,
    ).order_by("released_at", "pk")
    for ours in unsettled:
        differences.append(
            Difference(
                OUTCOME_UNKNOWN,
                ours.stripe_transfer_id or "",
                ours.pk,
                _(
                    "The portal asked Stripe for %(amount)s on %(date)s and does not know yet whether it "
                    "was paid. Nothing is sent again until Stripe says; use “Check with Stripe”."
                )
                % {"amount": ours.amount, "date": timezone.localdate(ours.released_at)},
            )
        )
    for ours in missing:
        differences.append(
            Difference(
                MISSING_AT_STRIPE,
                ours.stripe_transfer_id,
                ours.pk,
                _("The portal sent %(amount)s on %(date)s; Stripe lists no such transfer in the period.")
                % {"amount": ours.amount, "date": timezone.localdate(ours.submitted_at)},
            )
        )
    return differences
