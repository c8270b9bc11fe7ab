"""HTTP routes of the catalog: thin, one service call each.

Reads are public catalog data; writes need an admin client.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Header, Path, Query, Request, Response, UploadFile
from pydantic import BaseModel, ConfigDict, Field

from catalog import bases, course_import, rectification, service
from catalog.course_import import ImportReport
from catalog.events import CatalogEvents
from catalog.models import Base, Course
from catalog.schemas import (
    CODE_PATTERN,
    BaseCreate,
    BaseFilter,
    BaseRead,
    BaseStatusOn,
    BaseUpdate,
    CatalogStats,
    CourseChangeRead,
    CourseCreate,
    CourseFilter,
    CoursePage,
    CourseRead,
    CourseReplace,
    CourseUpdate,
    StatusChangeCreate,
    StatusOnQuery,
)
from nxce.core.auth import ADMIN, Admin
from nxce.core.errors import NotFound, PayloadTooLarge, UnsupportedMediaType, invalid
from nxce.core.json_route import JsonRoute
from nxce.core.params import no_query, single_valued
from nxce.core.preconditions import Precondition, parse_if_match
from nxce.core.problems import responses

router = APIRouter(
    route_class=JsonRoute, dependencies=[Depends(single_valued)], responses=responses(404, 422)
)
NoQuery = Depends(no_query)
WRITE = responses(400, 401, 403, 409, 412, 413, 415, 429)


def _json_body(content_type: Annotated[str | None, Header()] = None) -> None:
    """Bodies of catalog writes are JSON; anything else is a 415 that says so."""
    media_type = (content_type or "").split(";")[0].strip().lower()
    if media_type != "application/json":
        raise UnsupportedMediaType(
            f"send the body as JSON with Content-Type: application/json, got {content_type!r}"
        )


JsonBody = Depends(_json_body)


def _activity_base(request: Request) -> str:
    return str(request.app.state.settings.activity_base)


ActivityBase = Annotated[str, Depends(_activity_base)]


def _events(request: Request) -> CatalogEvents:
    events: CatalogEvents = request.app.state.catalog_events
    return events


Events = Annotated[CatalogEvents, Depends(_events)]


def _if_match(if_match: Annotated[str | None, Header()] = None) -> Precondition | None:
    """`If-Match: "3"` makes a write conditional on the course being at revision 3."""
    return parse_if_match(if_match)


IfMatch = Annotated[Precondition | None, Depends(_if_match)]
NewCode = Annotated[str, Path(pattern=CODE_PATTERN, description="Course code, e.g. WS-0001.")]


def _course_read(course: Course, response: Response | None = None) -> CourseRead:
    if response is not None:
        response.headers["ETag"] = f'"{course.revision}"'
    return CourseRead.model_validate(course, from_attributes=True)


def _base_read(base: Base) -> BaseRead:
    return BaseRead.model_validate({**base.model_dump(exclude={"id"}), "id": str(base.id)})


@router.get("/courses", response_model=CoursePage, tags=["catalog"])
async def list_courses(filters: Annotated[CourseFilter, Query()]) -> CoursePage:
    """Courses by category, series, subject, year and status (published unless asked), by code."""
    items, total = await service.get_all(filters=filters)
    return CoursePage(
        items=[_course_read(c) for c in items],
        total=total,
        page=filters.page,
        page_size=filters.page_size,
    )


@router.get("/courses/{code}", response_model=CourseRead, tags=["catalog"], dependencies=[NoQuery])
async def get_course(code: str, response: Response) -> CourseRead:
    """One course, published or retired; its revision is the ETag."""
    return _course_read(await service.get(code=code), response)


@router.post(
    "/courses",
    response_model=CourseRead,
    status_code=201,
    tags=["catalog"],
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def create_course(
    course_in: CourseCreate,
    admin: Admin,
    activity_base: ActivityBase,
    events: Events,
    response: Response,
) -> CourseRead:
    """Create a course (admin)."""
    course = await service.create(
        course_in=course_in, activity_base=activity_base, by=admin.key, events=events
    )
    response.headers["Location"] = f"/courses/{course.code}"
    return _course_read(course, response)


IMPORT_PATH = re.compile(r"/courses/import")
# the file and the multipart envelope around it
IMPORT_BODY_BYTES = course_import.MAX_BYTES + 64 * 1024


class ImportQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = Field(True, description="true (the default): check only, write nothing")
    rows: Literal["all", "valid"] = Field(
        "all",
        description="all: a file with a refused row writes nothing (422 with the report); "
        "valid: write the valid rows, report the others",
    )
    sha256: str | None = Field(
        None, max_length=64, description="to apply: the `sha256` the dry run answered"
    )
    plan: str | None = Field(
        None, max_length=64, description="to apply: the `plan` the dry run answered"
    )


@router.post(
    "/courses/import",
    response_model=ImportReport,
    tags=["catalog"],
    dependencies=[ADMIN],
    responses=responses(400, 401, 403, 409, 413, 415, 422, 429),
)
async def import_courses(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX, ≤ 20 MiB")],
    query: Annotated[ImportQuery, Query()],
    admin: Admin,
    activity_base: ActivityBase,
    events: Events,
) -> ImportReport:
    """Create and change courses from a CSV or XLSX file (admin). Row 1 names the columns,
    in Chinese or English, in any order: 课程编号/code (always); 课程名称/title, 类别/category
    (公需课 or 专业课), 专业/subject, 学时/hours, 年度/year, 提供机构/base (for a new course);
    课程简介/description, 系列/series, 学习方式/delivery (网页, 手机, 网页和手机), 标签/tags
    (separated by 、 or ,) optional. A code already in the catalog changes that course: the
    columns the file has, no others. At most 10,000 rows.

    A dry run (the default) answers each row: `create`, `update` (each field from and to),
    `unchanged`, or `refused` with each error's column, value and message; and the file's
    `sha256` and the `plan`'s digest. `dry_run=false&sha256=…&plan=…` applies that plan in
    one transaction: 409 when the file or the catalog changed since the dry run; with a
    refused row, 422 with the report and nothing written, unless `rows=valid`."""
    content = await file.read()
    if len(content) > course_import.MAX_BYTES:
        raise PayloadTooLarge(f"file: a course file is at most {course_import.MAX_BYTES} bytes")
    if query.dry_run:
        plan = await course_import.check(content=content)
        return plan.report(dry_run=True, applied=False)
    for name in ("sha256", "plan"):
        if not getattr(query, name):
            message = "is required to apply: send the value the dry run answered"
            raise invalid(name, message, location="query")
    assert query.sha256 is not None and query.plan is not None
    return await course_import.apply(
        content=content,
        sha256=query.sha256,
        plan_digest=query.plan,
        only_valid=query.rows == "valid",
        activity_base=activity_base,
        by=admin.key,
        file_name=file.filename or "",
        events=events,
    )


@router.put(
    "/courses/{code}",
    response_model=CourseRead,
    tags=["catalog"],
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def replace_course(
    code: NewCode,
    course_in: CourseReplace,
    admin: Admin,
    activity_base: ActivityBase,
    if_match: IfMatch,
    events: Events,
    response: Response,
) -> CourseRead:
    """Replace a course (admin); creates it when the code is new and no If-Match is sent."""
    try:
        course = await service.replace(
            code=code, course_in=course_in, by=admin.key, if_match=if_match, events=events
        )
    except NotFound:
        if if_match is not None:
            raise
        created_in = CourseCreate(**course_in.model_dump(exclude={"code"}), code=code)
        course = await service.create(
            course_in=created_in, activity_base=activity_base, by=admin.key, events=events
        )
        response.status_code = 201
        response.headers["Location"] = f"/courses/{course.code}"
    return _course_read(course, response)


@router.patch(
    "/courses/{code}",
    response_model=CourseRead,
    tags=["catalog"],
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def update_course(
    code: str,
    patch: CourseUpdate,
    admin: Admin,
    if_match: IfMatch,
    events: Events,
    response: Response,
) -> CourseRead:
    """Change some fields of a course (admin)."""
    course = await service.update(
        code=code, patch=patch, by=admin.key, if_match=if_match, events=events
    )
    return _course_read(course, response)


@router.delete(
    "/courses/{code}",
    response_model=CourseRead,
    tags=["catalog"],
    dependencies=[ADMIN, NoQuery],
    responses=WRITE,
)
async def retire_course(
    code: str, admin: Admin, if_match: IfMatch, events: Events, response: Response
) -> CourseRead:
    """Retire a course (admin): it leaves listings and search but keeps resolving."""
    course = await service.retire(code=code, by=admin.key, if_match=if_match, events=events)
    return _course_read(course, response)


@router.post(
    "/courses/{code}/restore",
    response_model=CourseRead,
    tags=["catalog"],
    dependencies=[ADMIN, NoQuery],
    responses=WRITE,
)
async def restore_course(
    code: str, admin: Admin, if_match: IfMatch, events: Events, response: Response
) -> CourseRead:
    """Publish a retired course again (admin)."""
    course = await service.restore(code=code, by=admin.key, if_match=if_match, events=events)
    return _course_read(course, response)


@router.get(
    "/courses/{code}/history",
    response_model=list[CourseChangeRead],
    tags=["catalog"],
    dependencies=[ADMIN, NoQuery],
    responses=responses(401, 403, 429),
)
async def course_history(code: str, admin: Admin) -> list[CourseChangeRead]:
    """Every change of a course: who, when, and each field from and to (admin)."""
    changes = await service.history(code=code)
    return [CourseChangeRead.model_validate(c, from_attributes=True) for c in changes]


@router.get("/catalog/stats", response_model=CatalogStats, tags=["catalog"], dependencies=[NoQuery])
async def catalog_stats() -> CatalogStats:
    """Published courses and hours, by category and by series (retired counted apart)."""
    return await service.stats()


@router.get("/bases", response_model=list[BaseRead], tags=["bases"])
async def list_bases(filters: Annotated[BaseFilter, Query()]) -> list[BaseRead]:
    """Continuing-education bases (继续教育基地), by name."""
    found = await bases.get_all(status=filters.status, level=filters.level)
    return [_base_read(b) for b in found]


@router.post(
    "/bases",
    response_model=BaseRead,
    status_code=201,
    tags=["bases"],
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def create_base(base_in: BaseCreate, admin: Admin, response: Response) -> BaseRead:
    """Register a base with its first status (admin)."""
    base = await bases.create(base_in=base_in, by=admin.key)
    response.headers["Location"] = f"/bases/{base.id}"
    return _base_read(base)


@router.get("/bases/{base_id}", response_model=BaseRead, tags=["bases"], dependencies=[NoQuery])
async def get_base(base_id: str) -> BaseRead:
    """One base with the history of its status."""
    return _base_read(await bases.get(base_id=base_id))


@router.get("/bases/{base_id}/status", response_model=BaseStatusOn, tags=["bases"])
async def base_status_on(base_id: str, query: Annotated[StatusOnQuery, Query()]) -> BaseStatusOn:
    """The status a base had on a date (`?on=2022-05-01`)."""
    return bases.status_on(base=await bases.get(base_id=base_id), on=query.on)


@router.post(
    "/bases/{base_id}/status",
    response_model=BaseRead,
    tags=["bases"],
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def change_base_status(
    base_id: str, change: StatusChangeCreate, admin: Admin, events: Events
) -> BaseRead:
    """§三: certify, commend, criticise (with `rectify_by`, the rectification deadline) or
    revoke a base, with a reason and the date it takes effect; the ledgers of learners
    trained there follow at once. A criticised base not certified again by its deadline is
    revoked by the daily check, dated the deadline — at once when the deadline has already
    passed (a back-dated criticism): the check runs for the base after every change."""
    changed = await rectification.decide(
        base_id=base_id, change=change, by=admin.key, events=events
    )
    return _base_read(changed)


@router.patch(
    "/bases/{base_id}",
    response_model=BaseRead,
    tags=["bases"],
    dependencies=[ADMIN, JsonBody],
    responses=WRITE,
)
async def update_base(base_id: str, patch: BaseUpdate, admin: Admin) -> BaseRead:
    """Correct a base's name or level (admin); its status changes through its history."""
    return _base_read(await bases.update(base_id=base_id, patch=patch, by=admin.key))
