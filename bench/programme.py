"""Knowledge-update programme figures (§二) on the embedded store: the plan query over the
demonstration programme, and 2,000 rows of results uploaded through the base's page.

    python bench/programme.py [--plans 200] [--rows 2000]

Runs the service in process on fresh data directories: a first start without and with the
demonstration programme (fixtures/programme.py: 105 projects, their learners, enrolments
and results, credited), timed; then, over the demonstration, times
`catalog.programme.plan(year=2022)` and `GET /programme/plan?year=2022` `--plans` times
each (median, p95). Then registers `--rows` learners, enrols them in projects of 1,000
places (the most a project holds), signs in as the admin (a browser's session) and uploads
their results as CSV files of at most 1,000 rows to `/base/projects/{id}/results`, the
page's handler: every row through `record_result` and the ledger's crediting, as the API.
Prints the time per row; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from common import ADMIN, percentile  # noqa: E402

from catalog import programme as catalog_programme  # noqa: E402
from catalog.models import Base  # noqa: E402
from catalog.programme_models import ProgrammeKind  # noqa: E402
from catalog.programme_rules import MAX_CAPACITY  # noqa: E402
from catalog.programme_schemas import ProjectCreate  # noqa: E402
from credits import learners as credit_learners  # noqa: E402
from credits.id_numbers import check_digit  # noqa: E402
from credits.models import Degree, TitleLevel  # noqa: E402
from credits.schemas import LearnerCreate  # noqa: E402

YEAR = 2022


def _ms(seconds: float) -> float:
    return seconds * 1000


@asynccontextmanager
async def started(demo_programme: bool) -> AsyncIterator[Any]:
    """The service on a fresh durable data directory (as `nxce serve`), started; prints
    how long the start took."""
    from nxce.app import create_app
    from nxce.settings import Settings

    data = Path(tempfile.mkdtemp(prefix="nxce-bench-programme-"))
    settings = Settings(
        mongodb_url=None,
        data_dir=data,
        bootstrap_admin=":".join(ADMIN),
        log_level="warning",
        allowed_hosts="bench",
    )
    app = create_app(settings, demo_programme=demo_programme)
    try:
        began = time.perf_counter()
        async with app.router.lifespan_context(app):
            what = "with" if demo_programme else "without"
            print(f"first start {what} the demonstration programme: "
                  f"{time.perf_counter() - began:.1f} s")  # fmt: skip
            await app.state.indexer.wait()
            yield app
    finally:
        shutil.rmtree(data, ignore_errors=True)


async def plan_figures(app: Any, times: int) -> None:
    direct = []
    for _ in range(times):
        started = time.perf_counter()
        await catalog_programme.plan(year=YEAR)
        direct.append(_ms(time.perf_counter() - started))
    print(
        f"plan(year={YEAR}): median {statistics.median(direct):.2f} ms, "
        f"p95 {percentile(direct, 95):.2f} ms over {times}"
    )
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench", auth=ADMIN) as api:
        over_http = []
        for _ in range(times):
            started = time.perf_counter()
            answer = await api.get("/programme/plan", params={"year": YEAR})
            over_http.append(_ms(time.perf_counter() - started))
            assert answer.status_code == 200, answer.text
    print(
        f"GET /programme/plan?year={YEAR}: median {statistics.median(over_http):.2f} ms, "
        f"p95 {percentile(over_http, 95):.2f} ms over {times}"
    )


def learner_in(n: int) -> LearnerCreate:
    first = f"64010219{70 + n % 25}{1 + n % 12:02d}{1 + n % 28:02d}{n % 1000:03d}"
    return LearnerCreate(
        id=f"bench{n:05d}",
        name=f"学员{n}",
        id_number=first + check_digit(first),
        employer="宁夏建工集团有限公司",
        series="工程",
        title_level=TitleLevel.intermediate,
        degree=Degree.bachelor,
    )


async def projects_with_rosters(app: Any, rows: int) -> list[tuple[str, list[str]]]:
    """Projects of MAX_CAPACITY places at the engineering base, `rows` learners on them."""
    base = await Base.find_one({"name": "宁夏工程技术人员继续教育基地"})
    assert base is not None
    found: list[tuple[str, list[str]]] = []
    for n in range(rows):
        if n % MAX_CAPACITY == 0:
            project = await catalog_programme.create_project(
                project_in=ProjectCreate(
                    year=YEAR,
                    kind=ProgrammeKind.urgent_skills,
                    title=f"{YEAR}年装配式建筑技术骨干人才培训班（测试{len(found) + 1}）",
                    base_id=str(base.id),
                    hours=30.0,
                    starts_on=date(YEAR, 5, 9),
                    ends_on=date(YEAR, 5, 12),
                    capacity=MAX_CAPACITY,
                    field="城乡建设",
                ),
                by="bench",
            )
            found.append((str(project.id), []))
        learner = await credit_learners.create_learner(
            credits=app.state.credits, learner_in=learner_in(n), by="bench"
        )
        await catalog_programme.enrol(
            programme=app.state.programme,
            project_id=found[-1][0],
            learner_id=learner.learner_id,
            by="bench",
        )
        found[-1][1].append(learner.learner_id)
    return found


def csv_of(learner_ids: list[str]) -> bytes:
    lines = ["learner_id,passed,assessed_on,score,remarks"]
    for n, learner_id in enumerate(learner_ids):
        passed = n % 10 != 0  # one in ten fails
        remarks = "考核未达到合格线" if not passed else ""
        lines.append(f"{learner_id},{str(passed).lower()},{YEAR}-05-12,{70 + n % 30},{remarks}")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


async def upload_figures(app: Any, rows: int) -> None:
    started = time.perf_counter()
    projects = await projects_with_rosters(app, rows)
    print(f"setup: {rows} learners enrolled in {len(projects)} projects in "
          f"{time.perf_counter() - started:.1f} s")  # fmt: skip
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://bench") as browser:
        form = await browser.get("/signin")
        token = re.search(r'name="csrf" value="([^"]+)"', form.text)
        assert token is not None
        answer = await browser.post(
            "/signin",
            data={"key": ADMIN[0], "secret": ADMIN[1], "csrf": token.group(1), "next": "/"},
        )
        assert answer.status_code == 303, answer.text
        total = 0.0
        for project_id, learner_ids in projects:
            page = await browser.get(f"/base/projects/{project_id}")
            csrf = re.search(r'name="csrf" value="([^"]+)"', page.text)
            assert csrf is not None
            content = csv_of(learner_ids)
            started = time.perf_counter()
            answer = await browser.post(
                f"/base/projects/{project_id}/results",
                data={"csrf": csrf.group(1)},
                files={"file": ("results.csv", content, "text/csv")},
            )
            spent = time.perf_counter() - started
            total += spent
            assert answer.status_code == 200, answer.text[:500]
            assert f"{len(learner_ids)} 行已录入，0 行被拒绝" in answer.text, answer.text[-2000:]
            print(
                f"upload of {len(learner_ids)} rows ({len(content) / 1024:.0f} KB): "
                f"{spent:.1f} s, {_ms(spent / len(learner_ids)):.1f} ms a row"
            )
    print(f"results upload: {rows} rows in {total:.1f} s, {_ms(total / rows):.1f} ms a row")


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--plans", type=int, default=200)
    parser.add_argument("--rows", type=int, default=2000)
    args = parser.parse_args()
    async with started(demo_programme=False):
        pass
    async with started(demo_programme=True) as app:
        await plan_figures(app, args.plans)
        if args.rows:  # --rows 0: the starts and the plan only
            await upload_figures(app, args.rows)


if __name__ == "__main__":
    asyncio.run(main())
