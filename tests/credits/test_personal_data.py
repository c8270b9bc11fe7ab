"""Personal data (PIPL): registrations naming another learner's id number are throttled
and traced (finding 4), every full id number shown is traced, and a learner's personal
data is erased on request while their hours stay."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from credits import personal
from credits.models import ConflictWindow, Learner
from nxce.core import db
from nxce.core.errors import TooManyRequests
from tests.conftest import ADMIN
from tests.credits.conftest import (
    ZHANG_WEI,
    MakeBound,
    activity,
    audit,
    completion,
    detail,
    entry,
    id_number,
    learner_body,
    ledger,
    register,
    send,
)

EVENTS = "/audit/events"


@pytest.fixture
def one_minute(monkeypatch: pytest.MonkeyPatch) -> None:
    """The throttle's clock stands still: the test never straddles two minutes (a day
    ahead, so that the store's TTL index keeps the counts meanwhile)."""
    moment = (datetime.now(UTC) + timedelta(days=1)).replace(second=5, microsecond=0)
    monkeypatch.setattr(personal, "_now", lambda: moment)


async def events(client: httpx.AsyncClient, auth: dict[str, str], **params: Any) -> list[Any]:
    response = await client.get(EVENTS, params=params, headers=auth)
    assert response.status_code == 200, response.text
    found: list[Any] = response.json()
    return found


async def test_id_number_conflicts_are_traced_then_throttled_429_with_retry_after(
    client: httpx.AsyncClient, auditor: dict[str, str], one_minute: None
) -> None:
    """Finding 4: each 409 for another learner's id number is in the audit trail (who,
    when, which record it hit); past five a minute every registration naming an id number
    waits (429, Retry-After) — a free number too, so the 429 confirms nothing."""
    await register(client)
    for n in range(personal.CONFLICTS_PER_MINUTE):
        guess = learner_body(f"guess{n}", "王芳", sequence="123")
        response = await client.post("/learners", json=guess, headers=ADMIN)
        assert response.status_code == 409 and detail(response) == personal.CONFLICT_DETAIL
        assert ZHANG_WEI not in response.text and "zhangwei" not in response.text
    over = await client.post(
        "/learners", json=learner_body("guess9", sequence="123"), headers=ADMIN
    )
    free = await client.post(
        "/learners", json=learner_body("wangfang", sequence="125"), headers=ADMIN
    )
    patched = await client.patch(
        "/learners/zhangwei", json={"id_number": id_number("126")}, headers=ADMIN
    )
    for refused in (over, free, patched):
        assert refused.status_code == 429, refused.text
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert (await client.get("/learners/wangfang", headers=ADMIN)).status_code == 404
    # other changes go on
    assert (
        await client.patch("/learners/zhangwei", json={"employer": "宁夏大学"}, headers=ADMIN)
    ).status_code == 200

    traced = await events(client, auditor, kind="id_number_conflict")
    assert len(traced) == personal.CONFLICTS_PER_MINUTE
    assert {e["learner_id"] for e in traced} == {"zhangwei"}  # the record hit
    assert {e["by"] for e in traced} == {"admin"}
    assert {e["detail"]["attempted_learner_id"] for e in traced} == {
        f"guess{n}" for n in range(personal.CONFLICTS_PER_MINUTE)
    }
    # the counts are in the store, not in this process: another replica refuses too
    assert await ConflictWindow.find({"client": "admin"}).count() == 1
    with pytest.raises(TooManyRequests):
        await personal.ConflictSlot("admin").hold()


async def test_registrations_without_conflicts_are_not_throttled(
    client: httpx.AsyncClient, one_minute: None
) -> None:
    """A roster of many learners registers at once: only conflicts count."""
    for n in range(personal.CONFLICTS_PER_MINUTE + 3):
        await register(client, f"learner{n}", "刘洋", sequence=f"{200 + n}")


async def test_full_id_number_views_are_recorded_and_readable_by_admins(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    """PIPL: each view of a full id number (the auditor's API read, transcript, page) is
    in the trail with who, when and which learner; masked views are not."""
    await register(client)
    own = await bound_client("zhangwei")
    assert (await client.get("/learners/zhangwei", headers=ADMIN)).status_code == 200
    assert (await client.get("/learners/zhangwei", headers=own)).status_code == 200
    assert await events(client, ADMIN, kind="id_number_view") == []

    seen = await client.get("/learners/zhangwei", headers=auditor)
    assert seen.json()["id_number"] == ZHANG_WEI
    transcript = await client.get(
        "/learners/zhangwei/transcript", params={"format": "json"}, headers=auditor
    )
    assert transcript.status_code == 200, transcript.text
    assert ZHANG_WEI in transcript.text

    views = await events(client, ADMIN, kind="id_number_view", learner_id="zhangwei")
    assert [(e["by"], e["detail"]["where"]) for e in views] == [
        ("pingshen", "transcript"),
        ("pingshen", "GET /learners/{id}"),
    ]  # newest first
    assert datetime.fromisoformat(views[0]["at"]) >= datetime.fromisoformat(views[1]["at"])
    assert (await client.get(EVENTS, headers=own)).status_code == 403
    bad = await client.get(EVENTS, params={"kind": "gossip"}, headers=ADMIN)
    assert bad.status_code == 422 and "kind" in detail(bad)


async def test_erasure_removes_name_id_number_and_email_and_keeps_the_hours(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """PIPL: on the learner's request an admin erases their personal data; the record
    keeps none, their hours stay under the learner id (pseudonymised) for the statistics,
    and the erasure is in the trail."""
    await register(client, email="zhangwei@nxjg.example")
    await send(client, completion(await activity(client, "GX-0002")))
    await entry(client, {"kind": "teaching", "date": "2022-03-15", "hours_taught": 4})
    hours_before, audit_before = await ledger(client), await audit(client)

    by_auditor = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人申请"}, headers=auditor
    )
    assert by_auditor.status_code == 403
    no_reason = await client.post("/learners/zhangwei/erasure", json={}, headers=ADMIN)
    assert no_reason.status_code == 422 and "reason" in detail(no_reason)
    erased = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人书面申请 2022-06-01"}, headers=ADMIN
    )
    assert erased.status_code == 200, erased.text

    for auth in (ADMIN, auditor):
        found = (await client.get("/learners/zhangwei", headers=auth)).json()
        assert found["erased_at"] is not None
        assert (found["name"], found["id_number"], found["email"]) == (
            personal.ERASED_NAME,
            personal.ERASED_ID_NUMBER,
            None,
        )
        assert found["actor"]["name"] == personal.ERASED_NAME
    raw = await db.collection(Learner).find_one({"learner_id": "zhangwei"})
    stored = repr(raw)
    assert "张伟" not in stored and "zhangwei@" not in stored
    assert raw["id_number_encrypted"] is None
    assert raw["id_number_digest"].startswith("erased:")  # random: no number's digest
    assert await ledger(client) == hours_before
    assert (await audit(client))["earned"] == audit_before["earned"]

    [traced] = await events(client, auditor, kind="erasure")
    assert (traced["by"], traced["learner_id"]) == ("admin", "zhangwei")
    assert traced["detail"]["reason"] == "本人书面申请 2022-06-01"
    assert await events(client, ADMIN, kind="id_number_view") == []  # nothing to show
    again = await client.post("/learners/zhangwei/erasure", json={"reason": "重复"}, headers=ADMIN)
    assert again.status_code == 409
    refill = await client.patch("/learners/zhangwei", json={"name": "张伟"}, headers=ADMIN)
    assert refill.status_code == 409 and "erased" in detail(refill)


async def test_an_erased_id_number_is_free_again_and_conflicts_with_nothing(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """Our reading: the erased number is not kept in any form, so the person may register
    again (a new learner, without the old hours); no 409 tells that it was ever there."""
    await register(client)
    erased = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人申请"}, headers=ADMIN
    )
    assert erased.status_code == 200
    again = await register(client, "zhangwei2022", "张伟")
    assert again["id_number"] == "640102********1239"
    assert await ledger(client, learner_id="zhangwei2022") == []
    assert await events(client, auditor, kind="id_number_conflict") == []
