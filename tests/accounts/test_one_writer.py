"""One writer per learner: every app token of a learner, on every device and after every
sign-in, stores statements under one authority, so resending an offline queue after
signing in again stores nothing twice, and the app may void its own statements."""

from __future__ import annotations

import json

import httpx

from lrs.statements.models import StatementRecord
from tests.accounts.conftest import activated, app_sign_in, bearer
from tests.conftest import ADMIN
from tests.credits.conftest import activity, actor, completion, register
from tests.lrs.conftest import STATEMENTS, VOIDED, xapi

STATE = "/xapi/activities/state"


async def test_a_queue_resent_after_signing_in_on_another_device_is_stored_once(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    phone = bearer((await app_sign_in(client, device="华为 Mate 60"))["access_token"])
    queue = [
        completion(await activity(client, "GX-0002")),
        completion(await activity(client, "GX-0003")),
        completion(await activity(client, "WS-0001")),
    ]
    first = await client.post(STATEMENTS, json=queue, headers=xapi(auth=phone))
    assert first.status_code == 200, first.text

    # a new phone (or the same, signed in again) sends the whole offline queue again
    tablet = bearer((await app_sign_in(client, device="华为 MatePad"))["access_token"])
    again = await client.post(STATEMENTS, json=queue, headers=xapi(auth=tablet))
    assert again.status_code == 200, again.text
    assert again.json() == first.json()
    one = await client.put(
        STATEMENTS, params={"statementId": queue[0]["id"]}, json=queue[0],
        headers=xapi(auth=tablet),
    )  # fmt: skip
    assert one.status_code == 204, one.text
    assert await StatementRecord.find({}).count() == 3

    stored = await client.get(
        STATEMENTS, params={"statementId": queue[1]["id"]}, headers=xapi(auth=ADMIN)
    )
    authority = stored.json()["authority"]
    assert authority["account"]["name"] == "learner:zhangwei"
    assert authority["name"] == "zhangwei"

    voiding = {
        "actor": actor(),
        "verb": {"id": VOIDED, "display": {"zh-CN": "作废"}},
        "object": {"objectType": "StatementRef", "id": queue[1]["id"]},
    }
    voided = await client.post(STATEMENTS, json=voiding, headers=xapi(auth=tablet))
    assert voided.status_code == 200, voided.text
    gone = await client.get(
        STATEMENTS, params={"statementId": queue[1]["id"]}, headers=xapi(auth=phone)
    )
    assert gone.status_code == 404
    kept = await client.get(
        STATEMENTS, params={"voidedStatementId": queue[1]["id"]}, headers=xapi(auth=phone)
    )
    assert kept.status_code == 200


async def test_another_learners_statements_state_and_record_are_refused(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    await register(client, "lixiuying", "李秀英", "124")
    phone = bearer((await app_sign_in(client))["access_token"])
    course = await activity(client, "GX-0002")
    hers = completion(course, "lixiuying", name="李秀英")
    written = await client.post(STATEMENTS, json=hers, headers=xapi(auth=phone))
    assert written.status_code == 403
    assert await StatementRecord.find({}).count() == 0

    by_admin = await client.post(STATEMENTS, json=hers, headers=xapi(auth=ADMIN))
    assert by_admin.status_code == 200
    voiding = {
        "actor": actor(),
        "verb": {"id": VOIDED, "display": {"zh-CN": "作废"}},
        "object": {"objectType": "StatementRef", "id": hers["id"]},
    }
    refused = await client.post(STATEMENTS, json=voiding, headers=xapi(auth=phone))
    assert refused.status_code == 403, refused.text
    read = await client.get(
        STATEMENTS, params={"statementId": hers["id"]}, headers=xapi(auth=phone)
    )
    assert read.status_code == 404  # not visible to her colleague's app

    theirs = {
        "activityId": course,
        "agent": json.dumps(actor("lixiuying", "李秀英")),
        "stateId": "place",
    }
    for method in ("GET", "PUT", "DELETE"):
        response = await client.request(
            method, STATE, params=theirs, json={"page": 1}, headers=xapi(auth=phone)
        )
        assert response.status_code == 403, (method, response.text)
    assert (await client.get("/learners/lixiuying", headers=phone)).status_code == 403
    assert (await client.get("/learners/lixiuying/transcript", headers=phone)).status_code == 403
    own = await client.get(
        "/learners/zhangwei/transcript", params={"format": "json"}, headers=phone
    )
    assert own.status_code == 200, own.text
