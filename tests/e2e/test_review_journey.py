"""Review and decision in the browser: a program officer, a reviewer and a Spanish-speaking applicant.

The officer screens a submitted application in Wagtail admin, assigns a reviewer and sends it to
review; the reviewer declares no conflict of interest, scores the call's rubric and recommends; the
officer asks for more information about one answer; the applicant changes that answer on the
Spanish site and sends the answers again; the officer approves with an amount; the applicant reads
the decision in Spanish, on the dashboard, on the application and in the email.

axe must find nothing serious or critical on the applicant's pages. Wagtail admin pages are checked
too, but their findings are only printed (``-s`` shows them): the admin's own markup is Wagtail's.

With ``FUNDPORTAL_SCREENSHOTS=docs/screenshots`` the journey also saves full-page screenshots on a
phone (390 px) and a desktop (1280 px) as ``review-<page>-<en|es>-<narrow|wide>.png``::

    FUNDPORTAL_TESTING=1 FUNDPORTAL_SCREENSHOTS=docs/screenshots \\
        .venv/bin/python -m pytest tests/e2e/test_review_journey.py -s
"""

import io
import json
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from django.utils import translation
from djmoney.money import Money
from playwright.sync_api import expect

from grants.models import ApplicationStatus, Review, ReviewAssignment, Role
from grants.services import applications as app_service
from grants.services.staff import add_staff
from grants.views.applications import sections_for
from tests import pages
from tests.e2e.axe import assert_accessible, axe_violations, format_violations
from tests.e2e.staff_login import sign_in_staff
from tests.factories import UserFactory
from tests.grants.test_applications import make_setup

pytestmark = pytest.mark.e2e

PASSWORD = "correct horse battery"  # tests.factories.UserFactory's password
VIEWPORTS = {"narrow": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}
CALL_TITLE_ES = "Subvenciones de defensa legal"
RUBRIC = [("c1", "Impact", "3"), ("c2", "Feasibility", "1")]
FIRST_ANSWER = "Dos abogadas de guardia para detenciones."  # demo-a2, "What will the money pay for?"
NEW_ANSWER = "Dos abogadas de guardia y el transporte a las audiencias."
SENSITIVE_ANSWER = "Represalias de los empleadores."  # demo-a5, a sensitive question
REQUEST = "Expliquen también cómo llegarán las familias a las audiencias."
MONEY_QUESTION_ES = "¿Para qué se usará el dinero?"

ADMIN_AXE_FINDINGS: list[str] = []


def rubric_json() -> str:
    return json.dumps(
        [{"type": "criterion", "id": cid, "value": {"label": label, "weight": weight, "guidance": ""}}
         for cid, label, weight in RUBRIC]
    )  # fmt: skip


# --- Checks and screenshots -----------------------------------------------------------------------


def fits_a_phone(page) -> dict:
    before = page.viewport_size
    page.set_viewport_size(VIEWPORTS["narrow"])
    overflow = page.evaluate(
        """() => {
             const width = document.documentElement.clientWidth;
             const wide = [...document.querySelectorAll("body *")]
               .filter(el => el.getBoundingClientRect().right > width + 1)
               // a wide table may scroll inside its own box, unless an element escapes it
               .filter(el => !el.closest(".table-scroll") || getComputedStyle(el).position === "absolute")
               .slice(0, 5)
               .map(el => el.tagName.toLowerCase() + (el.className ? "." + el.className : "")
                          + " right=" + Math.round(el.getBoundingClientRect().right));
             return {scrollWidth: document.documentElement.scrollWidth, width, wide};
           }"""
    )
    page.set_viewport_size(before)
    return overflow


def screenshot(page, name: str) -> None:
    """``review-<name>-<narrow|wide>.png`` when FUNDPORTAL_SCREENSHOTS names a folder."""
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    before = page.viewport_size
    for size_name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        page.wait_for_timeout(200)  # let the layout (and Wagtail's sidebar) settle at this width
        # Wagtail admin scrolls inside its own panes, which a full-page screenshot does not unroll:
        # grow the viewport to the tallest scrolled content instead, from the top.
        height = page.evaluate(
            """() => {
                 window.scrollTo(0, 0);
                 let height = document.documentElement.scrollHeight;
                 for (let el = document.querySelector("main"); el && el !== document.body;
                      el = el.parentElement) {
                   if (["auto", "scroll"].includes(getComputedStyle(el).overflowY)
                       && el.scrollHeight > el.clientHeight) {
                     el.scrollTop = 0;
                     height = Math.max(height, el.getBoundingClientRect().top + el.scrollHeight);
                   }
                 }
                 return Math.ceil(height);
               }"""
        )
        page.set_viewport_size({"width": size["width"], "height": max(size["height"], height)})
        page.wait_for_timeout(200)
        image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(out / f"review-{name}-{size_name}.png", format="PNG", optimize=True)
    page.set_viewport_size(before)


def check_applicant_page(page, screenshot_name: str | None = None) -> None:
    """axe finds nothing serious or critical, and nothing makes a phone scroll sideways."""
    assert_accessible(page)
    overflow = fits_a_phone(page)
    assert overflow["scrollWidth"] <= overflow["width"], f"{page.url} is too wide on a phone: {overflow}"
    if screenshot_name:
        screenshot(page, screenshot_name)


def report_admin_page(page, screenshot_name: str | None = None) -> None:
    """Wagtail admin: axe's findings are printed and kept for the summary, never failed on."""
    violations = axe_violations(page)
    if violations:
        path = re.sub(r"^https?://[^/]+", "", page.url)
        text = f"axe on admin page {path}: {len(violations)} finding(s)\n{format_violations(violations)}"
        ADMIN_AXE_FINDINGS.append(text)
        print("\n" + text)
    if screenshot_name:
        screenshot(page, screenshot_name)


# --- Data and people --------------------------------------------------------------------------------


@pytest.fixture
def journey(e2e_site):
    """A call with the demo questions and a two-criterion rubric (en/es), an applicant reading in
    Spanish whose organization submitted an application from the Spanish site, a program officer
    and a reviewer of the foundation."""
    setup = make_setup(e2e_site)
    for call_page in (setup["page"], setup["page_es"]):
        call_page.rubric = rubric_json()
    setup["foundation"].name = "Bay Area Immigrant Rights Foundation"
    setup["foundation"].save(update_fields=["name"])
    setup["fund"].name = "Deportation Defense Fund"
    setup["fund"].save(update_fields=["name"])
    setup["call"].title = "Legal defense grants"
    setup["call"].save(update_fields=["title"])
    setup["page"].title = "Legal defense grants"
    setup["page_es"].title = CALL_TITLE_ES
    for call_page in (setup["page"], setup["page_es"]):
        pages.publish(call_page)

    applicant = setup["applicant"]
    applicant.first_name, applicant.last_name = "Ana", "Morales"
    applicant.save(update_fields=["first_name", "last_name"])
    EmailAddress.objects.create(user=applicant, email=applicant.email, verified=True, primary=True)
    setup["organization"].name = "Colectivo Tierra"
    setup["organization"].save(update_fields=["name"])

    # The application as the applicant would have sent it from /es/: Spanish form, Spanish snapshot.
    application = app_service.start_application(
        call=setup["call"], organization=setup["organization"], by=applicant, language="es"
    )
    answers = {
        "_title": "Defensa legal en el valle",
        "_requested_amount": "5000",
        "demo-a2": FIRST_ANSWER,
        "demo-a3": "120",
        "demo-a4": "0",
        "demo-a5": SENSITIVE_ANSWER,
        "demo-b2": [
            {"category": "0", "description": "Horas de abogada", "amount": "4000"},
            {"category": "3", "description": "Talleres de derechos", "amount": "1000"},
        ],
        "demo-b4": True,
    }
    with translation.override("es"):
        sections = sections_for(application)
    for section in sections:
        keys = {"_title", "_requested_amount"} if section.number == 1 else set()
        keys |= {question.id for question in section.questions}
        app_service.save_section(
            application, section=section, raw={k: v for k, v in answers.items() if k in keys}, by=applicant
        )
    app_service.submit_application(application, sections=sections, by=applicant, actor="applicant")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED

    def staff(email, first_name, last_name, role):
        user = UserFactory(email=email, first_name=first_name, last_name=last_name, is_staff=True,
                           preferred_language="en")  # fmt: skip
        EmailAddress.objects.create(user=user, email=email, verified=True, primary=True)
        add_staff(user, foundation=setup["foundation"], role=role)
        return user

    return {
        **setup,
        "application": application,
        "officer": staff("olga@foundation.example", "Olga", "Officer", Role.PROGRAM_OFFICER),
        "reviewer": staff("rene@foundation.example", "René", "Reviewer", Role.REVIEWER),
    }


@pytest.fixture
def new_page(browser):
    """Open a page in a browser context of its own (one person each), closed after the test."""
    contexts = []

    def open_page(locale: str):
        context = browser.new_context(locale=locale, viewport=VIEWPORTS["wide"])
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        page.set_default_navigation_timeout(20_000)
        return page

    yield open_page
    for context in contexts:
        context.close()


def open_menu(page, label: str) -> None:
    """A link of Wagtail's main menu (the sidebar)."""
    page.get_by_role("navigation", name="Main menu").get_by_role("link", name=label).click()


def run_action(page, label: str, fill=None) -> None:
    """Open one of the inspect page's action panels, fill it in, and press its button."""
    actions = page.get_by_role("region", name="Actions", exact=True)
    actions.locator("summary", has_text=label).click()
    form = actions.locator("details[open] form")
    if fill:
        fill(form)
    form.get_by_role("button", name=label).click()


def flash(page, text: str):
    return page.locator(".messages").get_by_text(text)


# --- The journey ------------------------------------------------------------------------------------


def test_officer_reviewer_and_applicant_take_an_application_to_a_decision(journey, url, new_page, mailoutbox):
    application = journey["application"]
    reference = application.reference
    officer, reviewer, applicant = journey["officer"], journey["reviewer"], journey["applicant"]
    inspect_path = f"/admin/applications/inspect/{application.pk}/"
    mailoutbox.clear()

    # 1. The officer signs in, finds the application in the list and opens it.
    office = new_page("en-US")
    sign_in_staff(office, url, officer)
    open_menu(office, "Applications")
    expect(office).to_have_url(url("/admin/applications/"))
    row = office.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("Colectivo Tierra")
    expect(row).to_contain_text("Submitted")
    report_admin_page(office)
    row.get_by_role("link", name=reference).click()
    expect(office).to_have_url(url(inspect_path))
    summary = office.get_by_role("region", name="Summary", exact=True)
    expect(summary).to_contain_text(reference)
    # Officers read every answer, the sensitive one included.
    answers = office.get_by_role("region", name="Answers", exact=True)
    expect(answers).to_contain_text(FIRST_ANSWER)
    expect(answers).to_contain_text(SENSITIVE_ANSWER)

    # 2. Screening, a reviewer, then review.
    run_action(office, "Start screening")
    expect(flash(office, "Screening started.")).to_be_visible()
    expect(summary).to_contain_text("Screening")
    run_action(office, "Assign reviewers", lambda form: form.get_by_label(re.compile("René")).check())
    expect(flash(office, "1 reviewer(s) assigned. They were told by email.")).to_be_visible()
    reviewers_box = office.get_by_role("region", name="Reviewers", exact=True)
    expect(reviewers_box).to_contain_text("Waiting for conflict declaration")
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    assignment_email = mailoutbox[0]
    assert assignment_email.to == [reviewer.email]
    assert "1 application to review" in assignment_email.subject
    assert "/admin/reviews/" in assignment_email.body
    run_action(office, "Send to review")
    expect(flash(office, "Sent to review.")).to_be_visible()
    expect(summary).to_contain_text("In review")
    report_admin_page(office)
    assert len(mailoutbox) == 1  # the applicant is not emailed for internal steps

    # 3. The reviewer, in a browser of their own, sees nothing of the answers before declaring.
    desk = new_page("en-US")
    sign_in_staff(desk, url, reviewer)
    open_menu(desk, "My reviews")
    expect(desk).to_have_url(url("/admin/reviews/"))
    expect(
        desk.get_by_role("navigation", name="Main menu").get_by_role("link", name="Applications")
    ).to_have_count(0)
    report_admin_page(desk)
    desk.get_by_role("row").filter(has_text=reference).get_by_role(
        "link", name=re.compile("Declare conflicts")
    ).click()
    expect(desk).to_have_url(url(f"/admin/reviews/{application.pk}/"))
    main = desk.locator("main")
    expect(main).to_contain_text(reference)
    expect(main).to_contain_text("Colectivo Tierra")
    expect(main).not_to_contain_text(FIRST_ANSWER)
    expect(desk.get_by_role("heading", name="Answers")).to_have_count(0)
    expect(desk.get_by_role("button", name="Submit review")).to_have_count(0)
    report_admin_page(desk)
    # The application's pages for officers are not theirs.
    response = desk.request.get(url(inspect_path))
    assert response.status in (403, 404) or "/admin/login/" in response.url, (response.status, response.url)

    desk.get_by_role("radio", name="No, I have no conflict of interest").check()
    desk.get_by_role("button", name="Declare").click()
    expect(flash(desk, "Thank you. You can now read and score the application.")).to_be_visible()
    expect(desk.get_by_role("region", name="Answers", exact=True)).to_contain_text(FIRST_ANSWER)
    expect(main).not_to_contain_text(SENSITIVE_ANSWER)  # sensitive answers are for officers only

    # ... scores both criteria, recommends, and submits.
    scores = desk.get_by_role("region", name="Your scores", exact=True)
    impact = scores.get_by_role("group", name=re.compile("Impact"))
    expect(impact).to_contain_text("weight 3")
    impact.get_by_label("Score").select_option("4")
    impact.get_by_label("Comment").fill("Clear need in the valley.")
    feasibility = scores.get_by_role("group", name=re.compile("Feasibility"))
    expect(feasibility).to_contain_text("weight 1")
    feasibility.get_by_label("Score").select_option("2")
    scores.get_by_label("Recommendation").select_option(label="Fund")
    scores.get_by_label("Comment for the officers").fill("Fund, and ask how families reach hearings.")
    report_admin_page(desk, "reviewer-score-en")
    scores.get_by_role("button", name="Submit review").click()
    expect(flash(desk, "Review submitted. Thank you.")).to_be_visible()
    mine = desk.get_by_role("region", name="Your review", exact=True)
    expect(mine).to_contain_text("Fund")
    expect(mine).to_contain_text("score 3.50 / 5")  # (3 * 4 + 1 * 2) / 4
    expect(desk.get_by_role("button", name="Submit review")).to_have_count(0)
    review = Review.objects.get()
    assert review.weighted_score == Decimal("3.50")
    assert review.assignment.status == ReviewAssignment.Status.SUBMITTED

    # 4. The officer sees the score in the list and on the application.
    open_menu(office, "Applications")
    row = office.get_by_role("row").filter(has_text=reference)
    expect(row).to_contain_text("3.50")
    expect(row).to_contain_text("Fund 1 · Maybe 0 · Do not fund 0")
    row.get_by_role("link", name=reference).click()
    expect(summary).to_contain_text("3.50 / 5 from 1 review")
    reviews_box = office.get_by_role("region", name="Reviews", exact=True)
    expect(reviews_box).to_contain_text("René Reviewer")
    expect(reviews_box).to_contain_text("Clear need in the valley.")
    expect(reviewers_box).to_contain_text("Review submitted")

    # ... and asks for more information about one answer.
    def ask(form):
        form.get_by_label("What is missing").fill(REQUEST)
        form.get_by_role("checkbox", name=MONEY_QUESTION_ES).check()

    report_admin_page(office, "officer-inspect-en")
    run_action(office, "Request more information", ask)
    expect(flash(office, f"More information requested. Email sent to {applicant.email}.")).to_be_visible()
    expect(summary).to_contain_text("More information requested")
    asked = office.get_by_role("region", name="More information requested", exact=True)
    expect(asked).to_contain_text(REQUEST)
    expect(asked).to_contain_text(MONEY_QUESTION_ES)
    assert len(mailoutbox) == 2, [m.subject for m in mailoutbox]
    info_email = mailoutbox[1]
    assert info_email.to == [applicant.email]
    assert info_email.subject.endswith(f"Se necesita más información: {reference}")
    assert REQUEST in info_email.body

    # 5. The applicant signs in on the Spanish site and reads the request on the dashboard.
    home = new_page("es-ES")
    home.goto(url("/es/accounts/login/?next=/es/dashboard/"))
    home.locator("input[name=login]").fill(applicant.email)
    home.locator("input[name=password]").fill(PASSWORD)
    home.get_by_role("main").get_by_role("button", name="Iniciar sesión").click()
    expect(home).to_have_url(url("/es/dashboard/"))
    expect(home.locator("html")).to_have_attribute("lang", "es")
    row = (
        home.get_by_role("region", name="Solicitudes", exact=True)
        .get_by_role("row")
        .filter(has_text=reference)
    )
    expect(row).to_contain_text("Se pidió más información")
    expect(row).to_contain_text("La fundación pide:")
    expect(row).to_contain_text(REQUEST)
    check_applicant_page(home, "applicant-dashboard-request-es")

    # ... goes to the step with the named answer: only that answer can change.
    row.get_by_role("link", name=re.compile("Responder las preguntas de la fundación")).click()
    expect(home).to_have_url(url(f"/es/applications/{application.pk}/step/2/"))
    request_box = home.get_by_role("region", name="La fundación pide más información", exact=True)
    expect(request_box).to_contain_text(REQUEST)
    expect(request_box.get_by_role("link", name=MONEY_QUESTION_ES)).to_be_visible()
    money_answer = home.get_by_label(MONEY_QUESTION_ES)
    expect(money_answer).to_have_value(FIRST_ANSWER)
    expect(home.locator("#field-q_demo-a3")).to_contain_text("No se pidió cambiar")
    expect(home.get_by_label(re.compile("¿A cuántas personas atenderán"))).to_have_count(0)
    check_applicant_page(home)
    money_answer.fill(NEW_ANSWER)
    home.get_by_role("button", name="Guardar y continuar").click()

    # Step 3 asks nothing; on to "Check and submit" and send the answers again.
    expect(home).to_have_url(url(f"/es/applications/{application.pk}/step/3/"))
    expect(home.get_by_text("La fundación no le pidió cambiar nada en este paso.")).to_be_visible()
    home.get_by_role("button", name="Revisar y enviar").click()
    expect(home).to_have_url(url(f"/es/applications/{application.pk}/review/"))
    expect(home.get_by_role("heading", level=1)).to_have_text("Revisar y enviar")
    expect(home.get_by_role("alert")).to_have_count(0)
    expect(home.get_by_role("main")).to_contain_text(NEW_ANSWER)
    check_applicant_page(home)
    home.get_by_role("button", name="Enviar las respuestas a la fundación").click()
    expect(home).to_have_url(url(f"/es/applications/{application.pk}/?resubmitted=1"))
    expect(
        home.get_by_role("status").filter(
            has=home.get_by_role("heading", name="Respuestas enviadas a la fundación")
        )
    ).to_contain_text(reference)
    check_applicant_page(home)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.RESUBMITTED
    assert application.answers["demo-a2"] == NEW_ANSWER
    assert [v.answers["demo-a2"] for v in application.versions.all()] == [FIRST_ANSWER, NEW_ANSWER]

    # 6. The officer sees the new version, compares it, and approves with an amount.
    office.reload()
    expect(summary).to_contain_text("Resubmitted")
    expect(office.get_by_role("region", name="Answers", exact=True)).to_contain_text(NEW_ANSWER)
    versions_box = office.get_by_role("region", name="Versions of the answers", exact=True)
    expect(versions_box.get_by_role("listitem")).to_have_count(2)
    versions_box.get_by_role("button", name="Compare").click()
    expect(office).to_have_url(re.compile(rf"/admin/applications/inspect/{application.pk}/compare/"))
    changed = office.get_by_role("row").filter(has_text=MONEY_QUESTION_ES)
    expect(changed).to_contain_text(FIRST_ANSWER)
    expect(changed).to_contain_text(NEW_ANSWER)
    report_admin_page(office)
    office.goto(url(inspect_path))
    mailoutbox.clear()

    def award(form):
        form.get_by_label("Amount to award (USD)").fill("4500")
        form.get_by_label("Message to the applicant (optional)").fill("Felicidades. Les escribiremos pronto.")

    run_action(office, "Approve", award)
    expect(flash(office, f"Approved. Email sent to {applicant.email}.")).to_be_visible()
    expect(summary).to_contain_text("Approved")
    expect(summary).to_contain_text("4,500.00")
    report_admin_page(office)
    application.refresh_from_db()
    assert application.status == ApplicationStatus.APPROVED
    assert application.award_amount == Money(4500, "USD")

    # 7. The applicant reads the decision in Spanish: the email, the dashboard, the application.
    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    approval = mailoutbox[0]
    assert approval.to == [applicant.email]
    assert approval.subject.endswith(f"Buenas noticias: {reference} fue aprobada")
    assert "Hola, Ana:" in approval.body
    assert f"aprobó la solicitud {reference} por 4.500,00\xa0US$" in approval.body, approval.body
    assert f"/es/applications/{application.pk}/" in approval.body

    home.goto(url("/es/dashboard/"))
    row = (
        home.get_by_role("region", name="Solicitudes", exact=True)
        .get_by_role("row")
        .filter(has_text=reference)
    )
    expect(row).to_contain_text("Aprobada")
    expect(row).to_contain_text("Aprobada por 4.500,00\xa0US$.")
    expect(row).to_contain_text("Felicidades. Les escribiremos pronto.")
    check_applicant_page(home, "applicant-dashboard-decision-es")
    row.get_by_role("link", name=re.compile("Leer la decisión")).click()
    expect(home).to_have_url(url(f"/es/applications/{application.pk}/"))
    decision = home.get_by_role("region", name="La fundación aprobó su solicitud", exact=True)
    expect(decision).to_contain_text("Monto otorgado: 4.500,00\xa0US$")
    expect(decision).to_contain_text("Felicidades. Les escribiremos pronto.")
    history = home.get_by_role("region", name="Historial", exact=True)
    expect(history).to_contain_text("La fundación aprobó la solicitud.")
    expect(history).not_to_contain_text("Olga")  # applicants never see who on the staff acted
    check_applicant_page(home, "applicant-detail-decision-es")

    if ADMIN_AXE_FINDINGS:
        print(f"\n{len(ADMIN_AXE_FINDINGS)} admin page(s) with axe findings (reported, not failed).")
