"""Browser journey of a hotline stipend month: the coordinating group registers a volunteer and
logs a shift (in Spanish), a program officer computes and approves the month, a finance officer
pays it through the simulated Stripe, and the batch ends paid with the ledger posted."""

import datetime

import pytest
from allauth.account.models import EmailAddress
from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import (
    OrganizationMembership,
    PayeeAccount,
    ProgramType,
    RateUnit,
    Role,
    StipendBatch,
    StipendBatchStatus,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import ledger
from grants.services import stipends as stipend_service
from grants.services.schedules import add_months
from grants.services.staff import add_staff
from tests.e2e.axe import assert_accessible
from tests.e2e.staff_login import sign_in_staff
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, UserFactory

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password
WIDE = {"width": 1280, "height": 900}


def _user(email, *, language="en", staff_role=None, foundation=None):
    user = UserFactory(email=email, preferred_language=language, is_staff=staff_role is not None)
    EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
    if staff_role:
        add_staff(user, foundation=foundation, role=staff_role)
    return user


@pytest.fixture
def hotline(e2e_site):
    foundation = FoundationFactory(slug="bay-area", name="Bay Area Foundation")
    fund = FundFactory(foundation=foundation, name="Hotline Fund", program_type=ProgramType.HOTLINE_STIPENDS)
    officer = _user("olga@foundation.example", staff_role=Role.PROGRAM_OFFICER, foundation=foundation)
    finance = _user("felipe@foundation.example", staff_role=Role.FINANCE_OFFICER, foundation=foundation)
    coordinator = _user("lupe@hotline.example", language="es")
    group = OrganizationFactory(name="Línea de Respuesta Rápida")
    OrganizationMembership.objects.create(organization=group, user=coordinator, role="owner")
    ledger.record_income(fund=fund, amount=Money(5000, "USD"), source="grant", received_on=datetime.date(2026, 1, 2),
                         reference="GRANT-1", by=finance)  # fmt: skip
    program = stipend_service.save_program(
        fund=fund, name="Hotline stipends", rate=Money(25, "USD"), rate_unit=RateUnit.SHIFT,
        monthly_cap=Money(300, "USD"), coordinators=[group], by=officer,
    )  # fmt: skip
    gateway = SimulatedGateway(foundation)
    account = gateway.create_connected_account(
        email="lupe@hotline.example", metadata={}, idempotency_key="e2e:org"
    )
    gateway.complete_onboarding(account.id, outcome="complete")
    PayeeAccount.objects.update_or_create(
        foundation=foundation, organization=group, volunteer_pseudonym="",
        defaults={"stripe_account_id": account.id, "payout_status": "ready"},
    )  # fmt: skip
    return {"program": program, "group": group, "officer": officer, "finance": finance, "coordinator": coordinator,
            "fund": fund}  # fmt: skip


def _page(browser, locale):
    context = browser.new_context(locale=locale, viewport=WIDE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    return context, page


def test_a_stipend_month_from_shift_to_payment(hotline, url, browser):
    program, group = hotline["program"], hotline["group"]
    last_month = add_months(datetime.date.today().replace(day=1), -1)
    shift_day = last_month.replace(day=10)

    # The coordinator, in Spanish: dashboard → volunteers and shifts → add "Luna" → log a shift.
    context, page = _page(browser, "es-MX")
    page.goto(url("/es/accounts/login/?next=/es/dashboard/"))
    page.locator("input[name=login]").fill("lupe@hotline.example")
    page.locator("input[name=password]").fill(PASSWORD)
    page.locator("form button[type=submit]").last.click()
    expect(page).to_have_url(url("/es/dashboard/"))
    page.locator('a[href="/es/stipends/"]').click()
    page.locator(f'a[href="/es/stipends/{program.pk}/{group.pk}/"]').first.click()
    page.goto(url(f"/es/stipends/{program.pk}/{group.pk}/volunteers/"))
    assert_accessible(page)
    page.locator("input[name=pseudonym]").fill("Luna")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("table")).to_contain_text("Luna")
    page.goto(url(f"/es/stipends/{program.pk}/{group.pk}/shifts/new/"))
    page.locator("select[name=volunteer]").select_option(label="Luna")
    page.locator("input[name=date]").fill(shift_day.isoformat())
    page.locator("input[name=hours]").fill("4")
    page.locator("main form button[type=submit]").last.click()
    expect(page.locator("main")).to_contain_text("Luna")
    context.close()

    # The program officer computes last month and approves it after the confirmation.
    context, page = _page(browser, "en-US")
    sign_in_staff(page, url, hotline["officer"])
    page.goto(url(f"/admin/stipends/{program.pk}/"))
    page.locator("select[name=organization]").select_option(label=group.name)
    page.locator("input[name=month]").fill(last_month.strftime("%Y-%m"))
    page.get_by_role("button", name="Compute the stipends").click()
    batch = StipendBatch.objects.get(program=program, month=last_month)
    expect(page).to_have_url(url(f"/admin/stipends/batches/{batch.pk}/"))
    page.get_by_role("link", name="Approve…").click()
    expect(page.locator("#confirm")).to_contain_text("$25.00")
    page.get_by_role("button", name="Yes, approve").click()
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.APPROVED
    context.close()

    # Finance pays it; Stripe's confirmation comes back through the webhook and the batch is paid.
    context, page = _page(browser, "en-US")
    sign_in_staff(page, url, hotline["finance"])
    page.goto(url(f"/admin/stipends/batches/{batch.pk}/"))
    page.get_by_role("link", name="Pay…").click()
    expect(page.locator("#confirm")).to_contain_text(group.name)
    page.get_by_role("button", name="Yes, send the payments").click()
    batch.refresh_from_db()
    assert batch.status == StipendBatchStatus.PAID
    page.goto(url(f"/admin/stipends/batches/{batch.pk}/"))
    expect(page.locator("main")).to_contain_text("Paid")
    context.close()
    money = ledger.balances(hotline["fund"])
    assert (money.paid, money.outstanding) == (Money(25, "USD"), Money(0, "USD"))
