"""The server sequence of `stored`, and the high-water mark below which every statement is
visible: kept in the store, so that it holds across API processes (replicas) writing to
one MongoDB, and a `since` pull from a Consistent-Through never skips a statement.

`stored` values are µs since the epoch, consecutive within a batch, strictly increasing in
the order batches take them, from the counter document `lrs_counters/statements` (the
value handed out last).

Taking values (`reserve`): read the counter (`before`), insert a *ticket* whose bound is
`before + 1`, read the clock, and move the counter from `before` to the batch's last value
with a compare-and-set (the values are `max(before, clock) + 1` on); when another writer
moved the counter first, the ticket goes and the writer tries again. A ticket is in the
store before its values are handed out, and taken the clock after it is there.

Finishing: on MongoDB with transactions the ticket is removed *inside the batch's
transaction* (`complete`), so the statements and the end of their ticket become visible
at one commit; a ticket already gone then (abandoned, below) aborts the transaction and
the batch is written again under new values (`Abandoned`). Without transactions (the
embedded store, a standalone server) the ticket is renewed just before the statements are
written and removed just after (`finish`).

Abandoning: a ticket whose `expires_us` has passed (its writer died, or has been stuck for
`TICKET_TTL_US`) is removed by the first reader that finds it lowest. A transaction lives
at most 60 s on MongoDB, well within the time a ticket lives.

The mark (`high_water`): the clock (less `CLOCK_SKEW_US`), then the counter, then the
lowest ticket are read in that order: the mark is the later of the counter and the clock,
but below the lowest ticket. Every value at or below it belongs to a batch whose
statements are visible, or that was abandoned and will never be.

Within a process, the batches being committed (on the embedded store, statements are in
memory before their commit reaches the medium) also hold the mark back (`pending_from`).

The embedded store belongs to one process (its data directory is locked) and is served by
its one event loop, so no other writer can hold values it does not know of: there the
batches in flight are those `pending_from` knows, and no ticket is written (three writes a
batch saved); the counter is still moved in the store, so `stored` keeps rising across
restarts.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
import uuid
import weakref
from datetime import UTC, datetime
from typing import Any

from lrs.statements.models import Counter, Ticket
from nxce.core import db
from nxce.core.errors import ServiceUnavailable

# Our reading (xAPI sets no figure): a ticket whose writer has not finished within two
# minutes is abandoned; a writer renews it before writing without transactions.
TICKET_TTL_US = 120 * 1_000_000
# Our reading: how far the clocks of two API hosts may differ (NTP keeps them within
# milliseconds); on a shared store (MongoDB) the mark trails the clock by this much when
# nothing is being written. The embedded store has one process, and one clock.
CLOCK_SKEW_US = 1_000_000
# Compare-and-set attempts before a batch gives up (each failure means another batch
# took values in the meantime).
MAX_TRIES = 200

_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)
# The first `stored` values of the batches this process is writing or committing, per
# event loop; those this task reserved (one per attempt: a transaction retried, a batch
# written again) are `_mine`, its tickets `_tickets`.
_pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, set[int]] = (
    weakref.WeakKeyDictionary()
)
_mine: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar(
    "nxce_stored_mine", default=()
)
_tickets: contextvars.ContextVar[tuple[str, ...]] = contextvars.ContextVar(
    "nxce_stored_tickets", default=()
)


class Abandoned(ServiceUnavailable):
    """The batch's ticket was abandoned before its statements were written: write the
    batch again, under new values (503 once the attempts run out: nothing was stored)."""


def clock_us() -> int:
    return int(time.time() * 1_000_000)


def write_lock() -> asyncio.Lock:
    """One statement writer at a time within a process (and event loop)."""
    loop = asyncio.get_running_loop()
    lock = _write_locks.get(loop)
    if lock is None:
        lock = _write_locks[loop] = asyncio.Lock()
    return lock


_COUNTER = ("value", "statements")


async def _counter() -> int:
    """The value handed out last (0: none yet); on the embedded store kept in memory
    until the counters change (`db.read_kept`), and set there by `reserve`."""

    async def read() -> int:
        counter = await db.collection(Counter).find_one({"_id": "statements"})
        return int(counter["value"]) if counter else 0

    return await db.read_kept(Counter, _COUNTER, read)


async def _move(before: int, last: int) -> bool:
    """Compare-and-set the counter from `before` to `last`; False when it is not `before`."""
    counters = db.collection(Counter)
    if before:  # the usual case: a plain compare-and-set (the embedded store's fast `$set`)
        moved = await counters.update_one(
            {"_id": "statements", "value": before}, {"$set": {"value": last}}
        )
        return bool(moved.matched_count)
    try:
        # No counter yet: the upsert makes it; if another writer made one meanwhile, the
        # upsert meets the counter's `_id` and fails.
        await counters.update_one(
            {"_id": "statements", "value": before}, {"$set": {"value": last}}, upsert=True
        )
    except db.DuplicateKeyError:
        return False
    return True


async def reserve(count: int) -> int:
    """Take `count` consecutive `stored` values; answers the first. Its ticket stays until
    `complete` (with transactions) or `finish`; the values stay pending in this process
    until `release`. Outside any transaction, and before the batch's begins: every process
    sees the ticket at once, and the transaction's snapshot holds it (`complete` ends it
    there)."""
    # One process holds the embedded store: `_pending` is every batch in flight there.
    tickets = db.collection(Ticket) if db.shared() else None
    for _ in range(MAX_TRIES):
        before = await _counter()
        token, taken = "", _tickets.get()
        if tickets is not None:
            token = uuid.uuid4().hex
            await tickets.insert_one(
                {"_id": token, "first": before + 1, "expires_us": clock_us() + TICKET_TTL_US}
            )
            _tickets.set((*taken, token))  # from now on `finish` removes it, whatever happens
        first = max(before, clock_us()) + 1  # the clock read after the ticket is there
        if await _move(before, first + count - 1):
            kept = db.memo(Counter)  # the embedded store: the next batch reads no counter
            if kept is not None:
                kept[_COUNTER] = first + count - 1
            _pending.setdefault(asyncio.get_running_loop(), set()).add(first)
            _mine.set((*_mine.get(), first))
            return first
        if tickets is not None:
            await tickets.delete_one({"_id": token})
            _tickets.set(taken)
    raise ServiceUnavailable(
        f"no `stored` values after {MAX_TRIES} attempts: the statement counter kept moving"
    )


async def complete(session: Any) -> None:
    """The batch is about to write its statements. In a transaction (`session`): end its
    ticket there, so both become visible together; else renew the ticket, and `finish`
    ends it. Raises `Abandoned` when the ticket is gone."""
    if not db.shared():
        return  # the embedded store: no tickets (above)
    taken = _tickets.get()
    if not taken:
        raise Abandoned("no ticket: `reserve` first")
    tickets = db.collection(Ticket)
    if session is not None:
        ended = await tickets.delete_one({"_id": taken[-1]}, session=session)
        if ended.deleted_count != 1:
            raise Abandoned(f"the ticket of stored values from {_mine.get()[-1]} was abandoned")
        return
    renewed = await tickets.update_one(
        {"_id": taken[-1]}, {"$set": {"expires_us": clock_us() + TICKET_TTL_US}}
    )
    if not renewed.matched_count:
        raise Abandoned(f"the ticket of stored values from {_mine.get()[-1]} was abandoned")


async def finish() -> None:
    """The batch is written (or failed): remove the tickets this task took (those already
    ended in a transaction are gone)."""
    taken = _tickets.get()
    if taken:
        _tickets.set(())
        await db.collection(Ticket).delete_many({"_id": {"$in": list(taken)}})


def release() -> None:
    """The batch this task reserved is written and committed (or abandoned): none of the
    values it took is pending in this process any more."""
    mine = _mine.get()
    if mine:
        _pending.get(asyncio.get_running_loop(), set()).difference_update(mine)
        _mine.set(())


def pending_from() -> int | None:
    """The lowest first `stored` value of the batches this process (its event loop: the
    one that serves the embedded store) is writing, if any."""
    pending = _pending.get(asyncio.get_running_loop())
    return min(pending) if pending else None


async def high_water(*, skew_us: int | None = None) -> int:
    """The store's mark: every `stored` value at or below it belongs to a visible
    statement or to none, in every process. Abandons expired tickets on its way.
    `skew_us`: how far other writers' clocks may be behind (default: `CLOCK_SKEW_US` on
    a shared store, 0 on the embedded one)."""
    if skew_us is None:
        skew_us = CLOCK_SKEW_US if db.shared() else 0
    now = clock_us()  # first: a ticket inserted after the read below takes a later clock
    mark = max(await _counter(), now - skew_us)
    if not db.shared():
        return mark  # the embedded store: no tickets (above); `visible_through` adds ours
    tickets = db.collection(Ticket)
    while True:
        lowest = await tickets.find_one({}, sort=[("first", 1)])
        if lowest is None:
            return mark
        if int(lowest["expires_us"]) >= now:
            return min(mark, int(lowest["first"]) - 1)
        # Its writer died or is stuck: abandon it (that writer's `complete` now fails).
        await tickets.delete_one({"_id": lowest["_id"], "expires_us": lowest["expires_us"]})


async def visible_through() -> int:
    """The newest `stored` value whose statements, and all before them, are visible (and
    committed) to this process's queries: the store's mark, or just before a batch this
    process is committing."""
    mark = await high_water()
    pending = pending_from()
    return mark if pending is None else min(mark, pending - 1)


def time_of(stored_us: int) -> datetime:
    """A `stored` value as a time."""
    return datetime.fromtimestamp(stored_us / 1_000_000, UTC)
