"""The server sequence of `stored`: consecutive values reserved per batch, one writer at a
time per process, and the batch in flight that queries must not see half of.

`stored` comes from a counter document, so it strictly increases in the order statements
are stored (values in µs since the epoch).
"""

from __future__ import annotations

import asyncio
import time
import weakref
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from lrs.statements.models import Counter
from nxce.core import db

_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)

# The first `stored` value of the batch being written now, per event loop: statements
# from it on may not be visible yet, so Consistent-Through and first pages stop before it.
_pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()


def write_lock() -> asyncio.Lock:
    """One statement writer at a time within a process (and event loop)."""
    loop = asyncio.get_running_loop()
    lock = _write_locks.get(loop)
    if lock is None:
        lock = _write_locks[loop] = asyncio.Lock()
    return lock


async def reserve(count: int, session: Any) -> int:
    """Reserve `count` consecutive `stored` values (µs); answers the first, which stays
    pending (`pending_from`) until `release`.

    Two steps on one counter document: raise it to the clock, then add `count`. Every
    value handed out is distinct and later than every value handed out before it.
    """
    now_us = int(time.time() * 1_000_000)
    counters = db.collection(Counter)
    await counters.update_one(
        {"_id": "statements"}, {"$max": {"value": now_us}}, upsert=True, session=session
    )
    after = await counters.find_one_and_update(
        {"_id": "statements"},
        {"$inc": {"value": count}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    first = int(after["value"]) - count + 1
    _pending[asyncio.get_running_loop()] = first
    return first


def release() -> None:
    """The batch in flight is written (or abandoned): nothing is pending any more."""
    _pending.pop(asyncio.get_running_loop(), None)


def pending_from() -> int | None:
    """The first `stored` value of the batch this process is writing, if any."""
    return _pending.get(asyncio.get_running_loop())


async def latest_handed_out() -> int:
    """The `stored` value handed out last; 0 when nothing was stored."""
    counter = await db.collection(Counter).find_one({"_id": "statements"})
    return int(counter["value"]) if counter else 0


def time_of(stored_us: int) -> datetime:
    """A `stored` value as a time."""
    return datetime.fromtimestamp(stored_us / 1_000_000, UTC)
