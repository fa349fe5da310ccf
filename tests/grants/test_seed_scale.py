"""The scale generator (``manage.py seed_scale``) at a tiny scale: the counts asked for, rows that
keep the portal's rules (foundation scoping, balanced journal, receipt numbers), pages that
render, and a refusal outside demo mode."""

import io
import json

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.db.models import Count, F, Sum

from cms.models import FundingCallPage, FundPage, HomePage
from grants.models import (
    Application,
    ApplicationStatus,
    Donation,
    DonationStatus,
    Donor,
    Foundation,
    Fund,
    FundingCall,
    JournalEntry,
    JournalLine,
    Organization,
    OrganizationMembership,
    StaffMembership,
    User,
)
from tests import pages

TINY = {"foundations": 2, "funds": 3, "calls": 6, "applications": 60, "donations": 300, "organizations": 12}


def seed(**options) -> dict:
    out = io.StringIO()
    call_command("seed_scale", **{**TINY, **options}, stdout=out)
    return json.loads(out.getvalue().strip().splitlines()[-1])


def test_generates_the_counts_asked_for(db):
    report = seed(seed=11, journal_lines=101)
    assert Foundation.objects.filter(slug__startswith="scale11-").count() == 2
    assert Fund.objects.count() == 3 and FundingCall.objects.count() == 6
    assert Application.objects.count() == 60
    assert Donation.objects.count() == 300
    assert Donor.objects.count() == 30  # one per ten donations by default
    assert Organization.objects.count() == 12
    assert OrganizationMembership.objects.count() == 12
    assert JournalLine.objects.count() == 101
    assert "60 applications" in report["counts"]["applications"]
    assert set(report["seconds"]) >= {"applications", "donations", "journal_lines", "pages"}


def test_rows_keep_the_portals_rules(db):
    seed(seed=12, journal_lines=0)
    # Every gift's donor and fund belong to the gift's foundation.
    assert not Donation.objects.exclude(donor__foundation=F("foundation")).exists()
    assert not Donation.objects.exclude(fund__foundation=F("foundation")).exists()
    # Receipt numbers only on received gifts, one sequence per foundation.
    received = Donation.objects.exclude(status__in=[DonationStatus.PENDING, DonationStatus.EXPIRED])
    assert not received.filter(receipt_number__isnull=True).exists()
    assert not Donation.objects.filter(status=DonationStatus.PENDING, receipt_number__isnull=False).exists()
    # Submitted applications have a reference and the questions as the applicant saw them; drafts neither.
    submitted = Application.objects.exclude(status=ApplicationStatus.DRAFT)
    assert submitted.exists()
    assert not submitted.filter(reference__isnull=True).exists()
    assert all(a.question_snapshot and a.answers["_title"] for a in submitted)
    assert all(a.sensitive_answers == {} for a in Application.objects.all())  # decrypts
    assert not Application.objects.filter(status=ApplicationStatus.DRAFT, reference__isnull=False).exists()
    assert not Application.objects.filter(submitted_at__lt=F("call__opens_at")).exists()
    # Staff to sign in with, one admin and one officer per foundation.
    assert StaffMembership.objects.count() == 4
    # The first organization (the benchmark's applicant) has a share of the applications.
    first = Organization.objects.order_by("pk").first()
    assert first.memberships.get().user.email == "member-0@scale12.example.org"
    assert first.applications.count() >= 2


def test_one_call_takes_at_least_a_thousand_applications(db):
    seed(seed=13, applications=1100, donations=0, journal_lines=0)
    biggest = FundingCall.objects.annotate(n=Count("applications")).order_by("-n").first()
    assert biggest.n >= 1000
    assert Application.objects.count() == 1100
    assert not Donation.objects.exists()


def test_journal_entries_balance_and_gifts_come_first(db):
    seed(seed=14, journal_lines=401)
    assert JournalLine.objects.count() == 401
    per_entry = JournalLine.objects.values("entry_id").annotate(total=Sum("amount"), n=Count("id"))
    assert all(row["total"] == 0 and row["n"] >= 2 for row in per_entry)
    assert not JournalLine.objects.exclude(currency=F("entry__currency")).exists()
    assert not JournalLine.objects.exclude(account__fund__foundation=F("entry__foundation")).exists()
    assert JournalEntry.objects.filter(donation__isnull=False).exists()
    # Received gifts are posted with their fee, so the fund's donations match what was given.
    for entry in JournalEntry.objects.filter(donation__isnull=False).select_related("donation")[:20]:
        credited = -entry.lines.filter(account__kind="donations").aggregate(s=Sum("amount"))["s"]
        assert credited == entry.donation.gross.amount


def test_public_pages_render_with_the_generated_rows(db, client):
    seed(seed=15)
    assert HomePage.objects.count() == 2  # English and Spanish
    assert FundPage.objects.count() == 6 and FundingCallPage.objects.count() == 12
    fund_page = FundPage.objects.live().filter(locale__language_code="en").first()
    call_page = FundingCallPage.objects.live().filter(locale__language_code="en").first()
    assert fund_page.get_parent().specific.foundation_id == fund_page.fund.foundation_id
    for url in ("/en/", "/es/", fund_page.url, call_page.url):
        response = client.get(url)
        assert response.status_code == 200, url
    assert fund_page.title in client.get("/en/").content.decode()


def test_refuses_outside_demo_mode_unless_told(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError, match="demo mode"):
        seed(seed=16)
    assert not Application.objects.exists() and not User.objects.exists()
    seed(seed=16, i_know=True, applications=5, donations=5)
    assert Application.objects.count() == 5


def test_the_same_seed_twice_is_refused_and_bad_counts_too(db):
    seed(seed=17, applications=5, donations=5)
    with pytest.raises(CommandError, match="exists already"):
        seed(seed=17, applications=5, donations=5)
    with pytest.raises(CommandError, match="two lines"):
        seed(seed=18, journal_lines=1)
    with pytest.raises(CommandError, match="every fund"):
        seed(seed=18, funds=4, calls=3)
    assert Application.objects.count() == 5


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_postgres_triggers_accept_the_bulk_journal_at_commit():
    """The balance check is a deferred trigger: only a real commit shows the rows pass it."""
    pages.build_site()  # a transactional test's flush removes the page tree the seeder builds under
    with transaction.atomic():
        seed(seed=19, applications=5, donations=50, journal_lines=75)
    assert JournalLine.objects.count() == 75
