"""§一(一) automatic registration (由系统自动审核登记): a completion statement for a catalog
course credits the course's hours to its category, once per learner and course, in the
year of completion in China Standard Time; doubtful dates wait for an auditor.

These tests complete courses now: the app runs with a (test) policy covering the current
year installed, as an administrator would install one — without it, completions of a
year no policy covers wait for one (tests/credits/test_recompute_policy.py)."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from nxce.core.clients import Scope
from nxce.settings import Settings
from tests.conftest import ADMIN, embedded_settings
from tests.credits.conftest import (
    EXPERIENCED,
    FAILED,
    HOME,
    PASSED,
    THIS_YEAR_POLICY,
    MakeBound,
    activity,
    ago,
    audit,
    completion,
    course,
    entry,
    ledger,
    manual,
    policy_covering_this_year,
    register,
    register_li,
    review,
    send,
    timestamp,
    voiding_of,
)
from tests.lrs.conftest import ATTEMPTED, COMPLETED, fetch, post_statements, put_statement


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The catalog, and a policy covering the current year (NXCE_POLICY_DIR)."""
    shutil.copytree(search_index, tmp_path / "search")
    policies = policy_covering_this_year(tmp_path / "policies")
    return embedded_settings(tmp_path, policy_dir=policies)


def only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


async def test_public_completion_credits_course_hours_once_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): 公需课 learned on the platform are registered by the system: a completion of
    a public course (GX-) credits that course's hours as public hours, citing the clause."""
    await register(client)
    gx = await course(client, "GX-0002")
    [statement_id] = await send(client, completion(gx["activity_id"]))
    credited = only(await ledger(client))
    assert credited["category"] == "public" == gx["category"]
    assert credited["hours"] == gx["hours"] == 3.0
    assert credited["kind"] == "completion"
    assert (credited["source_kind"], credited["source_ref"]) == ("statement", statement_id)
    assert credited["source"]["course_code"] == "GX-0002"
    assert credited["source"]["course_title"] == gx["title"]
    assert credited["clause"] == "§一(一)"
    assert credited["policy_id"] == THIS_YEAR_POLICY  # the policy covering its date
    assert credited["status"] == "counted"
    assert credited["recorded_by"] == "system"
    assert credited["learner_id"] == "zhangwei"


async def test_professional_course_completion_credits_professional_hours_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): platform professional courses (专业课) register automatically too: a 卫生
    course (WS-) credits its hours as professional hours."""
    await register_li(client)
    ws = await course(client, "WS-0001")
    await send(client, completion(ws["activity_id"], "lixiuying", name="李秀英"))
    credited = only(await ledger(client, "lixiuying"))
    assert (credited["category"], credited["hours"]) == ("professional", ws["hours"])
    assert ws["series"] == "卫生" and ws["category"] == "professional"


@pytest.mark.parametrize(
    ("verb", "result"),
    [
        (COMPLETED, None),
        (PASSED, None),
        (PASSED, {"success": True, "score": {"scaled": 0.92}}),
        (EXPERIENCED, {"completion": True}),
        (ATTEMPTED, {"completion": True, "success": True}),
    ],
    ids=["completed", "passed", "passed-success", "experienced-completion", "attempted-both"],
)
async def test_completion_verbs_and_result_completion_credit_s1_1(
    client: httpx.AsyncClient, verb: str, result: dict[str, Any] | None
) -> None:
    """§一(一): verb completed or passed, or result.completion true, says the learner
    finished the course."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0001"), verb=verb, result=result))
    assert only(await ledger(client))["status"] == "counted"


@pytest.mark.parametrize(
    ("verb", "result"),
    [
        (PASSED, {"success": False}),
        (COMPLETED, {"completion": True, "success": False}),
        (EXPERIENCED, None),
        (EXPERIENCED, {"completion": False}),
        (FAILED, None),
    ],
    ids=["passed-unsuccessful", "completed-unsuccessful", "experienced", "incomplete", "failed"],
)
async def test_unsuccessful_or_unfinished_statements_credit_nothing_s1_1(
    client: httpx.AsyncClient, verb: str, result: dict[str, Any] | None
) -> None:
    """§一(一): result.success false is no completion, whatever the verb; nor is a verb
    that says nothing about finishing."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0001"), verb=verb, result=result))
    assert await ledger(client) == []


async def test_completion_sent_twice_with_the_same_id_credits_once_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一), a course completed twice credits once: the app syncs the same statement
    again (same id) — stored once, credited once."""
    await register(client)
    statement = completion(await activity(client, "GX-0002"))
    first = await send(client, statement)
    again = await send(client, statement)
    assert first == again
    credited = only(await ledger(client))
    assert (credited["hours"], credited["source_ref"]) == (3.0, first[0])


async def test_second_completion_with_another_id_credits_once_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): the learner completes the same course again (a new statement id) — still
    one entry, credited by the earliest completion."""
    await register(client)
    gx = await activity(client, "GX-0002")
    [first] = await send(client, completion(gx, when=ago(hours=3)))
    [second] = await send(client, completion(gx, when=ago(hours=1)))
    assert first != second
    credited = only(await ledger(client))
    assert (credited["hours"], credited["source_ref"]) == (3.0, first)


async def test_completion_stored_by_put_credits_s1_1(client: httpx.AsyncClient) -> None:
    """§一(一): PUT /xapi/statements?statementId= is projected like POST."""
    await register(client)
    statement = completion(await activity(client, "GX-0001"))
    response = await put_statement(client, statement["id"], statement)
    assert response.status_code == 204
    assert only(await ledger(client))["source_ref"] == statement["id"]


async def test_completions_of_different_courses_credit_each_course(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): once per learner AND course — three courses, three entries."""
    await register(client)
    codes = ["GX-0001", "GX-0002", "WS-0001"]
    await send(client, *[completion(await activity(client, c)) for c in codes])
    found = await ledger(client)
    assert sorted(e["source"]["course_code"] for e in found) == codes
    assert sum(e["hours"] for e in found if e["category"] == "public") == 1.5 + 3.0
    assert sum(e["hours"] for e in found if e["category"] == "professional") == 2.0


async def test_voided_completion_reverses_its_entry_and_the_audit_drops_it_s1_1(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(一) with xAPI Data 2.3.2: a voided completion un-credits — its entry stays in
    the ledger as `reversed` and the audit no longer counts it."""
    await register(client)
    [statement_id] = await send(
        client, completion(await activity(client, "GX-0002"), when="2021-03-15T10:00:00+08:00")
    )
    pending = only(await ledger(client))
    assert (await review(client, pending["id"], "approve", auth=auditor)).status_code == 200
    assert (await audit(client))["earned"]["public"] == 3.0

    await send(client, voiding_of(statement_id))

    reversed_ = only(await ledger(client))
    assert reversed_["id"] == pending["id"]
    assert reversed_["status"] == "reversed"
    assert "voided" in reversed_["status_reason"]
    verdict = await audit(client)
    assert verdict["earned"] == {"total": 0, "public": 0, "professional": 0}
    # Issue 13 ("nothing hidden"): the reason says why, not only the status.
    assert verdict["not_counted"] == [
        {
            "entry_id": pending["id"],
            "kind": "completion",
            "occurred_on": "2021-03-15",
            "hours": 3.0,
            "category": "public",
            "reason": "reversed: the completion was voided",
        }
    ]


async def test_voiding_one_of_two_completions_keeps_the_course_credited_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): the course stays credited while another completion of it stands; the
    entry now cites the remaining statement."""
    await register(client)
    gx = await activity(client, "GX-0001")
    first, second = await send(
        client, completion(gx, when=ago(hours=2)), completion(gx, when=ago(hours=1))
    )
    await send(client, voiding_of(first))
    credited = only(await ledger(client))
    assert (credited["status"], credited["source_ref"]) == ("counted", second)


@pytest.mark.parametrize(
    ("sent", "stored", "year", "day"),
    [
        ("2022-01-01T00:30:00+08:00", "2021-12-31T16:30:00Z", 2022, "2022-01-01"),
        ("2021-12-31T23:30:00+08:00", "2021-12-31T15:30:00Z", 2021, "2021-12-31"),
        ("2021-12-31T16:30:00Z", "2021-12-31T16:30:00Z", 2022, "2022-01-01"),
    ],
    ids=["0030-cst-is-2022", "2330-cst-is-2021", "utc-1630-is-2022"],
)
async def test_completion_year_is_the_year_in_china_standard_time_s1_1(
    client: httpx.AsyncClient, sent: str, stored: str, year: int, day: str
) -> None:
    """§一(一): hours count to the year of completion in UTC+8. The LRS stores the
    timestamp in UTC (xAPI 2.0), which for 2022-01-01T00:30+08:00 is still 2021 — the
    ledger credits 2022 all the same."""
    await register(client)
    [statement_id] = await send(client, completion(await activity(client, "GX-0001"), when=sent))
    assert (await fetch(client, statement_id))["timestamp"] == stored
    credited = only(await ledger(client))
    assert (credited["year"], credited["occurred_on"]) == (year, day)
    assert await ledger(client, year=year) == [credited]
    assert await ledger(client, year=year - 1 if year == 2022 else 2022) == []


async def test_statement_of_an_unknown_actor_is_kept_and_credited_on_registration_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): 王芳 studies before her account is registered as a learner: the statement
    is stored, nothing is credited yet, and POST /learners credits it."""
    gx = await course(client, "GX-0002")
    [statement_id] = await send(client, completion(gx["activity_id"], "wangfang", name="王芳"))
    assert (await fetch(client, statement_id))["actor"]["account"]["name"] == "wangfang"
    missing = await client.get("/learners/wangfang/credits", headers=ADMIN)
    assert missing.status_code == 404

    await register(client, "wangfang", "王芳", "125", employer="银川市第一中学", series="教师")

    credited = only(await ledger(client, "wangfang"))
    assert (credited["source_ref"], credited["hours"], credited["status"]) == (
        statement_id,
        gx["hours"],
        "counted",
    )


async def test_future_timestamp_makes_the_entry_pending_review_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一): a completion dated after it was stored is doubtful: pending_review, not
    counted until an auditor decides."""
    await register(client)
    future = timestamp(datetime.now(UTC) + timedelta(days=1))
    await send(client, completion(await activity(client, "GX-0001"), when=future))
    pending = only(await ledger(client))
    assert pending["status"] == "pending_review"
    assert "after it was stored" in pending["status_reason"]


@pytest.mark.parametrize(
    ("days_before", "status"),
    [(29, "counted"), (31, "pending_review"), (365, "pending_review")],
    ids=["offline-sync-29-days", "31-days", "a-year"],
)
async def test_backdated_completion_over_30_days_is_pending_review_s1_1(
    client: httpx.AsyncClient, days_before: int, status: str
) -> None:
    """§一(一) with the policy's backdate limit (30 days): offline sync within it counts at
    once; back-dating further waits for an auditor."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0001"), when=ago(days=days_before)))
    assert only(await ledger(client))["status"] == status


async def test_auditor_approves_a_pending_entry_and_it_counts_s1_1(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(一), roles: the auditor approves a back-dated completion; the entry counts and
    keeps the decision with who decided and when."""
    await register(client)
    [statement_id] = await send(
        client, completion(await activity(client, "GX-0002"), when="2020-06-01T09:00:00+08:00")
    )
    pending = only(await ledger(client))
    assert (await audit(client))["not_counted"][0]["reason"].startswith("pending review: ")

    before = datetime.now(UTC)
    response = await review(client, pending["id"], "approve", "单位出具了学习证明", auth=auditor)

    assert response.status_code == 200, response.text
    approved = response.json()
    assert approved["status"] == "counted"
    assert approved["source_ref"] == statement_id
    decision = approved["review"]
    assert (decision["decision"], decision["reason"], decision["decided_by"]) == (
        "approve",
        "单位出具了学习证明",
        "pingshen",
    )
    decided_at = datetime.fromisoformat(decision["decided_at"].replace("Z", "+00:00"))
    assert before - timedelta(seconds=1) <= decided_at.astimezone(UTC) <= datetime.now(UTC)
    assert only(await ledger(client)) == approved
    verdict = await audit(client)
    assert verdict["earned"]["public"] == 3.0 and verdict["not_counted"] == []
    assert {"year": 2020, "public": 3.0, "professional": 0.0} in verdict["by_year"]


async def test_auditor_rejects_a_pending_entry_and_it_is_reversed_s1_1(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(一): a rejected completion is reversed, with the reason, and not counted."""
    await register(client)
    await send(
        client, completion(await activity(client, "GX-0002"), when="2019-11-11T11:11:00+08:00")
    )
    pending = only(await ledger(client))
    response = await review(client, pending["id"], "reject", "补录时间与学习记录不符", auth=auditor)
    assert response.status_code == 200, response.text
    rejected = response.json()
    assert rejected["status"] == "reversed"
    assert "补录时间与学习记录不符" in rejected["status_reason"]
    assert rejected["review"]["decided_by"] == "pingshen"
    verdict = await audit(client)
    assert verdict["earned"]["total"] == 0
    reason = verdict["not_counted"][0]["reason"]
    assert reason.startswith("reversed: ") and reason.endswith(": 补录时间与学习记录不符")


async def test_the_same_completion_sent_again_after_approval_stays_approved_s1_1(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(一): the app syncs again (another id) after the decision: still one entry, still
    counted, the decision kept."""
    await register(client)
    gx = await activity(client, "GX-0002")
    await send(client, completion(gx, when="2020-06-01T09:00:00+08:00"))
    pending = only(await ledger(client))
    assert (await review(client, pending["id"], "approve", auth=auditor)).status_code == 200
    await send(client, completion(gx, when="2020-06-01T09:00:00+08:00"))
    credited = only(await ledger(client))
    assert credited["status"] == "counted" and credited["review"]["decision"] == "approve"


async def test_review_of_an_entry_not_pending_is_409_s1_1(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(一): only pending entries are decided — a counted completion, an entry already
    decided, and a manual entry each answer 409."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0001")))
    counted = only(await ledger(client))
    response = await review(client, counted["id"], "approve", auth=auditor)
    assert response.status_code == 409
    assert "counted" in response.json()["detail"]

    await send(
        client, completion(await activity(client, "GX-0002"), when="2020-06-01T09:00:00+08:00")
    )
    [pending] = [e for e in await ledger(client) if e["status"] == "pending_review"]
    assert (await review(client, pending["id"], "reject", auth=auditor)).status_code == 200
    assert (await review(client, pending["id"], "approve", auth=auditor)).status_code == 409

    manual_entry = await entry(client, manual("2020-03-01", "public", 10))
    assert (await review(client, manual_entry["id"], "approve", auth=auditor)).status_code == 409


async def test_review_needs_an_auditor_and_a_known_entry_s1_1(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """§一(一), roles: the learner's own app may not approve its entries (403); an unknown
    entry is 404; a decision other than approve/reject is 422."""
    await register(client)
    await send(
        client, completion(await activity(client, "GX-0002"), when="2020-06-01T09:00:00+08:00")
    )
    pending = only(await ledger(client))
    app_headers = await bound_client("zhangwei")
    assert (await review(client, pending["id"], "approve", auth=app_headers)).status_code == 403
    assert (await review(client, "no-such-entry", "approve")).status_code == 404
    maybe = await client.post(
        f"/learners/zhangwei/credits/{pending['id']}/review",
        json={"decision": "maybe", "reason": "再看看"},
        headers=ADMIN,
    )
    assert maybe.status_code == 422 and "decision" in maybe.json()["detail"]
    assert only(await ledger(client))["status"] == "pending_review"


async def test_non_course_activities_and_other_actors_credit_nothing_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一) credits catalog courses only, for platform accounts only: a completed video
    (not a course), a course completed by an e-mail identified agent, or by an account of
    another platform, and an IRI under the course base that is no catalog course credit
    nothing."""
    await register(client)
    gx = await activity(client, "GX-0001")
    video = completion("https://nxce.example/xapi/activities/video/20220315")
    by_mbox = completion(gx)
    by_mbox["actor"] = {"objectType": "Agent", "name": "张伟", "mbox": "mailto:zw@nxce.example"}
    other_platform = completion(gx)
    other_platform["actor"]["account"]["homePage"] = "https://elsewhere.example"
    unknown_course = completion(f"{HOME}/xapi/activities/course/GX-9999")
    await send(client, video, by_mbox, other_platform, unknown_course)
    assert await ledger(client) == []


async def test_the_learners_own_app_credits_its_learner_s1_1(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """§一(一): the mobile app, a client acting as 张伟 with statements/write, syncs his
    completion; the system registers it."""
    await register(client)
    phone = await bound_client("zhangwei", Scope.statements_write)
    statement = completion(await activity(client, "GX-0002"))
    response = await post_statements(client, statement, auth=phone)
    assert response.status_code == 200, response.text
    assert only(await ledger(client))["source_ref"] == statement["id"]


async def test_a_learners_app_cannot_credit_another_learner_s1_1(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    """§一(一), roles: 张伟's app acts as 张伟 only — a completion it sends in 李秀英's name
    is refused or at least credits her nothing (learners write nothing of another's
    record)."""
    await register(client)
    await register_li(client)
    phone = await bound_client("zhangwei", Scope.statements_write)
    forged = completion(await activity(client, "GX-0002"), "lixiuying", name="李秀英")
    await post_statements(client, forged, auth=phone)
    assert await ledger(client, "lixiuying") == []


async def test_home_page_with_a_trailing_slash_credits_s1_1(client: httpx.AsyncClient) -> None:
    """§一(一): an app that writes the platform's homePage as https://nxce.example/ names
    the same account, as the projection itself allows."""
    await register(client)
    statement = completion(await activity(client, "GX-0002"))
    statement["actor"]["account"]["homePage"] = HOME + "/"
    await send(client, statement)
    assert only(await ledger(client))["hours"] == 3.0
