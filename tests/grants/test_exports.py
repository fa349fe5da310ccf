"""Audit exports as an auditor lives them: ask, wait, download, open in a spreadsheet."""

import csv
import datetime
import io
import zipfile

import openpyxl
import pytest
import time_machine
from django.urls import reverse
from django.utils import timezone

from grants.exports import audit
from grants.models import ActivityEntry, ExportJob, ExportStatus, Role
from grants.services import exports
from grants.services.errors import DomainError
from tests.factories import FoundationFactory, FundFactory
from tests.grants.money_fixtures import award_for, fund_with, staff

pytestmark = pytest.mark.django_db
D = datetime.date
SECRET = "Client Juana Pérez, A-number 123-456-789"


def not_found(response) -> bool:
    """A 404 (outside the language prefix Django's LocaleMiddleware turns it into a redirect to /en/…)."""
    return response.status_code == 404 or (
        response.status_code == 302 and response["Location"].startswith("/en/admin/")
    )


def ask(world, by="auditor", **kwargs):
    params = {"foundation": world["foundation"], "date_from": D(2026, 1, 1), "date_to": D(2026, 12, 31)}
    params.update(kwargs)
    return exports.request_export(by=world[by] if isinstance(by, str) else by, **params)


def workbook(job) -> openpyxl.Workbook:
    with job.file.open("rb") as handle:
        return openpyxl.load_workbook(io.BytesIO(handle.read()))


def csv_files(job) -> dict[str, bytes]:
    with job.file.open("rb") as handle, zipfile.ZipFile(io.BytesIO(handle.read())) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


@pytest.fixture
def year(world):
    """Money in by check, an award whose application holds (sensitive) answers."""
    fund_with(world, 10000)
    award = award_for(world, 3000)
    application = award.application
    application.answers = {"story": SECRET}
    application.sensitive_answers = {"client": SECRET}
    application.save(update_fields=["answers", "sensitive_answers"])
    return award


def test_the_workbook_reads_like_a_spreadsheet_made_by_hand(world, year):
    job = ask(world)
    assert job.status == ExportStatus.READY and job.progress == 100
    book = workbook(job)
    assert book.sheetnames[0] == "Summary"
    assert set(book.sheetnames) >= {"Donations", "Applications", "Awards", "Journal", "Activity"}
    for sheet in book:
        assert sheet["A1"].font.b, sheet.title
        assert sheet.freeze_panes == "A2"
        assert sheet.auto_filter.ref.startswith("A1:")

    journal = book["Journal"]
    header = [cell.value for cell in journal[1]]
    first = dict(zip(header, (cell for cell in journal[2]), strict=True))
    assert isinstance(first["Date"].value, datetime.datetime) and first["Date"].number_format == "yyyy-mm-dd"
    assert first["Debit"].value == 10000 and first["Debit"].number_format == '"$"#,##0.00'
    last = [cell.value for cell in journal[journal.max_row]]
    assert last[0] == "Total USD"
    assert last[header.index("Debit")] == f"=SUM(I2:I{journal.max_row - 1})"

    summary = book["Summary"]
    totals = [cell.value for cell in summary[summary.max_row]]
    assert totals[0] == "Total USD" and all(str(v).startswith("=SUM(") for v in totals[2:])
    assert journal.auto_filter.ref == f"A1:L{journal.max_row - 1}", "the totals row is outside the filter"

    properties = book.properties
    auditor = world["auditor"]
    assert properties.creator == (auditor.get_full_name() or auditor.email)
    assert "2026-01-01" in properties.description and "2026-12-31" in properties.description
    assert "Bay Area Foundation" in properties.title


def test_headers_follow_the_language_of_the_person_exporting(world, year):
    book = workbook(ask(world, language="es"))
    assert book.sheetnames[0] == "Resumen"
    assert [c.value for c in book["Resumen"][1]][:2] == ["Fondo", "Moneda"]
    assert "Diario" in book.sheetnames


def test_the_csv_zip_holds_the_same_rows_with_a_bom(world, year):
    xlsx = workbook(ask(world))
    files = csv_files(ask(world, format="csv"))
    journal = next(data for name, data in files.items() if name.endswith("Journal.csv"))
    assert journal.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(journal.decode("utf-8-sig"))))
    sheet = xlsx["Journal"]
    assert rows[0] == [c.value for c in sheet[1]]
    assert len(rows) == sheet.max_row  # header, the same lines, the totals row
    assert [r[0] for r in rows[1:-1]] == [str(c.value) for c in sheet["A"][1:-1]]
    assert rows[-1][8] == rows[-1][9] == "13000.00"  # debits equal credits


def test_application_answers_never_leave_the_portal(world, year):
    for fmt in ("xlsx", "csv"):
        job = ask(world, format=fmt)
        if fmt == "xlsx":
            text = "".join(str(c.value) for sheet in workbook(job) for row in sheet.iter_rows() for c in row)
        else:
            text = b"".join(csv_files(job).values()).decode("utf-8", "replace")
        assert year.application.reference in text
        assert SECRET not in text and "A-number" not in text


@pytest.mark.parametrize("role", ["officer", "grantee"])
def test_program_officers_and_grantees_cannot_export(world, role):
    with pytest.raises(exports.ExportRefused):
        ask(world, by=role)
    assert not ExportJob.objects.exists()


def test_another_foundations_auditor_and_funds_are_refused(world):
    other = FoundationFactory(slug="elsewhere")
    stranger = staff(other, Role.AUDITOR, email="stranger@example.org")
    with pytest.raises(exports.ExportRefused):
        ask(world, by=stranger)
    with pytest.raises(DomainError):
        ask(world, funds=[FundFactory(foundation=other)])
    with pytest.raises(DomainError):
        ask(world, date_from=D(2026, 3, 1), date_to=D(2026, 2, 1))


def test_each_export_and_download_leaves_an_activity_entry(world, year):
    job = ask(world, funds=[world["fund"]], format="csv")
    entry = ActivityEntry.objects.get(subject_type="export", subject_id=job.pk, action="export_requested")
    assert entry.actor == world["auditor"] and entry.foundation == world["foundation"]
    assert (
        "2026-01-01 – 2026-12-31" in entry.note and "Rapid Defense Fund" in entry.note and "csv" in entry.note
    )
    exports.export_download(job, by=world["finance"])
    assert ActivityEntry.objects.filter(
        subject_id=job.pk, action="export_downloaded", actor=world["finance"]
    ).exists()


def test_the_link_expires_and_the_file_is_deleted(world, year, settings):
    job = ask(world)
    assert exports.export_download(job, by=world["auditor"]).filename.endswith(".xlsx")
    name, storage = job.file.name, job.file.storage
    later = timezone.now() + datetime.timedelta(hours=settings.EXPORT_LINK_HOURS, minutes=1)
    with time_machine.travel(later), pytest.raises(exports.ExportExpired):
        exports.export_download(job, by=world["auditor"])
    job.refresh_from_db()
    assert job.status == ExportStatus.EXPIRED and not job.file
    assert not storage.exists(name)


def test_expired_files_are_purged_in_bulk(world, year):
    job = ask(world)
    name, storage = job.file.name, job.file.storage
    assert exports.purge_expired_exports() == 0
    assert exports.purge_expired_exports(now=job.expires_at) == 1
    assert not storage.exists(name)
    assert ExportJob.objects.get(pk=job.pk).status == ExportStatus.EXPIRED


def test_downloads_are_refused_to_other_users(world, year):
    job = ask(world)
    other = FoundationFactory(slug="elsewhere")
    for user in (world["officer"], world["grantee"], staff(other, Role.AUDITOR, email="x@example.org")):
        with pytest.raises(exports.ExportRefused):
            exports.export_download(job, by=user)


def test_a_large_export_runs_as_a_task_and_reports_progress(
    world, year, settings, django_capture_on_commit_callbacks
):
    settings.EXPORT_BACKGROUND_ROWS = 1
    seen = []
    real = exports._set_progress

    def spy(job_id, done, total, rows):
        real(job_id, done, total, rows)
        seen.append(ExportJob.objects.get(pk=job_id).progress)

    exports._set_progress = spy
    try:
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            job = ask(world)
            assert job.status == ExportStatus.QUEUED and not job.file
    finally:
        exports._set_progress = real
    assert len(callbacks) == 1
    job.refresh_from_db()
    assert job.status == ExportStatus.READY and job.progress == 100 and job.rows_written > 0
    assert seen == sorted(seen) and len(seen) == len(audit.SHEETS) and seen[-1] == 99
    assert workbook(job)["Summary"]["A2"].value == "Rapid Defense Fund"


# --- Admin ------------------------------------------------------------------------------------


def test_admin_form_builds_and_serves_the_file_privately(world, year, client):
    client.force_login(world["auditor"])
    index = client.get(reverse("exports:index"))
    assert index.status_code == 200 and "Rapid Defense Fund" in index.content.decode()
    response = client.post(
        reverse("exports:index"),
        {
            "foundation": world["foundation"].pk,
            "date_from": "2026-01-01",
            "date_to": "2026-12-31",
            "funds": [world["fund"].pk],
            "format": "xlsx",
        },
    )
    job = ExportJob.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse("exports:detail", args=[job.pk])
    page = client.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert 'http-equiv="refresh"' not in page and reverse("exports:download", args=[job.pk]) in page
    download = client.get(reverse("exports:download", args=[job.pk]))
    assert download.status_code == 200 and "no-store" in download["Cache-Control"]
    assert b"".join(download.streaming_content).startswith(b"PK")


def test_admin_page_refreshes_itself_while_the_export_runs(world, client):
    job = ExportJob.objects.create(
        foundation=world["foundation"],
        date_from=D(2026, 1, 1),
        date_to=D(2026, 1, 31),
        requested_by=world["auditor"],
    )
    client.force_login(world["auditor"])
    page = client.get(reverse("exports:detail", args=[job.pk])).content.decode()
    assert (
        '<meta http-equiv="refresh" content="3">' in page
        and "<script>" not in page.split("</head>")[0][-500:]
    )


def test_admin_refuses_bad_input_and_hides_other_foundations(world, client):
    client.force_login(world["auditor"])
    response = client.post(
        reverse("exports:index"),
        {
            "foundation": world["foundation"].pk,
            "date_from": "2026-05-01",
            "date_to": "2026-04-01",
            "format": "xlsx",
        },
    )
    assert response.status_code == 400 and "2026-05-01" in response.content.decode()
    other = FoundationFactory(slug="elsewhere")
    stranger = staff(other, Role.AUDITOR, email="stranger@example.org")
    theirs = ExportJob.objects.create(
        foundation=other, date_from=D(2026, 1, 1), date_to=D(2026, 1, 31), requested_by=stranger
    )
    assert not_found(client.get(reverse("exports:detail", args=[theirs.pk])))
    assert not_found(client.get(reverse("exports:download", args=[theirs.pk])))
    client.force_login(world["officer"])
    assert not_found(client.get(reverse("exports:index")))
    assert reverse("exports:index") not in client.get("/admin/").content.decode()
