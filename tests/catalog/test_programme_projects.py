"""Programme projects (§二): the nine industries, hours, dates, places, and the base's
standing on the first day (§三)."""

from __future__ import annotations

import httpx
import pytest

from tests.catalog.programme_support import (
    ENGINEERING_BASE,
    REVOKED_BASE,
    TEACHERS_BASE,
    base_id,
    create_project,
    engineering_project,
    new_base,
    project_body,
)
from tests.conftest import ADMIN
from tests.credits.conftest import auditor

__all__ = ["auditor"]


async def test_a_key_industry_project_is_created_and_read_back(client: httpx.AsyncClient) -> None:
    created = await engineering_project(client)
    assert created["title"] == "枸杞产业高质量发展高级研修班"
    assert created["clause"] == "§二(三)"
    assert (created["enrolled"], created["completed"], created["available"]) == (0, 0, 40)
    assert created["base"]["name"] == ENGINEERING_BASE
    one = await client.get(f"/programme/projects/{created['id']}", headers=ADMIN)
    assert one.status_code == 200
    assert one.json()["industry"] == "枸杞"


@pytest.mark.parametrize(
    "industry",
    [
        "枸杞",
        "葡萄酒",
        "奶产业",
        "肉牛和滩羊",
        "电子信息",
        "新型材料",
        "绿色食品",
        "清洁能源",
        "文化旅游",
    ],
)
async def test_each_of_the_nine_industries_is_accepted_s2_3(
    client: httpx.AsyncClient, industry: str
) -> None:
    created = await engineering_project(
        client, industry=industry, title=f"{industry}产业专业技术人才培训班"
    )
    assert created["industry"] == industry


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"industry": None}, "industry is required"),
        ({"industry": "煤化工"}, "one of the nine"),
        ({"industry": "枸杞 "}, None),  # NFC and stripped: accepted, see below
        ({"kind": "advanced_seminar"}, "only for key_industry"),
        ({"hours": 0}, "greater than 0"),
        ({"hours": 12.3}, "multiple of 0.5"),
        ({"hours": 400.5}, "at most 400"),
        ({"hours": "32"}, "valid number"),
        ({"capacity": 0}, "greater than or equal to 1"),
        ({"capacity": 1001}, "less than or equal to 1000"),
        ({"ends_on": "2022-05-08"}, "must not be before starts_on"),
        ({"starts_on": "2023-01-05", "ends_on": "2023-01-08"}, "in the project's year 2022"),
        ({"starts_on": "2022/05/09"}, "YYYY-MM-DD"),
        ({"title": " "}, "blank"),
        ({"surprise": 1}, "unknown field"),
    ],
)
async def test_a_project_breaking_a_rule_is_refused_naming_it(
    client: httpx.AsyncClient, changes: dict[str, object], field: str | None
) -> None:
    base = await base_id(client, ENGINEERING_BASE)
    body = project_body(base, **changes)
    response = await client.post("/programme/projects", json=body, headers=ADMIN)
    if field is None:
        assert response.status_code == 201, response.text
        assert response.json()["industry"] == "枸杞"
        return
    assert response.status_code == 422, response.text
    assert field in response.text


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"industry": None}, "industry", "null"),
        ({"industry": "煤化工"}, "industry", "'煤化工'"),
        ({"kind": "advanced_seminar"}, "industry", "'枸杞'"),
        ({"ends_on": "2022-05-08"}, "ends_on", "'2022-05-08'"),
        ({"starts_on": "2023-01-05", "ends_on": "2023-01-08"}, "year", "2022"),
    ],
    ids=["no-industry", "wrong-industry", "industry-on-another-kind", "ends-first", "year"],
)
async def test_a_rule_across_fields_names_the_field_and_its_value(
    client: httpx.AsyncClient, changes: dict[str, object], field: str, value: str
) -> None:
    body = project_body(await base_id(client, ENGINEERING_BASE), **changes)
    response = await client.post("/programme/projects", json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == (field, value)


async def test_a_project_back_dated_to_before_a_revocation_is_409(
    client: httpx.AsyncClient,
) -> None:
    """The base certified 2020-03-01, revoked since 2022-04-30: a project created today
    that starts 2022-03-01 (when the base was certified) is refused, the base naming its
    status and since when (§三, our reading: in good standing today too)."""
    base = await new_base(client)
    change = {"status": "revoked", "reason": "长期未开展继续教育活动", "effective_on": "2022-04-30"}
    revoked = await client.post(f"/bases/{base}/status", json=change, headers=ADMIN)
    assert revoked.status_code == 200, revoked.text
    body = project_body(base, starts_on="2022-03-01", ends_on="2022-03-04")
    response = await client.post("/programme/projects", json=body, headers=ADMIN)
    assert response.status_code == 409, response.text
    problem = response.json()
    assert (problem["base_status"], problem["since"]) == ("revoked", "2022-04-30")
    assert "revoked since 2022-04-30" in problem["detail"]
    listed = await client.get("/programme/projects", params={"base_id": base}, headers=ADMIN)
    assert listed.json() == []


async def test_other_kinds_name_their_field_not_an_industry(client: httpx.AsyncClient) -> None:
    created = await engineering_project(
        client,
        kind="urgent_skills",
        industry=None,
        field="装备制造",
        title="装备制造领域急需紧缺人才培训班",
    )
    assert (created["kind"], created["field"], created["clause"]) == (
        "urgent_skills",
        "装备制造",
        "§二(二)",
    )


async def test_an_unknown_base_is_404_naming_it(client: httpx.AsyncClient) -> None:
    body = project_body("0123456789abcdef01234567")
    response = await client.post("/programme/projects", json=body, headers=ADMIN)
    assert response.status_code == 404
    assert "0123456789abcdef01234567" in response.json()["detail"]


async def test_a_revoked_base_runs_no_project_s3(client: httpx.AsyncClient) -> None:
    body = project_body(await base_id(client, REVOKED_BASE))
    response = await client.post("/programme/projects", json=body, headers=ADMIN)
    assert response.status_code == 409
    detail = response.json()["detail"]
    # revoked on 2021-09-30, the project starts 2022-05-09
    assert REVOKED_BASE in detail and "revoked since 2021-09-30" in detail and "§三" in detail


async def test_a_base_not_yet_certified_on_the_first_day_runs_no_project(
    client: httpx.AsyncClient,
) -> None:
    base = await new_base(client, effective_on="2022-06-01")
    body = project_body(base)  # starts 2022-05-09, before the certification
    response = await client.post("/programme/projects", json=body, headers=ADMIN)
    assert response.status_code == 409
    assert "not yet certified" in response.json()["detail"]


async def test_creating_projects_needs_an_admin(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    body = project_body(await base_id(client, ENGINEERING_BASE))
    assert (await client.post("/programme/projects", json=body)).status_code == 401
    assert (await client.post("/programme/projects", json=body, headers=auditor)).status_code == 403


async def test_lists_filter_and_mark_commended_bases_s3(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    engineering = await engineering_project(client)
    teachers = await create_project(
        client,
        await base_id(client, TEACHERS_BASE),
        kind="advanced_seminar",
        industry=None,
        field="教育数字化",
        title="教育数字化转型高级研修班",
        starts_on="2022-06-06",  # after the goji seminar's start: listed second
        ends_on="2022-06-10",
    )
    everything = (await client.get("/programme/projects", headers=auditor)).json()
    assert [p["id"] for p in everything] == [engineering["id"], teachers["id"]]
    marked = {p["title"]: p["base_commended"] for p in everything}
    assert marked == {"枸杞产业高质量发展高级研修班": False, "教育数字化转型高级研修班": True}
    assert everything[1]["base"]["status"] == "commended"
    seminars = await client.get(
        "/programme/projects", params={"kind": "advanced_seminar"}, headers=ADMIN
    )
    assert [p["id"] for p in seminars.json()] == [teachers["id"]]
    goji = await client.get("/programme/projects", params={"industry": "枸杞"}, headers=ADMIN)
    assert [p["id"] for p in goji.json()] == [engineering["id"]]
    none = await client.get("/programme/projects", params={"year": 2021}, headers=ADMIN)
    assert none.json() == []


async def test_lists_need_credentials(client: httpx.AsyncClient) -> None:
    assert (await client.get("/programme/projects")).status_code == 401


async def test_an_unknown_project_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/programme/projects/nope", headers=ADMIN)
    assert response.status_code == 404
    assert "'nope'" in response.json()["detail"]
