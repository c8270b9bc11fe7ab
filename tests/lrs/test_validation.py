"""Statement validation (Data 2.2-2.4, 4; xAPI 2.0 4.2): invalid statements are 400 with
a detail that names the property path; the valid variants next to them are accepted."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.lrs.conftest import (
    COURSE,
    LEARNER,
    TEACHER,
    V1,
    V2,
    fetch,
    get_statements,
    new_id,
    post_statements,
    problem_detail,
    statement,
    store,
)

ACCOUNT = {"homePage": "https://nxce.example", "name": "640102199001011234"}
SUB = {
    "objectType": "SubStatement",
    "actor": TEACHER,
    "verb": {"id": "http://adlnet.gov/expapi/verbs/attended", "display": {"zh-CN": "参加"}},
    "object": {"id": COURSE},
}
CONTEXT_AGENTS = [
    {
        "objectType": "contextAgent",
        "agent": TEACHER,
        "relevantTypes": ["https://nxce.example/xapi/roles/instructor"],
    }
]
IDENTIFIED_GROUP = {
    "objectType": "Group",
    "name": "宁夏医学继续教育培训中心",
    "mbox": "mailto:peixun@nxce.example",
    "member": [LEARNER, TEACHER],
}


def result(**score: Any) -> dict[str, Any]:
    return {"score": {"scaled": 0.95, "raw": 95, "min": 0, "max": 100, **score}}


INVALID: list[tuple[str, dict[str, Any], str]] = [
    ("unknown property", statement(课程="WS-0001"), "statement.课程"),
    ("unknown top-level dummy", statement(dummy="dummy"), "statement.dummy"),
    ("null value", statement(actor={**LEARNER, "name": None}), "statement.actor.name"),
    (
        "null registration",
        statement(context={"registration": None}),
        "statement.context.registration",
    ),
    ("wrong case key", statement(Actor=LEARNER), "statement.Actor"),
    (
        "wrong case objectType",
        statement(actor={**LEARNER, "objectType": "agent"}),
        "statement.actor.objectType",
    ),
    ("no actor", {k: v for k, v in statement().items() if k != "actor"}, "statement.actor"),
    ("two IFIs", statement(actor={**LEARNER, "account": ACCOUNT}), "statement.actor"),
    ("no IFI", statement(actor={"objectType": "Agent", "name": "王芳"}), "statement.actor"),
    (
        "mbox not mailto",
        statement(actor={**LEARNER, "mbox": "zhangwei@nxce.example"}),
        "statement.actor.mbox",
    ),
    (
        "mbox without @",
        statement(actor={**LEARNER, "mbox": "mailto:zhangwei"}),
        "statement.actor.mbox",
    ),
    (
        "account without homePage",
        statement(actor={"account": {"name": "王芳"}}),
        "statement.actor.account.homePage",
    ),
    ("id not a UUID", statement(id="AA97B177-9383-4934-8543-0F91A7A028368"), "statement.id"),
    ("id not hex", statement(id="MA97B177-9383-4934-8543-0F91A7A02836"), "statement.id"),
    ("verb without id", statement(verb={"display": {"zh-CN": "完成"}}), "statement.verb.id"),
    ("verb id not an IRI", statement(verb={"id": "ab=c://should.fail.com"}), "statement.verb.id"),
    (
        "invalid language tag",
        statement(verb={"id": COURSE, "display": {"something": "完成"}}),
        "statement.verb.display.something",
    ),
    (
        "display not a map",
        statement(verb={"id": COURSE, "display": "完成"}),
        "statement.verb.display",
    ),
    ("activity without id", statement(object={"objectType": "Activity"}), "statement.object.id"),
    ("score.scaled 1.5", statement(result=result(scaled=1.5)), "statement.result.score.scaled"),
    ("raw above max", statement(result=result(raw=101)), "statement.result.score.raw"),
    ("raw below min", statement(result=result(raw=-1)), "statement.result.score.raw"),
    (
        "min above max",
        statement(result={"score": {"min": 10, "max": 5}}),
        "statement.result.score.min",
    ),
    ("score as string", statement(result=result(max="100")), "statement.result.score.max"),
    ("success as string", statement(result={"success": "true"}), "statement.result.success"),
    (
        "duration with weeks and days",
        statement(result={"duration": "P4W1D"}),
        "statement.result.duration",
    ),
    ("duration nonsense", statement(result={"duration": "PA1H0M0S"}), "statement.result.duration"),
    (
        "timestamp with -00:00",
        statement(timestamp="2008-09-15T15:53:00.601-00:00"),
        "statement.timestamp",
    ),
    (
        "timestamp with -0000",
        statement(timestamp="2008-09-15T15:53:00.601-0000"),
        "statement.timestamp",
    ),
    ("timestamp without zone", statement(timestamp="2008-09-15T15:53:00"), "statement.timestamp"),
    ("timestamp not a date", statement(timestamp="01/011/2015"), "statement.timestamp"),
    (
        "SubStatement in SubStatement",
        statement(object={**SUB, "object": SUB}),
        "statement.object.object.objectType",
    ),
    ("SubStatement with id", statement(object={**SUB, "id": new_id()}), "statement.object.id"),
    (
        "SubStatement with stored",
        statement(object={**SUB, "stored": "2024-05-01T00:00:00Z"}),
        "statement.object.stored",
    ),
    (
        "SubStatement with authority",
        statement(object={**SUB, "authority": TEACHER}),
        "statement.object.authority",
    ),
    (
        "revision with Agent object",
        statement(object=TEACHER, context={"revision": "第二版"}),
        "statement.context.revision",
    ),
    (
        "platform with StatementRef object",
        statement(
            object={"objectType": "StatementRef", "id": new_id()},
            context={"platform": "宁夏专业技术人员继续教育平台"},
        ),
        "statement.context.platform",
    ),
    ("team is an Agent", statement(context={"team": TEACHER}), "statement.context.team"),
    (
        "language not a tag",
        statement(context={"language": "something"}),
        "statement.context.language",
    ),
    (
        "registration not a UUID",
        statement(context={"registration": "第一期"}),
        "statement.context.registration",
    ),
    (
        "unknown contextActivities key",
        statement(context={"contextActivities": {"consequences": {"id": COURSE}}}),
        "statement.context.contextActivities.consequences",
    ),
    (
        "extension key not an IRI",
        statement(result={"extensions": {"学时": 2.5}}),
        "statement.result.extensions.学时",
    ),
    ("authority identified group", statement(authority=IDENTIFIED_GROUP), "statement.authority"),
    (
        "authority group of one",
        statement(authority={"objectType": "Group", "member": [LEARNER]}),
        "statement.authority.member",
    ),
    ("version 1.1.0", statement(version="1.1.0"), "statement.version"),
    ("version 0.9.9", statement(version="0.9.9"), "statement.version"),
    (
        "attachments not an array",
        statement(attachments={"usageType": COURSE}),
        "statement.attachments",
    ),
    (
        "voiding an Activity",
        statement(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}),
        "statement.object",
    ),
    (
        "group member that is a Group",
        statement(actor={**IDENTIFIED_GROUP, "member": [IDENTIFIED_GROUP]}),
        "statement.actor.member[0]",
    ),
    (
        "anonymous group without members",
        statement(actor={"objectType": "Group", "name": "第三学习小组"}),
        "statement.actor.member",
    ),
    (
        "interaction pattern without type",
        statement(object={"id": COURSE, "definition": {"correctResponsesPattern": ["针刺"]}}),
        "statement.object.definition.correctResponsesPattern",
    ),
]


@pytest.mark.parametrize(
    ("body", "path"),
    [pytest.param(body, path, id=name) for name, body, path in INVALID],
)
async def test_statements_post_invalid_is_400_naming_the_property(
    client: httpx.AsyncClient, body: dict[str, Any], path: str
) -> None:
    response = await post_statements(client, body)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert problem_detail(response).startswith(f"{path}: ")
    assert (await get_statements(client)).json()["statements"] == []


async def test_statements_post_invalid_in_a_batch_names_its_index(
    client: httpx.AsyncClient,
) -> None:
    bad = statement(actor={**LEARNER, "mbox": "mailto:张伟"})
    response = await post_statements(client, [statement(), statement(), bad])
    assert response.status_code == 400
    assert problem_detail(response).startswith("statements[2].actor.mbox: ")


async def test_statements_put_invalid_names_the_property(client: httpx.AsyncClient) -> None:
    response = await client.put(
        "/xapi/statements",
        params={"statementId": new_id()},
        json=statement(result=result(scaled=1.5)),
        headers={"X-Experience-API-Version": V2, **ADMIN},
    )
    assert response.status_code == 400
    assert problem_detail(response).startswith("statement.result.score.scaled: ")


async def test_statements_post_not_an_object_is_400(client: httpx.AsyncClient) -> None:
    response = await post_statements(client, [statement(), "张伟完成了课程"])
    assert response.status_code == 400
    assert problem_detail(response).startswith("statements[1]: ")


VALID: list[tuple[str, dict[str, Any]]] = [
    (
        "actor without objectType",
        statement(actor={"name": "张伟", "mbox": "mailto:zhangwei@nxce.example"}),
    ),
    ("account IFI", statement(actor={"name": "王芳", "account": ACCOUNT})),
    (
        "mbox_sha1sum IFI",
        statement(actor={"mbox_sha1sum": "cd9b00a5611f94eaa7b1661edab976068e364975"}),
    ),
    (
        "identified group without members",
        statement(actor={"objectType": "Group", "mbox": "mailto:peixun@nxce.example"}),
    ),
    (
        "anonymous group",
        statement(
            actor={"objectType": "Group", "name": "第三学习小组", "member": [LEARNER, TEACHER]}
        ),
    ),
    ("object without objectType", statement(object={"id": COURSE})),
    ("empty definition", statement(object={"id": COURSE, "definition": {}})),
    (
        "zh-Hans-CN tag",
        statement(verb={"id": COURSE, "display": {"zh-Hans-CN": "完成", "cmn": "完成"}}),
    ),
    ("score bounds inclusive", statement(result=result(scaled=-1, raw=100))),
    ("duration with weeks", statement(result={"duration": "P4W"})),
    ("duration with fraction", statement(result={"duration": "PT4H35M59.14S"})),
    ("timestamp +00:00", statement(timestamp="2008-09-15T15:53:00.601+00:00")),
    ("timestamp in the future", statement(timestamp="2031-01-01T00:00:00.000Z")),
    (
        "null extension value",
        statement(result={"extensions": {"https://nxce.example/xapi/extensions/学时": None}}),
    ),
    (
        "revision without objectType",
        statement(
            object={"id": COURSE},
            context={
                "revision": "第二版",
                "platform": "宁夏专业技术人员继续教育平台",
                "language": "zh-CN",
            },
        ),
    ),
    (
        "SubStatement",
        statement(
            object={**SUB, "timestamp": "2031-01-01T00:00:00Z", "context": {"instructor": LEARNER}}
        ),
    ),
    (
        "StatementRef to unknown id",
        statement(object={"objectType": "StatementRef", "id": new_id()}),
    ),
    (
        "authority two-member group",
        statement(
            authority={
                "objectType": "Group",
                "member": [{"account": ACCOUNT}, {"mbox": "mailto:bob@example.com"}],
            }
        ),
    ),
    ("version 1.0", statement(version="1.0")),
    ("version 1.0.9", statement(version="1.0.9")),
    (
        "single context activity",
        statement(context={"contextActivities": {"parent": {"id": COURSE}}}),
    ),
    ("group as instructor", statement(context={"instructor": IDENTIFIED_GROUP})),
]


@pytest.mark.parametrize("body", [pytest.param(body, id=name) for name, body in VALID])
async def test_statements_post_valid_variants_are_200(
    client: httpx.AsyncClient, body: dict[str, Any]
) -> None:
    response = await post_statements(client, body)
    assert response.status_code == 200, response.text


async def test_statements_context_agents_are_accepted_in_2_0(client: httpx.AsyncClient) -> None:
    [statement_id] = await store(client, statement(context={"contextAgents": CONTEXT_AGENTS}))
    stored = await fetch(client, statement_id)
    assert stored["context"]["contextAgents"] == CONTEXT_AGENTS


async def test_statements_context_agents_are_rejected_in_1_0_3(
    client: httpx.AsyncClient,
) -> None:
    body = statement(context={"contextAgents": CONTEXT_AGENTS})
    response = await post_statements(client, body, version=V1)
    assert response.status_code == 400
    assert problem_detail(response).startswith("statement.context.contextAgents: ")


@pytest.mark.parametrize(
    ("item", "path"),
    [
        (
            {**CONTEXT_AGENTS[0], "relevantTypes": []},
            "statement.context.contextAgents[0].relevantTypes",
        ),
        (
            {**CONTEXT_AGENTS[0], "relevantTypes": ["讲师"]},
            "statement.context.contextAgents[0].relevantTypes[0]",
        ),
        (
            {**CONTEXT_AGENTS[0], "objectType": "Agent"},
            "statement.context.contextAgents[0].objectType",
        ),
        (
            {**CONTEXT_AGENTS[0], "agent": {"key": "讲师"}},
            "statement.context.contextAgents[0].agent.key",
        ),
    ],
)
async def test_statements_invalid_context_agent_is_400_in_2_0(
    client: httpx.AsyncClient, item: dict[str, Any], path: str
) -> None:
    response = await post_statements(client, statement(context={"contextAgents": [item]}))
    assert response.status_code == 400
    assert problem_detail(response).startswith(f"{path}: ")


async def test_statements_version_2_0_0_is_accepted_and_kept_in_2_0(
    client: httpx.AsyncClient,
) -> None:
    [statement_id] = await store(client, statement(version="2.0.0"))
    assert (await fetch(client, statement_id))["version"] == "2.0.0"


async def test_statements_version_2_0_0_is_rejected_in_1_0_3(client: httpx.AsyncClient) -> None:
    response = await post_statements(client, statement(version="2.0.0"), version=V1)
    assert response.status_code == 400
    assert problem_detail(response).startswith("statement.version: ")


async def test_statements_version_1_0_3_is_kept_in_1_0_3(client: httpx.AsyncClient) -> None:
    response = await post_statements(client, statement(version="1.0.3"), version=V1)
    assert response.status_code == 200
    assert (await fetch(client, response.json()[0]))["version"] == "1.0.3"


async def test_statements_valid_client_authority_is_accepted(client: httpx.AsyncClient) -> None:
    response = await post_statements(client, statement(authority=TEACHER))
    assert response.status_code == 200


async def test_statements_invalid_client_authority_is_400(client: httpx.AsyncClient) -> None:
    response = await post_statements(client, statement(authority={"objectType": "Agent"}))
    assert response.status_code == 400
    assert problem_detail(response).startswith("statement.authority: ")
