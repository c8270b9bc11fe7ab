"""Completions an auditor judged, and completions dated before their course existed
(§一(一), issue 13 items 9 and 10). A course still credits once; a rejected back-dated
completion does not stop a genuine later one; a completion dated before the course
existed (1 January of its catalog year, or the moment an API-created course was created)
waits for review with that reason.

The app runs with a (test) policy covering the current year, so completions of today
count (tests/credits/conftest.py `policy_covering_this_year`)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from credits import ledger as credit_ledger
from credits.models import CreditReview, LedgerEntry
from nxce.settings import Settings
from tests.catalog.test_courses import NEW_COURSE
from tests.conftest import ADMIN, embedded_settings
from tests.credits.conftest import (
    activity,
    ago,
    completion,
    ledger,
    policy_covering_this_year,
    register,
    review,
    send,
    timestamp,
)

CST = timezone(timedelta(hours=8))


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The catalog, and a policy covering the current year (NXCE_POLICY_DIR)."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path, policy_dir=policy_covering_this_year(tmp_path / "p"))


async def rebuild_equals_live(app: FastAPI) -> None:
    live = credit_ledger.snapshot(await LedgerEntry.find_all().to_list())
    await credit_ledger.rebuild(credits=app.state.credits)
    assert credit_ledger.snapshot(await LedgerEntry.find_all().to_list()) == live


def only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


# --- item 9: a rejection does not block a later genuine completion ---------------------


async def test_a_genuine_completion_after_a_rejected_back_dated_one_credits_s1_1(
    client: httpx.AsyncClient, app: FastAPI, auditor: dict[str, str]
) -> None:
    """§一(一): 张伟's completion of GX-0002 (3 hours) dated 2022-03-01 waits for review
    (more than 30 days before it was stored) and is rejected. He then completes the
    course for real (an hour ago): the one entry of the course now counts 3 hours from
    the new statement, and names the rejected one in `source.rejected`."""
    await register(client)
    gx2 = await activity(client, "GX-0002")
    [old] = await send(client, completion(gx2, when="2022-03-01T09:00:00+08:00"))
    pending = only(await ledger(client))
    assert pending["status"] == "pending_review"
    rejected = await review(client, pending["id"], "reject", "学习记录与平台日志不符", auth=auditor)
    assert rejected.json()["status"] == "reversed"

    [new] = await send(client, completion(gx2))

    credited = only(await ledger(client))  # the course still credits once
    assert (credited["id"], credited["source_ref"]) == (pending["id"], new)
    assert (credited["status"], credited["hours"]) == ("counted", 3.0)
    assert credited["source"]["rejected"] == [
        {"statement_id": old, "reason": "学习记录与平台日志不符"}
    ]
    [again] = await send(client, completion(gx2, when=ago(minutes=5)))  # a third: no change
    assert only(await ledger(client))["source_ref"] == new != again
    await rebuild_equals_live(app)


async def test_each_judged_statement_keeps_its_own_review_s1_1(
    client: httpx.AsyncClient, app: FastAPI, auditor: dict[str, str]
) -> None:
    """Reviews are kept per judged statement: the 2022-03-01 completion rejected, the
    2022-05-01 one (also back-dated) then waits and is approved — two reviews of the one
    entry, which counts the 2022-05-01 completion; rejecting it had stayed possible."""
    await register(client)
    gx2 = await activity(client, "GX-0002")
    first, second = await send(
        client,
        completion(gx2, when="2022-03-01T09:00:00+08:00"),
        completion(gx2, when="2022-05-01T09:00:00+08:00"),
    )
    entry_id = only(await ledger(client))["id"]
    assert (await review(client, entry_id, "reject", "日期不可信", auth=auditor)).status_code == 200
    waiting = only(await ledger(client))
    assert (waiting["source_ref"], waiting["status"]) == (second, "pending_review")

    approved = await review(client, entry_id, "approve", "线下学习记录已核实", auth=auditor)

    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert (body["source_ref"], body["status"], body["occurred_on"]) == (
        second,
        "counted",
        "2022-05-01",
    )
    assert body["source"]["rejected"][0]["statement_id"] == first
    decisions = {r.source_ref: r.decision for r in await CreditReview.find_all().to_list()}
    assert decisions == {first: "reject", second: "approve"}
    await rebuild_equals_live(app)


# --- item 10: completions dated before the course existed ------------------------------


async def test_a_completion_before_an_api_course_was_created_waits_for_review_s1_1(
    client: httpx.AsyncClient, app: FastAPI, auditor: dict[str, str]
) -> None:
    """An administrator creates WS-9001 (2.5 professional hours) today through the API.
    A completion dated 2 days ago — within the 30-day back-dating allowance, but before
    the course existed — waits for review with that reason; once rejected, a completion
    after its creation credits the 2.5 hours."""
    created = await client.post("/courses", json=NEW_COURSE, headers=ADMIN)
    assert created.status_code == 201, created.text
    today = datetime.now(UTC).astimezone(CST).date()
    await register(client)
    ws = created.json()["activity_id"]
    await send(client, completion(ws, when=ago(days=2)))

    waiting = only(await ledger(client))
    assert waiting["status"] == "pending_review"
    assert waiting["status_reason"] == (
        f"the completion is dated before the course existed (from {today})"
    )
    await review(client, waiting["id"], "reject", "课程上线前不可能完成", auth=auditor)
    await send(client, completion(ws, when=timestamp(datetime.now(UTC))))
    credited = only(await ledger(client))
    assert (credited["status"], credited["hours"], credited["category"]) == (
        "counted",
        2.5,
        "professional",
    )
    await rebuild_equals_live(app)


async def test_a_fixture_course_exists_from_1_january_of_its_year_s1_1(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Fixture courses exist from 1 January (China Standard Time) of their catalog year,
    not from the day the fixture was loaded: GX-0002 (2022) completed on 2021-12-20
    waits, saying so (and that it is back-dated); GX-0003 (2020) completed on 2021-05-20
    waits only for being back-dated."""
    await register(client)
    await send(
        client,
        completion(await activity(client, "GX-0002"), when="2021-12-20T10:00:00+08:00"),
        completion(await activity(client, "GX-0003"), when="2021-05-20T10:00:00+08:00"),
    )
    reasons = {e["source"]["course_code"]: e["status_reason"] for e in await ledger(client)}
    assert reasons["GX-0002"] == (
        "the completion is dated more than 30 days before it was stored; "
        "the completion is dated before the course existed (from 2022-01-01)"
    )
    assert reasons["GX-0003"] == "the completion is dated more than 30 days before it was stored"
    course = await app.state.credits.catalog.course_by_activity(await activity(client, "GX-0002"))
    assert course.available_from == datetime(2022, 1, 1, tzinfo=CST)
    await rebuild_equals_live(app)
