"""Audit exports: who may ask for one, building the file, downloading it, and its expiry.

* ``request_export`` checks the role (auditor, foundation admin or finance officer of the
  foundation), the range and the funds, writes an activity entry, counts the rows and either
  builds the file at once (below ``EXPORT_BACKGROUND_ROWS``) or queues ``build_export``.
* ``run_export`` builds the file (XLSX workbook or CSV zip) in the language of the person who
  asked, saves it to private storage and sets ``expires_at`` (``EXPORT_LINK_HOURS`` later);
  progress is saved after each sheet so the admin page can show it.
* ``export_download`` hands the file to staff of that foundation with an export role, until it
  expires; ``purge_expired_exports`` deletes expired files (run after each build and daily).

The background task lives here, next to the work it does (as ``send_invite_email`` does in
``grants.services.organizations``), because services never import ``grants.tasks``;
``grants.tasks`` re-exports it with the daily purge task.
"""

import datetime
import logging
import tempfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files import File
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django_tasks import task

from grants.exports import audit
from grants.exports.base import ExportInfo, writer_for
from grants.models import ExportFormat, ExportJob, ExportStatus, Foundation, Fund
from grants.permissions import Capability, can
from grants.services.errors import DomainError, IllegalTransition
from grants.services.workflow import record

logger = logging.getLogger(__name__)

SUBJECT_TYPE = "export"


class ExportError(DomainError):
    """An export was refused: bad range, funds of another foundation, unknown format."""


class ExportRefused(IllegalTransition):
    """The person may not export (or download) this foundation's data."""


class ExportExpired(ExportRefused):
    """The file is no longer available (its link expired, or it was never built)."""


def may_export(user, foundation: Foundation | int) -> bool:
    return can(user, Capability.EXPORT, foundation)


def scope_of(job: ExportJob) -> audit.AuditScope:
    return audit.AuditScope.build(
        foundation=job.foundation, date_from=job.date_from, date_to=job.date_to, funds=list(job.funds.all())
    )


def _describe(job: ExportJob, funds) -> str:
    """The activity note: range, funds, format (ids and names, no personal data)."""
    names = ", ".join(f"{fund.name} (#{fund.pk})" for fund in funds) or "all funds"
    return f"{job.date_from.isoformat()} – {job.date_to.isoformat()}; {names}; {job.format}"


def request_export(
    *,
    foundation: Foundation,
    by,
    date_from: datetime.date,
    date_to: datetime.date,
    funds=(),
    format: str = ExportFormat.XLSX,
    language: str | None = None,
) -> ExportJob:
    """Ask for an audit export of ``foundation`` for the days ``date_from``..``date_to``.

    Raises ``ExportRefused`` unless ``by`` is an auditor, admin or finance officer of the
    foundation; ``ExportError`` for a range that ends before it starts, a fund of another
    foundation or an unknown format. Returns the job: ready when small enough to build now,
    otherwise queued for ``build_export`` (after the surrounding transaction commits).
    """
    if not may_export(by, foundation):
        raise ExportRefused(
            _("Only auditors, administrators and finance staff of this foundation can export.")
        )
    if date_from is None or date_to is None or date_to < date_from:
        raise ExportError(_("The end of the period must be on or after its start."))
    if format not in ExportFormat.values:
        raise ExportError(_("Choose a file format."))
    funds = list(funds)
    fund_ids = {getattr(fund, "pk", fund) for fund in funds}
    chosen = list(Fund.objects.filter(pk__in=fund_ids, foundation=foundation).order_by("name"))
    if len(chosen) != len(fund_ids):
        raise ExportError(_("Choose funds of this foundation only."))
    language = language or getattr(by, "preferred_language", "") or translation.get_language() or "en"
    job = ExportJob.objects.create(
        foundation=foundation,
        date_from=date_from,
        date_to=date_to,
        format=format,
        language=language,
        requested_by=by,
    )
    job.funds.set(chosen)
    record(
        subject=job,
        subject_type=SUBJECT_TYPE,
        action="export_requested",
        actor=by,
        foundation=foundation,
        to_state=ExportStatus.QUEUED,
        note=_describe(job, chosen),
    )
    rows = audit.count_rows(scope_of(job))
    if rows < settings.EXPORT_BACKGROUND_ROWS:
        return run_export(job.pk)
    transaction.on_commit(lambda: build_export.enqueue(job_id=job.pk))
    return job


def _set_progress(job_id: int, done: int, total: int, rows: int) -> None:
    # Never 100 before the file is saved: 100 means "ready".
    ExportJob.objects.filter(pk=job_id).update(
        progress=min(99, done * 100 // max(total, 1)), rows_written=rows
    )


def _file_name(job: ExportJob, extension: str) -> str:
    return f"audit-{job.foundation.slug}-{job.date_from:%Y%m%d}-{job.date_to:%Y%m%d}.{extension}"


def run_export(job_id: int) -> ExportJob:
    """Build the file of a queued job (safe to repeat: a job not waiting is returned as it is)."""
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.RUNNING, progress=0
    )
    job = ExportJob.objects.select_related("foundation", "requested_by").get(pk=job_id)
    if not claimed:
        return job
    try:
        # Dates and times in the foundation's own zone: the days of the range, the datetime
        # cells and the zone named in their headers (grants.exports.base.column_header).
        with translation.override(job.language), timezone.override(job.foundation.time_zone):
            scope = scope_of(job)
            requester = job.requested_by
            info = ExportInfo(
                title=_("Audit export: %(foundation)s") % {"foundation": job.foundation.name},
                description=_("From %(start)s to %(end)s; funds: %(funds)s")
                % {
                    "start": job.date_from.isoformat(),
                    "end": job.date_to.isoformat(),
                    "funds": ", ".join(fund.name for fund in scope.funds()),
                },
                creator=requester.get_full_name() or requester.email,
            )
            writer = writer_for(job.format, info)
            with tempfile.TemporaryFile() as scratch:
                rows = writer.write(
                    audit.audit_sheets(scope),
                    scratch,
                    progress=lambda done, total, written: _set_progress(job.pk, done, total, written),
                )
                scratch.seek(0)
                job.file.save(_file_name(job, writer.extension), File(scratch), save=False)
    except Exception as exc:
        logger.exception("Export %s failed", job.pk)
        job.status = ExportStatus.FAILED
        job.error = f"{type(exc).__name__}: {exc}"[:300]
        job.finished_at = timezone.now()
        job.save(update_fields=["status", "error", "finished_at"])
        record(subject=job, subject_type=SUBJECT_TYPE, action="export_failed", actor=None,
               foundation=job.foundation, from_state=ExportStatus.RUNNING, to_state=ExportStatus.FAILED)  # fmt: skip
        return job
    now = timezone.now()
    job.status = ExportStatus.READY
    job.progress = 100
    job.rows_written = rows
    job.finished_at = now
    job.expires_at = now + datetime.timedelta(hours=settings.EXPORT_LINK_HOURS)
    job.save(update_fields=["file", "status", "progress", "rows_written", "finished_at", "expires_at"])
    purge_expired_exports()
    return job


@task()
def build_export(job_id: int) -> str:
    """Background step of ``request_export``: build the job's file; returns its status."""
    return run_export(job_id).status


@dataclass(frozen=True)
class ExportDownload:
    file: object
    filename: str
    content_type: str


CONTENT_TYPES = {
    ExportFormat.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ExportFormat.CSV: "application/zip",
}


def export_download(job: ExportJob, *, by) -> ExportDownload:
    """The job's file for ``by``, with its name and type; writes a "downloaded" activity entry.

    Only staff of the job's foundation with an export role may download (the requester
    included, while they hold the role). Raises ``ExportRefused`` otherwise, and
    ``ExportExpired`` when the file is not ready or its link expired (an expired file is deleted
    on the spot).
    """
    if not may_export(by, job.foundation_id):
        raise ExportRefused(_("You cannot download this export."))
    if job.expires_at is not None and job.expires_at <= timezone.now():
        _expire(job)
    if job.status != ExportStatus.READY or not job.file:
        raise ExportExpired(_("This export is no longer available. Ask for a new one."))
    record(subject=job, subject_type=SUBJECT_TYPE, action="export_downloaded", actor=by,
           foundation=job.foundation, note=job.file.name.rsplit("/", 1)[-1])  # fmt: skip
    extension = "xlsx" if job.format == ExportFormat.XLSX else "zip"
    return ExportDownload(job.file, _file_name(job, extension), CONTENT_TYPES[job.format])


def _expire(job: ExportJob) -> None:
    if job.file:
        job.file.delete(save=False)
    if job.status != ExportStatus.EXPIRED:
        previous = job.status
        job.status = ExportStatus.EXPIRED
        job.save(update_fields=["file", "status"])
        record(subject=job, subject_type=SUBJECT_TYPE, action="export_expired", actor=None,
               foundation=job.foundation, from_state=previous, to_state=ExportStatus.EXPIRED)  # fmt: skip
    else:
        job.save(update_fields=["file"])


def purge_expired_exports(now: datetime.datetime | None = None) -> int:
    """Delete the files of exports whose link expired; returns how many were purged."""
    now = now or timezone.now()
    expired = ExportJob.objects.filter(expires_at__lte=now).exclude(status=ExportStatus.EXPIRED, file="")
    count = 0
    for job in expired.select_related("foundation").iterator(chunk_size=200):
        _expire(job)
        count += 1
    return count


def recent_exports(user, *, limit: int = 20):
    """The user's own recent exports, newest first."""
    return (
        ExportJob.objects.filter(requested_by=user)
        .select_related("foundation")
        .prefetch_related("funds")
        .order_by("-created_at", "-pk")[:limit]
    )
