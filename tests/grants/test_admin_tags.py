"""Pagination links keep the filters and drop the old page number."""

from django.template import Context, Template
from django.test import RequestFactory


def test_query_without_page_keeps_filters_and_drops_the_page():
    request = RequestFactory().get("/admin/donations/", {"fund": "3", "status": "completed", "p": "4"})
    rendered = Template("{% load admin_tags %}{% query_without_page %}").render(Context({"request": request}))
    assert rendered == "fund=3&amp;status=completed"
