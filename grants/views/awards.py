"""Grantee-facing award pages: the agreement, accepting or declining it, the payment schedule.

Only members of the organization that applied see an award; anyone else gets 404.
"""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from grants.models import ActivityEntry, Award, AwardStatus, InstallmentStatus
from grants.money import zero
from grants.permissions import is_organization_member
from grants.services import awards as service
from grants.services import payments, vendor_payments
from grants.services.errors import DomainError
from grants.services.text_limits import TextTooLong
from grants.views.reports import award_reports_context


def get_award_for_grantee_or_404(user, pk: int) -> Award:
    award = (
        Award.objects.select_related("application__organization", "application__call", "fund__foundation")
        .filter(pk=pk)
        .first()
    )
    if award is None or not is_organization_member(user, award.application.organization_id):
        raise Http404
    return award


def award_context(award: Award) -> dict:
    installments = list(award.installments.all())
    live = [i for i in installments if i.status != InstallmentStatus.CANCELLED]
    paid = [i for i in installments if i.status == InstallmentStatus.PAID]
    currency = award.fund.currency
    paid_total = sum((i.amount for i in paid), zero(currency))
    return {
        "award": award,
        "installments": installments,
        "paid_total": paid_total,
        "to_pay_total": sum((i.amount for i in live if i.status != InstallmentStatus.PAID), zero(currency)),
        "report_due_dates": list(award.report_due_dates.all()),
        "amendments": list(award.amendments.all()),
        "agreement_html": award.agreement_in(translation.get_language()),
        "payee": payments.payee_for(award),
        "payout_url": payments.payout_page_path(award.fund.foundation, award.application.organization),
        **award_reports_context(award),
        **vendor_payment_context(award, installments),
    }


def vendor_payment_context(award: Award, installments: list, form_values=None, form_errors=None) -> dict:
    """What was paid (or asked to be paid) to vendors on the organization's behalf from this award,
    and the form to ask that an unpaid installment go to a vendor."""
    asked_for = set(award.vendor_payments.exclude(installment=None).values_list("installment_id", flat=True))
    open_installments = [
        i for i in installments
        if i.status in vendor_payments.UNPAID_INSTALLMENT and i.pk not in asked_for
    ]  # fmt: skip
    vendors = list(vendor_payments.active_vendors(award.fund.foundation_id))
    can_ask = award.status in (AwardStatus.ACCEPTED, AwardStatus.ACTIVE) and bool(
        open_installments and vendors
    )
    return {
        "vendor_payments": list(award.vendor_payments.select_related("vendor", "installment")),
        "vendor_choices": vendors,
        "vendor_installments": open_installments,
        "can_ask_vendor_payment": can_ask,
        "vendor_form": form_values or {},
        "vendor_errors": form_errors or {},
    }


@never_cache
@login_required
def award_detail(request, pk: int):
    award = get_award_for_grantee_or_404(request.user, pk)
    context = award_context(award)
    context["timeline"] = ActivityEntry.objects.filter(
        subject_type="award", subject_id=award.pk, visible_to_applicant=True
    ).order_by("created_at", "pk")
    context["can_accept"] = award.status == AwardStatus.OFFERED
    context["form_values"] = {"full_name": request.user.get_full_name()}
    return render(request, "awards/detail.html", context)


@never_cache
@login_required
def award_accept(request, pk: int):
    award = get_award_for_grantee_or_404(request.user, pk)
    if request.method != "POST":
        return redirect("award_detail", pk=pk)
    try:
        service.accept_award(
            award,
            by=request.user,
            full_name=request.POST.get("full_name", ""),
            agreed=request.POST.get("agree") == "on",
            language=translation.get_language(),
        )
    except DomainError as error:
        context = award_context(award)
        context.update(
            can_accept=award.status == AwardStatus.OFFERED,
            accept_error=error.message,
            form_values={
                "full_name": request.POST.get("full_name", ""),
                "agree": request.POST.get("agree") == "on",
            },
            timeline=[],
        )
        return render(request, "awards/detail.html", context, status=400)
    messages.success(
        request, _("Thank you. You accepted the award; we will let you know when payments are made.")
    )
    return redirect("award_detail", pk=pk)


@never_cache
@login_required
def award_decline(request, pk: int):
    award = get_award_for_grantee_or_404(request.user, pk)
    if request.method == "POST":
        try:
            service.decline_award(award, by=request.user, reason=request.POST.get("reason", ""))
        except TextTooLong as error:  # shown beside what was typed, to shorten it
            context = {"award": award, "reason": request.POST.get("reason", ""), "error": error.message}
            return render(request, "awards/decline.html", context, status=400)
        except DomainError as error:
            messages.error(request, error.message)
            return redirect("award_detail", pk=pk)
        messages.success(request, _("You declined the award. The foundation has been told."))
        return redirect("dashboard")
    return render(request, "awards/decline.html", {"award": award})


@never_cache
@login_required
@require_POST
def award_vendor_payment(request, pk: int):
    """A member asks that one unpaid installment be paid, whole, to one of the foundation's vendors."""
    award = get_award_for_grantee_or_404(request.user, pk)
    values = {key: request.POST.get(key, "") for key in ("installment", "vendor", "purpose")}
    errors = {}
    installment = award.installments.filter(pk=_int(values["installment"])).first()
    vendor = (
        vendor_payments.active_vendors(award.fund.foundation_id).filter(pk=_int(values["vendor"])).first()
    )
    invoice = request.FILES.get("invoice")
    if installment is None:
        errors["installment"] = _("Choose the payment that should go to the vendor.")
    if vendor is None:
        errors["vendor"] = _("Choose the vendor.")
    if invoice is None:
        errors["invoice"] = _("Attach the vendor's invoice (PDF or image).")
    if not errors:
        try:
            vendor_payments.request_vendor_payment(
                by=request.user,
                vendor=vendor,
                installment=installment,
                purpose=values["purpose"],
                invoice=invoice,
            )
        except vendor_payments.VendorPaymentRefused as error:
            errors[error.field or "form"] = error.message
        else:
            messages.success(
                request, _("Your request was sent to the foundation. You will see here when it is paid.")
            )
            return redirect("award_detail", pk=pk)
    context = award_context(award)
    context.update(vendor_payment_context(award, context["installments"], values, errors))
    context["timeline"] = []
    context["can_accept"] = False
    return render(request, "awards/detail.html", context, status=400)


def _int(value) -> int | None:
    return int(value) if str(value).isdigit() else None
