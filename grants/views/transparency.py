"""Public transparency pages: where a foundation's (or a fund's) money went, year by year.

No login. Figures come from ``grants.services.transparency`` with small groups suppressed; the
report is cached for ``CACHE_SECONDS`` per foundation, fund, year and language. Nothing
invalidates it sooner: a new gift or grant shows up within ten minutes.
"""

from dataclasses import replace

from django.core.cache import cache
from django.http import Http404
from django.shortcuts import get_object_or_404, render
from django.utils import translation

from cms.blocks import metrics_from_stream
from cms.models import FundingCallPage
from grants.metrics import NUMBER
from grants.models import Foundation, Fund
from grants.services import bond_reporting, charts, transparency
from grants.services.transparency import Report

FIRST_YEAR, LAST_YEAR = 2000, 2100


def _year(request) -> int | None:
    """The year asked for in ``?year=``; None for the latest; 404 for nonsense."""
    text = request.GET.get("year", "").strip()
    if not text:
        return None
    # Four ASCII digits at most: "²" is a digit to str.isdigit() but not to int(), and Python
    # refuses to read numbers of thousands of digits.
    if not (text.isascii() and text.isdigit() and len(text) <= 4) or not FIRST_YEAR <= int(text) <= LAST_YEAR:
        raise Http404
    return int(text)


def _relabel(report: Report, language: str) -> None:
    """Label metrics with the calls' own metric names in ``language`` (one query)."""
    labels = {}
    pages = FundingCallPage.objects.live().filter(
        funding_call_id__in=report.call_ids, locale__language_code=language
    )
    for page in pages:
        for metric in metrics_from_stream(page.report_metrics or []):
            if metric["kind"] == NUMBER and metric["label"]:
                labels.setdefault(metric["key"], metric["label"])
    report.metrics = [
        replace(metric, label=labels.get(metric.key, metric.label)) for metric in report.metrics
    ]


def _cached(key: str, build) -> Report:
    report = cache.get(key)
    if report is None:
        report = build()
        _relabel(report, translation.get_language())
        cache.set(key, report, transparency.CACHE_SECONDS)
    return report


def foundation_page(request, foundation_slug):
    foundation = get_object_or_404(Foundation, slug=foundation_slug)
    year = _year(request)
    key = transparency.report_cache_key(foundation.pk, None, year, translation.get_language())
    report = _cached(key, lambda: transparency.foundation_report(foundation, year=year))
    context = {"report": report, "foundation": foundation, "charts": charts.transparency_charts(report)}
    context["bond_funds"] = bond_reporting.bond_funds(foundation)
    return render(request, "transparency/foundation.html", context)


def fund_page(request, foundation_slug, fund_slug):
    fund = get_object_or_404(
        Fund.objects.select_related("foundation"), foundation__slug=foundation_slug, slug=fund_slug
    )
    year = _year(request)
    key = transparency.report_cache_key(fund.foundation_id, fund.pk, year, translation.get_language())
    report = _cached(
        key,
        lambda: replace(
            transparency.fund_report(fund, year=year), revolving=bond_reporting.public_revolving(fund)
        ),
    )
    context = {"report": report, "foundation": fund.foundation, "fund": fund}
    context["charts"] = charts.transparency_charts(report, uid=f"transparency-{fund.slug}")
    return render(request, "transparency/fund.html", context)
