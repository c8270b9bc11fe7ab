"""What a rotation of the secret key costs: `nxce keys status` and `nxce keys reencrypt`
over many learners, and a lookup by id number while two keys are in the ring.

    python bench/keys.py [--learners 20000] [--batch 500]

Writes `--learners` learners (every one with an id number, every second one with a
phone) under key A into a durable embedded store, stops, starts again with key B current
and A previous, then times: a lookup of an id number's digest under the one key and
under both keys (`$in`), the status count, the re-encryption (wall and CPU), the status
again. Asserts only that every value moved and still reads.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, percentile  # noqa: E402

from credits import learners, rekey  # noqa: E402
from credits.id_numbers import check_digit  # noqa: E402
from credits.models import Learner  # noqa: E402
from credits.schemas import LearnerCreate  # noqa: E402
from nxce.core import db  # noqa: E402

KEY_A, KEY_B = "bench-key-A-" + "a" * 40, "bench-key-B-" + "b" * 40
INSERT_BATCH = 1000


def number(n: int) -> str:
    first17 = f"640102{19600101 + n % 28 + 100 * (n // 28 % 12):08d}{n % 1000:03d}"
    return first17 + check_digit(first17)


def settings(data: Path, **keys: str) -> Any:
    from nxce.settings import Settings

    return Settings(
        mongodb_url=None,
        data_dir=data,
        embedded_in_memory=False,
        seed_fixtures=False,
        bootstrap_admin=":".join(ADMIN),
        log_level="warning",
        allowed_hosts="bench",
        **keys,
    )


async def started(data: Path, **keys: str) -> Any:
    from nxce.app import create_app

    app = create_app(settings(data, **keys), close_store=True)
    context = app.router.lifespan_context(app)
    await context.__aenter__()
    return app, context


async def write(data: Path, count: int) -> None:
    app, context = await started(data, secret_key=KEY_A)
    try:
        credits, now, made = app.state.credits, datetime.now(UTC), 0
        while made < count:
            batch = []
            for n in range(made, min(made + INSERT_BATCH, count)):
                body = LearnerCreate(
                    id=f"learner{n:06d}",
                    name="张伟",
                    id_number=number(n),
                    employer="宁夏建工集团有限公司",
                    series="工程",
                    title_level="junior",
                    degree="bachelor",
                    phone=f"138{n:08d}" if n % 2 == 0 else None,
                )
                batch.append(db.new_document(learners.new_learner(credits, body, now)))
            await db.collection(Learner).insert_many(batch)
            made += len(batch)
    finally:
        await context.__aexit__(None, None, None)


async def measure(data: Path, count: int, batch: int) -> None:
    app, context = await started(data, secret_key=KEY_B, secret_keys_previous=KEY_A)
    try:
        credits, ring = app.state.credits, app.state.keyring
        collection = db.collection(Learner)
        for label, matching in (
            ("find by id number, one digest", False),
            ("find by id number, two keys ($in)", True),
        ):
            times = []
            for n in range(0, count, max(1, count // 300)):
                x = number(n)
                query = credits.vault.matching(x) if matching else credits.vault.digest(x)
                started_at = time.perf_counter()
                await collection.find_one({"id_number_digest": query}, {"_id": 1})
                times.append((time.perf_counter() - started_at) * 1000)
            print(
                f"{label:<36} median {statistics.median(times):.3f} ms, "
                f"p95 {percentile(times, 95):.3f} ms ({len(times)} finds)"
            )
        for what, run in (
            ("status", lambda: rekey.status(credits=credits, ring=ring.ids)),
            ("reencrypt", lambda: rekey.reencrypt(credits=credits, batch=batch)),
            ("status after", lambda: rekey.status(credits=credits, ring=ring.ids)),
        ):
            wall, cpu = time.perf_counter(), time.process_time()
            done = await run()
            wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
            shown = (
                f"moved {dict(done.moved)}"
                if isinstance(done, rekey.Reencrypted)
                else f"{ {k: dict(c) for k, c in done.counts.items()} }"
            )
            print(f"{what:<13} {wall:7.2f} s wall, {cpu:7.2f} s CPU: {shown}")
        found = await rekey.status(credits=credits, ring=ring.ids)
        assert found.not_current() == 0, found
        sample = await collection.find_one({"learner_id": "learner000000"})
        assert credits.vault.decrypt(sample["id_number_encrypted"]) == number(0)
    finally:
        await context.__aexit__(None, None, None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=20000)
    parser.add_argument("--batch", type=int, default=rekey.BATCH)
    args = parser.parse_args()
    data = Path(tempfile.mkdtemp(prefix="nxce-bench-keys-"))
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        asyncio.run(write(data, args.learners))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        print(f"{args.learners} learners written under key A: {wall:.1f} s wall, {cpu:.1f} s CPU")
        asyncio.run(measure(data, args.learners, args.batch))
        print(f"load average: {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
