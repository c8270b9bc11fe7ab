"""What "last used" costs on the hottest authenticated route: every HTTP Basic request
reads its client (as before), and writes `last_used_at` at most once a minute per client
(a conditional update, only when the value just read is a minute old).

    python bench/last_used.py [--requests 200] [--rounds 7]

Runs the service in process over a durable embedded store (the catalog loaded) and times
`GET /xapi/statements?limit=1` with an HTTP Basic client (its scrypt verification
remembered after the first request, as in service), in three ways taking turns round by
round, each first in turn, so that the machine's load falls on each alike: `without` (the
write switched off: the code before "last used"), `once a minute` (as shipped) and
`every request` (the write made on every request, what "at most once a minute" avoids).
Prints the median and p95 per request, the process CPU time per request, and the ratio
to `without`. Asserts nothing but that each request succeeded.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import embedded_app, percentile  # noqa: E402

from nxce.core import clients  # noqa: E402
from nxce.core.clients import Scope  # noqa: E402

XAPI = {"X-Experience-API-Version": "2.0.0"}
KEY, SECRET = "bench-reader", "bench-reader-secret-1"


def basic(key: str, secret: str) -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()}


async def _never(client: clients.Client, *, at: Any = None) -> bool:
    return False


async def main(requests: int, rounds: int) -> None:
    async with embedded_app("nxce-bench-last-used-") as app:
        await clients.create(key=KEY, name="读取", scopes=[Scope.all_read], secret=SECRET)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            headers = {**XAPI, **basic(KEY, SECRET)}
            for _ in range(20):  # warm up: the secret verified once, then remembered
                assert (await http.get("/xapi/statements?limit=1", headers=headers)).is_success
            shipped, every_minute = clients.note_used, clients.USED_EVERY
            modes = {
                "without": lambda: setattr(clients, "note_used", _never),
                "once a minute": lambda: setattr(clients, "note_used", shipped),
                "every request": lambda: setattr(clients, "USED_EVERY", timedelta(0)),
            }
            wall: dict[str, list[float]] = {m: [] for m in modes}
            cpu: dict[str, list[float]] = {m: [] for m in modes}
            order = list(modes.items())
            for turn in range(rounds):
                for mode, switch in order[turn % 3 :] + order[: turn % 3]:  # each first in turn
                    clients.note_used, clients.USED_EVERY = shipped, every_minute
                    switch()
                    started_cpu = time.process_time()
                    for _ in range(requests):
                        started = time.perf_counter()
                        response = await http.get("/xapi/statements?limit=1", headers=headers)
                        wall[mode].append(time.perf_counter() - started)
                        assert response.is_success, response.text
                    cpu[mode].append((time.process_time() - started_cpu) / requests)
            clients.note_used, clients.USED_EVERY = shipped, every_minute
    base = statistics.median(wall["without"])
    for mode in modes:
        ms = [t * 1000 for t in wall[mode]]
        print(
            f"{mode:<14} median {statistics.median(ms):6.3f} ms  p95 {percentile(ms, 95):6.3f} ms"
            f"  cpu {statistics.median(cpu[mode]) * 1000:6.3f} ms/request"
            f"  ratio {statistics.median(wall[mode]) / base:5.3f}"
        )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=7)
    arguments = parser.parse_args()
    asyncio.run(main(arguments.requests, arguments.rounds))
