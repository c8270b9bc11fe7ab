"""Record-store figures on the embedded store: ingestion, queries, validation.

    python bench/lrs.py [--requests 400]

Starts `nxce serve` in a subprocess and, over HTTP from this process (8 requests in
flight), times POSTs of 1 statement and of 50 statements, then GET /xapi/statements
filtered by agent, by verb and by activity; then times validation alone in this process.
Prints throughputs and latency medians/p95; asserts nothing. Client and server share
the machine's two cores.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile  # noqa: E402

from lrs.statements.validation.statement import validate  # noqa: E402
from lrs.versions import V2  # noqa: E402

USER, PASSWORD = "bench", "bench-secret-123"
HEADERS = {"X-Experience-API-Version": "2.0.0"}
VERBS = [
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/progressed",
    "http://adlnet.gov/expapi/verbs/passed",
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def statement(rng: random.Random, learners: int = 200, courses: int = 300) -> dict[str, Any]:
    learner = rng.randrange(learners)
    course = rng.randrange(courses)
    return {
        "id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "actor": {
            "objectType": "Agent",
            "name": f"学员{learner}",
            "account": {"homePage": "https://nxce.example", "name": f"learner{learner}"},
        },
        "verb": {"id": rng.choice(VERBS), "display": {"zh-CN": "完成"}},
        "object": {
            "id": f"https://nxce.example/xapi/activities/course/WS-{course:04d}",
            "definition": {"name": {"zh-CN": f"课程{course}"}},
        },
        "result": {
            "completion": True,
            "success": True,
            "duration": "PT25M",
            "score": {"scaled": round(rng.random(), 2)},
        },
        "context": {
            "registration": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            "platform": "宁夏继续教育App",
            "language": "zh-CN",
        },
        "timestamp": "2022-05-01T08:30:00+08:00",
    }


def start() -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "NXCE_LOG_LEVEL": "warning",
        "NXCE_DATA_DIR": tempfile.mkdtemp(),
        "NXCE_BOOTSTRAP_ADMIN": f"{USER}:{PASSWORD}",
        "NXCE_SEED_FIXTURES": "false",
    }
    env.pop("NXCE_MONGODB_URL", None)
    env.pop("NXCE_MEILI_URL", None)
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("nxce")), "serve", "--port", str(port)],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            if httpx.get(f"{url}/xapi/about", timeout=1).status_code == 200:
                return server, url
        except httpx.HTTPError:
            pass
        time.sleep(0.05)
    raise SystemExit("nxce serve did not start")


async def post_batches(url: str, batches: list[list[dict[str, Any]]]) -> tuple[float, list[float]]:
    """Post every batch, 8 at a time; answers (seconds in all, latency of each)."""
    limit = asyncio.Semaphore(8)
    latencies: list[float] = []
    async with httpx.AsyncClient(
        base_url=url, auth=(USER, PASSWORD), headers=HEADERS, timeout=60
    ) as client:

        async def one(batch: list[dict[str, Any]]) -> None:
            async with limit:
                began = time.perf_counter()
                response = await client.post(
                    "/xapi/statements", json=batch if len(batch) > 1 else batch[0]
                )
                latencies.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.text

        began = time.perf_counter()
        await asyncio.gather(*(one(b) for b in batches))
        return time.perf_counter() - began, latencies


async def queries(url: str, rng: random.Random, count: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {"agent": [], "verb": [], "activity": []}
    async with httpx.AsyncClient(
        base_url=url, auth=(USER, PASSWORD), headers=HEADERS, timeout=60
    ) as client:
        for n in range(count):
            kind = ("agent", "verb", "activity")[n % 3]
            if kind == "agent":
                value = json.dumps(
                    {
                        "account": {
                            "homePage": "https://nxce.example",
                            "name": f"learner{rng.randrange(200)}",
                        }
                    }
                )
            elif kind == "verb":
                value = rng.choice(VERBS)
            else:
                value = f"https://nxce.example/xapi/activities/course/WS-{rng.randrange(300):04d}"
            began = time.perf_counter()
            response = await client.get("/xapi/statements", params={kind: value, "limit": 20})
            times[kind].append((time.perf_counter() - began) * 1000)
            assert response.status_code == 200, response.text
    return times


def validation_rate(rng: random.Random, seconds: float = 3.0) -> float:
    sample = [statement(rng) for _ in range(2000)]
    done = 0
    began = time.perf_counter()
    while time.perf_counter() - began < seconds:
        for s in sample:
            validate(s, V2)
        done += len(sample)
    return done / (time.perf_counter() - began)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=400)
    args = parser.parse_args()
    rng = random.Random(2022)
    server, url = start()
    try:
        singles = [[statement(rng)] for _ in range(args.requests)]
        seconds, latencies = asyncio.run(post_batches(url, singles))
        print(
            f"POST 1 statement, 8 in flight:    {len(singles) / seconds:7.0f} statements/s   "
            f"latency median {statistics.median(latencies):6.1f} ms, "
            f"p95 {percentile(latencies, 95):6.1f} ms"
        )
        batches = [[statement(rng) for _ in range(50)] for _ in range(args.requests // 4)]
        seconds, latencies = asyncio.run(post_batches(url, batches))
        stored = len(singles) + 50 * len(batches)
        print(
            f"POST 50 statements, 8 in flight:  {50 * len(batches) / seconds:7.0f} statements/s   "
            f"latency median {statistics.median(latencies):6.1f} ms, "
            f"p95 {percentile(latencies, 95):6.1f} ms"
        )
        times = asyncio.run(queries(url, rng, 300))
        for kind, values in times.items():
            print(
                f"GET /xapi/statements?{kind}= (limit 20, {stored} stored): "
                f"median {statistics.median(values):6.1f} ms, p95 {percentile(values, 95):6.1f} ms"
            )
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(timeout=30)
    print(f"validation alone, one core:        {validation_rate(rng):7.0f} statements/s")


if __name__ == "__main__":
    main()
