"""Create the demo portal: two foundations, funds of every program type, calls, pages, logins.

Idempotent: running it again updates the same rows (and moves call dates so that the demo
always has an open, an upcoming and a closed call). Refuses to run unless DEMO_MODE is on.
"""

import contextlib
import datetime
import io
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from djmoney.money import Money
from wagtail.models import Locale, Page, Site

from cms.models import (
    BrandingSettings,
    FundIndexPage,
    FundingCallPage,
    FundPage,
    HomePage,
    StandardPage,
    agreement_texts,
)
from cms.sections import ensure_foundation_section
from grants.demo_mfa import DEMO_TOTP_SECRET, give_demo_authenticator
from grants.demo_questions import demo_answers, eligibility_json, questions_json
from grants.models import (
    Application,
    Award,
    Bond,
    BondUrgency,
    Donation,
    Foundation,
    Fund,
    FundingCall,
    JournalEntry,
    LegalStatus,
    Obligor,
    Organization,
    OrganizationMembership,
    OutgoingEmail,
    PayoutStatus,
    PostingMethod,
    ProgramType,
    RateUnit,
    ReportKind,
    Role,
    StipendProgram,
    User,
    VendorKind,
    VendorPayment,
    VendorPaymentMethod,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.questions import split_sections
from grants.services import applications as app_service
from grants.services import awards as award_service
from grants.services import bonds as bond_service
from grants.services import donations as donation_service
from grants.services import installments as installment_service
from grants.services import ledger, offline_gifts
from grants.services import payments as payment_service
from grants.services import reviews as review_service
from grants.services import stipends as stipend_service
from grants.services import vendor_payments as vendor_service
from grants.services.schedules import ScheduleKind, add_months, build_schedule
from grants.services.staff import add_staff, ensure_role_groups

DEMO_PASSWORD = "demo-portal-2026"

FOUNDATIONS = [
    {
        "slug": "bay-area-defense",
        "name": "Bay Area Immigrant Defense Foundation",
        "legal_name": "Bay Area Immigrant Defense Foundation, Inc.",
        "tax_id": "94-1234567",
        "contact_email": "grants@bayarea-defense.example.org",
        "receipt_text": "Bay Area Immigrant Defense Foundation is a 501(c)(3) public charity; "
        "your gift is tax-deductible to the extent allowed by law.",
    },
    {
        "slug": "valley-workers",
        "name": "Central Valley Workers Foundation",
        "legal_name": "Central Valley Workers Community Foundation",
        "tax_id": "77-7654321",
        "contact_email": "fondos@valleyworkers.example.org",
        "receipt_text": "Central Valley Workers Community Foundation is a 501(c)(3) public charity.",
    },
]

# (foundation slug, fund slug, program type, goal, English, Spanish)
# Who each foundation is, for its section of the site (English, Spanish).
SECTION_INTROS = {
    "bay-area-defense": (
        "<p>We pay for lawyers, bonds and rapid-response teams so that no one in the Bay Area faces "
        "deportation proceedings alone.</p>",
        "<p>Pagamos abogados, fianzas y equipos de respuesta rápida para que nadie en el Área de la "
        "Bahía enfrente solo un proceso de deportación.</p>",
    ),
    "valley-workers": (
        "<p>Farmworkers and their families founded us to support hotline volunteers and worker "
        "organizing across the Central Valley.</p>",
        "<p>Nos fundaron trabajadores agrícolas y sus familias para apoyar a los voluntarios de las "
        "líneas de ayuda y la organización laboral en todo el Valle Central.</p>",
    ),
}

FUNDS = [
    ("bay-area-defense", "deportation-defense", ProgramType.DEPORTATION_DEFENSE, 250000,
     ("Deportation Defense Fund", "Pays for lawyers, bonds and filing fees for people facing removal."),
     ("Fondo de Defensa contra la Deportación", "Paga abogados, fianzas y costos de trámite para personas en proceso de deportación.")),
    ("bay-area-defense", "hotline-stipends", ProgramType.HOTLINE_STIPENDS, 60000,
     ("Rapid Response Hotline Stipends", "Monthly stipends for volunteers who answer ICE-raid hotlines."),
     ("Estipendios para la Línea de Respuesta Rápida", "Estipendios mensuales para voluntarios que atienden las líneas de emergencia ante redadas de ICE.")),
    ("bay-area-defense", "bond-fund", ProgramType.BOND_FUND, 150000,
     ("Community Bond Fund", "Posts immigration bonds so people can fight their case at home; every bond returned helps the next family."),
     ("Fondo Comunitario de Fianzas", "Paga fianzas migratorias para que las personas enfrenten su caso en casa; cada fianza devuelta ayuda a la siguiente familia.")),
    ("valley-workers", "co-enforcement", ProgramType.CO_ENFORCEMENT, 120000,
     ("Co-enforcement Organizing Fund", "Funds organizers who help workers report labor violations to agencies."),
     ("Fondo de Organización para la Co-aplicación", "Financia a organizadores que ayudan a trabajadores a denunciar violaciones laborales ante las agencias.")),
    ("valley-workers", "community-resilience", ProgramType.OTHER, 40000,
     ("Community Resilience Fund", "Know-your-rights trainings and family preparedness plans."),
     ("Fondo de Resiliencia Comunitaria", "Talleres de conozca sus derechos y planes de preparación familiar.")),
]  # fmt: skip

# (fund slug, call slug, opens (days from now), closes (days from now), min, max, English, Spanish)
CALLS = [
    ("deportation-defense", "rapid-legal-2026", -10, 20, 5000, 50000,
     ("Rapid Legal Response Grants 2026", "Grants for legal-service groups that represent people detained after raids."),
     ("Subvenciones de Respuesta Legal Rápida 2026", "Subvenciones para organizaciones legales que representan a personas detenidas después de redadas.")),
    ("deportation-defense", "bond-fund-spring", 14, 60, 1000, 15000,
     ("Bond Fund, Spring Round", "Money for immigration bonds, paid through partner legal organizations."),
     ("Fondo de Fianzas, Ronda de Primavera", "Dinero para fianzas migratorias, pagado a través de organizaciones legales aliadas.")),
    ("hotline-stipends", "hotline-volunteers-q1", -30, 5, 500, 6000,
     ("Hotline Volunteer Stipends, First Quarter", "Stipends for hotline coordinating groups to pay volunteer shifts."),
     ("Estipendios para Voluntarios de la Línea, Primer Trimestre", "Estipendios para grupos coordinadores de líneas de emergencia para pagar turnos de voluntarios.")),
    ("co-enforcement", "worker-center-organizing", -5, 40, 10000, 40000,
     ("Worker Center Organizing Grants", "Support for worker centers that file complaints with labor agencies."),
     ("Subvenciones para Centros de Trabajadores", "Apoyo para centros de trabajadores que presentan quejas ante agencias laborales.")),
    ("community-resilience", "kyr-trainings-2025", -120, -30, 1000, 8000,
     ("Know-Your-Rights Trainings 2025", "Small grants for community know-your-rights trainings."),
     ("Talleres de Conozca sus Derechos 2025", "Pequeñas subvenciones para talleres comunitarios de conozca sus derechos.")),
]  # fmt: skip

ELIGIBILITY = (
    "<ul><li>Groups that serve immigrant workers and families in the foundation's region.</li>"
    "<li>Nonprofits, fiscally sponsored projects and unincorporated community groups.</li></ul>"
)
ELIGIBILITY_ES = (
    "<ul><li>Grupos que sirven a trabajadores y familias inmigrantes en la región de la fundación.</li>"
    "<li>Organizaciones sin fines de lucro, proyectos con patrocinador fiscal y grupos comunitarios "
    "sin personería jurídica.</li></ul>"
)
HOW_TO_APPLY = "<p>Create an account, answer the eligibility questions and fill in the form. You can save a draft at any time.</p>"
HOW_TO_APPLY_ES = "<p>Cree una cuenta, responda las preguntas de elegibilidad y llene el formulario. Puede guardar un borrador en cualquier momento.</p>"

STANDARD_PAGES = [
    ("about", ("About the portal", "Who runs this portal and how decisions are made."),
     ("Acerca del portal", "Quién administra este portal y cómo se toman las decisiones."),
     "Community foundations use this portal to publish funding calls, review applications and pay grants.",
     "Las fundaciones comunitarias usan este portal para publicar convocatorias, revisar solicitudes y pagar subvenciones."),
    ("privacy", ("Privacy notice", "What we collect, why, and for how long."),
     ("Aviso de privacidad", "Qué datos recopilamos, por qué y por cuánto tiempo."),
     "We collect only what a funding decision needs. We never ask for immigration status, country of origin, home addresses, client names or case numbers. Bank details are held by our payment processor, not by us.",
     "Solo recopilamos lo que necesita una decisión de financiamiento. Nunca pedimos estatus migratorio, país de origen, domicilio, nombres de clientes ni números de caso. Los datos bancarios los guarda nuestro procesador de pagos, no nosotros."),
    ("know-your-rights", ("Know your rights", "Resources for workers and families."),
     ("Conozca sus derechos", "Recursos para trabajadores y familias."),
     "You have the right to remain silent. Do not open the door unless agents show a warrant signed by a judge. Call the rapid response hotline.",
     "Usted tiene derecho a guardar silencio. No abra la puerta a menos que los agentes muestren una orden firmada por un juez. Llame a la línea de respuesta rápida."),
]  # fmt: skip

# (email, first name, role or None for applicant / "superuser", foundation slug)
USERS = [
    ("admin@demo.fundportal.org", "Ada", "superuser", None),
    ("foundation-admin@demo.fundportal.org", "Fatima", Role.FOUNDATION_ADMIN, "bay-area-defense"),
    ("officer@demo.fundportal.org", "Olga", Role.PROGRAM_OFFICER, "bay-area-defense"),
    ("reviewer@demo.fundportal.org", "Rosa", Role.REVIEWER, "bay-area-defense"),
    ("finance@demo.fundportal.org", "Felipe", Role.FINANCE_OFFICER, "bay-area-defense"),
    ("auditor@demo.fundportal.org", "Arturo", Role.AUDITOR, "bay-area-defense"),
    ("officer@valley.demo.fundportal.org", "Vera", Role.PROGRAM_OFFICER, "valley-workers"),
    ("applicant@demo.fundportal.org", "Ana", None, None),
]


class Command(BaseCommand):
    help = "Create or refresh the demo data and print the demo logins (demo mode only)."

    def handle(self, *args, **options):
        if not settings.DEMO_MODE:
            raise CommandError(
                "seed_demo only runs in demo mode (DJANGO_DEBUG=1); it creates known passwords."
            )
        # The demo's story is told by a kind simulated Stripe; STRIPE_SIMULATOR=adverse is for what
        # people do afterwards (this command's process ends with it).
        settings.STRIPE_SIMULATOR = "kind"
        # What seeding prints (every email it sends, on the console) is kept for -v 2: by default
        # the logins come first and each part of the demo takes one line.
        detail = io.StringIO()
        quiet = options["verbosity"] < 2
        emails_before = OutgoingEmail.objects.count()
        with contextlib.redirect_stdout(detail) if quiet else contextlib.nullcontext(), transaction.atomic():
            self.locales = {
                code: Locale.objects.get_or_create(language_code=code)[0] for code, _ in settings.LANGUAGES
            }
            foundations = self._foundations()
            funds = self._funds(foundations)
            calls = self._calls(funds)
            self._pages(funds, calls)
            self._users(foundations)
            self._money_story(funds, calls)
            self._stipends(funds)
            self._donations(funds)
            self._bonds(funds)
            self._vendor_payments(funds)
        self._print_logins()
        self._print_summary(emails=OutgoingEmail.objects.count() - emails_before, quiet=quiet)

    def _foundations(self):
        result = {}
        for data in FOUNDATIONS:
            values = {k: v for k, v in data.items() if k != "slug"}
            result[data["slug"]], _ = Foundation.objects.update_or_create(slug=data["slug"], defaults=values)
        return result

    def _funds(self, foundations):
        result = {}
        for foundation_slug, slug, program_type, goal, (name, _summary), _es in FUNDS:
            result[slug], _ = Fund.objects.update_or_create(
                foundation=foundations[foundation_slug],
                slug=slug,
                defaults={
                    "name": name,
                    "program_type": program_type,
                    "currency": "USD",
                    "fundraising_goal": Money(goal, "USD"),
                },
            )
        return result

    def _calls(self, funds):
        today = timezone.localtime(timezone.now(), timezone.get_default_timezone()).replace(
            hour=17, minute=0, second=0, microsecond=0
        )
        result = {}
        for fund_slug, slug, opens, closes, low, high, (title, _summary), _es in CALLS:
            result[slug], _ = FundingCall.objects.update_or_create(
                fund=funds[fund_slug],
                title=title,
                defaults={
                    "opens_at": today + datetime.timedelta(days=opens),
                    "closes_at": today + datetime.timedelta(days=closes),
                    "time_zone": "America/Los_Angeles",
                    "min_amount": Money(Decimal(low), "USD"),
                    "max_amount": Money(Decimal(high), "USD"),
                },
            )
        return result

    def _pages(self, funds, calls):
        en, es = self.locales["en"], self.locales["es"]
        root = Page.get_first_root_node()
        home = HomePage.objects.filter(locale=en).first()
        if home is None:
            # Replace Wagtail's placeholder welcome page with the portal's home page.
            for placeholder in root.get_children().filter(locale=en).exact_type(Page):
                Site.objects.filter(root_page=placeholder).delete()
                placeholder.delete()
            home = root.add_child(
                instance=HomePage(
                    title="Funding for immigrant defense",
                    slug="home",
                    locale=en,
                    intro="<p>Community foundations fund deportation defense, rapid-response hotlines and "
                    "worker organizing. Apply online in English or Spanish.</p>",
                )
            )
            home.save_revision().publish()
        site = Site.objects.filter(is_default_site=True).first()
        if site is None:
            Site.objects.create(
                hostname="localhost", port=80, root_page=home, is_default_site=True, site_name="Fund portal"
            )
        elif site.root_page_id != home.pk:
            site.root_page = home
            site.save()
        home_es = self._translate(
            home, es, title="Fondos para la defensa de inmigrantes",
            intro="<p>Las fundaciones comunitarias financian la defensa contra la deportación, las líneas de "
            "respuesta rápida y la organización de trabajadores. Solicite en línea en inglés o en español.</p>",
        )  # fmt: skip
        index = self._child(home, FundIndexPage, "funds", title="Funds and calls",
                            intro="<p>Every fund and every funding call, open or past.</p>")  # fmt: skip
        index_es = self._translate(
            index,
            es,
            title="Fondos y convocatorias",
            intro="<p>Todos los fondos y todas las convocatorias, abiertas o pasadas.</p>",
        )
        del home_es, index_es
        sections = {}
        for fund in funds.values():
            foundation = fund.foundation
            if foundation.slug not in sections:
                intro, intro_es = SECTION_INTROS[foundation.slug]
                sections[foundation.slug] = ensure_foundation_section(
                    foundation, intro={"en": intro, "es": intro_es}
                )["en"]
        for foundation_slug, slug, _type, _goal, (name, summary), (name_es, summary_es) in FUNDS:
            fund_page = self._child(sections[foundation_slug], FundPage, slug, title=name, fund=funds[slug],
                                    summary=summary, body=f"<p>{summary}</p>")  # fmt: skip
            self._translate(fund_page, es, title=name_es, summary=summary_es, body=f"<p>{summary_es}</p>")
            for fund_slug, call_slug, *_rest, (title, call_summary), (title_es, call_summary_es) in CALLS:
                if fund_slug != slug:
                    continue
                call_page = self._child(
                    fund_page, FundingCallPage, call_slug, title=title, funding_call=calls[call_slug],
                    summary=call_summary, eligibility=ELIGIBILITY, how_to_apply=HOW_TO_APPLY,
                    questions=questions_json("en"), eligibility_questions=eligibility_json("en"),
                )  # fmt: skip
                self._translate(call_page, es, title=title_es, summary=call_summary_es,
                                eligibility=ELIGIBILITY_ES, how_to_apply=HOW_TO_APPLY_ES,
                                questions=questions_json("es"), eligibility_questions=eligibility_json("es"))  # fmt: skip
        privacy = None
        for slug, (title, intro), (title_es, intro_es), text, text_es in STANDARD_PAGES:
            body = [("paragraph", f"<p>{text}</p>")]
            page = self._child(home, StandardPage, slug, title=title, intro=intro, body=body)
            self._translate(
                page, es, title=title_es, intro=intro_es, body=[("paragraph", f"<p>{text_es}</p>")]
            )
            if slug == "privacy":
                privacy = page
        branding = BrandingSettings.for_site(Site.objects.get(is_default_site=True))
        branding.site_name = "Fund portal"
        branding.tagline = "Money for immigrant defense, moved safely."
        branding.translations = {
            "es": {
                "site_name": "Portal de fondos",
                "tagline": "Fondos para la defensa de inmigrantes, con seguridad.",
            }
        }
        branding.contact_email = "help@demo.fundportal.org"
        branding.hotline = "1-800-555-0199"
        branding.privacy_page = privacy
        branding.save()

    def _child(self, parent, model, slug, **fields):
        page = model.objects.child_of(parent).filter(slug=slug).first()
        if page is None:
            page = parent.add_child(instance=model(slug=slug, locale=parent.locale, **fields))
        else:
            for name, value in fields.items():
                setattr(page, name, value)
            page.save()
        page.save_revision().publish()
        return page

    def _translate(self, page, locale, **fields):
        translation = page.get_translation_or_none(locale)
        if translation is None:
            translation = page.copy_for_translation(locale, copy_parents=True)
        translation = translation.specific
        for name, value in fields.items():
            setattr(translation, name, value)
        if translation.get_parent().pk != page.get_parent().pk:
            translation.slug = page.slug
        translation.save()
        translation.save_revision().publish()
        return translation

    def _users(self, foundations):
        ensure_role_groups()
        for email, first_name, role, foundation_slug in USERS:
            user = User.objects.filter(email=email).first() or User(email=email)
            user.first_name = first_name
            user.last_name = "Demo"
            user.is_superuser = role == "superuser"
            user.is_staff = role is not None
            user.set_password(DEMO_PASSWORD)
            user.save()
            # Demo addresses count as confirmed, so the printed logins work at once.
            EmailAddress.objects.update_or_create(
                user=user, email=email, defaults={"verified": True, "primary": True}
            )
            if role not in (None, "superuser"):
                add_staff(user, foundation=foundations[foundation_slug], role=role)
            if role is not None:
                # Staff need a second factor: every demo staff login shares the demo app secret.
                give_demo_authenticator(user)

    def _money_story(self, funds, calls):
        """Money in the Deportation Defense Fund, and three approved applications from the demo
        applicant's groups: one award offered (to accept), one accepted with its first payment
        made by check, and one waiting for the officer to make the award."""
        fund = funds["deportation-defense"]
        officer = User.objects.get(email="officer@demo.fundportal.org")
        finance = User.objects.get(email="finance@demo.fundportal.org")
        applicant = User.objects.get(email="applicant@demo.fundportal.org")
        today = timezone.localdate()
        if not JournalEntry.objects.filter(lines__account__fund=fund).exists():
            ledger.record_opening_balance(fund=fund, amount=Money(120000, "USD"), as_of=today.replace(day=1),
                                          reference="Bank statement", by=finance)  # fmt: skip
            ledger.record_income(fund=fund, amount=Money(25000, "USD"), source="grant", received_on=today,
                                 reference="GRANT-2026-014", memo="Grant from a partner foundation", by=finance)  # fmt: skip
        call = calls["rapid-legal-2026"]
        page = FundingCallPage.objects.get(funding_call=call, locale=self.locales["en"])
        sections = split_sections(page.get_questions(), first_heading="About your request")
        stories = [
            ("Comité de Defensa del Barrio", "Rapid response lawyers", 12000, "offered"),
            ("East Bay Hotline Collective", "Bond hearings for detained workers", 9000, "paid"),
            ("Oakland Workers Legal Clinic", "Know-your-rights clinics", 6000, "approved"),
        ]
        for name, title, amount, stage in stories:
            organization, _created = Organization.objects.get_or_create(
                name=name,
                defaults={"mission": "Defends immigrant families in the Bay Area.", "region_served": "Alameda County",
                          "languages": "Spanish, English", "legal_status": LegalStatus.UNINCORPORATED,
                          "created_by": applicant},
            )  # fmt: skip
            OrganizationMembership.objects.get_or_create(
                organization=organization, user=applicant, defaults={"role": "owner"}
            )
            if Application.objects.filter(organization=organization, call=call).exists():
                continue
            application = app_service.start_application(call=call, organization=organization, by=applicant,
                                                        language="es")  # fmt: skip
            raw = demo_answers(title, amount)
            for section in sections:
                keys = {"_title", "_requested_amount"} if section.number == 1 else set()
                keys |= {question.id for question in section.questions}
                app_service.save_section(application, section=section,
                                         raw={k: v for k, v in raw.items() if k in keys}, by=applicant)  # fmt: skip
            app_service.submit_application(application, sections=sections, by=applicant, actor="applicant")
            review_service.start_screening(application, by=officer)
            review_service.approve_application(application, by=officer, amount=Money(amount, "USD"),
                                               message="Thank you for your work.")  # fmt: skip
            if stage == "approved":
                continue
            # The accepted award's first payment fell due a month ago (paid by check), the second
            # is due today: finance can release it through the simulated Stripe in the demo.
            kind, first_due = (
                (ScheduleKind.MONTHLY, add_months(today, -1))
                if stage == "paid"
                else (ScheduleKind.QUARTERLY, today)
            )
            award = award_service.make_award(
                application, by=officer, amount=Money(amount, "USD"), start_date=first_due,
                end_date=add_months(today, 12) - datetime.timedelta(days=1),
                schedule=build_schedule(kind, Money(amount, "USD"), count=3, first_due=first_due),
                # The active award's interim report falls due in two weeks, so it can be filed.
                report_dates=[
                    (ReportKind.INTERIM, today + datetime.timedelta(days=14) if stage == "paid" else add_months(today, 6)),
                    (ReportKind.FINAL, add_months(today, 13)),
                ],
                conditions="Report the number of people represented; never name clients.",
                agreement=agreement_texts(call),
            )  # fmt: skip
            if stage == "paid":
                award_service.accept_award(
                    award, by=applicant, full_name="Ana Demo", agreed=True, language="es"
                )
                installment_service.mark_due_installments(today=today)
                installment_service.record_payment_outside_processor(
                    award.installments.get(number=1), by=finance, paid_on=first_due, reference="CHECK 1042"
                )
                self._ready_payee(organization, fund.foundation, applicant)

    def _ready_payee(self, organization, foundation, applicant):
        """The organization onboards with the simulated Stripe and is ready for payouts."""
        payee = payment_service.organization_payee(foundation.pk, organization.pk)
        if payee is None:
            payment_service.start_onboarding(organization=organization, foundation=foundation, by=applicant)
            payee = payment_service.organization_payee(foundation.pk, organization.pk)
        if settings.STRIPE_GATEWAY == "simulated" and payee.payout_status != PayoutStatus.READY:
            SimulatedGateway(foundation).complete_onboarding(payee.stripe_account_id, outcome="complete")
        return payee

    def _stipends(self, funds):
        """A hotline stipend program coordinated by the East Bay Hotline Collective, with last
        month's shifts computed into a batch waiting for an officer's approval."""
        fund = funds["hotline-stipends"]
        finance = User.objects.get(email="finance@demo.fundportal.org")
        officer = User.objects.get(email="officer@demo.fundportal.org")
        applicant = User.objects.get(email="applicant@demo.fundportal.org")
        today = timezone.localdate()
        if not JournalEntry.objects.filter(lines__account__fund=fund).exists():
            ledger.record_opening_balance(fund=fund, amount=Money(40000, "USD"), as_of=today.replace(day=1),
                                          reference="Bank statement", by=finance)  # fmt: skip
        if StipendProgram.objects.filter(fund=fund).exists():
            return
        collective = Organization.objects.get(name="East Bay Hotline Collective")
        program = stipend_service.save_program(
            fund=fund, name="Hotline volunteer stipends", rate=Money(25, "USD"), rate_unit=RateUnit.SHIFT,
            monthly_cap=Money(300, "USD"), coordinators=[collective], by=officer,
        )  # fmt: skip
        last_month = add_months(today.replace(day=1), -1)
        for index, name in enumerate(("Luna", "Sol", "Río")):
            volunteer = stipend_service.add_volunteer(program=program, organization=collective, pseudonym=name,
                                                      by=applicant)  # fmt: skip
            for day in range(1, 4 + index * 5):
                stipend_service.log_shift(volunteer=volunteer, date=last_month.replace(day=day), hours=4,
                                          by=applicant)  # fmt: skip
        stipend_service.compute_batch(program=program, organization=collective, month=last_month, by=officer)

    def _donations(self, funds):
        """Gifts to the Deportation Defense Fund: two checks entered by finance and two online
        gifts through the simulated Stripe Checkout (one monthly, one anonymous)."""
        fund = funds["deportation-defense"]
        if Donation.objects.filter(fund=fund).exists():
            return
        finance = User.objects.get(email="finance@demo.fundportal.org")
        today = timezone.localdate()
        for name, email, amount, reference in (
            ("María Hernández", "maria@donor.example", 250, "CHK 2201"),
            ("Iglesia San José", "parish@donor.example", 1500, "CHK 2202"),
        ):
            offline_gifts.record_offline_gift(fund=fund, donor_name=name, donor_email=email, amount=Money(amount, "USD"),
                                              channel="check", received_on=today, reference=reference, by=finance)  # fmt: skip
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        for name, email, amount, monthly, anonymous, language in (
            ("Tomás Ruiz", "tomas@donor.example", 25, True, False, "es"),
            ("Jordan Lee", "jordan@donor.example", 100, False, True, "en"),
        ):
            donation, _url = donation_service.start_donation(
                fund=fund, amount=Money(amount, "USD"), monthly=monthly, cover_fee=True, anonymous=anonymous,
                name=name, email=email, language=language, success_url=f"{base}/", cancel_url=f"{base}/",
            )  # fmt: skip
            if settings.STRIPE_GATEWAY == "simulated":
                SimulatedGateway(fund.foundation).complete_checkout(donation.checkout_session_id)

    def _bonds(self, funds):
        """The Community Bond Fund: the Comité is a bond partner; bonds in every state — a request
        waiting for the officer (on the clock), one approved for finance to post, one declined, one
        posted long ago (finance is reminded to check on it), one cancelled with its refund expected,
        one returned with interest, one breached, one returned in part with the rest written off, and
        one the partner posts, paid to it through the simulated Stripe."""
        fund = funds["bond-fund"]
        if Bond.objects.filter(fund=fund).exists():
            return
        foundation = fund.foundation
        officer = User.objects.get(email="officer@demo.fundportal.org")
        finance = User.objects.get(email="finance@demo.fundportal.org")
        applicant = User.objects.get(email="applicant@demo.fundportal.org")
        partner = Organization.objects.get(name="Comité de Defensa del Barrio")
        today = timezone.localdate()
        ledger.record_opening_balance(fund=fund, amount=Money(60000, "USD"), as_of=today - datetime.timedelta(days=400),
                                      reference="Bank statement", by=finance)  # fmt: skip
        bond_service.add_partner(foundation=foundation, organization=partner, by=officer)
        days = datetime.timedelta

        def request(label, facility, amount, urgency=BondUrgency.DAYS, obligor=Obligor.FOUNDATION):
            return bond_service.request_bond(
                partner=partner, fund=fund, by=applicant, label=label, facility=facility, urgency=urgency,
                amount=Money(amount, "USD"), obligor=obligor,
            )  # fmt: skip

        def posted(label, facility, amount, ago):
            bond = bond_service.approve(request(label, facility, amount), by=officer)
            return bond_service.post_bond(bond, by=finance, method=PostingMethod.WIRE,
                                          posted_on=today - days(days=ago), reference=f"CeBONDS {label[-2:]}-{amount}")  # fmt: skip

        request("Familia T., Mesa Verde", "Golden State Annex", 5000, urgency=BondUrgency.TODAY)
        bond_service.approve(request("Familia P., Otay", "Otay Mesa Detention Center", 8000), by=officer)
        bond_service.decline(request("Caso 14, Tacoma", "Northwest ICE Processing Center", 25000), by=officer,
                             reason="Above what the fund can post this month; we will call you about a smaller amount.")  # fmt: skip
        posted("Familia R., Adelanto", "Adelanto ICE Processing Center", 7500, ago=200)
        bond = posted("Familia G., San Francisco", "San Francisco field office", 4000, ago=150)
        bond_service.record_cancellation(bond, by=finance, cancelled_on=today - days(days=10))
        bond = posted("Familia L., Yuba", "Yuba County Jail", 6000, ago=320)
        bond_service.record_cancellation(bond, by=finance, cancelled_on=today - days(days=60))
        bond_service.record_refund(bond, by=finance, received_on=today - days(days=30), principal=Money(6000, "USD"),
                                   interest=Money("41.18", "USD"), receipt="Treasury check 558120")  # fmt: skip
        bond = posted("Caso 9, Mesa Verde", "Golden State Annex", 3500, ago=280)
        bond_service.record_breach(bond, by=finance, reason="A hearing was missed after a change of address.",
                                   breached_on=today - days(days=40))  # fmt: skip
        bond = posted("Familia M., Adelanto", "Adelanto ICE Processing Center", 10000, ago=300)
        bond_service.record_cancellation(bond, by=finance, cancelled_on=today - days(days=90))
        bond_service.record_refund(bond, by=finance, received_on=today - days(days=70), principal=Money(9500, "USD"),
                                   interest=Money("12.50", "USD"), receipt="Treasury check 551002", write_off_rest=True,
                                   reason="The surety kept a processing fee.")  # fmt: skip
        payee = self._ready_payee(partner, foundation, applicant)
        if payee.payout_status != PayoutStatus.READY:
            # Stripe's account.updated reaches the portal after this transaction commits: the demo
            # records now what it will say, so the partner's bond can be sent in the same run.
            payment_service.update_payee_status(
                payee, status=PayoutStatus.READY, requirements_due=[], event_created=1
            )
        bond = bond_service.approve(
            request("Familia S., Oakland", "San Francisco field office", 2500, obligor=Obligor.PARTNER),
            by=officer,
        )
        bond_service.post_bond(bond, by=finance, method=PostingMethod.TRANSFER)

    def _vendor_payments(self, funds):
        """Paying the need directly: a month's rent paid by check to a family's landlord as direct
        assistance (asked by the officer, approved by the foundation admin, paid by finance), and
        the East Bay Hotline Collective asking that its last payment go to its lawyers instead,
        waiting for the officer."""
        fund = funds["deportation-defense"]
        if VendorPayment.objects.filter(fund=fund).exists():
            return
        foundation = fund.foundation
        officer = User.objects.get(email="officer@demo.fundportal.org")
        admin = User.objects.get(email="foundation-admin@demo.fundportal.org")
        finance = User.objects.get(email="finance@demo.fundportal.org")
        applicant = User.objects.get(email="applicant@demo.fundportal.org")
        collective = Organization.objects.get(name="East Bay Hotline Collective")
        lawyers = vendor_service.add_vendor(foundation, by=finance, name="Martínez & Ruiz Immigration Law",
                                            kind=VendorKind.LAW_FIRM, payment_method=VendorPaymentMethod.CHECK)  # fmt: skip
        landlord = vendor_service.add_vendor(foundation, by=finance, name="Eastmont Apartments LLC",
                                             kind=VendorKind.LANDLORD, payment_method=VendorPaymentMethod.CHECK)  # fmt: skip
        rent = vendor_service.request_vendor_payment(
            by=officer, vendor=landlord, purpose="Rent for a family while a parent is detained",
            fund=fund, organization=collective, amount=Money(1200, "USD"),
        )  # fmt: skip
        vendor_service.approve(rent, by=admin)
        vendor_service.record_check(rent, by=finance, check_number="CHECK 1107", paid_on=timezone.localdate())
        award = Award.objects.get(application__organization=collective, fund=fund)
        last = award.installments.order_by("-number").first()
        vendor_service.request_vendor_payment(
            by=applicant, vendor=lawyers, purpose="Legal fees for bond hearings", installment=last
        )

    def _print_logins(self):
        base = settings.WAGTAILADMIN_BASE_URL.rstrip("/")
        self.stdout.write(
            self.style.SUCCESS(f"Demo data ready: {base}/  ·  sign in at {base}/en/accounts/login/")
        )
        rows = [("ROLE", "FOUNDATION", "EMAIL", "PASSWORD")]
        names = {f["slug"]: f["name"] for f in FOUNDATIONS}
        for email, _first_name, role, foundation_slug in USERS:
            if role == "superuser":
                label, where = "platform administrator", "all foundations"
            elif role:
                label, where = str(Role(role).label), names[foundation_slug]
            else:
                label, where = "applicant", "member of three groups (none is staff)"
            rows.append((label, where, email, DEMO_PASSWORD))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        for row in rows:
            self.stdout.write(
                "  "
                + "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=False))
                + "  "
                + row[3]
            )
        self.stdout.write(
            f"Staff then type a code from an authenticator app: add the demo secret {DEMO_TOTP_SECRET} to any "
            "app, or run `manage.py demo_totp` (the code page shows it too)."
        )

    def _print_summary(self, *, emails, quiet):
        """One line per part of the demo."""
        now = timezone.now()
        lines = [
            ("Foundations", ", ".join(Foundation.objects.order_by("name").values_list("name", flat=True))),
            (
                "Funds and calls",
                f"{Fund.objects.count()} funds; {FundingCall.objects.count()} calls, "
                f"{FundingCall.objects.open_at(now).count()} open now",
            ),
            ("Pages", f"{Page.objects.live().count()} published pages in English and Spanish"),
            (
                "Applications",
                f"{Application.objects.count()} from the demo applicant's groups; "
                f"{Award.objects.count()} awards (one to accept, one with a payment due today)",
            ),
            (
                "Stipends",
                f"{StipendProgram.objects.count()} hotline program, last month's batch waiting for approval",
            ),
            ("Donations", f"{Donation.objects.count()} gifts (checks and simulated Stripe Checkout)"),
            (
                "Vendor payments",
                f"{VendorPayment.objects.count()} (a family's rent paid by check, a grantee's payment asked for its lawyers)",
            ),
            (
                "Bonds",
                f"{Bond.objects.count()} in the Community Bond Fund, one in each state "
                "(a request on the clock, approved, posted, refund expected, returned, breached)",
            ),
        ]
        if emails is not None:
            lines.append(
                ("Emails", f"{emails} sent to the console while seeding (run seed_demo -v 2 to see them)")
            )
        for title, text in lines:
            self.stdout.write(f"{title}: {text}")
