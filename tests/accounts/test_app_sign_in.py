"""The app's sign-in: the access token's scope and lifetime, refresh rotation, the grace
retry, replay detection, devices and signing out."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import httpx
import jwt
from fastapi import FastAPI

from nxce.core import db, devices
from nxce.core.devices import Device
from tests.accounts.conftest import PASSWORD, activated, app_sign_in, bearer
from tests.conftest import ADMIN
from tests.credits.conftest import register
from tests.lrs.conftest import xapi

REFRESH = "/auth/refresh"


async def statements_status(client: httpx.AsyncClient, token: str) -> int:
    response = await client.get("/xapi/statements", headers=xapi(auth=bearer(token)))
    return response.status_code


async def refresh(client: httpx.AsyncClient, token: str) -> httpx.Response:
    return await client.post(REFRESH, json={"refresh_token": token})


async def test_the_access_token_acts_as_the_learner_bound_app_and_nothing_more(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    await register(client, "lixiuying", "李秀英", "124")
    signed = await app_sign_in(client)
    assert signed["token_type"] == "Bearer" and signed["expires_in"] == 900
    token = bearer(signed["access_token"])
    assert await statements_status(client, signed["access_token"]) == 200
    own = await client.get("/learners/zhangwei", headers=token)
    assert own.status_code == 200, own.text
    assert "********" in own.json()["id_number"]  # masked: the app is no auditor
    assert (await client.get("/learners/zhangwei/progress", headers=token)).status_code == 200
    assert (await client.get("/learners/lixiuying", headers=token)).status_code == 403
    assert (await client.get("/learners/lixiuying/progress", headers=token)).status_code == 403
    admin_only = await client.post("/learners/zhangwei/activation-code", headers=token)
    assert admin_only.status_code == 403
    course = {"code": "ZZ-0001", "title": "测试", "hours": 1}
    assert (await client.post("/courses", json=course, headers=token)).status_code == 403


async def test_expired_forged_and_refresh_tokens_are_no_access_tokens(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    tokens = app.state.app_tokens
    expired, _ = tokens.issue_access(
        learner_id="zhangwei",
        device_id=signed["device_id"],
        now=db.now() - timedelta(minutes=16),
    )
    claims = jwt.decode(signed["access_token"], options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 900 and claims["typ"] == "access"
    forged = jwt.encode(
        {**claims, "sub": "lixiuying"}, "not the service key: someone else" * 2, algorithm="HS256"
    )
    unsigned = jwt.encode({**claims}, None, algorithm="none")
    for token in (expired, forged, unsigned, signed["refresh_token"], "x"):
        response = await client.get("/xapi/statements", headers=xapi(auth=bearer(token)))
        assert response.status_code == 401, (token, response.text)
        assert response.headers["www-authenticate"].startswith("Bearer "), token
    assert (
        await client.get("/xapi/statements", headers=xapi(auth={"Authorization": "Bearer "}))
    ).status_code == 401


async def test_refresh_rotates_and_a_retry_within_the_grace_gets_the_same_pair(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    first = await refresh(client, signed["refresh_token"])
    assert first.status_code == 200, first.text
    pair = first.json()
    assert pair["refresh_token"] != signed["refresh_token"]
    assert pair["device_id"] == signed["device_id"] and pair["learner_id"] == "zhangwei"
    assert first.headers["Cache-Control"] == "no-store"
    lost_answer_retry = await refresh(client, signed["refresh_token"])
    assert lost_answer_retry.status_code == 200
    retried = lost_answer_retry.json()
    assert (retried["access_token"], retried["refresh_token"]) == (
        pair["access_token"],
        pair["refresh_token"],
    )
    assert await statements_status(client, pair["access_token"]) == 200
    second = await refresh(client, pair["refresh_token"])
    assert second.status_code == 200
    assert await statements_status(client, second.json()["access_token"]) == 200


async def test_a_refresh_token_used_after_the_grace_is_a_replay_that_signs_the_device_out(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    other = await app_sign_in(client, device="iPad")
    pair = (await refresh(client, signed["refresh_token"])).json()
    await db.collection(Device).update_one(
        {"device_id": signed["device_id"]},
        {"$set": {"rotated_at": db.now() - timedelta(seconds=61)}},
    )
    replay = await refresh(client, signed["refresh_token"])
    assert replay.status_code == 401
    device = await devices.get(device_id=signed["device_id"])
    assert device is not None and device.revoked_reason == "refresh token replayed"
    # the thief's copy and the app's own tokens stop working alike, at once
    assert await statements_status(client, pair["access_token"]) == 401
    assert (await refresh(client, pair["refresh_token"])).status_code == 401
    assert await statements_status(client, other["access_token"]) == 200  # another device


async def test_a_token_spent_two_rotations_ago_is_a_replay_even_within_the_grace(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    pair = (await refresh(client, signed["refresh_token"])).json()
    assert (await refresh(client, pair["refresh_token"])).status_code == 200
    assert (await refresh(client, signed["refresh_token"])).status_code == 401
    assert await statements_status(client, pair["access_token"]) == 401
    assert (await refresh(client, "never-issued-token")).status_code == 401


async def test_devices_are_listed_and_one_signed_out_stops_at_once(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    phone = await app_sign_in(client, device="华为 Mate 60")
    tablet = await app_sign_in(client, device="华为 MatePad")
    listed = await client.get("/auth/devices", headers=bearer(phone["access_token"]))
    assert listed.status_code == 200, listed.text
    found = {d["device_id"]: d for d in listed.json()}
    assert set(found) == {phone["device_id"], tablet["device_id"]}
    assert found[phone["device_id"]]["current"] and not found[tablet["device_id"]]["current"]
    assert found[tablet["device_id"]]["name"] == "华为 MatePad"
    assert "digest" not in listed.text and phone["refresh_token"] not in listed.text
    too_long = await client.post(
        "/auth/app-sign-in",
        json={"account": "zhangwei", "password": "秘" * 1025, "device": "x"},
    )
    assert too_long.status_code == 422 and "秘秘" not in too_long.text

    out = await client.delete(
        f"/auth/devices/{tablet['device_id']}", headers=bearer(phone["access_token"])
    )
    assert out.status_code == 204
    # its access token had 15 minutes left: refused from the next request on
    assert await statements_status(client, tablet["access_token"]) == 401
    assert (await refresh(client, tablet["refresh_token"])).status_code == 401
    assert await statements_status(client, phone["access_token"]) == 200
    again = await client.delete(
        f"/auth/devices/{tablet['device_id']}", headers=bearer(phone["access_token"])
    )
    assert again.status_code == 404


async def test_a_learner_cannot_sign_out_anothers_device_the_admin_can(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    await activated(client, "lixiuying", "李秀英", "124", password="李秀英的密码-2026")
    his = await app_sign_in(client)
    hers = await app_sign_in(client, "lixiuying", "李秀英的密码-2026", "vivo X100")
    path = f"/auth/devices/{hers['device_id']}"
    assert (await client.delete(path, headers=bearer(his["access_token"]))).status_code == 404
    assert await statements_status(client, hers["access_token"]) == 200
    assert (await client.get("/auth/devices", headers=ADMIN)).status_code == 403  # no learner

    listed = await client.get("/learners/lixiuying/devices", headers=ADMIN)
    assert [d["device_id"] for d in listed.json()] == [hers["device_id"]]
    assert (
        await client.get("/learners/lixiuying/devices", headers=bearer(his["access_token"]))
    ).status_code == 403
    admin_path = f"/learners/lixiuying/devices/{hers['device_id']}"
    assert (await client.delete(admin_path, headers=ADMIN)).status_code == 204
    assert await statements_status(client, hers["access_token"]) == 401


async def test_a_learner_bound_basic_client_lists_its_learners_devices(
    client: httpx.AsyncClient, bound_client: Any
) -> None:
    await activated(client)
    phone = await app_sign_in(client)
    basic_app = await bound_client("zhangwei")
    listed = await client.get("/auth/devices", headers=basic_app)
    assert [d["device_id"] for d in listed.json()] == [phone["device_id"]]


async def test_changing_the_password_needs_the_old_one_and_signs_other_devices_out(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    phone = await app_sign_in(client)
    tablet = await app_sign_in(client, device="iPad")
    token = bearer(phone["access_token"])
    new = "六盘山的风很大-2027"
    wrong = await client.post(
        "/auth/password", json={"old": "不对的旧密码-1234", "new": new}, headers=token
    )
    assert wrong.status_code == 422 and wrong.json()["errors"][0]["field"] == "old"
    weak = await client.post(
        "/auth/password", json={"old": PASSWORD, "new": "short"}, headers=token
    )
    assert weak.status_code == 422 and weak.json()["errors"][0]["field"] == "new"
    done = await client.post("/auth/password", json={"old": PASSWORD, "new": new}, headers=token)
    assert done.status_code == 204, done.text
    assert await statements_status(client, phone["access_token"]) == 200  # this device stays
    assert await statements_status(client, tablet["access_token"]) == 401
    await app_sign_in(client, password=new)
    old = await client.post(
        "/auth/app-sign-in", json={"account": "zhangwei", "password": PASSWORD, "device": "x"}
    )
    assert old.status_code == 401


async def test_openapi_declares_the_bearer_scheme_next_to_basic(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()
    schemes = document["components"]["securitySchemes"]
    assert schemes["HTTPBasic"]["scheme"] == "basic"
    assert schemes["HTTPBearer"] == {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": schemes["HTTPBearer"]["description"],
    }
    devices_get = document["paths"]["/auth/devices"]["get"]
    assert {"HTTPBearer": []} in devices_get["security"]
    sign_in = document["paths"]["/auth/app-sign-in"]["post"]
    assert set(sign_in["responses"]) == {"200", "400", "401", "413", "415", "422", "429"}


async def test_erasing_a_learner_signs_their_devices_out_and_their_names_in_no_more(
    client: httpx.AsyncClient,
) -> None:
    from tests.accounts.conftest import ZHANG_WEI_ID_NUMBER

    await activated(client)
    signed = await app_sign_in(client)
    erased = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人申请删除个人信息"}, headers=ADMIN
    )
    assert erased.status_code == 200, erased.text
    assert await statements_status(client, signed["access_token"]) == 401
    assert (await refresh(client, signed["refresh_token"])).status_code == 401
    for account in ("zhangwei", ZHANG_WEI_ID_NUMBER):
        again = await client.post(
            "/auth/app-sign-in", json={"account": account, "password": PASSWORD, "device": "x"}
        )
        assert again.status_code == 401


async def test_a_learner_is_signed_in_on_twenty_devices_at_most(
    client: httpx.AsyncClient,
) -> None:
    from accounts.app_sign_in import MAX_DEVICES

    await activated(client)
    first = await app_sign_in(client, device="第1台")
    latest = [await app_sign_in(client, device=f"第{n}台") for n in range(2, MAX_DEVICES + 2)]
    listed = await client.get("/auth/devices", headers=bearer(latest[-1]["access_token"]))
    assert len(listed.json()) == MAX_DEVICES
    assert first["device_id"] not in {d["device_id"] for d in listed.json()}
    assert await statements_status(client, first["access_token"]) == 401
    assert await statements_status(client, latest[0]["access_token"]) == 200
