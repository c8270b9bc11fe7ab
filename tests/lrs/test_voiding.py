"""Voiding (Data 2.3.2, Communication 2.1.4): voided statements leave queries and
statementId lookups and are found by voidedStatementId; voiding statements stay."""

from __future__ import annotations

import httpx

from tests.lrs.conftest import (
    ATTEMPTED,
    COMPLETED,
    fetch,
    get_statements,
    new_id,
    post_statements,
    problem_detail,
    query_ids,
    statement,
    store,
    voiding,
)


async def test_voided_statement_is_404_by_statement_id(client: httpx.AsyncClient) -> None:
    [target] = await store(client, statement())
    await store(client, voiding(target))
    response = await get_statements(client, {"statementId": target})
    assert response.status_code == 404
    assert target in problem_detail(response)


async def test_voided_statement_is_returned_by_voided_statement_id(
    client: httpx.AsyncClient,
) -> None:
    [target] = await store(client, statement())
    await store(client, voiding(target))
    response = await get_statements(client, {"voidedStatementId": target})
    assert response.status_code == 200
    assert response.json()["id"] == target
    assert response.json()["object"]["definition"]["name"]["zh-CN"] == "基层常见病中医适宜技术"


async def test_statement_not_voided_is_404_by_voided_statement_id(
    client: httpx.AsyncClient,
) -> None:
    [target] = await store(client, statement())
    response = await get_statements(client, {"voidedStatementId": target})
    assert response.status_code == 404


async def test_voided_statement_leaves_queries_and_the_voiding_one_stays(
    client: httpx.AsyncClient,
) -> None:
    [kept, target] = await store(client, statement(), statement())
    [voider] = await store(client, voiding(target))
    assert await query_ids(client) == [voider, kept]
    # the voiding statement matches its target's verb through the StatementRef
    assert await query_ids(client, verb=COMPLETED) == [voider, kept]
    assert (await fetch(client, voider))["object"] == {"objectType": "StatementRef", "id": target}


async def test_voiding_in_the_same_batch_as_its_target(client: httpx.AsyncClient) -> None:
    target = new_id()
    [_, voider] = await store(client, statement(id=target), voiding(target))
    assert (await get_statements(client, {"statementId": target})).status_code == 404
    assert await query_ids(client) == [voider]


async def test_voiding_stored_before_its_target_voids_it_on_arrival(
    client: httpx.AsyncClient,
) -> None:
    target = new_id()
    [voider] = await store(client, voiding(target))
    await store(client, statement(id=target))
    assert (await get_statements(client, {"statementId": target})).status_code == 404
    assert await query_ids(client) == [voider]


async def test_voiding_an_unknown_statement_is_200(client: httpx.AsyncClient) -> None:
    assert (await post_statements(client, voiding(new_id()))).status_code == 200


async def test_voiding_a_voiding_statement_is_400_and_it_stays(
    client: httpx.AsyncClient,
) -> None:
    [target] = await store(client, statement())
    [voider] = await store(client, voiding(target))
    response = await post_statements(client, voiding(voider))
    assert response.status_code == 400
    assert voider in problem_detail(response)
    assert (await fetch(client, voider))["id"] == voider


async def test_voiding_a_voiding_statement_in_the_same_batch_is_400(
    client: httpx.AsyncClient,
) -> None:
    [target] = await store(client, statement())
    voider = new_id()
    response = await post_statements(client, [voiding(target, id=voider), voiding(voider)])
    assert response.status_code == 400
    assert (await fetch(client, target))["id"] == target


async def test_voiding_statement_with_activity_object_is_400(client: httpx.AsyncClient) -> None:
    body = statement(
        verb={"id": "http://adlnet.gov/expapi/verbs/voided", "display": {"zh-CN": "作废"}}
    )
    response = await post_statements(client, body)
    assert response.status_code == 400
    assert problem_detail(response).startswith("statement.object: ")


async def test_voided_target_still_matches_through_statement_refs(
    client: httpx.AsyncClient,
) -> None:
    [target] = await store(client, statement(verb={"id": ATTEMPTED}))
    [voider] = await store(client, voiding(target))
    assert await query_ids(client, verb=ATTEMPTED) == [voider]
