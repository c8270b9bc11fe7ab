"""Statements POSTed at once by one client share one write on the embedded store
(lrs/statements/joining.py); each request still answers for its own statements."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from lrs.statements import joining, sequence
from nxce.core.clients import Scope
from tests.lrs.conftest import (
    ATTEMPTED,
    MakeClient,
    fetch,
    get_statements,
    new_id,
    post_statements,
    put_statement,
    query_ids,
    statement,
    store,
    voiding,
)


@pytest.fixture
def writes(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[int]]:
    """The size of each write of statements (`stored` values taken at once)."""
    sizes: list[int] = []
    reserve = sequence.reserve

    async def counted(count: int) -> int:
        sizes.append(count)
        return await reserve(count)

    monkeypatch.setattr(sequence, "reserve", counted)
    yield sizes


async def at_once(*requests: Any) -> list[httpx.Response]:
    responses: list[httpx.Response] = await asyncio.gather(*requests)
    return responses


async def test_single_statements_posted_at_once_are_written_together(
    client: httpx.AsyncClient, writes: list[int]
) -> None:
    await store(client, statement())  # the credentials verified once, before
    writes.clear()
    sent = [
        statement(id=new_id(), actor={"name": f"学员{i}", "mbox": f"mailto:x{i}@nxce.example"})
        for i in range(8)
    ]
    responses = await at_once(*(post_statements(client, s) for s in sent))
    assert [r.status_code for r in responses] == [200] * 8
    assert [r.json() for r in responses] == [[s["id"]] for s in sent]  # each its own id
    assert writes == [8]
    for s in sent:
        assert (await fetch(client, s["id"]))["actor"]["name"] == s["actor"]["name"]
    # One `stored` each, in the order the requests arrived.
    stored = [(await fetch(client, s["id"]))["stored"] for s in sent]
    assert stored == sorted(stored) and len(set(stored)) == 8


async def test_a_refused_request_leaves_the_others_of_its_group_stored(
    client: httpx.AsyncClient, writes: list[int]
) -> None:
    taken = new_id()
    await store(client, statement(id=taken))
    writes.clear()
    good = [statement(id=new_id()) for _ in range(3)]
    clash = statement(id=taken, verb={"id": ATTEMPTED, "display": {"zh-CN": "尝试"}})
    responses = await at_once(
        post_statements(client, good[0]),
        post_statements(client, clash),  # stored before with other content
        post_statements(client, good[1:]),
    )
    assert [r.status_code for r in responses] == [200, 409, 200]
    assert "different content" in responses[1].json()["detail"]
    assert writes[0] == 4 and sorted(writes[1:]) == [1, 1, 2]  # refused, then each alone
    for s in good:
        assert (await fetch(client, s["id"]))["id"] == s["id"]
    assert (await fetch(client, taken))["verb"]["id"] != ATTEMPTED


async def test_the_same_statement_sent_twice_at_once_is_stored_once(
    client: httpx.AsyncClient, writes: list[int]
) -> None:
    await store(client, statement())
    writes.clear()
    again = statement(id=new_id())
    responses = await at_once(post_statements(client, again), post_statements(client, again))
    assert [r.status_code for r in responses] == [200, 200]
    assert writes == [1, 1]  # not one batch: it would hold the id twice
    assert (await query_ids(client, limit=50)).count(again["id"]) == 1


async def test_other_writers_versions_and_voiding_statements_are_written_apart(
    client: httpx.AsyncClient, make_client: MakeClient, writes: list[int]
) -> None:
    app = await make_client("mobile-app", "手机客户端", Scope.statements_write)
    target = new_id()
    await store(client, statement(id=target))
    await post_statements(client, statement(), auth=app)
    writes.clear()
    responses = await at_once(
        post_statements(client, statement()),
        post_statements(client, statement(), auth=app),  # another writer
        post_statements(client, statement(), version="1.0.3"),  # another version
        post_statements(client, voiding(target)),  # a StatementRef: alone
        put_statement(client, new_id(), statement()),  # joins the first
    )
    assert [r.status_code for r in responses] == [200, 200, 200, 200, 204]
    assert sorted(writes) == [1, 1, 1, 2]
    voided = await get_statements(client, {"voidedStatementId": target})
    assert voided.status_code == 200


async def test_a_group_takes_no_more_than_its_limit(
    client: httpx.AsyncClient, writes: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    await store(client, statement())
    writes.clear()
    monkeypatch.setattr(joining, "GROUP_MAX", 5)
    batches = [[statement(id=new_id()) for _ in range(2)] for _ in range(4)]
    responses = await at_once(*(post_statements(client, b) for b in batches))
    assert [r.status_code for r in responses] == [200] * 4
    assert writes == [4, 4]
    too_many = [statement(id=new_id()) for _ in range(joining.JOIN_MAX + 1)]
    writes.clear()
    assert (await post_statements(client, too_many)).status_code == 200
    assert writes == [joining.JOIN_MAX + 1]  # alone


async def test_a_group_cancelled_before_its_write_leaves_no_request_waiting() -> None:
    written: list[list[str]] = []

    async def write(statements: list[dict[str, Any]], ids: list[str]) -> None:
        written.append(ids)

    before = set(joining._writing)
    first = asyncio.ensure_future(joining.join(("会计",), [{}], ["a"], write))
    await asyncio.sleep(0)  # it opened a group, whose write waits its turns
    (group_write,) = joining._writing - before
    group_write.cancel()
    with pytest.raises(asyncio.CancelledError):
        await first
    assert not joining._open.get(asyncio.get_running_loop())
    assert await joining.join(("会计",), [{}], ["b"], write) is True  # a new group
    assert written == [["b"]]


async def test_a_stopping_service_waits_for_the_group_being_written() -> None:
    release = asyncio.Event()
    written: list[list[str]] = []

    async def write(statements: list[dict[str, Any]], ids: list[str]) -> None:
        await release.wait()
        written.append(ids)

    request = asyncio.ensure_future(joining.join(("卫生",), [{}], ["a"], write))
    for _ in range(joining.TURNS + 2):
        await asyncio.sleep(0)  # the group is writing
    request.cancel()  # its client went away: the group goes on
    settled = asyncio.ensure_future(joining.settle())
    await asyncio.sleep(0)
    assert not settled.done()
    release.set()
    await settled
    assert written == [["a"]]
