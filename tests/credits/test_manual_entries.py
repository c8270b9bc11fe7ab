"""§一(三) manual entries with conversions: study tours, teaching, exam substitutions,
degrees, qualifications, training at a base, and other recognised routes — each entry
converted by the policy in force on its date, citing its clause, recorded with who and
when; bad input is a 422 that names the field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests.conftest import ADMIN
from tests.credits.conftest import (
    ENGINEERING_BASE,
    REVOKED_BASE,
    TEACHERS_BASE,
    MakeBound,
    add_entry,
    base_id,
    detail,
    entry,
    ledger,
    manual,
    register,
    register_li,
)


def recorded_just_now(found: dict[str, Any]) -> bool:
    at = datetime.fromisoformat(found["recorded_at"].replace("Z", "+00:00")).astimezone(UTC)
    return datetime.now(UTC) - timedelta(minutes=1) <= at <= datetime.now(UTC)


async def test_study_tour_days_times_six_professional_hours_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1: 国内外考察 — actual days (travel excluded) × 6 = professional hours:
    5 days in Shenzhen → 30 hours, in the year of the tour, with its evidence."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "study_tour",
            "date": "2019-08-10",
            "days": 5,
            "description": "赴深圳考察装配式建筑技术（往返路程2天不计）",
            "evidence": "宁建发〔2019〕56号考察通知",
        },
    )
    assert (found["category"], found["hours"], found["year"]) == ("professional", 30.0, 2019)
    assert (found["kind"], found["source_kind"], found["source_ref"]) == (
        "study_tour",
        "manual",
        found["id"],
    )
    assert found["clause"] == "§一(三)1" and found["policy_id"] == "ningxia-2022"
    assert found["source"]["days"] == 5
    assert found["source"]["evidence"] == "宁建发〔2019〕56号考察通知"
    assert "深圳" in found["source"]["description"]
    assert found["status"] == "counted"
    assert found["recorded_by"] == "admin" and recorded_just_now(found)
    assert await ledger(client) == [found]


async def test_auditor_records_an_entry_under_its_own_name_s1_3(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(三), roles: an auditor may record conversions; the entry says who."""
    await register(client)
    found = await entry(
        client, {"kind": "study_tour", "date": "2020-09-01", "days": 3}, auth=auditor
    )
    assert (found["hours"], found["recorded_by"]) == (18.0, "pingshen")


async def test_teaching_hours_times_three_professional_s1_3_1(client: httpx.AsyncClient) -> None:
    """§一(三)1: 对2022年担任继续教育培训师资的 — 1 hour taught = 3 hours: 12.5 taught in
    2022 → 37.5."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "teaching",
            "date": "2022-11-20",
            "hours_taught": 12.5,
            "evidence": "宁夏工程技术人员继续教育基地授课证明",
        },
    )
    assert (found["category"], found["hours"], found["clause"]) == (
        "professional",
        37.5,
        "§一(三)1",
    )


async def test_teaching_is_refused_for_the_weisheng_series_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1: 继续医学教育等有另行规定的，按原规定执行 — a 卫生 learner's teaching is not
    converted here: 422 naming the clause and the 卫生 rule, nothing written."""
    await register_li(client)
    response = await add_entry(
        client, {"kind": "teaching", "date": "2022-05-10", "hours_taught": 8}, "lixiuying"
    )
    assert response.status_code == 422
    message = detail(response)
    assert "kind" in message and "卫生" in message and "§一(三)1" in message
    assert "继续医学教育" in message
    assert await ledger(client, "lixiuying") == []


async def test_foreign_language_exam_replaces_forty_public_hours_s1_3_2(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)2: a passed title foreign-language exam replaces 40 public hours, valid
    through the end of 2022 (此项政策截止2022年年底)."""
    await register(client)
    found = await entry(
        client, {"kind": "foreign_language_exam", "date": "2020-04-18", "evidence": "职称英语B级"}
    )
    assert (found["category"], found["hours"], found["clause"]) == ("public", 40.0, "§一(三)2")
    assert found["valid_through"] == "2022-12-31"


async def test_computer_exam_modules_replace_ten_public_hours_each_s1_3_2(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)2: each passed module of the national computer application exam replaces
    10 public hours: 3 modules → 30."""
    await register(client)
    found = await entry(
        client, {"kind": "computer_exam_module", "date": "2019-06-22", "modules": 3}
    )
    assert (found["category"], found["hours"], found["clause"]) == ("public", 30.0, "§一(三)2")
    assert found["valid_through"] == "2022-12-31"


@pytest.mark.parametrize(
    ("body", "hours"),
    [
        ({"kind": "foreign_language_exam", "date": "2023-01-05"}, 40.0),
        ({"kind": "computer_exam_module", "date": "2023-03-18", "modules": 2}, 20.0),
    ],
    ids=["foreign-language", "computer"],
)
async def test_exam_passed_after_2022_is_recorded_with_its_end_date_s1_3_2(
    client: httpx.AsyncClient, body: dict[str, Any], hours: float
) -> None:
    """§一(三)2: 此项政策截止2022年年底，以后不再执行 — an exam passed in 2023 is recorded
    (never a 422 for the date of a pass), with valid_through 2022-12-31 before its date:
    the audit says the substitution expired."""
    await register(client)
    found = await entry(client, body)
    assert (found["hours"], found["status"], found["policy_id"]) == (
        hours,
        "counted",
        "ningxia-2022",
    )
    assert found["valid_through"] == "2022-12-31" < found["occurred_on"]


async def test_degree_entry_records_enrolment_and_graduation_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1: a degree is recorded in the year of graduation; inside a window it meets
    the window (hours 0: only the diploma is needed)."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "degree",
            "enrolled_on": "2018-09-01",
            "graduated_on": "2021-06-30",
            "evidence": "宁夏大学工程硕士学位证书",
        },
    )
    assert (found["year"], found["hours"], found["meets"], found["clause"]) == (
        2021,
        0.0,
        "window",
        "§一(三)1",
    )
    assert (found["source"]["enrolled_on"], found["source"]["graduated_on"]) == (
        "2018-09-01",
        "2021-06-30",
    )


async def test_degree_across_the_window_carries_the_certified_hours_s1_3_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)1: 跨审验期入学并毕业的，具体学时需由院校提供学时证明 — the certified hours."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "degree",
            "enrolled_on": "2016-09-01",
            "graduated_on": "2019-06-30",
            "certified_hours": 300,
        },
    )
    assert (found["year"], found["hours"], found["category"]) == (2019, 300.0, "professional")


async def test_qualification_after_the_intermediate_title_is_recorded_s1_3_3(
    client: httpx.AsyncClient,
) -> None:
    """§一(三)3: 已取得中级职称后考取职业资格 — recorded as meeting the professional part."""
    await register(client, title_level="intermediate", title_obtained_on="2018-12-01")
    found = await entry(
        client, {"kind": "qualification", "date": "2020-05-20", "name": "一级注册建造师"}
    )
    assert (found["meets"], found["hours"], found["clause"]) == ("professional", 0.0, "§一(三)3")
    assert found["source"]["name"] == "一级注册建造师"


async def test_training_at_a_certified_base_counts_its_hours_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一) 培训班、研修班, §三 bases: hours a continuing-education base certifies count as
    professional hours; the entry names the base."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "training",
            "date": "2019-05-10",
            "hours": 48,
            "base_id": await base_id(client, ENGINEERING_BASE),
            "description": "BIM技术应用研修班",
        },
    )
    assert (found["category"], found["hours"], found["clause"]) == ("professional", 48.0, "§一(一)")
    assert found["source"]["base"] == ENGINEERING_BASE


async def test_training_at_a_commended_base_counts_s1_1(client: httpx.AsyncClient) -> None:
    """§三: a commended base (通报表扬) is in good standing."""
    await register(client)
    found = await entry(
        client,
        {
            "kind": "training",
            "date": "2022-01-10",
            "hours": 24,
            "base_id": await base_id(client, TEACHERS_BASE),
        },
    )
    assert found["hours"] == 24.0


async def test_training_at_a_base_revoked_on_that_date_is_refused_s3(
    client: httpx.AsyncClient,
) -> None:
    """§三 取消基地资格: 石嘴山市工程技术培训中心 lost its status on 2021-09-30 — training it
    certified after that is refused (422 on base_id); before that it counts."""
    await register(client)
    revoked = await base_id(client, REVOKED_BASE)
    after = await add_entry(
        client, {"kind": "training", "date": "2021-10-15", "hours": 32, "base_id": revoked}
    )
    assert after.status_code == 422
    assert "base_id" in detail(after) and "revoked" in detail(after)
    assert REVOKED_BASE in detail(after)
    on_the_day = await add_entry(
        client, {"kind": "training", "date": "2021-09-30", "hours": 32, "base_id": revoked}
    )
    assert on_the_day.status_code == 422
    before = await entry(
        client, {"kind": "training", "date": "2021-09-29", "hours": 32, "base_id": revoked}
    )
    assert before["hours"] == 32.0
    assert [e["id"] for e in await ledger(client)] == [before["id"]]


async def test_training_before_the_base_was_certified_is_refused_s3(
    client: httpx.AsyncClient,
) -> None:
    """§三: 宁夏工程技术人员继续教育基地 was certified on 2018-04-20; it could not certify
    training in January 2018."""
    await register(client)
    response = await add_entry(
        client,
        {
            "kind": "training",
            "date": "2018-01-10",
            "hours": 16,
            "base_id": await base_id(client, ENGINEERING_BASE),
        },
    )
    assert response.status_code == 422
    assert "base_id" in detail(response) and "not yet certified" in detail(response)


async def test_training_at_an_unknown_base_is_refused(client: httpx.AsyncClient) -> None:
    """§三: only continuing-education bases certify training."""
    await register(client)
    response = await add_entry(
        client,
        {
            "kind": "training",
            "date": "2020-01-10",
            "hours": 16,
            "base_id": "0123456789abcdef01234567",
        },
    )
    assert response.status_code == 422 and "base_id" in detail(response)


async def test_manual_entry_any_category_with_a_basis_by_an_admin_s1_1(
    client: httpx.AsyncClient,
) -> None:
    """§一(一) 行业主管部门规定的其他方式途径: an admin records hours of either category with
    a written basis."""
    await register(client)
    public = await entry(client, manual("2020-03-01", "public", 20, "自治区人社厅线下公需课"))
    professional = await entry(client, manual("2020-07-01", "professional", 15.5))
    assert (public["category"], public["hours"], public["clause"]) == ("public", 20.0, "§一(一)")
    assert public["source"]["basis"] == "自治区人社厅线下公需课"
    assert (professional["category"], professional["hours"]) == ("professional", 15.5)


async def test_manual_entries_are_for_admins_only(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    """Roles: kind `manual` is for admins — an auditor-only client gets 403 (it may record
    the conversions); the learner's app may record nothing; without credentials 401."""
    await register(client)
    body = manual("2020-03-01", "public", 20)
    assert (await add_entry(client, body, auth=auditor)).status_code == 403
    assert (await add_entry(client, body, auth=await bound_client("zhangwei"))).status_code == 403
    assert (await client.post("/learners/zhangwei/credits", json=body)).status_code == 401
    assert await ledger(client) == []


async def test_entry_for_an_unknown_learner_is_404_s1_3(client: httpx.AsyncClient) -> None:
    """§一(三): entries are recorded for registered learners only."""
    response = await add_entry(client, manual("2020-03-01", "public", 20), "nobody")
    assert response.status_code == 404


async def test_entries_list_by_year(client: httpx.AsyncClient) -> None:
    """Ledger: GET /learners/{id}/credits?year= answers one year's entries."""
    await register(client)
    tour = await entry(client, {"kind": "study_tour", "date": "2019-08-10", "days": 2})
    taught = await entry(client, {"kind": "teaching", "date": "2020-11-20", "hours_taught": 4})
    assert [e["id"] for e in await ledger(client)] == [tour["id"], taught["id"]]
    assert [e["id"] for e in await ledger(client, year=2020)] == [taught["id"]]
    assert await ledger(client, year=2018) == []
    bad = await client.get("/learners/zhangwei/credits", params={"year": "今年"}, headers=ADMIN)
    assert bad.status_code == 422 and "year" in detail(bad)
