"""Applications: eligibility, drafts, validation per question type, uploads, submit, withdraw, access."""

import datetime
import io

import pytest
import time_machine
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from djmoney.money import Money

from grants.demo_questions import eligibility_json, questions_json
from grants.models import (
    ActivityEntry,
    Application,
    ApplicationStatus,
    IntakeChannel,
    OrganizationMembership,
    Role,
)
from grants.services import applications as service
from grants.services.errors import ApplicationError, IllegalTransition, UploadRejected
from grants.services.staff import add_staff
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)

PDF_BYTES = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
PNG_BYTES = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture
def setup(site):
    return make_setup(site)


def make_setup(site) -> dict:
    """A foundation, fund, open call with the demo questions (en/es) and an applicant in an organization."""
    foundation = FoundationFactory(slug="bay-area")
    fund = FundFactory(foundation=foundation)
    call = FundingCallFactory(fund=fund, min_amount=Money(1000, "USD"), max_amount=Money(20000, "USD"))
    fund_pages = pages.add_fund_page(site, fund)
    call_pages = pages.add_call_page(fund_pages, call, questions=questions_json, eligibility=eligibility_json)
    applicant = UserFactory(email="ana@example.org", preferred_language="es")
    organization = OrganizationFactory()
    OrganizationMembership.objects.create(organization=organization, user=applicant, role="owner")
    return {"foundation": foundation, "fund": fund, "call": call, "page": call_pages[0], "page_es": call_pages[1],
            "applicant": applicant, "organization": organization}  # fmt: skip


def _sections(page):
    from grants.questions import split_sections

    return split_sections(page.get_questions(), first_heading="About your request")


def _valid_answers():
    return {
        "_title": "Rapid response lawyers",
        "_requested_amount": "5000",
        "demo-a2": "Two lawyers on call for detentions.",
        "demo-a3": "120",
        "demo-a4": "0",
        "demo-a5": "Retaliation by employers.",
        "demo-b2": [
            {"category": "0", "description": "Lawyer hours", "amount": "4000"},
            {"category": "3", "description": "Know-your-rights training", "amount": "1000.00"},
        ],
        "demo-b4": True,
    }


def _draft(setup, answers=None):
    application = service.start_application(
        call=setup["call"], organization=setup["organization"], by=setup["applicant"], language="en"
    )
    sections = _sections(setup["page"])
    raw = answers if answers is not None else _valid_answers()
    for section in sections:
        keys = {"_title", "_requested_amount"} if section.number == 1 else set()
        keys |= {q.id for q in section.questions}
        service.save_section(application, section=section, raw={k: v for k, v in raw.items() if k in keys},
                             by=setup["applicant"])  # fmt: skip
    return application, sections


# --- Eligibility ----------------------------------------------------------------------------


def test_eligible_answers_give_no_reasons(setup):
    questions = setup["page"].get_eligibility_questions()
    assert service.check_eligibility(questions, {"demo-e1": "yes", "demo-e2": "no"}) == []


def test_not_eligible_is_told_why_and_nothing_is_created(setup, client):
    client.force_login(setup["applicant"])
    url = f"/es/apply/{setup['call'].pk}/"
    response = client.post(url, {"eligibility_demo-e1": "yes", "eligibility_demo-e2": "yes",
                                 "organization": setup["organization"].pk})  # fmt: skip
    assert response.status_code == 200
    assert "Las agencias del gobierno no pueden solicitar" in response.content.decode()
    assert not Application.objects.exists()


def test_unanswered_eligibility_is_refused_with_the_answers_kept(setup, client):
    client.force_login(setup["applicant"])
    response = client.post(f"/en/apply/{setup['call'].pk}/", {"eligibility_demo-e1": "yes"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Please answer every question." in html
    assert 'value="yes" checked' in html
    assert not Application.objects.exists()


def test_eligible_applicant_starts_one_draft(setup, client):
    client.force_login(setup["applicant"])
    data = {
        "eligibility_demo-e1": "yes",
        "eligibility_demo-e2": "no",
        "organization": setup["organization"].pk,
    }
    first = client.post(f"/en/apply/{setup['call'].pk}/", data)
    second = client.post(f"/en/apply/{setup['call'].pk}/", data)
    assert first.status_code == second.status_code == 302
    assert Application.objects.count() == 1
    assert first["Location"] == second["Location"]


def test_cannot_apply_for_an_organization_one_is_not_a_member_of(setup, client):
    client.force_login(setup["applicant"])
    stranger_org = OrganizationFactory()
    data = {"eligibility_demo-e1": "yes", "eligibility_demo-e2": "no", "organization": stranger_org.pk}
    assert client.post(f"/en/apply/{setup['call'].pk}/", data).status_code == 400
    assert not Application.objects.exists()


# --- Validation per question type -------------------------------------------------------------


def test_complete_answers_validate(setup):
    application, sections = _draft(setup)
    assert service.validate_application(application, sections) == {}


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("_title", "", "This field is required."),
        ("_requested_amount", "500", "Enter an amount of at least 1,000.00."),
        ("_requested_amount", "25000", "Enter an amount of at most 20,000.00."),
        ("_requested_amount", "12,5x", "Enter the amount as a number, for example 1,500.75."),
        ("demo-a2", "word " * 301, "Use at most 300 words (you used 301)."),
        ("demo-a3", "-1", "Enter a number of at least 0."),
        ("demo-a3", "many", "Enter a number, for example 1,500."),
        ("demo-a3", "2.5", "Enter a whole number: this counts people or things, without decimals."),
        ("demo-a4", "9", "Select a valid choice."),
        ("demo-b2", [], "Add at least one budget line."),
        ("demo-b2", [{"category": "", "description": "x", "amount": "5000"}], "Line 1: choose a category."),
        (
            "demo-b2",
            [{"category": "0", "description": "x", "amount": "-5"}],
            "Line 1: enter an amount greater than zero",
        ),
        ("demo-b2", [{"category": "0", "description": "x", "amount": "4999"}], "they must be equal"),
        ("demo-b4", False, "This field is required."),
    ],
)
def test_each_rule_reports_next_to_its_question(setup, key, value, message):
    answers = _valid_answers()
    answers[key] = value
    application, sections = _draft(setup, answers)
    invalid = service.validate_application(application, sections)
    field = key if key.startswith("_") else f"q_{key}"
    errors = [str(e) for form in invalid.values() for e in form.errors.get(field, [])]
    assert any(message in e for e in errors), errors


def test_date_and_money_questions(setup):
    from grants.questions import Question, Section
    from grants.services.answers import bind_section

    section = Section(2, "Dates", "", (Question("d", "date", "Start", required=True),
                                       Question("m", "money", "Match", required=True)))  # fmt: skip
    bad = bind_section(
        section, answers={"d": "31/02/2026", "m": "1.234"}, sensitive={}, currency="USD", draft=False
    )
    assert not bad.is_valid()
    assert "q_d" in bad.errors and "q_m" in bad.errors
    good = bind_section(
        section, answers={"d": "2026-03-01", "m": "1234.50"}, sensitive={}, currency="USD", draft=False
    )
    assert good.is_valid(), good.errors


def test_draft_keeps_invalid_input_as_typed(setup):
    answers = _valid_answers()
    answers["_requested_amount"] = "12,5x"
    application, _ = _draft(setup, answers)
    application.refresh_from_db()
    assert application.answers["_requested_amount"] == "12,5x"
    assert application.requested_amount is None


def test_sensitive_answers_are_stored_apart(setup):
    application, _ = _draft(setup)
    assert "demo-a5" not in application.answers
    assert application.sensitive_answers["demo-a5"] == "Retaliation by employers."


# --- Uploads --------------------------------------------------------------------------------


def _file_question(setup):
    return next(q for q in setup["page"].get_questions() if q.type == "file")


def test_pdf_and_png_uploads_are_accepted_and_stored_privately(setup, settings):
    application, _ = _draft(setup)
    question = _file_question(setup)
    attachment = service.add_attachment(
        application,
        question=question,
        upload=SimpleUploadedFile("budget.pdf", PDF_BYTES),
        by=setup["applicant"],
    )
    assert attachment.content_type == "application/pdf"
    assert "budget" not in attachment.file.name  # random storage name
    assert str(settings.PRIVATE_MEDIA_ROOT) in attachment.file.path
    replacement = service.add_attachment(
        application,
        question=question,
        upload=SimpleUploadedFile("photo.png", PNG_BYTES),
        by=setup["applicant"],
    )
    assert list(application.attachments.all()) == [replacement]


def test_wrong_type_is_refused_even_with_a_pdf_name(setup):
    application, _ = _draft(setup)
    upload = SimpleUploadedFile("budget.pdf", b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + b"\x00" * 100)
    with pytest.raises(UploadRejected) as excinfo:
        service.add_attachment(
            application, question=_file_question(setup), upload=upload, by=setup["applicant"]
        )
    assert "not an accepted file type" in excinfo.value.message
    assert not application.attachments.exists()


def test_oversized_upload_is_refused(setup):
    application, _ = _draft(setup)
    upload = SimpleUploadedFile("big.pdf", PDF_BYTES + b"0" * (5 * 1024 * 1024))
    with pytest.raises(UploadRejected) as excinfo:
        service.add_attachment(
            application, question=_file_question(setup), upload=upload, by=setup["applicant"]
        )
    assert "at most 5 MB" in excinfo.value.message


def test_refused_upload_in_the_form_keeps_everything_typed(setup, client):
    application, _ = _draft(setup, {"_title": "x"})
    client.force_login(setup["applicant"])
    bad = io.BytesIO(b"just some text, not a pdf")
    bad.name = "notes.pdf"
    response = client.post(
        f"/es/applications/{application.pk}/step/3/",
        {"q_demo-b2-0-category": "1", "q_demo-b2-0-description": "Fianza", "q_demo-b2-0-amount": "300",
         "q_demo-b3": bad, "action": "save"},
    )  # fmt: skip
    assert response.status_code == 400
    html = response.content.decode()
    assert "no es un tipo de archivo aceptado" in html
    assert 'value="Fianza"' in html
    application.refresh_from_db()
    assert application.answers["demo-b2"] == [{"category": "1", "description": "Fianza", "amount": "300.00"}]


# --- Submit ---------------------------------------------------------------------------------


def test_submit_snapshots_questions_gives_reference_and_emails_in_language(
    setup, django_capture_on_commit_callbacks
):
    application, sections = _draft(setup)
    with django_capture_on_commit_callbacks(execute=True):
        submitted = service.submit_application(
            application, sections=sections, by=setup["applicant"], actor="applicant"
        )
    assert submitted.status == ApplicationStatus.SUBMITTED
    assert submitted.reference == f"BAYA-{timezone.now().year}-00001"
    labels = [q["label"] for s in submitted.question_snapshot for q in s["questions"]]
    assert "What will the money pay for?" in labels
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject.startswith("Solicitud recibida")  # applicant prefers Spanish
    assert "Retaliation" not in mail.outbox[0].body  # sensitive answers never leave by email
    assert ActivityEntry.objects.filter(
        subject_type="application", subject_id=submitted.pk, action="submitted"
    ).exists()


def test_later_edits_of_the_call_do_not_change_a_submitted_application(setup, client):
    application, sections = _draft(setup)
    service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    page = setup["page"]
    stream = page.questions.raw_data
    stream[1]["value"]["label"] = "A completely new question"
    page.questions = stream
    page.save_revision().publish()
    client.force_login(setup["applicant"])
    html = client.get(f"/en/applications/{application.pk}/").content.decode()
    assert "What will the money pay for?" in html
    assert "A completely new question" not in html


def test_double_submit_creates_one_submission(setup, django_capture_on_commit_callbacks):
    application, sections = _draft(setup)
    with django_capture_on_commit_callbacks(execute=True):
        first = service.submit_application(
            application, sections=sections, by=setup["applicant"], actor="applicant"
        )
        second = service.submit_application(
            application, sections=sections, by=setup["applicant"], actor="applicant"
        )
    assert first.reference == second.reference
    assert len(mail.outbox) == 1
    assert ActivityEntry.objects.filter(action="submitted").count() == 1


def test_double_clicked_submit_in_the_browser_is_one_submission(setup, client):
    application, _ = _draft(setup)
    client.force_login(setup["applicant"])
    url = f"/en/applications/{application.pk}/submit/"
    assert client.post(url).status_code == 302
    assert client.post(url).status_code == 302
    assert Application.objects.get().reference.endswith("00001")
    assert ActivityEntry.objects.filter(action="submitted").count() == 1


def test_invalid_application_cannot_be_submitted(setup):
    answers = _valid_answers()
    del answers["demo-a2"]
    application, sections = _draft(setup, answers)
    with pytest.raises(ApplicationError):
        service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.reference is None


def test_submit_is_refused_after_the_close_date_but_the_draft_stays_readable(setup, client):
    application, sections = _draft(setup)
    with time_machine.travel(setup["call"].closes_at + datetime.timedelta(seconds=1)):
        with pytest.raises(ApplicationError) as excinfo:
            service.submit_application(
                application, sections=sections, by=setup["applicant"], actor="applicant"
            )
        assert "closed" in excinfo.value.message
        client.force_login(setup["applicant"])
        assert client.get(f"/en/applications/{application.pk}/").status_code == 200
        assert client.post(f"/en/applications/{application.pk}/submit/").status_code == 302
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT


def test_references_count_per_foundation(setup):
    application, sections = _draft(setup)
    service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    other_org = OrganizationFactory()
    OrganizationMembership.objects.create(organization=other_org, user=setup["applicant"], role="owner")
    second = service.start_application(
        call=setup["call"], organization=other_org, by=setup["applicant"], language="en"
    )
    for section in sections:
        keys = ({"_title", "_requested_amount"} if section.number == 1 else set()) | {
            q.id for q in section.questions
        }
        service.save_section(second, section=section, raw={k: v for k, v in _valid_answers().items() if k in keys},
                             by=setup["applicant"])  # fmt: skip
    second = service.submit_application(second, sections=sections, by=setup["applicant"], actor="applicant")
    assert second.reference.endswith("-00002")


# --- Withdraw -------------------------------------------------------------------------------


def test_withdraw_a_submitted_application(setup):
    application, sections = _draft(setup)
    service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    withdrawn = service.withdraw_application(
        application, by=setup["applicant"], actor="applicant", note="Found other funds"
    )
    assert withdrawn.status == ApplicationStatus.WITHDRAWN
    entry = ActivityEntry.objects.get(action="withdrawn")
    assert (entry.from_state, entry.to_state, entry.note) == ("submitted", "withdrawn", "Found other funds")
    with pytest.raises(IllegalTransition):
        service.withdraw_application(application, by=setup["applicant"], actor="applicant")
    with pytest.raises(ApplicationError):
        service.save_section(
            application, section=sections[0], raw={"_title": "changed"}, by=setup["applicant"]
        )


# --- Access ---------------------------------------------------------------------------------


@pytest.fixture
def submitted(setup):
    application, sections = _draft(setup)
    service.add_attachment(application, question=_file_question(setup),
                           upload=SimpleUploadedFile("budget.pdf", PDF_BYTES), by=setup["applicant"])  # fmt: skip
    service.submit_application(application, sections=sections, by=setup["applicant"], actor="applicant")
    return application


def _urls(application):
    attachment = application.attachments.get()
    return [
        f"/en/applications/{application.pk}/",
        f"/en/applications/{application.pk}/files/{attachment.pk}/",
    ]


def test_member_sees_application_and_downloads_file_privately(setup, submitted, client):
    client.force_login(setup["applicant"])
    page_url, file_url = _urls(submitted)
    assert client.get(page_url).status_code == 200
    response = client.get(file_url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF_BYTES
    assert response["Cache-Control"] == "private, no-store"
    assert 'attachment; filename="budget.pdf"' in response["Content-Disposition"]


def test_another_organizations_member_gets_404(setup, submitted, client):
    outsider = UserFactory()
    OrganizationMembership.objects.create(organization=OrganizationFactory(), user=outsider, role="owner")
    client.force_login(outsider)
    for url in _urls(submitted):
        assert client.get(url).status_code == 404


def test_anonymous_visitor_is_sent_to_login_and_sees_nothing(setup, submitted, client):
    for url in _urls(submitted):
        response = client.get(url)
        assert response.status_code == 302
        assert "login" in response["Location"]


def test_staff_of_another_foundation_gets_404(setup, submitted, client):
    officer = UserFactory(is_staff=True)
    add_staff(officer, foundation=FoundationFactory(), role=Role.PROGRAM_OFFICER)
    client.force_login(officer)
    for url in _urls(submitted):
        assert client.get(url).status_code == 404


def test_staff_of_the_foundation_can_read_submitted_but_not_drafts(setup, submitted, client):
    officer = UserFactory(is_staff=True)
    add_staff(officer, foundation=setup["foundation"], role=Role.PROGRAM_OFFICER)
    client.force_login(officer)
    for url in _urls(submitted):
        assert client.get(url).status_code == 200
    other_org = OrganizationFactory()
    OrganizationMembership.objects.create(organization=other_org, user=setup["applicant"], role="owner")
    draft = service.start_application(
        call=setup["call"], organization=other_org, by=setup["applicant"], language="en"
    )
    assert client.get(f"/en/applications/{draft.pk}/").status_code == 404


def test_staff_assisted_intake_is_recorded(setup, client):
    officer = UserFactory(is_staff=True)
    add_staff(officer, foundation=setup["foundation"], role=Role.PROGRAM_OFFICER)
    application = service.start_application(call=setup["call"], organization=setup["organization"], by=officer,
                                             language="es", channel=IntakeChannel.PHONE)  # fmt: skip
    client.force_login(officer)
    assert client.get(f"/es/applications/{application.pk}/step/1/").status_code == 200
    entry = ActivityEntry.objects.get(subject_id=application.pk)
    assert entry.action == "started_by_staff" and entry.actor == officer


def test_dashboard_query_count_does_not_grow(setup, client, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.force_login(setup["applicant"])
    _draft(setup)
    client.get("/en/dashboard/")
    with CaptureQueriesContext(connection) as few:
        assert client.get("/en/dashboard/").status_code == 200
    for _ in range(5):
        org = OrganizationFactory()
        OrganizationMembership.objects.create(organization=org, user=setup["applicant"], role="owner")
        app = service.start_application(
            call=setup["call"], organization=org, by=setup["applicant"], language="en"
        )
        service.save_section(
            app, section=_sections(setup["page"])[0], raw=_valid_answers(), by=setup["applicant"]
        )
    with CaptureQueriesContext(connection) as many:
        assert client.get("/en/dashboard/").status_code == 200
    assert len(many) == len(few)


def test_short_text_yes_no_and_multiple_choice_rules(setup):
    from grants.questions import Question, Section
    from grants.services.answers import bind_section

    section = Section(
        2,
        "More",
        "",
        (
            Question("s", "short_text", "Name", required=True, max_length=10),
            Question("y", "yes_no", "Paid staff?", required=True),
            Question(
                "m", "multiple_choice", "Services", required=True, choices=("Bonds", "Lawyers", "Hotline")
            ),
        ),
    )
    bad = bind_section(section, answers={"s": "x" * 11, "y": "maybe", "m": ["0", "7"]}, sensitive={},
                       currency="USD", draft=False)  # fmt: skip
    assert not bad.is_valid()
    assert "at most 10 characters" in str(bad.errors["q_s"])
    assert "Select a valid choice" in str(bad.errors["q_y"])
    assert "Select a valid choice" in str(bad.errors["q_m"])
    empty = bind_section(section, answers={}, sensitive={}, currency="USD", draft=False)
    assert not empty.is_valid()
    assert set(empty.errors) == {"q_s", "q_y", "q_m"}
    draft = bind_section(section, answers={}, sensitive={}, currency="USD", draft=True)
    assert draft.is_valid()  # a draft may be empty
    good = bind_section(section, answers={"s": "Comité", "y": "no", "m": ["0", "2"]}, sensitive={},
                        currency="USD", draft=False)  # fmt: skip
    assert good.is_valid(), good.errors


def test_required_file_question_needs_an_upload(setup):
    from grants.questions import Question, Section

    application, _ = _draft(setup)
    question = Question("f", "file", "Letter", required=True, file_types=("pdf",), max_size_mb=1)
    sections = [Section(1, "About", "", ()), Section(2, "Files", "", (question,))]
    invalid = service.validate_application(application, sections)
    assert "Upload a file for this question." in str(invalid[2].errors["q_f"])
    service.add_attachment(application, question=question, upload=SimpleUploadedFile("l.pdf", PDF_BYTES),
                           by=setup["applicant"])  # fmt: skip
    assert 2 not in service.validate_application(application, sections)


def test_answers_keep_their_meaning_across_languages(setup, client):
    """A choice made on the English form reads correctly on the Spanish one (stored by position)."""
    application, _ = _draft(setup)
    client.force_login(setup["applicant"])
    html = client.get(f"/es/applications/{application.pk}/review/").content.decode()
    assert "Español" in html  # choice 0 of "Main language of your work", shown in Spanish
    assert "Honorarios legales" in html  # budget category 0 in Spanish


def test_budget_is_shown_as_money_with_its_total(setup, client):
    application, _ = _draft(setup)
    client.force_login(setup["applicant"])
    html = client.get(f"/es/applications/{application.pk}/review/").content.decode().replace("\xa0", " ")
    assert "4.000,00 US$" in html and "1.000,00 US$" in html
    assert "Total" in html and "5.000,00 US$" in html


@pytest.mark.parametrize(("language", "link_text"), [("en", "Two-factor authentication (optional)"),
                                                     ("es", "Autenticación de doble factor (opcional)")])  # fmt: skip
def test_the_dashboard_offers_an_applicant_the_optional_authenticator_app(setup, client, language, link_text):
    client.force_login(setup["applicant"])
    html = client.get(f"/{language}/dashboard/").content.decode()
    assert f'<a href="/{language}/accounts/2fa/">{link_text}</a>' in html
    assert client.get(f"/{language}/accounts/2fa/").status_code == 200
