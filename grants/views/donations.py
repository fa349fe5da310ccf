"""Public giving pages: the donate form, the thank-you page, and managing a monthly gift.

No account is needed. The thank-you page is found by the Checkout session id Stripe puts in
its URL (unguessable) and shows only that gift; the manage page by a signed, expiring link.
"""

import datetime

from allauth.core import ratelimit
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods
from djmoney.money import Money
from wagtail.models import Locale

from cms.models import FundPage
from grants.forms.donations import OTHER, DonationForm, ManageLinkForm, amount_key, parse_amount
from grants.models import DonationStatus, Fund, FundStatus, GiftKind, RecurringGiftStatus
from grants.money import currency_exponent
from grants.payments.gateway import PaymentError
from grants.services import donations
from grants.services.errors import DomainError

# How long the thank-you page offers the manage link (its URL stays in the browser's history).
THANKS_MANAGE_LINK_HOURS = 24


def _fund_page(fund: Fund) -> FundPage | None:
    """The fund's public page in the current language (else any language)."""
    pages = FundPage.objects.live().filter(fund=fund)
    try:
        locale = Locale.get_active()
    except Locale.DoesNotExist:
        locale = None
    return (locale and pages.filter(locale=locale).first()) or pages.first()


def _initial(fund: Fund, query) -> dict:
    """What the form starts with: the amount chosen on the fund page, or kept from a cancelled Checkout."""
    initial = {"frequency": GiftKind.ONE_TIME}
    presets = [amount_key(m) for m in donations.suggested_amounts(fund)]
    if presets:
        initial["amount"] = presets[1] if len(presets) > 1 else presets[0]
    text = (query.get("amount") or "")[:20]
    if text:
        try:
            key = f"{parse_amount(text).normalize():f}"
        except ValidationError:  # a bad link keeps the defaults
            key = ""
        if key in presets:
            initial["amount"] = key
        elif key:
            initial.update(amount=OTHER, other_amount=text)
    if query.get("frequency") in (GiftKind.ONE_TIME, GiftKind.MONTHLY):
        initial["frequency"] = query["frequency"]
    if query.get("cover_fee") == "1":
        initial["cover_fee"] = True
    return initial


def _fee_rule(fund: Fund) -> dict:
    percent, fixed = donations.fee_settings(fund.currency)
    return {
        "basis_points": int(percent * 100),
        "fixed_minor": int(fixed.amount.scaleb(currency_exponent(fund.currency))),
        "exponent": currency_exponent(fund.currency),
    }


@never_cache
@require_http_methods(["GET", "POST"])
def donate(request, foundation_slug: str, fund_slug: str):
    fund = get_object_or_404(
        Fund.objects.select_related("foundation"), foundation__slug=foundation_slug, slug=fund_slug
    )
    accepting = fund.accepts_donations and fund.status == FundStatus.ACTIVE
    if request.method == "POST" and accepting:
        form = DonationForm(request.POST, fund=fund)
        if form.is_valid():
            data = form.cleaned_data
            donate_path = reverse(
                "donate", kwargs={"foundation_slug": foundation_slug, "fund_slug": fund_slug}
            )
            keep = {"amount": amount_key(form.gift), "frequency": data["frequency"], "cancelled": "1"}
            if data["cover_fee"]:
                keep["cover_fee"] = "1"
            try:
                _donation, url = donations.start_donation(
                    fund=fund,
                    amount=form.gift,
                    monthly=form.monthly,
                    cover_fee=data["cover_fee"],
                    anonymous=data["anonymous"],
                    name=data["name"],
                    email=data["email"],
                    language=translation.get_language() or settings.LANGUAGE_CODE,
                    dedication=data["dedication"],
                    message=data["message"],
                    consent_to_contact=data["consent_to_contact"],
                    # Stripe fills in the placeholder; braces must not be URL-encoded.
                    success_url=request.build_absolute_uri(reverse("donation_thanks"))
                    + "?session_id={CHECKOUT_SESSION_ID}",
                    cancel_url=request.build_absolute_uri(f"{donate_path}?{urlencode(keep)}"),
                )
            except (DomainError, PaymentError) as error:
                form.add_error(None, error.message)
            else:
                return redirect(url)
    else:
        form = DonationForm(initial=_initial(fund, request.GET), fund=fund)
    selected = form.selected_amount()
    context = {
        "fund": fund,
        "fund_page": _fund_page(fund),
        "form": form,
        "accepting": accepting,
        "cancelled": request.method == "GET" and request.GET.get("cancelled") == "1",
        "selected": selected,
        "fee": donations.fee_to_cover(selected) if selected else None,
        "fee_rule": _fee_rule(fund),
        "minimum": Money(fund.donation_minimum, fund.currency),
        "maximum": Money(fund.donation_maximum, fund.currency),
    }
    return render(request, "donations/donate.html", context)


@never_cache
def thanks(request):
    donation = donations.donation_for_session(request.GET.get("session_id", "")[:100])
    manage_url = ""
    if donation is not None and donation.recurring_gift_id:
        fresh = timezone.now() - donation.created_at < datetime.timedelta(hours=THANKS_MANAGE_LINK_HOURS)
        if fresh and donation.recurring_gift.status == RecurringGiftStatus.ACTIVE:
            manage_url = reverse("donation_manage", kwargs={"token": donations.manage_token(donation.donor)})
    context = {
        "donation": donation,
        "fund_page": _fund_page(donation.fund) if donation else None,
        "received": donation is not None and donation.status != DonationStatus.PENDING,
        "manage_url": manage_url,
    }
    return render(request, "donations/thanks.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def manage(request, token: str):
    donor = donations.donor_from_token(token)
    if donor is None:
        context = {"form": ManageLinkForm(), "days": settings.DONOR_LINK_MAX_AGE_DAYS}
        return render(request, "donations/manage_invalid.html", context, status=403)
    if request.method == "POST":
        gift_id = request.POST.get("gift", "")
        # Anything but a row id (letters, 20 digits) names no gift: refused below, not a 500.
        valid_id = gift_id.isascii() and gift_id.isdigit() and len(gift_id) < 19
        gift = donations.monthly_gifts(donor).filter(pk=gift_id).first() if valid_id else None
        try:
            if gift is None:
                raise donations.DonationRefused(_("This monthly gift is not active."))
            donations.cancel_monthly_gift(gift, donor=donor)
        except (DomainError, PaymentError) as error:
            messages.error(request, error.message)
        else:
            messages.success(request, _("Your monthly gift to %(fund)s is cancelled. No more payments will be taken.")
                             % {"fund": str(gift.fund)})  # fmt: skip
        return redirect(request.path)
    return render(request, "donations/manage.html", {"donor": donor, "gifts": donations.monthly_gifts(donor)})


@never_cache
@require_http_methods(["GET", "POST"])
def manage_request(request):
    form = ManageLinkForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        # Each request sends email: throttled per IP address and per address asked for, the
        # same whether or not the address belongs to a donor.
        throttled = ratelimit.consume_or_429(
            request, action="donor_manage_link", key=form.cleaned_data["email"].strip().lower()
        )
        if throttled:
            return throttled
        donations.send_manage_links(
            email=form.cleaned_data["email"], language=translation.get_language() or settings.LANGUAGE_CODE
        )
        return render(request, "donations/manage_sent.html")
    return render(
        request,
        "donations/manage_invalid.html",
        {"form": form, "requested": True, "days": settings.DONOR_LINK_MAX_AGE_DAYS},
    )
