"""Review and decisions in Wagtail admin: the officers' list, detail and actions, batch actions,
the reviewers' area and decision messages. Everything goes through the admin views."""

import csv
import datetime
import io
import json
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from djmoney.money import Money
from wagtail.users.models import UserProfile

from grants.demo_questions import eligibility_json, questions_json
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    DecisionMessage,
    InformationRequest,
    OrganizationMembership,
    Recommendation,
    Review,
    ReviewAssignment,
    Role,
)
from grants.services import applications as app_service
from grants.services import reviews as review_service
from grants.services.staff import add_staff
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.grants.test_applications import PDF_BYTES, _draft

S = ApplicationStatus
ANSWER = "Two lawyers on call for detentions."  # demo-a2
SENSITIVE = "Retaliation by employers"  # demo-a5, a sensitive question
RUBRIC = [
    ("crit-need", ("Need in the community", "Necesidad en la comunidad"), "2"),
    ("crit-plan", ("Strength of the plan", "Solidez del plan"), "1"),
]
DECLINE_EN = "The fund is spent for this round. Please apply again in spring."
DECLINE_ES = "El fondo se agotó en esta ronda. Vuelvan a solicitar en primavera."


def rubric_json(language: str) -> str:
    index = 0 if language == "en" else 1
    return json.dumps(
        [{"type": "criterion", "id": cid, "value": {"label": labels[index], "weight": weight, "guidance": ""}}
         for cid, labels, weight in RUBRIC]
    )  # fmt: skip


def staff(foundation, role, **fields):
    user = UserFactory(is_staff=True, preferred_language="en", **fields)
    add_staff(user, foundation=foundation, role=role)
    return user


def submit_new(data, name=None, language="en"):
    """A new organization's submitted application to the fixture's call."""
    organization = OrganizationFactory(name=name) if name else OrganizationFactory()
    OrganizationMembership.objects.create(organization=organization, user=data["applicant"], role="owner")
    application, sections = _draft({**data, "organization": organization})
    Application.objects.filter(pk=application.pk).update(language=language)
    app_service.submit_application(application, sections=sections, by=data["applicant"], actor="applicant")
    application.refresh_from_db()
    return application


def build(site):
    """A foundation with one call (questions and a two-criterion rubric in en/es), one submitted
    application in Spanish, and one person in each staff role."""
    foundation = FoundationFactory(slug="bay-area")
    fund = FundFactory(foundation=foundation, name="Defense Fund")
    call = FundingCallFactory(fund=fund, title="Legal defense 2026", min_amount=Money(1000, "USD"),
                              max_amount=Money(20000, "USD"))  # fmt: skip
    page, page_es = pages.add_call_page(pages.add_fund_page(site, fund), call, questions=questions_json,
                                        eligibility=eligibility_json)  # fmt: skip
    for call_page, language in ((page, "en"), (page_es, "es")):
        call_page.rubric = rubric_json(language)
        pages.publish(call_page)
    applicant = UserFactory(preferred_language="es")
    data = {"foundation": foundation, "fund": fund, "call": call, "page": page, "applicant": applicant}
    data["application"] = submit_new(data, name="Comité de Defensa Sur", language="es")
    other = FoundationFactory(name="Valley Foundation")
    data.update(
        other_foundation=other,
        admin=staff(foundation, Role.FOUNDATION_ADMIN, first_name="Ada"),
        officer=staff(foundation, Role.PROGRAM_OFFICER, first_name="Olga", last_name="Officer"),
        officer2=staff(foundation, Role.PROGRAM_OFFICER, first_name="Omar", last_name="Officer"),
        reviewer=staff(foundation, Role.REVIEWER, first_name="Rosa", last_name="Reviewer"),
        reviewer2=staff(foundation, Role.REVIEWER, first_name="Raúl", last_name="Reviewer"),
        finance=staff(foundation, Role.FINANCE_OFFICER),
        auditor=staff(foundation, Role.AUDITOR),
        other_officer=staff(other, Role.PROGRAM_OFFICER),
        other_reviewer=staff(other, Role.REVIEWER, first_name="Otto"),
    )
    return data


@pytest.fixture
def data(site):
    return build(site)


def flashed(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def action(client, application, name, payload=None):
    url = f"/admin/applications/inspect/{application.pk}/do/{name}/"
    return client.post(url, {f"{name}-{key}": value for key, value in (payload or {}).items()})


def set_status(application, status):
    Application.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()


def submitted_review(application, reviewer, recommendation, score, comment=""):
    assignment = ReviewAssignment.objects.create(
        application=application, reviewer=reviewer, status=ReviewAssignment.Status.SUBMITTED
    )
    return Review.objects.create(
        assignment=assignment, application=application, recommendation=recommendation, comment=comment,
        weighted_score=Decimal(score), submitted_at=timezone.now(),
        rubric=[{"id": "overall", "label": "Overall", "weight": "1", "guidance": ""}],
        scores={"overall": {"score": int(Decimal(score)), "comment": ""}},
    )  # fmt: skip


def bulk_applications(data, count, *, prefix, reviewers=(), **fields):
    """``count`` applications made straight in the database, each with a submitted review by each
    of ``reviewers`` (fast enough to list hundreds)."""
    now = timezone.now()
    organizations = OrganizationFactory.create_batch(count)
    defaults = {"call": data["call"], "status": S.IN_REVIEW, "language": "en",
                "requested_amount": Money(5000, "USD")}  # fmt: skip
    applications = Application.objects.bulk_create(
        [
            Application(
                **{**defaults, **fields},
                organization=organization,
                reference=f"{prefix}-{i:04d}",
                submitted_at=now - datetime.timedelta(hours=i + 1),
            )  # fmt: skip
            for i, organization in enumerate(organizations)
        ]
    )
    recommendations = [Recommendation.FUND, Recommendation.MAYBE, Recommendation.DO_NOT_FUND]
    for application in applications:
        for index, reviewer in enumerate(reviewers):
            submitted_review(application, reviewer, recommendations[index % 3], "3.00")
        Application.objects.filter(pk=application.pk).update(**review_service.review_summary(application))
    return applications


# --- The officers' list -----------------------------------------------------------------------


def test_list_shows_score_reviews_recommendations_and_time_left(data, client):
    application = data["application"]
    submitted_review(application, data["reviewer"], Recommendation.FUND, "4.50")
    submitted_review(application, data["reviewer2"], Recommendation.MAYBE, "3.50")
    Application.objects.filter(pk=application.pk).update(**review_service.review_summary(application))
    rapid = FundingCallFactory(fund=data["fund"], rapid_response=True, decision_target_hours=24)
    [late] = bulk_applications({**data, "call": rapid}, 1, prefix="LATE",
                               decision_due_at=timezone.now() - datetime.timedelta(hours=3))  # fmt: skip
    [soon] = bulk_applications({**data, "call": rapid}, 1, prefix="SOON",
                               decision_due_at=timezone.now() + datetime.timedelta(hours=5, minutes=30))  # fmt: skip
    client.force_login(data["officer"])
    html = client.get("/admin/applications/").content.decode()
    assert "4.00" in html
    assert "Fund 1 · Maybe 1 · Do not fund 0" in html
    assert "Overdue by 3\xa0hours" in html
    assert "5\xa0hours, 29\xa0minutes left" in html or "5\xa0hours, 30\xa0minutes left" in html
    # Open rapid-response applications first, the nearest decision target first; then the oldest.
    assert html.index(late.reference) < html.index(soon.reference) < html.index(application.reference)


def test_decided_applications_show_no_time_left(data, client):
    rapid = FundingCallFactory(fund=data["fund"], rapid_response=True, decision_target_hours=24)
    bulk_applications({**data, "call": rapid}, 1, prefix="DONE", status=S.DECLINED,
                      decision_due_at=timezone.now() - datetime.timedelta(hours=3))  # fmt: skip
    client.force_login(data["officer"])
    html = client.get("/admin/applications/").content.decode()
    assert "DONE-0000" in html and "Overdue" not in html


def test_list_filters_and_search(data, client):
    rapid = FundingCallFactory(fund=data["fund"], rapid_response=True, decision_target_hours=24)
    scored = bulk_applications(data, 2, prefix="SCORED", reviewers=[data["reviewer"]])  # score 3.00
    bulk_applications({**data, "call": rapid}, 1, prefix="QUICK")
    Application.objects.filter(pk=scored[1].pk).update(review_score=Decimal("4.50"))
    client.force_login(data["officer"])

    def listed(query):
        html = client.get(f"/admin/applications/?{query}").content.decode()
        return {ref for ref in ("SCORED-0000", "SCORED-0001", "QUICK-0000", data["application"].reference)
                if ref in html}  # fmt: skip

    everyone = {"SCORED-0000", "SCORED-0001", "QUICK-0000", data["application"].reference}
    assert listed("") == everyone
    assert listed(f"reviewer={data['reviewer'].pk}") == {"SCORED-0000", "SCORED-0001"}
    assert listed(f"reviewer={data['reviewer2'].pk}") == set()
    assert listed("min_score=4") == {"SCORED-0001"}
    assert listed("max_score=3.5") == {"SCORED-0000"}
    assert listed("rapid_response=true") == {"QUICK-0000"}
    assert listed(f"call={rapid.pk}") == {"QUICK-0000"}
    assert listed(f"fund={data['fund'].pk}&status=in_review") == {"SCORED-0000", "SCORED-0001", "QUICK-0000"}
    assert listed("q=Comité de Defensa") == {data["application"].reference}
    assert listed("q=QUICK-0000") == {"QUICK-0000"}


def test_reviewer_filter_offers_only_this_foundations_reviewers(data, client):
    client.force_login(data["officer"])
    html = client.get("/admin/applications/").content.decode()
    assert "Rosa Reviewer" in html
    assert "Otto" not in html
    response = client.get(f"/admin/applications/?reviewer={data['other_reviewer'].pk}")
    assert data["application"].reference in response.content.decode()  # an invalid filter filters nothing


def test_csv_export_has_the_filtered_rows_with_their_review_summary(data, client):
    bulk_applications(
        data, 2, prefix="EXP", reviewers=[data["reviewer"], data["reviewer2"], data["officer2"]]
    )
    client.force_login(data["auditor"])
    response = client.get("/admin/applications/?status=in_review&export=csv")
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="applications.csv"'
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Reference", "Organization", "Funding call", "Fund", "Status", "Amount requested",
                       "Currency", "Submitted", "Decision due", "Time left", "Score", "Reviews", "Fund",
                       "Maybe", "Do not fund"]  # fmt: skip
    body = {row[0]: row for row in rows[1:]}
    assert set(body) == {"EXP-0000", "EXP-0001"}  # the submitted one is filtered out by status
    row = body["EXP-0000"]
    assert row[2:7] == ["Legal defense 2026", "Defense Fund", "In review", "5000.00", "USD"]
    assert row[10:] == ["3.00", "3", "1", "1", "1"]


def test_list_renders_in_a_constant_number_of_queries(data, client):
    client.force_login(data["officer"])
    reviewers = [data["reviewer"], data["reviewer2"], data["officer2"]]
    bulk_applications(data, 3, prefix="FEW", reviewers=reviewers)
    client.get("/admin/applications/")  # warm caches (content types, site, locales)
    with CaptureQueriesContext(connection) as few:
        assert client.get("/admin/applications/").status_code == 200
    bulk_applications(data, 27, prefix="MANY", reviewers=reviewers)
    with CaptureQueriesContext(connection) as many:
        response = client.get("/admin/applications/")
    html = response.content.decode()
    assert "MANY-0026" in html and "FEW-0002" in html
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]
    with CaptureQueriesContext(connection) as export_few:
        b"".join(client.get("/admin/applications/?export=csv&q=FEW").streaming_content)
    with CaptureQueriesContext(connection) as export_many:
        b"".join(client.get("/admin/applications/?export=csv").streaming_content)
    assert len(export_many) == len(export_few)


# --- The detail and its actions ---------------------------------------------------------------


def test_detail_shows_only_the_actions_the_state_allows(data, client):
    client.force_login(data["officer"])
    url = f"/admin/applications/inspect/{data['application'].pk}/"
    html = client.get(url).content.decode()
    for present in ("/do/start_screening/", "/do/send_to_review/", "/do/assign_reviewers/", "/do/decline/",
                    "/do/comment/"):  # fmt: skip
        assert present in html
    assert "/do/approve/" not in html and "/do/request_more_info/" not in html  # not from "submitted"
    set_status(data["application"], S.DECLINED)
    html = client.get(url).content.decode()
    assert "/do/" in html  # a comment can still be written
    assert "/do/decline/" not in html and "/do/approve/" not in html and "/do/start_screening/" not in html


def test_auditor_reads_the_detail_without_any_action_and_cannot_post_one(data, client):
    client.force_login(data["auditor"])
    application = data["application"]
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert ANSWER in html and SENSITIVE not in html
    assert "/do/" not in html
    response = action(client, application, "start_screening")
    assert response.status_code == 302 and response["Location"] == "/admin/"
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


def test_start_screening_then_send_to_review_with_notes(data, client):
    client.force_login(data["officer"])
    application = data["application"]
    response = action(client, application, "start_screening", {"note": "Complete, in scope."})
    assert response.status_code == 302
    assert flashed(response) == ["Screening started."]
    application.refresh_from_db()
    assert application.status == S.SCREENING
    entry = ActivityEntry.objects.get(subject_id=application.pk, action="start_screening")
    assert entry.note == "Complete, in scope." and entry.actor == data["officer"]
    action(client, application, "send_to_review", {"note": ""})
    application.refresh_from_db()
    assert application.status == S.IN_REVIEW


def test_refused_transition_is_a_message_and_changes_nothing(data, client):
    client.force_login(data["officer"])
    application = data["application"]
    set_status(application, S.IN_REVIEW)
    entries = ActivityEntry.objects.count()
    response = action(client, application, "start_screening", {"note": "Typed note"})
    assert response.status_code == 200
    assert flashed(response) == ["This cannot be done while the application is “In review”."]
    assert "/do/start_screening/" not in response.content.decode()  # no longer offered
    application.refresh_from_db()
    assert application.status == S.IN_REVIEW and ActivityEntry.objects.count() == entries


def test_assign_reviewers_emails_each_once(data, client, django_capture_on_commit_callbacks):
    client.force_login(data["officer"])
    application = data["application"]
    page = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "Rosa Reviewer" in page and "Otto" not in page  # only this foundation's reviewers are offered
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, application, "assign_reviewers",
                          {"reviewers": [data["reviewer"].pk, data["reviewer2"].pk], "note": "Urgent one"})  # fmt: skip
    assert flashed(response) == ["2 reviewer(s) assigned. They were told by email."]
    assert sorted(m.to[0] for m in mail.outbox) == sorted([data["reviewer"].email, data["reviewer2"].email])
    assert set(application.assignments.values_list("reviewer_id", flat=True)) == {
        data["reviewer"].pk, data["reviewer2"].pk}  # fmt: skip
    assert ActivityEntry.objects.filter(
        subject_id=application.pk, action="comment", note="Urgent one"
    ).exists()


def test_assigning_someone_outside_the_foundation_is_refused(data, client):
    client.force_login(data["officer"])
    application = data["application"]
    response = action(client, application, "assign_reviewers", {"reviewers": [data["other_reviewer"].pk]})
    assert response.status_code == 200
    assert any("Select a valid choice" in line for line in flashed(response))
    assert not application.assignments.exists()
    response = action(client, application, "assign_reviewers", {"reviewers": []})
    assert flashed(response) == ["Reviewers: Choose at least one reviewer."]


def test_request_more_information_names_the_answers(data, client, django_capture_on_commit_callbacks):
    client.force_login(data["officer"])
    application = data["application"]
    set_status(application, S.IN_REVIEW)
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "What will the money pay for?" in html  # a checkbox per question
    response = action(client, application, "request_more_info", {"message": "", "questions": ["demo-a2"]})
    assert flashed(response) == ["Write what is missing, in words the applicant will understand."]
    assert 'value="demo-a2" id="id_request_more_info-questions_0" checked' in response.content.decode()
    assert not InformationRequest.objects.exists()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, application, "request_more_info",
                          {"message": "Split the hours by month.", "questions": ["demo-a2"]})  # fmt: skip
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.MORE_INFO_REQUESTED
    request = InformationRequest.objects.get()
    assert request.question_ids == ["demo-a2"] and request.message == "Split the hours by month."
    assert [m.to[0] for m in mail.outbox] == [data["applicant"].email]
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "Split the hours by month." in html


def test_approve_defaults_to_the_amount_requested_and_needs_confirmation_for_more(data, client):
    client.force_login(data["officer"])
    application = data["application"]
    set_status(application, S.IN_REVIEW)
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert 'name="approve-amount" value="5,000.00"' in html
    assert "Amount to award (USD)" in html
    response = action(client, application, "approve", {"amount": "6000"})
    assert response.status_code == 200
    assert flashed(response) == ["This is more than the $5,000.00 requested. Confirm to award more."]
    assert 'value="6000"' in response.content.decode()  # what was typed is kept
    application.refresh_from_db()
    assert application.status == S.IN_REVIEW and application.award_amount is None
    response = action(client, application, "approve", {"amount": "abc"})
    assert flashed(response) == ["Amount to award (USD): Enter the amount as a number, for example 1,500.75."]
    response = action(client, application, "approve", {"amount": "6000", "confirm_over_requested": "on",
                                                        "message": "Start in March."})  # fmt: skip
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.APPROVED
    assert application.award_amount == Money(6000, "USD")
    assert application.decision_reason == "Start in March." and application.decided_by == data["officer"]


def test_decline_with_a_template_sends_it_in_the_applicants_language(
    data, client, django_capture_on_commit_callbacks
):
    template = DecisionMessage.objects.create(foundation=data["foundation"], title="Fund spent",
                                              body=DECLINE_EN, translations={"es": {"body": DECLINE_ES}})  # fmt: skip
    DecisionMessage.objects.create(foundation=data["other_foundation"], title="Other foundation's text",
                                   body="x", translations={"es": {"body": "x"}})  # fmt: skip
    client.force_login(data["officer"])
    application = data["application"]  # in Spanish
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "Fund spent" in html and "Other foundation&#x27;s text" not in html
    response = action(client, application, "decline", {"template": "", "reason": ""})
    assert flashed(response) == ["Give the applicant a reason."]
    application.refresh_from_db()
    assert application.status == S.SUBMITTED
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = action(client, application, "decline", {"template": template.pk, "reason": ""})
    assert response.status_code == 302
    application.refresh_from_db()
    assert application.status == S.DECLINED and application.decision_reason == DECLINE_ES
    assert DECLINE_ES in mail.outbox[0].body


def test_a_written_reason_wins_over_the_template(data, client):
    template = DecisionMessage.objects.create(foundation=data["foundation"], title="Fund spent",
                                              body=DECLINE_EN, translations={"es": {"body": DECLINE_ES}})  # fmt: skip
    client.force_login(data["officer"])
    application = data["application"]
    action(client, application, "decline", {"template": template.pk, "reason": "Fuera del alcance."})
    application.refresh_from_db()
    assert application.decision_reason == "Fuera del alcance."


def test_comments_internal_or_shared_appear_on_the_timeline(data, client):
    client.force_login(data["officer"])
    application = data["application"]
    response = action(client, application, "comment", {"text": ""})
    assert flashed(response) == ["Write a comment."]
    action(client, application, "comment", {"text": "Called the group: budget OK."})
    action(
        client, application, "comment", {"text": "We will decide by Friday.", "shared_with_applicant": "on"}
    )
    internal = ActivityEntry.objects.get(action="comment", note="Called the group: budget OK.")
    shared = ActivityEntry.objects.get(action="comment", note="We will decide by Friday.")
    assert not internal.visible_to_applicant and shared.visible_to_applicant
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "Called the group: budget OK." in html and "Internal" in html
    assert "We will decide by Friday." in html and "Shared with the applicant" in html


def test_timeline_shows_transitions_reviews_and_emails(data, client, django_capture_on_commit_callbacks):
    application, officer = data["application"], data["officer"]
    review_service.start_screening(application, by=officer, note="Looks complete")
    review_service.assign_reviewers([application], [data["reviewer"]], by=officer)
    assignment = ReviewAssignment.objects.get(application=application)
    review_service.declare_conflict(assignment, by=data["reviewer"], has_conflict=False)
    review_service.save_review(assignment, by=data["reviewer"], rubric=[{"id": "o", "label": "O", "weight": "1"}],
                               scores={"o": {"score": 4}}, recommendation="fund", submit=True)  # fmt: skip
    with django_capture_on_commit_callbacks(execute=True):
        review_service.decline_application(application, by=officer, reason="Out of scope")
    client.force_login(data["admin"])
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    for text in ("Screening started", "Looks complete", "Reviewer assigned", "Rosa Reviewer",
                 "No conflict of interest declared", "Review submitted", "Declined", "Email sent", "decline",
                 "Submitted → Screening"):  # fmt: skip
        assert text in html, text


def test_versions_can_be_compared(data, client, django_capture_on_commit_callbacks):
    application, officer = data["application"], data["officer"]
    review_service.start_screening(application, by=officer)
    review_service.request_more_information(application, by=officer, message="More", question_ids=["demo-a2"])
    sections = review_service_sections(data)
    application.refresh_from_db()
    app_service.save_section(application, section=sections[0], raw={"demo-a2": "Lawyers: 100 h in March."},
                             by=data["applicant"])  # fmt: skip
    review_service.resubmit_application(
        application, sections=sections, by=data["applicant"], actor="applicant"
    )
    client.force_login(officer)
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "Version 2" in html
    html = client.get(f"/admin/applications/inspect/{application.pk}/compare/?from=1&to=2").content.decode()
    assert "What will the money pay for?" in html
    assert ANSWER in html and "Lawyers: 100 h in March." in html
    assert "Main language of your work" not in html  # unchanged answers are not listed


def review_service_sections(data):
    from grants.questions import split_sections

    return split_sections(data["page"].get_questions(), first_heading="About your request")


def test_officer_with_a_declared_conflict_cannot_read_or_decide(data, client):
    application = data["application"]
    set_status(application, S.IN_REVIEW)
    ReviewAssignment.objects.create(application=application, reviewer=data["officer"],
                                    status=ReviewAssignment.Status.CONFLICT)  # fmt: skip
    client.force_login(data["officer"])
    html = client.get(f"/admin/applications/inspect/{application.pk}/").content.decode()
    assert "You declared a conflict of interest" in html
    assert ANSWER not in html and "/do/approve/" not in html and "/do/decline/" not in html
    response = action(client, application, "approve", {"amount": "5000"})
    assert flashed(response) == ["You declared a conflict of interest: another officer must decide."]
    application.refresh_from_db()
    assert application.status == S.IN_REVIEW


def test_staff_of_another_foundation_get_404_for_every_action(data, client):
    client.force_login(data["other_officer"])
    application = data["application"]
    for name in review_service.OFFICER_TRANSITIONS + ("assign_reviewers", "comment"):
        assert action(client, application, name).status_code in (302, 404)
        assert (
            client.post(f"/admin/applications/inspect/{application.pk}/do/{name}/", follow=True).status_code
            == 404
        )
    application.refresh_from_db()
    assert application.status == S.SUBMITTED


# --- Batch actions ----------------------------------------------------------------------------


def test_batch_assigns_reviewers_to_many_with_one_email_each(
    data, client, django_capture_on_commit_callbacks
):
    second = submit_new(data, name="Hotline Norte")
    declined = submit_new(data, name="Closed group")
    client.force_login(data["officer"])
    html = client.get("/admin/applications/batch/").content.decode()
    assert "Hotline Norte" in html and second.reference in html
    set_status(declined, S.DECLINED)  # decided after the list was shown
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/admin/applications/batch/", {
            "applications": [data["application"].pk, second.pk, declined.pk], "action": "assign",
            "reviewers": [data["reviewer"].pk, data["reviewer2"].pk]}, follow=True)  # fmt: skip
    assert response.status_code == 200
    assert ReviewAssignment.objects.filter(application__in=[data["application"], second]).count() == 4
    assert len(mail.outbox) == 2  # one per reviewer for the whole batch
    assert "2" in mail.outbox[0].body or second.reference in mail.outbox[0].body
    assert not declined.assignments.exists()


def test_batch_approve_reports_the_refused_ones(data, client):
    ready = submit_new(data, name="Ready group")
    set_status(ready, S.IN_REVIEW)
    client.force_login(data["officer"])
    response = client.post("/admin/applications/batch/", {
        "applications": [data["application"].pk, ready.pk], "action": "approve"}, follow=True)  # fmt: skip
    html = response.content.decode()
    ready.refresh_from_db()
    data["application"].refresh_from_db()
    assert ready.status == S.APPROVED and ready.award_amount == Money(5000, "USD")
    assert data["application"].status == S.SUBMITTED  # not screened yet: approval refused
    assert "1 application decided. 1 applicant was told by email." in html
    assert (f"{data['application'].reference} was not changed: This cannot be done while the application is "
            "“Submitted”.") in html  # fmt: skip


def test_batch_decline_uses_each_applicants_language(data, client):
    template = DecisionMessage.objects.create(foundation=data["foundation"], title="Fund spent",
                                              body=DECLINE_EN, translations={"es": {"body": DECLINE_ES}})  # fmt: skip
    english = submit_new(data, name="English group", language="en")
    client.force_login(data["officer"])
    client.post("/admin/applications/batch/", {
        "applications": [data["application"].pk, english.pk], "action": "decline", "template": template.pk})  # fmt: skip
    data["application"].refresh_from_db()
    english.refresh_from_db()
    assert data["application"].decision_reason == DECLINE_ES
    assert english.decision_reason == DECLINE_EN


def test_batch_without_choice_keeps_the_selection(data, client):
    client.force_login(data["officer"])
    response = client.post("/admin/applications/batch/", {"applications": [data["application"].pk],
                                                          "action": "decline"})  # fmt: skip
    assert response.status_code == 200
    assert flashed(response) == ["Decline message: Choose the message the applicants will receive."]
    assert (
        f'value="{data["application"].pk}" id="app-{data["application"].pk}" checked'
        in response.content.decode()
    )
    response = client.post("/admin/applications/batch/", {"action": "approve"})
    assert flashed(response) == ["Choose at least one application."]
    data["application"].refresh_from_db()
    assert data["application"].status == S.SUBMITTED


def test_batch_ignores_applications_of_another_foundation(data, client):
    client.force_login(data["other_officer"])
    html = client.get("/admin/applications/batch/").content.decode()
    assert data["application"].reference not in html
    response = client.post("/admin/applications/batch/", {"applications": [data["application"].pk],
                                                          "action": "approve"})  # fmt: skip
    assert flashed(response) == ["Choose at least one application."]
    data["application"].refresh_from_db()
    assert data["application"].status == S.SUBMITTED


# --- The reviewers' area ----------------------------------------------------------------------


@pytest.fixture
def assigned(data):
    set_status(data["application"], S.IN_REVIEW)
    review_service.assign_reviewers([data["application"]], [data["reviewer"], data["reviewer2"]],
                                    by=data["officer"])  # fmt: skip
    return data


def test_reviewer_sees_nothing_of_the_answers_before_declaring(assigned, client):
    client.force_login(assigned["reviewer"])
    application = assigned["application"]
    index = client.get("/admin/reviews/").content.decode()
    assert application.reference in index and "Declare conflicts" in index
    html = client.get(f"/admin/reviews/{application.pk}/").content.decode()
    assert application.reference in html and "Comité de Defensa Sur" in html and "Legal defense 2026" in html
    assert ANSWER not in html and "Need in the community" not in html and "5000" not in html
    response = client.post(
        f"/admin/reviews/{application.pk}/score/", {"score-crit-need": "3", "action": "save"}
    )
    assert flashed(response) == ["Declare any conflict of interest first."]
    assert ANSWER not in response.content.decode()
    assert not Review.objects.exists()


def test_declaring_without_choosing_is_refused(assigned, client):
    client.force_login(assigned["reviewer"])
    pk = assigned["application"].pk
    response = client.post(f"/admin/reviews/{pk}/declare/", {"note": "thinking"})
    assert flashed(response) == ["Say whether you have a conflict of interest with this application."]
    assert "thinking" in response.content.decode()
    assert ReviewAssignment.objects.get(application_id=pk, reviewer=assigned["reviewer"]).status == (
        ReviewAssignment.Status.AWAITING_DECLARATION
    )


def test_declaring_a_conflict_ends_the_assignment_and_tells_the_officer(
    assigned, client, django_capture_on_commit_callbacks
):
    client.force_login(assigned["reviewer"])
    pk = assigned["application"].pk
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/admin/reviews/{pk}/declare/", {"conflict": "yes", "note": "My sister works there"}
        )
    assert response.status_code == 302 and response["Location"] == "/admin/reviews/"
    assert [m.to[0] for m in mail.outbox] == [assigned["officer"].email]
    assignment = ReviewAssignment.objects.get(application_id=pk, reviewer=assigned["reviewer"])
    assert (
        assignment.status == ReviewAssignment.Status.CONFLICT
        and assignment.conflict_note == "My sister works there"
    )
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert "You declared a conflict of interest" in html and ANSWER not in html
    assert client.get(f"/admin/applications/inspect/{pk}/", follow=True).status_code == 404
    client.force_login(assigned["officer"])
    assert "My sister works there" in client.get(f"/admin/applications/inspect/{pk}/").content.decode()


def test_reviewer_reads_answers_without_sensitive_ones_and_scores_with_the_rubric(assigned, client):
    reviewer, application = assigned["reviewer"], assigned["application"]
    client.force_login(reviewer)
    pk = application.pk
    response = client.post(f"/admin/reviews/{pk}/declare/", {"conflict": "no"})
    assert response["Location"] == f"/admin/reviews/{pk}/"
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert ANSWER in html and SENSITIVE not in html
    assert "Need in the community" in html and "Strength of the plan" in html
    # Save a draft: kept, not submitted.
    client.post(f"/admin/reviews/{pk}/score/", {"score-crit-need": "4", "comment-crit-need": "Urgent need",
                                                "action": "save"})  # fmt: skip
    review = Review.objects.get()
    assert review.submitted_at is None and review.scores["crit-need"] == {
        "score": 4,
        "comment": "Urgent need",
    }
    # Submitting without every score and a recommendation is refused, with what was typed kept.
    response = client.post(f"/admin/reviews/{pk}/score/", {"score-crit-need": "4", "comment": "Strong group",
                                                           "action": "submit"})  # fmt: skip
    assert {"Give a score for “Strength of the plan”.", "Choose a recommendation."} <= set(flashed(response))
    assert "Strong group" in response.content.decode()
    review.refresh_from_db()
    assert review.submitted_at is None
    response = client.post(f"/admin/reviews/{pk}/score/", {"score-crit-need": "4", "score-crit-plan": "1",
                                                           "recommendation": "fund", "action": "submit"})  # fmt: skip
    assert flashed(response) == ["Review submitted. Thank you."]
    review.refresh_from_db()
    application.refresh_from_db()
    assert review.weighted_score == Decimal("3.00")  # (4 * 2 + 1 * 1) / 3
    assert application.review_score == Decimal("3.00") and application.review_count == 1
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert 'name="score-crit-need"' not in html  # a submitted review cannot change


def test_rubric_is_shown_in_the_reviewers_admin_language(assigned, client):
    reviewer, pk = assigned["reviewer"], assigned["application"].pk
    profile = UserProfile.get_for_user(reviewer)
    profile.preferred_language = "es"
    profile.save()
    review_service.declare_conflict(
        ReviewAssignment.objects.get(reviewer=reviewer), by=reviewer, has_conflict=False
    )
    client.force_login(reviewer)
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert "Necesidad en la comunidad" in html and "Need in the community" not in html


def test_call_without_rubric_scores_one_overall_criterion(assigned, client):
    for page in assigned["page"].get_translations(inclusive=True):
        page = page.specific
        page.rubric = "[]"
        pages.publish(page)
    reviewer, pk = assigned["reviewer"], assigned["application"].pk
    review_service.declare_conflict(
        ReviewAssignment.objects.get(reviewer=reviewer), by=reviewer, has_conflict=False
    )
    client.force_login(reviewer)
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert 'name="score-overall"' in html and "Overall" in html
    client.post(
        f"/admin/reviews/{pk}/score/", {"score-overall": "5", "recommendation": "maybe", "action": "submit"}
    )
    assert Review.objects.get().weighted_score == Decimal("5.00")


def test_others_reviews_are_shown_only_after_submitting_ones_own(assigned, client):
    application = assigned["application"]
    first, second = assigned["reviewer"], assigned["reviewer2"]
    for reviewer in (first, second):
        review_service.declare_conflict(ReviewAssignment.objects.get(reviewer=reviewer), by=reviewer,
                                        has_conflict=False)  # fmt: skip
    review_service.save_review(ReviewAssignment.objects.get(reviewer=second), by=second,
                               rubric=[{"id": "o", "label": "O", "weight": "1"}], scores={"o": {"score": 2}},
                               recommendation="do_not_fund", comment="Raúl's reasons", submit=True)  # fmt: skip
    client.force_login(first)
    url = f"/admin/reviews/{application.pk}/"
    assert "Raúl&#x27;s reasons" not in client.get(url).content.decode()
    client.post(f"/admin/reviews/{application.pk}/score/", {"score-crit-need": "5", "score-crit-plan": "5",
                                                            "recommendation": "fund", "action": "submit"})  # fmt: skip
    assert "Raúl&#x27;s reasons" in client.get(url).content.decode()


def test_reviewer_downloads_files_only_after_declaring(assigned, client):
    application = assigned["application"]
    set_status(application, S.MORE_INFO_REQUESTED)  # editable, to add a file
    question = next(q for q in assigned["page"].get_questions() if q.type == "file")
    attachment = app_service.add_attachment(application, question=question, by=assigned["applicant"],
                                            upload=SimpleUploadedFile("letter.pdf", PDF_BYTES))  # fmt: skip
    set_status(application, S.IN_REVIEW)
    reviewer = assigned["reviewer"]
    client.force_login(reviewer)
    url = f"/admin/reviews/{application.pk}/files/{attachment.pk}/"
    assert client.get(url, follow=True).status_code == 404
    review_service.declare_conflict(
        ReviewAssignment.objects.get(reviewer=reviewer), by=reviewer, has_conflict=False
    )
    assert url in client.get(f"/admin/reviews/{application.pk}/").content.decode()
    response = client.get(url)
    assert response.status_code == 200 and b"".join(response.streaming_content) == PDF_BYTES
    assert "private" in response["Cache-Control"] and "no-store" in response["Cache-Control"]


def test_unassigned_reviewer_gets_404_everywhere(assigned, client):
    outsider = staff(assigned["foundation"], Role.REVIEWER)
    client.force_login(outsider)
    pk = assigned["application"].pk
    assert assigned["application"].reference not in client.get("/admin/reviews/").content.decode()
    for method, url in (("get", f"/admin/reviews/{pk}/"), ("post", f"/admin/reviews/{pk}/declare/"),
                        ("post", f"/admin/reviews/{pk}/score/"), ("get", f"/admin/applications/inspect/{pk}/")):  # fmt: skip
        assert getattr(client, method)(url, {"conflict": "no"}, follow=True).status_code == 404, url
    assert not ReviewAssignment.objects.filter(reviewer=outsider).exists()


def test_reviewer_menu_shows_my_reviews_and_not_applications(assigned, client):
    client.force_login(assigned["reviewer"])
    html = client.get("/admin/").content.decode()
    assert "/admin/reviews/" in html and "/admin/applications/" not in html
    client.force_login(assigned["finance"])
    html = client.get("/admin/").content.decode()
    assert "/admin/reviews/" not in html


# --- Decision messages ------------------------------------------------------------------------


def test_decision_messages_are_kept_per_foundation(data, client):
    own = DecisionMessage.objects.create(foundation=data["foundation"], title="Fund spent",
                                         body=DECLINE_EN, translations={"es": {"body": DECLINE_ES}})  # fmt: skip
    foreign = DecisionMessage.objects.create(foundation=data["other_foundation"], title="Valley text",
                                             body="x", translations={"es": {"body": "x"}})  # fmt: skip
    client.force_login(data["officer"])
    html = client.get("/admin/decision-messages/").content.decode()
    assert "Fund spent" in html and "Valley text" not in html
    assert client.get(f"/admin/decision-messages/edit/{own.pk}/").status_code == 200
    assert client.get(f"/admin/decision-messages/edit/{foreign.pk}/", follow=True).status_code == 404
    assert client.post(f"/admin/decision-messages/delete/{foreign.pk}/", follow=True).status_code == 404
    assert DecisionMessage.objects.filter(pk=foreign.pk).exists()
    response = client.post("/admin/decision-messages/new/", {
        "foundation": data["other_foundation"].pk, "kind": "decline", "title": "Sneaky",
        "body": "a", "body_es": "b"})  # fmt: skip
    assert response.status_code == 200 and not DecisionMessage.objects.filter(title="Sneaky").exists()
    client.post("/admin/decision-messages/new/", {"foundation": data["foundation"].pk, "kind": "decline",
                                                  "title": "Out of region", "body": "a", "body_es": "b"})  # fmt: skip
    assert DecisionMessage.objects.get(title="Out of region").foundation == data["foundation"]


def test_review_texts_over_the_limit_are_refused_and_kept_never_cut(assigned, client):
    """A reviewer's comments and conflict note show their limit and, beyond it, are refused with
    what was typed kept — nothing is silently cut."""
    reviewer, application = assigned["reviewer"], assigned["application"]
    client.force_login(reviewer)
    pk = application.pk
    too_long = "x" * 1999 + " END-OF-NOTE"
    response = client.post(f"/admin/reviews/{pk}/declare/", {"conflict": "yes", "note": too_long})
    assert response.status_code == 200
    assert any("at most 2000 characters" in line for line in flashed(response))
    assert "END-OF-NOTE" in response.content.decode()
    assignment = ReviewAssignment.objects.get(application_id=pk, reviewer=reviewer)
    assert (
        assignment.status == ReviewAssignment.Status.AWAITING_DECLARATION and assignment.conflict_note == ""
    )

    client.post(f"/admin/reviews/{pk}/declare/", {"conflict": "no"})
    html = client.get(f"/admin/reviews/{pk}/").content.decode()
    assert 'maxlength="2000"' in html and "Up to 2000 characters." in html
    response = client.post(
        f"/admin/reviews/{pk}/score/",
        {"score-crit-need": "4", "comment-crit-need": too_long, "comment": too_long, "action": "save"},
    )
    lines = flashed(response)
    assert any("The comment on “Need in the community” can be at most 2000" in line for line in lines)
    assert any("Your comment can be at most 2000 characters" in line for line in lines)
    assert "END-OF-NOTE" in response.content.decode()
    assert not Review.objects.exists()
