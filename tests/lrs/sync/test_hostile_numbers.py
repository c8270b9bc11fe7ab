"""A number no JSON reader can keep (`1e400` is infinity to Python) is refused with a 400
naming its property, wherever it is in a statement, even when a learner's app aims it at
another learner; that learner's pull answers 200 afterwards and nothing was stored."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.credits.conftest import MakeBound, activity, actor, completion, register
from tests.lrs.conftest import STATEMENTS, xapi
from tests.lrs.sync.conftest import APP_SCOPES, pull

PLACE = '"__NUMBER__"'
EXT = "https://nxce.example/xapi/extensions/进度"

# (where the number goes, the path the 400 names)
PLACES = [
    ({"result": {"score": {"raw": "__NUMBER__"}}}, "statement.result.score.raw"),
    ({"result": {"extensions": {EXT: "__NUMBER__"}}}, f'statement.result.extensions["{EXT}"]'),
    (
        {"context": {"extensions": {EXT: {"页": ["__NUMBER__"]}}}},
        f'statement.context.extensions["{EXT}"]["页"][0]',
    ),
]
NUMBERS = ["1e400", "-1e999", "9223372036854775808", "-99999999999999999999"]


def hostile(statement: dict[str, Any], number: str) -> bytes:
    return json.dumps(statement, ensure_ascii=False).replace(PLACE, number).encode("utf-8")


async def strictly_json(response: httpx.Response) -> Any:
    """The body, refusing what Python's json would let through (Infinity, NaN)."""
    assert response.status_code == 200, response.text

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a response")

    return json.loads(response.text, parse_constant=refuse)


async def reads_answer(client: httpx.AsyncClient, auth: dict[str, str], learner: str) -> None:
    """The learner's pull, HEAD, format=ids and /xapi/activities all answer 200."""
    agent = json.dumps(actor(*learner))
    found, _ = await pull(client, auth, agent=agent)
    for params in ({"agent": agent, "format": "ids"}, {"agent": agent, "format": "canonical"}):
        await strictly_json(await client.get(STATEMENTS, params=params, headers=xapi(auth=auth)))
    head = await client.head(STATEMENTS, params={"agent": agent}, headers=xapi(auth=auth))
    assert head.status_code == 200
    for statement in found:
        one = await client.get(
            STATEMENTS, params={"statementId": statement["id"]}, headers=xapi(auth=auth)
        )
        await strictly_json(one)


@pytest.mark.parametrize(("extra", "path"), PLACES)
async def test_statement_number_out_of_range_is_400_naming_the_property(
    client: httpx.AsyncClient, bound_client: MakeBound, extra: dict[str, Any], path: str
) -> None:
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    phone = await bound_client("zhangwei", *APP_SCOPES)
    course = await activity(client, "GX-0002")
    kept = completion(course)
    assert (await client.post(STATEMENTS, json=kept, headers=xapi(auth=phone))).status_code == 200

    # 张伟's app names 李秀英 as the object Agent: her pull would hold it.
    aimed = {**completion(course), **extra, "object": actor("lixiuying", "李秀英")}
    for number, auth in [(n, a) for n in NUMBERS for a in (phone, ADMIN)]:
        response = await client.post(
            STATEMENTS,
            content=hostile(aimed, number),
            headers={**xapi(auth=auth), "Content-Type": "application/json"},
        )
        assert response.status_code == 400, response.text
        assert response.json()["detail"].startswith(f"{path}: ")
        assert "out of range" in response.json()["detail"]
        batch = await client.post(
            STATEMENTS,
            content=b"[" + hostile(completion(course), "1") + b", " + hostile(aimed, number) + b"]",
            headers={**xapi(auth=auth), "Content-Type": "application/json"},
        )
        assert batch.status_code == 400, batch.text
        assert batch.json()["detail"].startswith(path.replace("statement.", "statements[1]."))

    everything, _ = await pull(client, ADMIN)
    assert [s["id"] for s in everything] == [kept["id"]]  # nothing refused was stored
    await reads_answer(client, phone, ("zhangwei", "张伟"))
    await reads_answer(client, ADMIN, ("lixiuying", "李秀英"))
    activities = await client.get(
        "/xapi/activities", params={"activityId": course}, headers=xapi(auth=ADMIN)
    )
    await strictly_json(activities)
