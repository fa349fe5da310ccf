"""The isolation test's world: the URL matrix's world (tests/url_matrix/world.py), with every
text of foundation A that another foundation must never read replaced by a canary, and all five
staff roles at foundation B.

A canary is an uppercase token starting ``CANARY-A-`` (``canary-a-`` in slugs and emails), put
at the start of each text so that a listing that shortens it still shows the prefix. Any
``CANARY-A-`` in a response is a leak, known token or not (``canaries_in``).

``public_canaries`` are the canaries the public site shows everyone by design: the titles of A's
live pages, its fund's name and its call's title. Drafts, people, organizations, references,
donors, images, documents and messages are never public.
"""

import io
import re
import zipfile

from django.core.files.base import ContentFile
from django.core.management import call_command
from django.test import TestCase
from wagtail.documents.models import Document
from wagtail.images.models import Image
from wagtail.models import Collection

from cms.models import StandardPage
from cms.sections import ensure_foundation_section
from grants.models import Application, ApplicationStatus, Role
from grants.services import exports as export_service
from grants.services import reviews as review_service
from tests.factories import UserFactory
from tests.grants.money_fixtures import staff
from tests.grants.report_helpers import PDF, D
from tests.grants.test_admin_payments import due_award
from tests.grants.test_admin_reviews import set_status
from tests.url_matrix.world import _png, build_world

CANARY = re.compile(rb"canary-a-[a-z0-9-]*", re.IGNORECASE)
SEARCH = "CANARY"  # what a search asks for: finds every canary, and is not one when echoed back

# The five staff roles of a foundation: B's person, and the URL matrix's column for A's person.
ROLE_OF = {
    "admin": Role.FOUNDATION_ADMIN,
    "officer": Role.PROGRAM_OFFICER,
    "reviewer": Role.REVIEWER,
    "finance": Role.FINANCE_OFFICER,
    "auditor": Role.AUDITOR,
}
A_COLUMN = {
    "admin": "admin_A",
    "officer": "officer_A",
    "reviewer": "reviewer_assigned",
    "finance": "finance_A",
    "auditor": "auditor_A",
}


def canaries_in(body: bytes) -> set[str]:
    """Every canary in a response, also inside a zipped download (spreadsheets)."""
    found = {match.decode().upper() for match in CANARY.findall(body)}
    if body[:2] == b"PK":
        try:
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                for name in archive.namelist():
                    found |= canaries_in(archive.read(name))
        except zipfile.BadZipFile:
            pass
    return found


def _person(user, token: str):
    user.first_name = f"CANARY-A-{token}-FIRST"
    user.last_name = f"CANARY-A-{token}-LAST"
    user.email = f"canary-a-{token.lower()}@example.org"
    user.save(update_fields=["first_name", "last_name", "email"])


def _retitle(page, title: str, *, publish: bool = True):
    page.title = title
    page.draft_title = title
    revision = page.save_revision()
    if publish:
        revision.publish()
    page.refresh_from_db()
    return page


def _sections(world) -> dict:
    """Each foundation's section in both languages, with its fund and call pages beneath."""
    sections = {}
    for key, setup in (("a", world), ("b", world["b"])):
        pages = ensure_foundation_section(setup["foundation"])
        for page in pages.values():
            fund_page = setup["fund_page"].get_translation(page.locale)
            if fund_page.get_parent().pk != page.pk:
                fund_page.move(page, pos="last-child")
        sections[key] = pages
    world["fund_page"].refresh_from_db()
    world["call_page"].refresh_from_db()
    return sections


def _a_pages(world, sections) -> dict:
    """A's page titles as canaries (live), a live standard page with a newer draft, a draft page."""
    section_en, section_es = sections["a"]["en"], sections["a"]["es"]
    _retitle(section_en, "CANARY-A-PAGE-SECTION-EN")
    _retitle(section_es, "CANARY-A-PAGE-SECTION-ES")
    fund_page, call_page = world["fund_page"], world["call_page"]
    _retitle(fund_page, "CANARY-A-PAGE-FUND-EN")
    _retitle(fund_page.get_translation(section_es.locale).specific, "CANARY-A-PAGE-FUND-ES")
    _retitle(call_page, "CANARY-A-PAGE-CALL-EN")
    _retitle(call_page.get_translation(section_es.locale).specific, "CANARY-A-PAGE-CALL-ES")
    standard = section_en.add_child(
        instance=StandardPage(title="CANARY-A-PAGE-STANDARD-EN", slug="our-work", intro="CANARY-A-PAGE-INTRO")
    )
    standard.save_revision().publish()
    standard_es = standard.copy_for_translation(section_es.locale).specific
    _retitle(standard_es, "CANARY-A-PAGE-STANDARD-ES")
    # A newer revision of the live page, not published: the public page must not show it.
    standard.intro = "CANARY-A-DRAFT-REVISION-INTRO"
    _retitle(standard, "CANARY-A-DRAFT-REVISION", publish=False)
    standard = StandardPage.objects.get(pk=standard.pk)  # the live version again
    sibling = section_en.add_child(
        instance=StandardPage(title="CANARY-A-PAGE-SIBLING-EN", slug="resources", intro="")
    )
    sibling.save_revision().publish()
    draft = section_en.add_child(
        instance=StandardPage(
            title="CANARY-A-DRAFT-PAGE", slug="unannounced", intro="CANARY-A-DRAFT-INTRO", live=False
        )
    )
    draft.save_revision()
    return {
        "section": section_en,
        "section_es": section_es,
        "b_section": sections["b"]["en"],
        "standard_page": standard,
        "sibling_page": sibling,
        "draft_page": draft,
    }


def _a_media(world) -> dict:
    """A's own collection (``grants.services.staff``), with an image and a document uploaded by
    A's program officer."""
    collection = world["foundation"].collection
    assert collection is not None
    officer = world["users"]["officer_A"]
    image, document = world["image"], world["document"]
    image.title, image.collection, image.uploaded_by_user = "CANARY-A-IMAGE", collection, officer
    image.save()
    document.title, document.collection, document.uploaded_by_user = "CANARY-A-DOCUMENT", collection, officer
    document.save()
    # One of each left in the root collection too, where every editor's chooser may look.
    Image.objects.create(
        title="CANARY-A-IMAGE-ROOT", file=ContentFile(_png(), name="flyer.png"), width=2, height=2,
        uploaded_by_user=officer,
    )  # fmt: skip
    Document.objects.create(
        title="CANARY-A-DOCUMENT-ROOT", file=ContentFile(PDF, name="rights.pdf"), uploaded_by_user=officer
    )
    return {"collection": collection, "root_collection": Collection.get_first_root_node()}


def _b_staff(world) -> dict:
    """B's admin and reviewer (the URL matrix has its officer, finance officer and auditor); B's
    reviewer is assigned to org2's application at B."""
    b, users = world["b"], world["users"]
    admin = staff(b["foundation"], Role.FOUNDATION_ADMIN, email="admin-b@example.org")
    reviewer = staff(b["foundation"], Role.REVIEWER, email="reviewer-b@example.org")
    set_status(world["other_application"], ApplicationStatus.IN_REVIEW)
    review_service.assign_reviewers([world["other_application"]], [reviewer], by=users["officer_B"])
    return {
        "admin": admin,
        "officer": users["officer_B"],
        "reviewer": reviewer,
        "finance": users["finance_B"],
        "auditor": users["auditor_B"],
    }


def build_canary_world(site) -> dict:
    world = build_world(site)
    foundation, users = world["foundation"], world["users"]
    sections = _sections(world)

    # Funds, calls, pages.
    world["fund"].name = "CANARY-A-FUND-NAME"
    world["fund"].save(update_fields=["name"])
    world["call"].title = "CANARY-A-CALL-TITLE"
    world["call"].save(update_fields=["title"])
    world.update(_a_pages(world, sections))

    # People: A's staff, the applicant and the other members of A's applicant organizations.
    for role, token in (("officer_A", "OFFICER"), ("finance_A", "FINANCE"), ("auditor_A", "AUDITOR"),
                        ("admin_A", "ADMIN"), ("reviewer_assigned", "REVIEWER"),
                        ("reviewer_unassigned", "REVIEWER-FREE"), ("applicant", "APPLICANT")):  # fmt: skip
        _person(users[role], token)
    _person(world["membership"].user, "MEMBER")
    world["invite"].email = "canary-a-invitee@example.org"
    world["invite"].save(update_fields=["email"])

    # Organizations and references.
    world["org1"].name = "CANARY-A-ORG-APPLICANT"
    world["org1"].save(update_fields=["name"])
    leaving = world["deletion"].organization
    leaving.name = "CANARY-A-ORG-LEAVING"
    leaving.save(update_fields=["name"])
    for application in Application.objects.filter(call__fund__foundation=foundation, reference__isnull=False):
        Application.objects.filter(pk=application.pk).update(reference=f"CANARY-A-REF-{application.pk}")
    for key in ("application", "draft", "waiting"):
        world[key].refresh_from_db()

    # The award's signed paper: its name, who gave it, and the file itself.
    award = world["award"]
    award.answer_document_name, award.answered_by_name = "CANARY-A-SIGNED-PAPER.pdf", "CANARY-A-ANSWERED-BY"
    award.answer_document.save(
        "paper.pdf", ContentFile(PDF + b"\n% CANARY-A-SIGNED-PAPER-BODY\n"), save=False
    )
    award.save(update_fields=["answer_document", "answer_document_name", "answered_by_name"])

    # Money and gifts.
    donor = world["donor"]
    donor.name, donor.email = "CANARY-A-DONOR-NAME", "canary-a-donor@example.org"
    donor.save(update_fields=["name", "email"])
    pending = world["pending_donation"]
    pending.donor.name, pending.donor.email = "CANARY-A-DONOR-PENDING", "canary-a-donor-pending@example.org"
    pending.donor.save(update_fields=["name", "email"])
    world["volunteer"].pseudonym = "CANARY-A-VOLUNTEER"
    world["volunteer"].save(update_fields=["pseudonym"])
    # Bonds: the bond fund, each bond's label, facility and notes, the posted bond's reference.
    world["bond_fund"].name = "CANARY-A-BOND-FUND"
    world["bond_fund"].save(update_fields=["name"])
    for key in ("bond", "bond_approved", "bond_posted"):
        bond = world[key]
        token = key.upper().replace("_", "-")
        bond.label, bond.facility, bond.notes = f"CANARY-A-{token}-LABEL", f"CANARY-A-{token}-FACILITY", (
            f"CANARY-A-{token}-NOTES")  # fmt: skip
        bond.save(update_fields=["label", "facility", "notes"])
    world["bond_posted"].reference = "CANARY-A-BOND-REFERENCE"
    world["bond_posted"].save(update_fields=["reference"])
    # A vendor and what was asked to be paid to it, with its invoice.
    world["vendor"].name = "CANARY-A-VENDOR"
    world["vendor"].save(update_fields=["name"])
    vendor_payment = world["vendor_payment"]
    vendor_payment.purpose, vendor_payment.invoice_name = "CANARY-A-VENDOR-PURPOSE", "CANARY-A-INVOICE.pdf"
    vendor_payment.invoice.save("invoice.pdf", ContentFile(PDF + b"\n% CANARY-A-INVOICE-BODY\n"), save=False)
    vendor_payment.save(update_fields=["purpose", "invoice_name", "invoice"])
    money = {
        "foundation": foundation, "fund": world["fund"], "officer": users["officer_A"],
        "finance": users["finance_A"], "auditor": users["auditor_A"], "grantee": users["applicant"],
        "organization": world["org1"],
    }  # fmt: skip
    world["due_award"] = due_award(money, 700)  # a payment A's finance officer may release
    world["due_installment"] = world["due_award"].installments.get()

    # Paperwork: a decision message, media, and an export made now, so it holds the canaries.
    message = world["message"]
    message.title, message.body, message.translations = (
        "CANARY-A-MESSAGE",
        "CANARY-A-MESSAGE-EN",
        {"es": {"body": "CANARY-A-MESSAGE-ES"}},
    )
    message.save(update_fields=["title", "body", "translations"])
    world.update(_a_media(world))
    with TestCase.captureOnCommitCallbacks(execute=True):
        world["export"] = export_service.request_export(
            foundation=foundation, by=users["auditor_A"], date_from=D(2026, 1, 1), date_to=D(2026, 12, 31)
        )
    world["export"].refresh_from_db()

    # A's live pages on the public site, and where A's draft page would be if it were live.
    live = [world["section"], world["fund_page"], world["call_page"], world["standard_page"]]
    world["public_pages"] = live + [page.get_translation(world["section_es"].locale) for page in live]
    world["draft_path"] = f"{world['section'].url}unannounced/"
    world["b_staff"] = _b_staff(world)
    # Tests switch off the search index's automatic updates; index everything now, so that an
    # admin search or chooser that reaches A's rows finds them.
    call_command("update_index", verbosity=0)
    world["platform_admin"] = UserFactory(email="platform@example.org", is_staff=True, is_superuser=True)
    world["public_canaries"] = {
        "CANARY-A-FUND-NAME", "CANARY-A-BOND-FUND", "CANARY-A-CALL-TITLE", "CANARY-A-PAGE-INTRO",
        *(f"CANARY-A-PAGE-{kind}-{language}" for kind in ("SECTION", "FUND", "CALL", "STANDARD")
          for language in ("EN", "ES")),
        "CANARY-A-PAGE-SIBLING-EN",
    }  # fmt: skip
    return world
