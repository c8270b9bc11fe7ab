"""The auditor's conclusion (审验结论): an auditor records approve or reject, with a reason,
on a learner's audit for a level and year; it keeps the verdict it saw; the audit shows
the current one and flags a record that changed after it; earlier ones are kept."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.credits.conftest import (
    MakeBound,
    activity,
    audit,
    completion,
    entry,
    manual,
    register,
    send,
)

REASON = "已核对单位出具的学时证明，2018—2021年学时齐全，同意通过"


async def conclude(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    learner_id: str = "zhangwei",
    **body: Any,
) -> httpx.Response:
    body = {"level": "intermediate", "year": 2022, "decision": "approve", "reason": REASON} | body
    return await client.post(f"/learners/{learner_id}/audit/conclusions", json=body, headers=auth)


async def listed(
    client: httpx.AsyncClient, auth: dict[str, str], learner_id: str = "zhangwei", **params: Any
) -> httpx.Response:
    return await client.get(
        f"/learners/{learner_id}/audit/conclusions", params=params, headers=auth
    )


async def passing_ledger(client: httpx.AsyncClient) -> None:
    """张伟 (中级 2022, window 2018-2021: 360 total / 120 public): 30 public + 60
    professional in each of the four years = 120 public + 240 professional = 360: met."""
    await register(client)
    for year in (2018, 2019, 2020, 2021):
        await entry(client, manual(f"{year}-05-10", "public", 30, "公需课集中学习"))
        await entry(client, manual(f"{year}-06-10", "professional", 60, "工程技术专业培训"))


async def test_an_auditor_concludes_and_the_audit_shows_it(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await passing_ledger(client)
    response = await conclude(client, auditor)
    assert response.status_code == 201, response.text
    made = response.json()
    assert made["decision"] == "approve"
    assert made["reason"] == REASON
    assert made["by"] == "pingshen"
    assert made["by_name"] == "工程系列评审委员会"
    assert made["current"] is True
    assert (made["level"], made["year"]) == ("intermediate", 2022)
    assert made["verdict"]["passed"] is True  # 360 of 360, 120 of 120
    assert made["verdict"]["earned"] == {"total": 360, "public": 120, "professional": 240}
    assert "conclusion" not in made["verdict"]  # the verdict as computed, nothing added
    assert len(made["fingerprint"]) == 64

    verdict = await audit(client, auth=auditor)
    shown = verdict["conclusion"]
    assert shown["id"] == made["id"]
    assert shown["decision"] == "approve"
    assert shown["reason"] == REASON
    assert (shown["by"], shown["by_name"]) == ("pingshen", "工程系列评审委员会")
    assert shown["at"] == made["at"]
    assert shown["verdict"] == {"passed": True, "shortfall": {"total": 0, "public": 0}}
    assert verdict["changed_since_conclusion"] is False
    other_level = await audit(client, "deputy_senior", auth=auditor)
    assert other_level["conclusion"] is None  # a conclusion is of one level and year
    assert other_level["changed_since_conclusion"] is False


async def test_an_entry_in_the_window_after_a_conclusion_flags_it(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """A rejection saw 90 of 360 (shortfall 270 / 90 public); 30 public hours of 2020
    added after it change the record it was made on: flagged, and the conclusion still
    shows the verdict it saw."""
    await register(client)
    await entry(client, manual("2019-05-10", "public", 30))
    await entry(client, manual("2019-06-10", "professional", 60, "工程技术专业培训"))
    made = await conclude(client, auditor, decision="reject", reason="学时不足，公需课尚差90学时")
    assert made.status_code == 201, made.text
    assert made.json()["verdict"]["shortfall"] == {"total": 270, "public": 90}

    await entry(client, manual("2020-05-10", "public", 30, "公需课集中学习"))
    verdict = await audit(client, auth=auditor)
    assert verdict["shortfall"] == {"total": 240, "public": 60}  # 270 - 30, 90 - 30
    assert verdict["changed_since_conclusion"] is True
    assert verdict["conclusion"]["decision"] == "reject"
    assert verdict["conclusion"]["verdict"]["shortfall"] == {"total": 270, "public": 90}

    again = await conclude(client, auditor, decision="reject", reason="补录后公需课仍差60学时")
    assert again.status_code == 201, again.text
    verdict = await audit(client, auth=auditor)
    assert verdict["changed_since_conclusion"] is False  # the new one saw the new record
    assert verdict["conclusion"]["reason"] == "补录后公需课仍差60学时"


async def test_a_title_change_flags_the_conclusion(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """The title is part of what the verdict is computed from (years in post)."""
    await passing_ledger(client)
    assert (await conclude(client, auditor)).status_code == 201
    patched = await client.patch(
        "/learners/zhangwei", json={"title_obtained_on": "2017-07-01"}, headers=ADMIN
    )
    assert patched.status_code == 200, patched.text
    assert (await audit(client, auth=auditor))["changed_since_conclusion"] is True


async def test_a_completion_outside_the_window_does_not_flag_it(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """A course completed now (after the 2018-2021 window) cannot change the 2022
    intermediate audit: not flagged."""
    await passing_ledger(client)
    assert (await conclude(client, auditor)).status_code == 201
    await send(client, completion(await activity(client, "GX-0001")))
    assert (await audit(client, auth=auditor))["changed_since_conclusion"] is False


async def test_conclusions_are_kept_and_the_newest_is_current(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await passing_ledger(client)
    first = (await conclude(client, auditor, decision="reject", reason="待补充学历证明")).json()
    second = (await conclude(client, ADMIN, reason="学历证明已补充，同意通过")).json()
    senior = await conclude(client, auditor, level="senior", reason="正高级申报，学时齐全")
    assert senior.status_code == 201
    response = await listed(client, auditor, level="intermediate", year=2022)
    assert response.status_code == 200, response.text
    found = response.json()
    assert [(c["id"], c["decision"], c["current"]) for c in found] == [
        (first["id"], "reject", False),
        (second["id"], "approve", True),
    ]
    assert found[1]["by"] == "admin"
    everything = (await listed(client, auditor)).json()
    assert sum(c["current"] for c in everything) == 2  # one per level and year
    assert (await audit(client, auth=auditor))["conclusion"]["id"] == second["id"]


async def test_a_learner_reads_their_own_conclusions_only(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    await passing_ledger(client)
    await register(client, "lixiuying", "李秀英", "124")
    assert (await conclude(client, auditor)).status_code == 201
    own = await bound_client("zhangwei")
    mine = await listed(client, own)
    assert mine.status_code == 200, mine.text
    assert [c["reason"] for c in mine.json()] == [REASON]
    assert (await audit(client, auth=own))["conclusion"]["reason"] == REASON
    assert (await listed(client, own, "lixiuying")).status_code == 403
    refused = await conclude(client, own)  # a learner's client never concludes
    assert refused.status_code == 403
    assert len((await listed(client, auditor)).json()) == 1


async def test_a_conclusion_without_a_reason_is_refused_naming_reason(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await passing_ledger(client)
    body = {"level": "intermediate", "year": 2022, "decision": "approve"}
    missing = await client.post("/learners/zhangwei/audit/conclusions", json=body, headers=auditor)
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "reason"
    for reason in ("   ", "理" * 1001):
        refused = await conclude(client, auditor, reason=reason)
        assert refused.status_code == 422, reason
        assert refused.json()["errors"][0]["field"] == "reason"
    assert (await listed(client, auditor)).json() == []  # nothing written


async def test_bad_level_year_decision_and_learner_are_refused(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await passing_ledger(client)
    level = await conclude(client, auditor, level="chief")
    assert level.status_code == 422
    assert level.json()["errors"][0]["field"] == "level"
    decision = await conclude(client, auditor, decision="maybe")
    assert decision.status_code == 422
    assert decision.json()["errors"][0]["field"] == "decision"
    year = await conclude(client, auditor, year=2030)
    assert year.status_code == 422, year.text
    assert year.json()["errors"][0]["field"] == "year"
    assert "2030" in year.json()["detail"]
    unknown = await conclude(client, auditor, "wangfang")
    assert unknown.status_code == 404
    assert (await listed(client, auditor, "wangfang")).status_code == 404
    bad_query = await listed(client, auditor, year=2030)
    assert bad_query.status_code == 422
    assert bad_query.json()["errors"][0]["field"] == "year"
    assert (await listed(client, auditor)).json() == []
