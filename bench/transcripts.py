"""Transcript figures on the embedded store: one learner's transcript with 500 entries in
each format, and batch exports of 1,000 learners as CSV and as PDF.

    python bench/transcripts.py [--entries 500] [--learners 1000] [--per-learner 20]

Runs the service in process (the catalog loaded). The ledgers are written straight to the
store as completions of real catalog courses (what the projector would write), then
`GET /learners/{id}/transcript` and `POST /exports` are timed over the ASGI transport.
Prints medians and totals; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from catalog.models import Course  # noqa: E402
from credits import learners as credit_learners  # noqa: E402
from credits.id_numbers import check_digit  # noqa: E402
from credits.models import EntryStatus, LedgerEntry  # noqa: E402
from credits.schemas import LearnerCreate  # noqa: E402
from nxce.core import db  # noqa: E402

EMPLOYER = "宁夏回族自治区人民医院"
NOW = datetime.now(UTC).replace(microsecond=0)


def id_number(n: int) -> str:
    first = f"6401021985{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first + check_digit(first)


async def add_learner(app: Any, n: int, employer: str) -> str:
    learner_in = LearnerCreate(
        id=f"learner{n:05d}",
        name=f"学员{n}",
        id_number=id_number(n),
        employer=employer,
        series="卫生",
        title_level="junior",
        degree="bachelor",
    )  # type: ignore[arg-type]
    await credit_learners.create_learner(
        credits=app.state.credits, learner_in=learner_in, by="bench"
    )
    return learner_in.id


def ledger_rows(
    rng: random.Random, learner_id: str, courses: list[dict[str, Any]], count: int
) -> list[dict[str, Any]]:
    rows = []
    for n, course in enumerate(rng.sample(courses, count)):
        day = date(rng.randint(2017, 2021), rng.randint(1, 12), rng.randint(1, 28))
        status = rng.choices(list(EntryStatus), weights=[90, 6, 4])[0]
        entry = LedgerEntry(
            entry_id=f"{learner_id}-{n}",
            learner_id=learner_id,
            year=day.year,
            occurred_on=day,
            category=course["category"],
            hours=course["hours"],
            kind="completion",
            source_kind="statement",
            source_ref=f"statement-{learner_id}-{n}",
            source={"course_code": course["code"], "course_title": course["title"]},
            clause="§一(一)",
            policy_id="ningxia-2022",
            status=status,
            recorded_by="system",
            recorded_at=NOW,
        )
        rows.append(db.new_document(entry))
    return rows


async def one_transcript(http: httpx.AsyncClient, learner_id: str, entries: int) -> None:
    for fmt in ("json", "csv", "xlsx", "pdf"):
        times = []
        for _ in range(12):
            began = time.perf_counter()
            response = await http.get(
                f"/learners/{learner_id}/transcript",
                params={"format": fmt, "level": "deputy_senior", "year": 2022},
            )
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
        median, p95 = statistics.median(times[2:]), percentile(times[2:], 95)
        print(
            f"transcript of {entries} entries as {fmt:4}: median {median:6.1f} ms, "
            f"p95 {p95:6.1f} ms ({len(response.content):,} bytes)"
        )


async def batch(http: httpx.AsyncClient, fmt: str, learners: int, per_learner: int) -> None:
    began = time.perf_counter()
    response = await http.post(
        "/exports",
        json={"employer": EMPLOYER, "format": fmt, "level": "deputy_senior", "year": 2022},
    )
    assert response.status_code == 202, response.text
    job = response.json()
    while job["status"] not in ("done", "failed"):
        await asyncio.sleep(0.1)
        job = (await http.get(f"/exports/{job['id']}")).json()
    elapsed = time.perf_counter() - began
    assert job["status"] == "done", job
    print(
        f"export of {learners} learners ({per_learner} entries each) as {fmt}: {elapsed:.1f} s "
        f"({learners / elapsed:.0f} transcripts/s, ZIP {job['file']['bytes'] / 1e6:.1f} MB)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--learners", type=int, default=1000)
    parser.add_argument("--per-learner", type=int, default=20)
    args = parser.parse_args()
    rng = random.Random(7)
    async with embedded_app("nxce-transcripts-") as app:
        courses = [
            c
            async for c in db.collection(Course).find(
                {}, {"code": 1, "title": 1, "hours": 1, "category": 1, "_id": 0}
            )
        ]
        ledger = db.collection(LedgerEntry)
        one = await add_learner(app, 99999, "宁夏医科大学总医院")
        await ledger.insert_many(ledger_rows(rng, one, courses, args.entries))
        began = time.perf_counter()
        for n in range(args.learners):
            learner_id = await add_learner(app, n, EMPLOYER)
            await ledger.insert_many(ledger_rows(rng, learner_id, courses, args.per_learner))
        print(
            f"wrote {args.learners} learners and {args.learners * args.per_learner} "
            f"ledger entries in {time.perf_counter() - began:.1f} s"
        )
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", auth=ADMIN, timeout=600
        ) as http:
            await one_transcript(http, one, args.entries)
            await batch(http, "csv", args.learners, args.per_learner)
            await batch(http, "pdf", args.learners, args.per_learner)


if __name__ == "__main__":
    asyncio.run(main())
