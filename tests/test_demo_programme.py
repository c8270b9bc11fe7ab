"""The demonstration programme (演示数据): generated the same way every time, within the
rules (§二's four kinds and nine industries, §二(四) for 卫生 learners only, capacity, bases
in good standing, §三), marked as demonstration data; loaded once into a store where it
verifies and credits like real data; loaded at start only into a fresh embedded store
when asked, never into MongoDB."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
from fastapi import FastAPI

from catalog import bases as catalog_bases
from catalog import programme as catalog_programme
from catalog.models import Base
from catalog.programme_models import ProgrammeEnrolment, ProgrammeProject, ProgrammeResult
from catalog.programme_rules import INDUSTRIES
from catalog.programme_schemas import ResultCreate
from credits.id_numbers import problem
from credits.models import LedgerEntry
from fixtures import demo
from fixtures.programme import DEMO_BY, NO_PERSON_REGION, PERIODS, RUNNERS, programme
from nxce.app import create_app, demo_loader
from tests.conftest import ADMIN, embedded_settings
from tests.credits.conftest import settings as settings  # the catalog loaded

SMALL = {"fill": 0.05, "learner_count": 60}  # the programme's 105 projects, few people


def test_the_generator_gives_the_same_programme_every_time() -> None:
    assert programme() == programme()
    assert programme(**SMALL) == programme(**SMALL)


def test_the_programme_has_the_plans_projects_within_the_rules() -> None:
    found = programme()
    # §二: about 25 seminars, about 40 urgent-skills projects, 30 key-industry ones.
    assert Counter(p.kind for p in found.projects) == PERIODS
    key = [p for p in found.projects if p.kind == "key_industry"]
    assert {p.industry for p in key} == set(INDUSTRIES)  # all nine, exact strings
    assert all(p.industry is None for p in found.projects if p.kind != "key_industry")
    assert len({p.title for p in found.projects}) == len(found.projects)
    series = {p.learner_id: p.series for p in found.learners}
    for project in found.projects:
        assert len(project.enrolled) == len(set(project.enrolled)) <= project.capacity
        assert [r.learner_id for r in project.results] == list(project.enrolled)
        assert project.base_name in RUNNERS[project.kind]
        assert project.starts_on.year == 2022 and project.ends_on >= project.starts_on
        assert (project.hours * 2).is_integer()
        if project.kind == "tcm_grassroots":  # §二(四): 基层中医药卫生专业技术人员
            assert {series[i] for i in project.enrolled} == {"卫生"}


def test_demonstration_learners_are_marked_and_hold_no_real_id_number() -> None:
    for learner in programme().learners:
        assert learner.learner_id.startswith("demo-") and learner.employer.endswith("（演示）")
        assert problem(learner.id_number) is None  # well formed (GB 11643-1999)
        assert learner.id_number.startswith(NO_PERSON_REGION)  # the region itself: no person


async def test_the_projects_bases_are_in_good_standing_on_their_dates(app: FastAPI) -> None:
    del app  # the fixture bases loaded
    bases = {b.name: b for b in await Base.find_all().to_list()}
    for project in programme(**SMALL).projects:
        base = bases[project.base_name]
        assert catalog_bases.in_good_standing(base, project.starts_on), project.title
        assert catalog_bases.in_good_standing(base, project.ends_on), project.title


async def test_loaded_it_counts_verifies_credits_and_loads_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    small = programme(**SMALL)
    loaded = await demo.load(credits=app.state.credits, programme_=app.state.programme, demo=small)
    assert loaded.projects == 105 and loaded.learners == 60
    assert loaded.enrolments == sum(len(p.enrolled) for p in small.projects)
    assert all(p.created_by == DEMO_BY for p in await ProgrammeProject.find_all().to_list())

    plan = (await client.get("/programme/plan?year=2022", headers=ADMIN)).json()
    enrolled = await ProgrammeEnrolment.find_all().count()
    passed = await ProgrammeResult.find({"passed": True}).count()
    assert sum(k["enrolled"] for k in plan["kinds"]) == enrolled == loaded.enrolments
    assert sum(k["completed"] for k in plan["kinds"]) == passed
    assert sum(k["projects"] for k in plan["kinds"]) == 105

    one = await ProgrammeResult.find_one({"passed": True})
    assert one is not None and one.certificate is not None
    check = await catalog_programme.verify_certificate(
        programme=app.state.programme, code=one.certificate.verification_code
    )
    assert check is not None and check.standing.good  # signed with the service's key
    entries = await LedgerEntry.find({"learner_id": one.learner_id, "kind": "programme"}).count()
    assert (
        entries
        == await ProgrammeResult.find({"learner_id": one.learner_id, "passed": True}).count()
    )  # each pass credited once (§二, §五(二))

    # A certificate the service issues afterwards follows on: no number taken twice.
    project = await ProgrammeProject.get(one.project_id)  # type: ignore[arg-type]
    assert project is not None
    roster = {
        e.learner_id
        for e in await ProgrammeEnrolment.find({"project_id": one.project_id}).to_list()
    }
    # A 卫生 learner may join any kind, §二(四) included.
    newcomer = next(
        p.learner_id for p in small.learners if p.series == "卫生" and p.learner_id not in roster
    )
    await catalog_programme.enrol(
        programme=app.state.programme, project_id=one.project_id, learner_id=newcomer, by="t"
    )
    later = await catalog_programme.record_result(
        programme=app.state.programme,
        project_id=one.project_id,
        result_in=ResultCreate(learner_id=newcomer, passed=True, assessed_on=project.ends_on),
        by="t",
    )
    assert later.certificate is not None
    numbers = [
        r.certificate.certificate_no
        for r in await ProgrammeResult.find({"passed": True}).to_list()
        if r.certificate
    ]
    assert len(numbers) == len(set(numbers))

    again = await demo.load(credits=app.state.credits, programme_=app.state.programme, demo=small)
    assert again == demo.Loaded()  # loaded already: nothing


def test_the_start_loads_it_only_into_an_embedded_store_when_asked(tmp_path: Path) -> None:
    embedded = embedded_settings(tmp_path)
    mongodb = embedded_settings(tmp_path, mongodb_url="mongodb://db.example:27017")
    assert demo_loader(create_app(embedded), embedded) is None  # not asked (tests, bench)
    assert demo_loader(create_app(embedded, demo_programme=True), embedded) is not None
    # Never into MongoDB at start, even when asked.
    assert demo_loader(create_app(mongodb, demo_programme=True), mongodb) is None


async def test_a_first_start_asked_for_it_shows_the_plan_with_the_demonstration(
    tmp_path: Path,
) -> None:
    """`nxce serve` on a fresh embedded data directory (it asks for the demonstration): the plan
    shows every kind's projects and people enrolled and completed."""
    application = create_app(embedded_settings(tmp_path), demo_programme=True)
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            plan = (await http.get("/programme/plan?year=2022", headers=ADMIN)).json()
    for kind in plan["kinds"]:
        assert kind["projects"] == PERIODS[kind["kind"]]
        assert 0 < kind["completed"] < kind["enrolled"] <= kind["capacity"]
