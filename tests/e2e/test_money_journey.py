"""Paying a grant in the browser: the grantee sets up payouts in Spanish, finance releases the payment.

The grantee (reading in Spanish) opens the award from the dashboard, follows "Configurar cobros" to
the payout page, goes through the simulated Stripe onboarding and comes back to a payout page that
says the foundation can pay. A finance officer signs in to Wagtail admin, opens Payments, chooses
the due payment, reviews who gets what and releases it; Stripe's webhooks (simulated, delivered in
the live server's thread) confirm the transfer, and the grantee's award page shows it paid.

axe must find nothing serious or critical on the payout page and on the confirmation page.
"""

import datetime
import re

import pytest
from allauth.account.models import EmailAddress
from django.utils import timezone, translation
from django.utils.translation import gettext
from djmoney.money import Money
from playwright.sync_api import expect

from cms.templatetags.portal_tags import money
from grants.models import Disbursement, DisbursementStatus, InstallmentStatus, OrganizationMembership, Role
from grants.services import awards, installments, ledger
from grants.services.staff import add_staff
from tests import factories
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import sign_in_staff

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password


def es(text: str) -> str:
    """What the Spanish site shows for ``text`` (the English text until its translation is compiled)."""
    with translation.override("es"):
        return gettext(text)


def usd(amount) -> Money:
    return Money(str(amount), "USD")


def person(email, first_name, **kwargs):
    user = factories.UserFactory(email=email, first_name=first_name, **kwargs)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    return user


@pytest.fixture
def accepted_award(e2e_site):
    """A $2,500 award accepted by a Spanish-speaking grantee, its one payment due today."""
    foundation = factories.FoundationFactory(slug="bay-area", name="Bay Area Immigrant Rights Foundation")
    fund = factories.FundFactory(foundation=foundation, name="Deportation Defense Fund", currency="USD")
    officer = person("olga@foundation.example", "Olga", is_staff=True, preferred_language="en")
    finance = person("fran@foundation.example", "Fran", is_staff=True, preferred_language="en")
    add_staff(officer, foundation=foundation, role=Role.PROGRAM_OFFICER)
    add_staff(finance, foundation=foundation, role=Role.FINANCE_OFFICER)
    grantee = person("ana@colectivo.example", "Ana", preferred_language="es")
    organization = factories.OrganizationFactory(name="Colectivo Tierra")
    OrganizationMembership.objects.create(organization=organization, user=grantee, role="owner")

    today = timezone.localdate()
    ledger.record_income(fund=fund, amount=usd(10000), source="check", received_on=today,
                         reference="CHK-1", by=finance)  # fmt: skip
    application = factories.approved_application(
        fund, decided_by=officer, amount=usd(2500), organization=organization
    )
    award = awards.make_award(
        application,
        by=officer,
        amount=usd(2500),
        start_date=today,
        end_date=today + datetime.timedelta(days=365),
        schedule=[(today, usd(2500))],
        report_dates=[("final", today + datetime.timedelta(days=400))],
        agreement={
            "en": "<p>Use the money for the project.</p>",
            "es": "<p>Use el dinero para el proyecto.</p>",
        },
    )
    awards.accept_award(award, by=grantee, full_name="Ana Morales", agreed=True, language="es")
    installments.mark_due_installments(today=today)
    return {"award": award, "grantee": grantee, "finance": finance, "organization": organization}


@pytest.fixture
def new_page(browser):
    """A page in a browser context of its own (one person each)."""
    contexts = []

    def open_page(locale: str):
        context = browser.new_context(locale=locale, viewport={"width": 1280, "height": 900})
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.set_default_navigation_timeout(20_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_grantee_sets_up_payouts_and_finance_releases_the_payment(accepted_award, url, new_page):
    award, grantee, finance = accepted_award["award"], accepted_award["grantee"], accepted_award["finance"]
    installment = award.installments.get()
    payout_path = f"/es/payouts/bay-area/{accepted_award['organization'].pk}/"

    # 1. The grantee signs in on the Spanish site and goes from the dashboard to the award.
    home = new_page("es-ES")
    home.goto(url("/es/accounts/login/?next=/es/dashboard/"))
    home.locator("input[name=login]").fill(grantee.email)
    home.locator("input[name=password]").fill(PASSWORD)
    home.get_by_role("main").get_by_role("button", name="Iniciar sesión").click()
    expect(home).to_have_url(url("/es/dashboard/"))
    home.get_by_role("link", name=re.compile(re.escape(award.reference))).first.click()
    expect(home).to_have_url(url(f"/es/awards/{award.pk}/"))
    award_path = f"/es/awards/{award.pk}/"

    # 2. Payouts: the payout page, Stripe's (simulated) onboarding, and back.
    home.get_by_role("link", name=es("Set up payouts"), exact=True).click()
    expect(home).to_have_url(url(payout_path))
    assert_accessible(home)
    home.get_by_role("button", name=es("Set up payouts with Stripe")).click()
    expect(home).to_have_url(re.compile(r"/simulated-stripe/onboarding/acct_"))
    home.get_by_role("button", name=es("Submit complete details")).click()
    expect(home).to_have_url(url(payout_path))
    expect(home.get_by_role("main")).to_contain_text(es("Ready: the foundation can send your payments."))
    assert_accessible(home)

    # 3. Finance signs in to the admin and opens Payments.
    office = new_page("en-US")
    sign_in_staff(office, url, finance)
    menu = office.get_by_role("navigation", name="Main menu")
    menu.get_by_role("button", name="Payments").click()
    menu.get_by_role("link", name="Payments to release").click()
    expect(office).to_have_url(url("/admin/payments/"))
    row = office.get_by_role("row").filter(has_text=award.reference)
    expect(row).to_contain_text("Colectivo Tierra")
    expect(row).to_contain_text("Ready for payments")
    row.get_by_role("checkbox").check()
    office.get_by_role("button", name="Review and release").click()

    # 4. The confirmation: who gets what, the total, one button.
    expect(office).to_have_url(re.compile(r"/admin/payments/review/\?installment="))
    main = office.get_by_role("main")
    expect(main).to_contain_text("Colectivo Tierra")
    expect(main).to_contain_text("$2,500.00")
    expect(main).to_contain_text("Total in USD")
    assert not Disbursement.objects.exists()
    assert_accessible(office, context="main")
    office.get_by_role("button", name="Release 1 payment").click()
    expect(office).to_have_url(re.compile(r"/admin/payments/results/"))
    expect(office.get_by_role("main")).to_contain_text("Released: Paid")
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.PAID
    assert disbursement.installment_id == installment.pk

    # 5. The grantee sees the payment paid on the award page.
    home.goto(url(award_path))
    with translation.override("es"):
        amount, paid = money(usd(2500)), str(InstallmentStatus.PAID.label)
    expect(home.get_by_role("row").filter(has_text=amount).first).to_contain_text(paid)


def test_a_payment_stripe_did_not_answer_is_checked_with_stripe_never_sent_twice(
    accepted_award, url, new_page, monkeypatch
):
    """Stripe makes the transfer and then answers 500: the results say the outcome is unknown,
    the payment's page offers "Check with Stripe", which finds the transfer; nothing is sent twice."""
    from grants.payments.gateway import PaymentError
    from grants.payments.simulator.gateway import SimulatedGateway
    from grants.payments.simulator.models import SimulatedStripeObject
    from grants.services import payments

    award, finance = accepted_award["award"], accepted_award["finance"]
    payments.start_onboarding(
        organization=accepted_award["organization"],
        foundation=award.fund.foundation,
        by=accepted_award["grantee"],
    )
    payee = payments.payee_for(award)
    SimulatedGateway(award.fund.foundation).complete_onboarding(payee.stripe_account_id)
    real = SimulatedGateway.create_transfer

    def create_then_fail(self, **params):
        real(self, **params)
        raise PaymentError("api")

    monkeypatch.setattr(SimulatedGateway, "create_transfer", create_then_fail)
    monkeypatch.setattr("grants.payments.simulator.base.deliver_after_commit", lambda delivery: None)

    office = new_page("en-US")
    sign_in_staff(office, url, finance)
    office.goto(url("/admin/payments/"))
    office.get_by_role("row").filter(has_text=award.reference).get_by_role("checkbox").check()
    office.get_by_role("button", name="Review and release").click()
    office.get_by_role("button", name="Release 1 payment").click()
    expect(office.get_by_role("main")).to_contain_text("Stripe did not say whether this payment was made")
    disbursement = Disbursement.objects.get()
    assert disbursement.status == DisbursementStatus.UNKNOWN

    monkeypatch.setattr(SimulatedGateway, "create_transfer", real)
    office.goto(url(f"/admin/payments/disbursements/{disbursement.pk}/"))
    expect(office.get_by_role("main")).to_contain_text("Outcome unknown, being checked with Stripe")
    assert_accessible(office, context="main")
    office.screenshot(path="docs/screenshots/payment-outcome-unknown-wide.png", full_page=True)
    office.set_viewport_size({"width": 390, "height": 844})
    office.screenshot(path="docs/screenshots/payment-outcome-unknown-phone.png", full_page=True)
    office.get_by_role("button", name="Check with Stripe").click()

    expect(office.get_by_role("main")).to_contain_text("Paid")
    disbursement.refresh_from_db()
    assert disbursement.status == DisbursementStatus.PAID
    assert SimulatedStripeObject.objects.filter(kind="transfer").count() == 1
