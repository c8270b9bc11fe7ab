"""The `format` parameter (Communication 2.1.3): exact, ids and canonical (with
Accept-Language), and contextActivities returned as arrays (Data 2.4.6.2)."""

from __future__ import annotations

import httpx

from tests.lrs.conftest import (
    COURSE,
    LEARNER,
    fetch,
    get_statements,
    statement,
    store,
)

SERIES = {
    "id": "https://nxce.example/xapi/activities/series/卫生",
    "definition": {"name": {"zh-CN": "卫生系列", "en-US": "Health series"}},
}
GROUP = {
    "objectType": "Group",
    "name": "宁夏医学继续教育培训中心",
    "mbox": "mailto:peixun@nxce.example",
    "member": [LEARNER],
}


async def test_format_exact_returns_the_statement_as_sent(client: httpx.AsyncClient) -> None:
    sent = statement()
    [statement_id] = await store(client, sent)
    exact = await fetch(client, statement_id, format="exact")
    assert exact == await fetch(client, statement_id)
    assert {k: exact[k] for k in sent} == sent


async def test_format_ids_reduces_activity_and_verb_to_id(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(
        client, statement(context={"contextActivities": {"category": SERIES}})
    )
    ids = await fetch(client, statement_id, format="ids")
    assert ids["object"] == {"id": COURSE}
    assert ids["verb"] == {"id": "http://adlnet.gov/expapi/verbs/completed"}
    assert ids["actor"] == {"objectType": "Agent", "mbox": "mailto:zhangwei@nxce.example"}
    assert ids["context"]["contextActivities"]["category"] == [{"id": SERIES["id"]}]
    assert ids["authority"] == {
        "objectType": "Agent",
        "account": {"homePage": "https://nxce.example", "name": "admin"},
    }


async def test_format_ids_keeps_a_group_to_its_ifi(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(client, statement(actor=GROUP))
    assert (await fetch(client, statement_id, format="ids"))["actor"] == {
        "objectType": "Group",
        "mbox": "mailto:peixun@nxce.example",
    }


async def test_format_canonical_picks_chinese_for_zh_cn(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(
        client, statement(context={"contextActivities": {"category": SERIES}})
    )
    response = await get_statements(
        client,
        {"statementId": statement_id, "format": "canonical"},
        headers={"Accept-Language": "zh-CN"},
    )
    body = response.json()
    assert body["verb"]["display"] == {"zh-CN": "完成"}
    assert body["object"]["definition"]["name"] == {"zh-CN": "基层常见病中医适宜技术"}
    assert body["object"]["definition"]["description"] == {
        "zh-CN": "针刺、艾灸、拔罐等适宜技术的操作规范"
    }
    assert body["context"]["contextActivities"]["category"][0]["definition"]["name"] == {
        "zh-CN": "卫生系列"
    }
    assert body["actor"] == LEARNER


async def test_format_canonical_picks_english_for_en_us(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(client, statement())
    response = await get_statements(
        client,
        {"statementId": statement_id, "format": "canonical"},
        headers={"Accept-Language": "en-US"},
    )
    body = response.json()
    assert body["verb"]["display"] == {"en-US": "completed"}
    assert body["object"]["definition"]["name"] == {"en-US": "Appropriate TCM techniques"}


async def test_format_canonical_follows_accept_language_quality(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement())
    response = await get_statements(
        client,
        {"format": "canonical"},
        headers={"Accept-Language": "fr;q=0.9, en-US;q=0.5, zh-CN;q=0.8"},
    )
    [body] = response.json()["statements"]
    assert body["id"] == statement_id
    assert body["verb"]["display"] == {"zh-CN": "完成"}


async def test_format_exact_keeps_every_language(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(client, statement())
    response = await get_statements(
        client, {"statementId": statement_id}, headers={"Accept-Language": "zh-CN"}
    )
    assert set(response.json()["verb"]["display"]) == {"zh-CN", "en-US"}


async def test_context_activities_are_returned_as_arrays(client: httpx.AsyncClient) -> None:
    context = {
        "contextActivities": {
            "parent": {"id": COURSE},
            "grouping": [{"id": SERIES["id"]}],
            "category": SERIES,
            "other": {"id": "https://nxce.example/xapi/activities/base/宁夏医学继续教育培训中心"},
        }
    }
    [statement_id] = await store(client, statement(context=context))
    returned = (await fetch(client, statement_id))["context"]["contextActivities"]
    assert returned == {
        key: value if isinstance(value, list) else [value]
        for key, value in context["contextActivities"].items()
    }


async def test_context_activities_in_a_substatement_are_returned_as_arrays(
    client: httpx.AsyncClient,
) -> None:
    sub = {
        "objectType": "SubStatement",
        "actor": LEARNER,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attended"},
        "object": {"id": COURSE},
        "context": {"contextActivities": {"parent": {"id": SERIES["id"]}}},
    }
    [statement_id] = await store(client, statement(object=sub))
    returned = (await fetch(client, statement_id))["object"]["context"]["contextActivities"]
    assert returned == {"parent": [{"id": SERIES["id"]}]}


async def test_format_applies_to_query_results(client: httpx.AsyncClient) -> None:
    await store(client, statement(), statement())
    body = (await get_statements(client, {"format": "ids"})).json()
    assert [s["object"] for s in body["statements"]] == [{"id": COURSE}, {"id": COURSE}]
