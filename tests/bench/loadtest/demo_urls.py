"""Print, as JSON, the public URLs of the seeded portal the load test visits.

Run in the bench's environment: ``python -m tests.bench.loadtest.demo_urls``. Prints
``{"pages": {name: [paths]}, "donate": [paths]}`` with the English home page, fund pages, call
pages, each foundation's and fund's transparency page, and the donate page of every fund that
takes gifts.
"""

import json
import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "fundportal.settings")
django.setup()

from django.urls import reverse  # noqa: E402
from django.utils import translation  # noqa: E402

from cms.models import FundingCallPage, FundPage, HomePage  # noqa: E402
from grants.models import Fund, FundStatus  # noqa: E402


def urls() -> dict:
    with translation.override("en"):
        english = {"locale__language_code": "en"}
        funds = Fund.objects.select_related("foundation").filter(status=FundStatus.ACTIVE)
        return {
            "pages": {
                "home": [page.url for page in HomePage.objects.live().filter(**english)],
                "fund page": [page.url for page in FundPage.objects.live().filter(**english)],
                "call page": [page.url for page in FundingCallPage.objects.live().filter(**english)],
                "transparency": sorted(
                    {reverse("transparency_foundation", args=[fund.foundation.slug]) for fund in funds}
                    | {reverse("transparency_fund", args=[fund.foundation.slug, fund.slug]) for fund in funds}
                ),
            },
            "donate": [
                reverse("donate", args=[fund.foundation.slug, fund.slug])
                for fund in funds.filter(accepts_donations=True)
            ],
        }


if __name__ == "__main__":
    print(json.dumps(urls()))
