"""Organizations' requests to delete their data, and carrying them out.

Asking
------
An owner of the organization asks (``request_deletion``). One ``DataDeletionRequest`` is made
per foundation the organization has records with (any application past the draft stage, a
payout account, volunteers or stipend months); each foundation's admins approve or reject their
own. An organization with records at no foundation (drafts only: drafts are the organization's
alone) has its request carried out at once. While a request is pending, no new one can be made;
pending requests block nothing else (applications, payments and reports go on).

What a foundation deletes on approval (``carry_out``)
------------------------------------------------------
* Applications without an award (drafts included) are deleted with their attachments (files
  removed from storage after commit), versions, review assignments, reviews and requests for
  more information.
* Applications with an award are kept, because the money records point at them, but stripped:
  title, answers, sensitive answers (and the same on every version), attachments, the reason of
  the decision, reviewers' comments, and the messages of requests for more information.
* Money records are kept and anonymised, as the law requires for the foundation's books (the
  grant, its amount and dates, who released each payment): awards (their conditions, closing
  note and the signer's typed name are erased; amounts, dates, agreement and amendments stay),
  installments, disbursements, the ledger (append-only; its memos keep the organization's name
  as it was when they were posted), stipend months, lines and payments, returned money (its
  note is erased). Spending reports keep their dates, amounts per category and program metrics;
  the narrative, variance explanations, the officer's message, expenditure descriptions and
  receipt files (of every submitted version too) are erased.
* Volunteers of the foundation's stipend programs get a neutral pseudonym ("volunteer-<id>").
* Activity entries stay (who changed what, when), but their notes about these records are
  erased: notes hold comments and reasons that quote the application. This is the one change
  ever made to the append-only log, made only here, because the law's right to erasure wins.

When every foundation holding its records has carried out its latest request (a rejection keeps
the profile, since that foundation keeps its records), the organization itself is anonymised
(``finish_organization``): name "Deleted organization #<id>", mission, region and languages
blank, not named on public reports, its remaining drafts deleted, members removed, invitations
deleted. Its tax ids (and fiscal sponsor) are kept when it received an award — the foundation
reports grants to the tax authority by the grantee's tax id — and erased otherwise.

The owner who asked is emailed, in their language, when a foundation approves (and the
deletion is done) or rejects (with the reason, which they also see on the organization page).
"""

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from grants.models import (
    PENDING_DELETION_STATES,
    ActivityEntry,
    Application,
    ApplicationAttachment,
    ApplicationStatus,
    ApplicationVersion,
    Award,
    Bond,
    DataDeletionRequest,
    DeletionStatus,
    Expenditure,
    Foundation,
    GrantReturn,
    InformationRequest,
    Installment,
    Organization,
    OrganizationInvite,
    OrganizationMembership,
    PayeeAccount,
    Review,
    ReviewAssignment,
    SpendingReport,
    SpendingReportVersion,
    StipendBatch,
    VendorPayment,
    Volunteer,
)
from grants.permissions import Capability, can
from grants.services.errors import DomainError
from grants.services.notifications import send_templated_email
from grants.services.organizations import is_owner
from grants.services.retention import delete_files_after_commit
from grants.services.workflow import record

ORGANIZATION_SUBJECT = "organization"
DELETED_NAME = "Deleted organization #%(id)s"


class DeletionError(DomainError):
    """A deletion request was refused: not an owner, already asked, not pending, no reason..."""


class DeletionAlreadyRequested(DeletionError):
    """The organization already has a pending deletion request."""


# --- Reads ---------------------------------------------------------------------------------


def foundation_ids_with_records(organization: Organization) -> set[int]:
    """Foundations holding records of ``organization`` (drafts do not count: they are its own)."""
    ids = set(
        Application.objects.filter(organization=organization)
        .exclude(status=ApplicationStatus.DRAFT)
        .values_list("call__fund__foundation_id", flat=True)
    )
    ids |= set(PayeeAccount.objects.filter(organization=organization).values_list("foundation_id", flat=True))
    ids |= set(
        Volunteer.objects.filter(organization=organization).values_list(
            "program__fund__foundation_id", flat=True
        )
    )
    ids |= set(
        StipendBatch.objects.filter(organization=organization).values_list(
            "program__fund__foundation_id", flat=True
        )
    )
    ids |= set(Bond.objects.filter(partner=organization).values_list("foundation_id", flat=True))
    ids |= set(
        VendorPayment.objects.filter(organization=organization).values_list("foundation_id", flat=True)
    )
    return ids


def foundations_with_records(organization: Organization):
    return Foundation.objects.filter(pk__in=foundation_ids_with_records(organization)).order_by("name")


def pending_requests(organization: Organization):
    return DataDeletionRequest.objects.filter(organization=organization, status__in=PENDING_DELETION_STATES)


def requests_of(organization: Organization):
    """Every request of the organization, newest first, with its foundation."""
    return DataDeletionRequest.objects.filter(organization=organization).select_related("foundation")


def every_foundation_done(organization: Organization) -> bool:
    """Whether every foundation holding records of ``organization`` carried out its latest request
    (a rejection, or a request still pending, keeps the organization's profile as it is)."""
    for foundation_id in foundation_ids_with_records(organization):
        latest = (
            DataDeletionRequest.objects.filter(organization=organization, foundation_id=foundation_id)
            .order_by("-requested_at", "-pk")
            .first()
        )
        if latest is None or latest.status != DeletionStatus.DONE:
            return False
    return True


def can_decide(user, deletion: DataDeletionRequest) -> bool:
    return can(user, Capability.DECIDE_DELETIONS, deletion.foundation_id)


# --- Asking --------------------------------------------------------------------------------


def request_deletion(organization: Organization, *, by) -> list[DataDeletionRequest]:
    """An owner asks to delete the organization's data; returns the requests made.

    Raises ``DeletionError`` for someone who is not an owner and ``DeletionAlreadyRequested``
    while a request is pending. With no foundation holding records, the deletion is done at once.
    """
    if not is_owner(by, organization):
        raise DeletionError(_("Only an owner of the organization can ask to delete its data."))
    with transaction.atomic():
        organization = Organization.objects.select_for_update().get(pk=organization.pk)
        if pending_requests(organization).exists():
            raise DeletionAlreadyRequested(
                _("You already asked to delete your data; the foundations have not all answered yet.")
            )
        foundations = list(foundations_with_records(organization))
        if not foundations:
            deletion = DataDeletionRequest.objects.create(
                organization=organization, foundation=None, requested_by=by, status=DeletionStatus.REQUESTED
            )
            record(subject=organization, subject_type=ORGANIZATION_SUBJECT, action="deletion_requested",
                   actor=by, foundation=None, to_state=DeletionStatus.REQUESTED)  # fmt: skip
            counts = finish_organization(organization)
            deletion.status, deletion.done_at, deletion.counts = DeletionStatus.DONE, timezone.now(), counts
            deletion.save(update_fields=["status", "done_at", "counts"])
            return [deletion]
        made = []
        for foundation in foundations:
            made.append(
                DataDeletionRequest.objects.create(
                    organization=organization, foundation=foundation, requested_by=by
                )
            )
            record(subject=organization, subject_type=ORGANIZATION_SUBJECT, action="deletion_requested",
                   actor=by, foundation=foundation, to_state=DeletionStatus.REQUESTED)  # fmt: skip
        return made


# --- Deciding ------------------------------------------------------------------------------


def _locked_pending(deletion: DataDeletionRequest, by) -> DataDeletionRequest:
    if not can_decide(by, deletion):
        raise DeletionError(_("Only the foundation's admins can decide on this request."))
    # Lock the request row alone (its foundation and requester may be empty: no outer join).
    locked = DataDeletionRequest.objects.select_for_update().get(pk=deletion.pk)
    if locked.status != DeletionStatus.REQUESTED:
        raise DeletionError(
            _("This request is already “%(status)s”.") % {"status": DeletionStatus(locked.status).label}
        )
    return locked


def _email_requester(deletion: DataDeletionRequest, template: str) -> None:
    user = deletion.requested_by
    if user is None or not user.email:
        return
    send_templated_email(
        template,
        to=[user.email],
        language=getattr(user, "preferred_language", "") or "en",
        context={"user": user, "deletion": deletion, "foundation": deletion.foundation},
    )


def approve_request(deletion: DataDeletionRequest, *, by) -> DataDeletionRequest:
    """A foundation admin approves: the foundation's part is carried out at once (see module doc)."""
    with transaction.atomic():
        locked = _locked_pending(deletion, by)
        locked.status, locked.decided_by, locked.decided_at = DeletionStatus.APPROVED, by, timezone.now()
        locked.save(update_fields=["status", "decided_by", "decided_at"])
        record(subject=locked.organization, subject_type=ORGANIZATION_SUBJECT, action="deletion_approved",
               actor=by, foundation=locked.foundation, from_state=DeletionStatus.REQUESTED,
               to_state=DeletionStatus.APPROVED)  # fmt: skip
        counts = carry_out(locked.organization, locked.foundation)
        locked.status, locked.done_at = DeletionStatus.DONE, timezone.now()
        locked.save(update_fields=["status", "done_at"])
        if every_foundation_done(locked.organization):
            counts.update(finish_organization(locked.organization))
        locked.counts = counts
        locked.save(update_fields=["counts"])
        record(subject=locked.organization, subject_type=ORGANIZATION_SUBJECT, action="deletion_done",
               actor=by, foundation=locked.foundation, from_state=DeletionStatus.APPROVED,
               to_state=DeletionStatus.DONE, note=_counts_note(counts))  # fmt: skip
        _email_requester(locked, "data_deletion_done")
    return locked


def reject_request(deletion: DataDeletionRequest, *, by, reason: str) -> DataDeletionRequest:
    """A foundation admin rejects, with a reason the organization reads; nothing is deleted."""
    reason = (reason or "").strip()
    if not reason:
        raise DeletionError(_("Say why: the organization reads the reason."))
    with transaction.atomic():
        locked = _locked_pending(deletion, by)
        locked.status, locked.decided_by, locked.decided_at = DeletionStatus.REJECTED, by, timezone.now()
        locked.rejection_reason = reason
        locked.save(update_fields=["status", "decided_by", "decided_at", "rejection_reason"])
        record(subject=locked.organization, subject_type=ORGANIZATION_SUBJECT, action="deletion_rejected",
               actor=by, foundation=locked.foundation, from_state=DeletionStatus.REQUESTED,
               to_state=DeletionStatus.REJECTED)  # fmt: skip
        _email_requester(locked, "data_deletion_rejected")
    return locked


def _counts_note(counts: dict) -> str:
    return ", ".join(f"{key}: {value}" for key, value in counts.items() if value)


# --- Carrying out --------------------------------------------------------------------------


def _erase_activity_notes(subject_type: str, ids) -> None:
    ids = list(ids)
    if ids:
        # The one sanctioned change to the append-only log (see the module docstring).
        ActivityEntry.objects.filter(subject_type=subject_type, subject_id__in=ids).exclude(note="").update(
            note=""
        )


def _delete_applications(applications) -> tuple[int, int]:
    """Delete applications with everything hanging from them; returns (applications, files)."""
    ids = list(applications.values_list("pk", flat=True))
    if not ids:
        return 0, 0
    files = list(ApplicationAttachment.objects.filter(application_id__in=ids).values_list("file", flat=True))
    delete_files_after_commit(files)
    _erase_activity_notes("application", ids)
    Application.objects.filter(pk__in=ids).delete()
    return len(ids), len(files)


def _strip_applications(applications) -> tuple[int, int]:
    """Keep awarded applications but erase what they said; returns (applications, files)."""
    ids = list(applications.values_list("pk", flat=True))
    if not ids:
        return 0, 0
    attachments = ApplicationAttachment.objects.filter(application_id__in=ids)
    files = list(attachments.values_list("file", flat=True))
    delete_files_after_commit(files)
    attachments.delete()
    # Row by row, through save(): the answers' fields may encrypt what they store.
    for application in Application.objects.filter(pk__in=ids):
        application.title, application.answers, application.sensitive_answers = "", {}, {}
        application.decision_reason = ""
        application.save(update_fields=["title", "answers", "sensitive_answers", "decision_reason"])
    for version in ApplicationVersion.objects.filter(application_id__in=ids):
        version.title, version.answers, version.sensitive_answers = "", {}, {}
        version.save(update_fields=["title", "answers", "sensitive_answers"])
    for review in Review.objects.filter(application_id__in=ids):
        review.comment = ""
        review.scores = {
            key: ({**entry, "comment": ""} if isinstance(entry, dict) else entry)
            for key, entry in (review.scores or {}).items()
        }
        review.save(update_fields=["comment", "scores"])
    ReviewAssignment.objects.filter(application_id__in=ids).update(conflict_note="")
    InformationRequest.objects.filter(application_id__in=ids).update(message="")
    _erase_activity_notes("application", ids)
    return len(ids), len(files)


def _strip_money_records(awards) -> int:
    """Erase the words around the money of ``awards``; returns how many receipt files were deleted."""
    award_ids = list(awards.values_list("pk", flat=True))
    if not award_ids:
        return 0
    # The signed paper a group gave staff (its answer to the offer) goes with the rest.
    papers = set(Award.objects.filter(pk__in=award_ids).exclude(answer_document="").values_list(
        "answer_document", flat=True))  # fmt: skip
    Award.objects.filter(pk__in=award_ids).update(
        conditions="", closing_note="", accepted_name="", answered_by_name="",
        answer_document="", answer_document_name="", answer_document_type="",
    )  # fmt: skip
    GrantReturn.objects.filter(award_id__in=award_ids).update(note="")
    reports = SpendingReport.objects.filter(award_id__in=award_ids)
    report_ids = list(reports.values_list("pk", flat=True))
    expenditures = Expenditure.objects.filter(report_id__in=report_ids)
    files = set(expenditures.exclude(receipt="").values_list("receipt", flat=True))
    expenditures.update(description="", receipt="", receipt_name="", receipt_content_type="")
    reports.update(narrative="", variance_explanations={}, officer_message="")
    for version in SpendingReportVersion.objects.filter(report_id__in=report_ids):
        snapshot = dict(version.snapshot or {})
        snapshot.update(narrative="", variance_explanations={})
        rows = []
        for row in snapshot.get("expenditures") or []:
            files.add(row.get("receipt") or "")
            rows.append({**row, "description": "", "receipt": "", "receipt_name": ""})
        snapshot["expenditures"] = rows
        version.snapshot = snapshot
        version.save(update_fields=["snapshot"])
    files |= papers
    files.discard("")
    delete_files_after_commit(sorted(files))
    _erase_activity_notes("award", award_ids)
    _erase_activity_notes("spending_report", report_ids)
    _erase_activity_notes(
        "grant_return", GrantReturn.objects.filter(award_id__in=award_ids).values_list("pk", flat=True)
    )
    _erase_activity_notes(
        "installment", Installment.objects.filter(award_id__in=award_ids).values_list("pk", flat=True)
    )
    return len(files)


def _rename_volunteers(volunteers) -> int:
    count = 0
    for volunteer in volunteers:
        volunteer.pseudonym = f"volunteer-{volunteer.pk}"
        volunteer.save(update_fields=["pseudonym"])
        count += 1
    _erase_activity_notes("volunteer", [volunteer.pk for volunteer in volunteers])
    return count


def carry_out(organization: Organization, foundation: Foundation) -> dict:
    """Delete or anonymise what ``foundation`` holds about ``organization`` (see module doc).

    Call inside a transaction; returns counts per kind (never content).
    """
    applications = Application.objects.filter(organization=organization, call__fund__foundation=foundation)
    deleted, deleted_files = _delete_applications(applications.filter(award__isnull=True))
    stripped, stripped_files = _strip_applications(applications.filter(award__isnull=False))
    receipts = _strip_money_records(Award.objects.filter(application__in=applications))
    volunteers = list(
        Volunteer.objects.filter(organization=organization, program__fund__foundation=foundation)
    )
    renamed = _rename_volunteers(volunteers)
    bonds_anonymised = _strip_bonds(Bond.objects.filter(partner=organization, foundation=foundation))
    PayeeAccount.objects.filter(organization=organization, foundation=foundation).exclude(
        volunteer_pseudonym=""
    ).update(volunteer_pseudonym="volunteer")
    return {
        "applications_deleted": deleted,
        "applications_anonymised": stripped,
        "files_deleted": deleted_files + stripped_files + receipts,
        "volunteers_renamed": renamed,
        "bonds_anonymised": bonds_anonymised,
    }


def _strip_bonds(bonds) -> int:
    """A partner's bonds are money records (kept); what the partner wrote about each case goes:
    the label becomes the bond's number, the facility and notes are erased."""
    count = 0
    for bond in bonds:
        bond.label, bond.facility, bond.notes = bond.reference_code, "", ""
        bond.save(update_fields=["label", "facility", "notes"])
        count += 1
    return count


def finish_organization(organization: Organization) -> dict:
    """Anonymise the organization itself once no foundation's request is pending (see module doc)."""
    drafts = Application.objects.filter(organization=organization, status=ApplicationStatus.DRAFT)
    drafts_deleted, files = _delete_applications(drafts)
    members = OrganizationMembership.objects.filter(organization=organization)
    member_count = members.count()
    members.delete()
    OrganizationInvite.objects.filter(organization=organization).delete()
    awarded = Award.objects.filter(application__organization=organization).exists()
    organization.name = DELETED_NAME % {"id": organization.pk}
    organization.mission = organization.region_served = organization.languages = ""
    organization.publish_name = False
    organization.created_by = None
    fields = ["name", "mission", "region_served", "languages", "publish_name", "created_by"]
    if not awarded:
        organization.tax_id = organization.sponsor_name = organization.sponsor_tax_id = ""
        fields += ["tax_id", "sponsor_name", "sponsor_tax_id"]
    organization.save(update_fields=fields)
    record(subject=organization, subject_type=ORGANIZATION_SUBJECT, action="organization_anonymised",
           actor=None, foundation=None)  # fmt: skip
    return {
        "drafts_deleted": drafts_deleted,
        "members_removed": member_count,
        "files_deleted_with_drafts": files,
    }
