"""State, Activity Profile and Agent Profile documents (Communication 2.2-2.7, 3.1)."""

from __future__ import annotations

import asyncio
import hashlib
import json
from typing import Any
from urllib.parse import urlencode

import httpx
import pytest

from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import basic
from tests.lrs.conftest import LEARNER, V1, V2, xapi

ACTIVITY = "https://nxce.example/xapi/activities/course/WS-0001"
STATE = "/xapi/activities/state"
ACTIVITY_PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"
REGISTRATION = "6f1c1e51-4d5a-4cbb-9a6f-7c0d3e2b9a10"


def state_url(state_id: str | None = "bookmark", **extra: str) -> str:
    parameters = {"activityId": ACTIVITY, "agent": json.dumps(LEARNER, ensure_ascii=False)}
    if state_id is not None:
        parameters["stateId"] = state_id
    parameters.update(extra)
    return f"{STATE}?{urlencode(parameters)}"


def activity_profile_url(profile_id: str = "学习目标") -> str:
    return f"{ACTIVITY_PROFILE}?{urlencode({'activityId': ACTIVITY, 'profileId': profile_id})}"


def agent_profile_url(profile_id: str = "preferences") -> str:
    agent = json.dumps(LEARNER, ensure_ascii=False)
    return f"{AGENT_PROFILE}?{urlencode({'agent': agent, 'profileId': profile_id})}"


def json_headers(version: str = V2, **extra: str) -> dict[str, str]:
    return {**xapi(version), "Content-Type": "application/json", **extra}


async def put_json(
    client: httpx.AsyncClient, url: str, body: Any, version: str = V2, **headers: str
) -> httpx.Response:
    return await client.put(
        url,
        content=json.dumps(body, ensure_ascii=False).encode(),
        headers=json_headers(version, **headers),
    )


async def etag(client: httpx.AsyncClient, url: str) -> str:
    return (await client.get(url, headers=xapi())).headers["etag"]


async def test_state_put_then_get_returns_the_bytes_and_content_type(
    client: httpx.AsyncClient,
) -> None:
    content = "第3章 第2节，进度 45%".encode()
    put = await client.put(
        state_url(),
        content=content,
        headers={**xapi(), "Content-Type": "text/plain; charset=utf-8"},
    )
    assert put.status_code == 204
    got = await client.get(state_url(), headers=xapi())
    assert got.status_code == 200
    assert got.content == content
    assert got.headers["content-type"] == "text/plain; charset=utf-8"
    sha1 = hashlib.sha1(content, usedforsecurity=False).hexdigest()
    assert got.headers["etag"] == f'"{sha1}"'
    assert "last-modified" in got.headers
    assert got.headers["x-experience-api-version"] == "2.0.0"


async def test_binary_documents_are_stored_byte_for_byte(client: httpx.AsyncClient) -> None:
    content = bytes(range(256)) * 4
    headers = {**xapi(), "Content-Type": "application/octet-stream"}
    assert (
        await client.put(state_url("blob"), content=content, headers=headers)
    ).status_code == 204
    assert (await client.get(state_url("blob"), headers=xapi())).content == content


async def test_post_merges_top_level_properties_of_json_objects(client: httpx.AsyncClient) -> None:
    await put_json(client, state_url(), {"章节": 3, "位置": {"页": 12}, "x": "foo"})
    response = await client.post(
        state_url(), content=json.dumps({"x": "bash", "位置": {"页": 13}}), headers=json_headers()
    )
    assert response.status_code == 204
    merged = (await client.get(state_url(), headers=xapi())).json()
    assert merged == {"章节": 3, "位置": {"页": 13}, "x": "bash"}


async def test_post_to_a_new_document_stores_it(client: httpx.AsyncClient) -> None:
    response = await client.post(state_url("new"), content=b'{"a": 1}', headers=json_headers())
    assert response.status_code == 204
    assert (await client.get(state_url("new"), headers=xapi())).json() == {"a": 1}


@pytest.mark.parametrize(
    ("content", "content_type"),
    [
        (b"plain text", "text/plain"),
        (b"[1, 2]", "application/json"),
        (b"{not json", "application/json"),
    ],
)
async def test_post_that_cannot_merge_is_400_and_changes_nothing(
    client: httpx.AsyncClient, content: bytes, content_type: str
) -> None:
    await put_json(client, state_url(), {"x": 1})
    before = await etag(client, state_url())
    response = await client.post(
        state_url(), content=content, headers={**xapi(), "Content-Type": content_type}
    )
    assert response.status_code == 400
    assert await etag(client, state_url()) == before


async def test_post_json_over_a_non_json_document_is_400(client: httpx.AsyncClient) -> None:
    await client.put(state_url(), content=b"text", headers={**xapi(), "Content-Type": "text/plain"})
    response = await client.post(state_url(), content=b'{"x": 1}', headers=json_headers())
    assert response.status_code == 400
    assert (await client.get(state_url(), headers=xapi())).content == b"text"


async def test_if_match_with_a_stale_etag_is_412_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    await put_json(client, state_url(), {"v": 1})
    first = await etag(client, state_url())
    assert (await put_json(client, state_url(), {"v": 2}, **{"If-Match": first})).status_code == 204
    stale = await put_json(client, state_url(), {"v": 3}, **{"If-Match": first})
    assert stale.status_code == 412
    assert (await client.get(state_url(), headers=xapi())).json() == {"v": 2}
    for method in ("post", "delete"):
        response = await client.request(
            method.upper(),
            state_url(),
            content=b'{"v": 4}' if method == "post" else None,
            headers=json_headers(**{"If-Match": first}),
        )
        assert response.status_code == 412, method
    assert (await client.get(state_url(), headers=xapi())).json() == {"v": 2}


async def test_if_none_match_star_refuses_to_overwrite(client: httpx.AsyncClient) -> None:
    created = await put_json(client, state_url(), {"v": 1}, **{"If-None-Match": "*"})
    assert created.status_code == 204
    again = await put_json(client, state_url(), {"v": 2}, **{"If-None-Match": "*"})
    assert again.status_code == 412


async def test_if_match_on_a_missing_document_is_412(client: httpx.AsyncClient) -> None:
    response = await put_json(client, state_url("absent"), {"v": 1}, **{"If-Match": '"abc"'})
    assert response.status_code == 412
    assert (await client.get(state_url("absent"), headers=xapi())).status_code == 404


async def test_if_match_with_a_weak_etag_never_matches(client: httpx.AsyncClient) -> None:
    """RFC 9110 13.1.1: If-Match compares strongly; If-None-Match weakly."""
    await put_json(client, state_url(), {"v": 1})
    tag = await etag(client, state_url())

    weak_match = await put_json(client, state_url(), {"v": 2}, **{"If-Match": f"W/{tag}"})
    weak_none_match = await put_json(client, state_url(), {"v": 3}, **{"If-None-Match": f"W/{tag}"})

    assert weak_match.status_code == weak_none_match.status_code == 412
    assert (await client.get(state_url(), headers=xapi())).json() == {"v": 1}


async def test_devices_posting_without_conditions_all_merge(client: httpx.AsyncClient) -> None:
    """Without If-Match a client asked for no concurrency check: concurrent merges are all
    applied (each re-read when another wrote first), none refused."""
    await put_json(client, state_url(), {"base": 1})
    responses = await asyncio.gather(
        *(
            client.post(state_url(), content=json.dumps({f"设备{i}": i}), headers=json_headers())
            for i in range(3)
        )
    )
    assert [r.status_code for r in responses] == [204, 204, 204]
    assert (await client.get(state_url(), headers=xapi())).json() == {
        "base": 1,
        "设备0": 0,
        "设备1": 1,
        "设备2": 2,
    }


async def test_two_devices_racing_on_one_state_exactly_one_wins(
    client: httpx.AsyncClient,
) -> None:
    await put_json(client, state_url(), {"device": "none"})
    tag = await etag(client, state_url())
    phone, web = await asyncio.gather(
        put_json(client, state_url(), {"device": "手机"}, **{"If-Match": tag}),
        put_json(client, state_url(), {"device": "网页"}, **{"If-Match": tag}),
    )
    assert sorted([phone.status_code, web.status_code]) == [204, 412]
    winner = "手机" if phone.status_code == 204 else "网页"
    assert (await client.get(state_url(), headers=xapi())).json() == {"device": winner}


async def test_two_devices_merging_with_the_same_etag_never_merge_silently(
    client: httpx.AsyncClient,
) -> None:
    await put_json(client, state_url(), {"base": 1})
    tag = await etag(client, state_url())
    responses = await asyncio.gather(
        *(
            client.post(
                state_url(),
                content=json.dumps({f"device{i}": i}),
                headers=json_headers(**{"If-Match": tag}),
            )
            for i in range(4)
        )
    )
    assert sorted(r.status_code for r in responses) == [204, 412, 412, 412]
    stored = (await client.get(state_url(), headers=xapi())).json()
    assert len(stored) == 2 and stored["base"] == 1


@pytest.mark.parametrize(
    ("url", "version", "status"),
    [
        (state_url(), V2, 409),
        (activity_profile_url(), V2, 409),
        (agent_profile_url(), V2, 409),
        (state_url(), V1, 204),
        (activity_profile_url(), V1, 409),
        (agent_profile_url(), V1, 409),
    ],
)
async def test_put_over_an_existing_document_without_preconditions(
    client: httpx.AsyncClient, url: str, version: str, status: int
) -> None:
    """Communication 3.1: 409 where the version requires a precondition (2.0: every
    document resource; 1.0.3: the profiles), and the document unchanged."""
    await client.post(url, content=b'{"v": 1}', headers=json_headers(version))
    response = await put_json(client, url, {"v": 2}, version)
    assert response.status_code == status
    if status == 409:
        assert "If-Match" in response.json()["detail"]
        assert (await client.get(url, headers=xapi(version))).json() == {"v": 1}


@pytest.mark.parametrize("url", [activity_profile_url("fresh"), agent_profile_url("fresh")])
async def test_put_creating_a_profile_without_preconditions_differs_by_version(
    client: httpx.AsyncClient, url: str
) -> None:
    assert (await put_json(client, url, {"v": 1}, V1)).status_code == 400
    assert (await put_json(client, url, {"v": 1}, V2)).status_code == 204


async def test_state_ids_since_and_registrations(client: httpx.AsyncClient) -> None:
    await put_json(client, state_url("a"), {"n": 1})
    await put_json(client, state_url("b", registration=REGISTRATION), {"n": 2})
    ids = (await client.get(state_url(None), headers=xapi())).json()
    assert sorted(ids) == ["a", "b"]  # no registration given: every registration
    with_registration = await client.get(state_url(None, registration=REGISTRATION), headers=xapi())
    assert with_registration.json() == ["b"]
    assert (await client.get(state_url("b"), headers=xapi())).status_code == 404
    last = (await client.get(state_url("a"), headers=xapi())).headers["last-modified"]
    assert last
    future = "2999-01-01T00:00:00Z"
    assert (await client.get(state_url(None, since=future), headers=xapi())).json() == []
    past = "2000-01-01T00:00:00+08:00"
    assert len((await client.get(state_url(None, since=past), headers=xapi())).json()) == 2


async def test_state_delete_one_and_all(client: httpx.AsyncClient) -> None:
    for state_id in ("a", "b"):
        await put_json(client, state_url(state_id), {"n": 1})
    await put_json(client, state_url("c", registration=REGISTRATION), {"n": 1})
    assert (await client.delete(state_url("a"), headers=xapi())).status_code == 204
    assert (await client.get(state_url("a"), headers=xapi())).status_code == 404
    scoped = await client.delete(state_url(None, registration=REGISTRATION), headers=xapi())
    assert scoped.status_code == 204
    assert (await client.get(state_url(None), headers=xapi())).json() == ["b"]
    assert (await client.delete(state_url(None), headers=xapi())).status_code == 204
    assert (await client.get(state_url(None), headers=xapi())).json() == []


def raw_state_url(**parameters: str) -> str:
    return f"{STATE}?{urlencode(parameters)}"


NO_IFI = json.dumps({"name": "无标识"})
BAD_STATE_REQUESTS = [
    (f"{STATE}?{urlencode({'agent': json.dumps(LEARNER), 'stateId': 's'})}", "activityId"),
    (f"{STATE}?{urlencode({'activityId': ACTIVITY, 'stateId': 's'})}", "agent"),
    (
        raw_state_url(activityId="no scheme", agent=json.dumps(LEARNER), stateId="s"),
        "activityId",
    ),
    (
        f"{STATE}?{urlencode({'activityId': ACTIVITY, 'agent': '{not json', 'stateId': 's'})}",
        "agent",
    ),
    (
        raw_state_url(activityId=ACTIVITY, agent=NO_IFI, stateId="s"),
        "agent",
    ),
    (state_url("s", registration="not-a-uuid"), "registration"),
    (state_url(None, since="yesterday"), "since"),
    (state_url("s", colour="red"), "colour"),
]


@pytest.mark.parametrize(("url", "named"), BAD_STATE_REQUESTS)
async def test_bad_state_parameters_are_400_naming_them(
    client: httpx.AsyncClient, url: str, named: str
) -> None:
    response = await client.get(url, headers=xapi())
    assert response.status_code == 400, response.text
    assert named in response.json()["detail"]


async def test_profiles_keep_their_own_namespaces(client: httpx.AsyncClient) -> None:
    await put_json(client, activity_profile_url("目标"), {"学时": 2}, **{"If-None-Match": "*"})
    await put_json(client, agent_profile_url("目标"), {"语言": "zh-CN"}, **{"If-None-Match": "*"})
    assert (await client.get(activity_profile_url("目标"), headers=xapi())).json() == {"学时": 2}
    assert (await client.get(agent_profile_url("目标"), headers=xapi())).json() == {"语言": "zh-CN"}
    ids = await client.get(
        f"{ACTIVITY_PROFILE}?{urlencode({'activityId': ACTIVITY})}", headers=xapi()
    )
    assert ids.json() == ["目标"]
    assert (await client.delete(activity_profile_url("目标"), headers=xapi())).status_code == 204
    assert (await client.get(activity_profile_url("目标"), headers=xapi())).status_code == 404
    assert (await client.get(agent_profile_url("目标"), headers=xapi())).status_code == 200


async def test_profile_delete_needs_a_profile_id(client: httpx.AsyncClient) -> None:
    url = f"{ACTIVITY_PROFILE}?{urlencode({'activityId': ACTIVITY})}"
    assert (await client.delete(url, headers=xapi())).status_code == 400


async def test_document_scopes(client: httpx.AsyncClient) -> None:
    await clients.create(
        key="player", name="课件播放器", scopes=[Scope.state], secret="player-secret-1"
    )
    await clients.create(
        key="profiles", name="档案", scopes=[Scope.profile], secret="profile-secret-1"
    )
    player = {**xapi(auth=basic("player", "player-secret-1")), "Content-Type": "application/json"}
    profiles = {
        **xapi(auth=basic("profiles", "profile-secret-1")),
        "Content-Type": "application/json",
    }
    assert (await client.put(state_url(), content=b"{}", headers=player)).status_code == 204
    assert (
        await client.put(activity_profile_url(), content=b"{}", headers=player)
    ).status_code == 403
    assert (await client.get(state_url(), headers=profiles)).status_code == 403
    assert (await client.get(state_url(), headers=xapi(auth=None))).status_code == 401


async def test_documents_answer_head_like_get(client: httpx.AsyncClient) -> None:
    await put_json(client, state_url(), {"v": 1})
    head = await client.head(state_url(), headers=xapi())
    assert head.status_code == 200 and head.content == b""
    assert head.headers["etag"] == await etag(client, state_url())


async def test_person_combines_names_seen_in_statements(client: httpx.AsyncClient) -> None:
    statement = {
        "actor": LEARNER,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
        "object": {"id": ACTIVITY},
    }
    await client.post("/xapi/statements", json=statement, headers=xapi())
    agent = json.dumps({"mbox": LEARNER["mbox"]})
    person = (
        await client.get(f"/xapi/agents?{urlencode({'agent': agent})}", headers=xapi())
    ).json()
    assert person == {"objectType": "Person", "name": ["张伟"], "mbox": [LEARNER["mbox"]]}


async def test_activity_definitions_merge_across_statements(client: httpx.AsyncClient) -> None:
    activity = "http://example.com/activities/枸杞栽培"

    async def attempted(definition: dict[str, Any]) -> dict[str, Any]:
        """Send a statement carrying `definition`; answers the Activity's definition now."""
        statement = {
            "actor": LEARNER,
            "verb": {"id": "http://adlnet.gov/expapi/verbs/attempted"},
            "object": {"id": activity, "definition": definition},
        }
        sent = await client.post("/xapi/statements", json=statement, headers=xapi())
        assert sent.status_code == 200
        query = urlencode({"activityId": activity})
        found = (await client.get(f"/xapi/activities?{query}", headers=xapi())).json()
        return dict(found["definition"])

    await attempted({"name": {"zh-CN": "枸杞栽培"}})
    lesson = "http://adlnet.gov/expapi/activities/lesson"
    merged = {"name": {"zh-CN": "枸杞栽培", "en-US": "Goji cultivation"}, "type": lesson}
    assert await attempted({"name": {"en-US": "Goji cultivation"}, "type": lesson}) == merged
    # The definition stored sent again (read without parsing), a part of it, then a change
    # of one language: only the change changes it.
    renamed = {**merged, "name": {**merged["name"], "zh-CN": "枸杞栽培技术"}}
    assert await attempted(merged) == merged
    assert await attempted({"name": {"zh-CN": "枸杞栽培"}}) == merged
    assert await attempted({"name": {"zh-CN": "枸杞栽培技术"}}) == renamed
    assert await attempted(renamed) == renamed
    assert await attempted(merged) == merged  # the older name again: a change back


async def test_unknown_activity_is_still_an_activity(client: httpx.AsyncClient) -> None:
    activity = "http://example.com/path/../unknown"
    found = (
        await client.get(f"/xapi/activities?{urlencode({'activityId': activity})}", headers=xapi())
    ).json()
    assert found == {"objectType": "Activity", "id": activity}
