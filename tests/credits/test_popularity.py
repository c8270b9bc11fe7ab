"""Popularity (issue 19): distinct learners who completed a course, voids subtracted,
pushed to search off the write path — through the API: statements posted, the push run
once, then the order of equally relevant search hits."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from credits import popularity
from nxce.search_wiring import PopularityPush
from tests.credits.conftest import activity, completion, register, send, voiding_of

QUERY = "核心要义"  # among its hits, GX-0001 and GX-0002: titles alike but for （一）/（二）
PAIR = ("GX-0001", "GX-0002")


async def hits(client: httpx.AsyncClient) -> list[dict[str, Any]]:
    response = await client.get("/search", params={"q": QUERY, "page_size": 10})
    assert response.status_code == 200, response.text
    found: list[dict[str, Any]] = response.json()["hits"]
    return found


async def order(client: httpx.AsyncClient) -> list[str]:
    """The two courses of PAIR in the order search ranks them."""
    return [h["code"] for h in await hits(client) if h["code"] in PAIR]


async def learners(client: httpx.AsyncClient) -> None:
    await register(client)
    await register(client, "wangfang", "王芳", "125", series="会计")
    await register(client, "lina", "李娜", "126")


async def test_completions_and_voids_move_popularity_and_the_order_of_hits(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    push = app.state.popularity
    await push.started.wait()  # the full push at start
    await learners(client)
    first, second = [h for h in await hits(client) if h["code"] in PAIR]
    assert first["score"] == second["score"]  # equally relevant: popularity decides
    low = second["code"]
    target = await activity(client, low)

    # Two learners complete the second hit (one of them twice: still one learner).
    ids = await send(
        client,
        completion(target),
        completion(target),
        completion(target, "wangfang", name="王芳"),
    )
    assert await order(client) == [first["code"], low]  # not pushed yet: unchanged
    assert await push.push_changed() == 1
    assert await order(client) == [low, first["code"]]
    assert await popularity.completions_by_course(codes=[low]) == {low: 2}

    # The first hit completed by one learner: the second still leads (2 to 1).
    await send(client, completion(await activity(client, first["code"]), "lina", name="李娜"))
    await push.push_changed()
    assert await order(client) == [low, first["code"]]

    # Both of 张伟's completions voided: one learner each (how a tie orders is search's).
    await send(client, voiding_of(ids[0]), voiding_of(ids[1]))
    assert await push.push_changed() == 1
    assert await popularity.completions_by_course(codes=[low, first["code"]]) == {
        low: 1,
        first["code"]: 1,
    }
    # 王芳's voided too: the first hit leads on popularity (1 to 0).
    await send(client, voiding_of(ids[2]))
    await push.push_changed()
    assert await popularity.completions_by_course(codes=[low]) == {}
    assert await order(client) == [first["code"], low]
    assert app.state.credits.popularity.learners(low) == 0


async def test_a_push_with_nothing_moved_pushes_nothing(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await app.state.popularity.started.wait()
    await learners(client)
    assert await app.state.popularity.push_changed() == 0


async def test_the_count_at_start_matches_the_ledger(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    """What the ledger's writes kept in memory equals a full count afresh."""
    push = app.state.popularity
    await push.started.wait()
    await learners(client)
    codes = ["GX-0001", "GX-0002", "GQ-0001"]
    for learner_id, name in (("zhangwei", "张伟"), ("wangfang", "王芳")):
        await send(
            client, *[completion(await activity(client, c), learner_id, name=name) for c in codes]
        )
    kept = dict(app.state.credits.popularity.counts)
    assert {c: kept[c] for c in codes} == {c: 2 for c in codes}
    await push.push_all()
    assert app.state.credits.popularity.counts == kept


class FailingOnce:
    """A search backend whose next `set_popularity` fails (the server away a moment)."""

    def __init__(self, backend: Any) -> None:
        self.backend, self.fail = backend, True

    async def set_popularity(self, counts: Any) -> None:
        if self.fail:
            self.fail = False
            raise ConnectionError("search is away")
        await self.backend.set_popularity(counts)


async def test_a_push_that_fails_is_made_at_the_next(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    await app.state.popularity.started.wait()
    await learners(client)
    push = PopularityPush(FailingOnce(app.state.search), app.state.credits)
    first, second = [h["code"] for h in await hits(client) if h["code"] in PAIR]
    await send(client, completion(await activity(client, second)))
    with pytest.raises(ConnectionError):
        await push.push_changed()
    assert await order(client) == [first, second]
    assert await push.push_changed() == 1
    assert await order(client) == [second, first]
