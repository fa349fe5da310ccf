"""Giving to a fund from its public pages: the donate form, Checkout, the thank-you page,
progress on the fund page, and managing a monthly gift from an emailed link."""

import datetime
from decimal import Decimal

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from djmoney.money import Money

from grants.models import (
    Donation,
    DonationStatus,
    Donor,
    FundStatus,
    RecurringGiftStatus,
)
from grants.money import from_minor_units, to_minor_units
from grants.payments.simulator.gateway import SimulatedGateway, processing_fee
from grants.payments.simulator.models import SimulatedIdempotencyKey, SimulatedStripeObject
from grants.services import donations
from tests import pages
from tests.factories import FundFactory

pytestmark = pytest.mark.django_db


def usd(value) -> Money:
    return Money(value, "USD")


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def fund(site, foundation):
    fund = FundFactory(
        foundation=foundation, name="Rapid Response Fund", slug="rapid-response", fundraising_goal=usd(1000)
    )
    fund.page, fund.page_es = pages.add_fund_page(site, fund, title_es="Fondo de respuesta rápida")
    return fund


def donate_url(fund, language="en") -> str:
    with translation.override(language):
        return reverse("donate", kwargs={"foundation_slug": fund.foundation.slug, "fund_slug": fund.slug})


def form_data(**changes) -> dict:
    data = {
        "amount": "50",
        "other_amount": "",
        "frequency": "one_time",
        "name": "Rosa Díaz",
        "email": "rosa@example.org",
        "dedication": "",
        "message": "",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def session_of(donation) -> dict:
    return SimulatedStripeObject.objects.get(id=donation.checkout_session_id).data


def pay(donation, capture):
    with capture(execute=True):
        SimulatedGateway(donation.foundation).complete_checkout(donation.checkout_session_id)
    donation.refresh_from_db()


# --- The form -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "message", "kept"),
    [
        ({"amount": "other", "other_amount": "2"}, "The smallest gift to this fund is $5.00.", 'value="2"'),
        (
            {"amount": "other", "other_amount": "20000"},
            "The largest gift online is $10,000.00.",
            'value="20000"',
        ),
        ({"amount": "other", "other_amount": "fifty"}, "Enter the amount as a number", 'value="fifty"'),
        (
            {"amount": "other", "other_amount": "10.5051"},
            "Amounts in USD have at most 2 decimals.",
            'value="10.5051"',
        ),
        ({"amount": "other", "other_amount": ""}, "Type the amount you want to give.", "Rosa Díaz"),
        ({"amount": None}, "Choose an amount or type another one.", "Rosa Díaz"),
        ({"name": ""}, "Enter your name.", 'value="rosa@example.org"'),
        ({"email": ""}, "Enter your email address so we can send your receipt.", "Rosa Díaz"),
        ({"email": "rosa@"}, "Enter an email address like name@example.org.", 'value="rosa@"'),
    ],
)
def test_bad_input_is_refused_with_a_clear_error_keeping_what_was_typed(client, fund, changes, message, kept):
    response = client.post(donate_url(fund), form_data(dedication="Para mi abuela", **changes))

    assert response.status_code == 200
    content = response.content.decode()
    assert message in content
    assert kept in content
    assert "Para mi abuela" in content
    assert not Donation.objects.exists()
    assert not SimulatedStripeObject.objects.filter(kind="checkout.session").exists()


def test_yen_amounts_have_no_decimals(client, site, foundation):
    fund = FundFactory(foundation=foundation, currency="JPY", fundraising_goal=Money(1000000, "JPY"),
                       donation_presets="1000,3000,5000", donation_minimum=500, donation_maximum=1000000)  # fmt: skip

    response = client.post(donate_url(fund), form_data(amount="other", other_amount="1500.5"))

    assert "Amounts in JPY have no decimals." in response.content.decode()
    assert not Donation.objects.exists()


def test_a_fund_not_taking_donations_says_so_and_refuses_gifts(client, fund):
    fund.accepts_donations = False
    fund.save()

    page = client.get(donate_url(fund)).content.decode()
    response = client.post(donate_url(fund), form_data())

    assert "This fund is not taking donations right now." in page
    assert "Continue to payment" not in page
    assert "This fund is not taking donations right now." in response.content.decode()
    assert not Donation.objects.exists()
    assert "This fund is not taking donations right now." in client.get(fund.page.url).content.decode()


def test_a_paused_fund_refuses_gifts_in_the_service_too(fund):
    fund.status = FundStatus.PAUSED
    fund.save()
    with pytest.raises(donations.DonationRefused):
        donations.start_donation(fund=fund, amount=usd(50), monthly=False, cover_fee=False, anonymous=False,
                                 name="A", email="a@example.org", language="en", success_url="http://x/",
                                 cancel_url="http://x/")  # fmt: skip


def test_the_page_offers_the_presets_never_pre_checks_the_fee_and_shows_its_estimate(client, fund):
    response = client.get(donate_url(fund) + "?amount=100")

    content = response.content.decode()
    for value in ("25", "50", "100", "250"):
        assert f'name="amount" value="{value}"' in content
    assert 'value="100" data-amount="100" checked' in content
    cover = content.split('name="cover_fee"')[1].split(">")[0]
    assert "checked" not in cover
    # (100 + 0.30) / 0.971 is 103.2955… → 103.30: 3.30 more.
    assert "Adds $3.30 to your gift of $100.00" in content
    assert "immigration status" in content  # the message field warns against private details


# --- Fees -----------------------------------------------------------------------------------


def test_fee_estimate_and_cover_fee_gross_in_dollars():
    assert donations.charge_for(usd(50), cover_fee=False) == usd(50)
    assert donations.charge_for(usd(50), cover_fee=True) == usd("51.81")
    assert donations.fee_to_cover(usd(50)) == usd("1.81")
    assert donations.fee_to_cover(usd(5)) == usd("0.46")  # 5.30 / 0.971 = 5.458… → 5.46


def test_fee_estimate_and_cover_fee_gross_in_yen_have_no_fixed_part():
    assert donations.charge_for(Money(5000, "JPY"), cover_fee=True) == Money(5150, "JPY")
    assert donations.fee_to_cover(Money(5000, "JPY")) == Money(150, "JPY")
    assert donations.fee_to_cover(Money(1000, "JPY")) == Money(30, "JPY")


@pytest.mark.parametrize("currency", ["USD", "JPY"])
@pytest.mark.parametrize("gift", ["5", "7.77", "50", "99.99", "250", "1234", "9999"])
def test_covering_the_fee_always_nets_the_fund_the_whole_gift(currency, gift):
    amount = Money(Decimal(gift).quantize(Decimal(1) if currency == "JPY" else Decimal("0.01")), currency)
    gross = donations.charge_for(amount, cover_fee=True)
    fee = processing_fee(to_minor_units(gross), currency.lower())
    assert gross - from_minor_units(fee, currency) >= amount


def test_fee_settings_change_the_estimate(settings):
    settings.DONATION_FEE_PERCENT = "3.5"
    settings.DONATION_FEE_FIXED_MINOR_UNITS = 0
    assert donations.charge_for(usd(100), cover_fee=True) == usd("103.63")


# --- Checkout -------------------------------------------------------------------------------


def test_a_one_time_gift_opens_checkout_with_the_gift_in_minor_units(client, fund):
    response = client.post(donate_url(fund), form_data(amount="other", other_amount="75.50", anonymous="on"))

    donation = Donation.objects.get()
    session = session_of(donation)
    assert response.status_code == 302
    assert response["Location"] == session["url"]
    assert session["mode"] == "payment"
    assert (session["amount_total"], session["currency"]) == (7550, "usd")
    assert session["metadata"] == {"donation": str(donation.pk), "fund": str(fund.pk)}
    assert session["customer_email"] == "rosa@example.org"
    assert session["success_url"].endswith("/en/donate/thanks/?session_id={CHECKOUT_SESSION_ID}")
    assert SimulatedIdempotencyKey.objects.filter(key=f"donation:{donation.pk}:checkout").exists()
    assert (donation.status, donation.amount, donation.gross, donation.anonymous) == (
        DonationStatus.PENDING, usd("75.50"), usd("75.50"), True,
    )  # fmt: skip


def test_a_monthly_gift_covering_the_fee_opens_a_subscription_for_the_gross(client, fund):
    client.post(
        donate_url(fund, "es"),
        form_data(frequency="monthly", cover_fee="on", consent_to_contact="on", email="Rosa@Example.org"),
    )

    donation = Donation.objects.get()
    session = session_of(donation)
    assert session["mode"] == "subscription"
    assert (session["amount_total"], session["currency"]) == (5181, "usd")
    assert session["metadata"] == {"donation": str(donation.pk), "fund": str(fund.pk)}
    assert donation.recurring_gift.status == RecurringGiftStatus.PENDING
    assert donation.recurring_gift.amount == usd(50)
    donor = Donor.objects.get()
    assert (donor.email, donor.language, donor.consent_to_contact) == ("rosa@example.org", "es", True)


def test_the_same_donor_is_found_again_by_email_and_updated(client, fund):
    client.post(donate_url(fund), form_data(consent_to_contact="on"))
    client.post(donate_url(fund, "es"), form_data(name="Rosa M. Díaz", email="ROSA@example.org"))

    donor = Donor.objects.get()
    assert (donor.name, donor.language, donor.consent_to_contact) == ("Rosa M. Díaz", "es", False)
    assert donor.donations.count() == 2


def test_stripe_failing_keeps_the_form_and_marks_the_attempt_not_completed(client, fund, foundation):
    SimulatedGateway.fail_next(foundation, "network", operation="create_checkout_session")

    response = client.post(donate_url(fund), form_data())

    assert response.status_code == 200
    assert "The payment processor did not answer in time; try again in a moment." in response.content.decode()
    assert Donation.objects.get().status == DonationStatus.EXPIRED


def test_cancelling_on_checkout_returns_to_the_form_with_the_amount_kept(client, fund):
    client.post(
        donate_url(fund), form_data(amount="other", other_amount="75", frequency="monthly", cover_fee="on")
    )
    cancel_url = session_of(Donation.objects.get())["cancel_url"]

    response = client.get(cancel_url)

    content = response.content.decode()
    assert "Your payment was cancelled and nothing was charged." in content
    assert (
        'name="other_amount" id="id_other_amount" inputmode="decimal" autocomplete="off" maxlength="20" placeholder="1,500.75" value="75"'
        in content
    )
    assert (
        'value="monthly"' in content.split('name="frequency"')[2][:40] or 'value="monthly" checked' in content
    )
    assert 'name="cover_fee" id="id_cover_fee" aria-describedby="fee-estimate" checked' in content


# --- Thank-you page and anonymity ----------------------------------------------------------


def test_the_thank_you_page_shows_the_gift_and_works_before_the_webhook(
    client, fund, django_capture_on_commit_callbacks
):
    client.post(donate_url(fund), form_data(amount="100"))
    donation = Donation.objects.get()
    thanks = reverse("donation_thanks") + f"?session_id={donation.checkout_session_id}"

    waiting = client.get(thanks).content.decode()
    assert "We are confirming your gift…" in waiting
    assert "Rapid Response Fund" in waiting and "$100.00" in waiting

    pay(donation, django_capture_on_commit_callbacks)
    done = client.get(thanks).content.decode()
    assert "A receipt is on its way to your email." in done
    assert "$100.00" in done
    assert "Rosa" not in done and "rosa@example.org" not in done


def test_the_thank_you_page_never_shows_another_donor(client, fund, django_capture_on_commit_callbacks):
    client.post(donate_url(fund), form_data(name="Marta Other", email="marta@example.org", amount="250"))
    client.post(donate_url(fund), form_data(anonymous="on"))
    for donation in Donation.objects.all():
        pay(donation, django_capture_on_commit_callbacks)
    mine = Donation.objects.get(donor__email="rosa@example.org")

    page = client.get(reverse("donation_thanks") + f"?session_id={mine.checkout_session_id}").content.decode()
    unknown = client.get(reverse("donation_thanks") + "?session_id=cs_test_guess").content.decode()
    fund_page = client.get(fund.page.url).content.decode()

    assert "Marta" not in page and "$250.00" not in page
    assert "We could not find this payment." in unknown and "Marta" not in unknown and "Rosa" not in unknown
    assert "Marta" not in fund_page and "Rosa" not in fund_page
    assert mine.public_name == "Anonymous"


# --- Progress on the fund page --------------------------------------------------------------


def test_progress_moves_after_a_gift_and_the_fund_page_queries_stay_constant(
    client, fund, django_capture_on_commit_callbacks
):
    client.get(fund.page.url)
    with CaptureQueriesContext(connection) as before:
        first = client.get(fund.page.url).content.decode()
    assert "$0.00" in first and "0 people gave" in first

    for email in ("a@example.org", "b@example.org", "a@example.org"):
        client.post(donate_url(fund), form_data(email=email, amount="100"))
    for donation in Donation.objects.all():
        pay(donation, django_capture_on_commit_callbacks)

    after_gift = client.get(fund.page.url).content.decode()
    assert "$300.00" in after_gift and "2 people gave" in after_gift
    assert 'value="30"' in after_gift  # 30 % of the $1,000 goal
    with CaptureQueriesContext(connection) as warm:
        client.get(fund.page.url)
    assert len(warm) == len(before)
    assert not any("journalline" in query["sql"].lower() for query in warm.captured_queries)


def test_progress_is_cached_until_a_gift_changes_it(fund, django_capture_on_commit_callbacks):
    assert donations.fund_progress(fund).raised == usd(0)
    donation, _url = donations.start_donation(
        fund=fund, amount=usd(40), monthly=False, cover_fee=False, anonymous=True, name="A",
        email="a@example.org", language="en", success_url="http://x/", cancel_url="http://x/",
    )  # fmt: skip
    pay(donation, django_capture_on_commit_callbacks)

    progress = donations.fund_progress(fund)
    assert (progress.raised, progress.donors, progress.percent) == (usd(40), 1, 4)


# --- Managing a monthly gift ----------------------------------------------------------------


@pytest.fixture
def monthly(client, fund, django_capture_on_commit_callbacks):
    client.post(donate_url(fund), form_data(frequency="monthly", amount="25"))
    donation = Donation.objects.get()
    pay(donation, django_capture_on_commit_callbacks)
    donation.recurring_gift.refresh_from_db()
    return donation


def test_the_manage_link_lists_the_monthly_gift_and_cancels_it(
    client, monthly, django_capture_on_commit_callbacks
):
    url = donations.manage_link(monthly.donor)
    assert url.startswith("http")
    path = "/" + url.split("://", 1)[1].split("/", 1)[1]

    page = client.get(path).content.decode()
    assert "Rapid Response Fund" in page and "$25.00 every month" in page
    assert "Cancel this monthly gift" in page

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(path, {"gift": monthly.recurring_gift_id}, follow=True)

    gift = monthly.recurring_gift
    gift.refresh_from_db()
    assert gift.status == RecurringGiftStatus.CANCELLED
    subscription = SimulatedStripeObject.objects.get(id=gift.stripe_subscription_id).data
    assert subscription["status"] == "canceled"
    content = response.content.decode()
    assert "is cancelled" in content
    assert "Cancel this monthly gift" not in content


def test_the_thank_you_page_of_a_monthly_gift_links_to_managing_it(client, monthly):
    # The link is signed with the time: the page and the test must sign in the same second.
    with time_machine.travel(timezone.now(), tick=False):
        page = client.get(
            reverse("donation_thanks") + f"?session_id={monthly.checkout_session_id}"
        ).content.decode()
        expected = reverse("donation_manage", kwargs={"token": donations.manage_token(monthly.donor)})
    assert "Manage your monthly gift" in page
    assert expected in page


def test_a_tampered_link_is_refused(client, monthly):
    token = donations.manage_token(monthly.donor)
    donor_id, rest = token.split(":", 1)
    forged = f"{int(donor_id) + 1}:{rest}"

    response = client.get(reverse("donation_manage", kwargs={"token": forged}))
    posted = client.post(
        reverse("donation_manage", kwargs={"token": forged}), {"gift": monthly.recurring_gift_id}
    )

    assert response.status_code == 403
    assert "This link no longer works" in response.content.decode()
    assert "Send me a new link" in response.content.decode()
    assert posted.status_code == 403
    monthly.recurring_gift.refresh_from_db()
    assert monthly.recurring_gift.status == RecurringGiftStatus.ACTIVE


def test_an_expired_link_is_refused(client, monthly, settings):
    path = reverse("donation_manage", kwargs={"token": donations.manage_token(monthly.donor)})
    assert client.get(path).status_code == 200

    later = timezone.now() + datetime.timedelta(days=settings.DONOR_LINK_MAX_AGE_DAYS, hours=1)
    with time_machine.travel(later, tick=False):
        response = client.get(path)

    assert response.status_code == 403
    assert "This link no longer works" in response.content.decode()


def test_asking_for_a_new_link_never_reveals_whether_an_address_gives(
    client, monthly, mailoutbox, django_capture_on_commit_callbacks
):
    mailoutbox.clear()
    url = reverse("donation_manage_request")
    with django_capture_on_commit_callbacks(execute=True):
        donor_answer = client.post(url, {"email": "ROSA@example.org"})
    sent = list(mailoutbox)
    with django_capture_on_commit_callbacks(execute=True):
        stranger_answer = client.post(url, {"email": "nobody@example.org"})

    assert donor_answer.status_code == stranger_answer.status_code == 200
    assert donor_answer.content.decode().replace(
        donor_answer.wsgi_request.META.get("CSRF_COOKIE", ""), ""
    ) == stranger_answer.content.decode().replace(
        stranger_answer.wsgi_request.META.get("CSRF_COOKIE", ""), ""
    )
    assert "If this address gives monthly, we sent it a link" in stranger_answer.content.decode()
    assert len(sent) == 1 and sent[0].to == ["rosa@example.org"]
    assert len(mailoutbox) == 1
    link = next(line for line in sent[0].body.splitlines() if "/donate/manage/" in line)
    assert client.get("/" + link.split("://", 1)[1].split("/", 1)[1]).status_code == 200


def test_an_offline_gift_moves_the_cached_progress_at_once(fund, django_capture_on_commit_callbacks):
    import datetime

    from grants.models import Role
    from grants.services import offline_gifts
    from tests.grants.money_fixtures import staff

    assert donations.fund_progress(fund).raised == usd(0)  # now cached
    with django_capture_on_commit_callbacks(execute=True):
        offline_gifts.record_offline_gift(
            fund=fund, donor_name="B", donor_email="b@example.org", amount=usd(60), channel="check",
            received_on=datetime.date(2026, 3, 1), reference="CHK 9", by=staff(fund.foundation, Role.FINANCE_OFFICER),
            send_receipt=False,
        )  # fmt: skip
    assert donations.fund_progress(fund).raised == usd(60)


@pytest.mark.parametrize(("monthly", "mode"), [(False, "payment"), (True, "subscription")])
def test_a_gift_sends_stripe_the_checkout_it_expects(fund, settings, monkeypatch, monthly, mode):
    """With the real gateway (its HTTP client faked at the library's boundary), a $50 gift with the
    fee covered asks Stripe for 5181 cents in USD, in the right mode, with the fund and the
    donation in metadata and the donation's idempotency key."""
    from grants.payments import stripe_gateway
    from tests.grants.test_gateway_stripe import FakeStripeHTTP, session_json

    http = FakeStripeHTTP((200, session_json(mode)))
    settings.STRIPE_GATEWAY = "stripe"
    slug = fund.foundation.slug.upper().replace("-", "_")
    for name in ("SECRET_KEY", "WEBHOOK_SECRET", "CONNECT_WEBHOOK_SECRET"):
        monkeypatch.setenv(f"STRIPE_{name}_{slug}", f"{'sk_test' if name == 'SECRET_KEY' else 'whsec'}_x")
    real_init = stripe_gateway.StripeGateway.__init__
    monkeypatch.setattr(
        stripe_gateway.StripeGateway,
        "__init__",
        lambda self, credentials, **kwargs: real_init(
            self, credentials, http_client=http, max_network_retries=0
        ),
    )
    donation, url = donations.start_donation(
        fund=fund, amount=usd(50), monthly=monthly, cover_fee=True, anonymous=False, name="Ana",
        email="ana@example.org", language="es", success_url="https://p.example/t", cancel_url="https://p.example/c",
    )  # fmt: skip
    (sent,) = http.sent
    assert (sent.method, sent.path) == ("POST", "/v1/checkout/sessions")
    assert sent.params["mode"] == mode
    assert sent.params["line_items[0][price_data][unit_amount]"] == "5181"
    assert sent.params["line_items[0][price_data][currency]"] == "usd"
    assert sent.params["metadata[donation]"] == str(donation.pk)
    assert sent.params["metadata[fund]"] == str(fund.pk)
    assert sent.headers["Idempotency-Key"] == f"donation:{donation.pk}:checkout"
    assert url == "https://checkout.stripe.com/c/pay/cs_test_1"
