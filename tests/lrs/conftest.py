"""Helpers for the xAPI tests: an app without the fixture catalog (the LRS does not need
it), request helpers that send the version header and admin credentials, and a statement
factory with Chinese names."""

from __future__ import annotations

import copy
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nxce.core import clients
from nxce.core.clients import Scope
from nxce.settings import Settings
from tests.conftest import ADMIN, basic, embedded_settings

V2 = "2.0.0"
V1 = "1.0.3"
STATEMENTS = "/xapi/statements"
VOIDED = "http://adlnet.gov/expapi/verbs/voided"
COMPLETED = "http://adlnet.gov/expapi/verbs/completed"
ATTEMPTED = "http://adlnet.gov/expapi/verbs/attempted"
COURSE = "https://nxce.example/xapi/activities/course/WS-0001"
LEARNER = {"objectType": "Agent", "name": "张伟", "mbox": "mailto:zhangwei@nxce.example"}
TEACHER = {"objectType": "Agent", "name": "李秀英", "mbox": "mailto:lixiuying@nxce.example"}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    """The LRS tests need no course catalog: start empty, which is much faster."""
    return embedded_settings(tmp_path, seed_fixtures=False)


def new_id() -> str:
    return str(uuid.uuid4())


def statement(**overrides: Any) -> dict[str, Any]:
    """A valid statement (张伟 completed a course), with top-level properties replaced."""
    base: dict[str, Any] = {
        "actor": copy.deepcopy(LEARNER),
        "verb": {"id": COMPLETED, "display": {"zh-CN": "完成", "en-US": "completed"}},
        "object": {
            "objectType": "Activity",
            "id": COURSE,
            "definition": {
                "name": {"zh-CN": "基层常见病中医适宜技术", "en-US": "Appropriate TCM techniques"},
                "description": {
                    "zh-CN": "针刺、艾灸、拔罐等适宜技术的操作规范",
                    "en-US": "Acupuncture, moxibustion and cupping",
                },
                "type": "http://adlnet.gov/expapi/activities/course",
            },
        },
    }
    base.update(copy.deepcopy(overrides))
    return base


def voiding(target: str, **overrides: Any) -> dict[str, Any]:
    """A statement voiding `target` (Data 2.3.2)."""
    return statement(
        verb={"id": VOIDED, "display": {"zh-CN": "作废"}},
        object={"objectType": "StatementRef", "id": target},
        **overrides,
    )


def xapi(version: str | None = V2, auth: dict[str, str] | None = ADMIN) -> dict[str, str]:
    """Request headers: the version (unless None) and credentials (unless None)."""
    headers = dict(auth or {})
    if version is not None:
        headers["X-Experience-API-Version"] = version
    return headers


async def post_statements(
    client: httpx.AsyncClient,
    body: Any,
    version: str | None = V2,
    auth: dict[str, str] | None = ADMIN,
) -> httpx.Response:
    return await client.post(STATEMENTS, json=body, headers=xapi(version, auth))


async def put_statement(
    client: httpx.AsyncClient,
    statement_id: str | None,
    body: Any,
    version: str | None = V2,
    auth: dict[str, str] | None = ADMIN,
) -> httpx.Response:
    params = {} if statement_id is None else {"statementId": statement_id}
    return await client.put(STATEMENTS, params=params, json=body, headers=xapi(version, auth))


async def get_statements(
    client: httpx.AsyncClient,
    params: dict[str, Any] | None = None,
    version: str | None = V2,
    auth: dict[str, str] | None = ADMIN,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    return await client.get(
        STATEMENTS, params=params or {}, headers={**xapi(version, auth), **(headers or {})}
    )


async def store(
    client: httpx.AsyncClient, *statements: dict[str, Any], version: str = V2
) -> list[str]:
    """POST the statements as one batch; answers their ids (fails unless 200)."""
    response = await post_statements(client, list(statements), version)
    assert response.status_code == 200, response.text
    ids: list[str] = response.json()
    return ids


async def fetch(client: httpx.AsyncClient, statement_id: str, **params: str) -> dict[str, Any]:
    """GET one statement by id (fails unless 200)."""
    response = await get_statements(client, {"statementId": statement_id, **params})
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def query_ids(client: httpx.AsyncClient, **params: Any) -> list[str]:
    """The ids of the first page of GET /xapi/statements with these parameters."""
    response = await get_statements(client, params)
    assert response.status_code == 200, response.text
    return [s["id"] for s in response.json()["statements"]]


def problem_detail(response: httpx.Response) -> str:
    detail: str = response.json()["detail"]
    return detail


MakeClient = Callable[..., Awaitable[dict[str, str]]]


@pytest.fixture
def make_client(app: FastAPI) -> MakeClient:
    """Creates an API client with the given scopes; answers its Basic headers."""

    async def create(key: str, name: str, *scopes: Scope) -> dict[str, str]:
        secret = f"{key}-secret-for-tests"
        await clients.create(key=key, name=name, scopes=list(scopes), secret=secret)
        return basic(key, secret)

    return create
