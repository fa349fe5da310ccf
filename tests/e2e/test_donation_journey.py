"""Browser journey of a gift: a donor on the Spanish fund page gives every month and covers the
fee, pays on the (simulated) Stripe Checkout, lands on the thank-you page, gets the receipt by
email, and the fund page's progress moves."""

from django.core.cache import cache
from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import Donation, DonationStatus, RecurringGiftStatus
from tests.e2e.axe import assert_accessible

PHONE = {"width": 390, "height": 844}


def test_a_monthly_gift_with_the_fee_covered_from_the_spanish_fund_page(open_call, url, browser, mailoutbox):
    cache.clear()
    context = browser.new_context(locale="es-ES", viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)

    page.goto(url(open_call.fund_page_es.url))
    progress = page.locator("section[aria-labelledby=fund-progress-heading]")
    expect(progress).to_contain_text("0,00")
    box = page.locator("section[aria-labelledby=donate-heading]")
    box.locator("input[name=amount][value='100']").check()
    box.locator("button[type=submit]").click()

    expect(page).to_have_url(
        url("/es/donate/") + f"{open_call.fund.foundation.slug}/{open_call.fund.slug}/?amount=100"
    )
    expect(page.locator("input[name=amount][value='100']")).to_be_checked()
    expect(page.locator("input[name=cover_fee]")).not_to_be_checked()
    assert_accessible(page)
    page.locator("input[name=frequency][value=monthly]").check()
    page.locator("input[name=cover_fee]").check()
    expect(page.locator("#fee-estimate")).to_contain_text("3,30")
    page.locator("input[name=name]").fill("Lucía Fernández")
    page.locator("input[name=email]").fill("lucia@example.org")
    page.locator("#donate-form button[type=submit]").click()

    page.wait_for_url("**/simulated-stripe/checkout/**")
    page.locator("button[name=pay]").click()

    expect(page.locator("h1")).not_to_contain_text("…")
    expect(page.locator("main .confirmation")).to_be_visible()
    expect(page.locator("main")).to_contain_text("100,00")
    expect(page.locator("main")).to_contain_text("103,30")
    assert "Lucía" not in page.locator("main").inner_text()
    assert_accessible(page)

    donation = Donation.objects.get()
    assert donation.status == DonationStatus.COMPLETED
    assert donation.gross == Money("103.30", "USD")
    assert donation.recurring_gift.status == RecurringGiftStatus.ACTIVE
    receipts = [m for m in mailoutbox if m.to == ["lucia@example.org"]]
    assert len(receipts) == 1
    assert "/donate/manage/" in receipts[0].body

    page.goto(url(open_call.fund_page_es.url))
    expect(progress).to_contain_text("103,30")
    context.close()
