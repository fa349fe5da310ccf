"""The public page cache: visitors get the stored page, every change they would see clears it, and
nobody signed in is ever served (or stores) a cached page."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cms import page_cache
from cms.models import FundingCallPage
from grants.services import donations
from tests import pages
from tests.factories import FundFactory, FundingCallFactory, UserFactory


@pytest.fixture
def fund_page(site, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 300
    fund = FundFactory(name="Bond Fund")
    page, _es = pages.add_fund_page(site, fund)
    pages.add_call_page((page, _es), FundingCallFactory(fund=fund))
    return page


def queries(client, url, **extra) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, **extra)
    assert response.status_code == 200
    return len(captured), response.content.decode()


def test_a_visitor_gets_the_stored_page(fund_page, client):
    assert queries(client, fund_page.url)[0] > 0
    count, html = queries(client, fund_page.url)
    assert count == 0 and "Bond Fund" in html


def test_publishing_a_change_clears_it(fund_page, client, django_capture_on_commit_callbacks):
    queries(client, fund_page.url)
    with django_capture_on_commit_callbacks(execute=True):
        fund_page.title = "Bail and Bond Fund"
        pages.publish(fund_page)
    count, html = queries(client, fund_page.url)
    assert count > 0 and "Bail and Bond Fund" in html


def test_a_gift_clears_it_for_the_progress(fund_page, client, django_capture_on_commit_callbacks):
    queries(client, fund_page.url)
    assert queries(client, fund_page.url)[0] == 0
    with django_capture_on_commit_callbacks(execute=True):
        donations.invalidate_progress(fund_page.fund)
    assert queries(client, fund_page.url)[0] > 0


def test_editing_the_fund_clears_it(fund_page, client, django_capture_on_commit_callbacks):
    queries(client, fund_page.url)
    with django_capture_on_commit_callbacks(execute=True):
        fund_page.fund.accepts_donations = False
        fund_page.fund.save()
    count, html = queries(client, fund_page.url)
    assert count > 0 and "not taking donations" in html


def test_without_commit_nothing_is_cleared(fund_page, client):
    """The version moves at commit: a rolled-back change leaves the stored page in place."""
    queries(client, fund_page.url)
    donations.invalidate_progress(fund_page.fund)  # never committed in this test
    assert queries(client, fund_page.url)[0] == 0


def test_signed_in_people_always_get_a_fresh_page_and_store_none(fund_page, client):
    client.force_login(UserFactory(first_name="Ana"))
    assert queries(client, fund_page.url)[0] > 0
    assert queries(client, fund_page.url)[0] > 0
    client.logout()
    client.cookies.clear()
    assert queries(client, fund_page.url)[0] > 0  # the signed-in visits stored nothing


def test_query_strings_and_pending_messages_are_not_cached(fund_page, client):
    queries(client, fund_page.url + "?utm=1")
    assert queries(client, fund_page.url + "?utm=1")[0] > 0
    client.cookies["messages"] = "x"
    queries(client, fund_page.url)
    assert queries(client, fund_page.url)[0] > 0


def test_off_when_the_setting_is_zero(fund_page, client, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 0
    queries(client, fund_page.url)
    assert queries(client, fund_page.url)[0] > 0


def test_an_entry_never_outlives_the_next_change_of_a_call_status(fund_page, settings):
    assert page_cache._seconds_to_keep() <= 300
    FundingCallFactory(
        fund=fund_page.fund,
        opens_at=timezone.now() - datetime.timedelta(days=1),
        closes_at=timezone.now() + datetime.timedelta(seconds=40),
    )
    assert 0 < page_cache._seconds_to_keep() <= 40


# --- Public parts of personal pages: the dashboard's open calls and the menu's link -------------


@pytest.fixture
def applicant(client):
    user = UserFactory()
    client.force_login(user)
    return user


def open_calls_section(html: str) -> str:
    return html[html.index('id="open-heading"') :]


def test_the_dashboards_open_calls_are_read_once_and_follow_publishing(
    fund_page, client, applicant, django_capture_on_commit_callbacks
):
    first_count, first = queries(client, "/en/dashboard/")
    second_count, second = queries(client, "/en/dashboard/")
    assert open_calls_section(first) == open_calls_section(second)
    assert second_count < first_count  # the open calls (and the menu's link) came from the cache
    _count, spanish = queries(client, "/es/dashboard/")
    assert "(es)" in open_calls_section(spanish) and "(es)" not in open_calls_section(second)

    fund_pages = (fund_page, fund_page.get_translations().get().specific)
    with django_capture_on_commit_callbacks(execute=True):
        pages.add_call_page(fund_pages, FundingCallFactory(fund=fund_page.fund, title="Raid Response Call"))
    assert "Raid Response Call" in open_calls_section(queries(client, "/en/dashboard/")[1])
    assert "Raid Response Call (es)" in open_calls_section(queries(client, "/es/dashboard/")[1])


def test_the_dashboards_open_calls_drop_a_call_the_moment_it_closes(
    fund_page, client, applicant, time_machine
):
    time_machine.move_to(timezone.now(), tick=False)
    closing = FundingCallFactory(
        fund=fund_page.fund,
        title="Last Minute Call",
        closes_at=timezone.now() + datetime.timedelta(seconds=40),
    )
    pages.add_call_page((fund_page, fund_page.get_translations().get().specific), closing)
    assert FundingCallPage.objects.filter(funding_call=closing).exists()
    assert "Last Minute Call" in open_calls_section(queries(client, "/en/dashboard/")[1])
    time_machine.move_to(timezone.now() + datetime.timedelta(seconds=41), tick=False)
    assert "Last Minute Call" not in open_calls_section(queries(client, "/en/dashboard/")[1])


def test_the_menus_link_to_the_funds_follows_a_moved_page(
    site, fund_page, client, applicant, django_capture_on_commit_callbacks
):
    index = site["index"]
    assert f'href="{index.url}"' in queries(client, "/en/dashboard/")[1]
    with django_capture_on_commit_callbacks(execute=True):
        index.slug = "grants"
        pages.publish(index)
    assert 'href="/en/grants/"' in queries(client, "/en/dashboard/")[1]
