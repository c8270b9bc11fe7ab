"""Roster files for the import tests: Chinese rows with valid id numbers, as CSV (UTF-8
with a BOM, or GB18030) and XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

import httpx
from openpyxl import Workbook

from tests.conftest import ADMIN
from tests.credits.conftest import id_number

HEADER_ZH = ("姓名", "身份证号", "工作单位", "系列", "职称级别", "取得时间", "学历", "手机")
HEADER_EN = (
    "name",
    "id_number",
    "employer",
    "series",
    "title_level",
    "title_obtained_on",
    "degree",
    "phone",
)


def person(n: int, **changes: str) -> dict[str, str]:
    """Row `n` of a department's roster: a valid id number and phone each."""
    row = {
        "name": ["王芳", "李强", "马晓燕", "杨建国", "赵丽"][n % 5] + (str(n) if n >= 5 else ""),
        "id_number": id_number(f"{n % 1000:03d}", birth=f"19{80 + n // 1000 % 20}0612"),
        "employer": "宁夏回族自治区人民医院",
        "series": "卫生",
        "title_level": "中级",
        "title_obtained_on": "2019/7/1",
        "degree": "本科",
        "phone": f"139{n:08d}",
    }
    row.update(changes)
    return row


def cells(rows: Sequence[dict[str, str]], header: Sequence[str] = HEADER_ZH) -> list[list[str]]:
    return [list(header)] + [[r.get(f, "") for f in HEADER_EN] for r in rows]


def csv_file(rows: Sequence[dict[str, str]], *, header: Sequence[str] = HEADER_ZH,
             encoding: str = "utf-8-sig") -> bytes:  # fmt: skip
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(cells(rows, header))
    return out.getvalue().encode(encoding)


def xlsx_file(table: list[list[Any]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in table:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def post_roster(
    client: httpx.AsyncClient,
    content: bytes,
    *,
    filename: str = "花名册.csv",
    headers: dict[str, str] = ADMIN,
    **params: str,
) -> httpx.Response:
    return await client.post(
        "/learners/roster",
        params=params,
        files={"file": (filename, content, "application/octet-stream")},
        headers=headers,
    )


def errors_of(answer: dict[str, Any]) -> dict[int, list[tuple[str, str, str]]]:
    """row -> its errors as (field, value, message)."""
    return {
        r["row"]: [(e["field"], e["value"], e["message"]) for e in r["errors"]]
        for r in answer["rows"]
        if r["errors"]
    }
