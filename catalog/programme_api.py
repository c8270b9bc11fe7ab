"""HTTP routes of the knowledge-update programme (§二) and its certificates (§五(二)).

Admins create projects; admins and the project's base (a base-scoped client) enrol
learners and record results; admins and auditors read the plan; project lists are read
by admins and auditors, and by base clients for their own base only.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response

from catalog import bases
from catalog import programme as service
from catalog.api import Events, JsonBody, NoQuery
from catalog.models import Base
from catalog.programme import CertificateCheck, Programme
from catalog.programme_models import (
    ProgrammeEnrolment,
    ProgrammeKind,
    ProgrammeProject,
    ProgrammeResult,
)
from catalog.programme_plan import kind_name, plan_csv, plan_xlsx
from catalog.programme_rules import CLAUSES, masked_name
from catalog.programme_schemas import (
    LEARNER_ID,
    BaseSummary,
    CertificateRead,
    CertificateVerified,
    CertificateVerifyRead,
    EnrolmentCreate,
    EnrolmentRead,
    PlanQuery,
    PlanRead,
    ProjectCreate,
    ProjectFilter,
    ProjectRead,
    ResultAnswer,
    ResultCreate,
    ResultRead,
)
from nxce.core.auth import ADMIN, Admin, Principal, authenticate, require
from nxce.core.clients import Scope
from nxce.core.errors import Forbidden, NotFound
from nxce.core.json_route import JsonRoute
from nxce.core.params import single_valued
from nxce.core.problems import responses

router = APIRouter(
    route_class=JsonRoute,
    dependencies=[Depends(single_valued)],
    responses=responses(404, 422),
    tags=["programme"],
)
READ = responses(401, 403, 429)
WRITE = responses(400, 401, 403, 409, 413, 415, 429)
BASE_SCOPE = "base"  # nxce.core.clients.Scope.base, once base-scoped clients exist


def _programme(request: Request) -> Programme:
    found: Programme = request.app.state.programme
    return found


ProgrammeDep = Annotated[Programme, Depends(_programme)]
Caller = Annotated[Principal, Depends(authenticate)]
AUDITOR = require(Scope.auditor)
LearnerPath = Annotated[str, Path(pattern=LEARNER_ID, description="The learner's id.")]


def _is_base_client(principal: Any) -> bool:
    return BASE_SCOPE in principal.scopes and getattr(principal, "base_id", None) is not None


def _may_act_for(principal: Any, base_id: str) -> bool:
    """Whether `principal` may enrol and record results for the base `base_id`: an admin
    for any base, a base-scoped client for its own base only."""
    if Scope.admin in principal.scopes:
        return True
    return _is_base_client(principal) and principal.base_id == base_id


def _may_read(principal: Any) -> bool:
    """Project lists: admins, auditors, and base clients (their own base's projects)."""
    return bool(principal.holds(Scope.auditor)) or _is_base_client(principal)


def _check_acts_for(principal: Principal, project: ProgrammeProject) -> None:
    if not _may_act_for(principal, project.base_id):
        raise Forbidden(
            f"client {principal.key!r} may not act for the base of {project.title!r}: "
            f"admins, or a client of that base"
        )


def _check_reads(principal: Principal, project: ProgrammeProject | None = None) -> None:
    if not _may_read(principal):
        raise Forbidden(f"client {principal.key!r} may not read programme projects")
    own = getattr(principal, "base_id", None)
    if project is not None and not principal.holds(Scope.auditor) and own != project.base_id:
        raise Forbidden(f"client {principal.key!r} reads its own base's projects only")


async def _bases_by_id(ids: set[str]) -> dict[str, Base]:
    found: dict[str, Base] = {}
    for base_id in ids:
        try:
            found[base_id] = await bases.get(base_id=base_id)
        except NotFound:
            continue
    return found


def _project_read(project: ProgrammeProject, base: Base | None) -> ProjectRead:
    summary = None
    if base is not None:
        summary = BaseSummary(
            id=str(base.id),
            name=base.name,
            status=base.status.value,
            commended=service.is_commended(base),
        )
    return ProjectRead(
        **project.model_dump(exclude={"id", "revision", "created_by"}),
        id=str(project.id),
        kind_name=kind_name(project.kind, project.year),
        clause=CLAUSES[project.kind],
        base=summary,
        base_commended=service.is_commended(base),
        available=max(project.capacity - project.enrolled, 0),
    )


def _enrolment_read(enrolment: ProgrammeEnrolment) -> EnrolmentRead:
    return EnrolmentRead.model_validate(enrolment, from_attributes=True)


def _certificate_read(result: ProgrammeResult, base_name: str | None) -> CertificateRead | None:
    issued = result.certificate
    if issued is None:
        return None
    return CertificateRead(
        **issued.model_dump(),
        learner_id=result.learner_id,
        project_id=result.project_id,
        project_title=result.project_title,
        kind=result.kind,
        hours=result.hours,
        base_id=result.base_id,
        base_name=base_name,
        assessed_on=result.assessed_on,
    )


def _result_read(result: ProgrammeResult) -> ResultRead:
    number = result.certificate.certificate_no if result.certificate else None
    return ResultRead(
        **result.model_dump(exclude={"id", "certificate", "starts_on", "recorded_by"}),
        certificate_no=number,
    )


@router.get(
    "/programme/plan",
    response_model=PlanRead,
    dependencies=[AUDITOR],
    responses={
        **READ,
        200: {
            "content": {
                "text/csv": {},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {},
            }
        },
    },
)
async def get_plan(query: Annotated[PlanQuery, Query()]) -> Any:
    """§二: the year's plan (policy data) kind by kind beside its actuals, counted live:
    projects, places, enrolled and completed (admins and auditors); `format=csv|xlsx`."""
    found = await service.plan(year=query.year)
    if query.format == "csv":
        return Response(
            plan_csv(found),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": f'attachment; filename="programme-{query.year}.csv"'},
        )
    if query.format == "xlsx":
        return Response(
            plan_xlsx(found),
            media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            headers={"Content-Disposition": f'attachment; filename="programme-{query.year}.xlsx"'},
        )
    return found


@router.post(
    "/programme/projects",
    response_model=ProjectRead,
    status_code=201,
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def create_project(
    project_in: ProjectCreate, admin: Admin, response: Response, events: Events
) -> ProjectRead:
    """§二: a project run by a base certified or commended today and on its first day
    (§三)."""
    project = await service.create_project(project_in=project_in, by=admin.key, events=events)
    response.headers["Location"] = f"/programme/projects/{project.id}"
    found = await _bases_by_id({project.base_id})
    return _project_read(project, found.get(project.base_id))


@router.get("/programme/projects", response_model=list[ProjectRead], responses=READ)
async def list_projects(
    filters: Annotated[ProjectFilter, Query()], caller: Caller
) -> list[ProjectRead]:
    """Projects by year, kind, base and industry; a base client sees its own base's only.
    Commended bases (§三: programme support) are marked."""
    _check_reads(caller)
    base_id = filters.base_id
    if not caller.holds(Scope.auditor):
        own = getattr(caller, "base_id", None)
        if base_id is not None and base_id != own:
            raise Forbidden(f"client {caller.key!r} reads its own base's projects only")
        base_id = own
    found = await service.list_projects(
        year=filters.year, kind=filters.kind, base_id=base_id, industry=filters.industry
    )
    by_id = await _bases_by_id({p.base_id for p in found})
    return [_project_read(p, by_id.get(p.base_id)) for p in found]


@router.get(
    "/programme/projects/{project_id}",
    response_model=ProjectRead,
    dependencies=[NoQuery],
    responses=READ,
)
async def get_project(project_id: str, caller: Caller) -> ProjectRead:
    """One project with its roster counts (enrolled, completed, places left)."""
    _check_reads(caller)
    project = await service.get_project(project_id=project_id)
    _check_reads(caller, project)
    found = await _bases_by_id({project.base_id})
    return _project_read(project, found.get(project.base_id))


@router.post(
    "/programme/projects/{project_id}/enrolments",
    response_model=EnrolmentRead,
    status_code=201,
    dependencies=[JsonBody],
    responses=WRITE,
)
async def enrol(
    project_id: str, body: EnrolmentCreate, caller: Caller, programme: ProgrammeDep, events: Events
) -> EnrolmentRead:
    """Enrol a learner (admins, or the project's base); 409 when full or enrolled already;
    a tcm_grassroots project takes 卫生 learners only (§二(四))."""
    project = await service.get_project(project_id=project_id)
    _check_acts_for(caller, project)
    enrolment = await service.enrol(
        programme=programme,
        project_id=project_id,
        learner_id=body.learner_id,
        by=caller.key,
        events=events,
    )
    return _enrolment_read(enrolment)


@router.delete(
    "/programme/projects/{project_id}/enrolments/{learner_id}",
    status_code=204,
    dependencies=[NoQuery],
    responses=responses(401, 403, 409, 429),
)
async def withdraw(
    project_id: str, learner_id: LearnerPath, caller: Caller, events: Events
) -> Response:
    """Withdraw a learner before a result exists (admins, or the project's base)."""
    project = await service.get_project(project_id=project_id)
    _check_acts_for(caller, project)
    await service.withdraw(
        project_id=project_id, learner_id=learner_id, by=caller.key, events=events
    )
    return Response(status_code=204)


@router.post(
    "/programme/projects/{project_id}/results",
    response_model=ResultAnswer,
    status_code=201,
    dependencies=[JsonBody],
    responses=WRITE,
)
async def record_result(
    project_id: str,
    body: ResultCreate,
    caller: Caller,
    programme: ProgrammeDep,
    events: Events,
) -> ResultAnswer:
    """Record an enrolled learner's assessment (admins, or the project's base). A pass
    issues a certificate (§五(二)) whose hours the ledger credits as professional hours
    (§一(一)); refused when the base is not in good standing on `assessed_on` (§三)."""
    project = await service.get_project(project_id=project_id)
    _check_acts_for(caller, project)
    result = await service.record_result(
        programme=programme, project_id=project_id, result_in=body, by=caller.key, events=events
    )
    found = await _bases_by_id({result.base_id})
    base = found.get(result.base_id)
    return ResultAnswer(
        result=_result_read(result),
        certificate=_certificate_read(result, base.name if base else None),
    )


def certificate_verified(check: CertificateCheck) -> CertificateVerifyRead:
    """What `GET /verify/{code}` answers for a certificate (transcripts.api.verify)."""
    result, issued = check.result, check.result.certificate
    assert issued is not None  # a check is made of a certificate only
    kind = ProgrammeKind(result.kind)
    return CertificateVerifyRead(
        genuine=True,
        kind="certificate",
        code=issued.verification_code,
        certificate=CertificateVerified(
            certificate_no=issued.certificate_no,
            learner={"name": masked_name(check.learner_name)},
            project_title=result.project_title,
            kind=result.kind,
            kind_name=kind_name(kind, result.starts_on.year),
            hours=result.hours,
            base_name=check.base_name,
            assessed_on=result.assessed_on,
            issued_at=issued.issued_at,
        ),
        status="valid" if check.standing.good else "withdrawn",
        withdrawn_reason=check.standing.reason,
        base_status=check.standing.status,
        base_status_since=check.standing.since,
    )
