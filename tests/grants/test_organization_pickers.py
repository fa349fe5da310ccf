"""Staff pick only organizations that deal with their foundation: intake and stipend coordinators.

Two foundations: Bay Area (A) and Central Valley (B). Canary organizations carry names that
must never appear on B's pages; a forged POST with their id is refused and creates nothing.
"""

import datetime

import pytest
from django.urls import reverse
from djmoney.money import Money

from grants.models import (
    Application,
    ApplicationStatus,
    Award,
    DecisionMessage,
    IntakeChannel,
    Organization,
    Role,
    StipendProgram,
)
from grants.scoping_organizations import is_related, organizations_related_to
from grants.services import applications as application_service
from grants.services import stipends
from grants.services.errors import ApplicationError
from grants.services.staff import add_staff
from tests.factories import (
    ApplicationFactory,
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.grants.money_fixtures import staff

pytestmark = pytest.mark.django_db

A_ONLY = "Canary Bay Only Collective"


@pytest.fixture
def two():
    bay = FoundationFactory(name="Bay Area Foundation", slug="bay-area")
    valley = FoundationFactory(name="Central Valley Foundation", slug="central-valley")
    bay_fund = FundFactory(foundation=bay, name="Bay Defense Fund", program_type="hotline_stipends")
    valley_fund = FundFactory(foundation=valley, name="Valley Defense Fund", program_type="hotline_stipends")
    bay_call, valley_call = FundingCallFactory(fund=bay_fund), FundingCallFactory(fund=valley_fund)
    bay_only = OrganizationFactory(name=A_ONLY)
    ApplicationFactory(call=bay_call, organization=bay_only)  # submitted to A
    valley_group = OrganizationFactory(name="Valley Farmworker Group")
    ApplicationFactory(call=valley_call, organization=valley_group)
    return {
        "bay": bay, "valley": valley, "bay_fund": bay_fund, "valley_fund": valley_fund,
        "bay_call": bay_call, "valley_call": valley_call, "bay_only": bay_only, "valley_group": valley_group,
        "bay_officer": staff(bay, Role.PROGRAM_OFFICER), "valley_officer": staff(valley, Role.PROGRAM_OFFICER),
    }  # fmt: skip


# --- The scoping query ---------------------------------------------------------------------


def test_each_relationship_makes_an_organization_related_and_nothing_else_does(two):
    bay, bay_call, bay_fund = two["bay"], two["bay_call"], two["bay_fund"]
    own_draft = OrganizationFactory(name="Own Online Draft")
    ApplicationFactory(call=bay_call, organization=own_draft, status=ApplicationStatus.DRAFT, reference=None)
    intake = OrganizationFactory(name="Entered By Phone")
    ApplicationFactory(call=bay_call, organization=intake, status=ApplicationStatus.DRAFT, reference=None,
                       intake_channel=IntakeChannel.PHONE)  # fmt: skip
    withdrawn = OrganizationFactory(name="Withdrawn Later")
    ApplicationFactory(call=bay_call, organization=withdrawn, status=ApplicationStatus.WITHDRAWN)
    awarded = OrganizationFactory(name="Holds An Award")
    # An award of A's fund on an application made elsewhere: the award alone relates it to A.
    application = ApplicationFactory(
        call=two["valley_call"], organization=awarded, status=ApplicationStatus.APPROVED
    )
    Award.objects.create(application=application, fund=bay_fund, amount=Money(100, "USD"),
                         start_date=datetime.date(2026, 1, 1), end_date=datetime.date(2026, 12, 31),
                         offered_by=two["bay_officer"])  # fmt: skip
    coordinator = OrganizationFactory(name="Coordinates Hotline")
    program = StipendProgram.objects.create(fund=bay_fund, name="Hotline", rate=Money(25, "USD"),
                                            monthly_cap=Money(100, "USD"))  # fmt: skip
    program.coordinators.add(coordinator)
    OrganizationFactory(name="Never Came")

    related = set(organizations_related_to([bay.pk]).values_list("name", flat=True))

    assert related == {A_ONLY, "Entered By Phone", "Withdrawn Later", "Holds An Award", "Coordinates Hotline"}
    assert set(organizations_related_to([two["valley"].pk]).values_list("name", flat=True)) == {
        "Valley Farmworker Group",
        "Holds An Award",  # it applied to B too
    }
    assert organizations_related_to([]).count() == 0
    assert is_related(two["bay_only"], bay.pk) and not is_related(two["bay_only"], two["valley"].pk)


# --- Phone intake ---------------------------------------------------------------------------

INTAKE = "/admin/applications/intake/"


def _intake_post(call, organization):
    return {
        "call": call.pk,
        "channel": IntakeChannel.PHONE,
        "language": "en",
        "organization": organization.pk,
    }


def test_intake_form_of_another_foundation_does_not_offer_the_organization(two, client):
    client.force_login(two["valley_officer"])
    html = client.get(INTAKE).content.decode()
    assert "Valley Farmworker Group" in html  # the picker is there, with B's own groups
    assert A_ONLY not in html
    client.force_login(two["bay_officer"])
    html = client.get(INTAKE).content.decode()
    assert A_ONLY in html and "Valley Farmworker Group" not in html


def test_forged_intake_post_with_an_unrelated_organization_is_refused(two, client):
    client.force_login(two["valley_officer"])
    before = (Application.objects.count(), Organization.objects.count())
    response = client.post(INTAKE, _intake_post(two["valley_call"], two["bay_only"]))
    assert response.status_code == 200  # the form again, with the error
    assert "Select a valid choice" in response.content.decode()
    assert A_ONLY not in response.content.decode()
    assert (Application.objects.count(), Organization.objects.count()) == before
    assert not two["bay_only"].applications.filter(call=two["valley_call"]).exists()


def test_intake_with_a_related_organization_works_for_its_foundation(two, client):
    client.force_login(two["bay_officer"])
    response = client.post(INTAKE, _intake_post(two["bay_call"], two["bay_only"]))
    assert response.status_code == 302
    draft = two["bay_only"].applications.get(status=ApplicationStatus.DRAFT)
    assert draft.call == two["bay_call"] and draft.intake_channel == IntakeChannel.PHONE


def test_staff_of_both_foundations_cannot_cross_an_organization_over(two, client):
    both = two["bay_officer"]
    staff_role = {"foundation": two["valley"], "role": Role.PROGRAM_OFFICER}
    add_staff(both, **staff_role)
    client.force_login(both)
    response = client.post(INTAKE, _intake_post(two["valley_call"], two["bay_only"]))
    assert response.status_code == 200
    assert "has not worked with the call" in response.content.decode()
    assert not two["bay_only"].applications.filter(call=two["valley_call"]).exists()


def test_the_intake_service_refuses_an_unrelated_organization(two):
    with pytest.raises(ApplicationError):
        application_service.start_staff_intake(
            call=two["valley_call"], by=two["valley_officer"], channel=IntakeChannel.PHONE, language="en",
            organization=two["bay_only"],
        )  # fmt: skip
    assert not two["bay_only"].applications.filter(call=two["valley_call"]).exists()


def test_intake_still_creates_a_new_group(two, client):
    client.force_login(two["valley_officer"])
    response = client.post(INTAKE, {"call": two["valley_call"].pk, "channel": IntakeChannel.IN_PERSON,
                                    "language": "es", "name": "Nuevo Grupo", "region_served": "Fresno"})  # fmt: skip
    assert response.status_code == 302
    new = Organization.objects.get(name="Nuevo Grupo")
    assert is_related(new, two["valley"].pk) and not is_related(new, two["bay"].pk)


# --- Stipend program coordinators ------------------------------------------------------------


def _program_post(fund, *organizations):
    return {"fund": fund.pk, "name": "Hotline stipends", "rate": "30", "rate_unit": "shift", "monthly_cap": "300",
            "coordinators": [organization.pk for organization in organizations], "active": "on"}  # fmt: skip


def test_new_program_form_offers_only_the_foundations_organizations(two, client):
    client.force_login(two["valley_officer"])
    html = client.get(reverse("stipends_admin:new")).content.decode()
    assert "Valley Farmworker Group" in html and A_ONLY not in html
    client.force_login(two["bay_officer"])
    html = client.get(reverse("stipends_admin:new")).content.decode()
    assert A_ONLY in html and "Valley Farmworker Group" not in html


def test_forged_coordinator_is_refused_and_nothing_is_created(two, client):
    client.force_login(two["valley_officer"])
    response = client.post(reverse("stipends_admin:new"), _program_post(two["valley_fund"], two["bay_only"]))
    assert response.status_code == 400
    assert A_ONLY not in response.content.decode()
    assert not StipendProgram.objects.exists()


def test_changing_a_program_cannot_add_another_foundations_organization(two, client):
    program = stipends.save_program(
        fund=two["valley_fund"], name="Valley hotline", rate=Money(30, "USD"), rate_unit="shift",
        monthly_cap=Money(300, "USD"), coordinators=[two["valley_group"]], by=two["valley_officer"],
    )  # fmt: skip
    client.force_login(two["valley_officer"])
    edit = reverse("stipends_admin:edit", args=[program.pk])
    assert A_ONLY not in client.get(edit).content.decode()
    response = client.post(edit, _program_post(two["valley_fund"], two["valley_group"], two["bay_only"]))
    assert response.status_code == 400
    assert list(program.coordinators.all()) == [two["valley_group"]]


def test_officer_of_two_foundations_cannot_pin_one_groups_coordinator_on_the_other(two, client):
    both = UserFactory(is_staff=True)
    add_staff(both, foundation=two["bay"], role=Role.PROGRAM_OFFICER)
    add_staff(both, foundation=two["valley"], role=Role.PROGRAM_OFFICER)
    client.force_login(both)
    response = client.post(reverse("stipends_admin:new"), _program_post(two["valley_fund"], two["bay_only"]))
    assert response.status_code == 400
    assert "have worked with the fund" in response.content.decode()
    assert not StipendProgram.objects.exists()


def test_officer_sets_up_a_program_with_a_related_coordinator(two, client):
    client.force_login(two["bay_officer"])
    response = client.post(reverse("stipends_admin:new"), _program_post(two["bay_fund"], two["bay_only"]))
    assert response.status_code == 302
    assert list(StipendProgram.objects.get().coordinators.all()) == [two["bay_only"]]


# --- Batch decline: the message template -----------------------------------------------------


def _templates(two):
    bay = DecisionMessage.objects.create(foundation=two["bay"], title="Canary Bay Message",
                                         body="Bay fund spent.", translations={"es": {"body": "Fondo de Bay agotado."}})  # fmt: skip
    valley = DecisionMessage.objects.create(foundation=two["valley"], title="Valley Message",
                                            body="Valley fund spent.", translations={"es": {"body": "Fondo del valle agotado."}})  # fmt: skip
    return bay, valley


def test_batch_form_offers_only_the_foundations_templates_and_refuses_a_forged_one(two, client):
    bay_template, _valley_template = _templates(two)
    valley_application = Application.objects.get(organization=two["valley_group"])
    client.force_login(two["valley_officer"])
    html = client.get("/admin/applications/batch/").content.decode()
    assert "Valley Message" in html and "Canary Bay Message" not in html
    client.post("/admin/applications/batch/", {"applications": [valley_application.pk], "action": "decline",
                                               "template": bay_template.pk})  # fmt: skip
    valley_application.refresh_from_db()
    assert valley_application.status == ApplicationStatus.SUBMITTED and not valley_application.decision_reason


def test_officer_of_two_foundations_cannot_send_one_foundations_message_for_the_other(two, client):
    bay_template, valley_template = _templates(two)
    add_staff(two["bay_officer"], foundation=two["valley"], role=Role.PROGRAM_OFFICER)
    valley_application = Application.objects.get(organization=two["valley_group"])
    client.force_login(two["bay_officer"])
    response = client.post("/admin/applications/batch/", {"applications": [valley_application.pk],
                                                          "action": "decline", "template": bay_template.pk})  # fmt: skip
    assert "Choose a message of the foundation the applications were sent to." in response.content.decode()
    valley_application.refresh_from_db()
    assert valley_application.status == ApplicationStatus.SUBMITTED and not valley_application.decision_reason
    client.post("/admin/applications/batch/", {"applications": [valley_application.pk], "action": "decline",
                                               "template": valley_template.pk})  # fmt: skip
    valley_application.refresh_from_db()
    assert valley_application.status == ApplicationStatus.DECLINED  # sanity twin: its own message works
    assert valley_application.decision_reason == "Valley fund spent."
