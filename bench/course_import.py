"""Time of a bulk course import of 4,000 rows (`POST /courses/import`) on the embedded
default (durable, on disk), over the ASGI transport in process: the dry run and the apply
of a CSV and of the same rows as XLSX — 2,000 courses of the catalog with changed hours
and 2,000 new courses.

    python bench/course_import.py [--rounds 3] [--rows 4000]

Each round imports a file of its own (other new codes, other hours), so each apply
writes. Prints the median wall and process CPU time of each step. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import io
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import httpx
from openpyxl import Workbook

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app  # noqa: E402

from catalog.models import Course  # noqa: E402

HEADER = ["课程编号", "课程名称", "类别", "系列", "专业", "学时", "年度", "提供机构", "标签"]


def rows_of(existing: list[Course], count: int, round_: int) -> list[list[str]]:
    rows = []
    for n, c in enumerate(existing[: count // 2]):
        hours = min(200.0, c.hours + 0.5 * (round_ + 1))
        rows.append([c.code, c.title, "专业课", c.series or "", c.subject, f"{hours:g}",
                     str(c.year), c.base, "、".join(c.tags)])  # fmt: skip
        rows.append([f"BM-{round_}{n:05d}", f"枸杞产业批量导入课程{round_}-{n}", "专业课",
                     "枸杞", "枸杞栽培", "1.5", "2022", "宁夏农林科学院", "枸杞"])  # fmt: skip
    return rows


def as_csv(rows: list[list[str]]) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([HEADER, *rows])
    return "\ufeff".encode() + out.getvalue().encode()


def as_xlsx(rows: list[list[str]]) -> bytes:
    book = Workbook()
    sheet = book.active
    for row in [HEADER, *rows]:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


async def timed(step: Any) -> tuple[float, float, Any]:
    wall, cpu = time.perf_counter(), time.process_time()
    result = await step
    return time.perf_counter() - wall, time.process_time() - cpu, result


async def run(rounds: int, count: int) -> None:
    async with embedded_app("nxce-bench-import-") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", auth=ADMIN, timeout=600
        ) as admin:
            existing = await Course.find({"category": "professional"}).sort("code").to_list()
            figures: dict[str, list[tuple[float, float]]] = {}
            for round_ in range(rounds):
                rows = rows_of(existing, count, round_)
                files_of = {"csv": as_csv(rows), "xlsx": as_xlsx(rows)}
                if round_ == 0:
                    sizes = {k: len(v) // 1024 for k, v in files_of.items()}
                for kind, content in files_of.items():
                    files = {"file": (f"courses.{kind}", content)}
                    wall, cpu, dry = await timed(admin.post("/courses/import", files=files))
                    assert dry.status_code == 200, dry.text[:300]
                    figures.setdefault(f"dry run ({kind}, {sizes[kind]} KB)", []).append(
                        (wall, cpu)
                    )
                    if kind == "xlsx":
                        continue  # the CSV of the round is applied
                    body = dry.json()
                    params = {"dry_run": "false", "sha256": body["sha256"], "plan": body["plan"]}
                    wall, cpu, done = await timed(
                        admin.post("/courses/import", files=files, params=params)
                    )
                    assert done.status_code == 200, done.text[:300]
                    counts = (body["created"], body["updated"])
                    figures.setdefault(
                        f"apply (csv: {counts[0]} new, {counts[1]} changed)", []
                    ).append((wall, cpu))
    print(f"{count} rows, {rounds} rounds; load {os.getloadavg()[0]:.1f}")
    for name, values in figures.items():
        walls = statistics.median(w for w, _ in values)
        cpus = statistics.median(c for _, c in values)
        print(f"  {name:45} median {walls:6.2f} s wall, {cpus:6.2f} s CPU")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--rows", type=int, default=4000)
    args = parser.parse_args()
    asyncio.run(run(args.rounds, args.rows))


if __name__ == "__main__":
    main()
