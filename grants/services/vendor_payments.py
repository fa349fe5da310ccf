"""Paying the need directly: vendors paid on a grantee's behalf (see ``grants.models.vendors``).

A vendor payment is asked for by a member of the grantee organization (one unpaid installment
of its award goes, whole, to a vendor of the foundation) or by a program officer (an installment,
or direct assistance from a fund on an organization's behalf). An officer approves or declines
it; approving takes the installment (it can no longer be released to the grantee) or, for direct
assistance, commits the money (``vendor-payment:<id>:commit``, refused when the fund lacks it).
Finance staff who neither asked for it, approved it nor made the award release it: through the
payout engine (``grants.services.disbursements``) to the vendor's connected account, or by
recording the check the foundation mailed. The ledger posts the payment (cause VENDOR_PAYMENT,
``vendor-payment:<id>:pay``) when Stripe confirms the transfer or the check is recorded; a
transfer Stripe takes back posts a VENDOR_PAYMENT_REVERSAL and the payment is "failed" again.

Locks follow the portal's one order: award, installment, vendor payment, disbursement, fund.
"""

import datetime

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from djmoney.money import Money

from grants.models import (
    AccountKind,
    Award,
    Disbursement,
    DisbursementStatus,
    EntryCause,
    Foundation,
    Fund,
    Installment,
    InstallmentStatus,
    JournalEntry,
    JournalLine,
    Organization,
    PayeeAccount,
    PayoutStatus,
    ReferenceMethod,
    Vendor,
    VendorKind,
    VendorPayment,
    VendorPaymentMethod,
    VendorPaymentStatus,
)
from grants.models.bonds import validate_no_a_number
from grants.money import zero
from grants.payments.gateway import get_gateway
from grants.permissions import Capability, can, is_organization_member
from grants.services import disbursements, installments, ledger, payments
from grants.services.awards import activate_on_first_payment
from grants.services.errors import DomainError
from grants.services.locks import retry_on_deadlock
from grants.services.notifications import send_templated_email
from grants.services.workflow import SYSTEM, Transition, check_transition, record

OFFICER = "program_officer"
FINANCE = installments.FINANCE
GRANTEE = "grantee"

V = VendorPaymentStatus
VENDOR_PAYMENT_TRANSITIONS = {
    t.name: t
    for t in (
        Transition("approve", (V.REQUESTED,), V.APPROVED, (OFFICER,)),
        Transition("decline", (V.REQUESTED,), V.DECLINED, (OFFICER,)),
        # Released through Stripe (again after a refusal Stripe answered).
        Transition("send", (V.APPROVED, V.FAILED), V.SENT, (FINANCE,)),
        # Stripe's word that it made the transfer wins over a failure we were told of.
        Transition("pay", (V.SENT, V.FAILED), V.PAID, (SYSTEM,)),
        Transition("fail", (V.SENT,), V.FAILED, (SYSTEM,)),
        Transition("pay_by_check", (V.APPROVED, V.FAILED), V.PAID, (FINANCE,)),
        # Stripe took the transfer back: finance pays by check, or (nothing kept) cancels.
        Transition("reverse", (V.SENT, V.PAID, V.FAILED), V.FAILED, (SYSTEM,)),
        Transition("cancel", (V.REQUESTED, V.APPROVED, V.FAILED), V.CANCELLED, (OFFICER, FINANCE, GRANTEE)),
    )
}
# The states in which a vendor payment holds its installment: it cannot go to the grantee too.
HOLDS_INSTALLMENT = (V.APPROVED, V.SENT, V.PAID)
UNPAID_INSTALLMENT = (InstallmentStatus.SCHEDULED, InstallmentStatus.DUE, InstallmentStatus.FAILED)
D = DisbursementStatus


class VendorPaymentRefused(DomainError):
    """A vendor or vendor-payment action was refused by a rule; ``message`` says why."""

    def __init__(self, message, field: str | None = None):
        super().__init__(message)
        self.field = field


# --- Vendors ----------------------------------------------------------------------------------


def _require(by, capability: Capability, foundation, message: str) -> None:
    if not can(by, capability, foundation):
        raise VendorPaymentRefused(message)


def _no_a_number(value: str, field: str) -> None:
    try:
        validate_no_a_number(value)
    except ValidationError as error:
        raise VendorPaymentRefused(" ".join(error.messages), field=field) from None


def add_vendor(
    foundation: Foundation, *, by, name: str, kind: str, payment_method: str, email: str = ""
) -> Vendor:
    """Add a payee of the foundation (finance staff and admins). The name is what checks are
    payable to: required, no A-number, once per foundation (compared without case)."""
    _require(
        by, Capability.MANAGE_VENDORS, foundation, _("Only finance staff of this foundation can add vendors.")
    )
    name = " ".join((name or "").split())
    if not name:
        raise VendorPaymentRefused(_("Give the name the payment is made out to."), field="name")
    if len(name) > 200:
        raise VendorPaymentRefused(_("The name can be at most 200 characters."), field="name")
    _no_a_number(name, "name")
    if kind not in VendorKind.values:
        raise VendorPaymentRefused(_("Choose what kind of vendor this is."), field="kind")
    if payment_method not in VendorPaymentMethod.values:
        raise VendorPaymentRefused(_("Choose how the vendor is paid."), field="payment_method")
    email = (email or "").strip()
    if payment_method == VendorPaymentMethod.STRIPE and not email:
        raise VendorPaymentRefused(_("Give the email address Stripe's setup link is sent to."), field="email")
    with transaction.atomic():
        Foundation.objects.select_for_update().filter(pk=foundation.pk).exists()
        if Vendor.objects.filter(foundation=foundation, name__iexact=name).exists():
            raise VendorPaymentRefused(_("This foundation already has a vendor named “%(name)s”.") % {"name": name},
                                       field="name")  # fmt: skip
        vendor = Vendor.objects.create(
            foundation=foundation,
            name=name,
            kind=kind,
            payment_method=payment_method,
            email=email,
            created_by=by,
        )
        record(subject=vendor, subject_type="vendor", action="create", actor=by, foundation=foundation)
    return vendor


def vendor_payee(vendor: Vendor) -> PayeeAccount | None:
    return PayeeAccount.objects.filter(vendor=vendor).first()


def send_onboarding_link(vendor: Vendor, *, by, return_url: str = "", language: str = "") -> str:
    """Create the vendor's connected account (once) and email it the link to Stripe's hosted
    onboarding, in ``language`` (the sender's own language by default). Returns the link."""
    foundation = vendor.foundation
    _require(by, Capability.MANAGE_VENDORS, foundation,
             _("Only finance staff of this foundation can set up vendors' payouts."))  # fmt: skip
    if vendor.payment_method != VendorPaymentMethod.STRIPE:
        raise VendorPaymentRefused(_("This vendor is paid by check; it needs no Stripe account."))
    if not vendor.active:
        raise VendorPaymentRefused(_("This vendor is no longer active."))
    if not vendor.email:
        raise VendorPaymentRefused(_("Give the vendor's email address first."))
    gateway = get_gateway(foundation)
    with transaction.atomic():
        Vendor.objects.select_for_update().get(pk=vendor.pk)  # two clicks at once make one account
        payee = vendor_payee(vendor)
        if payee is None:
            account = gateway.create_connected_account(
                email=vendor.email,
                metadata={"vendor": vendor.pk, "foundation": foundation.pk},
                idempotency_key=f"vendor-payee:{foundation.pk}:{vendor.pk}",
            )
            payee = PayeeAccount.objects.create(
                foundation=foundation, organization=None, vendor=vendor, stripe_account_id=account.id,
                payout_status=PayoutStatus.PENDING, requirements_due=list(account.requirements_due),
                created_by=by,
            )  # fmt: skip
            record(subject=payee, subject_type="payee_account", action="create", actor=by,
                   foundation=foundation, to_state=payee.payout_status)  # fmt: skip
        return_url = return_url or settings.WAGTAILADMIN_BASE_URL.rstrip("/") + "/"
        link = gateway.create_onboarding_link(
            account_id=payee.stripe_account_id, refresh_url=return_url, return_url=return_url
        )
        language = language if language in dict(settings.LANGUAGES) else ""
        send_templated_email(
            "vendor_onboarding_link",
            to=[vendor.email],
            language=language or getattr(by, "preferred_language", "") or settings.LANGUAGE_CODE,
            context={"foundation": foundation, "vendor": vendor, "link": link},
        )
        record(subject=vendor, subject_type="vendor", action="send_onboarding_link", actor=by,
               foundation=foundation)  # fmt: skip
    return link


# --- Asking -----------------------------------------------------------------------------------


def _clean_purpose(purpose: str) -> str:
    purpose = " ".join((purpose or "").split())
    if not purpose:
        raise VendorPaymentRefused(_("Say what the payment is for."), field="purpose")
    if len(purpose) > 300:
        raise VendorPaymentRefused(_("Say what it is for in at most 300 characters."), field="purpose")
    _no_a_number(purpose, "purpose")
    return purpose


def _check_invoice(invoice) -> None:
    from grants.services.reports import check_upload

    check_upload(invoice, error=lambda message: VendorPaymentRefused(message, field="invoice"))


def installment_problem(installment: Installment) -> str | None:
    """Why ``installment`` cannot go to a vendor now (``None``: it can)."""
    if installment.award.status not in installments.PAYABLE_AWARD_STATES:
        return _("Payments start once the grantee has accepted the award.")
    if installment.status == InstallmentStatus.ON_HOLD:
        return _("This payment is on hold (%(reason)s).") % {"reason": installment.hold_reason}
    if installment.status not in UNPAID_INSTALLMENT:
        return _("Only an unpaid payment can go to a vendor; this one is “%(state)s”.") % {
            "state": InstallmentStatus(installment.status).label
        }
    disbursement = Disbursement.objects.filter(installment_id=installment.pk).first()
    if disbursement is not None and disbursement.status != D.FAILED:
        return _("This payment was already released to the grantee.")
    return None


def _may_request_for(by, organization: Organization, foundation: Foundation) -> str:
    if can(by, Capability.REQUEST_VENDOR_PAYMENTS, foundation):
        return OFFICER
    if is_organization_member(by, organization.pk):
        return GRANTEE
    raise VendorPaymentRefused(_("You are not allowed to ask for payments to vendors here."))


@retry_on_deadlock
def request_vendor_payment(
    *,
    by,
    vendor: Vendor,
    purpose: str,
    invoice=None,
    installment: Installment | None = None,
    fund: Fund | None = None,
    organization: Organization | None = None,
    amount: Money | None = None,
    award: Award | None = None,
) -> VendorPayment:
    """Ask that an installment (``installment=``) or a direct-assistance payment (``fund=``,
    ``organization=``, ``amount=``, optional ``award=``) be paid to ``vendor``.

    An installment: by a member of the award's organization or an officer of the foundation; the
    whole installment goes to the vendor. Direct assistance: officers only. ``purpose`` must not
    carry an A-number; ``invoice`` is checked like a receipt and kept private.
    """
    purpose = _clean_purpose(purpose)
    if invoice is not None:
        _check_invoice(invoice)
    with transaction.atomic():
        if installment is not None:
            locked = installments._lock(installment)
            award = locked.award
            organization = award.application.organization
            foundation = award.fund.foundation
            fund = award.fund
            _may_request_for(by, organization, foundation)
            problem = installment_problem(locked)
            if problem:
                raise VendorPaymentRefused(problem)
            if VendorPayment.objects.filter(installment=locked).exists():
                raise VendorPaymentRefused(_("A payment to a vendor was already asked for this installment."))
            amount = locked.amount
        else:
            if fund is None or organization is None or amount is None:
                raise VendorPaymentRefused(_("Choose the fund, the organization and the amount."))
            foundation = fund.foundation
            if not can(by, Capability.REQUEST_VENDOR_PAYMENTS, foundation):
                raise VendorPaymentRefused(_("Only program officers can ask for direct assistance."))
            if not isinstance(amount, Money) or str(amount.currency) != fund.currency or amount.amount <= 0:
                raise VendorPaymentRefused(
                    _("Give an amount above zero in %(currency)s.") % {"currency": fund.currency},
                    field="amount",
                )
            if award is not None and (
                award.fund.foundation_id != foundation.pk
                or award.application.organization_id != organization.pk
            ):
                raise VendorPaymentRefused(_("That award is not this organization's at this foundation."))
            locked = None
        if vendor.foundation_id != foundation.pk or not vendor.active:
            raise VendorPaymentRefused(_("Choose one of the foundation's active vendors."), field="vendor")
        payment = VendorPayment(
            foundation=foundation, fund=fund, organization=organization, award=award, installment=locked,
            vendor=vendor, amount=amount, purpose=purpose, requested_by=by,
        )  # fmt: skip
        if invoice is not None:
            payment.invoice_name = invoice.name[:255]
            payment.invoice.save(invoice.name, invoice, save=False)
        payment.save()
        record(subject=payment, subject_type="vendor_payment", action="request", actor=by, foundation=foundation,
               to_state=payment.status, note=f"{vendor.name} · {amount}", visible_to_applicant=True)  # fmt: skip
    return payment


# --- Locks and moves --------------------------------------------------------------------------


def lock(payment: VendorPayment | int) -> VendorPayment:
    """Lock a vendor payment in the portal's lock order (its award, its installment, itself)."""
    pk = payment if isinstance(payment, int) else payment.pk
    row = VendorPayment.objects.filter(pk=pk).values("award_id", "installment_id").first()
    if row is None:
        raise VendorPayment.DoesNotExist(pk)
    if row["award_id"]:
        list(Award.objects.select_for_update().filter(pk=row["award_id"]).values_list("pk"))
    if row["installment_id"]:
        list(Installment.objects.select_for_update().filter(pk=row["installment_id"]).values_list("pk"))
    return (
        VendorPayment.objects.select_for_update(of=("self",))
        .select_related("foundation", "fund", "vendor", "organization", "award__application", "installment")
        .get(pk=pk)
    )


def move(payment: VendorPayment, name: str, *, by, actor: str, note: str = "", fields=()) -> None:
    """Apply transition ``name`` to a locked vendor payment and record it (the grantee sees it)."""
    previous = payment.status
    target = check_transition(
        VENDOR_PAYMENT_TRANSITIONS, name, previous, actor, states=VendorPaymentStatus
    ).target
    payment.status = target
    payment.save(update_fields=["status", *fields])
    record(subject=payment, subject_type="vendor_payment", action=name, actor=by, foundation=payment.foundation,
           from_state=previous, to_state=target, note=note[:500], visible_to_applicant=True)  # fmt: skip


def _officer(by, payment: VendorPayment) -> str:
    if not can(by, Capability.REQUEST_VENDOR_PAYMENTS, payment.foundation_id):
        raise VendorPaymentRefused(
            _("Only program officers of this foundation can decide payments to vendors.")
        )
    return OFFICER


def release_actor(by, payment: VendorPayment) -> str:
    """Finance staff of the foundation who neither asked for, approved, nor made the award of the
    payment (four eyes, as for grants); anyone else is refused with the reason."""
    if not can(by, Capability.RELEASE_PAYMENTS, payment.foundation_id):
        raise VendorPaymentRefused(_("Only finance staff of this foundation can release payments."))
    if by.pk in (payment.requested_by_id, payment.approved_by_id):
        raise VendorPaymentRefused(
            _("You asked for or approved this payment, so another finance officer must release it.")
        )
    award = payment.award
    if award is not None and by.pk in (award.offered_by_id, award.application.decided_by_id):
        raise VendorPaymentRefused(
            _("You approved this grant, so another finance officer must release its payments.")
        )
    return FINANCE


def commitment_entry(payment: VendorPayment) -> JournalEntry | None:
    return JournalEntry.objects.filter(idempotency_key=f"vendor-payment:{payment.pk}:commit").first()


# --- Deciding ---------------------------------------------------------------------------------


@retry_on_deadlock
def approve(payment: VendorPayment, *, by) -> VendorPayment:
    """Approve a requested payment (officers). An installment's payment takes the installment (it
    must still be unpaid); direct assistance commits the money from the fund, which must have it."""
    with transaction.atomic():
        locked = lock(payment)
        actor = _officer(by, locked)
        check_transition(
            VENDOR_PAYMENT_TRANSITIONS, "approve", locked.status, actor, states=VendorPaymentStatus
        )
        if locked.installment_id:
            problem = installment_problem(locked.installment)
            if problem:
                raise VendorPaymentRefused(problem)
        else:
            fund = ledger.lock_fund(locked.fund)
            ledger.require_available(fund, locked.amount)
            ledger.post_entry(
                foundation=locked.foundation,
                cause=EntryCause.DIRECT_ASSISTANCE,
                memo=_("Direct assistance %(reference)s to %(vendor)s")
                % {"reference": locked.reference_code, "vendor": locked.vendor.name},
                lines=[
                    ledger.debit(fund, AccountKind.GRANTS_AWARDED, locked.amount),
                    ledger.credit(fund, AccountKind.GRANTS_PAYABLE, locked.amount),
                ],
                by=by,
                award=locked.award,
                reference=locked.reference_code,
                vendor_payment=locked,
                idempotency_key=f"vendor-payment:{locked.pk}:commit",
            )
        locked.approved_by = by
        locked.approved_at = timezone.now()
        move(locked, "approve", by=by, actor=actor, fields=("approved_by", "approved_at"))
    return locked


def _free_installment(payment: VendorPayment) -> list[str]:
    """A declined or cancelled request lets go of its installment (one vendor payment per
    installment at a time): the installment can be paid to the grantee or asked for again."""
    if not payment.installment_id:
        return []
    payment.installment = None
    return ["installment"]


def decline(payment: VendorPayment, *, by, reason: str) -> VendorPayment:
    reason = " ".join((reason or "").split())
    if not reason:
        raise VendorPaymentRefused(
            _("Say why the payment is declined; the grantee reads it."), field="reason"
        )
    with transaction.atomic():
        locked = lock(payment)
        actor = _officer(by, locked)
        check_transition(
            VENDOR_PAYMENT_TRANSITIONS, "decline", locked.status, actor, states=VendorPaymentStatus
        )
        note = reason[:500]
        if locked.installment_id:
            note = f"{_('Payment %(number)s') % {'number': locked.installment.number}}: {note}"[:500]
        locked.decline_reason = reason[:500]
        fields = ["decline_reason", *_free_installment(locked)]
        move(locked, "decline", by=by, actor=actor, note=note, fields=fields)
    return locked


def _paid_entries(payment: VendorPayment):
    return JournalEntry.objects.filter(vendor_payment=payment, cause=EntryCause.VENDOR_PAYMENT)


@retry_on_deadlock
def cancel(payment: VendorPayment, *, by, reason: str = "") -> VendorPayment:
    """Cancel a payment not yet made: the requester (a grantee) while it waits for a decision,
    officers and finance staff until it is released. Direct assistance's commitment is released by
    a reversing entry. Refused once Stripe holds or made a transfer for it."""
    with transaction.atomic():
        locked = lock(payment)
        if can(by, Capability.REQUEST_VENDOR_PAYMENTS, locked.foundation_id):
            actor = OFFICER
        elif can(by, Capability.RELEASE_PAYMENTS, locked.foundation_id):
            actor = FINANCE
        elif locked.status == V.REQUESTED and is_organization_member(by, locked.organization_id):
            actor = GRANTEE
        else:
            raise VendorPaymentRefused(_("You are not allowed to cancel this payment."))
        check_transition(
            VENDOR_PAYMENT_TRANSITIONS, "cancel", locked.status, actor, states=VendorPaymentStatus
        )
        disbursement = Disbursement.objects.filter(vendor_payment=locked).first()
        if (disbursement is not None and disbursement.status != D.FAILED) or _paid_entries(locked).exists():
            raise VendorPaymentRefused(_("Money was sent for this payment; it can no longer be cancelled."))
        commitment = commitment_entry(locked)
        if commitment is not None:
            ledger.lock_fund(locked.fund)
            ledger.reverse_entry(
                commitment,
                by=by,
                memo=_("Direct assistance %(reference)s cancelled") % {"reference": locked.reference_code},
                vendor_payment=locked,
            )
        move(locked, "cancel", by=by, actor=actor, note=reason[:500], fields=_free_installment(locked))
    return locked


# --- Releasing --------------------------------------------------------------------------------


def release_problem(payment: VendorPayment) -> str | None:
    """Why an approved (or failed) payment cannot be released now, whatever the person."""
    if payment.status not in (V.APPROVED, V.FAILED):
        return _("This cannot be done while it is “%(state)s”.") % {"state": V(payment.status).label}
    if payment.installment_id:
        installment = payment.installment
        if installment.award.status not in installments.PAYABLE_AWARD_STATES:
            return _("Payments start once the grantee has accepted the award.")
        reversed_hold = installments._on_hold_after_reversal(installment)
        if installment.status == InstallmentStatus.ON_HOLD and not reversed_hold:
            return _("This payment is on hold (%(reason)s): lift the hold first.") % {
                "reason": installment.hold_reason
            }
        if installment.status == InstallmentStatus.SCHEDULED and installment.due_date > timezone.localdate():
            return _("This payment is not due until %(date)s.") % {"date": installment.due_date}
        if installment.status not in (*UNPAID_INSTALLMENT, InstallmentStatus.ON_HOLD):
            return _("This payment cannot be released while it is “%(state)s”.") % {
                "state": InstallmentStatus(installment.status).label
            }
    return None


def _stripe_problem(payment: VendorPayment, payee: PayeeAccount | None) -> str | None:
    if payment.vendor.payment_method != VendorPaymentMethod.STRIPE:
        return _("%(vendor)s is paid by check: record the check instead.") % {"vendor": payment.vendor.name}
    if payee is None:
        return _("%(vendor)s has not set up payouts with Stripe yet.") % {"vendor": payment.vendor.name}
    if payee.payout_status != PayoutStatus.READY:
        return _("%(vendor)s cannot receive payments yet: Stripe says “%(status)s”.") % {
            "vendor": payment.vendor.name,
            "status": PayoutStatus(payee.payout_status).label,
        }
    return None


@retry_on_deadlock
def _prepare(payment: VendorPayment, *, by) -> tuple[Disbursement, bool]:
    with transaction.atomic():
        locked = lock(payment)
        actor = release_actor(by, locked)
        existing = Disbursement.objects.select_for_update(of=("self",)).filter(vendor_payment=locked).first()
        if locked.status in (V.SENT, V.PAID) and existing is not None:
            # Double click or a second officer: the first release stands; one Stripe has not
            # settled is looked up and asked again with the same key.
            return existing, existing.status in (D.PENDING, D.UNKNOWN)
        problem = release_problem(locked)
        if problem is None and _paid_entries(locked).exists():
            problem = _("Stripe took this payment back; pay it by check.")
        payee = vendor_payee(locked.vendor)
        problem = problem or _stripe_problem(locked, payee)
        if problem:
            raise VendorPaymentRefused(problem)
        if existing is None:
            disbursement = disbursements.create(
                foundation=locked.foundation, payee=payee, amount=locked.amount, by=by,
                transfer_group=f"vendor-payment:{locked.pk}", vendor_payment=locked,
            )  # fmt: skip
        else:
            disbursement = existing
            if disbursement.payee_id != payee.pk:
                disbursement.payee = payee
                disbursement.save(update_fields=["payee"])
            disbursements.restart(disbursement, by=by, actor=disbursements.FINANCE)
        locked.released_by = by
        locked.released_at = timezone.now()
        locked.failure_message = ""
        move(locked, "send", by=by, actor=actor, fields=("released_by", "released_at", "failure_message"))
    return disbursement, True


def _confirm(disbursement: Disbursement, transfer) -> bool:
    return record_vendor_transfer_paid(disbursement, transfer_id=transfer.id)


def release(payment: VendorPayment, *, by) -> Disbursement:
    """Pay an approved vendor payment through Stripe to the vendor's ready connected account.

    Four eyes (``release_actor``). Releasing again returns the same disbursement without a second
    transfer; an unsettled one is looked up at Stripe and asked again with the same key. A refusal
    Stripe answered fails the payment (finance may release it again, with the next key, or pay by
    check); an answer that does not say leaves the outcome unknown. Both raise the
    ``PaymentError``. Must not run inside a transaction: the row is committed before Stripe is asked.
    """
    disbursement, ask_stripe = _prepare(payment, by=by)
    if not ask_stripe:
        return disbursement
    if disbursement.status == D.UNKNOWN or disbursement.last_attempt_at is not None:
        attempt = disbursements.settle(disbursement, confirm=_confirm)
    else:
        attempt = disbursements.submit(disbursement)
    if attempt.error is not None:
        raise attempt.error
    return attempt.disbursement


def _post_paid(payment: VendorPayment, *, by, cash_account: str, reference: str, paid_on=None, amount=None,
               key_suffix: str = "") -> JournalEntry:  # fmt: skip
    fund = payment.fund
    amount = amount if amount is not None else payment.amount
    return ledger.post_entry(
        foundation=payment.foundation,
        cause=EntryCause.VENDOR_PAYMENT,
        memo=_("Payment %(reference)s to %(vendor)s") % {"reference": payment.reference_code,
                                                         "vendor": payment.vendor.name},
        lines=[
            ledger.debit(fund, AccountKind.GRANTS_PAYABLE, amount),
            ledger.credit(fund, cash_account, amount),
        ],
        by=by,
        award=payment.award,
        reference=reference,
        effective_date=paid_on,
        vendor_payment=payment,
        idempotency_key=f"vendor-payment:{payment.pk}:pay{key_suffix}",
        **({"disbursement": payment.disbursement} if cash_account == AccountKind.PROCESSOR_CASH else {}),
    )  # fmt: skip


def _installment_paid(payment: VendorPayment, *, by, actor: str, reference: str) -> None:
    """The installment the vendor was paid from is paid (the award's figures count it)."""
    if not payment.installment_id:
        if payment.award_id:
            activate_on_first_payment(Award.objects.select_for_update().get(pk=payment.award_id), by=by)
        return
    installment = installments._lock(payment.installment)
    if installment.status == InstallmentStatus.PAID:
        return
    installment.paid_at = timezone.now()
    installment.payment_reference = reference[:120]
    name = "pay_outside_after_reversal" if installments._on_hold_after_reversal(installment) else "pay_vendor"
    installments.transition(installment, name, by=by, actor=actor, note=reference[:120],
                            fields=("paid_at", "payment_reference"))  # fmt: skip
    activate_on_first_payment(Award.objects.select_for_update().get(pk=installment.award_id), by=by)


def _returned(payment: VendorPayment):
    disbursement = Disbursement.objects.filter(vendor_payment=payment).first()
    if disbursement is None or disbursement.amount_reversed is None:
        return zero(str(payment.amount.currency))
    return disbursement.amount_reversed


@retry_on_deadlock
def record_check(payment: VendorPayment, *, by, check_number: str, paid_on: datetime.date) -> VendorPayment:
    """Record the check the foundation mailed to the vendor (finance, four eyes). The check number
    is used once per foundation (as grant checks are); recording the same payment again is harmless.
    After Stripe took a transfer back, the check pays what came back."""
    check_number = " ".join((check_number or "").split())
    if not check_number:
        raise VendorPaymentRefused(_("Give the check number."), field="check_number")
    if paid_on is None:
        raise VendorPaymentRefused(_("Give the date of the check."), field="paid_on")
    if paid_on > timezone.localdate():
        raise VendorPaymentRefused(_("The check's date cannot be in the future."), field="paid_on")
    with transaction.atomic():
        locked = lock(payment)
        if locked.status == V.PAID and locked.check_number:
            return locked
        actor = release_actor(by, locked)
        problem = release_problem(locked)
        if problem:
            raise VendorPaymentRefused(problem)
        disbursement = (
            Disbursement.objects.select_for_update(of=("self",)).filter(vendor_payment=locked).first()
        )
        if disbursement is not None and disbursement.status in (*disbursements.OPEN_STATES, D.PAID):
            raise VendorPaymentRefused(_("Stripe has this payment; wait for its answer."))
        after_reversal = _paid_entries(locked).exists()
        amount = _returned(locked) if after_reversal else locked.amount
        fund = ledger.lock_fund(locked.fund)
        ledger.claim_reference(foundation=locked.foundation, method=ReferenceMethod.GRANT_PAYMENT,
                               reference=check_number, recorded_on=paid_on,
                               installment=locked.installment if locked.installment_id else None)  # fmt: skip
        locked.fund = fund
        _post_paid(locked, by=by, cash_account=AccountKind.BANK_CASH, reference=check_number, paid_on=paid_on,
                   amount=amount, key_suffix=":check" if after_reversal else "")  # fmt: skip
        locked.check_number = check_number[:60]
        locked.paid_on = paid_on
        locked.released_by = by
        locked.released_at = timezone.now()
        move(locked, "pay_by_check", by=by, actor=actor, note=check_number[:60],
             fields=("check_number", "paid_on", "released_by", "released_at"))  # fmt: skip
        _installment_paid(locked, by=by, actor=FINANCE, reference=check_number)
    return locked


# --- What Stripe tells us (the payout handlers call these with the disbursement locked) --------


def record_vendor_transfer_paid(disbursement: Disbursement, *, transfer_id: str) -> bool:
    """Stripe made the vendor's transfer: disbursement and payment paid, the ledger posts it. Never
    moves backwards; returns whether anything changed."""
    if not disbursements.mark_paid(disbursement, transfer_id=transfer_id):
        return False
    payment = lock(disbursement.vendor_payment_id)
    payment.fund = ledger.lock_fund(payment.fund)
    _post_paid(payment, by=None, cash_account=AccountKind.PROCESSOR_CASH, reference=transfer_id)
    if payment.status in VENDOR_PAYMENT_TRANSITIONS["pay"].sources:
        payment.paid_on = timezone.localdate()
        payment.failure_message = ""
        move(payment, "pay", by=None, actor=SYSTEM, note=transfer_id, fields=("paid_on", "failure_message"))
    _installment_paid(payment, by=None, actor=SYSTEM, reference=transfer_id)
    return True


def record_vendor_transfer_failed(disbursement: Disbursement) -> None:
    """Stripe refused the transfer (definitely): the payment is failed, for finance to send again
    or pay by check. Called by the payout engine with the disbursement locked."""
    payment = lock(disbursement.vendor_payment_id)
    if payment.status == V.SENT:
        payment.failure_message = disbursement.failure_message[:500]
        move(
            payment,
            "fail",
            by=None,
            actor=SYSTEM,
            note=disbursement.failure_kind,
            fields=("failure_message",),
        )


def record_vendor_transfer_reversed(
    disbursement: Disbursement, *, transfer_id: str, amount_reversed: Money
) -> bool:
    """Stripe took (some of) the vendor's transfer back: the money is in the foundation's Stripe
    balance and owed again (VENDOR_PAYMENT_REVERSAL); the payment is failed, an installment it paid
    goes on hold ("payment reversed") as for grants. An older or repeated reversal changes nothing."""
    already = disbursement.amount_reversed or zero(str(disbursement.amount.currency))
    if amount_reversed.amount <= already.amount:
        return False
    payment = lock(disbursement.vendor_payment_id)
    fund = ledger.lock_fund(payment.fund)
    payment.fund = fund
    _post_paid(payment, by=None, cash_account=AccountKind.PROCESSOR_CASH, reference=transfer_id)
    payments.record_money_returned(
        disbursement, fund=fund, transfer_id=transfer_id, amount_reversed=amount_reversed, already=already,
        memo=_("Payment %(reference)s to %(vendor)s reversed by Stripe")
        % {"reference": payment.reference_code, "vendor": payment.vendor.name},
        award=payment.award, cause=EntryCause.VENDOR_PAYMENT_REVERSAL,
        key_prefix=f"vendor-payment:{payment.pk}", vendor_payment=payment,
    )  # fmt: skip
    payment.failure_message = _("Stripe took the transfer back.")
    move(payment, "reverse", by=None, actor=SYSTEM, note=str(amount_reversed), fields=("failure_message",))
    if payment.installment_id:
        installment = installments._lock(payment.installment)
        name = installments.INSTALLMENT_TRANSITIONS["payment_reversed"]
        if installment.status in name.sources:
            installment.hold_reason = _("payment reversed")
            installments.transition(installment, name.name, by=None, actor=SYSTEM, note=installment.hold_reason,
                                    fields=("hold_reason",))  # fmt: skip
    return True


# --- Reading ----------------------------------------------------------------------------------


def holding(installment: Installment) -> VendorPayment | None:
    """The vendor payment that holds ``installment`` (approved, sent or paid), if any."""
    return (
        VendorPayment.objects.filter(installment_id=installment.pk, status__in=HOLDS_INSTALLMENT)
        .select_related("vendor")
        .first()
    )


def paid_for_award(award: Award):
    """The award's vendor payments that are paid (what reports count as spent)."""
    return award.vendor_payments.filter(status=V.PAID).select_related("vendor").order_by("paid_on", "pk")


def paid_net(payment: VendorPayment) -> Money:
    """What the ledger says reached the vendor: payments less what Stripe took back."""
    total = (
        JournalLine.objects.filter(
            entry__vendor_payment=payment,
            entry__cause__in=(EntryCause.VENDOR_PAYMENT, EntryCause.VENDOR_PAYMENT_REVERSAL),
            account__kind=AccountKind.GRANTS_PAYABLE,
        ).aggregate(total=Sum("amount"))["total"]
        or 0
    )
    return Money(total, payment.amount.currency)


def active_vendors(foundation: Foundation | int):
    return Vendor.objects.filter(foundation=foundation, active=True).order_by("name")
