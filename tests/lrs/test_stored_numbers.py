"""Statements and documents with a number no JSON can carry: refused at write (400 naming
the property, nothing stored), and those an older release stored (`Infinity` in the
statement's JSON text) read as null, so every read answers valid JSON."""

from __future__ import annotations

import json
from typing import Any

import httpx

from lrs.documents.models import ActivityRecord
from lrs.statements.models import StatementRecord
from nxce.core import db
from tests.lrs.conftest import COURSE, LEARNER, STATEMENTS, get_statements, statement, store, xapi

STATE = "/xapi/activities/state"
EXT = "https://nxce.example/xapi/extensions/进度"


def strictly(response: httpx.Response) -> Any:
    assert response.status_code == 200, response.text

    def refuse(name: str) -> None:
        raise AssertionError(f"{name} in a response")

    return json.loads(response.text, parse_constant=refuse)


async def test_statements_stored_with_infinity_by_an_older_release_read_as_null(
    client: httpx.AsyncClient,
) -> None:
    kept = statement(result={"score": {"raw": 80}, "extensions": {EXT: 1}})
    [statement_id] = await store(client, kept)
    # What an older release stored for `1e400`: json.dumps wrote Infinity.
    record = await db.collection(StatementRecord).find_one({"statement_id": statement_id})
    older = json.loads(record["document"])
    older["result"] = {"score": {"raw": float("inf")}, "extensions": {EXT: float("-inf")}}
    await db.collection(StatementRecord).update_one(
        {"statement_id": statement_id}, {"$set": {"document": json.dumps(older)}}
    )
    await db.collection(ActivityRecord).update_one(
        {"activity_id": COURSE},
        {"$set": {"definition": json.dumps({"extensions": {EXT: float("inf")}})}},
        upsert=True,
    )

    agent = json.dumps(LEARNER, ensure_ascii=False)
    for params in (
        {"agent": agent},
        {"agent": agent, "format": "ids"},
        {"agent": agent, "format": "canonical"},
        {"statementId": statement_id},
        {},
    ):
        body = strictly(await get_statements(client, params))
        found = body if "statementId" in params else body["statements"][0]
        assert found["result"]["score"]["raw"] is None
    head = await client.head(STATEMENTS, params={"agent": agent}, headers=xapi())
    assert head.status_code == 200
    activity = strictly(
        await client.get("/xapi/activities", params={"activityId": COURSE}, headers=xapi())
    )
    assert activity["definition"]["extensions"][EXT] is None


async def test_document_number_out_of_range_is_400_naming_the_property(
    client: httpx.AsyncClient,
) -> None:
    params = {"activityId": COURSE, "agent": json.dumps(LEARNER), "stateId": "进度"}
    headers = {**xapi(), "Content-Type": "application/json"}
    assert (
        await client.put(STATE, params=params, json={"页": 12}, headers=headers)
    ).status_code == 204
    for method in ("PUT", "POST"):
        response = await client.request(
            method,
            STATE,
            params=params,
            content=b'{"page": {"n": 1e400}}',
            headers={**headers, "If-Match": "*"},
        )
        assert response.status_code == 400, response.text
        assert "the document.page.n: 1e400 is out of range" in response.json()["detail"] or (
            "the posted document.page.n: 1e400 is out of range" in response.json()["detail"]
        )
    assert strictly(await client.get(STATE, params=params, headers=xapi())) == {"页": 12}
