"""An applicant's whole journey in Spanish: sign up, add the group, apply, save, come back, submit.

Every page on the way passes axe. With ``FUNDPORTAL_SCREENSHOTS=docs/screenshots`` the journey
also saves full-page screenshots of the applicant pages, on a phone (390 px) and a desktop
(1280 px), as ``applicant-<page>-es-<narrow|wide>.png``::

    FUNDPORTAL_TESTING=1 FUNDPORTAL_SCREENSHOTS=docs/screenshots \\
        .venv/bin/python -m pytest tests/e2e/test_applicant_journey.py
"""

import io
import os
import re
from decimal import Decimal
from pathlib import Path

import pytest
from allauth.account.models import EmailAddress
from djmoney.money import Money
from playwright.sync_api import expect

from grants.demo_questions import eligibility_json, questions_json
from grants.models import Application, ApplicationStatus, OrganizationMembership, User
from tests import factories, pages
from tests.e2e.axe import assert_accessible

pytestmark = pytest.mark.e2e

PASSWORD = "una contraseña larga 2026"
VIEWPORTS = {"narrow": {"width": 390, "height": 844}, "wide": {"width": 1280, "height": 900}}
CALL_TITLE_ES = "Subvenciones comunitarias de respuesta rápida"
NOT_IN_REGION = "Esta convocatoria solo financia trabajo en la región de la fundación."


@pytest.fixture
def browser_context_args(browser_context_args):
    """A browser set to Spanish, as the applicant's would be (native widgets, Accept-Language)."""
    return {**browser_context_args, "locale": "es-ES"}


def fits_a_phone(page) -> dict:
    """Page width against the viewport at 390 px; wide tables may scroll inside their own box."""
    before = page.viewport_size
    page.set_viewport_size(VIEWPORTS["narrow"])
    overflow = page.evaluate(
        """() => ({scrollWidth: document.documentElement.scrollWidth,
                   width: document.documentElement.clientWidth})"""
    )
    page.set_viewport_size(before)
    return overflow


def screenshot(page, name: str) -> None:
    """``applicant-<name>-es-<narrow|wide>.png`` when FUNDPORTAL_SCREENSHOTS names a folder."""
    folder = os.environ.get("FUNDPORTAL_SCREENSHOTS")
    if not folder:
        return
    from PIL import Image

    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    before = page.viewport_size
    for size_name, size in VIEWPORTS.items():
        page.set_viewport_size(size)
        image = Image.open(io.BytesIO(page.screenshot(full_page=True))).convert("RGB")
        # A 256-colour palette, like scripts/screenshots.py: small enough to commit, text stays sharp.
        image = image.quantize(colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        image.save(out / f"applicant-{name}-es-{size_name}.png", format="PNG", optimize=True)
    page.set_viewport_size(before)


def check_page(page, screenshot_name: str | None = None) -> None:
    """axe finds nothing serious, nothing makes a phone scroll sideways; optionally a screenshot."""
    assert_accessible(page)
    overflow = fits_a_phone(page)
    assert overflow["scrollWidth"] <= overflow["width"], f"{page.url} is too wide on a phone: {overflow}"
    if screenshot_name:
        screenshot(page, screenshot_name)


@pytest.fixture
def grant_call(e2e_site):
    """An open call for 1,000 to 20,000 USD with the demo questions and eligibility screening."""
    fund = factories.FundFactory(name="Community Rapid Response Fund", slug="rapid-response")
    call = factories.FundingCallFactory(
        fund=fund,
        title="Community rapid response grants",
        min_amount=Money(1000, "USD"),
        max_amount=Money(20000, "USD"),
    )
    fund_pages = pages.add_fund_page(e2e_site, fund, title_es="Fondo comunitario de respuesta rápida")
    _call_page, call_page_es = pages.add_call_page(
        fund_pages, call, slug="rapid-response-grants", questions=questions_json, eligibility=eligibility_json
    )
    call_page_es.title = CALL_TITLE_ES
    pages.publish(call_page_es)
    call_page_es.refresh_from_db()
    return call, call_page_es


def sign_in(page, url, user, next_path: str) -> None:
    page.goto(url(f"/es/accounts/login/?next={next_path}"))
    page.locator("input[name=login]").fill(user.email)
    page.locator("input[name=password]").fill("correct horse battery")
    page.get_by_role("main").get_by_role("button", name="Iniciar sesión").click()
    expect(page).to_have_url(url(next_path))


@pytest.fixture
def member(transactional_db):
    """A verified applicant who already belongs to an organization, reading in Spanish."""
    user = factories.UserFactory(email="miembro@example.org", first_name="Rosa", preferred_language="es")
    EmailAddress.objects.create(user=user, email=user.email, verified=True, primary=True)
    factories.OrganizationMembershipFactory(
        user=user, organization__name="Colectivo Tierra", role=OrganizationMembership.Role.OWNER
    )
    return user


def test_applicant_signs_up_applies_saves_a_draft_comes_back_and_submits(
    page, url, grant_call, mailoutbox, tmp_path
):
    call, call_page_es = grant_call

    # 1. The Spanish call page leads to the application, which asks to sign in first.
    page.goto(url(call_page_es.url))
    expect(page.locator("html")).to_have_attribute("lang", "es")
    expect(page.get_by_role("heading", level=1)).to_have_text(CALL_TITLE_ES)
    apply_path = f"/es/apply/{call.pk}/"
    apply_link = page.get_by_role("link", name="Iniciar una solicitud")
    expect(apply_link).to_have_attribute("href", apply_path)
    apply_link.click()
    expect(page).to_have_url(url(f"/es/accounts/login/?next={apply_path}"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Iniciar sesión")

    # ... has no account yet, so creates one, in Spanish.
    page.get_by_role("main").get_by_role("link", name="Crear una cuenta").click()
    expect(page).to_have_url(re.compile(r"/es/accounts/signup/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Crear una cuenta")
    expect(page.get_by_role("radio", name="Español")).to_be_checked()  # the page's language
    check_page(page, "signup")
    page.get_by_label("Su nombre").fill("Lucía")
    page.get_by_label("Correo electrónico").fill("lucia@example.org")
    page.locator("input[name=password1]").fill(PASSWORD)
    page.locator("input[name=password2]").fill(PASSWORD)
    page.get_by_role("radio", name="Español").check()
    page.get_by_role("button", name="Crear cuenta").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Confirme su correo electrónico")
    user = User.objects.get(email="lucia@example.org")
    assert (user.first_name, user.preferred_language) == ("Lucía", "es")
    assert len(mailoutbox) == 1
    verification = mailoutbox[0]
    assert verification.to == ["lucia@example.org"]
    assert "confirme su dirección de correo" in verification.subject.lower()  # in Spanish
    links = re.findall(r"https?://\S+/es/accounts/confirm-email/\S+/", verification.body)
    assert links, verification.body

    # The link in the email confirms the address and signs the person in.
    page.goto(links[0])
    expect(page.get_by_role("heading", level=1)).to_have_text("Confirme su correo electrónico")
    page.get_by_role("main").get_by_role("button", name="Confirmar").click()

    # 2. Signed in and back on the application, which first needs the group the person applies for.
    expect(page).to_have_url(url(apply_path))
    expect(
        page.get_by_role("navigation", name="Principal").get_by_role("link", name="Mi panel")
    ).to_be_visible()
    assert EmailAddress.objects.get(email="lucia@example.org").verified
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Solicitar: {CALL_TITLE_ES}")
    page.get_by_role("link", name="Agregar su organización").click()
    expect(page).to_have_url(re.compile(r"/es/organizations/new/\?next="))
    expect(page.get_by_role("heading", level=1)).to_have_text("Crear una organización")
    check_page(page)
    page.locator("input[name=name]").fill("Red Comunitaria del Valle")
    page.locator("textarea[name=mission]").fill("Talleres de derechos y respuesta rápida.")
    page.locator("input[name=region_served]").fill("Condado de Fresno")
    page.locator("input[name=languages]").fill("Español, mam")
    page.locator("input[name=legal_status][value=unincorporated]").check()
    page.get_by_role("button", name="Crear organización").click()
    # Creating the organization leads straight back to the application.

    # 3. Eligibility: yes to the region, no to being a government agency.
    expect(page).to_have_url(url(apply_path))
    expect(page.get_by_role("heading", name="Primero, unas preguntas")).to_be_visible()
    expect(page.get_by_role("main")).to_contain_text("Usted solicita por Red Comunitaria del Valle.")
    check_page(page, "eligibility")
    page.get_by_role("group", name=re.compile("región de la fundación")).get_by_role(
        "radio", name="Sí"
    ).check()
    page.get_by_role("group", name=re.compile("agencia del gobierno")).get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Continuar").click()

    # 4. Step 1: the request itself.
    application = Application.objects.get()
    expect(page).to_have_url(url(f"/es/applications/{application.pk}/step/1/"))
    progress = page.get_by_role("navigation", name="Pasos de la solicitud")
    expect(progress.locator("[aria-current=step]")).to_have_text("Sobre su solicitud")
    check_page(page)
    page.get_by_label("Nombre de su proyecto o solicitud").fill("Defensa legal en el valle")
    page.get_by_label(re.compile("Monto que solicita")).fill("5000")
    page.get_by_role("button", name="Guardar y continuar").click()

    # Step 2: long text, number, single choice and the sensitive question.
    expect(page).to_have_url(url(f"/es/applications/{application.pk}/step/2/"))
    expect(page.get_by_role("heading", level=2, name="Sobre su grupo")).to_be_visible()
    page.get_by_label("¿Para qué se usará el dinero?").fill("Honorarios de abogados y fianzas.")
    page.get_by_label("¿A cuántas personas atenderán durante el periodo de la subvención?").fill("120")
    page.get_by_role("group", name=re.compile("Idioma principal de su trabajo")).get_by_role(
        "radio", name="Español"
    ).check()
    risks = page.get_by_label(re.compile("Riesgos que enfrenta su grupo"))
    expect(page.locator("#field-q_demo-a5 .badge.sensitive")).to_be_visible()
    risks.fill("Vigilancia en las reuniones públicas.")
    check_page(page, "step")
    page.get_by_role("button", name="Guardar y continuar").click()

    # Step 3: two budget lines that add up to the amount, a PDF, and save the draft.
    expect(page).to_have_url(url(f"/es/applications/{application.pk}/step/3/"))
    expect(page.get_by_role("heading", level=2, name="Presupuesto y documentos")).to_be_visible()
    budget = page.get_by_role("group", name=re.compile("^Presupuesto"))
    budget.locator("select[name='q_demo-b2-0-category']").select_option(label="Honorarios legales")
    budget.locator("input[name='q_demo-b2-0-description']").fill("Abogada por horas")
    budget.locator("input[name='q_demo-b2-0-amount']").fill("3000")
    budget.locator("select[name='q_demo-b2-1-category']").select_option(label="Fianzas")
    budget.locator("input[name='q_demo-b2-1-description']").fill("Fondo de fianzas")
    budget.locator("input[name='q_demo-b2-1-amount']").fill("2000")
    pdf = tmp_path / "carta-de-apoyo.pdf"
    pdf.write_bytes(b"%PDF-1.4\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n")
    page.get_by_label("Presupuesto o carta de apoyo (opcional)").set_input_files(pdf)
    page.get_by_role("button", name="Guardar borrador").click()
    expect(page.get_by_role("status").filter(has_text="Borrador guardado")).to_be_visible()
    expect(page).to_have_url(url(f"/es/applications/{application.pk}/step/3/"))
    expect(page.get_by_role("link", name="carta-de-apoyo.pdf")).to_be_visible()
    check_page(page, "budget")
    application.refresh_from_db()
    assert application.status == ApplicationStatus.DRAFT
    assert application.requested_amount == Money(5000, "USD")
    assert "demo-a5" in application.sensitive_answers and "demo-a5" not in application.answers

    # 5. Leaves, and comes back to the draft from the dashboard.
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Inicio").click()
    expect(page).to_have_url(url("/es/"))
    page.get_by_role("navigation", name="Principal").get_by_role("link", name="Mi panel").click()
    expect(page).to_have_url(url("/es/dashboard/"))
    drafts = page.get_by_role("region", name="Borradores por continuar")
    expect(drafts.get_by_role("heading", name=CALL_TITLE_ES)).to_be_visible()
    drafts.get_by_role("link", name=re.compile("^Continuar")).click()

    expect(page).to_have_url(url(f"/es/applications/{application.pk}/step/1/"))
    expect(page.get_by_label("Nombre de su proyecto o solicitud")).to_have_value("Defensa legal en el valle")
    # The amount typed as 5000 comes back written the Spanish way, which reads back as 5000.
    expect(page.get_by_label(re.compile("Monto que solicita"))).to_have_value("5.000,00")
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.get_by_label("¿Para qué se usará el dinero?")).to_have_value(
        "Honorarios de abogados y fianzas."
    )
    expect(
        page.get_by_label("¿A cuántas personas atenderán durante el periodo de la subvención?")
    ).to_have_value("120")
    expect(
        page.get_by_role("group", name=re.compile("Idioma principal de su trabajo")).get_by_role(
            "radio", name="Español"
        )
    ).to_be_checked()
    expect(page.get_by_label(re.compile("Riesgos que enfrenta su grupo"))).to_have_value(
        "Vigilancia en las reuniones públicas."
    )
    page.get_by_role("button", name="Guardar y continuar").click()
    expect(page.locator("select[name='q_demo-b2-0-category'] option:checked")).to_have_text(
        "Honorarios legales"
    )
    expect(page.locator("input[name='q_demo-b2-0-amount']")).to_have_value("3.000,00")
    expect(page.locator("input[name='q_demo-b2-1-description']")).to_have_value("Fondo de fianzas")
    expect(page.locator("input[name='q_demo-b2-1-amount']")).to_have_value("2.000,00")
    expect(page.get_by_role("link", name="carta-de-apoyo.pdf")).to_be_visible()

    # 6. Consent, check the answers, submit.
    page.get_by_role("checkbox", name=re.compile("Confirmo que la información es verdadera")).check()
    page.get_by_role("button", name="Guardar y revisar respuestas").click()
    expect(page).to_have_url(url(f"/es/applications/{application.pk}/review/"))
    expect(page.get_by_role("heading", level=1)).to_have_text("Revisar y enviar")
    expect(page.get_by_role("alert")).to_have_count(0)  # nothing left to fix
    review = page.get_by_role("main")
    for answer in ("Defensa legal en el valle", "Honorarios de abogados y fianzas.", "Abogada por horas"):
        expect(review.get_by_text(answer)).to_be_visible()
    expect(review.get_by_role("link", name="carta-de-apoyo.pdf")).to_be_visible()
    check_page(page, "review")
    mailoutbox.clear()
    page.get_by_role("button", name="Enviar solicitud").click()

    application.refresh_from_db()
    assert application.status == ApplicationStatus.SUBMITTED
    assert application.reference
    assert application.requested_amount.amount == Decimal("5000")
    expect(page).to_have_url(url(f"/es/applications/{application.pk}/?submitted=1"))
    confirmation = page.get_by_role("status").filter(
        has=page.get_by_role("heading", name="Solicitud enviada")
    )
    expect(confirmation).to_contain_text(application.reference)
    check_page(page, "confirmation")

    assert len(mailoutbox) == 1, [m.subject for m in mailoutbox]
    receipt = mailoutbox[0]
    assert receipt.to == ["lucia@example.org"]
    assert receipt.subject.endswith(f"Solicitud recibida: {application.reference}")
    assert "Hola, Lucía:" in receipt.body
    assert application.reference in receipt.body
    assert f"/es/applications/{application.pk}/" in receipt.body
    assert "Vigilancia" not in receipt.body  # never the sensitive answer

    # The dashboard lists it with its reference and status.
    page.get_by_role("link", name="Mi panel").first.click()
    expect(page).to_have_url(url("/es/dashboard/"))
    expect(page.get_by_role("region", name="Borradores por continuar")).to_contain_text("No hay borradores")
    row = (
        page.get_by_role("region", name="Solicitudes")
        .get_by_role("row")
        .filter(has_text=application.reference)
    )
    expect(row.get_by_role("link", name=application.reference)).to_be_visible()
    expect(row).to_contain_text("Enviada")
    check_page(page, "dashboard")


def test_not_eligible_answer_shows_the_reason_and_saves_nothing(page, url, grant_call, member):
    call, _call_page_es = grant_call
    apply_path = f"/es/apply/{call.pk}/"
    sign_in(page, url, member, apply_path)

    page.get_by_role("group", name=re.compile("región de la fundación")).get_by_role(
        "radio", name="No"
    ).check()
    page.get_by_role("group", name=re.compile("agencia del gobierno")).get_by_role("radio", name="No").check()
    page.get_by_role("button", name="Continuar").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("No puede solicitar en esta convocatoria")
    expect(page.get_by_role("listitem").filter(has_text=NOT_IN_REGION)).to_be_visible()
    expect(page.get_by_text("Las agencias del gobierno")).to_have_count(0)
    check_page(page)
    assert not Application.objects.exists()


def test_adding_an_organization_from_the_application_returns_to_it(page, url, grant_call, member):
    call, _call_page_es = grant_call
    OrganizationMembership.objects.filter(user=member).delete()
    apply_path = f"/es/apply/{call.pk}/"
    sign_in(page, url, member, apply_path)

    page.get_by_role("link", name="Agregar su organización").click()
    page.locator("input[name=name]").fill("Colectivo Río")
    page.locator("input[name=region_served]").fill("Condado de Kern")
    page.locator("input[name=legal_status][value=unincorporated]").check()
    page.get_by_role("button", name="Crear organización").click()

    expect(page).to_have_url(url(apply_path), timeout=3_000)
