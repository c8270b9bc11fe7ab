"""The plan of §二 (policy data) beside its live actuals, as JSON, CSV and XLSX."""

from __future__ import annotations

import csv
import io

import httpx
from openpyxl import load_workbook

from tests.catalog.programme_support import (
    MEDICAL_BASE,
    base_id,
    create_project,
    engineering_project,
    enrol,
    learner,
    result,
)
from tests.conftest import ADMIN
from tests.credits.conftest import MakeBound, auditor, bound_client

__all__ = ["auditor", "bound_client"]


async def _programme(client: httpx.AsyncClient) -> None:
    """Two key-industry projects (40 + 30 places), one grassroots TCM class (50 places);
    three enrolled in the first, one of them passed and one failed."""
    goji = await engineering_project(client)
    await engineering_project(
        client, title="葡萄酒酿造技术高级研修班", industry="葡萄酒", capacity=30
    )
    await create_project(
        client,
        await base_id(client, MEDICAL_BASE),
        kind="tcm_grassroots",
        industry=None,
        title="基层中医药适宜技术推广培训班",
        capacity=50,
    )
    learners = [await learner(client, n) for n in (90, 91, 92)]
    for learner_id in learners:
        assert (await enrol(client, goji["id"], learner_id)).status_code == 201
    assert (await result(client, goji["id"], learners[0])).status_code == 201
    assert (await result(client, goji["id"], learners[1], passed=False)).status_code == 201


async def test_the_2022_plan_shows_the_notices_figures_and_the_actuals_s2(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await _programme(client)
    response = await client.get("/programme/plan", params={"year": 2022}, headers=auditor)
    assert response.status_code == 200, response.text
    plan = response.json()
    assert plan["year"] == 2022 and plan["document"] == "宁人社发〔2022〕23号"
    rows = {
        k["kind"]: (
            k["clause"],
            k["planned_periods"],
            k["planned_people"],
            k["projects"],
            k["capacity"],
            k["enrolled"],
            k["completed"],
        )
        for k in plan["kinds"]
    }
    assert rows == {
        "advanced_seminar": ("§二(一)", 25, 1500, 0, 0, 0, 0),
        "urgent_skills": ("§二(二)", 40, 4000, 0, 0, 0, 0),
        "key_industry": ("§二(三)", 30, 2000, 2, 70, 3, 1),  # 40 + 30 places; 1 pass of 3
        "tcm_grassroots": ("§二(四)", None, 600, 1, 50, 0, 0),
    }


async def test_a_year_without_a_plan_shows_actuals_only(client: httpx.AsyncClient) -> None:
    plan = (await client.get("/programme/plan", params={"year": 2030}, headers=ADMIN)).json()
    assert plan["document"] is None
    assert all(k["planned_people"] is None and k["projects"] == 0 for k in plan["kinds"])


async def test_the_plan_as_csv_and_xlsx(client: httpx.AsyncClient) -> None:
    await _programme(client)
    as_csv = await client.get(
        "/programme/plan", params={"year": 2022, "format": "csv"}, headers=ADMIN
    )
    assert as_csv.status_code == 200
    assert as_csv.headers["content-type"].startswith("text/csv")
    text = as_csv.content.decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["类别", "项目", "依据条款"]
    assert rows[3] == [
        "key_industry",
        "九大重点产业专业技术人才培训",
        "§二(三)",
        "30",
        "2000",
        "2",
        "70",
        "3",
        "1",
    ]
    assert rows[4][3] == ""  # tcm_grassroots: the notice gives no number of periods
    as_xlsx = await client.get(
        "/programme/plan", params={"year": 2022, "format": "xlsx"}, headers=ADMIN
    )
    assert as_xlsx.status_code == 200
    sheet = load_workbook(io.BytesIO(as_xlsx.content)).active
    assert sheet.title == "2022年计划"
    assert [c.value for c in sheet[4]] == [
        "key_industry", "九大重点产业专业技术人才培训", "§二(三)", 30, 2000, 2, 70, 3, 1
    ]  # fmt: skip


async def test_the_plan_is_for_admins_and_auditors(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    assert (await client.get("/programme/plan", params={"year": 2022})).status_code == 401
    learner_app = await bound_client("zhangwei")
    refused = await client.get("/programme/plan", params={"year": 2022}, headers=learner_app)
    assert refused.status_code == 403


async def test_the_plan_refuses_bad_queries(client: httpx.AsyncClient) -> None:
    for params in ({}, {"year": "二〇二二"}, {"year": 1999}, {"year": 2022, "format": "pdf"}):
        response = await client.get("/programme/plan", params=params, headers=ADMIN)
        assert response.status_code == 422, params
