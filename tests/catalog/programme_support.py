"""Helpers of the programme tests (§二): bases, projects with real titles, learners,
enrolments and results through the API as an admin."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.credits.conftest import base_id, register

ENGINEERING_BASE = "宁夏工程技术人员继续教育基地"  # certified 2018-04-20
REVOKED_BASE = "石嘴山市工程技术培训中心"  # certified 2017-06-01, revoked 2021-09-30
TEACHERS_BASE = "宁夏教师发展与培训中心"  # certified 2016-09-01, commended 2021-12-20
MEDICAL_BASE = "宁夏医学继续教育培训中心"  # certified 2017-05-10

NEW_BASE: dict[str, Any] = {
    "name": "银川市枸杞产业人才培训基地",
    "level": "municipal",
    "reason": "银川市级继续教育基地认定",
    "effective_on": "2020-03-01",
}


def project_body(base: str, **overrides: Any) -> dict[str, Any]:
    """A 2022 key-industry seminar on goji (枸杞), 32 hours over four days, 40 places."""
    body: dict[str, Any] = {
        "year": 2022,
        "kind": "key_industry",
        "title": "枸杞产业高质量发展高级研修班",
        "base_id": base,
        "hours": 32.0,
        "starts_on": "2022-05-09",
        "ends_on": "2022-05-12",
        "capacity": 40,
        "industry": "枸杞",
    }
    body.update(overrides)
    return body


async def new_base(client: httpx.AsyncClient, **overrides: Any) -> str:
    response = await client.post("/bases", json={**NEW_BASE, **overrides}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def create_project(client: httpx.AsyncClient, base: str, **overrides: Any) -> dict[str, Any]:
    response = await client.post(
        "/programme/projects", json=project_body(base, **overrides), headers=ADMIN
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


async def engineering_project(client: httpx.AsyncClient, **overrides: Any) -> dict[str, Any]:
    return await create_project(client, await base_id(client, ENGINEERING_BASE), **overrides)


async def enrol(
    client: httpx.AsyncClient, project_id: str, learner_id: str, auth: dict[str, str] = ADMIN
) -> httpx.Response:
    return await client.post(
        f"/programme/projects/{project_id}/enrolments",
        json={"learner_id": learner_id},
        headers=auth,
    )


SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("建国", "秀英", "志强", "丽娟", "海燕", "伟", "静", "明")


async def learner(client: httpx.AsyncClient, n: int, **overrides: Any) -> str:
    """Registers learner number `n` (0-159: a valid id number, the engineering series);
    answers their id."""
    learner_id = f"learner{n:03d}"
    name = SURNAMES[n % len(SURNAMES)] + GIVEN[n // len(SURNAMES) % len(GIVEN)]
    await register(client, learner_id, name, f"{n + 200:03d}", **overrides)
    return learner_id


async def result(
    client: httpx.AsyncClient,
    project_id: str,
    learner_id: str,
    auth: dict[str, str] = ADMIN,
    **overrides: Any,
) -> httpx.Response:
    body: dict[str, Any] = {"learner_id": learner_id, "passed": True, "assessed_on": "2022-05-12"}
    body.update(overrides)
    return await client.post(f"/programme/projects/{project_id}/results", json=body, headers=auth)


__all__ = ["base_id", "register"]
