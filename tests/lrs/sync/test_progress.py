"""GET /learners/{id}/progress: what the app shows, straight after each statement."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.credits.conftest import (
    MakeBound,
    activity,
    ago,
    completion,
    course,
    entry,
    manual,
    register,
    send,
)
from tests.lrs.conftest import STATEMENTS, xapi
from tests.lrs.sync.conftest import APP_SCOPES, MakePhone

PROGRESSED = "http://adlnet.gov/expapi/verbs/progressed"
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"


async def progress(
    client: httpx.AsyncClient, auth: dict[str, str] = ADMIN, learner_id: str = "zhangwei"
) -> dict[str, Any]:
    response = await client.get(f"/learners/{learner_id}/progress", headers=auth)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def progressed(activity_id: str, percent: int, scaled: float | None = None) -> dict[str, Any]:
    result: dict[str, Any] = {"extensions": {PROGRESS: percent}}
    if scaled is not None:
        result["score"] = {"scaled": scaled}
    return completion(activity_id, verb=PROGRESSED, result=result, when=ago(minutes=30))


async def test_courses_in_progress_and_completed_as_statements_arrive(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """Each statement shows at once: a course started is in progress with the last
    progress and score reported; a completion moves it to completed, registered — dated
    today, which no installed policy covers yet, so its hours await one (issue 13)."""
    await register(client)
    phone = await bound_client("zhangwei", *APP_SCOPES)
    gx2, ws1 = await activity(client, "GX-0002"), await activity(client, "WS-0001")
    empty = await progress(client, phone)
    assert empty["courses"] == {"started": 0, "in_progress": 0, "completed": 0}

    for statement in (progressed(gx2, 40), progressed(gx2, 70, 0.8), progressed(ws1, 10)):
        response = await client.post(STATEMENTS, json=statement, headers=xapi(auth=phone))
        assert response.status_code == 200, response.text
    now = await progress(client, phone)
    assert now["courses"] == {"started": 2, "in_progress": 2, "completed": 0}
    by_code = {c["code"]: c for c in now["in_progress"]}
    assert by_code["GX-0002"]["progress"] == 70
    assert by_code["GX-0002"]["score"] == {"scaled": 0.8}
    assert by_code["GX-0002"]["last_verb"] == PROGRESSED
    assert by_code["WS-0001"]["progress"] == 10
    assert now["in_progress"][0]["code"] == "WS-0001"  # the latest first

    done = completion(gx2)
    assert (await client.post(STATEMENTS, json=done, headers=xapi(auth=phone))).status_code == 200
    after = await progress(client, phone)
    assert after["courses"] == {"started": 2, "in_progress": 1, "completed": 1}
    [completed] = after["completed"]
    assert (completed["code"], completed["status"]) == ("GX-0002", "awaiting_policy")
    hours = (await course(client, "GX-0002"))["hours"]
    year = after["this_year"]
    assert year["awaiting_policy"] == {"total": hours, "public": hours, "professional": 0}
    assert year["earned"] == {"total": 0, "public": 0, "professional": 0}


async def test_hours_this_year_the_next_audit_and_pending_entries(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """This year's hours against 90 (30 public) (§一(二)), by the newest policy's yearly
    figures, which progress names: no policy covers this year yet, so GX-0002's 3 hours
    completed today are shown awaiting one, not earned; the audit of the next title level
    (a junior engineer applies for intermediate); completions dated long ago wait for
    review and are listed."""
    await register(client)
    await send(
        client,
        completion(await activity(client, "GX-0002")),
        completion(await activity(client, "GX-0003"), when="2021-05-20T10:00:00+08:00"),
    )
    await entry(client, manual("2019-05-10", "public", 30))
    found = await progress(client, auditor)
    year = found["this_year"]
    assert year["required"] == {"total": 90, "public": 30}
    assert year["clause"] == "§一(二)"
    assert year["policy"] == "ningxia-2022"
    assert year["basis"].startswith("yearly figures of ningxia-2022 (2022); no policy covers")
    assert (year["earned"]["public"], year["awaiting_policy"]["public"]) == (0, 3)
    assert year["remaining"] == {"total": 90, "public": 30}
    assert found["next_audit"]["level"] == "intermediate"
    assert found["next_audit"]["earned"]["public"] == 30  # 2019's 30 hours; 2021's pending
    [pending] = found["pending_review"]
    assert (pending["date"], pending["hours"], pending["category"]) == ("2021-05-20", 2, "public")
    assert "30 days" in pending["reason"]


async def test_only_the_learner_and_auditors_see_progress(
    client: httpx.AsyncClient, phone_of: MakePhone, auditor: dict[str, str]
) -> None:
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    other = await phone_of("lixiuying")
    own = await phone_of("zhangwei")
    denied = await client.get("/learners/zhangwei/progress", headers=other)
    assert denied.status_code == 403
    assert (await client.get("/learners/zhangwei/progress")).status_code == 401
    assert (await client.get("/learners/zhangwei/progress", headers=own)).status_code == 200
    assert (await client.get("/learners/zhangwei/progress", headers=auditor)).status_code == 200
    unknown = await client.get("/learners/zhangwei/progress?year=2021", headers=auditor)
    assert unknown.status_code == 422
    assert (await client.get("/learners/nobody/progress", headers=auditor)).status_code == 404
