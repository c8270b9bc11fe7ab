"""Reading statements (Communication 2.1.3): by id, and queries with filters, order,
limit and `more` paging over the `stored` order; bad parameters are 400."""

from __future__ import annotations

import json
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest

from tests.lrs.conftest import (
    ATTEMPTED,
    COMPLETED,
    COURSE,
    LEARNER,
    TEACHER,
    fetch,
    get_statements,
    new_id,
    problem_detail,
    query_ids,
    statement,
    store,
    xapi,
)

WANG = {"objectType": "Agent", "name": "王芳", "mbox": "mailto:wangfang@nxce.example"}
OTHER_COURSE = "https://nxce.example/xapi/activities/course/KJ-0001"
SERIES = "https://nxce.example/xapi/activities/series/卫生"
ADMIN_AUTHORITY = {"account": {"homePage": "https://nxce.example", "name": "admin"}}


def agent(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False)


async def all_pages(client: httpx.AsyncClient, **params: Any) -> tuple[list[str], int]:
    """Every statement a query returns, following `more`; answers (ids, pages)."""
    response = await get_statements(client, params)
    assert response.status_code == 200, response.text
    ids, pages = [], 0
    while True:
        body = response.json()
        pages += 1
        assert body["statements"], "an empty page"
        ids += [s["id"] for s in body["statements"]]
        if not body["more"]:
            return ids, pages
        response = await client.get(body["more"], headers=xapi())
        assert response.status_code == 200, response.text


# --- stored order -----------------------------------------------------------------------


async def test_statements_stored_strictly_increases_over_a_batch_and_across_requests(
    client: httpx.AsyncClient,
) -> None:
    ids = await store(client, *[statement() for _ in range(5)])
    ids += await store(client, statement())
    ids += await store(client, statement(), statement())
    stored = [(await fetch(client, i))["stored"] for i in ids]
    assert stored == sorted(stored) and len(set(stored)) == len(stored)
    assert all(s.endswith("Z") and "." in s for s in stored)


async def test_statements_query_is_newest_first_by_default(client: httpx.AsyncClient) -> None:
    ids = await store(client, statement(), statement(), statement())
    assert await query_ids(client) == ids[::-1]


async def test_statements_query_ascending_is_oldest_first(client: httpx.AsyncClient) -> None:
    ids = await store(client, statement(), statement(), statement())
    assert await query_ids(client, ascending="true") == ids
    assert await query_ids(client, ascending="false") == ids[::-1]


async def test_statements_query_since_is_exclusive_and_until_inclusive_on_stored(
    client: httpx.AsyncClient,
) -> None:
    ids = await store(client, *[statement() for _ in range(4)])
    stored = [(await fetch(client, i))["stored"] for i in ids]
    assert await query_ids(client, since=stored[1], ascending="true") == ids[2:]
    assert await query_ids(client, until=stored[1], ascending="true") == ids[:2]
    assert await query_ids(client, since=stored[0], until=stored[2], ascending="true") == ids[1:3]


async def test_statements_query_since_filters_on_stored_not_timestamp(
    client: httpx.AsyncClient,
) -> None:
    [first] = await store(client, statement())
    since = (await fetch(client, first))["stored"]
    [old_timestamp] = await store(client, statement(timestamp="2001-01-01T00:00:00Z"))
    assert await query_ids(client, since=since) == [old_timestamp]
    assert await query_ids(client, until="2002-01-01T00:00:00Z") == []


async def test_statements_query_since_accepts_an_offset(client: httpx.AsyncClient) -> None:
    ids = await store(client, statement())
    assert await query_ids(client, since="2001-01-01T08:00:00+08:00") == ids


async def test_statements_query_limit_answers_the_newest(client: httpx.AsyncClient) -> None:
    ids = await store(client, statement(), statement(), statement())
    assert await query_ids(client, limit=1) == [ids[-1]]
    assert await query_ids(client, limit=2, ascending="true") == ids[:2]


async def test_statements_query_limit_zero_is_the_server_maximum(
    client: httpx.AsyncClient,
) -> None:
    ids = await store(client, *[statement() for _ in range(3)])
    assert await query_ids(client, limit=0) == ids[::-1]


async def test_statements_query_without_more_results_has_empty_more(
    client: httpx.AsyncClient,
) -> None:
    await store(client, statement())
    body = (await get_statements(client, {"verb": "http://adlnet.gov/expapi/non/existent"})).json()
    assert body == {"statements": [], "more": ""}


async def test_statements_by_id_returns_the_statement_not_a_result(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement())
    response = await get_statements(client, {"statementId": statement_id})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["id"] == statement_id
    assert "statements" not in response.json()


async def test_statements_by_id_last_modified_is_stored_truncated_to_the_second(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement())
    response = await get_statements(client, {"statementId": statement_id})
    stored = datetime.fromisoformat(response.json()["stored"])
    modified = parsedate_to_datetime(response.headers["last-modified"])
    assert modified == stored.replace(microsecond=0)


async def test_statements_by_id_in_upper_case_is_found(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(client, statement())
    assert (await fetch(client, statement_id.upper()))["id"] == statement_id


async def test_statements_by_unknown_id_is_404(client: httpx.AsyncClient) -> None:
    statement_id = new_id()
    response = await get_statements(client, {"statementId": statement_id})
    assert response.status_code == 404
    assert statement_id in problem_detail(response)


# --- more -------------------------------------------------------------------------------


@pytest.mark.parametrize(("count", "limit"), [(7, 3), (6, 3), (6, 2), (1, 1)])
@pytest.mark.parametrize("ascending", ["true", "false"])
async def test_statements_more_returns_every_statement_once_with_no_empty_page(
    client: httpx.AsyncClient, count: int, limit: int, ascending: str
) -> None:
    ids = await store(client, *[statement() for _ in range(count)])
    seen, pages = await all_pages(client, limit=limit, ascending=ascending)
    assert seen == (ids if ascending == "true" else ids[::-1])
    assert pages == -(-count // limit)


async def test_statements_more_keeps_the_filters(client: httpx.AsyncClient) -> None:
    completed = await store(client, *[statement() for _ in range(3)])
    await store(client, statement(verb={"id": ATTEMPTED}), statement(verb={"id": ATTEMPTED}))
    seen, pages = await all_pages(client, verb=COMPLETED, limit=2)
    assert seen == completed[::-1] and pages == 2


@pytest.mark.parametrize("ascending", ["true", "false"])
async def test_statements_stored_after_the_first_page_stay_out_of_that_query(
    client: httpx.AsyncClient, ascending: str
) -> None:
    ids = await store(client, *[statement() for _ in range(4)])
    first = (await get_statements(client, {"limit": 2, "ascending": ascending})).json()
    [late] = await store(client, statement())
    rest = (await client.get(first["more"], headers=xapi())).json()
    returned = [s["id"] for s in first["statements"] + rest["statements"]]
    assert late not in returned
    assert sorted(returned) == sorted(ids)
    assert rest["more"] == ""


async def test_statements_more_with_other_parameters_is_400(client: httpx.AsyncClient) -> None:
    await store(client, statement(), statement())
    more = (await get_statements(client, {"limit": 1})).json()["more"]
    response = await client.get(more + "&limit=5", headers=xapi())
    assert response.status_code == 400


async def test_statements_more_that_is_no_cursor_is_400(client: httpx.AsyncClient) -> None:
    response = await get_statements(client, {"more": "下一页"})
    assert response.status_code == 400


# --- filters ----------------------------------------------------------------------------


async def test_statements_filter_agent_matches_actor_by_ifi_only(
    client: httpx.AsyncClient,
) -> None:
    [zhang, _wang] = await store(client, statement(), statement(actor=WANG))
    assert await query_ids(client, agent=agent({**LEARNER, "name": "别名"})) == [zhang]
    assert await query_ids(client, agent=agent({"mbox": "mailto:nobody@nxce.example"})) == []


async def test_statements_filter_agent_ignores_the_case_of_the_mbox_domain(
    client: httpx.AsyncClient,
) -> None:
    [shouted] = await store(
        client, statement(actor={**LEARNER, "mbox": "mailto:zhangwei@NXCE.Example"})
    )
    assert await query_ids(client, agent=agent(LEARNER)) == [shouted]


async def test_statements_filter_agent_matches_a_group_whose_member_matches(
    client: httpx.AsyncClient,
) -> None:
    group = {"objectType": "Group", "name": "第三学习小组", "member": [WANG, LEARNER]}
    [by_group, _by_teacher] = await store(client, statement(actor=group), statement(actor=TEACHER))
    assert await query_ids(client, agent=agent(WANG)) == [by_group]


async def test_statements_filter_agent_matches_agent_object(client: httpx.AsyncClient) -> None:
    [mentored] = await store(client, statement(actor=TEACHER, object=WANG))
    assert await query_ids(client, agent=agent(WANG)) == [mentored]


async def test_statements_filter_agent_by_account(client: httpx.AsyncClient) -> None:
    learner = {"name": "马丽", "account": {"homePage": "https://nxce.example", "name": "ma-li"}}
    [by_account, _] = await store(client, statement(actor=learner), statement())
    assert await query_ids(client, agent=agent({"account": learner["account"]})) == [by_account]


async def test_statements_filter_verb(client: httpx.AsyncClient) -> None:
    [_completed, attempted] = await store(client, statement(), statement(verb={"id": ATTEMPTED}))
    assert await query_ids(client, verb=ATTEMPTED) == [attempted]


async def test_statements_filter_activity_matches_object_only(client: httpx.AsyncClient) -> None:
    in_context = statement(
        object={"id": OTHER_COURSE}, context={"contextActivities": {"parent": [{"id": COURSE}]}}
    )
    [about_course, _in_context] = await store(client, statement(), in_context)
    assert await query_ids(client, activity=COURSE) == [about_course]


async def test_statements_filter_related_activities_matches_context_activities(
    client: httpx.AsyncClient,
) -> None:
    in_context = statement(
        object={"id": OTHER_COURSE},
        context={"contextActivities": {"grouping": {"id": SERIES}}},
    )
    [_unrelated, related] = await store(client, statement(), in_context)
    assert await query_ids(client, activity=SERIES) == []
    assert await query_ids(client, activity=SERIES, related_activities="true") == [related]


async def test_statements_filter_related_activities_matches_substatement_object(
    client: httpx.AsyncClient,
) -> None:
    sub = {
        "objectType": "SubStatement",
        "actor": WANG,
        "verb": {"id": ATTEMPTED},
        "object": {"id": SERIES},
    }
    [planned] = await store(client, statement(object=sub))
    assert await query_ids(client, activity=SERIES) == []
    assert await query_ids(client, activity=SERIES, related_activities="true") == [planned]


async def test_statements_filter_registration(client: httpx.AsyncClient) -> None:
    registration = new_id()
    [_, registered] = await store(
        client, statement(), statement(context={"registration": registration})
    )
    assert await query_ids(client, registration=registration) == [registered]
    assert await query_ids(client, registration=registration.upper()) == [registered]


async def test_statements_filter_related_agents_matches_instructor(
    client: httpx.AsyncClient,
) -> None:
    [_plain, taught] = await store(client, statement(), statement(context={"instructor": TEACHER}))
    assert await query_ids(client, agent=agent(TEACHER)) == []
    assert await query_ids(client, agent=agent(TEACHER), related_agents="true") == [taught]


async def test_statements_filter_related_agents_matches_authority(
    client: httpx.AsyncClient,
) -> None:
    ids = await store(client, statement(), statement(actor=WANG))
    assert await query_ids(client, agent=agent(ADMIN_AUTHORITY)) == []
    assert await query_ids(client, agent=agent(ADMIN_AUTHORITY), related_agents="true") == ids[::-1]


async def test_statements_filters_combine(client: httpx.AsyncClient) -> None:
    [_, wanted, _] = await store(
        client,
        statement(verb={"id": ATTEMPTED}),
        statement(actor=WANG, verb={"id": ATTEMPTED}),
        statement(actor=WANG),
    )
    assert await query_ids(client, agent=agent(WANG), verb=ATTEMPTED) == [wanted]


async def test_statements_statement_ref_matches_the_filters_of_its_target(
    client: httpx.AsyncClient,
) -> None:
    [target] = await store(client, statement(verb={"id": ATTEMPTED}))
    comment = statement(
        actor=TEACHER,
        verb={"id": "http://adlnet.gov/expapi/verbs/commented"},
        object={"objectType": "StatementRef", "id": target},
    )
    [referring, _other] = await store(client, comment, statement())
    assert await query_ids(client, verb=ATTEMPTED) == [referring, target]
    assert await query_ids(client, agent=agent(LEARNER), verb=ATTEMPTED) == [referring, target]


async def test_statements_statement_ref_stored_before_its_target_matches_too(
    client: httpx.AsyncClient,
) -> None:
    target = new_id()
    ref = statement(
        actor=TEACHER,
        verb={"id": "http://adlnet.gov/expapi/verbs/commented"},
        object={"objectType": "StatementRef", "id": target},
    )
    [referring] = await store(client, ref)
    assert await query_ids(client, verb=ATTEMPTED) == []
    await store(client, statement(id=target, verb={"id": ATTEMPTED}))
    assert await query_ids(client, verb=ATTEMPTED) == [target, referring]


async def test_statements_statement_ref_chain_propagates(client: httpx.AsyncClient) -> None:
    [target] = await store(client, statement(verb={"id": ATTEMPTED}))
    [middle] = await store(
        client, statement(actor=TEACHER, object={"objectType": "StatementRef", "id": target})
    )
    [outer] = await store(
        client, statement(actor=WANG, object={"objectType": "StatementRef", "id": middle})
    )
    assert await query_ids(client, verb=ATTEMPTED) == [outer, middle, target]


async def test_statements_statement_ref_chain_stored_backwards_propagates(
    client: httpx.AsyncClient,
) -> None:
    target, middle = new_id(), new_id()
    [outer] = await store(
        client, statement(actor=WANG, object={"objectType": "StatementRef", "id": middle})
    )
    await store(
        client,
        statement(id=middle, actor=TEACHER, object={"objectType": "StatementRef", "id": target}),
    )
    assert await query_ids(client, verb=ATTEMPTED) == []
    await store(client, statement(id=target, verb={"id": ATTEMPTED}))
    assert await query_ids(client, verb=ATTEMPTED) == [target, middle, outer]
    assert await query_ids(client, agent=agent(LEARNER), verb=ATTEMPTED) == [target, middle, outer]


# --- bad parameters ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "params",
    [
        pytest.param({"foo": "bar"}, id="unknown parameter"),
        pytest.param({"Limit": "1"}, id="wrong case parameter"),
        pytest.param({"statementId": "{id}", "verb": COMPLETED}, id="statementId plus verb"),
        pytest.param({"statementId": "{id}", "limit": "1"}, id="statementId plus limit"),
        pytest.param(
            {"voidedStatementId": "{id}", "since": "2024-01-01T00:00:00Z"}, id="voided plus since"
        ),
        pytest.param({"statementId": "{id}", "voidedStatementId": "{id}"}, id="both ids"),
        pytest.param({"statementId": "第一条"}, id="statementId not a UUID"),
        pytest.param({"agent": "张伟"}, id="agent not JSON"),
        pytest.param({"agent": '{"name": "张伟"}'}, id="agent without IFI"),
        pytest.param(
            {"agent": json.dumps({"objectType": "Group", "member": [LEARNER]})},
            id="anonymous group agent",
        ),
        pytest.param({"verb": "completed"}, id="verb not an IRI"),
        pytest.param({"registration": "第一期"}, id="registration not a UUID"),
        pytest.param({"limit": "-1"}, id="limit -1"),
        pytest.param({"limit": "十"}, id="limit not a number"),
        pytest.param({"ascending": "yes"}, id="ascending yes"),
        pytest.param({"related_agents": "1"}, id="related_agents 1"),
        pytest.param({"since": "yesterday"}, id="since not a timestamp"),
        pytest.param({"until": "2024-05-01"}, id="until without time"),
        pytest.param({"format": "full"}, id="unknown format"),
        pytest.param({"attachments": "yes"}, id="attachments yes"),
    ],
)
async def test_statements_bad_query_parameter_is_400(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    [statement_id] = await store(client, statement())
    filled = {k: v.replace("{id}", statement_id) for k, v in params.items()}
    response = await get_statements(client, filled)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"


async def test_statements_repeated_query_parameter_is_400(client: httpx.AsyncClient) -> None:
    response = await get_statements(client, {"verb": [COMPLETED, ATTEMPTED]})
    assert response.status_code == 400


@pytest.mark.parametrize(
    "extra", [{"format": "ids"}, {"attachments": "true"}, {"attachments": "false"}]
)
async def test_statements_by_id_with_format_or_attachments_is_200(
    client: httpx.AsyncClient, extra: dict[str, str]
) -> None:
    [statement_id] = await store(client, statement())
    response = await get_statements(client, {"statementId": statement_id, **extra})
    assert response.status_code == 200
