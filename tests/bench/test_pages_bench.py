"""Benchmark: public pages and the busiest lists at scale, each against a baseline of the same run.

Not part of the default run (``make bench``). The portal is generated once (``conftest.scale_data``:
50,000 applications, 1,000+ of them in one call, 200,000 donations). Every target is timed through
the full middleware with Django's test client, alternating with its baseline, 30 times after a
warm-up; the line printed is the ratio of the medians.

- Public home, fund and call pages (a visitor not signed in) against a trivial Django view that
  renders a template of the same size in bytes. Target: ≤ 2.
- Officers' application list (a call with 1,000+ applications), applicant dashboard, donations
  list against the same rows read from a bare queryset (``values()``) into a minimal table
  inside the area's base layout (Wagtail's admin base template for staff lists, the site's
  base template for the dashboard), for the same signed-in user. Target: ≤ 2, and a query count that does not grow with the rows
  (checked in the normal suite, ``tests/grants/test_query_counts.py``; printed here).

Runs on PostgreSQL when DATABASE_URL points there (as ``make bench`` is meant to), else SQLite.
"""

import pytest
from django.db import connection
from django.db.models import F
from django.http import HttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import path
from django.views.generic import TemplateView
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin

from cms.models import FundingCallPage, FundPage
from fundportal.urls import urlpatterns as project_urlpatterns
from grants.admin.donations import PER_PAGE
from grants.models import Application, ApplicationStatus, OrganizationMembership, User
from grants.permissions import applications_visible_to_staff, donations_visible_to
from grants.views.applications import DASHBOARD_PER_PAGE
from tests.bench.conftest import paired_medians, report

MAX_RATIO = 2.0
TRIVIAL_TEMPLATES = {}
ROWS_TABLE = (
    "<table>{% for row in rows %}<tr>{% for value in row.values %}"
    "<td>{{ value }}</td>{% endfor %}</tr>{% endfor %}</table>"
)
# The same rows inside the layout every page of that area necessarily has: Wagtail's admin
# base template (menu, header, breadcrumbs) for the staff lists, the site's base template for
# the applicant's dashboard. The layout is not the list's cost: without it the ratio would
# compare a whole admin page with a bare table.
ADMIN_ROWS_TEMPLATE = engines["django"].from_string(
    '{% extends "wagtailadmin/generic/base.html" %}{% block main_content %}' + ROWS_TABLE + "{% endblock %}"
)
SITE_ROWS_TEMPLATE = engines["django"].from_string(
    '{% extends "base.html" %}{% block content %}' + ROWS_TABLE + "{% endblock %}"
)


class AdminRowsView(WagtailAdminTemplateMixin, TemplateView):
    page_title = "Rows"

    def render_to_response(self, context, **kwargs):
        return HttpResponse(ADMIN_ROWS_TEMPLATE.render(context, self.request))


def trivial_view(request, size):
    """The floor for a public page: a template of the page's size, rendered through the same stack."""
    return HttpResponse(TRIVIAL_TEMPLATES[size].render({}, request))


def padded_template(size: int):
    head, tail = "<!DOCTYPE html><html><body><p>", "</p></body></html>"
    return engines["django"].from_string(head + "x" * max(0, size - len(head) - len(tail)) + tail)


def bare_rows(request, kind):
    """The same rows as the list, from a bare queryset into a minimal template."""
    if kind == "applications":
        rows = (
            applications_visible_to_staff(request.user)
            .filter(call_id=request.GET["call"])
            .order_by(F("decision_due_at").asc(nulls_last=True), F("submitted_at").asc(nulls_last=True), "pk")
            .values("reference", "organization__name", "call__title", "status", "requested_amount",
                    "review_score", "review_count", "decision_due_at", "submitted_at")[:50]
        )  # fmt: skip
    elif kind == "dashboard":
        organizations = OrganizationMembership.objects.filter(user=request.user).values("organization_id")
        # The dashboard shows every draft and one page of submitted applications.
        mine = Application.objects.filter(organization_id__in=organizations).order_by("-updated_at", "-pk")
        columns = ("reference", "title", "call__title", "status", "requested_amount", "submitted_at")
        rows = [
            *mine.filter(status=ApplicationStatus.DRAFT).values(*columns),
            *mine.exclude(status=ApplicationStatus.DRAFT).values(*columns)[:DASHBOARD_PER_PAGE],
        ]
        return HttpResponse(SITE_ROWS_TEMPLATE.render({"rows": rows}, request))
    else:
        rows = (
            donations_visible_to(request.user)
            .order_by("-gift_date", "-pk")
            .values("gift_date", "receipt_number", "donor__name", "fund__name", "gross", "status", "channel")[
                :PER_PAGE
            ]
        )
    return AdminRowsView.as_view(extra_context={"rows": list(rows)})(request)


urlpatterns = [
    path("bench/trivial/<int:size>/", trivial_view),
    path("bench/rows/<slug:kind>/", bare_rows),
    *project_urlpatterns,
]


@pytest.fixture
def bench_settings(settings):
    settings.ROOT_URLCONF = __name__
    settings.PUBLIC_PAGE_CACHE_SECONDS = 300
    return settings


def public_url(data, target: str) -> str:
    if target == "home":
        return "/en/"
    if target == "fund":
        return FundPage.objects.live().get(fund_id=data.fund_ids[0], locale__language_code="en").url
    return (
        FundingCallPage.objects.live().get(funding_call_id=data.big_call_id, locale__language_code="en").url
    )


def queries(client, url) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["home", "fund", "call"])
def test_public_page_against_a_trivial_view(scale_data, client, bench_settings, target):
    url = public_url(scale_data, target)
    response = client.get(url)
    assert response.status_code == 200
    size = len(response.content)
    TRIVIAL_TEMPLATES[size] = padded_template(size)
    trivial_url = f"/bench/trivial/{size}/"
    assert len(client.get(trivial_url).content) == size
    page, trivial = paired_medians(lambda: client.get(url), lambda: client.get(trivial_url))
    holds = report(
        f"public {target} page", page / trivial, MAX_RATIO,
        f"(page {page * 1000:.1f} ms, trivial view {trivial * 1000:.1f} ms, {size:,} bytes, "
        f"{queries(client, url)} queries)",
    )  # fmt: skip
    assert holds


LISTS = {
    "officers' application list": ("officer_email", "/admin/applications/?call={call}", "applications"),
    "applicant dashboard": ("applicant_email", "/en/dashboard/", "dashboard"),
    "donations list": ("admin_email", "/admin/donations/", "donations"),
}


@pytest.mark.django_db
@pytest.mark.parametrize("target", list(LISTS))
def test_list_against_the_same_rows_from_a_bare_queryset(scale_data, client, bench_settings, target):
    login, url, kind = LISTS[target]
    client.force_login(User.objects.get(email=getattr(scale_data, login)))
    url = url.format(call=scale_data.big_call_id)
    baseline_url = f"/bench/rows/{kind}/?call={scale_data.big_call_id}"
    assert client.get(url).status_code == 200
    assert client.get(baseline_url).status_code == 200
    page, bare = paired_medians(lambda: client.get(url), lambda: client.get(baseline_url))
    holds = report(
        target, page / bare, MAX_RATIO,
        f"(page {page * 1000:.1f} ms, bare queryset {bare * 1000:.1f} ms, {queries(client, url)} queries)",
    )  # fmt: skip
    assert holds
