"""Who may use the Statements resource: Basic credentials, scopes, and the authority the
LRS records (Data 2.4.9)."""

from __future__ import annotations

import httpx
import pytest

from nxce.core.clients import Scope
from tests.conftest import basic
from tests.lrs.conftest import (
    MakeClient,
    fetch,
    get_statements,
    new_id,
    post_statements,
    put_statement,
    statement,
)


@pytest.mark.parametrize("method", ["GET", "POST", "PUT"])
async def test_statements_without_credentials_is_401(
    client: httpx.AsyncClient, method: str
) -> None:
    statement_id = new_id()
    if method == "GET":
        response = await get_statements(client, auth=None)
    elif method == "POST":
        response = await post_statements(client, statement(), auth=None)
    else:
        response = await put_statement(client, statement_id, statement(), auth=None)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Basic realm="nxce"'


async def test_statements_with_wrong_secret_is_401_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    response = await put_statement(client, statement_id, statement(), auth=basic("admin", "错误"))
    assert response.status_code == 401
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_statements_post_without_write_scope_is_403(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    reader = await make_client("dashboard", "学时统计看板", Scope.statements_read)
    response = await post_statements(client, statement(), auth=reader)
    assert response.status_code == 403
    assert "statements/write" in response.json()["detail"]
    assert (await get_statements(client, auth=reader)).json()["statements"] == []


async def test_statements_put_without_write_scope_is_403(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    reader = await make_client("dashboard", "学时统计看板", Scope.all_read)
    response = await put_statement(client, new_id(), statement(), auth=reader)
    assert response.status_code == 403


async def test_statements_get_without_read_scope_is_403(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    writer = await make_client("mobile-app", "手机客户端", Scope.statements_write)
    assert (await post_statements(client, statement(), auth=writer)).status_code == 200
    assert (await get_statements(client, auth=writer)).status_code == 403


async def test_statements_read_mine_sees_only_its_own_statements(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    scopes = (Scope.statements_write, Scope.statements_read_mine)
    yinchuan = await make_client("yinchuan", "银川市第一人民医院", *scopes)
    guyuan = await make_client("guyuan", "固原市人民医院", *scopes)
    [mine] = (await post_statements(client, statement(), auth=yinchuan)).json()
    [theirs] = (await post_statements(client, statement(), auth=guyuan)).json()

    listed = (await get_statements(client, auth=yinchuan)).json()["statements"]
    assert [s["id"] for s in listed] == [mine]
    own = await get_statements(client, {"statementId": mine}, auth=yinchuan)
    assert own.status_code == 200
    other = await get_statements(client, {"statementId": theirs}, auth=yinchuan)
    assert other.status_code == 404
    everything = (await get_statements(client)).json()["statements"]
    assert {s["id"] for s in everything} == {mine, theirs}


async def test_statements_authority_is_the_client_that_stored_it(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    writer = await make_client("mobile-app", "手机客户端", Scope.statements_write)
    [statement_id] = (await post_statements(client, statement(), auth=writer)).json()
    assert (await fetch(client, statement_id))["authority"] == {
        "objectType": "Agent",
        "name": "手机客户端",
        "account": {"homePage": "https://nxce.example", "name": "mobile-app"},
    }


async def test_statements_client_sent_authority_is_replaced(client: httpx.AsyncClient) -> None:
    forged = {"objectType": "Agent", "name": "宁夏人社厅", "mbox": "mailto:rst@nx.gov.cn"}
    [statement_id] = (await post_statements(client, statement(authority=forged))).json()
    authority = (await fetch(client, statement_id))["authority"]
    assert authority["account"] == {"homePage": "https://nxce.example", "name": "admin"}
    assert "mbox" not in authority
