"""A tiny durable embedded store for the tests of backups and archives: one course, one
learner (张伟, with an id number), a completion credited to the ledger, a manual entry
and a State document; and the service started on a data directory."""

from __future__ import annotations

import asyncio
import shutil
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

import fixtures
from nxce.app import create_app
from nxce.core import clients, embedded_medium
from nxce.core.clients import Scope
from nxce.settings import Settings
from tests.conftest import ADMIN, basic, embedded_settings
from tests.credits.conftest import ZHANG_WEI, completion, learner_body, manual

XAPI = {**ADMIN, "X-Experience-API-Version": "2.0.0"}
STATEMENT_ID = "0b6f7a52-3c1e-4f0a-8d2b-9e4c6a1d7f30"
LEARNER = "zhangwei"
AUDITOR = basic("pingshen", "pingshen-secret")  # kept in the store: it moves with it


def durable(data: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {"embedded_in_memory": False, "seed_fixtures": False, **overrides}
    return embedded_settings(data, **values)


@asynccontextmanager
async def service(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", headers=ADMIN
        ) as http:
            yield app, http


def _state_params(activity: str) -> dict[str, str]:
    agent = f'{{"account": {{"homePage": "https://nxce.example", "name": "{LEARNER}"}}}}'
    return {"activityId": activity, "agent": agent, "stateId": "进度"}


async def populate(http: httpx.AsyncClient) -> str:
    """Fill the store; answers the course's activity id."""
    await clients.create(
        key="pingshen", name="工程系列评审委员会", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    course = fixtures.read_courses()[0]
    made = await http.post("/courses", json=course.model_dump(mode="json"))
    assert made.status_code == 201, made.text
    activity = str(made.json()["activity_id"])
    assert (await http.post("/learners", json=learner_body())).status_code == 201
    done = completion(activity, statement_id=STATEMENT_ID)
    assert (await http.post("/xapi/statements", json=[done], headers=XAPI)).status_code == 200
    entry = await http.post(f"/learners/{LEARNER}/credits", json=manual("2020-03-01", "public", 12))
    assert entry.status_code == 201, entry.text
    saved = await http.put(
        "/xapi/activities/state", params=_state_params(activity), json={"章节": 3}, headers=XAPI
    )
    assert saved.status_code == 204, saved.text
    for _ in range(200):  # the completion is credited by the projection
        if len((await http.get(f"/learners/{LEARNER}/credits")).json()) == 2:
            break
        await asyncio.sleep(0.05)
    return activity


async def observed(http: httpx.AsyncClient, activity: str) -> dict[str, Any]:
    """What a client reads of the tiny store: the statement, the learner (their id number
    decrypted with the key), the ledger, the audit, the State document."""
    statement = await http.get(
        "/xapi/statements", params={"statementId": STATEMENT_ID}, headers=XAPI
    )
    learner = await http.get(f"/learners/{LEARNER}", headers=AUDITOR)
    ledger = await http.get(f"/learners/{LEARNER}/credits")
    audit = await http.get(
        f"/learners/{LEARNER}/audit", params={"level": "intermediate", "year": 2022}
    )
    state = await http.get("/xapi/activities/state", params=_state_params(activity), headers=XAPI)
    for answer in (statement, learner, ledger, audit, state):
        assert answer.status_code == 200, answer.text
    assert learner.json()["id_number"] == ZHANG_WEI, learner.json()
    assert len(ledger.json()) == 2
    audit_body = audit.json()
    for moving in ("as_of", "generated_at"):
        audit_body.pop(moving, None)
    return {
        "statement": statement.json(),
        "learner": learner.json(),
        "ledger": ledger.json(),
        "audit": audit_body,
        "state": state.json(),
    }


def build(data: Path) -> dict[str, Any]:
    """A tiny store in `data`; answers what a client reads of it."""

    async def run() -> dict[str, Any]:
        async with service(durable(data)) as (_, http):
            activity = await populate(http)
            return {"activity": activity, **await observed(http, activity)}

    return asyncio.run(run())


def read_back(data: Path, activity: str, **overrides: Any) -> dict[str, Any]:
    """What a client reads of the service started on `data`."""

    async def run() -> dict[str, Any]:
        async with service(durable(data, **overrides)) as (_, http):
            return {"activity": activity, **await observed(http, activity)}

    return asyncio.run(run())


def copy(data: Path, target: Path) -> Path:
    """A copy of a data directory no process holds (its file and key)."""
    target.mkdir(parents=True)
    for name in (embedded_medium.FILE_NAME, "secret.key"):
        if (data / name).exists():
            shutil.copy2(data / name, target / name)
    return target


def rows(data: Path) -> list[tuple[str, bytes, bytes]]:
    """Every row of the data file, read by another connection."""
    path = data / embedded_medium.FILE_NAME
    reader = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        query = "SELECT collection, id, body FROM documents ORDER BY collection, id"
        return list(reader.execute(query))
    finally:
        reader.close()
