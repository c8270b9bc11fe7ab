"""Programme rosters: places, unknown learners, the 卫生 series of §二(四), withdrawals,
and no over-filling under concurrent requests."""

from __future__ import annotations

import asyncio

import httpx

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


async def test_an_enrolment_is_201_and_counted(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client)
    learner_id = await learner(client, 1)
    response = await enrol(client, project["id"], learner_id)
    assert response.status_code == 201, response.text
    assert response.json()["learner_id"] == learner_id
    found = (await client.get(f"/programme/projects/{project['id']}", headers=ADMIN)).json()
    assert (found["enrolled"], found["available"]) == (1, 39)  # 40 places, one taken


async def test_an_unknown_learner_is_404(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client)
    response = await enrol(client, project["id"], "nobody-here")
    assert response.status_code == 404
    assert "'nobody-here'" in response.json()["detail"]


async def test_a_second_enrolment_of_the_same_learner_is_409(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client)
    learner_id = await learner(client, 2)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    again = await enrol(client, project["id"], learner_id)
    assert again.status_code == 409
    assert "already" in again.json()["detail"]
    found = (await client.get(f"/programme/projects/{project['id']}", headers=ADMIN)).json()
    assert found["enrolled"] == 1


async def test_a_full_project_is_409(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client, capacity=1)
    first, second = await learner(client, 3), await learner(client, 4)
    assert (await enrol(client, project["id"], first)).status_code == 201
    full = await enrol(client, project["id"], second)
    assert full.status_code == 409
    assert "full" in full.json()["detail"]


async def test_twenty_concurrent_requests_for_the_last_place_fill_it_once(
    client: httpx.AsyncClient,
) -> None:
    project = await engineering_project(client, capacity=3)
    learners = [await learner(client, n) for n in range(10, 32)]  # 22 learners
    for early in learners[:2]:
        assert (await enrol(client, project["id"], early)).status_code == 201
    answers = await asyncio.gather(*(enrol(client, project["id"], x) for x in learners[2:]))
    statuses = sorted(a.status_code for a in answers)
    assert statuses == [201] + [409] * 19
    roster_size = 3  # two before, one of the twenty
    found = (await client.get(f"/programme/projects/{project['id']}", headers=ADMIN)).json()
    assert found["enrolled"] == roster_size
    plan = (await client.get("/programme/plan", params={"year": 2022}, headers=ADMIN)).json()
    key_industry = next(k for k in plan["kinds"] if k["kind"] == "key_industry")
    assert (key_industry["enrolled"], key_industry["capacity"]) == (roster_size, 3)


async def test_concurrent_enrolments_of_one_learner_take_one_place(
    client: httpx.AsyncClient,
) -> None:
    project = await engineering_project(client, capacity=5)
    learner_id = await learner(client, 40)
    answers = await asyncio.gather(*(enrol(client, project["id"], learner_id) for _ in range(8)))
    assert sorted(a.status_code for a in answers) == [201] + [409] * 7
    found = (await client.get(f"/programme/projects/{project['id']}", headers=ADMIN)).json()
    assert found["enrolled"] == 1


async def test_grassroots_tcm_enrols_health_series_learners_only_s2_4(
    client: httpx.AsyncClient,
) -> None:
    project = await create_project(
        client,
        await base_id(client, MEDICAL_BASE),
        kind="tcm_grassroots",
        industry=None,
        field="中医适宜技术",
        title="基层中医药适宜技术推广培训班",
        hours=40.0,
    )
    doctor = await learner(client, 50, series="卫生", employer="固原市原州区人民医院")
    engineer = await learner(client, 51)
    assert (await enrol(client, project["id"], doctor)).status_code == 201
    refused = await enrol(client, project["id"], engineer)
    assert refused.status_code == 422
    detail = refused.json()["detail"]
    assert "'工程'" in detail and "卫生" in detail and "§二(四)" in detail


async def test_a_withdrawal_gives_the_place_back(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client, capacity=1)
    first, second = await learner(client, 60), await learner(client, 61)
    assert (await enrol(client, project["id"], first)).status_code == 201
    gone = await client.delete(
        f"/programme/projects/{project['id']}/enrolments/{first}", headers=ADMIN
    )
    assert gone.status_code == 204
    assert (await enrol(client, project["id"], second)).status_code == 201
    again = await client.delete(
        f"/programme/projects/{project['id']}/enrolments/{first}", headers=ADMIN
    )
    assert again.status_code == 404


async def test_no_withdrawal_after_a_result(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client)
    learner_id = await learner(client, 62)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    assert (await result(client, project["id"], learner_id)).status_code == 201
    refused = await client.delete(
        f"/programme/projects/{project['id']}/enrolments/{learner_id}", headers=ADMIN
    )
    assert refused.status_code == 409
    found = (await client.get(f"/programme/projects/{project['id']}", headers=ADMIN)).json()
    assert (found["enrolled"], found["completed"]) == (1, 1)


async def test_enrolling_needs_credentials(client: httpx.AsyncClient) -> None:
    project = await engineering_project(client)
    response = await client.post(
        f"/programme/projects/{project['id']}/enrolments", json={"learner_id": "learner001"}
    )
    assert response.status_code == 401
