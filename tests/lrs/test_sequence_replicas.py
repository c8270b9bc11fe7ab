"""The high-water mark of `stored` (lrs/statements/sequence.py) holds across processes:
here two or more writers share one embedded store as API replicas share one MongoDB
(same code, same documents), each taking values, writing slowly, failing or dying, while
a reader pulls `since` the last mark it was given. Every statement written is pulled, and
no value is ever handed out at or below a mark already given."""

from __future__ import annotations

import asyncio
import inspect
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from lrs.statements import primitives, sequence
from lrs.statements.models import StatementRecord, Ticket
from nxce.core import db
from tests.lrs.conftest import fetch, statement, store


class Clock:
    """The writers' and readers' clock, which a test may move on (a writer stuck for
    minutes) without waiting."""

    def __init__(self) -> None:
        self.ahead_us = 0
        self.ticks = 0  # each reading is later than the one before
        self.real = sequence.clock_us

    def __call__(self) -> int:
        self.ticks += 1
        return self.real() + self.ahead_us + self.ticks


class Yielding:
    """A collection whose every operation lets other tasks run before and after it, as a
    round trip to a server would: the writers' steps interleave (except in a block
    `in_one_transaction`, whose operations become visible together)."""

    atomic = False

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(attribute):
            return attribute

        async def call(*args: Any, **kwargs: Any) -> Any:
            if kwargs.get("session") is TRANSACTION:
                del kwargs["session"]  # mongomock has no sessions
            if Yielding.atomic:
                return await attribute(*args, **kwargs)
            await asyncio.sleep(0)
            result = await attribute(*args, **kwargs)
            await asyncio.sleep(0)
            return result

        return call


@pytest.fixture
def clock(app: FastAPI, monkeypatch: pytest.MonkeyPatch) -> Iterator[Clock]:
    moved = Clock()
    monkeypatch.setattr(sequence, "clock_us", moved)
    monkeypatch.setattr(db._state, "shared", True)  # the replicas' tickets (not embedded)
    collection = db.collection
    monkeypatch.setattr(db, "collection", lambda model: Yielding(collection(model)))
    yield moved


# Stands for a MongoDB session: `complete` then ends the ticket as it would in the
# batch's transaction (mongomock has no sessions).
TRANSACTION = object()


@contextmanager
def in_one_transaction() -> Iterator[None]:
    """The operations of the block become visible together, as a transaction's do on
    MongoDB: no other task runs between them."""
    Yielding.atomic = True
    try:
        yield
    finally:
        Yielding.atomic = False


async def write(first: int, count: int) -> list[int]:
    """The statements of a batch: one record per value (what store._write inserts)."""
    values = list(range(first, first + count))
    await db.collection(StatementRecord).insert_many(
        [
            {"statement_id": f"s-{value}", "stored_us": value, "document": "{}", "voided": False}
            for value in values
        ]
    )
    return values


async def pulled_since(since: int, through: int) -> list[int]:
    """What a `since` pull finds: the values stored after `since`, up to the mark."""
    found = db.collection(StatementRecord).find(
        {"stored_us": {"$gt": since, "$lte": through}}, {"stored_us": 1}
    )
    return [int(r["stored_us"]) async for r in found]


async def replica_writes(
    count: int, *, pause: asyncio.Event | None = None, reserved: asyncio.Event | None = None
) -> list[int]:
    """One batch as a replica writes it: take values (then set `reserved`), wait for
    `pause`, end the ticket, write, finish. Runs in its own task: its tickets are its own."""
    first = await sequence.reserve(count)
    if reserved is not None:
        reserved.set()
    try:
        if pause is not None:
            await pause.wait()
        await sequence.complete(None)
        return await write(first, count)
    finally:
        await sequence.finish()
        sequence.release()


async def test_a_batch_in_flight_holds_the_mark_below_it_and_a_later_one_does_not_pass_it(
    clock: Clock,
) -> None:
    """Replica A takes values, replica B takes later ones and finishes first: the mark
    stays below A's until A has written, so a pull from it finds A's statements."""
    [before] = await write(await sequence.reserve(1), 1)
    await sequence.finish()
    slow, reserved = asyncio.Event(), asyncio.Event()
    a = asyncio.create_task(replica_writes(2, pause=slow, reserved=reserved))
    await reserved.wait()  # A has taken its values and waits
    b_values = await asyncio.create_task(replica_writes(3))
    mark = await sequence.high_water()
    assert before <= mark < min(b_values)
    assert await pulled_since(before, mark) == []  # B's are not given before A's
    slow.set()
    a_values = await a
    assert max(a_values) < min(b_values)
    after = await sequence.high_water()
    assert sorted(await pulled_since(mark, after)) == a_values + b_values


async def test_a_failed_write_gives_its_values_back_at_once(clock: Clock) -> None:
    async def failing() -> None:
        await sequence.reserve(5)
        try:
            raise RuntimeError("the statements could not be written")
        finally:
            await sequence.finish()
            sequence.release()

    with pytest.raises(RuntimeError):
        await asyncio.create_task(failing())
    assert await db.collection(Ticket).count_documents({}) == 0
    values = await asyncio.create_task(replica_writes(1))
    assert await sequence.high_water() >= values[0]


async def test_a_dead_writers_ticket_is_abandoned_after_its_time_and_it_may_not_write(
    clock: Clock,
) -> None:
    """A replica dies (or stalls) holding values: the mark waits for it TICKET_TTL_US,
    then moves on; the writer, waking up, may not write under them and takes new ones."""
    stuck, reserved = asyncio.Event(), asyncio.Event()
    held = await asyncio.create_task(sequence.reserve(1))  # that task's writer is gone
    later = await asyncio.create_task(replica_writes(1))
    assert await sequence.high_water() < held
    clock.ahead_us += sequence.TICKET_TTL_US + 1
    mark = await sequence.high_water()
    assert mark >= later[0]
    assert await db.collection(Ticket).count_documents({}) == 0

    async def wakes_up() -> int:
        await sequence.reserve(1)
        reserved.set()
        await stuck.wait()
        try:
            await sequence.complete(None)
        except sequence.Abandoned:
            [value] = await replica_writes(1)  # the batch again, under new values
            return value
        finally:
            await sequence.finish()
        raise AssertionError("an abandoned ticket was completed")

    woken = asyncio.create_task(wakes_up())
    await reserved.wait()
    clock.ahead_us += sequence.TICKET_TTL_US + 1
    given = await sequence.high_water()  # abandons it
    stuck.set()
    assert await woken > given


async def test_a_ticket_renewed_by_a_live_writer_is_not_abandoned(clock: Clock) -> None:
    async def renews() -> int:
        first = await sequence.reserve(1)
        clock.ahead_us += sequence.TICKET_TTL_US // 2
        await sequence.complete(None)  # renewed: now good for TICKET_TTL_US more
        clock.ahead_us += sequence.TICKET_TTL_US // 2 + 1
        assert await sequence.high_water() < first  # still held
        await write(first, 1)
        await sequence.finish()
        return first

    first = await asyncio.create_task(renews())
    assert await sequence.high_water() >= first


async def test_a_mark_given_just_before_a_ticket_lands_stays_below_its_values(
    clock: Clock, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A reader computes the mark in the gap between a writer reading the counter and its
    ticket landing: no ticket to see, so the mark is the clock. The writer reads the clock
    only once its ticket is there, so its values are later still."""
    given: list[int] = []
    collection = db.collection

    class Late:
        def __init__(self, inner: Any) -> None:
            self.inner = inner

        def __getattr__(self, name: str) -> Any:
            return getattr(self.inner, name)

        async def insert_one(self, document: dict[str, Any]) -> Any:
            given.append(await sequence.high_water(skew_us=0))  # the reader, in the gap
            return await self.inner.insert_one(document)

    monkeypatch.setattr(
        db,
        "collection",
        lambda model: Late(collection(model)) if model is Ticket else collection(model),
    )
    [value] = await asyncio.create_task(replica_writes(1))
    assert given and value > given[0]


async def test_the_clock_of_another_host_may_lag_by_the_skew(clock: Clock) -> None:
    """On a shared store the idle mark trails the clock by the allowed skew: a replica
    whose clock is that much behind still takes values above every mark given."""
    given = await sequence.high_water(skew_us=sequence.CLOCK_SKEW_US)
    clock.ahead_us -= sequence.CLOCK_SKEW_US - 1  # the other host's clock
    [value] = await asyncio.create_task(replica_writes(1))
    assert value > given


@pytest.mark.parametrize("seed", range(6))
async def test_replicas_writing_at_random_never_let_a_since_pull_skip_a_statement(
    clock: Clock, seed: int
) -> None:
    """Three replicas write batches with random pauses, some failing, some stalling past
    TICKET_TTL_US (their batch is then written again under new values); a reader pulls
    `since` each mark it is given. Each replica ends its ticket and writes its statements
    as one transaction does on MongoDB (`commit`: a ticket is abandoned before, or after,
    never in the middle). The reader ends up with every statement written, each once."""
    rng = random.Random(seed)
    written: list[int] = []
    pulled: list[int] = []
    done = asyncio.Event()

    async def pause() -> None:
        for _ in range(rng.randint(0, 4)):
            await asyncio.sleep(0)

    async def replica() -> None:
        for _ in range(12):
            count = rng.randint(1, 4)
            fate = rng.random()
            try:
                first = await sequence.reserve(count)
                await pause()
                if fate < 0.15:
                    continue  # failed: nothing written
                if fate < 0.3:  # stalled: time passes, a reader abandons its ticket
                    clock.ahead_us += sequence.TICKET_TTL_US + 1
                    await sequence.high_water()
                while True:
                    try:
                        with in_one_transaction():
                            await sequence.complete(TRANSACTION)
                            written.extend(await write(first, count))
                        break
                    except sequence.Abandoned:
                        first = await sequence.reserve(count)  # the batch again
                        await pause()
            finally:
                await sequence.finish()
                sequence.release()

    async def reader() -> None:
        since = 0
        while True:
            finished = done.is_set()
            mark = await sequence.high_water(skew_us=0)
            pulled.extend(await pulled_since(since, mark))
            since = mark
            if finished:
                return
            await pause()

    reading = asyncio.create_task(reader())
    await asyncio.gather(*(asyncio.create_task(replica()) for _ in range(3)))
    done.set()
    await reading
    assert len(written) > 20
    assert sorted(pulled) == sorted(written)
    assert len(set(written)) == len(written)


async def test_a_batch_taking_values_twice_leaves_nothing_pending_in_its_process(
    clock: Clock,
) -> None:
    async def twice() -> None:
        await sequence.reserve(1)
        await sequence.reserve(2)  # a transaction retried, or the batch written again
        assert sequence.pending_from() is not None
        await sequence.finish()
        sequence.release()

    await asyncio.create_task(twice())
    assert sequence.pending_from() is None
    assert await db.collection(Ticket).count_documents({}) == 0


async def test_a_batch_whose_ticket_was_abandoned_is_stored_once_under_new_values(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write path: the first attempt finds its ticket abandoned (its replica was
    stuck), writes nothing, and the batch is written again: 200, stored once, with a
    `stored` later than every mark given meanwhile."""
    monkeypatch.setattr(db._state, "shared", True)  # tickets: replicas on one MongoDB
    real = sequence.complete
    given: list[int] = []

    async def abandoned_once(session: Any) -> None:
        if not given:
            given.append(await sequence.high_water())
            await db.collection(Ticket).delete_many({})  # a reader abandoned it
        await real(session)

    monkeypatch.setattr(sequence, "complete", abandoned_once)
    [stored_id] = await store(client, statement())
    found = await fetch(client, stored_id)
    assert primitives.parse_timestamp(found["stored"]) > sequence.time_of(given[0])
    assert await StatementRecord.find({"statement_id": stored_id}).count() == 1
    assert await db.collection(Ticket).count_documents({}) == 0


async def test_the_embedded_store_writes_no_ticket_and_its_batches_in_flight_hold_the_mark(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One process holds the embedded store: its batches in flight are the ones it knows
    (`pending_from`), so no ticket is read or written; a mark given while a batch is being
    written stays below that batch's values."""
    asked: list[Any] = []
    collection = db.collection
    monkeypatch.setattr(db, "collection", lambda model: asked.append(model) or collection(model))
    real = sequence.complete
    given: list[int] = []

    async def during(session: Any) -> None:
        given.append(await sequence.visible_through())
        await real(session)

    monkeypatch.setattr(sequence, "complete", during)
    [stored_id] = await store(client, statement())
    found = await fetch(client, stored_id)
    assert Ticket not in asked
    assert primitives.parse_timestamp(found["stored"]) > sequence.time_of(given[0])
    assert sequence.pending_from() is None
