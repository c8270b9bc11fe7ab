"""Popularity and recommendation figures on the embedded store (issue 19).

    python bench/recommendations.py [--statements 30000] [--learners 300] [--requests 40]

Runs the service in process (the catalog loaded), stores the statements (a third of them
completions, of the last weeks) for the learners and credits them, then times:
- `completions_by_course()` over the whole ledger (the full push at start counts this);
- `completions_by_course(codes=…)` for 100 courses (what a 30-s push recounts after a busy
  half-minute);
- the popularity push itself (`push_all`; `push_changed` after 100 courses' counts moved
  by one each);
- `GET /learners/{id}/recommendations` over the ASGI transport for learners with about
  `statements / learners` statements each (median, p95).
Prints the figures; asserts nothing.
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
from credits import popularity  # noqa: E402
from credits import projection as credit_projection  # noqa: E402
from credits.id_numbers import check_digit  # noqa: E402
from credits.models import LedgerEntry  # noqa: E402
from credits.schemas import LearnerCreate  # noqa: E402
from lrs import identity  # noqa: E402
from lrs.statements import store as statements  # noqa: E402
from lrs.versions import V2  # noqa: E402
from nxce.core import db  # noqa: E402

HOME = "https://nxce.example"
NOW = datetime.now(UTC).replace(microsecond=0)
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
SERIES = ["工程", "会计", "教师", "卫生", "农业", "枸杞"]


def learner(n: int) -> LearnerCreate:
    first = f"6401021985{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return LearnerCreate.model_validate(
        {
            "id": f"learner{n:05d}",
            "name": f"学员{n}",
            "id_number": first + check_digit(first),
            "employer": "宁夏某单位",
            "series": SERIES[n % len(SERIES)],
            "title_level": "junior",
            "title_obtained_on": "2016-07-01",
            "degree": "bachelor",
        }
    )


def statement(rng: random.Random, learner_id: str, activity: str) -> dict[str, Any]:
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {"name": learner_id, "account": {"homePage": HOME, "name": learner_id}},
        "verb": {"id": COMPLETED if rng.random() < 1 / 3 else PROGRESSED},
        "object": {"id": activity},
        "timestamp": (NOW - timedelta(days=rng.randint(0, 20))).isoformat(),
    }


async def fill(app: Any, total: int, learners: int) -> None:
    state = app.state.credits
    activities = [
        c["activity_id"] async for c in db.collection(Course).find({}, {"activity_id": 1})
    ]
    rng = random.Random(19)
    for n in range(learners):
        await credit_learners.create_learner(credits=state, learner_in=learner(n), by="bench")
    writer = statements.Writer(identity.authority(key="bench", name="bench", home_page=HOME))
    batch: list[dict[str, Any]] = []
    # A skewed choice of courses, as learners' choices are: some courses are popular.
    weights = [1.0 / (1 + i) ** 0.8 for i in range(len(activities))]
    for n in range(total):
        chosen = rng.choices(activities, weights)[0]
        batch.append(statement(rng, f"learner{n % learners:05d}", chosen))
        if len(batch) == 1000:
            await statements.store(statements=batch, version=V2, writer=writer)
            batch = []
    if batch:
        await statements.store(statements=batch, version=V2, writer=writer)
    began = time.perf_counter()
    # Credited as the service credits statements stored but not yet credited (so the
    # service's catch-up loop finds nothing left to do while the figures are taken).
    await credit_projection.catch_up(credits=state)
    entries = await LedgerEntry.find({"kind": "completion"}).count()
    print(
        f"{total} statements for {learners} learners credited in "
        f"{time.perf_counter() - began:.1f} s ({entries} completion entries)"
    )


async def timed(label: str, work: Any, repeat: int = 5) -> None:
    times = []
    for _ in range(repeat):
        began = time.perf_counter()
        await work()
        times.append((time.perf_counter() - began) * 1000)
    print(f"{label}: median {statistics.median(times):.1f} ms over {repeat}")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=30_000)
    parser.add_argument("--learners", type=int, default=300)
    parser.add_argument("--requests", type=int, default=40)
    args = parser.parse_args()
    async with embedded_app("nxce-recs-") as app:
        await fill(app, args.statements, args.learners)
        counts = await popularity.completions_by_course()
        some = sorted(counts)[:100]
        print(f"{len(counts)} courses completed at least once; the most by {max(counts.values())}")
        await timed("completions_by_course() (every course)", popularity.completions_by_course)
        await timed(
            "completions_by_course(codes=100 courses)",
            lambda: popularity.completions_by_course(codes=some),
        )
        push = app.state.popularity
        if hasattr(app.state.search, "set_popularity"):
            await timed("popularity push of every course (start)", push.push_all)

            async def changed() -> int:
                # 100 courses' counts moved by one (as completions would move them).
                for code in some:
                    push.popularity.moved(code, False, True)
                return int(await push.push_changed())

            await timed("popularity push of 100 courses changed", changed)
        else:
            print("the search backend has no set_popularity: push not timed")
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", auth=ADMIN
        ) as http:
            times = []
            for n in range(args.requests):
                learner_id = f"learner{(n * 7) % args.learners:05d}"
                began = time.perf_counter()
                answer = await http.get(f"/learners/{learner_id}/recommendations")
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, answer.text
            body = answer.json()
            print(
                f"GET /learners/{{id}}/recommendations ({args.statements // args.learners} "
                f"statements a learner, {len(body['items'])} items): median "
                f"{statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms "
                f"over {args.requests}"
            )


if __name__ == "__main__":
    asyncio.run(main())
