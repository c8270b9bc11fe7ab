"""In-process parts of `bench/store.py`: a large store built once, and where the bytes of
a store in memory go (tracemalloc).

`build` writes statement records to the medium directly, without mongomock or HTTP (a
million statements over HTTP take hours on 2 cores): 10,000 records made by the
service's own record code (`lrs.statements.store._records`) as a batch of new statements
would be, then copies of them chosen at random, each with its own id and `stored` (in the
record and in its JSON text), committed in chunks of 10,000.
What it leaves out: the activity directory (`directory.record_activities`) and the
credit ledger; the statements are marked as taken into account (`projected`), so a
start does not try to credit a million statements of learners nobody registered.

`memory` loads a store as a service does and shows where its bytes go (tracemalloc).
"""

from __future__ import annotations

import gc
import linecache
import random
import time
import tracemalloc
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

AUTHORITY = {"account": {"homePage": "https://nxce.example", "name": "bench"}}


def settings(data: Path, in_memory: bool) -> Any:
    from nxce.settings import Settings

    return Settings(
        mongodb_url=None,
        data_dir=data,
        embedded_in_memory=in_memory,
        seed_fixtures=False,
        bootstrap_admin="bench:bench-secret-123",
    )


async def memory(data: Path) -> None:
    """Where the bytes of the store in `data` go once a service has loaded it and answered
    a query by verb (indexes built): tracemalloc's total and its top lines, per statement.
    Run it with `PYTHONPATH` naming another tree to compare."""
    from lrs.statements.models import StatementRecord
    from nxce.app import open_store
    from nxce.core import db

    gc.collect()
    tracemalloc.start()
    before = tracemalloc.take_snapshot()
    client, _ = await open_store(settings(data, False), seed=False)
    total = await db.collection(StatementRecord).count_documents({})
    verb = {"verbs": "http://adlnet.gov/expapi/verbs/completed", "voided": False}
    await StatementRecord.find(verb).sort("-stored_us").limit(11).to_list()
    gc.collect()
    after = tracemalloc.take_snapshot()
    tracemalloc.stop()
    stats = after.compare_to(before, "lineno")
    grown = sum(s.size_diff for s in stats)
    print(
        f"memory: {total} statements loaded hold {grown / 1_048_576:.1f} MiB in Python "
        f"objects ({grown / total:.0f} bytes a statement); the largest sources:"
    )
    for stat in stats[:12]:
        frame = stat.traceback[0]
        line = linecache.getline(frame.filename, frame.lineno).strip()[:60]
        where = "/".join(Path(frame.filename).parts[-2:])
        print(f"  {stat.size_diff / total:7.0f} B/statement  {where}:{frame.lineno}  {line}")
    db.close(client)


POOL = 10_000  # statements made by the service's record code; the rest are their copies


async def build(
    data: Path, total: int, rng: random.Random, make: Callable[[random.Random], dict[str, Any]]
) -> None:
    """A durable store in `data` holding `total` statements, written to its medium
    directly (see the module)."""
    from bson import ObjectId

    from lrs.statements import primitives, sequence
    from lrs.statements.models import Counter
    from nxce.app import open_store
    from nxce.core import db
    from nxce.core.embedded_medium import Op, encode_document, encode_key

    client, database = await open_store(settings(data, False), seed=False)
    medium = db.embedded_medium(database)
    first = int(time.time() * 1_000_000) - total - 1_000_000
    pool = _pool(make, rng, first, min(POOL, total))
    began = time.perf_counter()
    for start in range(0, total, 10_000):
        ops = []
        for n in range(start, min(start + 10_000, total)):
            raw = dict(pool[n] if n < len(pool) else rng.choice(pool))
            if n >= len(pool):  # a copy: its own id and `stored`
                new_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
                stored = sequence.time_of(first + n)
                document = raw["document"].replace(raw["statement_id"], new_id)
                raw["document"] = document.replace(
                    raw["stored_text"], primitives.format_timestamp(stored)
                )
                raw |= {"statement_id": new_id, "stored_us": first + n, "stored": stored}
            raw.pop("stored_text")
            raw["_id"], raw["projected"] = ObjectId(), True
            ops.append(Op("nxce.statements", encode_key(raw["_id"]), encode_document(raw)))
        await medium.write(ops)
        done = start + len(ops)
        rate = done / (time.perf_counter() - began)
        print(f"  written {done} statements ({rate:.0f}/s)", flush=True)
    await db.collection(Counter).update_one(
        {"_id": "statements"}, {"$max": {"value": first + total}}, upsert=True
    )
    db.close(client)


def _pool(
    make: Callable[[random.Random], dict[str, Any]], rng: random.Random, first: int, size: int
) -> list[dict[str, Any]]:
    """`size` statement records as the service makes them for a batch stored from
    `first` on, as raw documents (with the text of their `stored`)."""
    from lrs.statements import primitives, sequence
    from lrs.statements import store as statements
    from lrs.versions import XapiVersion
    from nxce.core import db

    writer = statements.Writer(authority=AUTHORITY, privileged=True)
    version = XapiVersion(requested="2.0.0", served="2.0.0")
    fresh = [(s, str(s["id"]).lower()) for s in (make(rng) for _ in range(size))]
    records, _ = statements._records(fresh, first, version, writer, set(), {}, True)
    pool = []
    for record in records:
        raw = db.new_document(record)
        raw["stored_text"] = primitives.format_timestamp(sequence.time_of(record.stored_us))
        pool.append(raw)
    return pool


async def main() -> None:
    import argparse

    from bench.store import statement

    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("what", choices=["build", "memory"])
    parser.add_argument("--statements", type=int, default=20_000)
    parser.add_argument("--data", type=Path)
    args = parser.parse_args()
    rng = random.Random(16)
    if args.what == "build":
        await build(args.data, args.statements, rng, statement)
    else:
        await memory(args.data)


if __name__ == "__main__":
    import asyncio

    asyncio.run(main())
