"""Public pages: content, language, money and dates per language, filters, query budgets."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money

from cms.models import FoundationPage, FundIndexPage, FundingCallPage, FundPage, HomePage
from grants.models import ProgramType
from tests import pages
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory


def _open_call_on_site(site, **call_kwargs):
    fund = FundFactory(**call_kwargs.pop("fund_kwargs", {}))
    fund_pages = pages.add_fund_page(site, fund)
    call = FundingCallFactory(fund=fund, **call_kwargs)
    call_pages = pages.add_call_page(fund_pages, call)
    return fund, call, fund_pages, call_pages


def test_page_tree_rules():
    assert HomePage.allowed_subpage_models()
    assert FundPage.parent_page_types == ["cms.FoundationPage"]
    assert FundIndexPage.subpage_types == []
    assert not FoundationPage.is_creatable  # made per foundation by cms.sections only
    assert FundingCallPage.parent_page_types == ["cms.FundPage"]
    assert FundingCallPage.subpage_types == []


def test_home_lists_open_calls_before_funds(client, site):
    fund, call, _, _ = _open_call_on_site(site)
    response = client.get("/en/")
    html = response.content.decode()
    assert response.status_code == 200
    assert html.index(call.title) < html.index("Our funds") < html.index(fund.name)


def test_closed_call_is_not_on_home_but_is_in_the_listing(client, site):
    now = timezone.now()
    _, call, _, _ = _open_call_on_site(
        site, opens_at=now - datetime.timedelta(days=40), closes_at=now - datetime.timedelta(days=1)
    )
    assert call.title not in client.get("/en/").content.decode()
    listing = client.get("/en/funds/?status=closed").content.decode()
    assert call.title in listing


def test_call_page_in_spanish_formats_money_and_dates(client, site):
    _, _, _, (page_en, page_es) = _open_call_on_site(
        site,
        min_amount=Money(5000, "USD"),
        max_amount=Money(50000, "USD"),
        closes_at=datetime.datetime(2026, 12, 15, 17, 0, tzinfo=datetime.UTC) + datetime.timedelta(hours=8),
        opens_at=datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC),
    )
    spanish = client.get(page_es.url).content.decode()
    assert 'lang="es"' in spanish
    assert "5.000,00\xa0US$" in spanish or "5.000,00 US$" in spanish
    assert "15 dic 2026" in spanish
    english = client.get(page_en.url).content.decode()
    assert "$5,000.00" in english
    assert "Dec 15, 2026" in english


def test_spanish_interface_strings_are_translated(client, site):
    _, _, _, (_, page_es) = _open_call_on_site(site)
    html = client.get(page_es.url).content.decode()
    assert "Quién puede solicitar" in html
    assert "Saltar al contenido principal" in html
    assert "Who can apply" not in html


def test_language_switch_keeps_the_page(client, site):
    _, _, _, (page_en, page_es) = _open_call_on_site(site)
    html = client.get(page_en.url).content.decode()
    switch = f"/language/?lang=es&amp;next={page_es.url.replace('/', '%2F')}"
    assert switch in html
    response = client.get(f"/language/?lang=es&next={page_es.url}")
    assert response.status_code == 302
    assert response["Location"] == page_es.url
    assert response.cookies["django_language"].value == "es"


def test_language_switch_refuses_foreign_redirects(client, db):
    response = client.get("/language/?lang=es&next=https://evil.example.com/")
    assert response["Location"] == "/es/"
    response = client.get("/language/?lang=xx&next=/en/")
    assert response.cookies["django_language"].value == "en"


def test_listing_filters_by_program_type_and_status(client, site):
    now = timezone.now()
    _, hotline_call, _, _ = _open_call_on_site(
        site, fund_kwargs={"program_type": ProgramType.HOTLINE_STIPENDS}
    )
    _, upcoming_call, _, _ = _open_call_on_site(
        site, opens_at=now + datetime.timedelta(days=3), closes_at=now + datetime.timedelta(days=30)
    )
    only_hotline = client.get("/en/funds/?program=hotline_stipends").content.decode()
    assert hotline_call.title in only_hotline
    assert upcoming_call.title not in only_hotline
    only_upcoming = client.get("/en/funds/?status=upcoming").content.decode()
    assert upcoming_call.title in only_upcoming
    assert hotline_call.title not in only_upcoming
    # Unknown filter values are ignored rather than erroring.
    assert client.get("/en/funds/?status=bogus&program=<script>").status_code == 200


def test_call_page_must_point_at_a_call_of_its_fund(site):
    _, call, fund_pages, _ = _open_call_on_site(site)
    foreign_call = FundingCallFactory()
    page = FundingCallPage(
        title="Wrong", slug="wrong", funding_call=foreign_call, summary="x", eligibility="<p>x</p>"
    )
    fund_pages[0].add_child(instance=FundingCallPage(title="Right", slug="right", funding_call=call,
                                                     summary="x", eligibility="<p>x</p>"))  # fmt: skip
    with pytest.raises(ValidationError):
        fund_pages[0].add_child(instance=page)


def _queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_home_listing_and_call_pages_query_count_does_not_grow(client, site):
    foundation = FoundationFactory()
    fund = FundFactory(foundation=foundation)
    fund_pages = pages.add_fund_page(site, fund)
    first_call = pages.add_call_page(fund_pages, FundingCallFactory(fund=fund))
    urls = ["/en/", "/es/", "/en/funds/", "/es/funds/?status=open", first_call[1].url, fund_pages[0].url]
    for url in urls:
        client.get(url)  # warm per-process caches (site root paths)
    before = {url: _queries(client, url) for url in urls}
    for _ in range(5):
        _open_call_on_site(site, fund_kwargs={"foundation": foundation})
        pages.add_call_page(fund_pages, FundingCallFactory(fund=fund))
    after = {url: _queries(client, url) for url in urls}
    assert after == before
    assert max(after.values()) <= 20


def test_language_switch_on_sign_in_keeps_where_the_person_was_going(client, db):
    html = client.get("/es/accounts/login/?next=/es/dashboard/").content.decode()
    assert "next%3D%252Fen%252Fdashboard%252F" in html  # the English link also leads on in English
