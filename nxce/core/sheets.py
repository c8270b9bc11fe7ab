"""Spreadsheet cells every export writes alike: CSV (UTF-8 with a BOM, so Excel reads the
Chinese) and XLSX (typed cells) where text a spreadsheet would run as a formula (=, +, -,
@ first) is written as text: titles come from people, and an export runs nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
BOLD = Font(bold=True)


def safe(value: Any) -> Any:
    """A cell value a spreadsheet shows and never runs."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def put(sheet: Any, row: int, values: Sequence[Any]) -> None:
    """Write `values` into row `row` of an openpyxl sheet: text stays text, dates and
    decimals get their number formats."""
    for column, value in enumerate(values, 1):
        cell = sheet.cell(row=row, column=column)
        cell.value = value
        if isinstance(value, str) and value.startswith("="):
            cell.data_type = "s"  # text, never a formula
        elif isinstance(value, date):
            cell.number_format = "yyyy-mm-dd"
        elif isinstance(value, float):
            cell.number_format = "0.0##"


def csv_bytes(rows: Iterable[Sequence[Any]]) -> bytes:
    """`rows` as CSV with a BOM and CRLF line ends, every cell `safe`."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe(v) for v in row])
    return "\ufeff".encode() + out.getvalue().encode("utf-8")


def table_xlsx(
    *, title: str, sheet_name: str, header: Sequence[str], rows: Iterable[Sequence[Any]],
    widths: Sequence[int] = (), creator: str = "nxce",
) -> bytes:  # fmt: skip
    """One sheet: a bold, frozen header row and the rows under it."""
    book = Workbook()
    sheet = book.active
    sheet.title = sheet_name
    put(sheet, 1, list(header))
    for cell in sheet[1]:
        cell.font = BOLD
    for n, row in enumerate(rows, 2):
        put(sheet, n, list(row))
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    book.properties.title = title
    book.properties.creator = creator
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
