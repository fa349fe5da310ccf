"""The demo seed builds a usable bilingual portal, can run twice, and never runs in production."""

import io

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from allauth.mfa.utils import decrypt
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone

from cms.models import FoundationPage, FundingCallPage, FundPage, HomePage
from grants.demo_mfa import DEMO_TOTP_SECRET, current_demo_code
from grants.models import CallStatus, Foundation, Fund, FundingCall, ProgramType, StaffMembership, User
from tests.security_helpers import give_totp


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
    for model in (HomePage, FoundationPage, FundPage, FundingCallPage):
        languages = {page.locale.language_code for page in model.objects.select_related("locale")}
        assert languages == {"en", "es"}
    assert set(StaffMembership.objects.values_list("role", flat=True)) == {
        "foundation_admin", "program_officer", "reviewer", "finance_officer", "auditor",
    }  # fmt: skip
    assert client.get("/es/").status_code == 200
    # Each foundation has its section, in both languages, with its funds and calls beneath.
    assert FoundationPage.objects.count() == 4
    for fund_page in FundPage.objects.select_related("fund__foundation"):
        assert fund_page.get_parent().specific.foundation == fund_page.fund.foundation
    assert client.get("/en/bay-area-defense/deportation-defense/rapid-legal-2026/").status_code == 200
    section_es = client.get("/es/valley-workers/").content.decode()
    assert "Valle Central" in section_es and "co-enforcement" in section_es
    assert client.login(email="officer@demo.fundportal.org", password="demo-portal-2026")


def test_the_demo_bond_fund_has_a_bond_in_every_state_and_its_books_add_up(db):
    from grants.models import Bond, BondStatus, JournalEntry
    from grants.services import bonds, ledger

    with django_capture():
        call_command("seed_demo", stdout=io.StringIO())
    fund = Fund.objects.get(slug="bond-fund")
    states = set(Bond.objects.filter(fund=fund).values_list("status", flat=True))
    assert states >= {
        BondStatus.REQUESTED, BondStatus.APPROVED, BondStatus.DECLINED, BondStatus.POSTED,
        BondStatus.REFUND_EXPECTED, BondStatus.RETURNED, BondStatus.BREACHED,
    }  # fmt: skip
    partner_bond = Bond.objects.get(fund=fund, obligor="partner")
    assert partner_bond.status == BondStatus.POSTED  # the simulated Stripe's transfer.created arrived
    b = ledger.balances(fund)
    every = bonds.figures_for(Bond.objects.filter(fund=fund))
    assert sum((f.outstanding for f in every.values()), b.bonds_out * 0) == b.bonds_out
    assert b.bonds_out + b.available + b.committed == b.received
    assert bonds.bonds_to_check(foundation=fund.foundation)  # one bond out 200 days: finance is reminded
    assert JournalEntry.objects.filter(bond__fund=fund).exists()


def test_the_demo_pays_a_vendor_and_has_one_waiting(db):
    from grants.models import VendorPayment, VendorPaymentStatus

    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    statuses = sorted(VendorPayment.objects.values_list("status", flat=True))
    assert statuses == [VendorPaymentStatus.PAID, VendorPaymentStatus.REQUESTED]
    rent = VendorPayment.objects.get(status=VendorPaymentStatus.PAID)
    assert rent.installment is None and rent.journal_entries.count() == 2  # committed, then paid


def django_capture():
    """Run the on-commit callbacks (the simulated Stripe's webhooks) as a real commit would."""
    from django.test import TestCase

    return TestCase.captureOnCommitCallbacks(execute=True)


def test_demo_staff_sign_in_with_the_demo_authenticator_secret(db, settings):
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    call_command("seed_demo", stdout=io.StringIO())  # still one app per person
    printed = out.getvalue()
    assert DEMO_TOTP_SECRET in printed and "demo_totp" in printed
    staff = User.objects.filter(is_staff=True)
    assert staff.count() == 7
    for user in staff:
        [app] = Authenticator.objects.filter(user=user, type=Authenticator.Type.TOTP)
        assert decrypt(app.data["secret"]) == DEMO_TOTP_SECRET
        assert Authenticator.objects.filter(user=user, type=Authenticator.Type.RECOVERY_CODES).exists()
    assert not Authenticator.objects.filter(user__email="applicant@demo.fundportal.org").exists()

    # The real sign-in: password, then the code that `manage.py demo_totp` prints.
    client = Client()
    response = client.post(
        "/en/accounts/login/",
        {"login": "finance@demo.fundportal.org", "password": "demo-portal-2026", "next": "/admin/"},
    )
    assert response["Location"] == "/en/accounts/2fa/authenticate/"
    page = client.get("/en/accounts/2fa/authenticate/").content.decode()
    printed = io.StringIO()
    call_command("demo_totp", stdout=printed)
    code = printed.getvalue().strip()
    assert code == current_demo_code() and len(code) == 6
    assert code in page  # the demo note on the code page
    response = client.post("/en/accounts/2fa/authenticate/", {"code": code})
    assert response["Location"] == "/admin/"
    assert client.get("/admin/").status_code == 200


def test_demo_code_is_shown_only_to_demo_accounts_in_demo_mode(db, settings):
    call_command("seed_demo", stdout=io.StringIO())
    someone = User.objects.create_user(email="real@example.org", password="a long pass phrase 9")
    EmailAddress.objects.create(user=someone, email=someone.email, primary=True, verified=True)
    give_totp(someone)
    with time_machine.travel(timezone.now(), tick=False):
        code = current_demo_code()

        def code_page(email, password):
            client = Client()
            client.post("/en/accounts/login/", {"login": email, "password": password})
            return client.get("/en/accounts/2fa/authenticate/").content.decode()

        assert "Demo portal" not in code_page("real@example.org", "a long pass phrase 9")
        assert code in code_page("officer@demo.fundportal.org", "demo-portal-2026")
        settings.DEMO_MODE = False
        page = code_page("reviewer@demo.fundportal.org", "demo-portal-2026")
    assert "Enter your authenticator code" in page
    assert "Demo portal" not in page and code not in page


def test_demo_totp_refuses_outside_demo_mode(settings):
    settings.DEMO_MODE = False
    with pytest.raises(CommandError):
        call_command("demo_totp", stdout=io.StringIO())


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
