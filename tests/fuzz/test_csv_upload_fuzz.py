"""CSV files in and out. The stipend shift import (the portal's one CSV upload) takes every row
or none, says which rows are wrong, and never answers 500, whatever the bytes. Exported sheets
(audit CSV/XLSX and the admin's application list) never hand a spreadsheet a formula typed by
someone outside the foundation."""

import csv
import datetime
import io
import zipfile
from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st
from openpyxl import load_workbook

from grants.exports.base import Column, CsvZipWriter, ExportInfo, Sheet, WorkbookWriter, safe_text
from grants.models import Shift
from grants.services import stipends
from tests.factories import ApplicationFactory, FundingCallFactory, OrganizationFactory
from tests.fuzz.conftest import any_text, assert_no_writes, fuzz_settings
from tests.grants.money_fixtures import usd

pytestmark = pytest.mark.django_db

NAMES = ("Luna", "Sol", "Río")


@pytest.fixture
def hotline(world, client):
    program = stipends.save_program(
        fund=world["fund"], name="Línea de respuesta", rate=usd(25), rate_unit="shift", monthly_cap=usd(100),
        coordinators=[world["organization"]], by=world["officer"],
    )  # fmt: skip
    for name in NAMES:
        stipends.add_volunteer(program=program, organization=world["organization"], pseudonym=name,
                               by=world["grantee"])  # fmt: skip
    client.force_login(world["grantee"])
    url = reverse(
        "stipend_shift_import", kwargs={"program_id": program.pk, "organization_id": world["organization"].pk}
    )
    return {"program": program, "url": url}


def _upload(client, url, data: bytes, name="shifts.csv"):
    return client.post(url, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _csv(rows) -> str:
    out = io.StringIO()
    writer = csv.writer(out)
    for row in rows:
        writer.writerow(row)
    return out.getvalue()


today = timezone.localdate()
valid_rows = st.tuples(
    st.sampled_from(NAMES).flatmap(lambda n: st.sampled_from([n, n.upper(), f"  {n} ", n.lower()])),
    st.integers(min_value=1, max_value=200).map(lambda d: (today - datetime.timedelta(days=d)).isoformat()),
    st.decimals(min_value=Decimal("0.25"), max_value=Decimal(24), places=2).map(str),
).map(list)
garbage_rows = st.lists(any_text, max_size=5)
encodings = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


@fuzz_settings(30)
@given(
    rows=st.lists(st.one_of(valid_rows, valid_rows, garbage_rows), max_size=8),
    header=st.sampled_from([["pseudonym", "date", "hours"], ["Pseudonym", " DATE ", "hours", "notes"],
                            ["pseudonym", "date"], ["date", "pseudonym", "hours"], []]),
    encoding=encodings,
)  # fmt: skip
def test_an_import_takes_every_row_or_none(client, hotline, rows, header, encoding):
    text = _csv([header, *rows])
    data = text.encode(encoding, errors="replace")
    before = Shift.objects.count()
    response = _upload(client, hotline["url"], data)
    assert response.status_code in (302, 400)
    after = Shift.objects.count()
    if response.status_code == 400:
        assert after == before, "a refused file saved some shifts"
        assert (
            b"errorlist" in response.content
            or b"Nothing was imported" in response.content
            or (b'role="alert"' in response.content)
        )
    else:
        imported = [row for row in rows if any(str(cell).strip() for cell in row)]
        assert after == before + len(imported)


@fuzz_settings(25)
@given(data=st.binary(max_size=2000))
def test_random_bytes_are_refused_and_save_nothing(client, hotline, data):
    with assert_no_writes():
        response = _upload(client, hotline["url"], data)
    assert response.status_code == 400


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ("pseudonym,date,hours\nLuna,2026-01-05,4\n".encode("utf-16"), "Save it as"),
        (b"pseudonym,date,hours\nLuna,2026-01-05," + b"9" * 200_000 + b"\n", "far too long"),
        (b'pseudonym,date,hours\n"Luna' + b"x" * 200_000 + b",2026-01-05,4\n", "far too long"),
        (b'pseudonym,date,hours\n"Luna,2026-01-05,4\n', ""),
        (b"pseudonym,date,hours\nLuna\x00,2026-01-05,4\n", ""),
        (b"nombre;fecha;horas\nLuna;2026-01-05;4\n", "name the columns"),
        (b"date,hours\n2026-01-05,4\n", "name the columns"),
        (b"", "empty"),
        (b"pseudonym,date,hours\n", "no shifts"),
        (b'pseudonym,date,hours\n=HYPERLINK("http://evil.example"),2026-01-05,4\n', "No volunteer"),
        (b"pseudonym,date,hours\nLuna,2026-01-05,4\nLuna,2026-01-05,4\n", "repeats row 2"),
        (b"pseudonym,date,hours\nLuna,2026-01-05,4\nSol,2026-13-45,4\n", "Nothing was imported"),
        (b"pseudonym,date,hours\nLuna,2026-01-05,1e309\n", "Hours"),
        (b"pseudonym,date,hours\nLuna,2026-01-05,NaN\n", "Hours"),
        (b"pseudonym,date,hours\nLuna,9999-12-31,4\n", "future"),
    ],
)
def test_files_with_a_problem_are_refused_with_a_reason_and_save_nothing(client, hotline, data, message):
    with assert_no_writes(count_rows=True):
        response = _upload(client, hotline["url"], data)
    assert response.status_code == 400
    assert message in response.content.decode()


def test_a_bom_and_extra_columns_are_fine(client, hotline):
    data = "pseudonym,date,hours,notes\nRío,2026-01-05,4,=1+1\n".encode("utf-8-sig")
    response = _upload(client, hotline["url"], data)
    assert response.status_code == 302
    assert Shift.objects.get().volunteer.pseudonym == "Río"


# --- Exports ----------------------------------------------------------------------------------

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@fuzz_settings(60)
@given(value=st.one_of(any_text, st.sampled_from(["=1+1", "+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1", "-"])))
def test_safe_text_never_starts_with_a_formula_character(value):
    cleaned = safe_text(value)
    assert not cleaned.startswith(FORMULA_STARTS)
    assert value in cleaned  # nothing is lost, only a leading quote may be added


def _sheet(values):
    return Sheet(
        title="Donors",
        columns=[Column("Name"), Column("Amount", kind="decimal")],
        rows=lambda: iter([(value, Decimal("-5.00")) for value in values]),
    )


TYPED = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-1+1", "@SUM(A1:A2)", "plain", "\t=1"]


def test_csv_exports_neutralise_formulas_and_keep_numbers():
    target = io.BytesIO()
    CsvZipWriter(ExportInfo(title="t", description="d")).write([_sheet(TYPED)], target)
    with zipfile.ZipFile(target) as archive:
        text = archive.read(archive.namelist()[0]).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))[1:]
    for row in rows[: len(TYPED)]:
        assert not row[0].startswith(FORMULA_STARTS), row
        assert row[1] == "-5.00"  # a real negative number stays a number
    assert rows[4][0] == "plain"


def test_xlsx_exports_keep_typed_formulas_as_text():
    target = io.BytesIO()
    WorkbookWriter(ExportInfo(title="t", description="d")).write([_sheet(TYPED)], target)
    target.seek(0)
    sheet = load_workbook(target).worksheets[0]
    for row in sheet.iter_rows(min_row=2, max_row=1 + len(TYPED)):
        assert row[0].data_type == "s", row[0].value
        assert row[1].value == Decimal("-5.00") or row[1].value == -5


def test_admin_application_csv_export_neutralises_names_typed_by_applicants(world, client):
    organization = OrganizationFactory(name='=HYPERLINK("http://evil.example","Click")')
    ApplicationFactory(call=FundingCallFactory(fund=world["fund"]), organization=organization, reference="INJ-1",
                       title="@SUM(1+1)")  # fmt: skip
    client.force_login(world["auditor"])
    response = client.get("/admin/applications/?export=csv")
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    row = next(row for row in rows if row[0] == "INJ-1")
    assert row[1] == "'" + organization.name
    assert all(not cell.startswith(FORMULA_STARTS) for cell in row)
