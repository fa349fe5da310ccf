"""An organization downloads everything the portal holds about it ("Download our data").

``build_archive`` writes a ZIP into a temporary file (kept in memory up to 10 MB, then on disk)
with ``data.json`` and the files the organization uploaded under ``files/``. ``data.json`` holds
only this organization's data, as its members may see it:

* the profile, members (email, name, role) and invitations;
* every application (drafts included) with its answers — sensitive answers included, they are
  the organization's own — versions, requests for more information, the decision and its
  reason, and the list of its attachments;
* awards with their terms, amendments, installments and report due dates; disbursements
  (amount, status, dates — never Stripe keys or internal retry details); spending reports
  with expenditures and submitted versions; returned money;
* stipend volunteers (pseudonyms), their shifts, monthly batches, lines and payments;
* the bonds it asked for (label, facility, amount, state and dates; never the bond's reference);
* the activity the applicant is shown (state changes and messages; never staff names nor
  internal comments), and the organization's own activity.

Staff names, reviewers, scores, internal comments and other organizations' data are never in
it. ``record_download`` writes the access log (kind ``data_export``) of every foundation
holding the organization's records, and the activity log.
"""

import json
import os
import tempfile
import zipfile
from dataclasses import dataclass

from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.text import get_valid_filename
from djmoney.money import Money

from grants.models import (
    AccessKind,
    ActivityEntry,
    Application,
    Award,
    Disbursement,
    Foundation,
    GrantReturn,
    Installment,
    Organization,
    PayeeAccount,
    Shift,
    SpendingReport,
    StipendBatch,
    StipendPayment,
    Volunteer,
)
from grants.models.applications import private_storage
from grants.services.access_log import record_access
from grants.services.data_deletion import foundation_ids_with_records
from grants.services.workflow import record

IN_MEMORY_BYTES = 10 * 1024 * 1024


@dataclass
class Archive:
    """A built ZIP: ``file`` is open at its start; ``filename`` is what the browser saves."""

    file: object
    filename: str
    missing_files: int = 0


class _Encoder(DjangoJSONEncoder):
    def default(self, o):
        if isinstance(o, Money):
            return {"amount": str(o.amount), "currency": str(o.currency)}
        return super().default(o)


def _money(value):
    return value if value is None else {"amount": str(value.amount), "currency": str(value.currency)}


def _safe_name(name: str, fallback: str) -> str:
    base = get_valid_filename(os.path.basename(name or "")) if name else ""
    return (base or fallback)[:120]


class _Files:
    """Uploaded files to copy into the archive, each under a unique path in ``files/``."""

    def __init__(self):
        self.entries: dict[str, str] = {}  # storage name -> path in the zip

    def add(self, storage_name: str, folder: str, prefix: str, original: str) -> str:
        if not storage_name:
            return ""
        if storage_name not in self.entries:
            self.entries[storage_name] = f"files/{folder}/{prefix}-{_safe_name(original, 'file')}"
        return self.entries[storage_name]


def _activity(subject_type: str, ids, *, applicant_only: bool = True) -> list[dict]:
    ids = list(ids)
    if not ids:
        return []
    entries = ActivityEntry.objects.filter(subject_type=subject_type, subject_id__in=ids)
    if applicant_only:
        entries = entries.filter(visible_to_applicant=True)
    return [
        {
            "at": entry.created_at,
            "about": entry.subject_type,
            "about_id": entry.subject_id,
            "action": entry.action,
            "from": entry.from_state,
            "to": entry.to_state,
            "note": entry.note,
        }
        for entry in entries.order_by("created_at", "pk")
    ]


def _applications(organization: Organization, files: _Files) -> list[dict]:
    rows = []
    applications = (
        Application.objects.filter(organization=organization)
        .select_related("call__fund__foundation")
        .prefetch_related("versions", "information_requests", "attachments")
        .order_by("created_at", "pk")
    )
    for application in applications:
        rows.append(
            {
                "id": application.pk,
                "reference": application.reference,
                "foundation": application.call.fund.foundation.name,
                "fund": application.call.fund.name,
                "call": application.call.title,
                "status": application.status,
                "language": application.language,
                "title": application.title,
                "requested_amount": _money(application.requested_amount),
                "answers": application.answers,
                "sensitive_answers": application.sensitive_answers,
                "questions_as_submitted": application.question_snapshot,
                "received": application.intake_channel,
                "created_at": application.created_at,
                "submitted_at": application.submitted_at,
                "withdrawn_at": application.withdrawn_at,
                "decided_at": application.decided_at,
                "amount_awarded": _money(application.award_amount),
                "decision_reason": application.decision_reason,
                "files_removed_under_retention_rule_at": application.purged_at,
                "versions": [
                    {
                        "number": version.number,
                        "title": version.title,
                        "requested_amount": _money(version.requested_amount),
                        "answers": version.answers,
                        "sensitive_answers": version.sensitive_answers,
                        "submitted_at": version.created_at,
                    }
                    for version in application.versions.all()
                ],
                "information_requests": [
                    {
                        "message": request.message,
                        "questions": request.question_ids,
                        "asked_at": request.created_at,
                        "answered_at": request.answered_at,
                    }
                    for request in application.information_requests.all()
                ],
                "attachments": [
                    {
                        "question": attachment.question_id,
                        "name": attachment.original_name,
                        "content_type": attachment.content_type,
                        "size": attachment.size,
                        "uploaded_at": attachment.uploaded_at,
                        "file": files.add(
                            attachment.file.name,
                            "applications",
                            f"{application.reference or application.pk}-{attachment.pk}",
                            attachment.original_name,
                        ),
                    }
                    for attachment in application.attachments.all()
                ],
            }
        )
    return rows


def _reports(award: Award, files: _Files) -> list[dict]:
    rows = []
    for report in (
        SpendingReport.objects.filter(award=award)
        .select_related("due")
        .prefetch_related("expenditures", "versions")
    ):
        rows.append(
            {
                "kind": report.due.kind,
                "due_date": report.due.due_date,
                "status": report.status,
                "period_start": report.period_start,
                "period_end": report.period_end,
                "narrative": report.narrative,
                "metrics": report.metrics,
                "variance_explanations": report.variance_explanations,
                "submitted_at": report.submitted_at,
                "message_from_the_foundation": report.officer_message,
                "expenditures": [
                    {
                        "date": expenditure.date,
                        "budget_category": expenditure.category,
                        "description": expenditure.description,
                        "amount": _money(expenditure.amount),
                        "receipt": files.add(
                            expenditure.receipt.name,
                            "receipts",
                            f"{award.reference}-{expenditure.pk}",
                            expenditure.receipt_name,
                        ),
                    }
                    for expenditure in report.expenditures.all()
                ],
                "submitted_versions": [
                    {
                        "number": version.number,
                        "submitted_at": version.submitted_at,
                        "report": {
                            **version.snapshot,
                            "expenditures": [
                                {
                                    **row,
                                    "receipt": files.add(
                                        row.get("receipt") or "",
                                        "receipts",
                                        f"{award.reference}-{row.get('id')}",
                                        row.get("receipt_name") or "",
                                    ),
                                }
                                for row in version.snapshot.get("expenditures") or []
                            ],
                        },
                    }
                    for version in report.versions.all()
                ],
            }
        )
    return rows


def _awards(organization: Organization, files: _Files) -> list[dict]:
    rows = []
    awards = (
        Award.objects.filter(application__organization=organization)
        .select_related("application", "fund__foundation")
        .prefetch_related("amendments", "installments", "report_due_dates")
        .order_by("offered_at", "pk")
    )
    for award in awards:
        rows.append(
            {
                "reference": award.reference,
                "foundation": award.fund.foundation.name,
                "fund": award.fund.name,
                "status": award.status,
                "amount": _money(award.amount),
                "conditions": award.conditions,
                "start_date": award.start_date,
                "end_date": award.end_date,
                "agreement": award.agreement,
                "offered_at": award.offered_at,
                "accepted_at": award.accepted_at,
                "signed_by": award.accepted_name,
                "closed_at": award.closed_at,
                "closing_note": award.closing_note,
                "amendments": [
                    {
                        "from": _money(amendment.previous_amount),
                        "to": _money(amendment.new_amount),
                        "reason": amendment.reason,
                        "at": amendment.created_at,
                    }
                    for amendment in award.amendments.all()
                ],
                "installments": [
                    {
                        "number": installment.number,
                        "due_date": installment.due_date,
                        "amount": _money(installment.amount),
                        "status": installment.status,
                        "hold_reason": installment.hold_reason,
                        "paid_at": installment.paid_at,
                        "payment_reference": installment.payment_reference,
                    }
                    for installment in award.installments.all()
                ],
                "report_due_dates": [
                    {"kind": due.kind, "due_date": due.due_date} for due in award.report_due_dates.all()
                ],
                "spending_reports": _reports(award, files),
                "returned_money": [
                    {
                        "amount": _money(grant_return.amount),
                        "how": grant_return.method,
                        "reference": grant_return.reference,
                        "note": grant_return.note,
                        "status": grant_return.status,
                        "announced_at": grant_return.announced_at,
                        "received_on": grant_return.received_on,
                    }
                    for grant_return in GrantReturn.objects.filter(award=award).order_by("announced_at", "pk")
                ],
            }
        )
    return rows


def _disbursement(disbursement: Disbursement) -> dict:
    return {
        "award": disbursement.award.reference if disbursement.award_id else None,
        "installment": disbursement.installment.number if disbursement.installment_id else None,
        "amount": _money(disbursement.amount),
        "status": disbursement.status,
        "released_at": disbursement.released_at,
        "paid_at": disbursement.paid_at,
        "reversed_at": disbursement.reversed_at,
        "amount_reversed": _money(disbursement.amount_reversed),
    }


def _payouts(organization: Organization) -> dict:
    payees = PayeeAccount.objects.filter(organization=organization).select_related("foundation")
    disbursements = (
        Disbursement.objects.filter(payee__organization=organization)
        .select_related("award__application", "installment")
        .order_by("released_at", "pk")
    )
    return {
        "payout_accounts": [
            {
                "foundation": payee.foundation.name,
                "volunteer": payee.volunteer_pseudonym,
                "status": payee.payout_status,
                "created_at": payee.created_at,
            }
            for payee in payees
        ],
        "disbursements": [_disbursement(disbursement) for disbursement in disbursements],
    }


def _stipends(organization: Organization) -> dict:
    volunteers = Volunteer.objects.filter(organization=organization).select_related("program")
    batches = (
        StipendBatch.objects.filter(organization=organization)
        .select_related("program")
        .prefetch_related("lines__volunteer")
        .order_by("month", "pk")
    )
    return {
        "volunteers": [
            {"pseudonym": v.pseudonym, "program": v.program.name, "active": v.active, "since": v.created_at}
            for v in volunteers
        ],
        "shifts": [
            {"volunteer": shift.volunteer.pseudonym, "date": shift.date, "hours": shift.hours}
            for shift in Shift.objects.filter(volunteer__organization=organization)
            .select_related("volunteer")
            .order_by("date", "pk")
        ],
        "months": [
            {
                "program": batch.program.name,
                "month": batch.month,
                "status": batch.status,
                "total": _money(batch.total),
                "lines": [
                    {
                        "volunteer": line.volunteer.pseudonym,
                        "shifts": line.shifts,
                        "hours": line.hours,
                        "amount": _money(line.amount),
                        "capped": line.capped,
                    }
                    for line in batch.lines.all()
                ],
                "payments": [
                    {"amount": _money(payment.amount), "volunteer": payment.payee.volunteer_pseudonym}
                    for payment in StipendPayment.objects.filter(batch=batch).select_related("payee")
                ],
            }
            for batch in batches
        ],
    }


def _bonds(organization: Organization) -> list[dict]:
    """The bonds the organization asked for, as it sees them (never the government reference)."""
    from grants.models import Bond

    return [
        {
            "reference": bond.reference_code,
            "foundation": bond.foundation.name,
            "fund": bond.fund.name,
            "label": bond.label,
            "facility": bond.facility,
            "urgency": bond.urgency,
            "amount": _money(bond.amount),
            "obligor": bond.obligor,
            "notes": bond.notes,
            "status": bond.status,
            "requested_at": bond.requested_at,
            "decided_at": bond.decided_at,
            "decline_reason": bond.decline_reason,
            "posted_on": bond.posted_on,
            "cancelled_on": bond.cancelled_on,
            "settled_on": bond.settled_on,
        }
        for bond in Bond.objects.filter(partner=organization)
        .select_related("foundation", "fund")
        .order_by("pk")
    ]


def organization_data(organization: Organization, files: _Files) -> dict:
    """Everything ``data.json`` holds (see the module docstring)."""
    application_ids = Application.objects.filter(organization=organization).values_list("pk", flat=True)
    award_ids = Award.objects.filter(application__organization=organization).values_list("pk", flat=True)
    activity = (
        _activity("application", application_ids)
        + _activity("award", award_ids)
        + _activity(
            "installment", Installment.objects.filter(award_id__in=award_ids).values_list("pk", flat=True)
        )
        + _activity(
            "spending_report",
            SpendingReport.objects.filter(award_id__in=award_ids).values_list("pk", flat=True),
        )
        + _activity(
            "grant_return", GrantReturn.objects.filter(award_id__in=award_ids).values_list("pk", flat=True)
        )
        + _activity("organization", [organization.pk], applicant_only=False)
    )
    activity.sort(key=lambda row: row["at"])
    return {
        "exported_at": timezone.now(),
        "organization": {
            "id": organization.pk,
            "name": organization.name,
            "mission": organization.mission,
            "region_served": organization.region_served,
            "languages": organization.languages,
            "legal_status": organization.legal_status,
            "tax_id": organization.tax_id,
            "fiscal_sponsor": organization.sponsor_name,
            "fiscal_sponsor_tax_id": organization.sponsor_tax_id,
            "named_on_public_reports": organization.publish_name,
            "created_at": organization.created_at,
        },
        "members": [
            {
                "email": membership.user.email,
                "name": membership.user.get_full_name(),
                "role": membership.role,
                "joined_at": membership.joined_at,
            }
            for membership in organization.memberships.select_related("user").order_by("joined_at", "pk")
        ],
        "invitations": [
            {
                "email": invite.email,
                "status": invite.status,
                "sent_at": invite.created_at,
                "answered_at": invite.responded_at,
            }
            for invite in organization.invites.order_by("created_at", "pk")
        ],  # fmt: skip
        "applications": _applications(organization, files),
        "awards": _awards(organization, files),
        **_payouts(organization),
        "stipends": _stipends(organization),
        "bonds": _bonds(organization),
        "activity": activity,
    }


def build_archive(organization: Organization) -> Archive:
    """The organization's ZIP (``data.json`` + ``files/``), in a temporary file open at its start.

    A file missing from storage (erased under the retention rule, say) is left out and counted
    in ``data.json`` (``files_missing``) rather than failing the whole download.
    """
    files = _Files()
    data = organization_data(organization, files)
    storage = private_storage()
    output = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115 - returned open, closed by the response
    missing = 0
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for storage_name, path in files.entries.items():
            try:
                with storage.open(storage_name, "rb") as source, archive.open(path, "w") as target:
                    for chunk in iter(lambda source=source: source.read(64 * 1024), b""):
                        target.write(chunk)
            except (FileNotFoundError, OSError):
                missing += 1
        data["files_missing"] = missing
        archive.writestr("data.json", json.dumps(data, cls=_Encoder, ensure_ascii=False, indent=2))
    output.seek(0)
    stamp = timezone.localdate().isoformat()
    return Archive(
        file=output, filename=f"organization-{organization.pk}-data-{stamp}.zip", missing_files=missing
    )


def record_download(request, organization: Organization) -> None:
    """Log the download in the access log of each foundation holding the organization's records,
    and in the activity log (one entry per such foundation, or one without a foundation)."""
    foundations = list(Foundation.objects.filter(pk__in=foundation_ids_with_records(organization)))
    for foundation in foundations:
        record_access(request, AccessKind.DATA_EXPORT, organization, foundation)
    for foundation in foundations or [None]:
        record(subject=organization, subject_type="organization", action="data_downloaded",
               actor=request.user, foundation=foundation)  # fmt: skip
