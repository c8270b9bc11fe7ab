"""An uploaded table (CSV or XLSX) read into rows of text cells, before any rule of the
domain that reads it is applied.

- CSV or XLSX, told apart by their bytes (an XLSX file is a ZIP archive), never by the
  name alone; anything else (an old .xls, a PDF, a picture) is refused whole (415).
- CSV text in UTF-8 (with or without a byte-order mark) or GB18030 (what Excel writes when
  asked for "CSV" on a Chinese system): UTF-8 is tried first, as a GB18030 reading of UTF-8
  bytes would turn Chinese into other Chinese.
- XLSX: the first sheet, values as stored (a formula's last computed value, never run);
  an archive that would inflate past `MAX_INFLATED_BYTES` is refused before it is opened.
- Cells are text: a formula-looking cell ("=1+1") is the text it shows; dates are
  YYYY-MM-DD; whole numbers stored as floats lose their ".0".
- Rows keep the numbers a spreadsheet shows (the header is row 1); blank rows are skipped.
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nxce.core.errors import Unprocessable, UnsupportedMediaType, invalid

MAX_INFLATED_BYTES = 200 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"


@dataclass(frozen=True, slots=True)
class Table:
    header: list[str]  # row 1, stripped
    rows: list[tuple[int, list[str]]]  # (row number, cells stripped), blank rows left out


def refused(message: str) -> Unprocessable:
    """A 422 about the whole file."""
    return invalid("file", message + "; no row was read")


HeaderCheck = Callable[[list[str]], object]  # raises to refuse the file


def read(
    content: bytes, *, max_rows: int, kind: str = "file", header: HeaderCheck | None = None
) -> Table:
    """The header and rows of a CSV or XLSX file of at most `max_rows` rows; 415 for
    another kind of file, 422 naming `file` for one that cannot be read. `header`, when
    given, checks row 1 before any other row is read (its refusal comes first)."""
    if not content:
        raise refused("the file is empty")
    if content.startswith(_ZIP_MAGIC):
        return _table(_xlsx_records(content), max_rows, kind, header)
    if content.startswith(b"\xd0\xcf\x11\xe0") or b"\x00" in content[:4096]:
        raise UnsupportedMediaType(
            f"file: a {kind} must be CSV or XLSX (an Excel 97-2003 .xls or another binary "
            "file cannot be read: save it as .xlsx or CSV)"
        )
    records = csv.reader(io.StringIO(_decode(content, kind), newline=""))
    return _table(records, max_rows, kind, header)


def _decode(content: bytes, kind: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise refused(f"a CSV {kind} must be UTF-8 or GB18030 (GBK) text")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_records(content: bytes) -> Iterator[list[str]]:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
        if inflated > MAX_INFLATED_BYTES:
            raise refused(
                f"the XLSX file would inflate to {inflated} bytes, more than {MAX_INFLATED_BYTES}"
            )
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise refused(f"the file is not a readable XLSX workbook ({error})") from None
    sheet = book.worksheets[0]
    try:
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def _table(records: Any, max_rows: int, kind: str, check: HeaderCheck | None) -> Table:
    try:
        iterator = iter(records)
        header = [(v or "").strip() for v in next(iterator, None) or []]
        while header and not header[-1]:
            header.pop()
        if not header:
            raise refused("row 1 must name the columns")
        if check is not None:
            check(header)
        rows: list[tuple[int, list[str]]] = []
        for number, values in enumerate(iterator, 2):
            if not any((v or "").strip() for v in values):
                continue
            if len(rows) == max_rows:
                raise refused(f"a {kind} has at most {max_rows} rows: split the file")
            rows.append((number, [(v or "").strip() for v in values]))
    except csv.Error as error:
        raise refused(f"the file is not valid CSV ({error})") from None
    if not rows:
        raise refused("the file has a header and no rows")
    return Table(header, rows)
