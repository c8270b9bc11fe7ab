"""A roster file (花名册) read into rows of text cells, before any rule is applied.

- CSV or XLSX, told apart by their bytes (an XLSX file is a ZIP archive), never by the
  name alone; anything else (an old .xls, a PDF, a picture) is refused whole (415).
- CSV text in UTF-8 (with or without a byte-order mark) or GB18030 (what Excel writes when
  asked for "CSV" on a Chinese system): UTF-8 is tried first, as a GB18030 reading of UTF-8
  bytes would turn Chinese into other Chinese.
- XLSX: the first sheet, values as stored (a formula's last computed value); an archive
  that would inflate past `MAX_INFLATED_BYTES` is refused before it is opened (a ZIP bomb).
- The first row names the columns, in Chinese or English, in any order (`COLUMNS`);
  unknown names are refused, so a column is never silently dropped. Blank rows are
  skipped, but rows keep the numbers a spreadsheet shows (the header is row 1).
- Limits (ours): at most `MAX_ROWS` rows a file; the request body at most `MAX_BYTES`.
"""

from __future__ import annotations

import csv
import io
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from nxce.core.errors import Unprocessable, UnsupportedMediaType, invalid

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 10_000
MAX_INFLATED_BYTES = 200 * 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"

# field -> the header names it is known by (compared without case or spaces)
COLUMNS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "name"),
    "id_number": ("身份证号", "身份证号码", "公民身份号码", "id_number"),
    "employer": ("工作单位", "单位", "employer"),
    "series": ("系列", "职称系列", "series"),
    "title_level": ("职称级别", "职称等级", "title_level"),
    "title_obtained_on": ("取得时间", "职称取得时间", "title_obtained_on"),
    "degree": ("学历", "degree"),
    "phone": ("手机", "手机号", "手机号码", "phone"),
    # ours, optional: the learner id to give (else one is made), an e-mail address
    "learner_id": ("学员编号", "learner_id"),
    "email": ("电子邮箱", "邮箱", "email"),
}
REQUIRED = ("name", "id_number", "employer", "degree")
_BY_HEADER = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}


@dataclass(frozen=True, slots=True)
class RosterRow:
    row: int  # as a spreadsheet numbers it: the header is row 1
    cells: dict[str, str]  # field -> text, stripped; absent columns absent


def _refused(message: str) -> Unprocessable:
    return invalid("file", message + "; no row was read")


def read(content: bytes) -> list[RosterRow]:
    """The rows of a CSV or XLSX roster; 415 for another kind of file, 422 naming the
    file for one that cannot be read (header, encoding, size, row count)."""
    if not content:
        raise _refused("the file is empty")
    if content.startswith(_ZIP_MAGIC):
        return _rows(_xlsx_records(content))
    if content.startswith(b"\xd0\xcf\x11\xe0") or b"\x00" in content[:4096]:
        raise UnsupportedMediaType(
            "file: a roster must be CSV or XLSX (an Excel 97-2003 .xls or another binary "
            "file cannot be read: save it as .xlsx or CSV)"
        )
    return _rows(csv.reader(io.StringIO(_decode(content), newline="")))


def _decode(content: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return content.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise _refused("a CSV roster must be UTF-8 or GB18030 (GBK) text")


def _cell(value: Any) -> str:
    """An XLSX cell as text: dates as YYYY-MM-DD, whole numbers without `.0` (phone
    numbers typed as numbers)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _xlsx_records(content: bytes) -> Any:
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            inflated = sum(member.file_size for member in archive.infolist())
        if inflated > MAX_INFLATED_BYTES:
            raise _refused(
                f"the XLSX file would inflate to {inflated} bytes, more than {MAX_INFLATED_BYTES}"
            )
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError, ValueError) as error:
        raise _refused(f"the file is not a readable XLSX workbook ({error})") from None
    sheet = book.worksheets[0]
    try:
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def _header(values: list[str] | None) -> list[str | None]:
    names = [(v or "").strip().replace(" ", "").lower() for v in values or []]
    fields = [_BY_HEADER.get(n) if n else None for n in names]
    unknown = [n for n, f in zip(names, fields, strict=True) if n and f is None]
    if unknown:
        raise _refused(f"row 1 names unknown columns {', '.join(unknown)}")
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        names_of = ", ".join(f"{COLUMNS[f][0]}/{f}" for f in missing)
        raise _refused(f"row 1 must name the columns; missing {names_of}")
    twice = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if twice:
        raise _refused(f"row 1 names a column twice: {', '.join(twice)}")
    return fields


def _rows(records: Any) -> list[RosterRow]:
    try:
        iterator = iter(records)
        fields = _header(next(iterator, None))
        found: list[RosterRow] = []
        for number, values in enumerate(iterator, 2):
            if not any((v or "").strip() for v in values):
                continue
            if len(found) == MAX_ROWS:
                raise _refused(f"a roster has at most {MAX_ROWS} rows: split the file")
            extra = [v for v in values[len(fields) :] if (v or "").strip()]
            cells = {f: v.strip() for f, v in zip(fields, values, strict=False) if f and v.strip()}
            if extra:
                cells["_extra"] = extra[0].strip()
            found.append(RosterRow(number, cells))
    except csv.Error as error:
        raise _refused(f"the file is not valid CSV ({error})") from None
    if not found:
        raise _refused("the file has a header and no rows")
    return found
