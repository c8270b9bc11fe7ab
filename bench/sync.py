"""Mobile sync figures on the embedded store: one device pushes 500 queued statements in
batches of 50 (plain and gzip-compressed), and pulls them back with `since`, following
`more`; then a learner's progress with those statements stored.

    python bench/sync.py [--statements 500] [--batch 50] [--runs 7]

Runs the service in process (the catalog loaded), as the learner's app (a client bound to
the learner). Prints medians over the runs; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import json
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

from common import ADMIN, embedded_app  # noqa: E402

from catalog.models import Course  # noqa: E402
from nxce.core import clients, db  # noqa: E402
from nxce.core.clients import Scope  # noqa: E402

PHONE = ("zhangwei-phone", "zhangwei-phone-secret")
HOME = "https://nxce.example"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
VERBS = [
    "http://adlnet.gov/expapi/verbs/progressed",
    "http://adlnet.gov/expapi/verbs/experienced",
    "http://adlnet.gov/expapi/verbs/completed",
]
HEADERS = {"X-Experience-API-Version": "2.0.0", "Content-Type": "application/json"}


def queued(rng: random.Random, activities: list[str], count: int) -> list[dict[str, Any]]:
    """What a phone recorded offline: the learner's statements of the last days."""
    start = datetime.now(UTC) - timedelta(days=5)
    return [
        {
            "id": str(uuid.uuid4()),
            "actor": {"name": "张伟", "account": {"homePage": HOME, "name": "zhangwei"}},
            "verb": {"id": rng.choice(VERBS), "display": {"zh-CN": "学习"}},
            "object": {"objectType": "Activity", "id": rng.choice(activities)},
            "result": {"extensions": {PROGRESS: rng.randint(1, 99)}},
            "timestamp": (start + timedelta(seconds=n * 60)).isoformat(),
        }
        for n in range(count)
    ]


async def push(
    http: httpx.AsyncClient, statements: list[dict[str, Any]], size: int, compress: bool
) -> float:
    began = time.perf_counter()
    for at in range(0, len(statements), size):
        body = json.dumps(statements[at : at + size], ensure_ascii=False).encode()
        headers = dict(HEADERS)
        if compress:
            body, headers["Content-Encoding"] = gzip.compress(body), "gzip"
        response = await http.post("/xapi/statements", content=body, headers=headers)
        assert response.status_code == 200, response.text
    return time.perf_counter() - began


async def pull(http: httpx.AsyncClient, since: str, expected: int) -> float:
    began = time.perf_counter()
    headers = {**HEADERS, "Accept-Encoding": "gzip"}
    response = await http.get("/xapi/statements", params={"since": since}, headers=headers)
    found = len(response.json()["statements"])
    more = response.json()["more"]
    while more:
        response = await http.get(more, headers=headers)
        found += len(response.json()["statements"])
        more = response.json()["more"]
    elapsed = time.perf_counter() - began
    assert found == expected, (found, expected)
    return elapsed


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--statements", type=int, default=500)
    parser.add_argument("--batch", type=int, default=50)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    rng = random.Random(3)
    async with embedded_app("nxce-sync-") as app:
        activities = [
            c["activity_id"]
            async for c in db.collection(Course).find({}, {"activity_id": 1}).limit(200)
        ]
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", auth=ADMIN
        ) as admin:
            learner = {
                "id": "zhangwei", "name": "张伟", "id_number": "640102198503121239",
                "employer": "宁夏建工集团有限公司", "series": "工程",
                "title_level": "junior", "degree": "bachelor",
            }  # fmt: skip
            assert (await admin.post("/learners", json=learner)).status_code == 201
        await clients.create(
            key=PHONE[0],
            name="张伟的手机",
            scopes=[Scope.statements_write, Scope.statements_read_mine, Scope.state],
            secret=PHONE[1],
            learner_id="zhangwei",
        )
        async with httpx.AsyncClient(
            transport=transport, base_url="http://bench", auth=PHONE, timeout=60
        ) as phone:
            figures: dict[str, list[float]] = {"push": [], "push gzip": [], "pull": []}
            progress = []
            for run in range(args.runs):
                compress = run % 2 == 1
                response = await phone.get("/xapi/statements", params={"limit": 1},
                                           headers=HEADERS)  # fmt: skip
                since = response.headers["X-Experience-API-Consistent-Through"]
                statements = queued(rng, activities, args.statements)
                took = await push(phone, statements, args.batch, compress)
                figures["push gzip" if compress else "push"].append(took)
                figures["pull"].append(await pull(phone, since, args.statements))
                began = time.perf_counter()
                found = await phone.get("/learners/zhangwei/progress")
                assert found.status_code == 200, found.text
                progress.append(time.perf_counter() - began)
        for name, values in figures.items():
            print(
                f"{name:10}: {args.statements} statements in batches of {args.batch}: "
                f"median {statistics.median(values):.2f} s (n={len(values)})"
            )
        print(
            f"progress of a learner with up to {args.statements * args.runs} statements: "
            f"median {statistics.median(progress) * 1000:.0f} ms, "
            f"last {progress[-1] * 1000:.0f} ms"
        )


if __name__ == "__main__":
    asyncio.run(main())
