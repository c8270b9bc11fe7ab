"""Credit-ledger figures on the embedded store: the audit of a learner with 2,000 ledger
entries, and a rebuild of the ledger from 100,000 statements.

    python bench/credits.py [--statements 100000] [--learners 500]

Runs the service in process (the catalog loaded), times `GET /learners/{id}/audit` over
the ASGI transport, then stores the statements (without crediting them) and times
`rebuild` of every learner's ledger. Prints medians/p95 and totals; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, embedded_app, percentile  # noqa: E402

from catalog.models import Course  # noqa: E402
from credits import learners as credit_learners  # noqa: E402
from credits import ledger as credit_ledger  # noqa: E402
from credits.id_numbers import check_digit  # noqa: E402
from credits.models import LedgerEntry  # noqa: E402
from credits.schemas import LearnerCreate  # noqa: E402
from lrs import identity  # noqa: E402
from lrs.statements import store as statements  # noqa: E402
from lrs.versions import V2  # noqa: E402
from nxce.core import db  # noqa: E402

HOME = "https://nxce.example"
NOW = datetime.now(UTC).replace(microsecond=0)
VERBS = [
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/passed",
    "http://adlnet.gov/expapi/verbs/progressed",
]


def id_number(n: int) -> str:
    first = f"6401021985{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return first + check_digit(first)


def learner(n: int) -> LearnerCreate:
    return LearnerCreate(
        id=f"learner{n:05d}",
        name=f"学员{n}",
        id_number=id_number(n),
        employer="宁夏回族自治区人民医院",
        series="会计",
        title_level="junior",
        degree="bachelor",
    )  # type: ignore[arg-type]


async def audit_figures(app: Any, entries: int) -> None:
    state = app.state.credits
    await credit_learners.create_learner(credits=state, learner_in=learner(99999), by="bench")
    rng = random.Random(1)
    began = time.perf_counter()
    for n in range(entries):
        kind = rng.choice(["study_tour", "manual"])
        day = f"{rng.choice([2018, 2019, 2020, 2021])}-0{rng.randint(1, 9)}-1{rng.randint(0, 9)}"
        details: dict[str, Any] = (
            {"date": day, "days": rng.randint(1, 5)}
            if kind == "study_tour"
            else {
                "date": day,
                "category": rng.choice(["public", "professional"]),
                "hours": rng.choice([1.0, 2.0, 3.5]),
                "basis": f"研修班结业证书 第{n}号",
            }
        )
        await credit_ledger.add_manual(
            credits=state,
            learner_id="learner99999",
            kind=kind,
            details=details,
            description=None,
            evidence="证明材料",
            by="bench",
        )
    print(f"recorded {entries} manual entries in {time.perf_counter() - began:.1f} s")
    times = []
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", auth=ADMIN) as http:
        for _ in range(60):
            began = time.perf_counter()
            response = await http.get(
                "/learners/learner99999/audit", params={"level": "intermediate", "year": 2022}
            )
            times.append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
    print(
        f"audit of a learner with {entries} entries (HTTP, in process): "
        f"median {statistics.median(times[10:]):.1f} ms, p95 {percentile(times[10:], 95):.1f} ms"
    )


def statement(rng: random.Random, learner_id: str, activity: str) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {"name": learner_id, "account": {"homePage": HOME, "name": learner_id}},
        "verb": {"id": rng.choice(VERBS)},
        "object": {"id": activity},
        "result": {"completion": rng.random() < 0.5},
        # Completions of the last weeks: inside the policy's back-dating limit, so counted.
        "timestamp": (NOW - timedelta(days=rng.randint(0, 20))).isoformat(),
    }


async def rebuild_figures(app: Any, total: int, learners: int) -> None:
    state = app.state.credits
    activities = [
        c["activity_id"] async for c in db.collection(Course).find({}, {"activity_id": 1})
    ]
    rng = random.Random(2)
    for n in range(learners):
        await credit_learners.create_learner(credits=state, learner_in=learner(n), by="bench")
    writer = statements.Writer(identity.authority(key="bench", name="bench", home_page=HOME))
    began = time.perf_counter()
    batch: list[dict[str, Any]] = []
    for n in range(total):
        batch.append(statement(rng, f"learner{n % learners:05d}", rng.choice(activities)))
        if len(batch) == 1000:
            await statements.store(statements=batch, version=V2, writer=writer)
            batch = []
    if batch:
        await statements.store(statements=batch, version=V2, writer=writer)
    stored = time.perf_counter() - began
    print(
        f"stored {total} statements for {learners} learners in {stored:.1f} s "
        f"({total / stored:.0f} statements/s, batches of 1000, no crediting)"
    )
    began = time.perf_counter()
    count = await credit_ledger.rebuild(credits=state)
    elapsed = time.perf_counter() - began
    counted = await LedgerEntry.find({"status": "counted"}).count()
    print(
        f"rebuild of the ledger from {total} statements: {elapsed:.1f} s "
        f"({count} entries, {counted} counted)"
    )


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=100_000)
    parser.add_argument("--learners", type=int, default=500)
    parser.add_argument("--entries", type=int, default=2000)
    args = parser.parse_args()
    async with embedded_app("nxce-credits-") as app:
        await audit_figures(app, args.entries)
        await rebuild_figures(app, args.statements, args.learners)


if __name__ == "__main__":
    asyncio.run(main())
