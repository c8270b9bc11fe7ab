"""Limits of the Statements resource: one statement's size, a page's size, the number of
query parameters, media types, and the content type an attachment is served with."""

from __future__ import annotations

import httpx
import pytest

from lrs.statements import query as statement_query
from lrs.statements import store as statement_store
from tests.lrs.conftest import (
    STATEMENTS,
    get_statements,
    new_id,
    post_statements,
    problem_detail,
    query_ids,
    statement,
    store,
    xapi,
)
from tests.lrs.test_attachments import (
    CERTIFICATE,
    attachment,
    multipart,
    parse_multipart,
    part,
    post_multipart,
    sha256,
)


async def test_statement_over_one_mebibyte_is_413_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    huge = statement(
        id=statement_id,
        result={"response": "学" * (statement_store.MAX_STATEMENT_BYTES // 3 + 10)},
    )

    response = await post_statements(client, [huge])

    assert response.status_code == 413
    assert statement_id in problem_detail(response)
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_a_page_stops_at_its_byte_budget_and_more_carries_the_rest(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    ids = await store(client, *[statement(result={"response": "笔记" * 200}) for _ in range(5)])
    one = len((await get_statements(client, {"statementId": ids[0]})).text.encode())
    monkeypatch.setattr(statement_query, "MAX_PAGE_BYTES", one * 2)

    first = (await get_statements(client)).json()

    assert 1 <= len(first["statements"]) < 5
    assert first["more"]
    seen = [s["id"] for s in first["statements"]]
    more = first["more"]
    while more:
        page = (await client.get(more, headers=xapi())).json()
        seen += [s["id"] for s in page["statements"]]
        more = page["more"]
    assert sorted(seen) == sorted(ids)


async def test_too_many_query_parameters_is_400(client: httpx.AsyncClient) -> None:
    params = {f"p{i}": "1" for i in range(100)}

    response = await client.get(STATEMENTS, params=params, headers=xapi())

    assert response.status_code == 400
    assert "query parameters" in problem_detail(response)


@pytest.mark.parametrize(
    "content_type",
    ["text/plain\r\nX-Injected: 1", "text/plain; a=\x01", "text/plain\n", "text/" + "a" * 300],
)
async def test_attachment_content_type_with_control_characters_or_too_long_is_400(
    client: httpx.AsyncClient, content_type: str
) -> None:
    sent = statement(
        attachments=[
            attachment(CERTIFICATE, contentType=content_type, fileUrl="https://x.example/c")
        ]
    )

    response = await post_statements(client, [sent])

    assert response.status_code == 400
    assert "contentType" in problem_detail(response)


async def test_attachment_is_served_with_the_content_type_the_statement_declares(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    declared = "text/plain; charset=utf-8"
    sent = statement(id=statement_id, attachments=[attachment(CERTIFICATE, contentType=declared)])
    body = multipart(
        sent,
        part(CERTIFICATE, "application/x-other", **{"X-Experience-API-Hash": sha256(CERTIFICATE)}),
    )
    assert (await post_multipart(client, body)).status_code == 200

    response = await get_statements(client, {"statementId": statement_id, "attachments": "true"})

    [_, (data_headers, data)] = parse_multipart(response)
    assert data == CERTIFICATE
    assert data_headers["content-type"] == declared


async def test_resending_a_voiding_statement_voids_its_target_again(
    client: httpx.AsyncClient,
) -> None:
    """Where MongoDB runs without transactions, a voiding statement can be stored while its
    target's flag is not yet set; sending the voiding statement again repairs it."""
    from lrs.statements.models import StatementRecord
    from nxce.core import db

    [target] = await store(client, statement())
    voiding_id = new_id()
    voiding = statement(
        id=voiding_id,
        verb={"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"zh-CN": "作废"}},
        object={"objectType": "StatementRef", "id": target},
    )
    await store(client, voiding)
    await db.collection(StatementRecord).update_one(
        {"statement_id": target}, {"$set": {"voided": False}}
    )
    assert target in await query_ids(client)

    assert (await post_statements(client, [voiding])).status_code == 200

    assert target not in await query_ids(client)
