"""The entry side of §一(三)1 degrees and §一(三)3 qualifications: a degree may be entered
still in progress with its expected graduation date, certified hours are never required
at entry (each audit judges whether its window needs them), and a qualification is
recorded without checking the learner's current title (the audit judges the tenure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from tests.credits.conftest import add_entry, detail, entry, ledger, register


def _in_days(days: int) -> str:
    """A date `days` from now in China Standard Time."""
    return (datetime.now(UTC) + timedelta(hours=8, days=days)).date().isoformat()


async def test_a_degree_in_progress_is_entered_with_its_expected_graduation_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 3: 工程硕士 enrolled 2020-09-01, graduating in about a year: recorded under
    ningxia-2022 (the study meets 2017-2022), dated to the expected graduation, in
    progress, no certified hours yet: 0 hours, meets `window` for the audit to judge."""
    await register(client)
    expected = _in_days(365)
    found = await entry(
        client,
        {
            "kind": "degree",
            "enrolled_on": "2020-09-01",
            "graduated_on": expected,
            "evidence": "宁夏大学在读证明",
        },
    )
    assert (found["status"], found["policy_id"], found["clause"]) == (
        "counted",
        "ningxia-2022",
        "§一(三)1",
    )
    assert (found["occurred_on"], found["year"]) == (expected, int(expected[:4]))
    assert (found["hours"], found["meets"], found["category"]) == (0.0, "window", "professional")
    assert found["source"]["in_progress"] is True
    assert found["source"]["certified_hours"] is None
    assert found["source"]["enrolled_on"] == "2020-09-01"


async def test_a_degree_crossing_the_window_end_carries_its_certified_hours_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 3: enrolled 2020-09-01 (inside 2018-2021), graduated 2023-06-30 (after it),
    the institution certified 200 hours: recorded under ningxia-2022, dated 2023, 200
    professional hours, finished."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "degree",
            "enrolled_on": "2020-09-01",
            "graduated_on": "2023-06-30",
            "certified_hours": 200,
        },
    )
    assert (found["status"], found["policy_id"], found["year"], found["hours"]) == (
        "counted",
        "ningxia-2022",
        2023,
        200.0,
    )
    assert found["source"]["in_progress"] is False
    assert found["source"]["certified_hours"] == 200.0


async def test_a_degree_enrolled_before_the_windows_needs_no_certified_hours_at_entry_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 3: enrolled 2015 (before both windows) without certified hours — no longer a
    422: recorded with certified_hours None and 0 hours; each audit says what it needs."""
    await register(client)
    found = await entry(
        client, {"kind": "degree", "enrolled_on": "2015-09-01", "graduated_on": "2019-06-30"}
    )
    assert (found["status"], found["hours"], found["source"]["certified_hours"]) == (
        "counted",
        0.0,
        None,
    )


async def test_a_degree_entirely_after_2022_awaits_a_policy_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """Item 12: a study from 2023-09-01 to 2025-06-30 meets no installed policy's years:
    awaiting_policy, `no policy covers 2023-2025 yet`, with its 150 certified hours."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "degree",
            "enrolled_on": "2023-09-01",
            "graduated_on": "2025-06-30",
            "certified_hours": 150,
        },
    )
    assert (found["status"], found["status_reason"], found["hours"]) == (
        "awaiting_policy",
        "no policy covers 2023-2025 yet",
        150.0,
    )


async def test_a_degree_that_ends_before_it_began_is_refused_without_a_clause(
    client: httpx.AsyncClient,
) -> None:
    """Bad input (ours, not the notice's): graduated 2018-06-30 before enrolling 2019-09-01."""
    await register(client)
    response = await add_entry(
        client, {"kind": "degree", "enrolled_on": "2019-09-01", "graduated_on": "2018-06-30"}
    )
    assert response.status_code == 422
    assert "graduated_on" in detail(response) and "2018-06-30" in detail(response)
    assert "§" not in detail(response)


@pytest.mark.parametrize(
    ("title", "obtained", "day"),
    [
        ("junior", "2016-07-01", "2020-05-20"),
        ("none", None, "2021-03-12"),
        ("deputy_senior", "2019-12-20", "2019-05-20"),  # before the current title
        ("intermediate", "2012-12-01", "2015-10-18"),  # before the policy's 2017
    ],
    ids=["junior", "no-title", "before-the-current-title", "before-2017"],
)
async def test_a_qualification_is_recorded_whatever_the_current_title_s1_3_3(
    client: httpx.AsyncClient, title: str, obtained: str | None, day: str
) -> None:
    """Item 5, §一(三)3 任职期内: whether the qualification came after an intermediate or
    deputy senior title, and for which tenure, is judged by the audit from the title
    history; the entry is recorded as it is (meets `professional`, 0 hours) — also one of
    2015, since a tenure may have begun before the policy's years."""
    await register(client, title_level=title, title_obtained_on=obtained)
    found = await entry(client, {"kind": "qualification", "date": day, "name": "一级注册建造师"})
    assert (found["status"], found["meets"], found["hours"]) == ("counted", "professional", 0.0)
    assert (found["policy_id"], found["clause"], found["occurred_on"]) == (
        "ningxia-2022",
        "§一(三)3",
        day,
    )
    assert found["source"]["name"] == "一级注册建造师"


async def test_a_qualification_dated_in_the_future_is_refused(client: httpx.AsyncClient) -> None:
    """Bad input: a qualification obtained tomorrow — 422 naming the date and its value."""
    await register(client, title_level="intermediate", title_obtained_on="2018-12-01")
    tomorrow = _in_days(2)
    response = await add_entry(
        client, {"kind": "qualification", "date": tomorrow, "name": "注册监理工程师"}
    )
    assert response.status_code == 422
    assert "date" in detail(response) and tomorrow in detail(response)
    assert await ledger(client) == []


async def test_a_qualification_after_2022_awaits_a_policy_s1_3_3(
    client: httpx.AsyncClient,
) -> None:
    """Item 12: a qualification of 2024 lies after every installed policy's years."""
    await register(client, title_level="intermediate", title_obtained_on="2018-12-01")
    found = await entry(
        client, {"kind": "qualification", "date": "2024-04-20", "name": "注册会计师"}
    )
    assert (found["status"], found["status_reason"]) == (
        "awaiting_policy",
        "no policy covers 2024 yet",
    )
