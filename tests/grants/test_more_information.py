"""The applicant's side of review: the foundation asks for more information, the applicant
changes only the named answers and sends them again (versions kept and compared), sees the
decision and a timeline without anything internal."""

import re

import pytest
from django.core import mail
from djmoney.money import Money

from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    ApplicationVersion,
    ReviewAssignment,
    Role,
)
from grants.services import applications as app_service
from grants.services import reviews
from grants.services.staff import add_staff
from tests.factories import FoundationFactory, FundFactory, FundingCallFactory, UserFactory
from tests.grants.test_applications import _draft, setup  # noqa: F401 - fixture

S = ApplicationStatus
MESSAGE = "Split the lawyer hours by month, please."
OLD_A2 = "Two lawyers on call for detentions."
NEW_A2 = "Lawyers: 100 h in March, 60 h in April."


def _staff(foundation, role, **names):
    user = UserFactory(is_staff=True, preferred_language="en", **names)
    add_staff(user, foundation=foundation, role=role)
    return user


def _ask(setup, question_ids, capture):  # noqa: F811
    application, sections = _draft(setup)
    app_service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    officer = _staff(setup["foundation"], Role.PROGRAM_OFFICER, first_name="Olivia", last_name="Officerton")
    reviews.start_screening(application, by=officer)
    mail.outbox.clear()
    with capture(execute=True):
        reviews.request_more_information(application, by=officer, message=MESSAGE, question_ids=question_ids)
    application.refresh_from_db()
    setup.update(application=application, sections=sections, officer=officer)
    return setup


@pytest.fixture
def asked(setup, django_capture_on_commit_callbacks):  # noqa: F811
    """Submitted, screened, and the officer asks about "What will the money pay for?" (step 2)."""
    return _ask(setup, ["demo-a2"], django_capture_on_commit_callbacks)


def _step2_post(**overrides):
    data = {"q_demo-a2": NEW_A2, "q_demo-a3": "120", "q_demo-a4": "0", "q_demo-a5": "Retaliation by employers.",
            "action": "save"}  # fmt: skip
    data.update(overrides)
    return data


# --- Being told ------------------------------------------------------------------------------


def test_request_is_emailed_in_the_applicants_language_with_the_message(asked):
    (email,) = mail.outbox
    assert email.to == ["ana@example.org"]
    assert email.body.startswith("Hola")  # Ana prefers Spanish
    assert MESSAGE in email.body
    html = email.alternatives[0][0]
    assert '<html lang="es">' in html
    assert MESSAGE in html
    assert f"/es/applications/{asked['application'].pk}/" in email.body
    assert "Retaliation" not in email.body + html  # sensitive answers never leave by email


def test_dashboard_shows_the_message_and_links_to_the_step_with_the_named_answer(asked, client):
    client.force_login(asked["applicant"])
    html = client.get("/en/dashboard/").content.decode()
    assert MESSAGE in html
    assert "Answer the foundation's questions" in html
    assert f'href="/en/applications/{asked["application"].pk}/step/2/"' in html


def test_every_step_shows_the_message_and_only_the_named_answer_is_an_input(asked, client):
    client.force_login(asked["applicant"])
    pk = asked["application"].pk
    step2 = client.get(f"/en/applications/{pk}/step/2/").content.decode()
    assert MESSAGE in step2
    assert 'name="q_demo-a2"' in step2
    for other in ('name="q_demo-a3"', 'name="q_demo-a4"', 'name="q_demo-a5"'):
        assert other not in step2
    assert "120" in step2  # shown read-only
    step1 = client.get(f"/en/applications/{pk}/step/1/").content.decode()
    assert MESSAGE in step1
    assert 'name="_title"' not in step1 and 'name="_requested_amount"' not in step1
    assert "Rapid response lawyers" in step1
    review = client.get(f"/en/applications/{pk}/review/").content.decode()
    assert MESSAGE in review
    assert "Send the answers to the foundation" in review


def test_a_crafted_post_changes_only_the_named_answer(asked, client):
    client.force_login(asked["applicant"])
    pk = asked["application"].pk
    before = Application.objects.get(pk=pk)
    response = client.post(f"/en/applications/{pk}/step/2/",
                           _step2_post(**{"q_demo-a3": "999", "q_demo-a5": "Changed sensitive text"}))  # fmt: skip
    assert response.status_code == 302
    client.post(
        f"/en/applications/{pk}/step/1/", {"_title": "Hacked", "_requested_amount": "1", "action": "save"}
    )
    after = Application.objects.get(pk=pk)
    assert after.answers["demo-a2"] == NEW_A2
    assert after.answers["demo-a3"] == before.answers["demo-a3"] == "120"
    assert after.sensitive_answers == before.sensitive_answers
    assert (after.title, after.requested_amount) == (before.title, before.requested_amount)


def test_the_service_refuses_other_answers_whatever_the_caller_passes(asked):
    application, sections = asked["application"], asked["sections"]
    first, second = sections[0], sections[1]
    app_service.save_section(application, section=first, raw={"_title": "Other"}, by=asked["applicant"])
    app_service.save_section(application, section=second, raw={"demo-a3": "7"}, by=asked["applicant"],
                             editable_ids={"demo-a3"})  # fmt: skip
    app_service.save_section(application, section=second, raw={"demo-a2": "narrowed"}, by=asked["applicant"],
                             editable_ids=set())  # fmt: skip
    application.refresh_from_db()
    assert application.title == "Rapid response lawyers"
    assert application.answers["demo-a3"] == "120"
    assert application.answers["demo-a2"] == OLD_A2
    app_service.save_section(application, section=second, raw={"demo-a2": NEW_A2}, by=asked["applicant"])
    application.refresh_from_db()
    assert application.answers["demo-a2"] == NEW_A2


def test_drafts_can_still_change_every_answer(setup):  # noqa: F811
    application, sections = _draft(setup)
    app_service.save_section(application, section=sections[1], raw={"demo-a3": "7"}, by=setup["applicant"])
    application.refresh_from_db()
    assert application.answers["demo-a3"] == "7"


def test_a_file_can_only_be_changed_when_named(asked, client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from tests.grants.test_applications import PDF_BYTES

    client.force_login(asked["applicant"])
    pk = asked["application"].pk
    client.post(f"/en/applications/{pk}/step/3/",
                {"q_demo-b3": SimpleUploadedFile("letter.pdf", PDF_BYTES), "action": "save"})  # fmt: skip
    assert not asked["application"].attachments.exists()


# --- Sending again ---------------------------------------------------------------------------


def test_double_clicked_resubmit_makes_version_two_and_shows_what_changed(asked, client):
    client.force_login(asked["applicant"])
    pk = asked["application"].pk
    client.post(f"/en/applications/{pk}/step/2/", _step2_post())
    first = client.post(f"/en/applications/{pk}/submit/")
    second = client.post(f"/en/applications/{pk}/submit/")
    assert first.status_code == second.status_code == 302
    assert first["Location"].endswith(f"/applications/{pk}/?resubmitted=1")
    application = Application.objects.get(pk=pk)
    assert application.status == S.RESUBMITTED
    assert list(
        ApplicationVersion.objects.filter(application=application).values_list("number", flat=True)
    ) == [
        1,
        2,
    ]
    assert ActivityEntry.objects.filter(action="resubmit", subject_id=pk).count() == 1
    assert ActivityEntry.objects.filter(action="submitted", subject_id=pk).count() == 1
    html = client.get(first["Location"]).content.decode()
    assert "Answers sent to the foundation" in html
    assert "Resubmitted" in html
    assert "What changed in version 2 (compared with version 1)" in html
    changes = html.split("What changed in version 2")[1]
    assert "What will the money pay for?" in changes
    assert OLD_A2 in changes and NEW_A2 in changes
    assert "How many people" not in changes  # unchanged answers are not listed
    assert "The answers asked for were sent to the foundation." in html


def test_resubmit_is_refused_while_an_answer_is_invalid(asked, client):
    client.force_login(asked["applicant"])
    pk = asked["application"].pk
    client.post(f"/en/applications/{pk}/step/2/", _step2_post(**{"q_demo-a2": ""}))
    response = client.post(f"/en/applications/{pk}/submit/")
    assert response.status_code == 302
    assert response["Location"].endswith(f"/applications/{pk}/review/")
    application = Application.objects.get(pk=pk)
    assert application.status == S.MORE_INFO_REQUESTED
    assert application.versions.count() == 1
    assert application.information_requests.get().answered_at is None


def test_versions_page_hides_sensitive_changes_from_auditors(
    setup,  # noqa: F811
    client,
    django_capture_on_commit_callbacks,
):
    asked = _ask(setup, ["demo-a5"], django_capture_on_commit_callbacks)
    pk = asked["application"].pk
    client.force_login(asked["applicant"])
    client.post(f"/en/applications/{pk}/step/2/", _step2_post(**{"q_demo-a5": "Threats after the raid."}))
    client.post(f"/en/applications/{pk}/submit/")
    assert Application.objects.get(pk=pk).sensitive_answers["demo-a5"] == "Threats after the raid."
    assert Application.objects.get(pk=pk).answers["demo-a2"] == OLD_A2  # not named, not changed

    client.force_login(asked["officer"])
    officer_html = client.get(f"/en/applications/{pk}/versions/").content.decode()
    assert "Risks your group faces doing this work" in officer_html
    assert "Threats after the raid." in officer_html and "Retaliation by employers." in officer_html

    auditor = _staff(asked["foundation"], Role.AUDITOR)
    client.force_login(auditor)
    response = client.get(f"/en/applications/{pk}/versions/")
    assert response.status_code == 200
    auditor_html = response.content.decode()
    assert "Risks your group faces doing this work" in auditor_html
    assert "Threats after the raid." not in auditor_html and "Retaliation" not in auditor_html
    assert "Threats after the raid." not in client.get(f"/en/applications/{pk}/").content.decode()
    assert client.get(f"/en/applications/{pk}/versions/?version=9").status_code == 404

    outsider = _staff(FoundationFactory(), Role.PROGRAM_OFFICER)
    client.force_login(outsider)
    assert client.get(f"/en/applications/{pk}/versions/").status_code == 404


# --- Decision and timeline -------------------------------------------------------------------


def test_approval_is_shown_to_the_applicant_in_their_language(asked, client):
    application, officer = asked["application"], asked["officer"]
    reviews.resubmit_application(
        application, sections=asked["sections"], by=asked["applicant"], actor="applicant"
    )
    reviews.approve_application(application, by=officer, amount=Money(4500, "USD"),
                                message="Felicidades: empiecen en marzo.")  # fmt: skip
    client.force_login(asked["applicant"])
    for url in ("/es/dashboard/", f"/es/applications/{application.pk}/"):
        html = client.get(url).content.decode()
        assert "4.500,00" in html  # the amount, formatted for Spanish
        assert "Felicidades: empiecen en marzo." in html
        assert "Aprobada" in html


def test_decline_reason_is_shown_as_written(asked, client):
    application = asked["application"]
    reviews.decline_application(application, by=asked["officer"], reason="Los fondos se agotaron este año.")
    client.force_login(asked["applicant"])
    for url in ("/en/dashboard/", f"/en/applications/{application.pk}/"):
        html = client.get(url).content.decode()
        assert "Los fondos se agotaron este año." in html
        assert "Declined" in html
    detail = client.get(f"/en/applications/{application.pk}/").content.decode()
    assert "The foundation declined your application" in detail
    assert "Answer the foundation" not in detail


def test_timeline_shows_sentences_and_shared_comments_but_nothing_internal(asked, client):
    application, officer = asked["application"], asked["officer"]
    reviewer = _staff(asked["foundation"], Role.REVIEWER, first_name="Rita", last_name="Reviewerson")
    assignment = ReviewAssignment.objects.create(
        application=application, reviewer=reviewer, assigned_by=officer
    )
    reviews.declare_conflict(assignment, by=reviewer, has_conflict=True, note="Sits on their board")
    reviews.add_comment(
        application, by=officer, text="Weak budget, strong partner", shared_with_applicant=False
    )
    reviews.add_comment(
        application, by=officer, text="Thank you for your patience", shared_with_applicant=True
    )

    client.force_login(asked["applicant"])
    html = client.get(f"/en/applications/{application.pk}/").content.decode()
    history = html.split('id="history-heading"')[1]
    assert "The application was submitted." in history
    assert "The foundation asked for more information." in history
    assert MESSAGE in history
    assert "Message from the foundation" in history and "Thank you for your patience" in history
    for secret in ("Weak budget", "Sits on their board", "Rita", "Reviewerson", "Olivia", "Officerton",
                   officer.email, reviewer.email, "Internal comment", "start_screening", "email_sent"):  # fmt: skip
        assert secret not in html
    assert not re.search(r"\breviewer\b", history, re.IGNORECASE)

    client.force_login(officer)
    staff_html = client.get(f"/en/applications/{application.pk}/").content.decode()
    assert "Weak budget, strong partner" in staff_html
    assert "Internal comment" in staff_html
    assert "A reviewer declared a conflict of interest." in staff_html


def test_other_foundations_staff_cannot_answer_or_read(asked, client):
    other = FundingCallFactory(fund=FundFactory(foundation=FoundationFactory()))
    assert other.pk  # another foundation exists with its own call
    outsider = _staff(other.fund.foundation, Role.PROGRAM_OFFICER)
    client.force_login(outsider)
    pk = asked["application"].pk
    for url in (
        f"/en/applications/{pk}/",
        f"/en/applications/{pk}/step/2/",
        f"/en/applications/{pk}/versions/",
    ):
        assert client.get(url).status_code == 404
    assert client.post(f"/en/applications/{pk}/submit/").status_code == 404
    assert Application.objects.get(pk=pk).status == S.MORE_INFO_REQUESTED
