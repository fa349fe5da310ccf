"""Private files (applicants' uploads, spending receipts) served after a permission check."""

from django.http import FileResponse


def private_file_response(file, *, filename: str, content_type: str) -> FileResponse:
    """A private file as a download that browsers and proxies never cache or sniff."""
    response = FileResponse(file.open("rb"), as_attachment=True, filename=filename, content_type=content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


def attachment_response(attachment):
    """An applicant's upload as a private download."""
    return private_file_response(
        attachment.file, filename=attachment.original_name, content_type=attachment.content_type
    )
