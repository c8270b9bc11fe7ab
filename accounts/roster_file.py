"""A roster file (花名册) read into rows of text cells, before any rule is applied.

The file itself (CSV or XLSX told apart by their bytes, UTF-8 or GB18030, the first sheet,
cells as text, blank rows skipped, a ZIP bomb refused) is read by `nxce.core.sheet_file`,
as the catalog's course import reads its files. Here:

- The first row names the columns, in Chinese or English, in any order (`COLUMNS`);
  unknown names are refused, so a column is never silently dropped; rows keep the numbers
  a spreadsheet shows (the header is row 1).
- Limits (ours): at most `MAX_ROWS` rows a file; the request body at most `MAX_BYTES`.
"""

from __future__ import annotations

from dataclasses import dataclass

from nxce.core import sheet_file

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 10_000

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


def read(content: bytes) -> list[RosterRow]:
    """The rows of a CSV or XLSX roster; 415 for another kind of file, 422 naming the
    file for one that cannot be read (header, encoding, size, row count)."""
    table = sheet_file.read(content, max_rows=MAX_ROWS, kind="roster", header=_header)
    fields = _header(table.header)
    found: list[RosterRow] = []
    for number, values in table.rows:
        extra = [v for v in values[len(fields) :] if v]
        cells = {f: v for f, v in zip(fields, values, strict=False) if f and v}
        if extra:
            cells["_extra"] = extra[0]
        found.append(RosterRow(number, cells))
    return found


def _header(values: list[str]) -> list[str | None]:
    names = [v.replace(" ", "").lower() for v in values]
    fields = [_BY_HEADER.get(n) if n else None for n in names]
    unknown = [n for n, f in zip(names, fields, strict=True) if n and f is None]
    if unknown:
        raise sheet_file.refused(f"row 1 names unknown columns {', '.join(unknown)}")
    missing = [f for f in REQUIRED if f not in fields]
    if missing:
        names_of = ", ".join(f"{COLUMNS[f][0]}/{f}" for f in missing)
        raise sheet_file.refused(f"row 1 must name the columns; missing {names_of}")
    twice = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if twice:
        raise sheet_file.refused(f"row 1 names a column twice: {', '.join(twice)}")
    return fields
