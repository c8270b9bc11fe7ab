"""Entries no installed policy converts (our reading: the notice is 2022's) — dated after
2022, before 2017, or teaching outside 2022 (§一(三)1: 对2022年担任继续教育培训师资的) —
are recorded `awaiting_policy` with the reason, never refused, and not counted; a policy
that covers them converts the very same entry (`convert` is pure)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import httpx
import pytest

from credits import conversions
from credits.models import EntryStatus, Learner
from credits.policy import BUILT_IN, Policies
from tests.credits.conftest import (
    ENGINEERING_BASE,
    audit,
    base_id,
    entry,
    ledger,
    manual,
    register,
    register_li,
)
from tests.credits.test_policy_2023 import hypothetical_2023


async def test_a_study_tour_after_2022_awaits_a_policy_s1_3_1(client: httpx.AsyncClient) -> None:
    """Item 12: a 3-day tour in April 2023 is recorded (201), not refused: status
    awaiting_policy, `no policy covers 2023 yet`, no policy and no clause, 0 hours (the
    6 hours a day are a policy's factor), the days kept in its source."""
    await register(client)
    found = await entry(
        client,
        {"kind": "study_tour", "date": "2023-04-01", "days": 3, "description": "赴杭州考察"},
    )
    assert (found["status"], found["status_reason"]) == (
        "awaiting_policy",
        "no policy covers 2023 yet",
    )
    assert (found["policy_id"], found["clause"], found["hours"]) == ("", "", 0.0)
    assert (found["year"], found["category"], found["source"]["days"]) == (
        2023,
        "professional",
        3,
    )
    assert await ledger(client) == [found]


async def test_stated_hours_before_2017_await_a_policy_with_their_hours_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 12: the 2022 notice covers 2017-2022; 15.5 professional hours dated
    2016-12-31 and a 40-hour class at 宁夏工程技术人员继续教育基地 in 2024 keep the hours
    they state, awaiting a policy for 2016 and 2024."""
    await register(client)
    before = await entry(client, manual("2016-12-31", "professional", 15.5))
    after = await entry(
        client,
        {
            "kind": "training",
            "date": "2024-05-10",
            "hours": 40,
            "base_id": await base_id(client, ENGINEERING_BASE),
        },
    )
    assert (before["status"], before["hours"], before["status_reason"]) == (
        "awaiting_policy",
        15.5,
        "no policy covers 2016 yet",
    )
    assert (after["status"], after["hours"], after["status_reason"]) == (
        "awaiting_policy",
        40.0,
        "no policy covers 2024 yet",
    )
    assert after["source"]["base"] == ENGINEERING_BASE


@pytest.mark.parametrize("day", ["2017-03-01", "2021-11-20", "2023-02-14"])
async def test_teaching_outside_2022_awaits_a_policy_s1_3_1(
    client: httpx.AsyncClient, day: str
) -> None:
    """Item 11, §一(三)1: 对2022年担任继续教育培训师资的 — teaching done in another year is
    recorded but not credited at 1:3: awaiting_policy, `no policy covers teaching in
    <year> yet`, 0 hours; the hours taught stay in the source."""
    await register(client)
    found = await entry(client, {"kind": "teaching", "date": day, "hours_taught": 8})
    assert (found["status"], found["hours"], found["policy_id"]) == ("awaiting_policy", 0.0, "")
    assert found["status_reason"] == f"no policy covers teaching in {day[:4]} yet"
    assert found["source"]["hours_taught"] == 8


async def test_teaching_in_2022_is_credited_three_for_one_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 11, §一(三)1: 8 hours taught on 2022-12-31 → 24 professional hours in 2022."""
    await register(client)
    found = await entry(client, {"kind": "teaching", "date": "2022-12-31", "hours_taught": 8})
    assert (found["status"], found["hours"], found["year"]) == ("counted", 24.0, 2022)
    assert (found["policy_id"], found["clause"]) == ("ningxia-2022", "§一(三)1")


async def test_weisheng_teaching_outside_2022_awaits_rather_than_being_refused_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1: the 卫生 exception belongs to the 2022 teaching rule; 李秀英's teaching in
    2021 is under no rule yet, so it waits (it is refused only where the rule applies)."""
    await register_li(client)
    found = await entry(
        client, {"kind": "teaching", "date": "2021-05-10", "hours_taught": 8}, "lixiuying"
    )
    assert found["status"] == "awaiting_policy"


async def test_an_entry_awaiting_a_policy_is_not_counted_by_the_audit_s1_2(
    client: httpx.AsyncClient,
) -> None:
    """Item 11: 20 hours taught in 2020 (inside 2018-2021) would have been 60 professional
    hours; awaiting a policy they count for nothing — earned 30 (5 tour days x 6) — and the
    entry is listed as not counted."""
    await register(client)
    taught = await entry(client, {"kind": "teaching", "date": "2020-11-20", "hours_taught": 20})
    await entry(client, {"kind": "study_tour", "date": "2019-08-10", "days": 5})
    verdict = await audit(client, "intermediate")
    assert verdict["earned"] == {"total": 30, "public": 0, "professional": 30}
    assert [n["entry_id"] for n in verdict["not_counted"]] == [taught["id"]]


def _learner() -> Learner:
    return Learner.model_construct(
        learner_id="zhangwei", series="工程", title_level="junior", title_obtained_on=None
    )


def _no_base(base: str, day: date) -> tuple[None, None]:
    return None, None


def test_a_policy_covering_the_year_converts_the_waiting_entry_s1_3_1(tmp_path: Path) -> None:
    """Item 12: the same 2023 tour (3 days) converts the same way each time — awaiting
    under the built-in policies — and once a policy covering 2023 is installed (a file in
    NXCE_POLICY_DIR) to 3 x 6 = 18 hours under it."""
    details = {"date": "2023-04-01", "days": 3}
    today = date(2023, 5, 1)
    built_in = Policies()
    waiting = [
        conversions.convert(
            kind="study_tour",
            details=details,
            learner=_learner(),
            policies=built_in,
            base_status=_no_base,
            today=today,
        )
        for _ in range(2)
    ]
    assert waiting[0] == waiting[1]
    assert (waiting[0].status, waiting[0].hours) == (EntryStatus.awaiting_policy, 0.0)

    extra = tmp_path / "policies"
    extra.mkdir()
    text = (BUILT_IN / "ningxia-2022.toml").read_text(encoding="utf-8")
    (extra / "ningxia-2023.toml").write_text(hypothetical_2023(text), encoding="utf-8")
    counted = conversions.convert(
        kind="study_tour",
        details=details,
        learner=_learner(),
        policies=Policies(extra),
        base_status=_no_base,
        today=today,
    )
    assert (counted.status, counted.hours, counted.policy_id) == (
        EntryStatus.counted,
        18.0,
        "ningxia-2023",
    )
