"""The access log: who opened which record holding personal data, and when.

Views call ``record_access`` with one line after their permission check, so only openings that
were allowed are logged. An entry names the record by id and a label without personal data (an
application reference, a donation number): never a name, an email address, a file name, nor the
visitor's IP address (the signed-in account says who it was). Entries are append-only.
"""

from grants.models import (
    AccessKind,
    AccessLogEntry,
    Application,
    ApplicationAttachment,
    Donation,
    Donor,
    Expenditure,
    Foundation,
    Organization,
    ReportDueDate,
    SpendingReport,
)


def access_label(obj) -> str:
    """A short name for ``obj`` that carries no personal data."""
    if isinstance(obj, Application):
        return obj.reference or f"#{obj.pk}"
    if isinstance(obj, ApplicationAttachment):
        reference = obj.application.reference or f"#{obj.application_id}"
        return f"{reference} · #{obj.pk}"
    if isinstance(obj, ReportDueDate):
        return f"{obj.award.reference} · {obj.kind}"
    if isinstance(obj, SpendingReport):
        return f"{obj.award.reference} · {obj.due.kind}"
    if isinstance(obj, Expenditure):
        return f"{obj.report.award.reference} · #{obj.pk}"
    if isinstance(obj, Donor):
        return f"#{obj.pk}"
    if isinstance(obj, Donation):
        return f"#{obj.pk}"
    if isinstance(obj, Organization):
        return f"#{obj.pk}"
    return f"#{obj.pk}"


def record_access(
    request, kind: str, obj, foundation: Foundation | int, *, label: str = ""
) -> AccessLogEntry | None:
    """Log that ``request.user`` opened ``obj`` (of ``kind``, an ``AccessKind``) of ``foundation``.

    Call it after the permission check. Anonymous requests are not logged (they cannot reach
    personal data). Returns the entry written.
    """
    user = getattr(request, "user", None)
    if not getattr(user, "is_authenticated", False):
        return None
    foundation_id = foundation if isinstance(foundation, int) else foundation.pk
    return AccessLogEntry.objects.create(
        foundation_id=foundation_id,
        user=user,
        kind=AccessKind(kind),
        object_id=obj.pk,
        label=(label or access_label(obj))[:120],
    )
