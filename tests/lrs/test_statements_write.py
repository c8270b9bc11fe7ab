"""Storing statements: PUT with statementId, POST of one or many, immutability (same id
and same content is a no-op, different content is 409) and all-or-nothing batches."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI

from lrs.statements.models import StatementRecord, raw_document
from nxce.core import db
from tests.conftest import ADMIN
from tests.lrs.conftest import (
    ATTEMPTED,
    COURSE,
    LEARNER,
    V1,
    VOIDED,
    fetch,
    get_statements,
    new_id,
    post_statements,
    problem_detail,
    put_statement,
    statement,
    store,
)


def is_uuid(value: str) -> bool:
    try:
        return str(uuid.UUID(value)) == value.lower()
    except ValueError:
        return False


# --- PUT ------------------------------------------------------------------------------


async def test_statements_put_stores_under_statement_id_with_204(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    response = await put_statement(client, statement_id, statement())
    assert response.status_code == 204
    assert response.content == b""
    stored = await fetch(client, statement_id)
    assert stored["id"] == statement_id
    assert stored["actor"] == LEARNER
    assert stored["object"]["definition"]["name"]["zh-CN"] == "基层常见病中医适宜技术"


async def test_statements_put_with_same_id_in_body_is_204(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    response = await put_statement(client, statement_id, statement(id=statement_id))
    assert response.status_code == 204


async def test_statements_put_id_differing_from_statement_id_is_400(
    client: httpx.AsyncClient,
) -> None:
    statement_id, other = new_id(), new_id()
    response = await put_statement(client, statement_id, statement(id=other))
    assert response.status_code == 400
    assert other in problem_detail(response)
    for unknown in (statement_id, other):
        assert (await get_statements(client, {"statementId": unknown})).status_code == 404


async def test_statements_put_without_statement_id_is_400(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    response = await put_statement(client, None, statement(id=statement_id))
    assert response.status_code == 400
    assert "statementId" in problem_detail(response)
    assert (await get_statements(client, {"statementId": statement_id})).status_code == 404


async def test_statements_put_wrong_case_statement_id_parameter_is_400(
    client: httpx.AsyncClient,
) -> None:
    response = await client.put(
        "/xapi/statements",
        params={"StatementId": new_id()},
        json=statement(),
        headers={"X-Experience-API-Version": "2.0.0", **ADMIN},
    )
    assert response.status_code == 400


async def test_statements_put_statement_id_not_a_uuid_is_400(client: httpx.AsyncClient) -> None:
    response = await put_statement(client, "课程-0001", statement())
    assert response.status_code == 400
    assert "'课程-0001'" in problem_detail(response)


async def test_statements_put_same_id_same_content_is_noop(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    assert (await put_statement(client, statement_id, statement())).status_code == 204
    before = await fetch(client, statement_id)
    again = await put_statement(client, statement_id, statement())
    assert again.status_code == 204
    assert await fetch(client, statement_id) == before
    listed = (await get_statements(client)).json()["statements"]
    assert [s["id"] for s in listed] == [statement_id]


async def test_statements_put_same_id_different_content_is_409_and_keeps_the_first(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    assert (await put_statement(client, statement_id, statement())).status_code == 204
    before = await fetch(client, statement_id)
    changed = statement(verb={"id": ATTEMPTED, "display": {"zh-CN": "尝试"}})
    response = await put_statement(client, statement_id, changed)
    assert response.status_code == 409
    assert statement_id in problem_detail(response)
    assert await fetch(client, statement_id) == before


async def test_statements_put_array_is_400(client: httpx.AsyncClient) -> None:
    response = await put_statement(client, new_id(), [statement()])
    assert response.status_code == 400


# --- POST -----------------------------------------------------------------------------


async def test_statements_post_single_answers_its_id_in_an_array(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    response = await post_statements(client, statement(id=statement_id))
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == [statement_id]


async def test_statements_post_array_answers_ids_in_order(client: httpx.AsyncClient) -> None:
    given = [new_id(), None, new_id(), None]
    batch = [statement(id=i) if i else statement() for i in given]
    response = await post_statements(client, batch)
    assert response.status_code == 200
    ids = response.json()
    assert len(ids) == 4
    assert (ids[0], ids[2]) == (given[0], given[2])
    assert len(set(ids)) == 4
    for statement_id in ids:
        assert (await fetch(client, statement_id))["id"] == statement_id


async def test_statements_post_generated_ids_are_uuids(client: httpx.AsyncClient) -> None:
    ids = await store(client, statement(), statement())
    assert all(is_uuid(i) for i in ids)
    stored = await fetch(client, ids[0])
    assert stored["id"] == ids[0]


async def test_statements_post_same_id_twice_in_a_batch_is_400_and_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    statement_id, other = new_id(), new_id()
    batch = [statement(id=other), statement(id=statement_id), statement(id=statement_id)]
    response = await post_statements(client, batch)
    assert response.status_code == 400
    assert statement_id in problem_detail(response)
    assert (await get_statements(client)).json()["statements"] == []


async def test_statements_post_same_id_differing_in_case_in_a_batch_is_400(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    batch = [statement(id=statement_id), statement(id=statement_id.upper())]
    assert (await post_statements(client, batch)).status_code == 400


async def test_statements_post_batch_with_one_invalid_stores_none(
    client: httpx.AsyncClient,
) -> None:
    valid = new_id()
    batch = [statement(id=valid), statement(verb={"id": "should fail"})]
    response = await post_statements(client, batch)
    assert response.status_code == 400
    assert "statements[1].verb.id" in problem_detail(response)
    assert (await get_statements(client, {"statementId": valid})).status_code == 404
    assert (await get_statements(client)).json()["statements"] == []


async def test_statements_post_batch_with_one_conflict_stores_none(
    client: httpx.AsyncClient,
) -> None:
    taken = new_id()
    await store(client, statement(id=taken))
    fresh = new_id()
    changed = statement(id=taken, verb={"id": ATTEMPTED})
    response = await post_statements(client, [statement(id=fresh), changed])
    assert response.status_code == 409
    assert (await get_statements(client, {"statementId": fresh})).status_code == 404


async def test_statements_post_same_id_same_content_is_noop(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    await store(client, statement(id=statement_id))
    before = await fetch(client, statement_id)
    response = await post_statements(client, statement(id=statement_id))
    assert response.status_code == 200
    assert response.json() == [statement_id]
    assert await fetch(client, statement_id) == before
    assert len((await get_statements(client)).json()["statements"]) == 1


async def test_statements_post_equal_content_with_other_key_order_is_noop(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    original = statement(id=statement_id)
    await store(client, original)
    before = await fetch(client, statement_id)
    reordered = {
        "object": {
            "definition": dict(reversed(list(original["object"]["definition"].items()))),
            "id": original["object"]["id"],
            "objectType": "Activity",
        },
        "verb": original["verb"],
        "id": statement_id,
        "actor": dict(reversed(list(original["actor"].items()))),
    }
    response = await post_statements(client, reordered)
    assert response.status_code == 200
    assert await fetch(client, statement_id) == before


async def test_statements_post_equal_content_with_mbox_domain_case_changed_is_noop(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    await store(client, statement(id=statement_id))
    before = await fetch(client, statement_id)
    shouting = {**LEARNER, "mbox": "mailto:zhangwei@NXCE.Example"}
    response = await post_statements(client, statement(id=statement_id, actor=shouting))
    assert response.status_code == 200
    assert await fetch(client, statement_id) == before


async def test_statements_post_equal_content_with_timestamp_in_another_zone_is_noop(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    await store(client, statement(id=statement_id, timestamp="2024-05-01T08:30:00.250+08:00"))
    before = await fetch(client, statement_id)
    same_instant = statement(id=statement_id, timestamp="2024-05-01T00:30:00.250Z")
    response = await post_statements(client, same_instant)
    assert response.status_code == 200
    assert await fetch(client, statement_id) == before


async def test_statements_post_equal_content_with_context_activity_as_array_is_noop(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    series = {"id": "https://nxce.example/xapi/activities/series/卫生"}
    await store(
        client, statement(id=statement_id, context={"contextActivities": {"parent": series}})
    )
    before = await fetch(client, statement_id)
    as_array = statement(id=statement_id, context={"contextActivities": {"parent": [series]}})
    assert (await post_statements(client, as_array)).status_code == 200
    assert await fetch(client, statement_id) == before


async def test_statements_post_equal_content_with_group_members_reordered_is_noop(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    members = [LEARNER, {"name": "王芳", "mbox": "mailto:wangfang@nxce.example"}]
    group = {"objectType": "Group", "name": "第三学习小组", "member": members}
    await store(client, statement(id=statement_id, actor=group))
    before = await fetch(client, statement_id)
    reordered = statement(id=statement_id, actor={**group, "member": members[::-1]})
    assert (await post_statements(client, reordered)).status_code == 200
    assert await fetch(client, statement_id) == before


async def test_statements_post_same_id_other_timestamp_instant_is_409(
    client: httpx.AsyncClient,
) -> None:
    statement_id = new_id()
    await store(client, statement(id=statement_id, timestamp="2024-05-01T08:30:00+08:00"))
    later = statement(id=statement_id, timestamp="2024-05-01T08:30:00Z")
    assert (await post_statements(client, later)).status_code == 409


async def test_statements_post_same_id_with_other_definition_text_is_noop(
    client: httpx.AsyncClient,
) -> None:
    """Data 2.3.1: Activity definitions and Verb displays are not part of the statement."""
    statement_id = new_id()
    await store(client, statement(id=statement_id))
    before = await fetch(client, statement_id)
    renamed = statement(id=statement_id)
    renamed["object"]["definition"]["name"] = {"zh-CN": "中医适宜技术（修订版）"}
    renamed["verb"]["display"] = {"zh-CN": "已完成"}
    assert (await post_statements(client, renamed)).status_code == 200
    assert await fetch(client, statement_id) == before


async def test_statements_post_same_id_with_other_actor_name_is_409(
    client: httpx.AsyncClient,
) -> None:
    """Data 2.3.1: only the listed exceptions may differ; an Agent's name is not one."""
    statement_id = new_id()
    await store(client, statement(id=statement_id))
    before = await fetch(client, statement_id)
    renamed = statement(id=statement_id, actor={**LEARNER, "name": "张卫"})
    response = await post_statements(client, renamed)
    assert response.status_code == 409
    assert await fetch(client, statement_id) == before


async def test_statements_post_stored_by_lrs_overrides_client_value(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement(stored="2011-07-15T00:00:00.000Z"))
    stored = await fetch(client, statement_id)
    assert stored["stored"] != "2011-07-15T00:00:00.000Z"
    assert stored["stored"] > "2020"


async def test_statements_post_without_timestamp_gets_stored_as_timestamp(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement())
    stored = await fetch(client, statement_id)
    assert stored["timestamp"] == stored["stored"]


async def test_statements_post_version_is_set_by_the_version_served(
    client: httpx.AsyncClient,
) -> None:
    [in_two] = await store(client, statement())
    [in_one] = await store(client, statement(), version=V1)
    [kept] = await store(client, statement(version="1.0.3"))
    assert (await fetch(client, in_two))["version"] == "2.0.0"
    assert (await fetch(client, in_one))["version"] == "1.0.0"
    assert (await fetch(client, kept))["version"] == "1.0.3"


async def test_statements_post_timestamp_with_offset_is_returned_in_utc_under_2_0(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement(timestamp="2024-05-01T08:30:00.250+08:00"))
    assert (await fetch(client, statement_id))["timestamp"] == "2024-05-01T00:30:00.250Z"


async def test_statements_post_keeps_actor_verb_object_exactly(
    client: httpx.AsyncClient,
) -> None:
    sent = statement()
    [statement_id] = await store(client, sent)
    stored = await fetch(client, statement_id)
    assert {k: stored[k] for k in ("actor", "verb", "object")} == sent


async def test_statements_post_with_query_parameters_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/xapi/statements",
        params={"statementId": new_id()},
        json=statement(),
        headers={"X-Experience-API-Version": "2.0.0", **ADMIN},
    )
    assert response.status_code == 400


async def test_statements_post_body_not_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/xapi/statements",
        content=b'{"actor": ',
        headers={
            "Content-Type": "application/json",
            "X-Experience-API-Version": "2.0.0",
            **ADMIN,
        },
    )
    assert response.status_code == 400
    assert "not valid JSON" in problem_detail(response)


async def test_statements_post_repeated_property_is_400(client: httpx.AsyncClient) -> None:
    body = statement()
    text = (
        '{"actor": {"mbox": "mailto:zhangwei@nxce.example", "mbox": "mailto:w@nxce.example"},'
        f' "verb": {{"id": "{body["verb"]["id"]}"}}, "object": {{"id": "{body["object"]["id"]}"}}}}'
    )
    response = await client.post(
        "/xapi/statements",
        content=text.encode(),
        headers={
            "Content-Type": "application/json",
            "X-Experience-API-Version": "2.0.0",
            **ADMIN,
        },
    )
    assert response.status_code == 400
    assert "'mbox'" in problem_detail(response)


async def test_a_record_is_inserted_as_beanie_would_insert_it(app: FastAPI) -> None:
    # Every field given a value that is not its default, so none is left out unnoticed.
    record = StatementRecord(
        statement_id="9d3e5f70-1a2b-4c3d-8e9f-0a1b2c3d4e5f",
        stored_us=1_651_365_000_000_001,
        stored=datetime(2022, 5, 1, 0, 30, 0, 1, tzinfo=UTC),
        document='{"actor": {"name": "张伟"}}',
        version="2.0.0",
        voided=True,
        voids="0b0d9d39-6a0e-4a4c-8f3e-5d1b7c2e9a10",
        target="0b0d9d39-6a0e-4a4c-8f3e-5d1b7c2e9a10",
        agents=["mbox:mailto:zhangwei@nxce.example"],
        related_agents=["mbox:mailto:zhangwei@nxce.example", "account:nxce|admin"],
        verbs=[VOIDED],
        activities=[COURSE],
        related_activities=[COURSE],
        registrations=["5f0c3a1e-2b4d-4e6f-8a9b-0c1d2e3f4a5b"],
        authority="account:nxce|admin",
        privileged=True,
        attachments=["ab" * 32],
        projected=True,
    )
    assert set(StatementRecord.model_fields) - set(vars(record)) <= {"id", "revision_id"}
    assert raw_document(record) == db.new_document(record)
    assert list(raw_document(record)) == list(db.new_document(record))
