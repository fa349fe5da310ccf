"""Bond pages: a partner asks for a bond, an officer decides, finance posts it and records how it
ends, through the views; who may see and do what; the reference only for finance."""

import datetime

import pytest
from django.urls import reverse
from django.utils import timezone, translation

from grants.models import (
    ActivityEntry,
    Bond,
    BondPartner,
    BondStatus,
    BondUrgency,
    Obligor,
    ProgramType,
    Role,
)
from grants.services import bonds
from tests.factories import FoundationFactory, FundFactory, OrganizationFactory, UserFactory
from tests.grants.money_fixtures import fund_with, staff, usd

pytestmark = pytest.mark.django_db
D = datetime.date
REFERENCE = "CeBONDS-SECRET-4471"


def refused(response) -> bool:
    return response.status_code == 403 or (
        response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    )


@pytest.fixture
def bond_world(world):
    fund = world["fund"]
    fund.program_type = ProgramType.BOND_FUND
    fund.save(update_fields=["program_type"])
    fund_with(world, 20000)
    bonds.add_partner(foundation=world["foundation"], organization=world["organization"], by=world["officer"])
    world["admin"] = staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org")
    return world


def _request(world, amount=7500, **kwargs) -> Bond:
    defaults = {
        "partner": world["organization"], "fund": world["fund"], "by": world["grantee"], "label": "Familia R",
        "facility": "Adelanto ICE Processing Center", "urgency": BondUrgency.TODAY, "amount": usd(amount),
        "obligor": Obligor.FOUNDATION,
    }  # fmt: skip
    defaults.update(kwargs)
    return bonds.request_bond(**defaults)


def _posted(world, amount=7500) -> Bond:
    bond = bonds.approve(_request(world, amount), by=world["officer"])
    return bonds.post_bond(
        bond, by=world["finance"], method="wire", posted_on=D(2026, 3, 2), reference=REFERENCE
    )


def _form(world, **changes):
    data = {
        "fund": world["fund"].pk, "call": "", "amount": "7,500.00", "urgency": BondUrgency.TODAY,
        "facility": "Adelanto ICE Processing Center", "obligor": Obligor.FOUNDATION, "label": "Familia R",
        "notes": "Hearing next week.",
    }  # fmt: skip
    data.update(changes)
    return data


def admin_url(name, bond=None):
    return reverse(f"bonds:{name}", args=[bond.pk] if bond is not None else [])


# --- The partner's side -----------------------------------------------------------------------


def test_partner_asks_for_a_bond_and_sees_it_listed(bond_world, client):
    world = bond_world
    client.force_login(world["grantee"])
    org = world["organization"]
    detail = client.get(reverse("organizations:detail", args=[org.pk])).content.decode()
    assert reverse("organizations:bonds", args=[org.pk]) in detail
    form = client.get(reverse("organizations:bond_new", args=[org.pk]))
    assert form.status_code == 200
    page = form.content.decode()
    assert "Never enter names, A-numbers, dates of birth or countries of origin" in page
    assert 'maxlength="60"' in page and "Up to 60 characters." in page
    response = client.post(reverse("organizations:bond_new", args=[org.pk]), _form(world))
    assert response.status_code == 302
    bond = Bond.objects.get()
    assert (bond.amount, bond.label, bond.status, bond.requested_by) == (
        usd(7500),
        "Familia R",
        BondStatus.REQUESTED,
        world["grantee"],
    )
    assert bond.decision_due_at is not None
    listing = client.get(reverse("organizations:bonds", args=[org.pk])).content.decode()
    assert "Familia R" in listing and "Requested" in listing
    assert f'id="withdraw-{bond.pk}"' in listing


def test_partner_form_in_spanish_reads_the_amount_the_spanish_way(bond_world, client):
    world = bond_world
    client.force_login(world["grantee"])
    with translation.override("es"):
        url = reverse("organizations:bond_new", args=[world["organization"].pk])
    assert url.startswith("/es/")
    page = client.get(url).content.decode()
    assert 'lang="es"' in page and 'id="never-identify"' in page
    assert client.post(url, _form(world, amount="7.500,00")).status_code == 302
    assert Bond.objects.get().amount == usd(7500)


@pytest.mark.parametrize(
    ("field", "value"),
    [("label", "A123456789"), ("label", "A-123-456-789"), ("facility", "Adelanto 123 456 789"),
     ("notes", "His number is 12345678")],
)  # fmt: skip
def test_an_a_number_is_refused_next_to_its_field_and_everything_typed_is_kept(
    bond_world, client, field, value
):
    world = bond_world
    client.force_login(world["grantee"])
    data = _form(world, **{field: value})
    response = client.post(reverse("organizations:bond_new", args=[world["organization"].pk]), data)
    assert response.status_code == 400
    form = response.context["form"]
    assert "A-number" in " ".join(form.errors[field])
    page = response.content.decode()
    assert "Adelanto ICE Processing Center" in page or field == "facility"
    assert "7,500.00" in page
    assert not Bond.objects.exists()


def test_bad_amounts_are_refused_and_nothing_is_saved(bond_world, client):
    world = bond_world
    client.force_login(world["grantee"])
    url = reverse("organizations:bond_new", args=[world["organization"].pk])
    for amount in ("0", "-5", "abc", ""):
        response = client.post(url, _form(world, amount=amount))
        assert response.status_code == 400
        assert response.context["form"].errors["amount"]
    assert not Bond.objects.exists()


def test_a_fund_that_is_not_the_partners_cannot_be_chosen(bond_world, client):
    world = bond_world
    other = FundFactory(foundation=FoundationFactory(), program_type=ProgramType.BOND_FUND, currency="USD")
    client.force_login(world["grantee"])
    response = client.post(reverse("organizations:bond_new", args=[world["organization"].pk]),
                           _form(world, fund=other.pk))  # fmt: skip
    assert response.status_code == 400 and response.context["form"].errors["fund"]
    assert not Bond.objects.exists()


def test_non_members_and_organizations_that_are_no_partner_get_404(bond_world, client):
    world = bond_world
    org = world["organization"]
    stranger = UserFactory()
    client.force_login(stranger)
    for name in ("organizations:bonds", "organizations:bond_new"):
        assert client.get(reverse(name, args=[org.pk])).status_code == 404
    # A member of an organization that is no bond partner anywhere.
    own = OrganizationFactory()
    own.memberships.create(user=stranger, role="owner")
    assert client.get(reverse("organizations:bonds", args=[own.pk])).status_code == 404
    assert client.get(reverse("organizations:detail", args=[own.pk])).status_code == 200
    assert (
        reverse("organizations:bonds", args=[own.pk])
        not in client.get(reverse("organizations:detail", args=[own.pk])).content.decode()
    )
    # Staff of the foundation are no members either.
    client.force_login(world["officer"])
    assert client.get(reverse("organizations:bonds", args=[org.pk])).status_code == 404


def test_another_organizations_bond_cannot_be_withdrawn(bond_world, client):
    world = bond_world
    bond = _request(world)
    other = OrganizationFactory()
    member = UserFactory()
    other.memberships.create(user=member, role="owner")
    BondPartner.objects.create(foundation=world["foundation"], organization=other)
    client.force_login(member)
    url = reverse("organizations:bond_withdraw", args=[other.pk, bond.pk])
    assert client.post(url).status_code == 404
    assert (
        client.post(
            reverse("organizations:bond_withdraw", args=[world["organization"].pk, bond.pk])
        ).status_code
        == 404
    )
    bond.refresh_from_db()
    assert bond.status == BondStatus.REQUESTED


def test_partner_withdraws_a_request_and_a_second_click_is_harmless(bond_world, client):
    world = bond_world
    bond = _request(world)
    client.force_login(world["grantee"])
    url = reverse("organizations:bond_withdraw", args=[world["organization"].pk, bond.pk])
    assert client.get(url).status_code == 405
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    bond.refresh_from_db()
    assert bond.status == BondStatus.WITHDRAWN
    assert (
        ActivityEntry.objects.filter(subject_type="bond", subject_id=bond.pk, action="withdraw").count() == 1
    )


def test_the_partner_never_reads_the_reference(bond_world, client):
    world = bond_world
    _posted(world)
    client.force_login(world["grantee"])
    page = client.get(reverse("organizations:bonds", args=[world["organization"].pk])).content.decode()
    assert "Familia R" in page and REFERENCE not in page


# --- Staff: deciding -----------------------------------------------------------------------


def test_officer_sees_the_request_on_its_clock_and_approves(bond_world, client):
    world = bond_world
    bond = _request(world)
    client.force_login(world["officer"])
    listing = client.get(admin_url("index")).content.decode()
    assert "Familia R" in listing and "left" in listing
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Bond requests waiting" in home and bond.reference_code in home
    page = client.get(admin_url("bond", bond)).content.decode()
    assert 'id="bond-approve-submit"' in page and 'id="bond-post-submit"' not in page
    response = client.post(admin_url("approve", bond), {"approve-note": "Fine"})
    assert response.status_code == 302
    bond.refresh_from_db()
    assert bond.status == BondStatus.APPROVED and bond.decided_by == world["officer"]


def test_officer_declines_with_a_reason_the_partner_reads(bond_world, client):
    world = bond_world
    bond = _request(world)
    client.force_login(world["officer"])
    response = client.post(admin_url("decline", bond), {"decline-reason": ""})
    assert response.status_code == 400
    assert (
        client.post(
            admin_url("decline", bond), {"decline-reason": "The fund is spent this month."}
        ).status_code
        == 302
    )
    bond.refresh_from_db()
    assert bond.status == BondStatus.DECLINED
    client.force_login(world["grantee"])
    page = client.get(reverse("organizations:bonds", args=[world["organization"].pk])).content.decode()
    assert "The fund is spent this month." in page


def test_an_overdue_request_says_so(bond_world, client):
    world = bond_world
    bond = _request(world)
    Bond.objects.filter(pk=bond.pk).update(decision_due_at=timezone.now() - datetime.timedelta(hours=3))
    client.force_login(world["officer"])
    assert "Overdue by" in client.get(admin_url("index")).content.decode()
    assert "Overdue by" in client.get(admin_url("bond", bond)).content.decode()


@pytest.mark.parametrize("role", ["finance", "auditor"])
def test_finance_and_auditors_cannot_decide(bond_world, client, role):
    world = bond_world
    bond = _request(world)
    client.force_login(world[role])
    assert client.get(admin_url("bond", bond)).status_code == 200
    assert refused(client.post(admin_url("approve", bond), {}))
    assert refused(client.post(admin_url("decline", bond), {"decline-reason": "No"}))
    bond.refresh_from_db()
    assert bond.status == BondStatus.REQUESTED


# --- Staff: posting and outcomes -------------------------------------------------------------


def test_finance_posts_records_cancellation_and_a_refund_with_interest(bond_world, client):
    world = bond_world
    bond = bonds.approve(_request(world), by=world["officer"])
    client.force_login(world["finance"])
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Bonds to post" in home and bond.reference_code in home
    page = client.get(admin_url("bond", bond)).content.decode()
    assert 'id="id_post-reference"' in page
    response = client.post(admin_url("post", bond), {"post-method": "wire", "post-posted_on": "2026-03-02",
                                                     "post-reference": REFERENCE})  # fmt: skip
    assert response.status_code == 302, response.content.decode()[:2000]
    bond.refresh_from_db()
    assert bond.status == BondStatus.POSTED and bond.reference == REFERENCE
    assert REFERENCE in client.get(admin_url("bond", bond)).content.decode()
    assert client.post(admin_url("cancel", bond), {"cancel-cancelled_on": "2026-09-01"}).status_code == 302
    data = {"refund-received_on": "2026-10-15", "refund-principal": "7,500.00", "refund-interest": "12.34",
            "refund-receipt": "Treasury check 80211"}  # fmt: skip
    assert client.post(admin_url("refund", bond), data).status_code == 302
    assert client.post(admin_url("refund", bond), data).status_code in (302, 400)  # the same receipt: once
    bond.refresh_from_db()
    assert bond.status == BondStatus.RETURNED
    figures = bonds.figures(bond)
    assert (figures.returned, figures.interest, figures.outstanding) == (usd(7500), usd("12.34"), usd(0))
    page = client.get(admin_url("bond", bond)).content.decode()
    assert "Bond money returned" in page and "Bond posted" in page


def test_a_partial_refund_writes_off_the_rest_with_its_reason(bond_world, client):
    world = bond_world
    bond = _posted(world, 7500)
    client.force_login(world["finance"])
    data = {"refund-received_on": "2026-10-15", "refund-principal": "7,000", "refund-interest": "",
            "refund-receipt": "Check 1", "refund-write_off_rest": "on", "refund-reason": ""}  # fmt: skip
    response = client.post(admin_url("refund", bond), data)
    assert response.status_code == 400 and response.context["forms"]["refund"].errors["reason"]
    data["refund-reason"] = "Fee kept by the government"
    assert client.post(admin_url("refund", bond), data).status_code == 302
    bond.refresh_from_db()
    figures = bonds.figures(bond)
    assert bond.status == BondStatus.RETURNED
    assert (figures.returned, figures.written_off) == (usd(7000), usd(500))


def test_a_refund_larger_than_what_is_out_is_refused_with_what_was_typed(bond_world, client):
    world = bond_world
    bond = _posted(world, 7500)
    client.force_login(world["finance"])
    data = {"refund-received_on": "2026-10-15", "refund-principal": "9,000", "refund-receipt": "Check 2"}
    response = client.post(admin_url("refund", bond), data)
    assert response.status_code == 400
    page = response.content.decode()
    assert "still out" in page and "Check 2" in page
    bond.refresh_from_db()
    assert bond.status == BondStatus.POSTED


def test_finance_records_a_breach_and_the_loss(bond_world, client):
    world = bond_world
    bond = _posted(world, 5000)
    client.force_login(world["finance"])
    assert client.post(admin_url("breach", bond), {"breach-breached_on": "2026-05-01"}).status_code == 400
    response = client.post(admin_url("breach", bond), {"breach-breached_on": "2026-05-01",
                                                        "breach-reason": "Missed hearing"})  # fmt: skip
    assert response.status_code == 302
    bond.refresh_from_db()
    assert bond.status == BondStatus.BREACHED and bonds.figures(bond).written_off == usd(5000)


def test_the_approver_cannot_post_and_officers_cannot_post(bond_world, client):
    world = bond_world
    bond = _request(world)
    client.force_login(world["admin"])
    assert client.post(admin_url("approve", bond), {}).status_code == 302
    page = client.get(admin_url("bond", bond)).content.decode()
    assert 'id="bond-post-submit"' not in page  # four eyes: the approver does not post
    response = client.post(admin_url("post", bond), {"post-method": "wire"})
    assert response.status_code == 400
    client.force_login(world["officer"])
    assert refused(client.post(admin_url("post", bond), {"post-method": "wire"}))
    bond.refresh_from_db()
    assert bond.status == BondStatus.APPROVED


def test_the_reference_is_for_finance_only(bond_world, client):
    world = bond_world
    bond = _posted(world)
    for role in ("officer", "auditor", "admin"):
        client.force_login(world[role])
        page = client.get(admin_url("bond", bond)).content.decode()
        assert "Familia R" in page and REFERENCE not in page and "Kept by finance" in page
        assert REFERENCE not in client.get(admin_url("index")).content.decode()
        assert refused(client.post(admin_url("reference", bond), {"reference-reference": "X"}))
    client.force_login(world["finance"])
    assert REFERENCE in client.get(admin_url("bond", bond)).content.decode()
    assert client.post(admin_url("reference", bond), {"reference-reference": "NEW-REF-1"}).status_code == 302
    bond.refresh_from_db()
    assert bond.reference == "NEW-REF-1"


def test_an_admin_posting_sees_no_reference_field(bond_world, client):
    world = bond_world
    bond = bonds.approve(_request(world), by=world["officer"])
    client.force_login(world["admin"])
    page = client.get(admin_url("bond", bond)).content.decode()
    assert 'id="bond-post-submit"' in page and 'id="id_post-reference"' not in page


def test_auditor_reads_everything_and_changes_nothing(bond_world, client):
    world = bond_world
    bond = _posted(world)
    client.force_login(world["auditor"])
    assert client.get(admin_url("index")).status_code == 200
    page = client.get(admin_url("bond", bond)).content.decode()
    assert (
        "Familia R" in page and "<form" not in page.split('id="bond-facts"')[1].split('id="bond-activity"')[0]
    )
    for name, data in (("cancel", {"cancel-cancelled_on": "2026-09-01"}),
                       ("breach", {"breach-breached_on": "2026-05-01", "breach-reason": "x"}),
                       ("refund", {}), ("resend", {}), ("post", {})):  # fmt: skip
        assert refused(client.post(admin_url(name, bond), data)), name
    assert client.get(admin_url("partners")).status_code == 200
    assert refused(client.post(admin_url("partners"), {}))
    bond.refresh_from_db()
    assert bond.status == BondStatus.POSTED


def test_action_urls_only_take_posts(bond_world, client):
    world = bond_world
    bond = _request(world)
    client.force_login(world["officer"])
    assert client.get(admin_url("approve", bond)).status_code == 405


# --- Partners ------------------------------------------------------------------------------------


def test_officer_adds_and_removes_a_partner_among_related_organizations(bond_world, client):
    from tests.grants.money_fixtures import approved

    world = bond_world
    related = OrganizationFactory(name="Centro Legal")
    world2 = dict(world, organization=related)
    approved(world2, 1000)  # Centro Legal applied to the foundation
    unrelated = OrganizationFactory(name="Nobody Knows Us")
    client.force_login(world["officer"])
    page = client.get(admin_url("partners")).content.decode()
    assert "Centro Legal" in page and "Nobody Knows Us" not in page
    foundation = world["foundation"].pk
    response = client.post(admin_url("partners"), {"foundation": foundation, "organization": unrelated.pk})
    assert response.status_code == 400
    assert (
        client.post(admin_url("partners"), {"foundation": foundation, "organization": related.pk}).status_code
        == 302
    )
    partner = BondPartner.objects.get(organization=related)
    assert client.get(reverse("bonds:partner_remove", args=[partner.pk])).status_code == 405
    assert client.post(reverse("bonds:partner_remove", args=[partner.pk])).status_code == 302
    assert not BondPartner.objects.filter(organization=related).exists()
    actions = set(ActivityEntry.objects.filter(subject_type="bond_partner").values_list("action", flat=True))
    assert {"add_partner", "remove_partner"} <= actions


def test_finance_cannot_add_or_remove_partners(bond_world, client):
    world = bond_world
    partner = BondPartner.objects.get()
    client.force_login(world["finance"])
    assert client.get(admin_url("partners")).status_code == 200
    assert refused(client.post(admin_url("partners"), {"foundation": world["foundation"].pk,
                                                       "organization": world["organization"].pk}))  # fmt: skip
    assert refused(client.post(reverse("bonds:partner_remove", args=[partner.pk])))
    assert BondPartner.objects.filter(pk=partner.pk).exists()


# --- Another foundation ------------------------------------------------------------------------


def test_another_foundations_staff_get_404_everywhere_and_change_nothing(bond_world, client):
    world = bond_world
    requested = _request(world, 1000)
    posted = _posted(world, 2000)
    partner = BondPartner.objects.get()
    other = FoundationFactory(slug="valley")
    for role in (Role.PROGRAM_OFFICER, Role.FINANCE_OFFICER, Role.AUDITOR, Role.FOUNDATION_ADMIN):
        client.force_login(staff(other, role))
        listing = client.get(admin_url("index"))
        assert listing.status_code == 200 and "Familia R" not in listing.content.decode()
        partners = client.get(admin_url("partners")).content.decode()
        assert world["organization"].name not in partners
        for bond in (requested, posted):
            assert client.get(admin_url("bond", bond)).status_code == 404
            for name in ("approve", "decline", "post", "resend", "cancel", "refund", "breach", "reference"):
                assert client.post(admin_url(name, bond), {f"{name}-reason": "x"}).status_code == 404, name
        assert client.post(reverse("bonds:partner_remove", args=[partner.pk])).status_code == 404
        # A forged add for the other foundation's organization at A is refused by the form.
        response = client.post(admin_url("partners"), {"foundation": world["foundation"].pk,
                                                       "organization": world["organization"].pk})  # fmt: skip
        assert response.status_code == 400 or refused(response)
        home = client.get(reverse("wagtailadmin_home")).content.decode()
        assert requested.reference_code not in home
    requested.refresh_from_db()
    posted.refresh_from_db()
    assert (requested.status, posted.status) == (BondStatus.REQUESTED, BondStatus.POSTED)
    assert BondPartner.objects.filter(foundation=world["foundation"]).count() == 1


def test_reviewers_and_applicants_do_not_reach_the_bond_admin(bond_world, client):
    world = bond_world
    bond = _request(world)
    client.force_login(staff(world["foundation"], Role.REVIEWER))
    assert client.get(admin_url("index")).status_code == 404
    assert client.get(admin_url("bond", bond)).status_code == 404
    client.force_login(world["grantee"])
    response = client.get(admin_url("bond", bond))
    assert response.status_code == 302 and "login" in response["Location"]


def test_partner_answers_an_open_call_of_the_fund_but_not_a_closed_one(bond_world, client):
    from tests.factories import FundingCallFactory

    world = bond_world
    open_call = FundingCallFactory(fund=world["fund"], title="Bonds 2026")
    closed = FundingCallFactory(
        fund=world["fund"], title="Bonds 2025", opens_at=timezone.now() - datetime.timedelta(days=60),
        closes_at=timezone.now() - datetime.timedelta(days=1),
    )  # fmt: skip
    client.force_login(world["grantee"])
    url = reverse("organizations:bond_new", args=[world["organization"].pk])
    page = client.get(url).content.decode()
    assert "Bonds 2026" in page and "Bonds 2025" not in page
    response = client.post(url, _form(world, call=closed.pk))
    assert response.status_code == 400 and response.context["form"].errors["call"]
    assert client.post(url, _form(world, call=open_call.pk)).status_code == 302
    assert Bond.objects.get().call == open_call


def test_another_organizations_award_cannot_be_named(bond_world, client):
    from tests.grants.money_fixtures import award_for

    world = bond_world
    other_org = OrganizationFactory()
    award = award_for(dict(world, organization=other_org), 1000)
    client.force_login(world["grantee"])
    url = reverse("organizations:bond_new", args=[world["organization"].pk])
    response = client.post(url, _form(world, award=award.pk))
    assert response.status_code == 400 and response.context["form"].errors["award"]
    assert not Bond.objects.exists()


def test_finance_home_lists_bonds_to_check_on_of_its_own_foundation_only(bond_world, client):
    world = bond_world
    bond = _posted(world)  # posted 2026-03-02: out longer than the foundation's 180 days
    Bond.objects.filter(pk=bond.pk).update(posted_on=timezone.localdate() - datetime.timedelta(days=200))
    client.force_login(world["finance"])
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Bonds to check on" in home and bond.reference_code in home
    client.force_login(staff(FoundationFactory(slug="valley"), Role.FINANCE_OFFICER))
    home = client.get(reverse("wagtailadmin_home")).content.decode()
    assert "Payments" in home and bond.reference_code not in home
