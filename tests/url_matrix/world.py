"""The data the URL matrix needs: two foundations, every kind of object a URL can point at, and
one user per role.

Foundation A ("bay-area") is the rightful one: its call received an application from org1
(the rightful applicant's organization), which became an award paid by check with a spending
report, a second award paid through the simulated Stripe, donations, a stipend program with a
month to pay, an export, journal entries. Foundation B ("valley") has its own fund, call and
staff, and org2 (another organization) applied there: B's staff and org2's members are the
"wrong" people for everything of A.
"""

import datetime
import io

from allauth.mfa.models import Authenticator
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import TestCase
from djmoney.money import Money
from PIL import Image as PILImage
from wagtail.contrib.redirects.models import Redirect
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import Collection, Locale, Site, Task, Workflow

from cms.models import BrandingSettings
from grants.demo_questions import eligibility_json, questions_json
from grants.models import (
    ROLE_GROUP_NAMES,
    ApplicationStatus,
    DecisionMessage,
    Donor,
    EmailStatus,
    EntryCause,
    GiftKind,
    JournalEntry,
    Obligor,
    OrganizationMembership,
    OutgoingEmail,
    PayeeAccount,
    ProgramType,
    ReviewAssignment,
    Role,
    WebhookEvent,
    WebhookEventStatus,
)
from grants.payments.simulator.gateway import SimulatedGateway
from grants.services import applications as application_service
from grants.services import bonds as bond_service
from grants.services import data_deletion, payments, stipends, vendor_payments
from grants.services import donations as donation_service
from grants.services import exports as export_service
from grants.services import organizations as organization_service
from grants.services import reports as report_service
from grants.services import reviews as review_service
from tests import pages
from tests.factories import (
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
    approved_application,
)
from tests.grants.money_fixtures import approved, fund_with, staff
from tests.grants.report_helpers import PDF, D, reporting_award, spend
from tests.grants.test_admin_payments import due_award
from tests.grants.test_admin_reviews import rubric_json, set_status
from tests.grants.test_applications import _draft
from tests.grants.test_auditor_access import gift
from tests.grants.test_stipends import _program, compute, shift
from tests.sections import into_section
from tests.url_matrix.table import ROLES


def _png() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (2, 2), "white").save(buffer, "PNG")
    return buffer.getvalue()


def _foundation(site, *, slug, name, fund_name):
    foundation = FoundationFactory(slug=slug, name=name)
    fund = FundFactory(foundation=foundation, name=fund_name, slug=f"{slug}-fund", currency="USD")
    fund_pages = pages.add_fund_page(site, fund)
    call = FundingCallFactory(fund=fund, title=f"{name} call 2026")
    call_pages = pages.add_call_page(fund_pages, call, questions=questions_json, eligibility=eligibility_json)
    for call_page, language in zip(call_pages, ("en", "es"), strict=True):
        call_page.rubric = rubric_json(language)
        pages.publish(call_page)
    into_section(fund_pages, foundation)  # where the foundation's editors hold page permissions
    for call_page in call_pages:
        call_page.refresh_from_db()
    return {
        "foundation": foundation,
        "fund": fund,
        "fund_page": fund_pages[0],
        "call": call,
        "call_page": call_pages[0],
    }


def _submitted_with_attachment(setup, by):
    """A submitted application of ``setup``'s organization with a file attached."""
    application, sections = _draft(setup)
    question = next(q for q in setup["page"].get_questions() if q.type == "file")
    attachment = application_service.add_attachment(
        application, question=question, by=by, upload=SimpleUploadedFile("letter.pdf", PDF)
    )
    application_service.submit_application(application, sections=sections, by=by, actor="applicant")
    application.refresh_from_db()
    return application, attachment


def _wagtail_objects(site, a) -> dict:
    """Objects of Wagtail's own admin areas, so their URLs point at something real. The image and
    document are in A's collection; the collection URLs point at A's collection."""
    a["foundation"].refresh_from_db()
    collection = a["foundation"].collection
    image = Image.objects.create(
        title="Hotline poster",
        file=ContentFile(_png(), name="poster.png"),
        width=2,
        height=2,
        collection=collection,
    )
    document = Document.objects.create(
        title="Guide", file=ContentFile(PDF, name="guide.pdf"), collection=collection
    )
    redirect = Redirect.objects.create(old_path="/old-fund", redirect_page=a["fund_page"])
    workflow = Workflow.objects.order_by("pk").first() or Workflow.objects.create(name="Review")
    task = Task.objects.order_by("pk").first()
    # Site settings are created on first read; make them now so no request has to.
    BrandingSettings.for_site(site["home"].get_site())
    return {
        "collection": collection,
        "root_collection": Collection.get_first_root_node(),
        "image": image,
        "document": document,
        "redirect": redirect,
        "workflow": workflow,
        "task": task,
        "locale": Locale.objects.get(language_code="en"),
        "site_row": Site.objects.get(is_default_site=True),
        "home": site["home"],
        "section": a["fund_page"].get_parent(),
        "fund_index": site["index"],
        "fund_section": a["fund_page"]
        .get_parent()
        .specific,  # foundation A's section, the fund page's parent
    }


def _bonds(foundation, org1, users) -> dict:
    """A bond fund of A with $20,000, org1 a bond partner of A, and three of its bonds: one
    requested, one approved (by A's officer), one posted (by A's finance, with a reference)."""
    fund = FundFactory(foundation=foundation, name="Bay Area Bond Fund", slug="bay-area-bonds",
                       program_type=ProgramType.BOND_FUND, currency="USD")  # fmt: skip
    fund_with({"fund": fund, "finance": users["finance_A"]}, 20000)
    partner = bond_service.add_partner(foundation=foundation, organization=org1, by=users["officer_A"])

    def ask(label, amount):
        return bond_service.request_bond(
            partner=org1, fund=fund, by=users["applicant"], label=label, facility="Mesa Verde", urgency="days",
            amount=Money(amount, "USD"), obligor=Obligor.FOUNDATION, notes="Hearing on Monday",
        )  # fmt: skip

    requested = ask("Family R", 1500)
    approved_bond = bond_service.approve(ask("Family S", 2500), by=users["officer_A"])
    posted = bond_service.approve(ask("Family T", 3500), by=users["officer_A"])
    posted = bond_service.post_bond(posted, by=users["finance_A"], method="wire", reference="IMM-REF-7731")
    return {"bond_fund": fund, "bond_partner": partner, "bond": requested, "bond_approved": approved_bond,
            "bond_posted": posted}  # fmt: skip


def build_world(site) -> dict:
    """Everything, with ``users`` keyed by role name (``None`` for anonymous)."""
    a = _foundation(site, slug="bay-area", name="Bay Area Foundation", fund_name="Rapid Defense Fund")
    b = _foundation(site, slug="valley", name="Valley Foundation", fund_name="Valley Secret Fund")
    foundation, fund = a["foundation"], a["fund"]

    # People: the rightful applicant owns org1; the other applicant belongs to org2 only.
    applicant = UserFactory(email="grantee@example.org", preferred_language="en")
    org1 = OrganizationFactory(name="Comité de Defensa")
    OrganizationMembership.objects.create(organization=org1, user=applicant, role="owner")
    member = UserFactory(email="member@example.org")
    membership = OrganizationMembership.objects.create(organization=org1, user=member, role="member")
    applicant_other = UserFactory(email="other-applicant@example.org")
    org2 = OrganizationFactory(name="Valley Hidden Group")
    OrganizationMembership.objects.create(organization=org2, user=applicant_other, role="owner")
    users = {
        "anonymous": None,
        "applicant_other_org": applicant_other,
        "applicant": applicant,
        "reviewer_unassigned": staff(foundation, Role.REVIEWER, email="reviewer-free@example.org"),
        "reviewer_assigned": staff(foundation, Role.REVIEWER, email="reviewer@example.org"),
        "officer_A": staff(foundation, Role.PROGRAM_OFFICER, email="officer@example.org"),
        "finance_A": staff(foundation, Role.FINANCE_OFFICER, email="finance@example.org"),
        "auditor_A": staff(foundation, Role.AUDITOR, email="auditor@example.org"),
        "admin_A": staff(foundation, Role.FOUNDATION_ADMIN, email="admin@example.org"),
        "officer_B": staff(b["foundation"], Role.PROGRAM_OFFICER, email="officer-b@example.org"),
        "finance_B": staff(b["foundation"], Role.FINANCE_OFFICER, email="finance-b@example.org"),
        "auditor_B": staff(b["foundation"], Role.AUDITOR, email="auditor-b@example.org"),
    }
    assert list(users) == ROLES
    # The money helpers' "world": fund A, its officer and finance, the grantee and org1.
    money = {
        "foundation": foundation,
        "fund": fund,
        "officer": users["officer_A"],
        "finance": users["finance_A"],
        "auditor": users["auditor_A"],
        "grantee": applicant,
        "organization": org1,
    }

    # Applications: org1's submitted one (with a file) in review, with one reviewer assigned who
    # declared no conflict; org1's draft; org2's submitted one at B.
    setup = {"call": a["call"], "page": a["call_page"], "applicant": applicant, "organization": org1}
    application, attachment = _submitted_with_attachment(setup, applicant)
    set_status(application, ApplicationStatus.IN_REVIEW)
    review_service.assign_reviewers([application], [users["reviewer_assigned"]], by=users["officer_A"])
    assignment = ReviewAssignment.objects.get(application=application)
    review_service.declare_conflict(assignment, by=users["reviewer_assigned"], has_conflict=False)
    draft = application_service.start_application(
        call=a["call"], organization=org1, by=applicant, language="en"
    )
    other_setup = {
        "call": b["call"],
        "page": b["call_page"],
        "applicant": applicant_other,
        "organization": org2,
    }
    other_application, _ = _submitted_with_attachment(other_setup, applicant_other)

    # Money at A: an award paid by check with a submitted report (receipt), a second award paid
    # through the simulated Stripe, an approved application waiting for its award.
    fund_with(money, 20000)
    award = reporting_award(money)
    # A signed paper on file (as staff keep when a group without a login answers its offer).
    award.answer_document.save("signed.pdf", ContentFile(PDF), save=False)
    award.answer_document_name, award.answer_document_type = "signed.pdf", "application/pdf"
    award.save(update_fields=["answer_document", "answer_document_name", "answer_document_type"])
    due = award.report_due_dates.get(kind="interim")
    report = report_service.report_for(due, by=applicant)
    expenditure = spend(report, money, 1200)
    paid = due_award(money, 1000)
    payments.start_onboarding(organization=org1, foundation=foundation, by=applicant)
    payee = PayeeAccount.objects.get(foundation=foundation, organization=org1)
    with TestCase.captureOnCommitCallbacks(execute=True):
        SimulatedGateway(foundation).complete_onboarding(payee.stripe_account_id, "complete")
    with TestCase.captureOnCommitCallbacks(execute=True):
        disbursement = payments.release_installment(paid.installments.get(), by=users["finance_A"])
    waiting = approved(money, 2000)
    # A vendor paid by check, and direct assistance to it for org1 that A's officer asked for.
    vendor = vendor_payments.add_vendor(foundation, by=users["finance_A"], name="Casa Rivera Rentals",
                                        kind="landlord", payment_method="check")  # fmt: skip
    vendor_payment = vendor_payments.request_vendor_payment(
        by=users["officer_A"], vendor=vendor, fund=fund, organization=org1, amount=Money(300, "USD"),
        purpose="Rent for March", invoice=SimpleUploadedFile("invoice.pdf", PDF, content_type="application/pdf"),
    )  # fmt: skip
    entry = JournalEntry.objects.filter(cause=EntryCause.INCOME, lines__account__fund=fund).distinct().first()

    # Gifts: a donor with a completed gift, and a pending one with an open Checkout session.
    donor = Donor.objects.create(foundation=foundation, email="ana@example.org", name="Ana Pérez")
    donation = gift(fund, donor, 150, kind=GiftKind.ONE_TIME, receipt_number=1)
    fund.accepts_donations = True
    fund.save(update_fields=["accepts_donations"])
    pending, _url = donation_service.start_donation(
        fund=fund, amount=Money(50, "USD"), monthly=False, cover_fee=False, anonymous=False,
        name="Bea Donor", email="bea@example.org", language="en",
        success_url="/en/donate/thanks/?session_id={CHECKOUT_SESSION_ID}", cancel_url="/en/",
    )  # fmt: skip

    # Stipends: a hotline program coordinated by org1, a volunteer, a shift in a computed batch.
    program = _program(money)
    program.shifts_from = D(2026, 1, 1)  # the hotline ran before the portal
    program.save(update_fields=["shifts_from"])
    volunteer = stipends.add_volunteer(program=program, organization=org1, pseudonym="Luna", by=applicant)
    batched_shift = shift(money, volunteer, D(2026, 9, 1))
    batch = compute(money, program)

    # Staff paperwork: an export, a decision message; an invitation to org1.
    with TestCase.captureOnCommitCallbacks(execute=True):
        export = export_service.request_export(
            foundation=foundation, by=users["auditor_A"], date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)
        )
    message = DecisionMessage.objects.create(
        foundation=foundation, title="Fund spent", body="Spent.", translations={"es": {"body": "Agotado."}}
    )
    invite = organization_service.invite_member(
        organization=org1,
        email="invitee@example.org",
        by=applicant,
        language="en",
        site_url="http://testserver",
    )
    # A third group that applied to A and asked for its data to be deleted.
    leaver = UserFactory(email="leaver@example.org")
    org3 = OrganizationFactory(name="Leaving Group")
    OrganizationMembership.objects.create(organization=org3, user=leaver, role="owner")
    approved_application(fund, decided_by=users["officer_A"], amount=Money(1500, "USD"), organization=org3)
    (deletion,) = data_deletion.request_deletion(org3, by=leaver)
    # A security key of someone who is none of the roles: nobody else may see, rename or remove it.
    security_key = Authenticator.objects.create(
        user=UserFactory(email="key-owner@example.org"),
        type=Authenticator.Type.WEBAUTHN,
        data={"name": "Key of someone else", "credential": {}},
    )
    # A Stripe event of A flagged for finance (re-applying it is for A's finance and admins).
    flagged_event = WebhookEvent.objects.create(
        event_id="evt_flagged_matrix", foundation=foundation, endpoint="platform", type="charge.refunded",
        created=1767225600, payload={"id": "evt_flagged_matrix", "type": "charge.refunded",
                                     "data": {"object": {"id": "ch_unknown", "object": "charge"}}},
        status=WebhookEventStatus.FLAGGED, note="unknown donation",
    )  # fmt: skip
    # An email about A, already sent (sending it again is refused and changes nothing).
    email = OutgoingEmail.objects.create(
        kind="award_offered",
        foundation=foundation,
        status=EmailStatus.SENT,
        attempts=1,
        recipient_hint="…@a.example",
    )
    bond_objects = _bonds(foundation, org1, users)
    return {
        **a,
        **bond_objects,
        "email": email,
        "flagged_event": flagged_event,
        "deletion": deletion,
        "security_key": security_key,
        "b": b,
        "users": users,
        "org1": org1,
        "org2": org2,
        "membership": membership,
        "invite": invite,
        "application": application,
        "attachment": attachment,
        "draft": draft,
        "other_application": other_application,
        "award": award,
        "installment": award.installments.order_by("number").last(),
        "due": due,
        "report": report,
        "expenditure": expenditure,
        "paid": paid,
        "payee": payee,
        "disbursement": disbursement,
        "waiting": waiting,
        "vendor": vendor,
        "vendor_payment": vendor_payment,
        "entry": entry,
        "donor": donor,
        "donation": donation,
        "pending_donation": pending,
        "manage_token": donation_service.manage_token(donor),
        "program": program,
        "volunteer": volunteer,
        "shift": batched_shift,
        "batch": batch,
        "export": export,
        "message": message,
        "role_group": Group.objects.get(name=ROLE_GROUP_NAMES[Role.PROGRAM_OFFICER]),
        **_wagtail_objects(site, a),
        "today": datetime.date(2026, 9, 15),
    }
