"""The cost of the `stored` sequence kept in the store (lrs/statements/sequence.py) per
batch written, against the counter alone it replaced, and of the high-water mark per
read; then the whole write of a 1-statement batch through the record store.

    python bench/sequence.py [--batches 2000]

In process, on the embedded store in memory and on the durable one (SQLite, each batch's
writes one commit as on the write path). The figures are the store operations only
(mongomock); on MongoDB each operation is a round trip (`reserve`: three, plus one on a
compare-and-set lost to another replica; `complete`: one, inside the transaction;
`finish`: one; the mark: two reads). Prints medians and p95 in µs; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import percentile  # noqa: E402


async def counter_alone() -> None:
    """What a batch did before: raise the counter to the clock, then add to it."""
    from pymongo import ReturnDocument

    from lrs.statements.models import Counter
    from nxce.core import db

    counters = db.collection(Counter)
    now_us = int(time.time() * 1_000_000)
    await counters.update_one({"_id": "statements"}, {"$max": {"value": now_us}}, upsert=True)
    await counters.find_one_and_update(
        {"_id": "statements"}, {"$inc": {"value": 1}}, return_document=ReturnDocument.AFTER
    )


async def with_tickets() -> None:
    """A batch now: take values with a ticket, end it, finish."""
    from lrs.statements import sequence

    await sequence.reserve(1)
    await sequence.complete(None)
    await sequence.finish()
    sequence.release()


async def timed(batches: int, step: Callable[[], Awaitable[Any]]) -> list[float]:
    from nxce.core import db

    took = []
    for _ in range(batches):
        started = time.perf_counter()
        async with db.one_commit():
            await step()
        took.append((time.perf_counter() - started) * 1e6)
    return took


def line(name: str, took: list[float]) -> None:
    median, p95 = statistics.median(took), percentile(took, 95)
    print(f"  {name:<44} median {median:8.1f} µs   p95 {p95:8.1f} µs")


async def one_store(in_memory: bool, batches: int) -> None:
    from lrs.statements import sequence, store
    from lrs.statements.models import DOCUMENTS
    from lrs.versions import V2
    from nxce.core import db
    from nxce.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="nxce-bench-sequence-"))
    settings = Settings(mongodb_url=None, data_dir=data, embedded_in_memory=in_memory)
    client = db.connect(settings)
    try:
        await db.prepare(client, settings)
        await db.init_documents(db.database(client, settings), DOCUMENTS)
        print("durable (SQLite)" if not in_memory else "in memory")
        line("counter alone ($max + $inc), per batch", await timed(batches, counter_alone))
        line("tickets (reserve, complete, finish), per batch", await timed(batches, with_tickets))
        line("high-water mark, per read", await timed(batches, sequence.high_water))
        writer = store.Writer(authority={"account": {"homePage": "https://b", "name": "b"}})

        async def one_statement() -> None:
            statement = {
                "id": str(uuid.uuid4()),
                "actor": {"mbox": "mailto:zhangwei@nxce.example", "name": "张伟"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/completed"},
                "object": {"id": "https://nxce.example/xapi/activities/course/GX-0002"},
            }
            await store.store(statements=[statement], version=V2, writer=writer)

        line("store.store of 1 statement (whole write)", await timed(batches // 4, one_statement))
    finally:
        db.close(client)


async def main(batches: int) -> None:
    for in_memory in (True, False):
        await one_store(in_memory, batches)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=2000)
    asyncio.run(main(parser.parse_args().batches))
