"""The one pattern every export follows: sheets of typed columns, written as XLSX or CSV.

A ``Sheet`` says what a table is (title, columns, which columns get totals) and how to produce
its rows (a callable returning an iterator, so nothing is read before the writer asks). A writer
turns sheets into a file:

- ``WorkbookWriter``: one XLSX workbook (openpyxl write-only mode, rows streamed to disk), bold
  header frozen at A2, autofilter over the data, column widths, real dates and numbers, money
  formatted in its own currency, totals rows holding ``=SUM(...)`` formulas — one per currency,
  because amounts of different currencies are never added;
- ``CsvZipWriter``: the same sheets as CSV files (UTF-8 with a BOM so spreadsheet programs read
  accents right) in one .zip; totals rows carry the computed sums.

Text typed by people outside the foundation never reaches a spreadsheet as a formula: XLSX text
cells stay text, and CSV text starting with ``= + - @`` gets a leading quote (``safe_text``).

Dates and times are written in the active time zone (the export runs under the foundation's
zone), to the minute ("2026-12-05 20:30", never seconds or microseconds); every date-and-time
column's header names that zone.

Money cells are ``Money`` values: the writer takes the currency from each value. Rows are read
from querysets with ``.iterator(chunk_size=...)`` by the concrete exporters, so memory holds one
chunk at a time.
"""

import csv
import datetime
import io
import zipfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from djmoney.money import Money
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from grants.money import currency_exponent, without_negative_zero

CHUNK_SIZE = 2000

TEXT, DATE, DATETIME, MONEY, INT, DECIMAL = "text", "date", "datetime", "money", "int", "decimal"
DATE_FORMAT = "yyyy-mm-dd"
DATETIME_FORMAT = "yyyy-mm-dd hh:mm"
CURRENCY_SYMBOLS = {"USD": "$", "EUR": "€", "GBP": "£"}


def money_format(currency: str) -> str:
    """The Excel number format of amounts in ``currency``: its symbol or code, its decimals."""
    exponent = currency_exponent(currency)
    number = "#,##0" + ("." + "0" * exponent if exponent else "")
    symbol = CURRENCY_SYMBOLS.get(currency)
    return f'"{symbol}"{number}' if symbol else f'{number} "{currency}"'


@dataclass(frozen=True)
class Column:
    """One column: its header (a lazy translation), what kind of values it holds, its width."""

    label: object
    kind: str = TEXT
    width: int = 14
    total: bool = False  # summed in the totals rows


@dataclass
class Sheet:
    """A table to export. ``rows()`` yields sequences matching ``columns``; ``count()`` how many.

    With a column marked ``total``, the writers add one totals row per currency found in the
    money cells of the rows (one row "Total" when the sheet holds no money).
    """

    title: object
    columns: Sequence[Column]
    rows: Callable[[], Iterable[Sequence]]
    count: Callable[[], int] | None = None
    description: object = ""

    @property
    def has_totals(self) -> bool:
        return any(column.total for column in self.columns)


@dataclass
class ExportInfo:
    """What the file is: shown in its document properties and named in the activity log."""

    title: str
    description: str = ""
    creator: str = ""
    created: datetime.datetime = field(default_factory=timezone.now)


def column_header(column: Column) -> str:
    """A column's header as written: its label, and for a date-and-time column the zone its
    times are in ("Paid at (America/Los_Angeles)")."""
    if column.kind == DATETIME:
        return f"{column.label} ({timezone.get_current_timezone_name()})"
    return str(column.label)


def row_currency(row: Sequence) -> str:
    """The currency a row's money is in ("" when it holds none)."""
    for value in row:
        if isinstance(value, Money):
            return str(value.currency)
    return ""


def plain(value, kind: str):
    """A cell value as a spreadsheet understands it: ``Money`` → Decimal (a zero never signed, so
    no cell reads "-$0.00"), lazy text → text, aware datetimes → local naive (Excel has no time
    zones), None → empty."""
    if value is None:
        return None
    if isinstance(value, Money | Decimal):
        return without_negative_zero(value.amount if isinstance(value, Money) else value)
    if isinstance(value, Promise):  # a lazy translation: text in the active language
        return str(value)
    if isinstance(value, datetime.datetime) and kind != DATE:
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.replace(tzinfo=None, second=0, microsecond=0)
    if kind == DATE and isinstance(value, datetime.datetime):
        return timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    return value


def sheet_titles(sheets: Sequence[Sheet]) -> list[str]:
    """Unique sheet names of at most 31 characters without the characters Excel refuses."""
    seen, titles = set(), []
    for sheet in sheets:
        name = "".join(" " if ch in "[]:*?/\\" else ch for ch in str(sheet.title))[:31] or "Sheet"
        base, n = name, 2
        while name.lower() in seen:
            name = f"{base[:28]} {n}"
            n += 1
        seen.add(name.lower())
        titles.append(name)
    return titles


ProgressCallback = Callable[[int, int, int], None]  # (sheets done, sheets total, rows written)


class _Totals:
    """Which rows (1-based, in the sheet) hold which currency, and the Python sums per column."""

    def __init__(self, columns: Sequence[Column]):
        self.columns = columns
        self.blocks: dict[str, list[list[int]]] = {}
        self.sums: dict[str, dict[int, Decimal]] = {}

    def add(self, row_number: int, row: Sequence) -> None:
        currency = row_currency(row)
        blocks = self.blocks.setdefault(currency, [])
        if blocks and blocks[-1][1] == row_number - 1:
            blocks[-1][1] = row_number
        else:
            blocks.append([row_number, row_number])
        sums = self.sums.setdefault(currency, {})
        for index, column in enumerate(self.columns):
            if column.total and row[index] is not None:
                value = plain(row[index], column.kind)
                sums[index] = sums.get(index, Decimal(0)) + Decimal(value)

    def label(self, currency: str) -> str:
        return _("Total %(currency)s") % {"currency": currency} if currency else _("Total")

    def formula(self, currency: str, index: int) -> str:
        letter = get_column_letter(index + 1)
        ranges = ",".join(f"{letter}{start}:{letter}{end}" for start, end in self.blocks[currency])
        return f"=SUM({ranges})"


class WorkbookWriter:
    """Writes sheets to one XLSX file, streaming rows (openpyxl write-only mode)."""

    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

    def __init__(self, info: ExportInfo):
        self.info = info

    def write(self, sheets: Sequence[Sheet], target, progress: ProgressCallback | None = None) -> int:
        """Write ``sheets`` to ``target`` (a path or binary file); return the data rows written."""
        workbook = Workbook(write_only=True)
        workbook.properties.creator = self.info.creator
        workbook.properties.lastModifiedBy = self.info.creator
        workbook.properties.title = self.info.title
        workbook.properties.description = self.info.description
        workbook.properties.created = plain(self.info.created, DATETIME)
        written = 0
        for done, (sheet, title) in enumerate(zip(sheets, sheet_titles(sheets), strict=True), start=1):
            written += self._write_sheet(workbook.create_sheet(title), sheet)
            if progress:
                progress(done, len(sheets), written)
        workbook.save(target)
        return written

    def _write_sheet(self, worksheet, sheet: Sheet) -> int:
        columns = sheet.columns
        for index, column in enumerate(columns, start=1):
            worksheet.column_dimensions[get_column_letter(index)].width = column.width
        worksheet.freeze_panes = "A2"
        bold = Font(bold=True)
        header = []
        for column in columns:
            cell = WriteOnlyCell(worksheet, value=column_header(column))
            cell.font = bold
            header.append(cell)
        worksheet.append(header)
        totals = _Totals(columns)
        row_number = 1
        for row in sheet.rows():
            row_number += 1
            worksheet.append(
                [self._cell(worksheet, value, column) for value, column in zip(row, columns, strict=True)]
            )
            if sheet.has_totals:
                totals.add(row_number, row)
        last = get_column_letter(len(columns))
        worksheet.auto_filter.ref = f"A1:{last}{max(row_number, 1)}"
        if sheet.has_totals:
            for currency in totals.blocks:
                cells = []
                for index, column in enumerate(columns):
                    if index == 0:
                        value = totals.label(currency)
                    elif column.total:
                        value = totals.formula(currency, index)
                    else:
                        value = None
                    cell = WriteOnlyCell(worksheet, value=value)
                    cell.font = bold
                    if column.total and column.kind == MONEY and currency:
                        cell.number_format = money_format(currency)
                    cells.append(cell)
                worksheet.append(cells)
        return row_number - 1

    @staticmethod
    def _cell(worksheet, value, column: Column):
        cell = WriteOnlyCell(worksheet, value=plain(value, column.kind))
        if cell.data_type == "f":  # text typed as "=..." stays text: data cells are never formulas
            cell.data_type = "s"
        if isinstance(value, Money):
            cell.number_format = money_format(str(value.currency))
        elif column.kind == DATE:
            cell.number_format = DATE_FORMAT
        elif column.kind == DATETIME:
            cell.number_format = DATETIME_FORMAT
        elif column.kind == DECIMAL:
            cell.number_format = "#,##0.00"
        return cell


class CsvZipWriter:
    """Writes sheets as CSV files (UTF-8 with BOM, one per sheet) in one .zip."""

    extension = "zip"
    content_type = "application/zip"

    def __init__(self, info: ExportInfo):
        self.info = info

    def write(self, sheets: Sequence[Sheet], target, progress: ProgressCallback | None = None) -> int:
        written = 0
        with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.comment = f"{self.info.title} — {self.info.description}"[:1000].encode()
            titles = sheet_titles(sheets)
            for done, (sheet, title) in enumerate(zip(sheets, titles, strict=True), start=1):
                with archive.open(f"{done:02d} {title}.csv", "w") as raw:
                    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
                    written += self._write_sheet(csv.writer(text), sheet)
                    text.flush()
                    text.detach()
                if progress:
                    progress(done, len(sheets), written)
        return written

    @staticmethod
    def _write_sheet(writer, sheet: Sheet) -> int:
        columns = sheet.columns
        writer.writerow([column_header(column) for column in columns])
        totals = _Totals(columns)
        count = 0
        for row in sheet.rows():
            count += 1
            writer.writerow([_csv_value(value, column) for value, column in zip(row, columns, strict=True)])
            if sheet.has_totals:
                totals.add(count + 1, row)
        for currency, sums in totals.sums.items():
            writer.writerow(
                [
                    totals.label(currency) if index == 0 else sums.get(index, "")
                    for index in range(len(columns))
                ]
            )
        return count


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_text(value: str) -> str:
    """Text a spreadsheet will not run as a formula: a leading ``= + - @`` (or tab, carriage
    return) gets a quote before it, as OWASP advises for CSV files ("=1+1" → "'=1+1")."""
    return f"'{value}" if value.startswith(FORMULA_STARTS) else value


def _csv_value(value, column: Column):
    value = plain(value, column.kind)
    if value is None:
        return ""
    if isinstance(value, str):
        return safe_text(value)
    if isinstance(value, datetime.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


WRITERS = {"xlsx": WorkbookWriter, "csv": CsvZipWriter}


def writer_for(format: str, info: ExportInfo):
    """The writer of ``format`` ("xlsx" or "csv")."""
    return WRITERS[format](info)


def chunked(queryset) -> Iterator:
    """Iterate a queryset a chunk at a time (never the whole result in memory)."""
    return queryset.iterator(chunk_size=CHUNK_SIZE)
