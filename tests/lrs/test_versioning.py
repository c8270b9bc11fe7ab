"""The version header (Communication 3.3), Consistent-Through, About, and HEAD on the
Statements resource."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from nxce.app import create_app
from tests.conftest import ADMIN, embedded_settings
from tests.lrs.conftest import (
    STATEMENTS,
    V1,
    get_statements,
    new_id,
    post_statements,
    put_statement,
    statement,
    store,
    xapi,
)

CONSISTENT = "X-Experience-API-Consistent-Through"
VERSION = "X-Experience-API-Version"


async def test_about_needs_no_credentials_and_lists_the_versions(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/xapi/about")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    versions = response.json()["version"]
    assert "1.0.3" in versions and "2.0.0" in versions
    assert response.headers[VERSION] == "2.0.0"


async def test_about_answers_in_the_version_asked_for(client: httpx.AsyncClient) -> None:
    response = await client.get("/xapi/about", headers={VERSION: "1.0.3"})
    assert response.status_code == 200
    assert response.headers[VERSION] == "1.0.3"


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
async def test_statements_without_version_header_is_400_with_version(
    client: httpx.AsyncClient, method: str
) -> None:
    statement_id = new_id()
    response = await client.request(
        method,
        STATEMENTS,
        params={"statementId": statement_id},
        json=statement(id=statement_id) if method != "GET" else None,
        headers=ADMIN,
    )
    assert response.status_code == 400
    assert "X-Experience-API-Version" in response.json()["detail"]
    assert response.headers[VERSION] == "2.0.0"


@pytest.mark.parametrize("value", ["1.1.0", "0.95", "3.0.0", "1.0.4", "BAD"])
async def test_statements_with_unsupported_version_is_400(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await get_statements(client, version=value)
    assert response.status_code == 400
    assert repr(value) in response.json()["detail"]
    assert response.headers[VERSION] in ("1.0.3", "2.0.0")


async def test_statements_missing_header_answers_in_the_version_the_client_spoke(
    client: httpx.AsyncClient,
) -> None:
    assert (await get_statements(client, version=V1)).status_code == 200
    response = await get_statements(client, version=None)
    assert response.status_code == 400
    assert response.headers[VERSION] == "1.0.3"


@pytest.mark.parametrize(
    ("asked", "served"),
    [
        ("1.0.0", "1.0.3"),
        ("1.0.1", "1.0.3"),
        ("1.0", "1.0.3"),
        ("1.0.3", "1.0.3"),
        ("2.0", "2.0.0"),
        ("2.0.0", "2.0.0"),
        ("2.0.5", "2.0.0"),
    ],
)
async def test_statements_response_carries_the_served_version(
    client: httpx.AsyncClient, asked: str, served: str
) -> None:
    response = await get_statements(client, version=asked)
    assert response.status_code == 200
    assert response.headers[VERSION] == served


async def test_statements_errors_carry_the_served_version(client: httpx.AsyncClient) -> None:
    unknown = await get_statements(client, {"statementId": new_id()}, version=V1)
    invalid = await post_statements(client, statement(verb={"id": "不是IRI"}), version=V1)
    anonymous = await get_statements(client, version=V1, auth=None)
    assert (unknown.status_code, invalid.status_code, anonymous.status_code) == (404, 400, 401)
    for response in (unknown, invalid, anonymous):
        assert response.headers[VERSION] == "1.0.3"


@pytest.mark.parametrize(
    "request_kind", ["get", "query", "post", "put", "not-found", "invalid", "unknown-param", "401"]
)
async def test_statements_responses_carry_consistent_through(
    client: httpx.AsyncClient, request_kind: str
) -> None:
    statement_id = new_id()
    [stored_id] = await store(client, statement())
    responses = {
        "get": lambda: get_statements(client, {"statementId": stored_id}),
        "query": lambda: get_statements(client, {"limit": 1}),
        "post": lambda: post_statements(client, statement()),
        "put": lambda: put_statement(client, statement_id, statement()),
        "not-found": lambda: get_statements(client, {"statementId": statement_id}),
        "invalid": lambda: post_statements(client, statement(actor={"name": "王芳"})),
        "unknown-param": lambda: get_statements(client, {"LIMIT": 1}),
        "401": lambda: get_statements(client, auth=None),
    }
    response = await responses[request_kind]()
    assert response.status_code in (200, 204, 400, 401, 404)
    through = response.headers[CONSISTENT]
    assert through.endswith("Z") and through[:4].isdigit()


@pytest.mark.parametrize("refused", ["missing version", "method= under 2.0"])
async def test_statements_refused_by_the_middleware_carry_consistent_through(
    client: httpx.AsyncClient, refused: str
) -> None:
    if refused == "missing version":
        response = await client.get(STATEMENTS, headers=ADMIN)
    else:
        response = await client.post(
            STATEMENTS,
            params={"method": "GET"},
            content=b"limit=1",
            headers={**xapi(), "Content-Type": "application/x-www-form-urlencoded"},
        )
    assert response.status_code == 400
    assert CONSISTENT in response.headers


async def test_statements_consistent_through_is_not_before_the_last_stored(
    client: httpx.AsyncClient,
) -> None:
    [stored_id] = await store(client, statement())
    response = await get_statements(client, {"statementId": stored_id})
    assert response.headers[CONSISTENT] >= response.json()["stored"]


async def test_statements_head_answers_like_get_without_body(client: httpx.AsyncClient) -> None:
    await store(client, statement())
    get = await get_statements(client)
    head = await client.head(STATEMENTS, headers=xapi())
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-type"] == get.headers["content-type"]
    assert head.headers[VERSION] == "2.0.0"
    assert CONSISTENT in head.headers


async def test_statements_head_by_unknown_id_is_404_without_body(
    client: httpx.AsyncClient,
) -> None:
    response = await client.head(STATEMENTS, params={"statementId": new_id()}, headers=xapi())
    assert response.status_code == 404
    assert response.content == b""


async def test_statements_body_over_the_limit_is_413_with_version(tmp_path: Path) -> None:
    application = create_app(
        embedded_settings(tmp_path, seed_fixtures=False, max_xapi_body_bytes=4096)
    )
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            notes = "学习笔记" * 1000
            response = await http.post(
                STATEMENTS, json=statement(result={"response": notes}), headers=xapi()
            )
    assert response.status_code == 413
    assert response.headers.get(VERSION) == "2.0.0"
