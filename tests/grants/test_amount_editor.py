"""Amounts typed in Wagtail's own editor (funds and funding calls) read the staff member's admin
language: "12.000" and "1.500,75" in Spanish are 12000 and 1500.75, the same as "12,000" and
"1,500.75" in English; ambiguous writing is refused with a translated message; the stored value
is shown the reader's way. Tested through the real admin views, the language set in the
officer's Wagtail profile."""

from decimal import Decimal

import pytest
from djmoney.money import Money
from wagtail.users.models import UserProfile

from grants.models import Fund, FundingCall, Role
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory
from tests.grants.money_fixtures import staff


@pytest.fixture
def scene(db):
    foundation = FoundationFactory(slug="bay")
    fund = FundFactory(foundation=foundation, name="Bond Fund", currency="USD",
                       fundraising_goal=Money("250000", "USD"))  # fmt: skip
    call = FundingCallFactory(fund=fund, min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD"))
    officer = staff(foundation, Role.FOUNDATION_ADMIN)
    return {"foundation": foundation, "fund": fund, "call": call, "officer": officer}


def _admin_in(client, user, language):
    profile = UserProfile.get_for_user(user)
    profile.preferred_language = language
    profile.save()
    client.force_login(user)
    return client


def fund_data(fund, **changes):
    data = {
        "foundation": fund.foundation_id,
        "name": fund.name,
        "name_es": "",
        "slug": fund.slug,
        "program_type": fund.program_type,
        "status": fund.status,
        "currency": fund.currency,
        "fundraising_goal": "",
        "accepts_donations": "on",
        "donation_presets": fund.donation_presets,
        "donation_minimum": "5",
        "donation_maximum": "10000",
    }
    data.update(changes)
    return data


def call_data(call, **changes):
    data = {
        "fund": call.fund_id,
        "title": call.title,
        "opens_at": call.opens_at_local.strftime("%Y-%m-%d %H:%M"),
        "closes_at": call.closes_at_local.strftime("%Y-%m-%d %H:%M"),
        "time_zone": call.time_zone,
        "min_amount": "1000",
        "max_amount": "20000",
        "report_variance_percent": "15",
        "hold_payments_for_overdue_reports": "on",
    }
    data.update(changes)
    return data


@pytest.mark.parametrize(("language", "goal", "smallest", "largest"), [
    ("es", "12.000", "2,50", "1.500,75"),
    ("en", "12,000", "2.50", "1,500.75"),
])  # fmt: skip
def test_a_funds_goal_and_gift_bounds_are_read_in_the_admin_language(client, scene, language, goal, smallest,
                                                                      largest):  # fmt: skip
    fund = scene["fund"]
    _admin_in(client, scene["officer"], language)

    response = client.post(f"/admin/funds/edit/{fund.pk}/", fund_data(
        fund, fundraising_goal=goal, donation_minimum=smallest, donation_maximum=largest))  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:3000]
    fund.refresh_from_db()
    assert fund.fundraising_goal == Money("12000", "USD")
    assert fund.donation_minimum == Decimal("2.50")
    assert fund.donation_maximum == Decimal("1500.75")


@pytest.mark.parametrize(("language", "shown"), [("es", "250.000,00"), ("en", "250,000.00")])
def test_the_fund_editor_shows_the_goal_in_the_readers_format_without_a_currency_menu(client, scene, language,
                                                                                      shown):  # fmt: skip
    _admin_in(client, scene["officer"], language)

    page = client.get(f"/admin/funds/edit/{scene['fund'].pk}/").content.decode()

    assert f'value="{shown}"' in page
    assert 'name="fundraising_goal_1"' not in page  # the goal is in the fund's currency, no menu
    assert 'inputmode="decimal"' in page
    example = {"es": "1.500,75", "en": "1,500.75"}[language]
    assert example in page


@pytest.mark.parametrize(("language", "typed", "message"), [
    ("es", "1,500", "podría significar 1.500 o 1,5"),
    ("en", "1.500", "could mean 1,500 or 1.5"),
    ("es", "1500.75", "por ejemplo 1.500,75"),
    ("en", "1.500,75", "for example 1,500.75"),
    ("es", "99999999999999999999999999999999999999999", "monto de 999.999.999.999,99 como máximo"),
])  # fmt: skip
def test_ambiguous_or_foreign_writing_is_refused_in_the_admin_language(
    client, scene, language, typed, message
):
    fund = scene["fund"]
    _admin_in(client, scene["officer"], language)

    response = client.post(f"/admin/funds/edit/{fund.pk}/", fund_data(fund, fundraising_goal=typed))

    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert f'value="{typed}"' in page  # what was typed comes back as typed
    fund.refresh_from_db()
    assert fund.fundraising_goal == Money("250000", "USD")


def test_a_zero_smallest_gift_is_refused(client, scene):
    fund = scene["fund"]
    _admin_in(client, scene["officer"], "es")

    response = client.post(f"/admin/funds/edit/{fund.pk}/", fund_data(fund, donation_minimum="0"))

    assert response.status_code == 200
    assert "Escriba un monto mayor que cero" in response.content.decode()
    fund.refresh_from_db()
    assert fund.donation_minimum == Decimal("5")


def test_a_new_yen_fund_reads_1500_without_decimals(client, scene):
    _admin_in(client, scene["officer"], "es")
    template = Fund(foundation=scene["foundation"], name="Fondo", slug="yen", program_type="other",
                    status="active", currency="JPY", donation_presets="1000")  # fmt: skip

    response = client.post("/admin/funds/new/", fund_data(
        template, fundraising_goal="1.500", donation_minimum="500", donation_maximum="1.000.000"))  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:3000]
    fund = Fund.objects.get(slug="yen")
    assert fund.fundraising_goal == Money(1500, "JPY")
    assert fund.donation_maximum == Decimal("1000000")

    refused = client.post("/admin/funds/new/", fund_data(template, slug="yen2", fundraising_goal="1.500,50"))
    assert "no tienen decimales" in refused.content.decode()
    assert not Fund.objects.filter(slug="yen2").exists()


@pytest.mark.parametrize(("language", "smallest", "largest"), [
    ("es", "12.000", "1.500.000,75"),
    ("en", "12,000", "1,500,000.75"),
])  # fmt: skip
def test_a_calls_amount_range_is_read_in_the_admin_language(client, scene, language, smallest, largest):
    call = scene["call"]
    _admin_in(client, scene["officer"], language)

    response = client.post(f"/admin/calls/edit/{call.pk}/", call_data(call, min_amount=smallest,
                                                                      max_amount=largest))  # fmt: skip

    assert response.status_code == 302, response.content.decode()[:3000]
    call.refresh_from_db()
    assert call.min_amount == Money("12000", "USD")
    assert call.max_amount == Money("1500000.75", "USD")


def test_the_call_editor_shows_its_range_in_spanish_and_refuses_ambiguity(client, scene):
    call = scene["call"]
    _admin_in(client, scene["officer"], "es")

    page = client.get(f"/admin/calls/edit/{call.pk}/").content.decode()
    assert 'value="1.000,00"' in page and 'value="20.000,00"' in page

    response = client.post(f"/admin/calls/edit/{call.pk}/", call_data(call, max_amount="20,000"))
    assert response.status_code == 200
    assert "podría significar 20.000 o 20" in response.content.decode()
    call.refresh_from_db()
    assert call.max_amount == Money(20000, "USD")


def test_a_new_call_takes_its_funds_currency(client, scene):
    yen = FundFactory(foundation=scene["foundation"], currency="JPY", slug="yen")
    _admin_in(client, scene["officer"], "es")
    template = FundingCallFactory.build(fund=yen, title="Ronda de yenes")

    response = client.post("/admin/calls/new/", call_data(template, min_amount="1.000", max_amount="50.000"))

    assert response.status_code == 302, response.content.decode()[:3000]
    call = FundingCall.objects.get(title="Ronda de yenes")
    assert call.min_amount == Money(1000, "JPY") and call.max_amount == Money(50000, "JPY")


def test_a_call_of_another_foundations_fund_is_refused_without_guessing_its_currency(client, scene):
    theirs = FundFactory(foundation=FoundationFactory(slug="other"), currency="USD")
    _admin_in(client, scene["officer"], "es")
    template = FundingCallFactory.build(fund=theirs, title="Intrusa")

    response = client.post("/admin/calls/new/", call_data(template))

    assert response.status_code == 200
    assert not FundingCall.objects.filter(title="Intrusa").exists()
