"""The demo seed builds a usable bilingual portal, can run twice, and never runs in production."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from cms.models import FundingCallPage, FundPage, HomePage
from grants.models import CallStatus, Foundation, Fund, FundingCall, ProgramType, StaffMembership, User


def test_seed_demo_is_idempotent_and_complete(db, client):
    call_command("seed_demo", stdout=io.StringIO())
    counts = (
        Foundation.objects.count(),
        Fund.objects.count(),
        FundingCall.objects.count(),
        User.objects.count(),
    )
    call_command("seed_demo", stdout=io.StringIO())
    assert (
        Foundation.objects.count(),
        Fund.objects.count(),
        FundingCall.objects.count(),
        User.objects.count(),
    ) == counts
    assert Foundation.objects.count() == 2
    assert {ProgramType.DEPORTATION_DEFENSE, ProgramType.HOTLINE_STIPENDS, ProgramType.CO_ENFORCEMENT} <= set(
        Fund.objects.values_list("program_type", flat=True)
    )
    statuses = {call.status_at(timezone.now()) for call in FundingCall.objects.all()}
    assert CallStatus.UPCOMING in statuses and CallStatus.CLOSED in statuses
    assert statuses & {CallStatus.OPEN, CallStatus.CLOSING_SOON}
    # Every page exists in both languages.
    for model in (HomePage, FundPage, FundingCallPage):
        languages = {page.locale.language_code for page in model.objects.select_related("locale")}
        assert languages == {"en", "es"}
    assert set(StaffMembership.objects.values_list("role", flat=True)) == {
        "foundation_admin", "program_officer", "reviewer", "finance_officer", "auditor",
    }  # fmt: skip
    assert client.get("/es/").status_code == 200
    assert client.get("/en/funds/deportation-defense/rapid-legal-2026/").status_code == 200
    assert client.login(email="officer@demo.fundportal.org", password="demo-portal-2026")


def test_seed_demo_refuses_outside_demo_mode(db, settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("seed_demo")
    assert not User.objects.exists()


def test_ensure_roles_creates_the_groups_with_admin_access(db):
    from django.contrib.auth.models import Group

    out = io.StringIO()
    call_command("ensure_roles", stdout=out)
    assert "5 role groups" in out.getvalue()
    officers = Group.objects.get(name="Program officers")
    assert officers.permissions.filter(codename="access_admin").exists()
    assert officers.permissions.filter(codename="view_application").exists()
    assert not Group.objects.get(name="Reviewers").permissions.filter(codename="view_application").exists()
