"""A base's pages (继续教育基地): its projects of the knowledge-update programme (§二), and
on a project's page the roster, enrolment of learners and the bulk upload of assessment
results as a CSV file (§五(二): certificates from assessment results).

A base's client (scope `base`) sees and writes its own projects only; an admin those of
every base. Every row of an upload, and every learner of an enrolment, goes through the
same service call as the API (`catalog.programme.record_result`, `enrol`): a row refused
changes nothing, and the others go on; the page reports each refused row and why. The
request-size limit of every form applies to the upload too (413 beyond it).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse
from pydantic import ValidationError

from catalog import programme as catalog_programme
from catalog.events import CatalogEvents
from catalog.programme_models import ProgrammeProject
from catalog.programme_schemas import ResultCreate
from nxce.core.auth import Principal, acts_for_base
from nxce.core.clients import Scope
from nxce.core.errors import NotFound, NxceError
from nxce.core.json_route import JsonRoute
from web import render, results_csv
from web.access import PageMessage, Upload, sign_in_first, upload_by
from web.programme import (
    CST,
    KINDS,
    bases_by_id,
    page_year,
    project_url_for,
    project_view,
    roster_lines,
    this_year,
    years,
)
from web.refusals import enrolment_refusal, result_refusal
from web.services import CatalogEventsDep, ProgrammeDep, SessionsDep
from web.session import Sessions, csrf_ok, principal_of

router = APIRouter(prefix="/base", route_class=JsonRoute, include_in_schema=False)
MAX_ENROL = 200  # learners in one enrolment form (our limit)


def acts_for(principal: Principal) -> str | None:
    """The one base a client's pages show: its own for a base's client, None (every
    base) for an admin."""
    if principal.holds(Scope.admin) or not principal.holds(Scope.base):
        return None
    return principal.base_id


async def base_page(request: Request, sessions: SessionsDep) -> Principal:
    """A base's client (or an admin); others are sent to sign in, or refused."""
    principal = await principal_of(sessions, request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise sign_in_first(target)
    if not principal.holds(Scope.admin) and acts_for(principal) is None:  # no base, no page
        text = "本页面供继续教育基地的账号（及管理员）使用。"
        raise PageMessage(403, "仅限继续教育基地", text)
    return principal


BasePage = Annotated[Principal, Depends(base_page)]


async def base_form(request: Request, sessions: Sessions, csrf: str) -> Principal:
    """A base's client posting a form with the session's CSRF token."""
    principal = await base_page(request, sessions)
    session = sessions.current(request)
    if session is None or not csrf_ok(session.csrf, csrf):
        raise PageMessage(403, "表单已过期", "请刷新页面后再提交。")
    return principal


async def own_project(project_id: str, principal: Principal) -> ProgrammeProject:
    """A project of the principal's base (any for an admin); another base's is a 404 to
    them, as one that does not exist."""
    try:
        project = await catalog_programme.get_project(project_id=project_id)
    except NotFound:
        project = None
    if project is None or not acts_for_base(principal, project.base_id):
        text = f"项目 {project_id[:40]} 不存在，或不是本基地承办的。"
        raise PageMessage(404, "没有这个项目", text, ("/base", "本基地项目"))
    return project


@router.get("", response_class=HTMLResponse)
async def projects_page(request: Request, principal: BasePage, year: str = "") -> Response:
    number = page_year(year)
    if isinstance(number, str):
        return await render.message(request, 422, "无效的年度", number)
    known = await bases_by_id()
    mine = acts_for(principal)
    found = await catalog_programme.list_projects(year=number, base_id=mine)
    heading = (
        f"{known[mine].name}：{number}年知识更新工程项目"
        if mine in known
        else f"{number}年知识更新工程项目（全部基地）"
    )
    values = await render.context(
        request,
        heading=heading,
        projects=[project_view(p, known) for p in found],
        year=number,
        years=years(this_year(), number),
        kind_names=dict(KINDS),
        project_url=project_url_for("/base"),
    )
    return render.page(request, "base_projects.html", values)


@dataclass(slots=True)
class Report:
    """What an enrolment or an upload did: rows done, rows refused with why."""

    heading: str
    verb: str
    total: int = 0
    done: int = 0
    refused: list[results_csv.RowRefused] = field(default_factory=list)
    problem: str = ""


async def _project_page(
    request: Request,
    project: ProgrammeProject,
    report: Report | None = None,
    status: int = 200,
) -> Response:
    fresh = await catalog_programme.get_project(project_id=str(project.id))  # counts now
    values = await render.context(
        request,
        project=project_view(fresh, await bases_by_id()),
        roster=await roster_lines(fresh),
        learner_links=False,
        report=report,
        notice="",
        max_enrol=MAX_ENROL,
        max_rows=results_csv.MAX_ROWS,
    )
    return render.page(request, "base_project.html", values, status)


@router.get("/projects/{project_id}", response_class=HTMLResponse)
async def project_page(request: Request, principal: BasePage, project_id: str) -> Response:
    return await _project_page(request, await own_project(project_id, principal))


@dataclass(frozen=True, slots=True)
class Enrolment:
    by: Principal
    learner_ids: str


async def enrolment_form(
    request: Request,
    sessions: SessionsDep,
    learner_ids: str = Form("", max_length=MAX_ENROL * 70),
    csrf: str = Form(""),
) -> Enrolment:
    return Enrolment(await base_form(request, sessions, csrf), learner_ids)


@router.post("/projects/{project_id}/enrolments", response_class=HTMLResponse)
async def enrol(
    request: Request,
    form: Annotated[Enrolment, Depends(enrolment_form)],
    programme: ProgrammeDep,
    events: CatalogEventsDep,
    project_id: str,
) -> Response:
    """Enrol each learner named (one a line) by the API's call; each refused one is
    reported with why, the others enrolled."""
    project = await own_project(project_id, form.by)
    lines = [(n, t.strip()) for n, t in enumerate(form.learner_ids.splitlines(), 1)]
    named = [(n, t) for n, t in lines if t]
    report = Report("报名结果", "报名", total=len(named))
    if not named or len(named) > MAX_ENROL:
        report.problem = f"请填写 1 到 {MAX_ENROL} 个学员编号（每行一个），收到 {len(named)} 个。"
        return await _project_page(request, project, report, 422)
    for line, learner_id in named:
        try:
            await catalog_programme.enrol(
                programme=programme,
                project_id=project_id,
                learner_id=learner_id,
                by=form.by.key,
                events=events,
            )
        except NxceError as error:
            why = enrolment_refusal(error, learner_id)
            report.refused.append(results_csv.RowRefused(line, learner_id, why))
            continue
        report.done += 1
    return await _project_page(request, project, report)


upload_form = upload_by(base_form)  # an upload as the page posts it


def _result_in(row: results_csv.ResultRow) -> ResultCreate | str:
    """The row as the API's body: refused as the API would refuse it."""
    body: dict[str, Any] = {
        "learner_id": row.learner_id,
        "passed": row.passed,
        "assessed_on": row.assessed_on.isoformat(),
        "score": row.score,
        "remarks": row.remarks,
    }
    try:
        return ResultCreate.model_validate({k: v for k, v in body.items() if v is not None})
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        return f"无效（422）：{where}: {first['msg']}"


@router.post("/projects/{project_id}/results", response_class=HTMLResponse)
async def upload_results(
    request: Request,
    form: Annotated[Upload, Depends(upload_form)],
    programme: ProgrammeDep,
    events: CatalogEventsDep,
    project_id: str,
) -> Response:
    """Record each row of a CSV file of results by the API's call (§五(二))."""
    project = await own_project(project_id, form.by)
    report = Report("考核结果录入结果", "录入")
    if form.file is None or not form.file.filename:
        report.problem = "请选择要上传的考核结果文件（file）。"
        return await _project_page(request, project, report, 422)
    try:
        rows = results_csv.rows(await form.file.read())
    except results_csv.FileRefused as whole:
        report.problem = str(whole)
        return await _project_page(request, project, report, 422)
    report.total = len(rows)
    for row in rows:
        refused = (
            await _record(programme, events, project, row, form.by.key)
            if isinstance(row, results_csv.ResultRow)
            else row
        )
        if refused is not None:
            report.refused.append(refused)
        else:
            report.done += 1
    return await _project_page(request, project, report)


async def _record(
    programme: catalog_programme.Programme,
    events: CatalogEvents,
    project: ProgrammeProject,
    row: results_csv.ResultRow,
    by: str,
) -> results_csv.RowRefused | None:
    """One row through the API's call; the refusal, or None when it was recorded."""
    result_in = _result_in(row)
    if isinstance(result_in, str):
        return results_csv.RowRefused(row.line, row.learner_id, result_in)
    try:
        await catalog_programme.record_result(
            programme=programme,
            project_id=str(project.id),
            result_in=result_in,
            by=by,
            events=events,
        )
    except NxceError as error:
        today = datetime.now(CST).date()
        why = result_refusal(error, project, result_in.assessed_on, today)
        return results_csv.RowRefused(row.line, row.learner_id, why)
    return None
