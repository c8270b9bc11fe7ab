"""Sizes of stored statements (docs/scale.md): statements shaped as the app sends them
(launched / progressed / completed, Chinese names, a registration, a result with a
duration) go through the service's write path; the records are read back and their BSON
size and index key payloads printed.

    python bench/sizes.py [--statements 300]
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import uuid
from pathlib import Path
from typing import Any

import bson
import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # the packages before bench/ (bench/lrs.py is not `lrs`)

from common import ADMIN, embedded_app  # noqa: E402

VERBS = [
    ("http://adlnet.gov/expapi/verbs/launched", "开始"),
    ("http://adlnet.gov/expapi/verbs/progressed", "进度"),
    ("http://adlnet.gov/expapi/verbs/completed", "完成"),
]
INDEXED = [
    "statement_id", "agents", "related_agents", "verbs", "activities",
    "related_activities", "registrations", "authority",
]  # fmt: skip


def statement(i: int) -> dict[str, Any]:
    verb, shown = VERBS[i % 3]
    found: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "actor": {
            "objectType": "Agent",
            "name": "张伟",
            "account": {"homePage": "https://nxce.example", "name": f"learner{i // 3:07d}"},
        },
        "verb": {"id": verb, "display": {"zh-CN": shown}},
        "object": {
            "objectType": "Activity",
            "id": f"https://nxce.example/xapi/activities/course/ZY-GQ-{i % 500:04d}",
            "definition": {
                "name": {"zh-CN": "枸杞产业高质量发展实务"},
                "type": "http://adlnet.gov/expapi/activities/course",
            },
        },
        "context": {
            "platform": "宁夏继续教育 App 3.2 (Android)",
            "language": "zh-CN",
            "registration": str(uuid.uuid4()),
        },
        "timestamp": "2026-12-01T20:15:30.123+08:00",
    }
    if i % 3:
        found["result"] = {"duration": "PT25M12S", "completion": i % 3 == 2}
    return found


def key_bytes(value: Any) -> int:
    """The payload of a record's index entries for one field (with the 8-byte stored_us)."""
    values = value if isinstance(value, list) else [value]
    return sum(len(str(v).encode()) + 8 for v in values if v)


async def main(count: int) -> None:
    from lrs.statements.models import StatementRecord
    from nxce.core import db

    token = base64.b64encode(":".join(ADMIN).encode()).decode()
    headers = {"Authorization": f"Basic {token}", "X-Experience-API-Version": "2.0.0"}
    async with embedded_app("nxce-sizes-") as app:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            for first in range(0, count, 50):
                batch = [statement(i) for i in range(first, min(count, first + 50))]
                answer = await http.post("/xapi/statements", json=batch, headers=headers)
                answer.raise_for_status()
        records = [r async for r in db.collection(StatementRecord).find({}, {"_id": 0})]
    sizes = [len(bson.encode(r)) for r in records]
    texts = [len(r["document"].encode()) for r in records]
    print(f"statements: {len(records)}")
    print(f"record BSON bytes: median {statistics.median(sizes):.0f}, max {max(sizes)}")
    print(f"statement JSON text bytes: median {statistics.median(texts):.0f}")
    for field in INDEXED:
        payload = statistics.mean(key_bytes(r.get(field)) for r in records)
        print(f"index key payload, {field} + stored_us: {payload:.0f} bytes a statement")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--statements", type=int, default=300)
    asyncio.run(main(parser.parse_args().statements))
