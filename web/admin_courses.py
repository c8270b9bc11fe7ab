"""The admin's course pages (issue 20): the list (search and filters), a course's page
(its fields, its edit form, retire or restore, its change history), a new course, and the
bulk import of a CSV or XLSX file (a dry run, then the same plan applied).

Every page needs a signed-in client holding `admin` (web.access.AdminPage); forms carry
the session's CSRF token and answer with a redirect (Post/Redirect/Get) or, when refused,
the form again with the admin's input and the refusal naming the field and the value.
Writes go through the catalog service as the JSON API's do, so each has its change
history entry and its line in the administrative log in the same transaction.
"""

from __future__ import annotations

import math
import re
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, File, Form, Request, Response, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from catalog import course_import
from catalog import service as catalog_service
from catalog.course_fields import (
    ACTION_LABELS,
    FIELD_LABELS,
    VALUE_LABELS,
    change_lines,
    value_text,
)
from catalog.course_import import COLUMNS, NEW_COURSE_NEEDS, ImportReport, value_of
from catalog.models import Course, CourseChange, CourseStatus
from catalog.schemas import CourseCreate, CourseFilter, CourseReplace, StatusFilter
from catalog.series import SERIES_NAMES
from nxce.core import admin_log
from nxce.core.auth import Principal
from nxce.core.errors import Conflict, NotFound, NxceError, PreconditionFailed
from nxce.core.json_route import JsonRoute
from nxce.core.preconditions import EntityTags
from search.backend import SearchQuery
from transcripts.wording import moment_text
from web import render
from web.access import AdminPage, PageMessage, admin_form
from web.course_words import refusal_words
from web.services import CatalogEventsDep, IndexerDep, SearchDep, SessionsDep, SettingsDep

router = APIRouter(prefix="/admin/courses", route_class=JsonRoute, include_in_schema=False)

LIST_PATH = "/admin/courses"
NEW_PATH = "/admin/courses/new"
IMPORT_PATH = "/admin/courses/import"
# the import form's own body limit (nxce/app.py): the file's, on this route alone
IMPORT_FORM_PATH = re.compile(re.escape(IMPORT_PATH))
PAGE_SIZE = 20
MAX_QUERY = 100
SHOWN_ROWS = 500  # rows of one kind an import report lists; the others are counted
FORM_FIELDS = ("title", "description", "category", "series", "subject", "hours", "year",
               "base", "delivery", "tags")  # fmt: skip
STATUS_CHOICES = (("published", "已发布"), ("retired", "已停用"), ("any", "全部"))
ROW_ACTIONS = {"create": "新建", "update": "修改", "unchanged": "不变", "refused": "拒绝"}
# What a page says after a form: fixed words, never the query's text.
DONE = {
    "created": "课程已新建。",
    "updated": "修改已保存。",
    "unchanged": "没有改动：提交的内容与课程现有内容相同。",
    "retired": "课程已停用：它不再出现在课程搜索和列表中，已登记的学时不受影响。",
    "restored": "课程已恢复发布。",
}


def course_path(code: str) -> str:
    return f"{LIST_PATH}/{quote(code, safe='')}"


async def _course(code: str) -> Course:
    try:
        return await catalog_service.get(code=code)
    except NotFound:
        text = f"课程编号 {code[:40]} 不存在。"
        raise PageMessage(404, "没有这门课程", text, (LIST_PATH, "返回课程管理")) from None


async def shown_course(code: str, _: AdminPage) -> Course:
    """The course of a page the admin asks for (who asks is checked first)."""
    return await _course(code)


ShownCourse = Annotated[Course, Depends(shown_course)]


# --- the list ------------------------------------------------------------------------


def _refuse_query(name: str, label: str, value: str, allowed: str) -> PageMessage:
    text = f"{label} {name} 只能是{allowed}，收到 {value[:40]!r}。"
    return PageMessage(422, f"无效的{label}", text, (LIST_PATH, "返回课程管理"))


@router.get("", response_class=HTMLResponse)
async def list_page(
    request: Request,
    _: AdminPage,
    backend: SearchDep,
    indexer: IndexerDep,
    q: str = "",
    category: str = "",
    series: str = "",
    status: str = "published",
    page: str = "1",
) -> Response:
    """Courses by text (the learners' search), category, series and status, 20 a page."""
    q = q.strip()
    if len(q) > MAX_QUERY or render.has_control(q):
        text = f"搜索内容 q 最多 {MAX_QUERY} 个字符，且不能含控制字符。"
        raise PageMessage(422, "无效的搜索内容", text, (LIST_PATH, "返回课程管理"))
    if category not in ("", *VALUE_LABELS["category"]):
        raise _refuse_query(
            "category", "类别", category, "公需课（public）或专业课（professional）"
        )
    if series not in ("", *SERIES_NAMES):
        raise _refuse_query("series", "系列", series, " 23 个系列之一")
    if status not in dict(STATUS_CHOICES):
        raise _refuse_query("status", "状态", status, "published、retired 或 any")
    number = render.small_number(page)
    if number is None or not 1 <= number <= 1000:
        raise _refuse_query("page", "页码", page, " 1 到 1000 的整数")
    items, total = await _find(
        backend, indexer, q=q, category=category or None, series=series or None,
        status=status, page=number,
    )  # fmt: skip
    state = {"q": q, "category": category, "series": series, "status": status}

    def url(**changes: Any) -> str:
        merged = {**state, **changes}
        kept = {k: v for k, v in merged.items() if v not in (None, "", 1)}
        if kept.get("status") == "published":
            del kept["status"]
        return LIST_PATH + ("?" + urlencode(kept) if kept else "")

    values = await render.context(
        request,
        section="courses",
        q=q,
        category=category,
        series=series,
        status=status,
        page=number,
        pages=max(1, math.ceil(total / PAGE_SIZE)),
        total=total,
        courses=items,
        series_names=SERIES_NAMES,
        categories=VALUE_LABELS["category"],
        statuses=STATUS_CHOICES,
        status_labels=VALUE_LABELS["status"],
        url=url,
    )
    return render.page(request, "admin_courses.html", values)


# Text that reads as (the start of) a course code, "GX-00" or "WS-0012": a digit or a hyphen
# tells it from pinyin ("gouqi"), which goes to search.
CODE_LIKE = re.compile(r"[A-Z]{1,6}-[A-Z0-9-]*|[A-Z]{1,6}-?[0-9][A-Z0-9-]*")


async def _find(
    backend: Any, indexer: Any, *, q: str, category: str | None, series: str | None,
    status: str, page: int,
) -> tuple[list[dict[str, Any]], int]:  # fmt: skip
    """A page of rows: by code without text (published courses from search, which holds
    them, the others from the catalog) or with the start of a code; with other text,
    published courses from search (ranked as learners see them), then retired ones."""
    skip = (page - 1) * PAGE_SIZE
    filters = CourseFilter.model_validate(
        {
            "category": category,
            "series": series,
            "status": StatusFilter(status),
            "page": page,
            "page_size": PAGE_SIZE,
        }
    )
    if not q and status == "published" and indexer.ready:  # the index is quicker
        listed = await backend.search(
            SearchQuery(
                category=category,
                series=series,
                sort=("code", "asc"),
                page=page,
                page_size=PAGE_SIZE,
            )
        )
        return [_row(hit.document, "published") for hit in listed.hits], listed.total
    if not q:
        courses, total = await catalog_service.get_all(filters=filters)
        return [_row(c) for c in courses], total
    if CODE_LIKE.fullmatch(q.upper()):
        courses, total = await catalog_service.find_by_code(prefix=q.upper(), filters=filters)
        return [_row(c) for c in courses], total
    rows: list[dict[str, Any]] = []
    found = 0
    if status in ("published", "any"):
        if not indexer.ready:
            text = "课程索引正在建立，请稍后刷新；不带搜索内容的列表现在就可用。"
            raise PageMessage(503, "请稍候", text, (LIST_PATH, "返回课程管理"))
        result = await backend.search(
            SearchQuery(q=q, category=category, series=series, page=page, page_size=PAGE_SIZE)
        )
        rows = [_row(hit.document, "published") for hit in result.hits]
        found = result.total
    if status in ("retired", "any"):
        retired_skip = max(0, skip - found) if status == "any" else skip
        limit = PAGE_SIZE - len(rows)
        courses, retired = await catalog_service.find_retired(
            text=q, category=category, series=series, skip=retired_skip, limit=max(limit, 1)
        )
        if limit > 0:
            rows += [_row(c) for c in courses]
        found += retired
    return rows, found


def _row(course: Course | Any, status: str | None = None) -> dict[str, Any]:
    """A row of the list from a course or a search document."""

    def get(name: str) -> Any:
        return course[name] if isinstance(course, dict) else getattr(course, name)

    status = status or str(getattr(get("status"), "value", get("status")))
    return {
        "code": get("code"),
        "title": get("title"),
        "category": value_text("category", get("category")),
        "series": get("series") or "",
        "hours": value_text("hours", float(get("hours"))),
        "year": get("year"),
        "status": value_text("status", status),
        "retired": status == CourseStatus.retired.value,
    }


# --- a course's page and its forms ----------------------------------------------------------


def _form_values(course: Course | None) -> dict[str, str]:
    """The edit form's fields as text, from the course (empty for a new one)."""
    if course is None:
        return {name: "" for name in ("code", *FORM_FIELDS)} | {"delivery": "both"}
    values = {"code": course.code}
    for name in FORM_FIELDS:
        value = getattr(course, name)
        if name == "tags":
            values[name] = "、".join(value)
        elif name == "hours":
            values[name] = render.hours(value)
        else:
            values[name] = "" if value is None else str(getattr(value, "value", value))
    return values


def _history_rows(changes: list[CourseChange]) -> list[dict[str, Any]]:
    return [
        {
            "revision": change.revision,
            "action": ACTION_LABELS.get(change.action.value, change.action.value),
            "by": change.by,
            "at": moment_text(change.changed_at),
            "lines": change_lines(change.changes),
        }
        for change in reversed(changes)
    ]


async def _course_page(
    request: Request,
    course: Course,
    *,
    form: dict[str, str] | None = None,
    revision: int | None = None,
    errors: dict[str, str] | None = None,
    since: list[CourseChange] | None = None,
    notice: str = "",
    status: int = 200,
) -> Response:
    changes = await catalog_service.history(code=course.code)
    values = await render.context(
        request,
        section="courses",
        course=course,
        facts=[
            (FIELD_LABELS[name], value_text(name, getattr(course, name)))
            for name in ("code", *FORM_FIELDS, "status")
            if name != "description"
        ],
        form=form or _form_values(course),
        revision=revision if revision is not None else course.revision,
        errors=errors or {},
        since=_history_rows(since or [])[::-1],
        history=_history_rows(changes),
        notice=notice,
        path=course_path(course.code),
        retired=course.status == CourseStatus.retired,
        **_choices(),
    )
    return render.page(request, "admin_course.html", values, status=status)


def _choices() -> dict[str, Any]:
    return {
        "labels": FIELD_LABELS,
        "series_names": SERIES_NAMES,
        "categories": VALUE_LABELS["category"],
        "deliveries": VALUE_LABELS["delivery"],
    }


@router.get("/new", response_class=HTMLResponse)
async def new_page(request: Request, _: AdminPage) -> Response:
    values = await render.context(
        request, section="courses", form=_form_values(None), errors={}, **_choices()
    )
    return render.page(request, "admin_course_new.html", values)


@router.get("/import", response_class=HTMLResponse)
async def import_page(request: Request, _: AdminPage, done: str = "") -> Response:
    """The upload form with its help; after an apply, what the import did (its log line)."""
    line = None
    if done and len(done) == 12 and all(c in "0123456789abcdef" for c in done):
        found = await admin_log.entries(
            area=admin_log.Area.catalog, target=f"import:{done}", limit=1
        )
        line = found[0].summary if found else None
    return await _import_page(request, done=line)


@router.get("/{code}", response_class=HTMLResponse)
async def course_page(request: Request, course: ShownCourse) -> Response:
    notice = DONE.get(request.query_params.get("done", ""), "")
    return await _course_page(request, course, notice=notice)


async def posted_by_admin(
    request: Request, sessions: SessionsDep, code: str = "", csrf: str = Form("")
) -> Principal:
    """The admin posting a form of a course's page (or of the new course's)."""
    page = course_path(code) if code else NEW_PATH
    return await admin_form(request, sessions, csrf, page)


AdminForm = Annotated[Principal, Depends(posted_by_admin)]


async def _posted_fields(request: Request, names: tuple[str, ...]) -> dict[str, str]:
    form = await request.form()
    posted = {}
    for name in names:
        value = form.get(name, "")
        posted[name] = value if isinstance(value, str) else ""
    return posted


def _field_errors(error: ValidationError, posted: dict[str, str]) -> dict[str, str]:
    """Each refused field's message, naming the field and the value as sent."""
    found: dict[str, str] = {}
    for entry in error.errors():
        where = str(entry["loc"][0]) if entry["loc"] else ""
        message = str(entry["msg"]).removeprefix("Value error, ")
        name = where if where in FIELD_LABELS else ("series" if "series" in message else "category")
        shown = posted.get(name, "")
        words = refusal_words(message)
        found.setdefault(name, f"{FIELD_LABELS[name]}（{name}）：{words}，收到“{shown[:80]}”")
    return found


def _typed(posted: dict[str, str]) -> dict[str, Any]:
    typed = {name: value_of(name, text.strip()) for name, text in posted.items()}
    if typed.get("category") == "public" and not posted.get("series"):
        typed["series"] = None
    return typed


@router.post("/new", response_class=HTMLResponse)
async def create_course(
    request: Request, admin: AdminForm, settings: SettingsDep, events: CatalogEventsDep
) -> Response:
    """Create a course (as `POST /courses`)."""
    posted = await _posted_fields(request, ("code", *FORM_FIELDS))
    posted["code"] = posted["code"].strip().upper()
    errors: dict[str, str] = {}
    try:
        course_in = CourseCreate.model_validate(_typed(posted))
        await catalog_service.create(
            course_in=course_in, activity_base=str(settings.activity_base), by=admin.key,
            events=events,
        )  # fmt: skip
    except ValidationError as error:
        errors = _field_errors(error, posted)
    except Conflict:
        errors = {"code": f"课程编号（code）：“{posted['code']}”已被另一门课程使用"}
    if errors:
        values = await render.context(
            request, section="courses", form=posted, errors=errors, **_choices()
        )
        return render.page(request, "admin_course_new.html", values, status=422)
    return RedirectResponse(course_path(posted["code"]) + "?done=created", status_code=303)


@router.post("/{code}/edit", response_class=HTMLResponse)
async def edit_course(
    request: Request, code: str, admin: AdminForm, events: CatalogEventsDep
) -> Response:
    """Save the form (as `PUT /courses/{code}` with `If-Match` the revision the form was
    loaded at): an edit against a course changed since is refused, showing what changed
    in between, with the admin's input kept."""
    course = await _course(code)
    posted = await _posted_fields(request, (*FORM_FIELDS, "revision"))
    loaded = render.small_number(posted.pop("revision"), digits=9)
    if loaded is None:
        text = "表单缺少它载入时的课程版本（revision），请刷新页面后重新编辑。"
        raise PageMessage(422, "无法保存", text, (course_path(code), "返回课程"))
    try:
        course_in = CourseReplace.model_validate(_typed(posted))
        before = course.revision
        saved = await catalog_service.replace(
            code=course.code, course_in=course_in, by=admin.key,
            if_match=EntityTags(any=False, strong=frozenset({str(loaded)})), events=events,
        )  # fmt: skip
    except ValidationError as error:
        errors = _field_errors(error, posted)
        return await _course_page(request, course, form=posted, revision=loaded,
                                  errors=errors, status=422)  # fmt: skip
    except (PreconditionFailed, Conflict):
        current = await _course(code)
        since = await catalog_service.history(code=code, after=loaded)
        return await _course_page(request, current, form=posted, revision=loaded,
                                  since=since, status=409)  # fmt: skip
    done = "updated" if saved.revision != before else "unchanged"
    return RedirectResponse(course_path(code) + f"?done={done}", status_code=303)


@router.post("/{code}/retire")
async def retire_course(code: str, admin: AdminForm, events: CatalogEventsDep) -> Response:
    """Retire the course (as `DELETE /courses/{code}`)."""
    course = await _course(code)
    await catalog_service.retire(code=course.code, by=admin.key, events=events)
    return RedirectResponse(course_path(code) + "?done=retired", status_code=303)


@router.post("/{code}/restore")
async def restore_course(code: str, admin: AdminForm, events: CatalogEventsDep) -> Response:
    """Publish the course again (as `POST /courses/{code}/restore`)."""
    course = await _course(code)
    await catalog_service.restore(code=course.code, by=admin.key, events=events)
    return RedirectResponse(course_path(code) + "?done=restored", status_code=303)


# --- bulk import ---------------------------------------------------------------------------


def _report_rows(report: ImportReport) -> dict[str, Any]:
    """The rows a report page lists: refused and changed ones first, each kind up to
    `SHOWN_ROWS`; unchanged rows are counted, not listed."""
    kinds: dict[str, list[dict[str, Any]]] = {"refused": [], "update": [], "create": []}
    for row in report.rows:
        if row.action not in kinds:
            continue
        if row.action == "refused":
            lines = [
                f"{e.column}：{refusal_words(e.message)}（收到“{e.value[:80]}”）"
                for e in row.errors
            ]
        elif row.action == "update":
            lines = change_lines(row.changes)
        else:
            lines = []
        kinds[row.action].append(
            {"row": row.row, "code": row.code, "title": row.title, "lines": lines}
        )
    return {
        kind: {"shown": rows[:SHOWN_ROWS], "more": max(0, len(rows) - SHOWN_ROWS)}
        for kind, rows in kinds.items()
    }


async def _import_page(
    request: Request,
    *,
    report: ImportReport | None = None,
    error: str = "",
    done: str | None = None,
    status: int = 200,
) -> Response:
    values = await render.context(
        request,
        section="courses",
        columns=[
            (field, aliases, field == "code" or field in NEW_COURSE_NEEDS)
            for field, aliases in COLUMNS.items()
        ],
        report=report,
        kinds=_report_rows(report) if report else {},
        row_actions=ROW_ACTIONS,
        error=error,
        done=done,
        max_rows=course_import.MAX_ROWS,
        path=IMPORT_PATH,
    )
    return render.page(request, "admin_course_import.html", values, status=status)


async def import_form(
    request: Request,
    sessions: SessionsDep,
    file: Annotated[UploadFile | None, File()] = None,
    csrf: str = Form(""),
) -> tuple[Principal, UploadFile | None]:
    """The admin posting the import form, and the file."""
    return await admin_form(request, sessions, csrf, IMPORT_PATH), file


@router.post("/import", response_class=HTMLResponse)
async def import_file(
    request: Request,
    posted: Annotated[tuple[Principal, UploadFile | None], Depends(import_form)],
    settings: SettingsDep,
    events: CatalogEventsDep,
    mode: str = Form("dry"),
    sha256: str = Form(""),
    plan: str = Form(""),
    rows: str = Form("all"),
) -> Response:
    """A dry run of the file (`mode=dry`), or the plan a dry run showed applied
    (`mode=apply` with its `sha256` and `plan`): as `POST /courses/import`."""
    admin, file = posted
    if mode not in ("dry", "apply") or rows not in ("all", "valid"):
        shown = f"{mode[:20]!r}、{rows[:20]!r}"
        text = f"mode 只能是 dry 或 apply，rows 只能是 all 或 valid，收到 {shown}。"
        return await _import_page(request, error=text, status=422)
    if file is None or not file.filename:
        text = "请选择要导入的 CSV 或 XLSX 文件（file）。"
        return await _import_page(request, error=text, status=422)
    content = await file.read(course_import.MAX_BYTES + 1)
    try:
        if mode == "dry":
            found = await course_import.check(content=content)
            report = found.report(dry_run=True, applied=False)
            return await _import_page(request, report=report)
        await course_import.apply(
            content=content, sha256=sha256, plan_digest=plan, only_valid=rows == "valid",
            activity_base=str(settings.activity_base), by=admin.key,
            file_name=file.filename, events=events,
        )  # fmt: skip
    except NxceError as error:
        carried = error.extra.get("report")
        again = ImportReport.model_validate(carried) if isinstance(carried, dict) else None
        return await _import_page(request, report=again, error=_import_error(error),
                                  status=error.status)  # fmt: skip
    return RedirectResponse(f"{IMPORT_PATH}?done={sha256.strip().lower()[:12]}", status_code=303)


def _import_error(error: NxceError) -> str:
    """What the page says when a file is refused (the API's detail names the field)."""
    if isinstance(error, Conflict) and error.detail.startswith("sha256"):
        return ("文件与试运行时的不是同一个（内容已改变），没有写入任何内容。"
                "请对这个文件重新试运行，核对结果后再导入。")  # fmt: skip
    if isinstance(error, Conflict):
        return ("自试运行以来，文件中的课程已被修改或新建，导入结果将与试运行所示不同；"
                "没有写入任何内容。请重新试运行。下面是按当前目录重新核对的结果。")  # fmt: skip
    if error.status == 422 and "rows=valid" in error.detail:
        return ("文件中有被拒绝的行，没有写入任何内容。请改正后重新试运行；"
                "或勾选“只导入有效行”，只导入其余的行。")  # fmt: skip
    return f"无法读取文件：{error.detail}"
