"""A learner's crediting takes turns across processes (credits/context.py: a lease in the
store per learner). Here two `Credits` contexts on one embedded store stand for two API
replicas on one MongoDB: each has its own in-process locks, and only the lease orders them."""

from __future__ import annotations

import asyncio
import dataclasses
import weakref
from datetime import timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from credits import context, projection
from credits.context import Credits
from lrs.statements.models import StatementRecord
from nxce.core import leases
from tests.credits.conftest import activity, completion, ledger, register, send, voiding_of
from tests.lrs.conftest import post_statements


def replica(app: FastAPI) -> Credits:
    """The app's credit services as another process holds them: the same store, locks of
    its own."""
    credits: Credits = app.state.credits
    return dataclasses.replace(credits, _locks=weakref.WeakValueDictionary())


async def test_a_replica_that_read_before_a_voiding_cannot_write_after_it(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica 1 recomputes 张伟's course and is slow after reading the statements; the
    voiding arrives at replica 2 (the app) meanwhile. Replica 2's crediting waits for
    replica 1's turn, then reads the voiding: the entry ends reversed, not counted again
    by replica 1's stale read."""
    await register(client)
    course = await activity(client, "GX-0002")
    done = completion(course)
    await send(client, done)
    assert [e["status"] for e in await ledger(client)] != ["reversed"]

    paused, go = asyncio.Event(), asyncio.Event()
    slow_tasks: set[asyncio.Task[Any]] = set()
    real = projection.reviews_of

    async def slow_reviews(entry_ids: list[str]) -> Any:
        found = await real(entry_ids)
        if asyncio.current_task() in slow_tasks:  # replica 1, statements already read
            paused.set()
            await go.wait()
        return found

    monkeypatch.setattr(projection, "reviews_of", slow_reviews)
    first = asyncio.create_task(
        projection.recompute(credits=replica(app), learner_id="zhangwei", activity_id=course)
    )
    slow_tasks.add(first)
    await paused.wait()
    voiding = asyncio.create_task(send(client, voiding_of(done["id"])))
    for _ in range(20):
        await asyncio.sleep(0.01)
    assert not voiding.done()  # replica 2 waits for replica 1's turn
    go.set()
    await first
    await voiding
    [entry] = await ledger(client)
    assert entry["status"] == "reversed"
    assert "voided" in entry["status_reason"]


async def test_a_learner_held_by_a_process_past_the_wait_is_credited_later(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another process holds 李秀英's lease (it died mid-crediting): a completion is still
    stored (200), its crediting fails after the wait and is left for later; once the lease
    has expired, catching up credits it, once."""
    await register(client, "lixiuying", "李秀英", "124")
    monkeypatch.setattr(context, "LEARNER_LEASE_WAIT", 0.05)
    name = context.lease_name("lixiuying")
    assert await leases.take(name, owner="a-replica-that-died", ttl=timedelta(minutes=1))
    statement = completion(await activity(client, "GX-0003"), "lixiuying", name="李秀英")
    response = await post_statements(client, [statement])
    assert response.status_code == 200, response.text
    assert await ledger(client, "lixiuying") == []
    record = await StatementRecord.find_one({"statement_id": statement["id"]})
    assert record is not None and not record.projected

    assert await leases.take(name, owner="a-replica-that-died", ttl=timedelta(0))  # expired
    assert await projection.catch_up(credits=replica(app)) == 1
    assert [e["source_ref"] for e in await ledger(client, "lixiuying")] == [statement["id"]]
    assert await projection.catch_up(credits=app.state.credits) == 0


async def test_two_replicas_crediting_the_same_completions_at_once_credit_each_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The same statements projected by two replicas at once (a batch sent to both): one
    entry per course."""
    await register(client)
    statements = [completion(await activity(client, c)) for c in ("GX-0002", "GX-0003")]
    ids = await send(client, *statements)
    both = [replica(app), replica(app)]
    await asyncio.gather(*(projection.project(credits=each, statement_ids=ids) for each in both))
    entries = await ledger(client)
    assert sorted(e["source_ref"] for e in entries) == sorted(ids)
