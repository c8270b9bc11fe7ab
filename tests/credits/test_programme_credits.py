"""The knowledge-update programme in the ledger (§二, §五(二)): a passed result credits the
project's hours as professional hours, once; a fail credits nothing; the base's standing
(§三) on the assessment date, for a project started when it started, decides whether the
credit counts, and a base decision applies at once. Training entries follow the same §三
reading (domain.md "Bases")."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI

from catalog import rectification
from credits import programme as credit_programme
from tests.conftest import ADMIN
from tests.credits.conftest import audit, ledger, register
from tests.credits.test_recompute import change_base, rebuild_equals_live, training

GOJI_BASE = {
    "name": "银川市枸杞产业人才培训基地",
    "level": "municipal",
    "reason": "银川市级继续教育基地认定",
    "effective_on": "2020-03-01",
}
# A 2021 key-industry seminar on goji (枸杞): 32 hours, 2021-05-10 to 2021-05-13, assessed
# on 2021-05-14, so that it falls in the window of a 2022 intermediate audit (2018-2021).
SEMINAR = {
    "year": 2021,
    "kind": "key_industry",
    "title": "枸杞产业高质量发展高级研修班",
    "hours": 32.0,
    "starts_on": "2021-05-10",
    "ends_on": "2021-05-13",
    "capacity": 40,
    "industry": "枸杞",
}
COMPLAINT = "经调查核实，结业考核把关不严，予以通报批评并限期整改"


async def goji_base(client: httpx.AsyncClient) -> str:
    response = await client.post("/bases", json=GOJI_BASE, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def seminar(client: httpx.AsyncClient, base: str) -> str:
    """The seminar at `base` with 张伟 on its roster; answers the project's id."""
    response = await client.post(
        "/programme/projects", json={**SEMINAR, "base_id": base}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    project_id = str(response.json()["id"])
    enrolled = await client.post(
        f"/programme/projects/{project_id}/enrolments",
        json={"learner_id": "zhangwei"},
        headers=ADMIN,
    )
    assert enrolled.status_code == 201, enrolled.text
    return project_id


async def record(
    client: httpx.AsyncClient, project_id: str, passed: bool = True, assessed_on: str = "2021-05-14"
) -> httpx.Response:
    body = {"learner_id": "zhangwei", "passed": passed, "assessed_on": assessed_on, "score": 86.5}
    return await client.post(f"/programme/projects/{project_id}/results", json=body, headers=ADMIN)


async def passed(client: httpx.AsyncClient) -> tuple[str, dict[str, Any]]:
    """张伟 passed the seminar at the goji base: (base id, the result as answered)."""
    await register(client)
    base = await goji_base(client)
    response = await record(client, await seminar(client, base))
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return base, found


def only_programme_entry(entries: list[dict[str, Any]]) -> dict[str, Any]:
    found = [e for e in entries if e["kind"] == "programme"]
    assert len(found) == 1, entries
    return found[0]


async def test_a_pass_credits_the_projects_hours_once_as_professional_hours(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§一(一), §二(三), §五(二): 32 professional hours in 2021, counted, from the result
    (its id, the certificate); the intermediate audit of 2022 (window 2018-2021) earns
    them. A second result of the same enrolment is refused and credits nothing more; a
    rebuild gives the same ledger."""
    _, answered = await passed(client)
    result_id = answered["result"]["result_id"]
    entry = only_programme_entry(await ledger(client))
    assert (entry["category"], entry["hours"], entry["year"], entry["status"]) == (
        "professional",
        32,
        2021,
        "counted",
    )
    assert entry["occurred_on"] == "2021-05-14"
    assert entry["clause"] == "§一(一); §二(三); §五(二)"
    assert entry["id"] == credit_programme.entry_id_for(result_id)
    assert entry["source"]["project_title"] == SEMINAR["title"]
    assert entry["source"]["base_name"] == GOJI_BASE["name"]
    assert entry["source"]["certificate_no"] == answered["certificate"]["certificate_no"]
    assert (await audit(client))["earned"]["professional"] == 32

    again = await record(client, answered["result"]["project_id"])
    assert again.status_code == 409
    assert len(await ledger(client)) == 1
    await rebuild_equals_live(app)


async def test_a_fail_credits_nothing(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client)
    base = await goji_base(client)
    response = await record(client, await seminar(client, base), passed=False)
    assert response.status_code == 201, response.text
    assert await ledger(client) == []
    await rebuild_equals_live(app)


async def test_a_revocation_back_dated_over_the_assessment_reverses_the_credit_at_once(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: the base is revoked on 2021-05-13 (recorded today): the 2021-05-14 result no
    longer counts. At once its entry is reversed, keeping its 32 hours and saying why; the
    audit earns 0 professional hours and lists the 32 as not counted."""
    base, _ = await passed(client)
    await change_base(client, base, "revoked", "2021-05-13", "经核查培训不实，取消基地资格")

    entry = only_programme_entry(await ledger(client))
    assert (entry["status"], entry["hours"]) == ("reversed", 32)
    assert entry["status_reason"] == (
        f"base {GOJI_BASE['name']} was revoked on 2021-05-13 (§三); the result is dated 2021-05-14"
    )
    verdict = await audit(client)
    assert verdict["earned"]["professional"] == 0
    assert [(n["entry_id"], n["hours"]) for n in verdict["not_counted"]] == [(entry["id"], 32)]
    await rebuild_equals_live(app)


async def test_a_criticism_after_the_project_started_keeps_the_credit_even_once_revoked(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: the project started on 2021-05-10; its 2021-05-14 result counts 32 hours. A
    criticism effective 2021-05-12 (work under way counts) with until 2021-06-30 to
    rectify, recorded today: the deadline has passed, so the base is revoked at once,
    dated 2021-06-30, after the assessment: the credit still counts."""
    await register(client)
    base = await goji_base(client)
    project_id = await seminar(client, base)
    response = await record(client, project_id)
    assert response.status_code == 201, response.text
    criticism = {
        "status": "criticised",
        "reason": COMPLAINT,
        "effective_on": "2021-05-12",
        "rectify_by": "2021-06-30",
    }
    criticised = await client.post(f"/bases/{base}/status", json=criticism, headers=ADMIN)
    assert criticised.status_code == 200, criticised.text
    assert criticised.json()["status"] == "revoked"
    assert await rectification.revoke_overdue(events=app.state.catalog_events) == 0

    entry = only_programme_entry(await ledger(client))
    assert (entry["status"], entry["hours"]) == ("counted", 32)
    assert (await audit(client))["earned"]["professional"] == 32
    await rebuild_equals_live(app)


async def test_a_criticism_dated_before_the_project_started_reverses_its_result(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: a criticised base runs no new project. The seminar (from 2021-05-10) was set up
    and assessed while the base was certified; a criticism then recorded, effective
    2021-05-01 (before the start), means the project was new work of a criticised base:
    the result is reversed at once, saying the base, the criticism and the dates."""
    base, _ = await passed(client)
    criticism = {
        "status": "criticised",
        "reason": COMPLAINT,
        "effective_on": "2021-05-01",
        "rectify_by": "2021-07-31",
    }
    response = await client.post(f"/bases/{base}/status", json=criticism, headers=ADMIN)
    assert response.status_code == 200, response.text

    entry = only_programme_entry(await ledger(client))
    assert (entry["status"], entry["hours"]) == ("reversed", 32)
    assert entry["status_reason"] == (
        f"base {GOJI_BASE['name']} was criticised on 2021-05-01 (§三); the result is dated "
        "2021-05-14, its project started on 2021-05-10"
    )
    await rebuild_equals_live(app)


async def test_trainings_at_a_criticised_base_count_when_dated_before_the_criticism(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三 for training entries (no project start: each is dated on its own): 16 hours on
    2021-04-20 and 24 hours on 2021-06-01 at the goji base; it is criticised on 2021-05-01.
    The April training still counts, the June one is reversed at once with its 24 hours,
    and a new training dated 2021-05-20 is refused (422 naming base_id). 16 counted."""
    await register(client)
    base = await goji_base(client)
    for day, hours in (("2021-04-20", 16), ("2021-06-01", 24)):
        recorded = await client.post(
            "/learners/zhangwei/credits", json=training(day, hours, base), headers=ADMIN
        )
        assert recorded.status_code == 201, recorded.text
    criticism = {
        "status": "criticised",
        "reason": COMPLAINT,
        "effective_on": "2021-05-01",
        "rectify_by": "2021-07-31",
    }
    response = await client.post(f"/bases/{base}/status", json=criticism, headers=ADMIN)
    assert response.status_code == 200, response.text

    entries = {e["occurred_on"]: e for e in await ledger(client)}
    assert (entries["2021-04-20"]["status"], entries["2021-04-20"]["hours"]) == ("counted", 16)
    june = entries["2021-06-01"]
    assert (june["status"], june["hours"]) == ("reversed", 24)
    assert "was criticised on 2021-05-01 (§三)" in june["status_reason"]
    refused = await client.post(
        "/learners/zhangwei/credits", json=training("2021-05-20", 8, base), headers=ADMIN
    )
    assert refused.status_code == 422, refused.text
    assert refused.json()["errors"][0]["field"] == "base_id"
    assert (await audit(client))["earned"]["professional"] == 16
    await rebuild_equals_live(app)


async def test_a_rectified_base_counts_again_from_its_recertification(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: criticised 2021-05-01, certified again 2021-05-31 (rectified): a training on
    2021-06-01 counts; the daily check leaves the base alone."""
    await register(client)
    base = await goji_base(client)
    criticism = {
        "status": "criticised",
        "reason": COMPLAINT,
        "effective_on": "2021-05-01",
        "rectify_by": "2021-07-31",
    }
    assert (await client.post(f"/bases/{base}/status", json=criticism, headers=ADMIN)).is_success
    await change_base(client, base, "certified", "2021-05-31", "整改到位，恢复认证")
    recorded = await client.post(
        "/learners/zhangwei/credits", json=training("2021-06-01", 24, base), headers=ADMIN
    )
    assert recorded.status_code == 201, recorded.text
    assert await rectification.revoke_overdue(events=app.state.catalog_events) == 0
    assert [e["status"] for e in await ledger(client)] == ["counted"]
