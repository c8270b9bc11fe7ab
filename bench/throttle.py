"""What the sign-in throttle in the store costs (nxce/core/throttle.py): a successful
HTTP Basic request reads one window (by a unique index) and writes nothing; a failure
pushes to two windows (two upserts, committed to the medium).

    python bench/throttle.py [--requests 400] [--failures 40]

Runs the service in process over a durable embedded store (no catalog), and times
`--requests` successful Basic requests (`GET /learners/nobody`, answered 404 after the
credentials: the scrypt verification remembered after the first, as in service), and
`--failures` failed ones (a wrong secret: one scrypt each, real cost); then the throttle
alone: `check` of a key with no window and of a key with one, and `failed`. Prints
medians, p95 and CPU time per call; asserts nothing but the statuses.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, percentile  # noqa: E402

from nxce.app import create_app  # noqa: E402
from nxce.core.throttle import Throttle  # noqa: E402
from nxce.settings import Settings  # noqa: E402


def line(what: str, walls: list[float], cpu: float) -> None:
    print(
        f"{what:<44} median {statistics.median(walls) * 1000:7.3f} ms  "
        f"p95 {percentile(walls, 95) * 1000:7.3f} ms  CPU {cpu / len(walls) * 1000:7.3f} ms"
    )


async def timed(what: str, count: int, call: Callable[[int], Awaitable[None]]) -> None:
    walls = []
    cpu = time.process_time()
    for n in range(count):
        started = time.perf_counter()
        await call(n)
        walls.append(time.perf_counter() - started)
    line(what, walls, time.process_time() - cpu)


async def main(requests: int, failures: int) -> None:
    data = Path(tempfile.mkdtemp(prefix="nxce-bench-throttle-"))
    settings = Settings(
        mongodb_url=None,
        data_dir=data,
        bootstrap_admin=":".join(ADMIN),
        seed_fixtures=False,
        log_level="warning",
        allowed_hosts="bench",
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
                await run(app, http, requests, failures)
    finally:
        shutil.rmtree(data, ignore_errors=True)


async def run(app: Any, http: httpx.AsyncClient, requests: int, failures: int) -> None:
    assert (await http.get("/learners/nobody", auth=ADMIN)).status_code == 404  # verified once

    async def success(_: int) -> None:
        assert (await http.get("/learners/nobody", auth=ADMIN)).status_code == 404

    async def failure(n: int) -> None:
        answer = await http.get("/learners/nobody", auth=(f"stranger-{n}", "wrong-secret"))
        assert answer.status_code == 401, answer.text

    await timed("successful Basic request (check: one read)", requests, success)
    await timed("failed Basic request (scrypt + 2 upserts)", failures, failure)

    throttle: Throttle = app.state.verifier.throttle
    throttle.penalty_seconds = 0

    async def check_none(n: int) -> None:
        await throttle.check(f"nobody-{n}", "198.51.100.9")

    async def check_some(_: int) -> None:
        await throttle.check("stranger-0", "127.0.0.1")

    async def failed(n: int) -> None:
        await throttle.failed(f"guess-{n}", f"198.51.100.{n % 200}")

    await timed("throttle.check, no window", requests, check_none)
    await timed("throttle.check, a window of 1 failure", requests, check_some)
    await timed("throttle.failed (2 upserts, committed)", requests, failed)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--failures", type=int, default=40)
    options = parser.parse_args()
    asyncio.run(main(options.requests, options.failures))
