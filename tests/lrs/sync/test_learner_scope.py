"""The app acts as its learner (a client bound to the learner): it writes and reads that
learner's statements, from whatever device they came, and that learner's State only."""

from __future__ import annotations

import json
import uuid

import httpx

from nxce.core.clients import Scope
from tests.conftest import ADMIN
from tests.credits.conftest import MakeBound, activity, actor, completion, register
from tests.lrs.conftest import STATEMENTS, xapi
from tests.lrs.sync.conftest import APP_SCOPES, STATE, MakePhone, pull

WEB_PLAYER = {"X-Experience-API-Version": "2.0.0", **ADMIN}


async def two_learners(client: httpx.AsyncClient, phone_of: MakePhone) -> dict[str, str]:
    """Two learners registered, and 张伟's app: a learner-bound Basic client, or the app
    signed in with his password (each test runs with both)."""
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    return await phone_of("zhangwei")


async def test_the_app_reads_its_learners_statements_from_every_device(
    client: httpx.AsyncClient, phone_of: MakePhone
) -> None:
    """The web player (another client) recorded a completion for 张伟 and one for 李秀英:
    张伟's app pulls his, from both devices, and never hers."""
    phone = await two_learners(client, phone_of)
    course = await activity(client, "GX-0002")
    from_phone = completion(course)
    assert (
        await client.post(STATEMENTS, json=from_phone, headers=xapi(auth=phone))
    ).status_code == 200
    from_web = completion(await activity(client, "GX-0003"))
    hers = completion(course, "lixiuying", name="李秀英")
    response = await client.post(STATEMENTS, json=[from_web, hers], headers=WEB_PLAYER)
    assert response.status_code == 200, response.text

    found, _ = await pull(client, phone)
    assert {s["id"] for s in found} == {from_phone["id"], from_web["id"]}
    mine_only, _ = await pull(client, phone, agent=json.dumps(actor("lixiuying", "李秀英")))
    assert mine_only == []
    one = await client.get(STATEMENTS, params={"statementId": hers["id"]}, headers=xapi(auth=phone))
    assert one.status_code == 404
    own = await client.get(
        STATEMENTS, params={"statementId": from_web["id"]}, headers=xapi(auth=phone)
    )
    assert own.status_code == 200


async def test_the_app_may_not_write_for_another_actor(
    client: httpx.AsyncClient, phone_of: MakePhone
) -> None:
    phone = await two_learners(client, phone_of)
    hers = completion(await activity(client, "GX-0002"), "lixiuying", name="李秀英")
    mixed = [completion(await activity(client, "GX-0003")), hers]
    response = await client.post(STATEMENTS, json=mixed, headers=xapi(auth=phone))
    assert response.status_code == 403
    assert "statements[1].actor" in response.json()["detail"]
    everything, _ = await pull(client, ADMIN)
    assert everything == []  # nothing of the batch was stored


async def test_the_app_keeps_state_for_its_learner_only(
    client: httpx.AsyncClient, phone_of: MakePhone
) -> None:
    phone = await two_learners(client, phone_of)
    course = await activity(client, "GX-0002")
    own = {"activityId": course, "agent": json.dumps(actor()), "stateId": "place"}
    theirs = {**own, "agent": json.dumps(actor("lixiuying", "李秀英"))}
    headers = {**xapi(auth=phone), "If-None-Match": "*"}
    put = await client.put(STATE, params=own, json={"page": 12}, headers=headers)
    assert put.status_code == 204, put.text
    assert (await client.get(STATE, params=own, headers=xapi(auth=phone))).json() == {"page": 12}

    for method in ("GET", "PUT", "POST", "DELETE"):
        response = await client.request(
            method, STATE, params=theirs, json={"page": 1}, headers=headers
        )
        assert response.status_code == 403, (method, response.text)
        assert "lixiuying" not in response.text or "acts for learner" in response.text
    listing = {k: v for k, v in theirs.items() if k != "stateId"}
    assert (await client.get(STATE, params=listing, headers=xapi(auth=phone))).status_code == 403
    web = await client.get(STATE, params=theirs, headers=WEB_PLAYER)
    assert web.status_code == 404  # the refused writes wrote nothing


async def test_an_app_without_a_learner_reads_what_it_stored(
    client: httpx.AsyncClient,
) -> None:
    """statements/read/mine keeps its xAPI meaning for clients not bound to a learner:
    the statements it stored itself."""
    from nxce.core import clients
    from nxce.core.clients import Scope
    from tests.conftest import basic

    await clients.create(
        key="kiosk",
        name="培训中心终端",
        scopes=[Scope.statements_write, Scope.statements_read_mine],
        secret="kiosk-secret-123",
    )
    kiosk = basic("kiosk", "kiosk-secret-123")
    course = "https://nxce.example/xapi/activities/course/GX-0002"
    own = completion(course, statement_id=str(uuid.uuid4()))
    assert (await client.post(STATEMENTS, json=own, headers=xapi(auth=kiosk))).status_code == 200
    other = completion(course, "lixiuying", name="李秀英")
    assert (await client.post(STATEMENTS, json=other, headers=WEB_PLAYER)).status_code == 200
    found, _ = await pull(client, kiosk)
    assert [s["id"] for s in found] == [own["id"]]


PROFILE = "/xapi/activities/profile"
AGENT_PROFILE = "/xapi/agents/profile"


async def test_learner_bound_client_may_not_change_shared_activity_profiles_403_naming_why(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """Finding 6: a course's activity profile (written by the admin, read by every learner)
    is read-only for the app acting as a learner; its own agent profile stays writable."""
    await register(client)
    phone = await bound_client("zhangwei", *APP_SCOPES, Scope.profile)
    course = await activity(client, "GX-0002")
    shared = {"activityId": course, "profileId": "学习要求"}
    written = await client.put(
        PROFILE, params=shared, json={"学时": 2, "说明": "完成全部章节"},
        headers={**WEB_PLAYER, "If-None-Match": "*"},
    )  # fmt: skip
    assert written.status_code == 204, written.text
    before = await client.get(PROFILE, params=shared, headers=xapi(auth=phone))
    assert before.status_code == 200 and before.json()["学时"] == 2  # the app reads it

    for method, params in (("PUT", shared), ("POST", shared), ("DELETE", shared)):
        response = await client.request(
            method, PROFILE, params=params, json={"学时": 0},
            headers={**xapi(auth=phone), "If-Match": before.headers["ETag"]},
        )  # fmt: skip
        assert response.status_code == 403, (method, response.text)
        assert "activity profiles are shared" in response.json()["detail"]
    fresh = {"activityId": course, "profileId": "我的笔记"}
    refused = await client.put(
        PROFILE, params=fresh, json={"笔记": "第一章"},
        headers={**xapi(auth=phone), "If-None-Match": "*"},
    )  # fmt: skip
    assert refused.status_code == 403

    after = await client.get(PROFILE, params=shared, headers=WEB_PLAYER)
    assert after.json() == {"学时": 2, "说明": "完成全部章节"}  # unchanged
    assert (await client.get(PROFILE, params=fresh, headers=WEB_PLAYER)).status_code == 404
    own = {"agent": json.dumps(actor()), "profileId": "偏好"}
    mine = await client.put(
        AGENT_PROFILE, params=own, json={"字号": "大"},
        headers={**xapi(auth=phone), "If-None-Match": "*"},
    )  # fmt: skip
    assert mine.status_code == 204, mine.text
