"""The pages: course search and course pages for everyone; the verification page a
transcript's QR code leads to; signing in (`web.signin`) and a learner's own page
(`web.me`), whose routes this router includes.

Server-rendered (Jinja2, escaped by default) with a little JavaScript for suggestions.
Pages a visitor may not see answer 403 with a page saying why; signed-out visitors of a
signed-in page are sent to sign in first.
"""

from __future__ import annotations

import math
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse

from catalog import programme as catalog_programme
from catalog import service as catalog_service
from catalog.programme import Programme
from catalog.programme_api import certificate_verified
from catalog.series import SERIES_NAMES
from credits import learners as credit_learners
from credits import progress as credit_progress
from credits.schemas import ProgressRead
from nxce.core.errors import NotFound, NxceError
from nxce.core.json_route import JsonRoute
from nxce.core.params import no_query
from search.backend import SearchQuery
from transcripts import api as transcript_api
from transcripts import codes as transcript_codes
from transcripts import service as transcript_service
from transcripts.wording import issued_date_text, issued_time_text
from web import render
from web.me import router as me_router
from web.render import CATEGORIES, CATEGORY_LABELS
from web.services import (
    CreditsDep,
    IndexerDep,
    SearchDep,
    SessionsDep,
    TranscriptsDep,
)
from web.session import Sessions, principal_of
from web.signin import router as signin_router

PAGE_SIZE = 20
MAX_QUERY = 100

router = APIRouter(route_class=JsonRoute, include_in_schema=False)


# --- search and courses ---------------------------------------------------------------


async def _learner_series(sessions: Sessions, request: Request) -> str | None:
    """The series of the signed-in learner (None when signed out or not a learner)."""
    principal = await principal_of(sessions, request)
    if principal is None or not principal.learner_id:
        return None
    try:
        learner = await credit_learners.get_learner(learner_id=principal.learner_id)
    except NotFound:
        return None
    return learner.series


@router.get("/", response_class=HTMLResponse)
async def search_page(
    request: Request,
    indexer: IndexerDep,
    backend: SearchDep,
    sessions: SessionsDep,
    q: str = "",
    category: str | None = None,
    series: str | None = None,
    page: str = "1",
) -> Response:
    """Course search: the query, the filters and the page are in the URL, to share; a
    signed-in learner's series (and public courses) come first among equally relevant
    hits."""
    if len(q) > MAX_QUERY:
        return await render.message(
            request, 422, "搜索内容过长", f"搜索内容最多 {MAX_QUERY} 个字符。"
        )
    if category not in (None, "", *CATEGORY_LABELS):
        text = f"类别 category 只能是公需课或专业课，收到 {category!r}。"
        return await render.message(request, 422, "无效的类别", text)
    if series not in (None, "", *SERIES_NAMES):
        text = f"系列 series 不在 23 个系列之中，收到 {series!r}。"
        return await render.message(request, 422, "无效的系列", text)
    number = render.small_number(page)
    if number is None or not 1 <= number <= 1000:
        text = f"页码 page 应为 1 到 1000 的整数，收到 {page[:20]!r}。"
        return await render.message(request, 422, "无效的页码", text)
    if not indexer.ready:
        return await render.message(request, 503, "请稍候", "课程索引正在建立，请稍后刷新。")
    result = await backend.search(
        SearchQuery(
            q=q.strip(),
            category=category or None,
            series=series or None,
            page=number,
            page_size=PAGE_SIZE,
            facets=("category", "series"),
            prefer_series=await _learner_series(sessions, request),
        )
    )
    state = {"q": q, "category": category or None, "series": series or None, "page": number}

    def url(**changes: Any) -> str:
        merged = {**state, **changes}
        kept = {
            k: v for k, v in merged.items() if v not in (None, "") and not (k == "page" and v == 1)
        }
        return "/?" + urlencode(kept) if kept else "/"

    series_counts = sorted(
        result.facets.get("series", {}).items(), key=lambda item: (-item[1], item[0])
    )
    values = await render.context(
        request,
        q=q,
        category=category or None,
        series=series or None,
        page=number,
        pages=max(1, math.ceil(result.total / PAGE_SIZE)),
        total=result.total,
        hits=[{**hit.document, "title_highlighted": hit.title_highlighted} for hit in result.hits],
        facets=result.facets,
        categories=CATEGORIES,
        series_counts=series_counts,
        url=url,
    )
    return render.page(request, "search.html", values)


def _status(course_code: str, found: ProgressRead) -> dict[str, str]:
    for done in found.completed:
        if done.code == course_code:
            if done.status == "counted":
                return {"key": "credited", "label": "已完成，已计入学时",
                        "detail": f"{render.hours(done.hours)} 学时"}  # fmt: skip
            if done.status == "pending_review":
                return {"key": "pending", "label": "已完成，学时待审核", "detail": ""}
            if done.status == "awaiting_policy":  # no policy covers the year yet
                return {"key": "awaiting", "label": "已完成，学时已登记",
                        "detail": "待本年度政策发布后计入"}  # fmt: skip
            return {"key": "done", "label": "已完成", "detail": "学时未计入"}
    for going in found.in_progress:
        if going.code == course_code:
            detail = f"进度 {int(going.progress)}%" if going.progress is not None else ""
            return {"key": "learning", "label": "学习中", "detail": detail}
    return {"key": "new", "label": "未开始", "detail": ""}


@router.get("/course/{code}", response_class=HTMLResponse)
async def course_page(request: Request, code: str, credits: CreditsDep) -> Response:
    try:
        course = await catalog_service.get(code=code)
    except NotFound:
        text = f"课程编号 {code[:40]} 不存在。"
        return await render.message(request, 404, "没有这门课程", text, ("/", "返回课程搜索"))
    values = await render.context(request, course=course, status=None)
    principal = values["principal"]
    if principal is not None and principal.learner_id:
        try:
            learner = await credit_learners.get_learner(learner_id=principal.learner_id)
        except NotFound:
            learner = None
        if learner is not None:
            found = await credit_progress.progress(credits=credits, learner=learner)
            values["status"] = _status(course.code, found)
    return render.page(request, "course.html", values)


# --- verification ------------------------------------------------------------------------


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


@router.get("/verify/{code}")
async def verify_page(
    request: Request,
    code: str,
    transcripts: TranscriptsDep,
    programme: transcript_api.ProgrammeDep,
) -> Response:
    """A browser (a QR code) gets a page; anything else the JSON of the API."""
    if not _wants_html(request):
        await no_query(request)
        found = await transcript_api.verify(code, transcripts, programme)
        return JSONResponse(found.model_dump(mode="json"))
    try:
        record = await transcript_service.verify(transcripts=transcripts, code=code)
    except NxceError as error:
        certificate = await _certificate(programme, code) if error.status == 404 else None
        if certificate is not None:
            values = await render.context(request, summary=None, certificate=certificate)
            return render.page(request, "verify.html", values)
        reason = (
            "验证码格式不正确"
            if error.status == 422
            else "本平台没有出具过该验证码对应的学时证明或结业证书，或其记录已被改动"
        )
        values = await render.context(
            request, summary=None, certificate=None, reason=reason, code=code[:40]
        )
        return render.page(request, "verify.html", values, 404 if error.status == 404 else 422)
    issued = issued_date_text(record.summary["issued_at"])
    verdict = record.summary.get("verdict") or {}
    concluded = verdict.get("conclusion")  # none in summaries of computed verdicts
    values = await render.context(
        request,
        summary=record.summary,
        certificate=None,
        code=record.code,
        issued=issued,
        concluded_at=issued_time_text(concluded["at"]) if concluded else "",
    )
    return render.page(request, "verify.html", values)


async def _certificate(programme: Programme, code: str) -> dict[str, Any] | None:
    """A programme certificate's verification (§五(二)) as the page shows it, or None."""
    cleaned = transcript_codes.normalise(code)
    found = None
    if cleaned is not None:
        found = await catalog_programme.verify_certificate(programme=programme, code=cleaned)
    if found is None:
        return None
    return certificate_verified(found).model_dump(mode="json")


router.include_router(signin_router)
router.include_router(me_router)
