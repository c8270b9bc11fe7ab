"""The server sequence of `stored`: consecutive values reserved per batch, one writer at a
time per process, and the batches in flight that queries must not see half of.

`stored` comes from a counter document, so it strictly increases in the order statements
are stored (values in µs since the epoch).
"""

from __future__ import annotations

import asyncio
import contextvars
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

# The first `stored` values of the batches being written (or committed) now, per event
# loop: statements from the lowest on may not be visible (or durable) yet, so
# Consistent-Through and first pages stop before it. A batch leaves the set once its
# commit ends; the one this task reserved is `_mine`.
_pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[int]] = (
    weakref.WeakKeyDictionary()
)
_mine: contextvars.ContextVar[int | None] = contextvars.ContextVar("nxce_stored_mine", default=None)


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
    _pending.setdefault(asyncio.get_running_loop(), set()).add(first)
    _mine.set(first)
    return first


def release() -> None:
    """The batch this task reserved is written and committed (or abandoned): it is no
    longer pending."""
    first = _mine.get()
    if first is not None:
        _pending.get(asyncio.get_running_loop(), set()).discard(first)
        _mine.set(None)


def pending_from() -> int | None:
    """The lowest first `stored` value of the batches this process is writing, if any."""
    pending = _pending.get(asyncio.get_running_loop())
    return min(pending) if pending else None


async def latest_handed_out() -> int:
    """The `stored` value handed out last; 0 when nothing was stored."""
    counter = await db.collection(Counter).find_one({"_id": "statements"})
    return int(counter["value"]) if counter else 0


def time_of(stored_us: int) -> datetime:
    """A `stored` value as a time."""
    return datetime.fromtimestamp(stored_us / 1_000_000, UTC)
