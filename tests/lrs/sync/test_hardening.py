"""What a misbehaving app or an unlucky moment must not break: dates no calendar holds,
one course that fails to credit, a statement stored while a pull runs, an app that tries
to act beyond its learner."""

from __future__ import annotations

import asyncio
import gzip
import json
from typing import Any

import httpx
import pytest

from credits import projection as credit_projection
from lrs import api as lrs_api
from lrs.statements import query as statement_query
from lrs.statements.models import StatementRecord
from nxce.core.clients import Scope
from tests.conftest import ADMIN
from tests.credits.conftest import (
    MakeBound,
    activity,
    actor,
    completion,
    ledger,
    register,
    send,
)
from tests.lrs.conftest import STATEMENTS, VOIDED, xapi
from tests.lrs.sync.conftest import APP_SCOPES, pull


async def test_a_completion_dated_9999_waits_for_review_and_the_rest_is_credited(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    odd = completion(await activity(client, "GX-0002"), when="9999-12-31T23:59:59Z")
    fine = completion(await activity(client, "GX-0003"))
    await send(client, odd, fine)
    entries = {e["source_ref"]: e for e in await ledger(client)}
    assert entries[odd["id"]]["status"] == "pending_review"
    # Registered: dated today, its hours await a policy covering this year (issue 13).
    assert entries[fine["id"]]["status"] == "awaiting_policy"
    progress = await client.get("/learners/zhangwei/progress", headers=ADMIN)
    assert progress.status_code == 200


async def test_a_course_that_fails_to_credit_holds_up_no_other(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Its statements stay marked for crediting, and the next catch-up credits them."""
    await register(client)
    broken_course = await activity(client, "GX-0002")
    real = credit_projection._recompute

    async def flaky(credits: Any, learner_id: str, activity_id: str) -> Any:
        if activity_id == broken_course:
            raise RuntimeError("store away for a moment")
        return await real(credits, learner_id, activity_id)

    monkeypatch.setattr(credit_projection, "_recompute", flaky)
    broken = completion(broken_course)
    fine = completion(await activity(client, "GX-0003"))
    await send(client, broken, fine)
    assert [e["source_ref"] for e in await ledger(client)] == [fine["id"]]
    left = await StatementRecord.find({"projected": False}).to_list()
    assert [r.statement_id for r in left] == [broken["id"]]

    monkeypatch.setattr(credit_projection, "_recompute", real)
    app_credits = client._transport.app.state.credits  # type: ignore[attr-defined]
    assert await credit_projection.catch_up(credits=app_credits) == 1
    assert {e["source_ref"] for e in await ledger(client)} == {broken["id"], fine["id"]}


async def test_a_statement_stored_while_a_pull_runs_comes_with_the_next_pull(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Consistent-Through names what the query saw, not the time it answered: a `since`
    pull from it finds the statement stored in between."""
    await register(client)
    first = completion(await activity(client, "GX-0002"))
    await send(client, first)
    late = completion(await activity(client, "GX-0003"))
    real = statement_query.find

    async def slow_find(**kwargs: Any) -> Any:
        found = await real(**kwargs)
        if not kwargs["query"].since_us:
            await send(client, late)  # stored after the query's snapshot
        return found

    monkeypatch.setattr(lrs_api.query, "find", slow_find)
    found, through = await pull(client, xapi())
    assert [s["id"] for s in found] == [first["id"]]
    monkeypatch.setattr(lrs_api.query, "find", real)
    again, _ = await pull(client, xapi(), since=through)
    assert [s["id"] for s in again] == [late["id"]]


async def test_an_app_holding_all_still_acts_for_its_learner_only(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """Even with `all`, a bound app may not void another learner's statement (a voiding
    in their name would un-credit them), nor send as a Group of other learners."""
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    hers = completion(await activity(client, "GX-0002"), "lixiuying", name="李秀英")
    await send(client, hers)
    phone = await bound_client("zhangwei", Scope.all)
    voiding = {
        "actor": actor(),
        "verb": {"id": VOIDED, "display": {"zh-CN": "作废"}},
        "object": {"objectType": "StatementRef", "id": hers["id"]},
    }
    response = await client.post(STATEMENTS, json=voiding, headers=xapi(auth=phone))
    assert response.status_code == 403, response.text
    # Still registered, not reversed (today's completion awaits a policy for this year).
    assert (await ledger(client, "lixiuying"))[0]["status"] == "awaiting_policy"

    group = completion(await activity(client, "GX-0003"))
    group["actor"] = {
        "objectType": "Group",
        "account": actor()["account"],
        "member": [actor("lixiuying", "李秀英")],
    }
    response = await client.post(STATEMENTS, json=group, headers=xapi(auth=phone))
    assert response.status_code == 403
    assert "Group" in response.json()["detail"]


async def test_an_app_learns_no_other_learners_names(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    await send(client, completion(await activity(client, "GX-0002"), "lixiuying", name="李秀英"))
    await send(client, completion(await activity(client, "GX-0002")))
    phone = await bound_client("zhangwei", Scope.statements_read, Scope.statements_write)
    nameless = {"objectType": "Agent", "account": actor("lixiuying")["account"]}
    theirs = await client.get(
        "/xapi/agents", params={"agent": json.dumps(nameless)}, headers=xapi(auth=phone)
    )
    assert theirs.status_code == 200 and "李秀英" not in theirs.text
    mine = {"objectType": "Agent", "account": actor()["account"]}
    own = await client.get(
        "/xapi/agents", params={"agent": json.dumps(mine)}, headers=xapi(auth=phone)
    )
    assert own.json()["name"] == ["张伟"]


async def test_x_gzip_is_gzip(client: httpx.AsyncClient, bound_client: MakeBound) -> None:
    await register(client)
    phone = await bound_client("zhangwei", *APP_SCOPES)
    body = gzip.compress(json.dumps([completion(await activity(client, "GX-0002"))]).encode())
    headers = {**xapi(auth=phone), "Content-Type": "application/json", "Content-Encoding": "x-gzip"}
    assert (await client.post(STATEMENTS, content=body, headers=headers)).status_code == 200


async def test_consistent_through_moves_on_when_nothing_is_stored(
    client: httpx.AsyncClient,
) -> None:
    """A client polling an idle store sees the time move: it waits for nothing forever."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0002")))
    _, first = await pull(client, xapi())
    await asyncio.sleep(0.01)
    _, second = await pull(client, xapi())
    assert second > first


async def test_statements_sent_with_upper_case_ids_are_left_to_catch_up_when_crediting_fails(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Ids are stored in lower case: the statements of a write whose crediting failed as
    a whole are marked for catch-up by those, whatever case the app sent."""
    await register(client)
    sent = completion(await activity(client, "GX-0002"))
    sent["id"] = sent["id"].upper()
    real = credit_projection.project

    async def down(**_: Any) -> None:
        raise RuntimeError("the ledger is away for a moment")

    monkeypatch.setattr(credit_projection, "project", down)
    await send(client, sent)
    left = await StatementRecord.find({"projected": False}).to_list()
    assert [r.statement_id for r in left] == [sent["id"].lower()]

    monkeypatch.setattr(credit_projection, "project", real)
    app_credits = client._transport.app.state.credits  # type: ignore[attr-defined]
    assert await credit_projection.catch_up(credits=app_credits) == 1
    assert [e["source_ref"].lower() for e in await ledger(client)] == [sent["id"].lower()]
