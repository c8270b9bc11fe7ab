"""Pages of the knowledge-update programme (专业技术人才知识更新工程, §二) for admins and
auditors: the year's plan with a progress bar per kind (planned people, enrolled,
completed), the project list (filters year, kind, base, industry; commended bases marked,
§三) and a project's page with its roster and results.

What every programme page shows of projects, rosters and certificates is built here too:
the base pages (web/base_pages.py) and the learner's record use it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from catalog import bases as catalog_bases
from catalog import programme as catalog_programme
from catalog import programme_certificates
from catalog.models import Base
from catalog.programme_models import ProgrammeKind, ProgrammeProject, ProgrammeResult
from catalog.programme_plan import kind_name, planned
from catalog.programme_rules import CLAUSES, INDUSTRIES
from catalog.schemas import YEAR_MAX, YEAR_MIN  # the limits of the API's year (programme_schemas)
from credits.models import Learner
from fixtures.programme import DEMO_BY
from nxce.core.errors import NotFound
from nxce.core.json_route import JsonRoute
from web import render
from web.access import AuditorPage
from web.certificate_words import withdrawn_words

router = APIRouter(prefix="/auditor/programme", route_class=JsonRoute, include_in_schema=False)

KINDS: tuple[tuple[str, str], ...] = tuple((k.value, kind_name(k)) for k in ProgrammeKind)
FIRST_YEAR = 2022  # the first plan (宁人社发〔2022〕23号)
CST = timezone(timedelta(hours=8), "CST")


def years(now: int, chosen: int | None = None) -> list[int]:
    """The plan years a page offers, newest first, with the year `chosen` when it lies
    outside them (the pages take every year the API takes)."""
    offered = list(range(max(now, FIRST_YEAR), FIRST_YEAR - 1, -1))
    if chosen is not None and chosen not in offered:
        offered = sorted([*offered, chosen], reverse=True)
    return offered


def this_year() -> int:
    """The year in China Standard Time."""
    return datetime.now(CST).year


def newest_plan_year() -> int:
    """The newest year with a plan, up to this year (the plan page's default)."""
    return next((y for y in years(this_year()) if planned(y) is not None), this_year())


# --- what pages show ------------------------------------------------------------------


async def bases_by_id() -> dict[str, Base]:
    found = await catalog_bases.get_all(status=None, level=None)
    return {str(b.id): b for b in found}


def project_view(project: ProgrammeProject, known: dict[str, Base]) -> dict[str, Any]:
    """A project as the pages show it: its base named, commended bases marked (§三)."""
    base = known.get(project.base_id)
    return {
        "id": str(project.id),
        "year": project.year,
        "kind": project.kind.value,
        "kind_name": kind_name(project.kind, project.year),
        "clause": CLAUSES[project.kind],
        "title": project.title,
        "base_id": project.base_id,
        "base": {"name": base.name} if base else None,
        "base_commended": catalog_programme.is_commended(base),
        "hours": project.hours,
        "starts_on": project.starts_on,
        "ends_on": project.ends_on,
        "capacity": project.capacity,
        "industry": project.industry,
        "field": project.field,
        "enrolled": project.enrolled,
        "completed": project.completed,
        "available": max(0, project.capacity - project.enrolled),
        "demo": project.created_by == DEMO_BY,
    }


@dataclass(frozen=True, slots=True)
class RosterLine:
    learner_id: str
    name: str
    employer: str
    result: ProgrammeResult | None
    withdrawn: str | None = None  # why a pass's certificate no longer stands (§三)


async def _base_or_none(base_id: str) -> Base | None:
    try:
        return await catalog_bases.get(base_id=base_id)
    except NotFound:
        return None


def _withdrawn(result: ProgrammeResult | None, base: Base | None) -> str | None:
    """§三: the Chinese reason a pass's certificate is withdrawn, None while it stands."""
    if result is None or result.certificate is None:
        return None
    found = programme_certificates.standing_with(result, base)
    return None if found.good else withdrawn_words(found.status, found.since)


async def roster_lines(project: ProgrammeProject) -> list[RosterLine]:
    """A project's roster in order of enrolment, each learner named, with their result
    and whether its certificate still stands. Four queries, whatever the roster's size:
    the project's base is read once for every result."""
    project_id = str(project.id)
    enrolled = await catalog_programme.roster(project_id=project_id)
    ids = [e.learner_id for e in enrolled]
    learners = {
        learner.learner_id: learner
        for learner in await Learner.find({"learner_id": {"$in": ids}}).to_list()
    }
    results = {
        r.learner_id: r for r in await ProgrammeResult.find({"project_id": project_id}).to_list()
    }
    base = await _base_or_none(project.base_id) if results else None
    lines = []
    for learner_id in ids:
        learner = learners.get(learner_id)
        result = results.get(learner_id)
        lines.append(
            RosterLine(
                learner_id,
                learner.name if learner else "（未登记）",
                learner.employer if learner else "",
                result,
                _withdrawn(result, base),
            )
        )
    return lines


async def certificates_on_page(learner_id: str) -> list[dict[str, Any]]:
    """A learner's programme certificates (§五(二)) with their verification code and
    whether each still stands: withdrawn when its base is not in good standing on the
    assessment date (§三), saying why."""
    found = []
    for result in await catalog_programme.certificates_of(learner_id=learner_id):
        assert result.certificate is not None
        standing = await programme_certificates.standing(result)
        found.append(
            {
                "certificate_no": result.certificate.certificate_no,
                "verification_code": result.certificate.verification_code,
                "project_title": result.project_title,
                "hours": result.hours,
                "base_name": standing.base.name if standing.base else result.base_id,
                "assessed_on": result.assessed_on,
                "status": "valid" if standing.good else "withdrawn",
                "withdrawn_reason": (
                    None if standing.good else withdrawn_words(standing.status, standing.since)
                ),
            }
        )
    return found


def project_url_for(prefix: str) -> Any:
    def url(project: dict[str, Any]) -> str:
        return f"{prefix}/projects/{project['id']}"

    return url


# --- the pages ------------------------------------------------------------------------


def page_year(text: str) -> int | str:
    """A year from the query, within the API's limits (YEAR_MIN to YEAR_MAX, as
    `GET /programme/plan` and `/programme/projects` take); none given, the newest year
    with a plan. A message saying why when it is not one."""
    number = render.small_number(text) if text else newest_plan_year()
    if number is None or not YEAR_MIN <= number <= YEAR_MAX:
        return f"年度 year 应为 {YEAR_MIN} 至 {YEAR_MAX} 年，收到 {text[:20]!r}。"
    return number


@router.get("", response_class=HTMLResponse)
async def plan_page(request: Request, _: AuditorPage, year: str = "") -> Response:
    """§二: the year's plan beside its actuals, a progress bar per kind."""
    chosen = page_year(year)
    if isinstance(chosen, str):
        return await render.message(request, 422, "无效的年度", chosen)
    plan = await catalog_programme.plan(year=chosen)
    demo = await ProgrammeProject.find_one({"year": chosen, "created_by": DEMO_BY})
    values = await render.context(
        request, plan=plan, years=years(this_year(), chosen), demo=demo is not None
    )
    return render.page(request, "programme_plan.html", values)


def _filters(
    kind: str, base_id: str, industry: str, known: Iterable[str]
) -> tuple[ProgrammeKind | None, str | None, str | None] | str:
    if kind and kind not in ProgrammeKind.__members__:
        return f"类别 kind 只能是 {'、'.join(k for k, _ in KINDS)}，收到 {kind[:40]!r}。"
    if base_id and base_id not in known:
        return f"承办基地 base_id 不存在，收到 {base_id[:40]!r}。"
    if industry and industry not in INDUSTRIES:
        return f"重点产业 industry 只能是九大重点产业之一（§二(三)），收到 {industry[:20]!r}。"
    return (ProgrammeKind(kind) if kind else None, base_id or None, industry or None)


@router.get("/projects", response_class=HTMLResponse)
async def projects_page(
    request: Request,
    _: AuditorPage,
    year: str = "",
    kind: str = "",
    base_id: str = "",
    industry: str = "",
) -> Response:
    chosen = page_year(year)
    if isinstance(chosen, str):
        return await render.message(request, 422, "无效的年度", chosen)
    known = await bases_by_id()
    filters = _filters(kind, base_id, industry, known)
    if isinstance(filters, str):
        return await render.message(request, 422, "无效的筛选条件", filters)
    found = await catalog_programme.list_projects(
        year=chosen, kind=filters[0], base_id=filters[1], industry=filters[2]
    )
    values = await render.context(
        request,
        projects=[project_view(p, known) for p in found],
        year=chosen,
        years=years(this_year(), chosen),
        kind=kind,
        kinds=KINDS,
        kind_names=dict(KINDS),
        base_id=base_id,
        bases=sorted(
            ({"id": i, "name": b.name} for i, b in known.items()), key=lambda b: b["name"]
        ),
        industry=industry,
        industries=INDUSTRIES,
        project_url=project_url_for("/auditor/programme"),
    )
    return render.page(request, "programme_projects.html", values)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def project_page(request: Request, _: AuditorPage, project_id: str) -> Response:
    try:
        project = await catalog_programme.get_project(project_id=project_id)
    except NotFound:
        text = f"项目编号 {project_id[:40]} 不存在。"
        back = ("/auditor/programme/projects", "知识更新工程项目")
        return await render.message(request, 404, "没有这个项目", text, back)
    view = project_view(project, await bases_by_id())
    values = await render.context(
        request,
        project=view,
        demo=view["demo"],
        roster=await roster_lines(project),
        learner_links=True,
        back=(f"/auditor/programme/projects?year={project.year}", f"{project.year}年项目"),
    )
    return render.page(request, "programme_project.html", values)
