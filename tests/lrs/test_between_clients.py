"""What one client can do to, and learn of, the statements another client stored: a
client re-sending another's id learns nothing of its content, voids only its own
statements unless it holds `all`, and sees the names statements gave an Agent only with
a scope that reads every statement."""

from __future__ import annotations

import json

import httpx

from nxce.core.clients import Scope
from tests.lrs.conftest import (
    LEARNER,
    MakeClient,
    fetch,
    get_statements,
    new_id,
    post_statements,
    problem_detail,
    put_statement,
    statement,
    voiding,
    xapi,
)

APP_SCOPES = (Scope.statements_write, Scope.statements_read_mine)


async def test_same_id_from_another_client_is_409_whatever_the_content(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    first = await make_client("mobile-app", "手机客户端", *APP_SCOPES)
    other = await make_client("partner-app", "合作平台", *APP_SCOPES)
    statement_id = new_id()
    original = statement(id=statement_id)
    assert (await put_statement(client, statement_id, original, auth=first)).status_code == 204

    same = await put_statement(client, statement_id, original, auth=other)
    different = await put_statement(
        client,
        statement_id,
        statement(id=statement_id, actor={"mbox": "mailto:x@nxce.example"}),
        auth=other,
    )

    # One answer for equal and different content: the conflict tells nothing of it.
    assert same.status_code == different.status_code == 409
    assert "another client" in problem_detail(same)
    # The client that stored it may still re-send it (mobile sync retries).
    assert (await put_statement(client, statement_id, original, auth=first)).status_code == 204


async def test_admin_may_resend_a_statement_another_client_stored(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    app = await make_client("mobile-app", "手机客户端", *APP_SCOPES)
    ids = (await post_statements(client, [statement()], auth=app)).json()
    stored = await fetch(client, ids[0])

    again = await post_statements(client, [stored])

    assert again.status_code == 200, again.text


async def test_voiding_another_clients_statement_is_403_and_voids_nothing(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    first = await make_client("mobile-app", "手机客户端", *APP_SCOPES)
    other = await make_client("partner-app", "合作平台", *APP_SCOPES)
    target = (await post_statements(client, [statement()], auth=first)).json()[0]

    refused = await post_statements(client, [voiding(target)], auth=other)

    assert refused.status_code == 403
    assert target in problem_detail(refused)
    assert (await fetch(client, target))["id"] == target  # not voided
    # The client that stored it may void it.
    assert (await post_statements(client, [voiding(target)], auth=first)).status_code == 200
    assert (await get_statements(client, {"statementId": target})).status_code == 404


async def test_admin_voids_any_statement(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    app = await make_client("mobile-app", "手机客户端", *APP_SCOPES)
    target = (await post_statements(client, [statement()], auth=app)).json()[0]

    assert (await post_statements(client, [voiding(target)])).status_code == 200

    assert (await get_statements(client, {"statementId": target})).status_code == 404
    voided = await get_statements(client, {"voidedStatementId": target})
    assert voided.status_code == 200


async def test_voiding_sent_before_its_target_counts_only_from_the_same_client(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    first = await make_client("mobile-app", "手机客户端", *APP_SCOPES)
    other = await make_client("partner-app", "合作平台", *APP_SCOPES)
    by_other, by_self = new_id(), new_id()
    # Voiding statements that arrive before the statements they void (Data 2.3.2 allows it).
    assert (await post_statements(client, [voiding(by_other)], auth=other)).status_code == 200
    assert (await post_statements(client, [voiding(by_self)], auth=first)).status_code == 200

    stored = await post_statements(
        client, [statement(id=by_other), statement(id=by_self)], auth=first
    )

    assert stored.status_code == 200
    assert (await get_statements(client, {"statementId": by_other})).status_code == 200
    assert (await get_statements(client, {"statementId": by_self})).status_code == 404


async def test_agents_names_need_a_scope_that_reads_every_statement(
    client: httpx.AsyncClient, make_client: MakeClient
) -> None:
    app = await make_client("mobile-app", "手机客户端", *APP_SCOPES)
    await post_statements(client, [statement()], auth=app)
    agent = json.dumps({"mbox": LEARNER["mbox"]})

    mine = await client.get("/xapi/agents", params={"agent": agent}, headers=xapi(auth=app))
    everyone = await client.get("/xapi/agents", params={"agent": agent}, headers=xapi())

    assert mine.status_code == everyone.status_code == 200
    assert "name" not in mine.json()
    assert mine.json()["mbox"] == [LEARNER["mbox"]]
    assert everyone.json()["name"] == [LEARNER["name"]]


async def test_activity_definition_of_a_catalog_course_is_the_catalogs(
    client: httpx.AsyncClient, app: object
) -> None:
    course = "https://nxce.example/xapi/activities/course/GX-0001"
    catalog_name = {"zh-CN": "专业技术人员职业道德"}

    async def course_definition(activity_id: str) -> dict[str, object] | None:
        return {"name": catalog_name} if activity_id == course else None

    app.state.lrs.course_definition = course_definition  # type: ignore[attr-defined]
    renamed = statement(object={"id": course, "definition": {"name": {"zh-CN": "改过的课程名"}}})
    assert (await post_statements(client, [renamed])).status_code == 200

    found = await client.get("/xapi/activities", params={"activityId": course}, headers=xapi())

    assert found.status_code == 200
    assert found.json()["definition"]["name"] == catalog_name
