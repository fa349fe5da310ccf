"""Officers see their foundation's submitted applications in Wagtail admin, and enter phone intake."""

import pytest
from djmoney.money import Money

from grants.demo_questions import eligibility_json, questions_json
from grants.models import Application, IntakeChannel, OrganizationMembership, Role
from grants.services import applications as service
from grants.services.staff import add_staff
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.grants.test_applications import _draft


@pytest.fixture
def setup(site):
    foundation = FoundationFactory(slug="bay-area")
    fund = FundFactory(foundation=foundation)
    call = FundingCallFactory(fund=fund, min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD"))
    call_pages = pages.add_call_page(pages.add_fund_page(site, fund), call, questions=questions_json,
                                     eligibility=eligibility_json)  # fmt: skip
    applicant = UserFactory()
    organization = OrganizationFactory(name="Comité de Defensa Sur")
    OrganizationMembership.objects.create(organization=organization, user=applicant, role="owner")
    data = {"foundation": foundation, "fund": fund, "call": call, "page": call_pages[0], "applicant": applicant,
            "organization": organization}  # fmt: skip
    application, sections = _draft(data)
    service.submit_application(application, sections=sections, by=applicant, actor="applicant")
    data["application"] = application
    return data


def _staff(foundation, role):
    user = UserFactory(is_staff=True)
    add_staff(user, foundation=foundation, role=role)
    return user


def test_officer_lists_and_opens_submitted_applications_without_answers_in_the_list(setup, client):
    client.force_login(_staff(setup["foundation"], Role.PROGRAM_OFFICER))
    listing = client.get("/admin/applications/")
    html = listing.content.decode()
    assert listing.status_code == 200
    assert setup["application"].reference in html
    assert "Retaliation by employers" not in html  # no answers (let alone sensitive ones) in lists
    detail = client.get(f"/admin/applications/inspect/{setup['application'].pk}/").content.decode()
    assert "Two lawyers on call for detentions." in detail
    assert "Retaliation by employers" in detail  # officers read sensitive answers in the detail


def test_list_filters_by_status_and_call(setup, client):
    client.force_login(_staff(setup["foundation"], Role.PROGRAM_OFFICER))
    reference = setup["application"].reference
    assert (
        reference
        in client.get(f"/admin/applications/?status=submitted&call={setup['call'].pk}").content.decode()
    )
    assert reference not in client.get("/admin/applications/?status=withdrawn").content.decode()


def test_drafts_are_not_listed(setup, client):
    other = OrganizationFactory(name="Draft Group")
    OrganizationMembership.objects.create(organization=other, user=setup["applicant"], role="owner")
    service.start_application(call=setup["call"], organization=other, by=setup["applicant"], language="en")
    client.force_login(_staff(setup["foundation"], Role.PROGRAM_OFFICER))
    assert "Draft Group" not in client.get("/admin/applications/").content.decode()


def test_auditor_does_not_see_sensitive_answers(setup, client):
    client.force_login(_staff(setup["foundation"], Role.AUDITOR))
    detail = client.get(f"/admin/applications/inspect/{setup['application'].pk}/").content.decode()
    assert "Two lawyers on call for detentions." in detail
    assert "Retaliation by employers" not in detail


def test_staff_of_another_foundation_see_nothing(setup, client):
    client.force_login(_staff(FoundationFactory(), Role.PROGRAM_OFFICER))
    assert setup["application"].reference not in client.get("/admin/applications/").content.decode()
    assert (
        client.get(f"/admin/applications/inspect/{setup['application'].pk}/", follow=True).status_code == 404
    )


def test_list_query_count_does_not_grow(setup, client):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(_staff(setup["foundation"], Role.PROGRAM_OFFICER))
    client.get("/admin/applications/")
    with CaptureQueriesContext(connection) as few:
        client.get("/admin/applications/")
    for _ in range(5):
        org = OrganizationFactory()
        OrganizationMembership.objects.create(organization=org, user=setup["applicant"], role="owner")
        application, sections = _draft({**setup, "organization": org})
        service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    with CaptureQueriesContext(connection) as many:
        assert client.get("/admin/applications/").status_code == 200
    assert len(many) == len(few)


def test_phone_intake_creates_a_recorded_draft_for_a_new_group(setup, client):
    officer = _staff(setup["foundation"], Role.PROGRAM_OFFICER)
    client.force_login(officer)
    response = client.post("/admin/applications/intake/", {
        "call": setup["call"].pk, "channel": IntakeChannel.PHONE, "language": "es",
        "name": "Grupo de Jornaleros", "region_served": "Condado de Fresno", "legal_status": "unincorporated",
    })  # fmt: skip
    application = Application.objects.get(organization__name="Grupo de Jornaleros")
    assert response.status_code == 302
    assert response["Location"] == f"/es/applications/{application.pk}/step/1/"
    assert application.intake_channel == IntakeChannel.PHONE and application.created_by == officer
    assert not application.organization.memberships.exists()


def test_intake_form_errors_keep_input(setup, client):
    client.force_login(_staff(setup["foundation"], Role.PROGRAM_OFFICER))
    response = client.post("/admin/applications/intake/", {"call": setup["call"].pk, "channel": "phone",
                                                           "language": "en", "region_served": "Kern"})  # fmt: skip
    assert response.status_code == 200
    assert "Choose an existing organization or give the group&#x27;s name." in response.content.decode()
    assert 'value="Kern"' in response.content.decode()


def test_reviewer_and_outsiders_cannot_use_intake(setup, client):
    client.force_login(_staff(setup["foundation"], Role.REVIEWER))
    assert client.get("/admin/applications/intake/", follow=True).status_code == 404
