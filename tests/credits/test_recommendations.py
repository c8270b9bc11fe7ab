"""Recommendations (issue 19): the courses that close a learner's shortfall, where a
completion today can still count — public courses first while public hours are short, then
professional courses of the learner's series; nothing for a learner who passes; never a
course they completed; readable by the learner's own client, auditors and admins only.

A hypothetical policy covering this year (TEST FIXTURE, tests/credits/conftest.py) is
installed so that this year's completions and entries count."""

from __future__ import annotations

import re
import shutil
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from credits.policy import BUILT_IN
from nxce.settings import Settings
from tests.conftest import ADMIN, embedded_settings
from tests.credits.conftest import (
    MakeBound,
    activity,
    completion,
    entry,
    manual,
    register,
    send,
    voiding_of,
)

THIS_YEAR = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).year
TODAY = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).date().isoformat()


def write_policy(directory: Path, policy_id: str, application_year: int) -> None:
    """TEST FIXTURE, NOT A REAL NOTICE: the built-in ningxia-2022 file with its id,
    application year, dates covered (2023 to the end of this year) and audit windows moved
    so that it audits applications of `application_year`."""
    shift = application_year - 2022
    text = (BUILT_IN / "ningxia-2022.toml").read_text(encoding="utf-8")
    body = "\n".join(line for line in text.splitlines() if not line.startswith("#"))
    for pattern, replacement in [
        (r'id = "ningxia-2022"', f'id = "{policy_id}"'),
        (r'document = "[^"]*"', 'document = "假设的政策（测试用）"'),
        (r"application_year = 2022", f"application_year = {application_year}"),
        (
            r"covers = \{ from = 2017-01-01, to = 2022-12-31 \}",
            f"covers = {{ from = 2023-01-01, to = {THIS_YEAR}-12-31 }}",
        ),
        (
            r"window = \{ from = 2018, to = 2021 \}",
            f"window = {{ from = {2018 + shift}, to = {2021 + shift} }}",
        ),
        (
            r"window = \{ from = 2017, to = 2021 \}",
            f"window = {{ from = {2017 + shift}, to = {2021 + shift} }}",
        ),
    ]:
        body, count = re.subn(pattern, replacement, body)
        assert count, f"the 2022 policy file no longer has {pattern!r}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{policy_id}.toml").write_text(
        "# TEST FIXTURE, NOT A REAL NOTICE\n" + body + "\n", encoding="utf-8"
    )


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """This year covered by a (hypothetical) policy auditing this year's applications:
    no audit window includes this year, so the shortfall is this year's target."""
    shutil.copytree(search_index, tmp_path / "search")
    write_policy(tmp_path / "policies", "test-this-year", THIS_YEAR)
    return embedded_settings(tmp_path, policy_dir=tmp_path / "policies")


async def recommendations(
    client: httpx.AsyncClient,
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
    **params: Any,
) -> dict[str, Any]:
    response = await client.get(
        f"/learners/{learner_id}/recommendations", params=params, headers=auth
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def hours_of(items: list[dict[str, Any]], category: str) -> float:
    return sum(i["hours"] for i in items if i["category"] == category)


async def test_short_of_public_hours_public_courses_come_first(
    client: httpx.AsyncClient,
) -> None:
    """A learner with nothing this year: 30 public hours short, 90 in all. Public courses
    first, enough to close the public gap; then professional courses of the learner's
    series (工程) for the rest of the 90."""
    await register(client)
    found = await recommendations(client)
    short = found["shortfall"]
    assert short["basis"] == "year"
    assert (short["year"], short["total"], short["public"], short["professional"]) == (
        THIS_YEAR, 90.0, 30.0, 60.0,
    )  # fmt: skip
    assert short["policy"] == "test-this-year"
    assert f"includes {THIS_YEAR}" in short["note"]  # no audit window includes this year
    items = found["items"]
    categories = [i["category"] for i in items]
    first_professional = categories.index("professional")
    assert set(categories[:first_professional]) == {"public"}
    assert set(categories[first_professional:]) == {"professional"}
    public = [i for i in items if i["category"] == "public"]
    assert hours_of(items, "public") >= 30.0
    assert hours_of(public[:-1], "public") < 30.0  # enough, not more
    professional = [i for i in items if i["category"] == "professional"]
    assert {i["series"] for i in professional} == {"工程"}
    assert hours_of(items, "public") + hours_of(items, "professional") >= 90.0
    assert found["hours"] == pytest.approx(sum(i["hours"] for i in items))
    assert all(i["series"] is None for i in public)
    assert all(i["reason"] and "None" not in i["reason"] for i in items)
    assert "公需课还差 30 学时" in public[0]["reason"]
    assert "工程系列专业课" in professional[0]["reason"]


async def test_short_of_professional_hours_only_gets_professional_courses(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await entry(client, manual(TODAY, "public", 30))
    found = await recommendations(client)
    assert (found["shortfall"]["public"], found["shortfall"]["total"]) == (0.0, 60.0)
    assert found["shortfall"]["professional"] == 60.0
    items = found["items"]
    assert items and {i["category"] for i in items} == {"professional"}
    assert {i["series"] for i in items} == {"工程"}
    assert 60.0 <= hours_of(items, "professional") < 60.0 + max(i["hours"] for i in items)


async def test_a_learner_who_passes_gets_an_empty_list_and_is_told(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await entry(client, manual(TODAY, "public", 30))
    await entry(client, manual(TODAY, "professional", 60))
    found = await recommendations(client)
    assert found["items"] == []
    assert (found["shortfall"]["total"], found["shortfall"]["public"]) == (0.0, 0.0)
    assert "已达到要求" in found["message"]


async def test_completed_courses_never_show_and_popular_ones_rank_first(
    client: httpx.AsyncClient,
) -> None:
    """The courses at the top of the list, once completed, leave it (their hours also
    shrink the gap); a course other learners completed ranks before the others; a
    completion voided makes the course recommendable again."""
    await register(client)
    await register(client, "wangfang", "王芳", "125", series="会计")
    first = await recommendations(client)
    top = [i["code"] for i in first["items"][:2]]
    ids = await send(client, *[completion(await activity(client, code)) for code in top])
    found = await recommendations(client)
    codes = [i["code"] for i in found["items"]]
    assert not set(top) & set(codes)
    assert found["shortfall"]["public"] < 30.0

    # A public course low in the list, completed by another learner, comes first.
    low = first["items"][5]["code"]
    await send(client, completion(await activity(client, low), "wangfang", name="王芳"))
    found = await recommendations(client)
    assert found["items"][0]["code"] == low
    assert "1 人已完成" in found["items"][0]["reason"]

    # Voiding the learner's own completion of a course makes it recommendable again.
    await send(client, voiding_of(ids[0]))
    codes = [i["code"] for i in (await recommendations(client))["items"]]
    assert top[0] in codes
    assert top[1] not in codes


async def test_a_course_in_progress_is_offered_first_with_its_progress(
    client: httpx.AsyncClient,
) -> None:
    """Our reading: a course started is not completed; finishing it is the shortest way."""
    await register(client)
    first = await recommendations(client)
    started = first["items"][3]["code"]
    statement = completion(
        await activity(client, started),
        verb="http://adlnet.gov/expapi/verbs/progressed",
        result={"extensions": {"https://w3id.org/xapi/cmi5/result/extensions/progress": 40}},
    )
    await send(client, statement)
    found = await recommendations(client)
    assert found["items"][0]["code"] == started
    assert "进度 40%" in found["items"][0]["reason"]


async def test_a_year_whose_window_excludes_this_year_falls_back_to_the_year_target(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    found = await recommendations(client, level="intermediate", year=2022)
    assert found["shortfall"]["basis"] == "year"
    assert "does not include" in found["shortfall"]["note"]
    response = await client.get(
        "/learners/zhangwei/recommendations", params={"year": 1999}, headers=ADMIN
    )
    assert response.status_code == 422
    assert "1999" in response.text


async def test_access_own_client_auditor_admin_not_another_learner(
    client: httpx.AsyncClient, bound_client: MakeBound, auditor: dict[str, str]
) -> None:
    await register(client)
    await register(client, "wangfang", "王芳", "125", series="会计")
    own = await bound_client("zhangwei")
    other = await bound_client("wangfang")
    assert (await recommendations(client, auth=own))["learner_id"] == "zhangwei"
    assert (await recommendations(client, auth=auditor))["items"]
    response = await client.get("/learners/zhangwei/recommendations", headers=other)
    assert response.status_code == 403
    assert (await client.get("/learners/zhangwei/recommendations")).status_code == 401
    missing = await client.get("/learners/nobody/recommendations", headers=ADMIN)
    assert missing.status_code == 404


class TestAuditBasis:
    """With a policy whose audit window includes this year (applications of next year),
    the shortfall is that audit's."""

    @pytest.fixture
    def settings(self, tmp_path: Path, search_index: Path) -> Settings:
        shutil.copytree(search_index, tmp_path / "search")
        write_policy(tmp_path / "policies", "test-this-year", THIS_YEAR)
        write_policy(tmp_path / "policies", "test-next-year", THIS_YEAR + 1)
        return embedded_settings(tmp_path, policy_dir=tmp_path / "policies")

    async def test_the_audit_whose_window_includes_this_year(
        self, client: httpx.AsyncClient
    ) -> None:
        await register(client)  # junior: the next level is intermediate
        await entry(client, manual(TODAY, "public", 20))
        found = await recommendations(client)
        short = found["shortfall"]
        assert short["basis"] == "audit"
        assert (short["policy"], short["level"], short["year"]) == (
            "test-next-year", "intermediate", THIS_YEAR + 1,
        )  # fmt: skip
        assert short["window"] == {"from": THIS_YEAR - 3, "to": THIS_YEAR}
        assert (short["total"], short["public"], short["professional"]) == (340.0, 100.0, 240.0)
        assert hours_of(found["items"], "public") >= 100.0 or len(found["items"]) == 50
        deputy = await recommendations(client, level="deputy_senior")
        assert deputy["shortfall"]["total"] == 430.0


async def test_a_retired_course_is_no_longer_recommended(client: httpx.AsyncClient) -> None:
    await register(client)
    first = await recommendations(client)
    top = first["items"][0]["code"]
    retired = await client.delete(f"/courses/{top}", headers=ADMIN)
    assert retired.status_code == 200, retired.text
    assert top not in [i["code"] for i in (await recommendations(client))["items"]]
    restored = await client.post(f"/courses/{top}/restore", headers=ADMIN)
    assert restored.status_code == 200, restored.text
    assert (await recommendations(client))["items"][0]["code"] == top
