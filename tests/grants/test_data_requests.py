"""Organizations download their data and ask foundations to delete it; foundation admins decide."""

import io
import json
import zipfile

import pytest
from django.core import mail
from django.core.files.base import ContentFile
from django.utils import timezone

from grants.models import (
    AccessLogEntry,
    ActivityEntry,
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    Award,
    DataDeletionRequest,
    DeletionStatus,
    Expenditure,
    Installment,
    JournalEntry,
    JournalLine,
    OrganizationInvite,
    OrganizationMembership,
    Role,
)
from grants.models.applications import private_storage
from grants.services import data_deletion, ledger, reports
from tests.factories import (
    ApplicationFactory,
    FoundationFactory,
    FundFactory,
    FundingCallFactory,
    OrganizationFactory,
    UserFactory,
)
from tests.grants.money_fixtures import staff
from tests.grants.report_helpers import reporting_award, spend

SECRET = "Our client's asylum hearing is on 3 March"
NARRATIVE = "We represented the Hernández family at their hearing."


def attach(application, data=b"%PDF-1.4 letter"):
    attachment = ApplicationAttachment(
        application=application,
        question_id="demo-b3",
        original_name="letter of support.pdf",
        content_type="application/pdf",
        size=len(data),
    )
    attachment.file.save("letter.pdf", ContentFile(data), save=False)
    attachment.save()
    return attachment


@pytest.fixture
def org(world):
    """The world's organization with: an accepted, paid award (answers, a sensitive answer, a
    spending report with a receipt), a declined application with a file, and a draft elsewhere."""
    award = reporting_award(world)
    awarded = award.application
    awarded.sensitive_answers = {"demo-b2": SECRET}
    awarded.save(update_fields=["sensitive_answers"])
    attach(awarded, b"%PDF-1.4 awarded")
    report = reports.report_for(award.report_due_dates.order_by("due_date").first(), by=world["grantee"])
    report.narrative = NARRATIVE
    report.save(update_fields=["narrative"])
    spend(report, world, 300)
    declined = ApplicationFactory(
        call=FundingCallFactory(fund=world["fund"]),
        organization=world["organization"],
        status=ApplicationStatus.DECLINED,
        decided_at=timezone.now(),
        answers={"demo-b1": "Know-your-rights workshops"},
        sensitive_answers={"demo-b2": SECRET},
    )
    declined_file = attach(declined)
    elsewhere = FundingCallFactory(fund=FundFactory(foundation=FoundationFactory(slug="elsewhere")))
    draft = ApplicationFactory(
        call=elsewhere, organization=world["organization"], status=ApplicationStatus.DRAFT, reference=None
    )
    member = UserFactory(email="member@example.org")
    OrganizationMembership.objects.create(organization=world["organization"], user=member, role="member")
    OrganizationInvite.objects.create(organization=world["organization"], email="invitee@example.org")
    other = OrganizationFactory(name="Otra Organización")
    outsider = UserFactory(email="outsider@example.org")
    OrganizationMembership.objects.create(organization=other, user=outsider, role="owner")
    ApplicationFactory(
        call=FundingCallFactory(fund=world["fund"]), organization=other, title="Other group's project"
    )
    return {
        **world,
        "award": award,
        "awarded": awarded,
        "report": report,
        "declined": declined,
        "declined_file": declined_file.file.name,
        "draft": draft,
        "member": member,
        "other": other,
        "outsider": outsider,
        "admin": staff(world["foundation"], Role.FOUNDATION_ADMIN, email="admin@example.org"),
    }


def not_found(response) -> bool:
    """A 404 (outside the language prefix Django's LocaleMiddleware turns it into a redirect to /en/…)."""
    return response.status_code == 404 or (
        response.status_code == 302 and response["Location"].startswith("/en/admin/")
    )


def refused(response) -> bool:
    """Refused: 403, a 404, or Wagtail's answer to a permission error (back to the dashboard)."""
    return (
        response.status_code == 403
        or not_found(response)
        or (response.status_code == 302 and response["Location"] == "/admin/")
    )


def data_url(org):
    return f"/en/organizations/{org['organization'].pk}/data/"


def delete_url(org):
    return f"/en/organizations/{org['organization'].pk}/delete/"


# --- Download --------------------------------------------------------------------------------


def test_a_member_downloads_the_organizations_data_and_files(org, client):
    client.force_login(org["member"])
    response = client.get(data_url(org))

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Cache-Control"] == "private, no-store"
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))
    assert data["organization"]["name"] == "Comité de Defensa"
    assert {m["email"] for m in data["members"]} == {"grantee@example.org", "member@example.org"}
    assert [i["email"] for i in data["invitations"]] == ["invitee@example.org"]
    references = {a["reference"] for a in data["applications"]}
    assert references == {org["awarded"].reference, org["declined"].reference, None}
    awarded = next(a for a in data["applications"] if a["reference"] == org["awarded"].reference)
    assert awarded["sensitive_answers"] == {"demo-b2": SECRET}  # the organization's own answers
    assert data["awards"][0]["amount"] == {"amount": "5000.00", "currency": "USD"}
    assert data["awards"][0]["installments"][0]["status"] == "paid"
    assert data["awards"][0]["spending_reports"][0]["narrative"] == NARRATIVE
    assert data["disbursements"] == []  # paid by check, not through Stripe
    # Files: the attachments and the receipt, with their bytes.
    names = archive.namelist()
    attachment_paths = [a["file"] for a in data["applications"] for a in a["attachments"]]
    assert len(attachment_paths) == 2 and all(path in names for path in attachment_paths)
    assert b"%PDF-1.4 awarded" in {archive.read(path) for path in attachment_paths}
    receipt = data["awards"][0]["spending_reports"][0]["expenditures"][0]["receipt"]
    assert receipt.startswith("files/receipts/") and receipt in names
    # Only this organization: nothing of the other group, no staff emails.
    text = archive.read("data.json").decode()
    assert "Other group's project" not in text and "Otra Organización" not in text
    assert "officer@example.org" not in text and "finance@example.org" not in text


def test_the_download_is_in_the_access_log_and_the_activity_log(org, client):
    client.force_login(org["member"])
    client.get(data_url(org))

    entry = AccessLogEntry.objects.get(kind="data_export")
    assert entry.foundation == org["foundation"] and entry.user == org["member"]
    assert entry.object_id == org["organization"].pk and "Comité" not in entry.label
    # The foundation holding only a draft is not told (drafts are the organization's alone).
    assert not AccessLogEntry.objects.exclude(foundation=org["foundation"]).exists()
    assert ActivityEntry.objects.filter(
        subject_type="organization", subject_id=org["organization"].pk, action="data_downloaded"
    ).exists()


def test_others_cannot_download(org, client):
    assert client.get(data_url(org)).status_code == 302  # anonymous: to the sign-in page
    assert "/login/" in client.get(data_url(org))["Location"]
    client.force_login(org["outsider"])
    assert client.get(data_url(org)).status_code == 404
    client.force_login(org["admin"])  # staff are not members
    assert client.get(data_url(org)).status_code == 404
    assert not AccessLogEntry.objects.filter(kind="data_export").exists()


# --- Asking ------------------------------------------------------------------------------------


def test_only_an_owner_can_ask_and_the_page_explains_what_is_kept(org, client):
    client.force_login(org["member"])
    assert client.get(delete_url(org)).status_code == 403
    assert client.post(delete_url(org), {"confirm": "yes"}).status_code == 403
    client.force_login(org["outsider"])
    assert client.get(delete_url(org)).status_code == 404
    client.force_login(org["grantee"])
    with_translation = client.get(delete_url(org))
    page = with_translation.content.decode()
    assert with_translation.status_code == 200
    assert "What the law requires the foundations to keep" in page
    assert org["foundation"].name in page  # who decides
    assert not DataDeletionRequest.objects.exists()


def test_asking_makes_one_request_per_foundation_and_refuses_a_second(org, client):
    client.force_login(org["grantee"])
    refused = client.post(delete_url(org), {})
    assert refused.status_code == 400 and "Tick the box" in refused.content.decode()
    assert not DataDeletionRequest.objects.exists()

    response = client.post(delete_url(org), {"confirm": "yes"})
    assert response.status_code == 302
    requests = list(DataDeletionRequest.objects.all())
    assert [(r.foundation, r.status) for r in requests] == [(org["foundation"], DeletionStatus.REQUESTED)]
    client.post(delete_url(org), {"confirm": "yes"}, follow=True)
    assert DataDeletionRequest.objects.count() == 1  # nobody can ask twice while one is pending
    detail = client.get(f"/en/organizations/{org['organization'].pk}/").content.decode()
    assert "Waiting for the foundation" in detail
    with pytest.raises(data_deletion.DeletionAlreadyRequested):
        data_deletion.request_deletion(org["organization"], by=org["grantee"])
    # Nothing is deleted while the request waits.
    assert Application.objects.filter(pk=org["declined"].pk).exists()


def test_drafts_only_are_deleted_at_once(db, client):
    owner = UserFactory()
    organization = OrganizationFactory(name="Solo Drafts")
    OrganizationMembership.objects.create(organization=organization, user=owner, role="owner")
    draft = ApplicationFactory(organization=organization, status=ApplicationStatus.DRAFT, reference=None)
    attach(draft)
    client.force_login(owner)

    response = client.post(f"/en/organizations/{organization.pk}/delete/", {"confirm": "yes"})

    assert response.status_code == 302
    deletion = DataDeletionRequest.objects.get()
    assert deletion.foundation is None and deletion.status == DeletionStatus.DONE
    assert not Application.objects.filter(pk=draft.pk).exists()
    organization.refresh_from_db()
    assert organization.name == f"Deleted organization #{organization.pk}"
    assert not organization.memberships.exists()


# --- Deciding ----------------------------------------------------------------------------------


def asked(org):
    return data_deletion.request_deletion(org["organization"], by=org["grantee"])[0]


def fund_totals(fund):
    balances = ledger.balances(fund)
    return (balances.received, balances.committed, balances.paid, balances.cash, balances.available)


def test_approval_deletes_and_keeps_money_records_anonymised(org, client, django_capture_on_commit_callbacks):
    deletion = asked(org)
    before = fund_totals(org["fund"])
    journal_count = JournalEntry.objects.count()
    receipt_name = Expenditure.objects.get(report=org["report"]).receipt.name
    client.force_login(org["admin"])

    refused = client.post(f"/admin/privacy/requests/{deletion.pk}/approve/", {})
    assert DataDeletionRequest.objects.get(pk=deletion.pk).status == DeletionStatus.REQUESTED
    assert refused.status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/admin/privacy/requests/{deletion.pk}/approve/", {"confirm": "yes"})

    assert response.status_code == 302
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.DONE and deletion.decided_by == org["admin"]
    assert deletion.counts["applications_deleted"] == 1 and deletion.counts["applications_anonymised"] == 1
    # The declined application is gone with its file.
    assert not Application.objects.filter(pk=org["declined"].pk).exists()
    assert not private_storage().exists(org["declined_file"])
    # The awarded one is kept, stripped; the money records are kept.
    awarded = Application.objects.get(pk=org["awarded"].pk)
    assert awarded.reference == org["awarded"].reference
    assert awarded.answers == {} and awarded.sensitive_answers == {} and awarded.title == ""
    assert not awarded.attachments.exists()
    award = Award.objects.get(pk=org["award"].pk)
    assert award.amount == org["award"].amount and award.accepted_name == ""
    assert Installment.objects.filter(award=award, status="paid").count() == 1
    expenditure = Expenditure.objects.get(report=org["report"])
    assert expenditure.amount.amount == 300 and expenditure.description == "" and not expenditure.receipt
    assert not private_storage().exists(receipt_name)
    org["report"].refresh_from_db()
    assert org["report"].narrative == ""
    for version in org["report"].versions.all():
        assert NARRATIVE not in json.dumps(version.snapshot)
    # The ledger is untouched and still balanced.
    assert JournalEntry.objects.count() == journal_count
    assert fund_totals(org["fund"]) == before
    for entry in JournalEntry.objects.all():
        assert sum(line.amount.amount for line in JournalLine.objects.filter(entry=entry)) == 0
    # This was the only foundation: the organization itself is anonymised.
    organization = org["organization"]
    organization.refresh_from_db()
    assert organization.name == f"Deleted organization #{organization.pk}"
    assert organization.mission == "" and organization.region_served == ""
    assert not OrganizationMembership.objects.filter(organization=organization).exists()
    assert not OrganizationInvite.objects.filter(organization=organization).exists()
    assert not Application.objects.filter(pk=org["draft"].pk).exists()  # drafts go with it
    # The owner is told, in their language (Spanish).
    assert [message.to for message in mail.outbox if "eliminó los datos" in message.subject] == [
        ["grantee@example.org"]
    ]


def test_rejection_keeps_everything_and_tells_the_organization_why(
    org, client, django_capture_on_commit_callbacks
):
    deletion = asked(org)
    client.force_login(org["admin"])
    empty = client.post(f"/admin/privacy/requests/{deletion.pk}/reject/", {"reason": " "})
    assert empty.status_code == 400
    assert DataDeletionRequest.objects.get(pk=deletion.pk).status == DeletionStatus.REQUESTED

    with django_capture_on_commit_callbacks(execute=True):
        client.post(
            f"/admin/privacy/requests/{deletion.pk}/reject/", {"reason": "A payment is still being made."}
        )

    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.REJECTED
    assert Application.objects.filter(pk=org["declined"].pk).exists()
    assert mail.outbox[-1].to == ["grantee@example.org"]
    assert "A payment is still being made." in mail.outbox[-1].body
    client.force_login(org["grantee"])
    page = client.get(f"/en/organizations/{org['organization'].pk}/").content.decode()
    assert "A payment is still being made." in page
    # Once answered, the owner may ask again.
    assert asked(org).status == DeletionStatus.REQUESTED


def test_another_foundations_admin_cannot_decide(org, client):
    deletion = asked(org)
    stranger = staff(FoundationFactory(slug="far-away"), Role.FOUNDATION_ADMIN)
    client.force_login(stranger)
    assert not_found(client.get(f"/admin/privacy/requests/{deletion.pk}/"))
    assert not_found(client.post(f"/admin/privacy/requests/{deletion.pk}/approve/", {"confirm": "yes"}))
    with pytest.raises(data_deletion.DeletionError):
        data_deletion.approve_request(deletion, by=stranger)
    # Nor can the foundation's program officer or auditor.
    for role in (Role.PROGRAM_OFFICER, Role.AUDITOR):
        user = org["officer"] if role == Role.PROGRAM_OFFICER else org["auditor"]
        client.force_login(user)
        response = client.post(f"/admin/privacy/requests/{deletion.pk}/approve/", {"confirm": "yes"})
        assert refused(response)
    assert DataDeletionRequest.objects.get(pk=deletion.pk).status == DeletionStatus.REQUESTED
    assert Application.objects.filter(pk=org["declined"].pk).exists()
