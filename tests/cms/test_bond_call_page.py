"""A call of a bond fund leads partners to their Bonds page; it never offers the application form."""

import datetime

import pytest
from django.utils import timezone
from djmoney.money import Money

from grants.models import ProgramType
from tests import pages
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "language, heading, words",
    [("en", "Ask for a bond", "no names, A-numbers"), ("es", "Solicitar una fianza", "ni números A")],
)
def test_a_bond_fund_call_sends_partners_to_their_bonds_page(client, language, heading, words):
    site = pages.build_site()
    fund = FundFactory(foundation=FoundationFactory(), program_type=ProgramType.BOND_FUND)
    now = timezone.now()
    call = FundingCallFactory(
        fund=fund, opens_at=now - datetime.timedelta(days=1), closes_at=now + datetime.timedelta(days=9),
        min_amount=Money(1500, "USD"), max_amount=Money(15000, "USD"),
    )  # fmt: skip
    page, page_es = pages.add_call_page(pages.add_fund_page(site, fund), call)
    html = client.get((page if language == "en" else page_es).url).content.decode()
    assert heading in html and words in html
    assert f"/apply/{call.pk}" not in html and "apply_start" not in html
    assert f'href="/{language}/organizations/"' in html
