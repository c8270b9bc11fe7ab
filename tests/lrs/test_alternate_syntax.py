"""The 1.0.3 alternate request syntax (Communication 1.3): POST ?method=X with headers,
parameters and content in a form body; xAPI 2.0 removed it, so there it is 400."""

from __future__ import annotations

import json
from urllib.parse import urlencode

import httpx
import pytest

from tests.conftest import ADMIN
from tests.lrs.conftest import STATEMENTS, V1, fetch, get_statements, new_id, statement, store

FORM = "application/x-www-form-urlencoded"


async def post_form(
    client: httpx.AsyncClient,
    method: str,
    form: dict[str, str],
    headers: dict[str, str] | None = None,
    params: dict[str, str] | None = None,
    content_type: str = f"{FORM}; charset=utf-8",
) -> httpx.Response:
    return await client.post(
        STATEMENTS,
        params={"method": method, **(params or {})},
        content=urlencode(form).encode(),
        headers={"Content-Type": content_type, **(headers or {})},
    )


def content(statement_id: str | None = None) -> str:
    body = statement(id=statement_id) if statement_id else statement()
    return json.dumps(body, ensure_ascii=False)


async def test_alternate_put_with_headers_in_the_form_is_204(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    form = {
        "statementId": statement_id,
        "content": content(),
        "Authorization": ADMIN["Authorization"],
        "X-Experience-API-Version": "1.0.3",
    }
    response = await post_form(client, "PUT", form)
    assert response.status_code == 204, response.text
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    stored = await fetch(client, statement_id)
    assert stored["object"]["definition"]["name"]["zh-CN"] == "基层常见病中医适宜技术"
    assert stored["version"] == "1.0.0"


async def test_alternate_put_with_real_headers_is_204(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    response = await post_form(
        client,
        "PUT",
        {"statementId": statement_id, "content": content()},
        headers={**ADMIN, "X-Experience-API-Version": V1},
        content_type=FORM,
    )
    assert response.status_code == 204
    assert (await fetch(client, statement_id))["id"] == statement_id


async def test_alternate_get_with_limit_is_a_statement_result(client: httpx.AsyncClient) -> None:
    ids = await store(client, statement(), statement(), version=V1)
    response = await post_form(
        client, "GET", {"limit": "1"}, headers={**ADMIN, "X-Experience-API-Version": V1}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [s["id"] for s in body["statements"]] == [ids[-1]]
    assert body["more"]
    assert response.headers["X-Experience-API-Version"] == "1.0.3"
    assert "X-Experience-API-Consistent-Through" in response.headers


async def test_alternate_post_stores_a_statement(client: httpx.AsyncClient) -> None:
    form = {
        "content": content(),
        "Authorization": ADMIN["Authorization"],
        "X-Experience-API-Version": "1.0.3",
    }
    response = await post_form(client, "POST", form)
    assert response.status_code == 200
    [statement_id] = response.json()
    assert (await fetch(client, statement_id))["actor"]["name"] == "张伟"


async def test_alternate_form_version_overrides_the_header(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    form = {"statementId": statement_id, "content": content(), "X-Experience-API-Version": "0.8"}
    response = await post_form(
        client, "PUT", form, headers={**ADMIN, "X-Experience-API-Version": V1}
    )
    assert response.status_code == 400
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_alternate_form_credentials_are_checked(client: httpx.AsyncClient) -> None:
    form = {
        "statementId": new_id(),
        "content": content(),
        "Authorization": "Basic YWRtaW46d3Jvbmc=",
        "X-Experience-API-Version": "1.0.3",
    }
    assert (await post_form(client, "PUT", form)).status_code == 401


@pytest.mark.parametrize("method", ["GET", "PUT", "POST"])
async def test_alternate_syntax_under_2_0_is_400(client: httpx.AsyncClient, method: str) -> None:
    statement_id = new_id()
    form = {"statementId": statement_id, "content": content(), "X-Experience-API-Version": "2.0.0"}
    response = await post_form(
        client, method, form, headers={**ADMIN, "X-Experience-API-Version": "2.0.0"}
    )
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == "2.0.0"
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_alternate_syntax_with_2_0_header_and_json_body_is_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post(
        STATEMENTS,
        params={"method": "PUT"},
        json={"statementId": new_id(), "content": statement()},
        headers={**ADMIN, "X-Experience-API-Version": "2.0.0"},
    )
    assert response.status_code == 400


async def test_alternate_syntax_with_extra_query_parameter_is_400(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    form = {"statementId": statement_id, "content": content()}
    response = await post_form(
        client,
        "PUT",
        form,
        headers={**ADMIN, "X-Experience-API-Version": V1},
        params={"statementId": statement_id},
    )
    assert response.status_code == 400
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_alternate_syntax_body_not_a_form_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        STATEMENTS,
        params={"method": "PUT"},
        content=content().encode(),
        headers={**ADMIN, "X-Experience-API-Version": V1, "Content-Type": FORM},
    )
    assert response.status_code == 400


async def test_alternate_syntax_without_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        STATEMENTS,
        params={"method": "PUT"},
        headers={**ADMIN, "X-Experience-API-Version": V1, "Content-Type": FORM},
    )
    assert response.status_code == 400


async def test_alternate_syntax_unknown_method_is_400(client: httpx.AsyncClient) -> None:
    response = await post_form(
        client, "PATCH", {"content": content()}, headers={**ADMIN, "X-Experience-API-Version": V1}
    )
    assert response.status_code == 400
    assert "'PATCH'" in response.json()["detail"]


async def test_alternate_syntax_only_on_post(client: httpx.AsyncClient) -> None:
    response = await client.put(
        STATEMENTS,
        params={"method": "POST"},
        content=urlencode({"content": content(), "X-Experience-API-Version": "1.0.3"}).encode(),
        headers={**ADMIN, "X-Experience-API-Version": V1, "Content-Type": FORM},
    )
    assert response.status_code == 400
