"""The busiest pages read the database a fixed number of times, however many rows they show.

Each test renders a page with 5 rows, adds 45 more, renders it again: the number of queries must
be the same (no query per row) and stay under a bound. The public page cache is off here
(the test default), so the pages are really rendered; one test checks that with the cache on a
visitor's second visit reads nothing at all.
"""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from djmoney.money import Money

from cms.models import FundingCallPage
from grants.models import (
    Application,
    ApplicationStatus,
    Donation,
    DonationStatus,
    Donor,
    InformationRequest,
    OrganizationMembership,
    Role,
)
from grants.services.staff import add_staff
from tests import pages
from tests.factories import (
    ApplicationFactory,
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)

STATUSES = [ApplicationStatus.SUBMITTED, ApplicationStatus.IN_REVIEW, ApplicationStatus.APPROVED,
            ApplicationStatus.DECLINED, ApplicationStatus.DRAFT]  # fmt: skip


def count_queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    # No server-side cursor (PostgreSQL: declare, fetch, close — three round trips for a handful
    # of filter options; Django's choice fields stream their options through one).
    cursors = [q["sql"] for q in captured.captured_queries if q["sql"].lstrip().upper().startswith("DECLARE")]
    assert not cursors, cursors
    return len(captured)


def same_count_for_5_and_50(client, url, add_rows, *, bound: int) -> int:
    add_rows(0, 5)
    client.get(url)  # first request of a session warms per-process caches (content types, sites)
    five = count_queries(client, url)
    add_rows(5, 50)
    fifty = count_queries(client, url)
    assert five == fifty, f"{url}: {five} queries with 5 rows, {fifty} with 50"
    assert fifty <= bound, f"{url}: {fifty} queries"
    return fifty


@pytest.fixture
def world(site):
    foundation = FoundationFactory()
    fund = FundFactory(foundation=foundation)
    call = FundingCallFactory(fund=fund)
    fund_pages = pages.add_fund_page(site, fund)
    pages.add_call_page(fund_pages, call)
    return {"site": site, "foundation": foundation, "fund": fund, "call": call, "fund_pages": fund_pages}


def test_officers_application_list(world, client):
    officer = UserFactory()
    add_staff(officer, foundation=world["foundation"], role=Role.PROGRAM_OFFICER)
    client.force_login(officer)

    def add_rows(start, stop):
        for n in range(start, stop):
            ApplicationFactory(call=world["call"], status=STATUSES[n % 4], organization=OrganizationFactory())

    same_count_for_5_and_50(client, f"/admin/applications/?call={world['call'].pk}", add_rows, bound=25)


SNAPSHOT = [
    {
        "number": 1,
        "section": "About you",
        "questions": [{"id": "mission", "type": "text", "label": "Mission"}],
    },
    {"number": 2, "section": "Budget", "questions": [{"id": "costs", "type": "text", "label": "Costs"}]},
]


def test_applicant_dashboard(world, client):
    applicant = UserFactory()
    organization = OrganizationFactory()
    OrganizationMembership.objects.create(organization=organization, user=applicant)
    client.force_login(applicant)
    calls = [world["call"], FundingCallFactory(fund=world["fund"])]
    statuses = [ApplicationStatus.MORE_INFO_REQUESTED, *STATUSES]  # every kind of row among the first 5

    def add_rows(start, stop):
        for n in range(start, stop):
            status = statuses[n % len(statuses)]
            application = ApplicationFactory(
                call=calls[n % 2], organization=organization, status=status, question_snapshot=SNAPSHOT,
                reference=None if status == ApplicationStatus.DRAFT else f"Q-{n}",
            )  # fmt: skip
            if status == ApplicationStatus.MORE_INFO_REQUESTED:
                InformationRequest.objects.create(application=application, message=f"Costs of {n}?",
                                                  question_ids=["costs"])  # fmt: skip

    same_count_for_5_and_50(client, "/en/dashboard/", add_rows, bound=30)
    page = client.get("/en/dashboard/").content.decode()
    # Each waiting application links to the step of the questions asked (from its snapshot).
    waiting = Application.objects.filter(
        organization=organization, status=ApplicationStatus.MORE_INFO_REQUESTED
    )
    shown = [a for a in waiting if f">{a.reference}</a>" in page]
    assert shown
    for application in shown:
        assert reverse("application_section", kwargs={"pk": application.pk, "number": 2}) in page


def test_donations_list(world, client):
    admin = UserFactory()
    add_staff(admin, foundation=world["foundation"], role=Role.FOUNDATION_ADMIN)
    client.force_login(admin)
    foundation, fund = world["foundation"], world["fund"]

    def add_rows(start, stop):
        for n in range(start, stop):
            donor = Donor.objects.create(foundation=foundation, email=f"d{n}@example.org", name=f"Donor {n}")
            Donation.objects.create(
                foundation=foundation, fund=fund, donor=donor, status=DonationStatus.COMPLETED,
                amount=Money(25, "USD"), gross=Money(25, "USD"), receipt_number=n + 1,
                received_on=datetime.date(2026, 1, 1) + datetime.timedelta(days=n),
            )  # fmt: skip

    # The admin menu asks the user's roles from one read per request (it was ~25 queries).
    same_count_for_5_and_50(client, "/admin/donations/", add_rows, bound=25)


def _add_call_pages(world, start, stop):
    fund_page = world["fund_pages"][0]
    for n in range(start, stop):
        call = FundingCallFactory(
            fund=world["fund"], closes_at=timezone.now() + datetime.timedelta(days=20 + n)
        )
        pages.publish(
            fund_page.add_child(
                instance=FundingCallPage(
                    title=f"Call page {n}",
                    slug=f"extra-{n}",
                    funding_call=call,
                    summary="Grants.",
                    eligibility="<p>Groups.</p>",
                )  # fmt: skip
            )
        )


def test_public_home_page(world, client):
    same_count_for_5_and_50(client, "/en/", lambda a, b: _add_call_pages(world, a, b), bound=20)


def test_public_fund_page(world, client):
    url = world["fund_pages"][0].url
    same_count_for_5_and_50(client, url, lambda a, b: _add_call_pages(world, a, b), bound=20)


def test_public_call_page(world, client):
    url = FundingCallPage.objects.get(funding_call=world["call"], locale__language_code="en").url

    def add_rows(start, stop):
        for _n in range(start, stop):
            ApplicationFactory(call=world["call"])

    same_count_for_5_and_50(client, url, add_rows, bound=20)


def test_with_the_page_cache_a_visitors_second_visit_reads_nothing(world, client, settings):
    settings.PUBLIC_PAGE_CACHE_SECONDS = 300
    url = world["fund_pages"][0].url
    first = count_queries(client, url)
    assert first > 0
    assert count_queries(client, url) == 0


def test_applicant_dashboard_shows_submitted_applications_a_page_at_a_time(world, client):
    applicant = UserFactory()
    organization = OrganizationFactory()
    OrganizationMembership.objects.create(organization=organization, user=applicant)
    client.force_login(applicant)
    for n in range(25):
        ApplicationFactory(call=world["call"], organization=organization, status=ApplicationStatus.SUBMITTED,
                           reference=f"Q-{n:02}")  # fmt: skip
    ApplicationFactory(
        call=world["call"], organization=organization, status=ApplicationStatus.DRAFT, reference=None
    )

    first = client.get("/en/dashboard/")
    second = client.get("/en/dashboard/?page=2")
    shown = [response.context["applications"] for response in (first, second)]
    assert [len(rows) for rows in shown] == [20, 5]
    assert {a.reference for a in shown[0]}.isdisjoint({a.reference for a in shown[1]})
    assert len({a.reference for rows in shown for a in rows}) == 25
    assert len(first.context["drafts"]) == len(second.context["drafts"]) == 1  # drafts on every page
    assert b'rel="next"' in first.content and b'rel="prev"' in second.content
    assert client.get("/en/dashboard/?page=99").context["page"].number == 2  # past the end: the last


@pytest.mark.django_db
def test_staff_roles_are_read_once_per_request_and_follow_changes():
    from grants.permissions import foundation_ids, has_role, roles_memo
    from grants.services.staff import add_staff as add

    staff = UserFactory()
    first, second = FoundationFactory(), FoundationFactory()
    add(staff, foundation=first, role=Role.PROGRAM_OFFICER)
    with roles_memo():
        with CaptureQueriesContext(connection) as captured:
            assert has_role(staff, first, Role.PROGRAM_OFFICER)
            assert not has_role(staff, first, Role.FOUNDATION_ADMIN)
            assert foundation_ids(staff) == {first.pk}
            assert foundation_ids(staff, [Role.AUDITOR]) == set()
        assert len(captured) == 1
        add(staff, foundation=second, role=Role.AUDITOR)  # a change during the request is seen
        assert has_role(staff, second, Role.AUDITOR)
        assert foundation_ids(staff, [Role.AUDITOR]) == {second.pk}
    with CaptureQueriesContext(connection) as captured:  # outside a request: no memo
        assert has_role(staff, second, Role.AUDITOR)
        assert has_role(staff, second, Role.AUDITOR)
    assert len(captured) == 2
