"""The pages: course search and course pages for everyone; sign-in; a learner's record;
the verification page a transcript's QR code leads to.

Server-rendered (Jinja2, escaped by default) with a little JavaScript for suggestions.
Pages a visitor may not see answer 403 with a page saying why; signed-out visitors of a
signed-in page are sent to sign in first.
"""

from __future__ import annotations

import base64
import math
import secrets
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from catalog import service as catalog_service
from catalog.series import SERIES_NAMES
from credits import learners as credit_learners
from credits import progress as credit_progress
from nxce.core import clients
from nxce.core.auth import Principal
from nxce.core.errors import NotFound, NxceError, TooManyRequests, Unauthorized
from nxce.core.params import no_query
from search.backend import SearchQuery
from transcripts import api as transcript_api
from transcripts import content as transcript_content
from transcripts import service as transcript_service
from transcripts.formats import FORMATS
from web import render
from web.render import CATEGORIES, CATEGORY_LABELS
from web.session import CSRF_COOKIE, csrf_ok, principal_of

PAGE_SIZE = 20
MAX_QUERY = 100

router = APIRouter(include_in_schema=False)


# --- search and courses ---------------------------------------------------------------


@router.get("/", response_class=HTMLResponse)
async def search_page(
    request: Request,
    q: str = "",
    category: str | None = None,
    series: str | None = None,
    page: str = "1",
) -> Response:
    """Course search: the query, the filters and the page are in the URL, to share."""
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
    indexer = request.app.state.indexer
    if not indexer.ready:
        return await render.message(request, 503, "请稍候", "课程索引正在建立，请稍后刷新。")
    backend = request.app.state.search
    result = await backend.search(
        SearchQuery(
            q=q.strip(),
            category=category or None,
            series=series or None,
            page=number,
            page_size=PAGE_SIZE,
            facets=("category", "series"),
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


def _status(course_code: str, found: dict[str, Any]) -> dict[str, str]:
    for done in found["completed"]:
        if done["code"] == course_code:
            if done["status"] == "counted":
                return {"key": "credited", "label": "已完成，已计入学时",
                        "detail": f"{render.hours(done['hours'])} 学时"}  # fmt: skip
            if done["status"] == "pending_review":
                return {"key": "pending", "label": "已完成，学时待审核", "detail": ""}
            return {"key": "done", "label": "已完成", "detail": "学时未计入"}
    for going in found["in_progress"]:
        if going["code"] == course_code:
            detail = f"进度 {int(going['progress'])}%" if going["progress"] is not None else ""
            return {"key": "learning", "label": "学习中", "detail": detail}
    return {"key": "new", "label": "未开始", "detail": ""}


@router.get("/course/{code}", response_class=HTMLResponse)
async def course_page(request: Request, code: str) -> Response:
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
            found = await credit_progress.progress(
                credits=request.app.state.credits, learner=learner
            )
            values["status"] = _status(course.code, found)
    return render.page(request, "course.html", values)


# --- signing in and out ----------------------------------------------------------------


def _local(path: str) -> str:
    """Only a path on this site, never elsewhere (no open redirect)."""
    if (
        not path.startswith("/")
        or path.startswith("//")
        or "\\" in path
        or render.has_control(path)
    ):
        return "/"
    return path


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, next: str = "/") -> Response:
    token = secrets.token_urlsafe(24)
    values = await render.context(request, error=None, key="", next=_local(next))
    values["csrf"] = token
    response = render.page(request, "signin.html", values)
    _csrf_cookie(response, token, request)
    return response


def _csrf_cookie(response: Response, token: str, request: Request) -> None:
    response.set_cookie(
        CSRF_COOKIE,
        token,
        httponly=True,
        samesite="strict",
        path="/signin",
        secure=render.secure_cookies(request),
    )


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    key: str = Form("", max_length=64),
    secret: str = Form("", max_length=200),
    csrf: str = Form(""),
    next: str = Form("/"),
) -> Response:
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), csrf):
        text = "登录表单已过期，请刷新后重试。"
        return await render.message(request, 403, "请重新登录", text, ("/signin", "重新登录"))
    authorization = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    address = request.client.host if request.client else "unknown"
    try:
        principal: Principal = await request.app.state.verifier.principal(authorization, address)
    except (Unauthorized, TooManyRequests) as error:
        token = secrets.token_urlsafe(24)
        text = (
            "账号或密钥不正确。"
            if isinstance(error, Unauthorized)
            else "尝试次数过多，请稍后再试。"
        )
        values = await render.context(request, error=text, key=key[:64], next=_local(next))
        values["csrf"] = token
        response = render.page(request, "signin.html", values, error.status)
        _csrf_cookie(response, token, request)
        if isinstance(error, TooManyRequests):
            response.headers["Retry-After"] = str(error.extra.get("retry_after", 60))
        return response
    home = "/me" if principal.learner_id else "/"
    response = RedirectResponse(_local(next) if next != "/" else home, status_code=303)
    client = await clients.get_by_key(key=principal.key)
    assert client is not None  # it was verified a moment ago
    secure = render.secure_cookies(request)
    render.sessions(request).start(response, principal.key, client.secret_hash, request, secure)
    return response


@router.post("/signout")
async def signout(request: Request, csrf: str = Form("")) -> Response:
    session = render.sessions(request).current(request)
    if session is not None and not csrf_ok(session.csrf, csrf):
        return await render.message(request, 403, "无法退出", "表单已过期，请刷新页面后再退出。")
    response = RedirectResponse("/", status_code=303)
    await render.sessions(request).end(response, session)
    return response


# --- a learner's record -----------------------------------------------------------------


async def _learner_or_page(request: Request, target: str) -> tuple[Any, Any] | Response:
    """(principal, learner) of a signed-in learner; otherwise the page to answer."""
    principal = await principal_of(render.sessions(request), request)
    if principal is None:
        return RedirectResponse("/signin?" + urlencode({"next": target}), status_code=303)
    if not principal.learner_id:
        text = "“我的学时”供以学员身份登录的账号使用；本账号不属于某位学员。"
        return await render.message(request, 403, "仅限学员", text)
    try:
        learner = await credit_learners.get_learner(learner_id=principal.learner_id)
    except NotFound:
        return await render.message(
            request, 404, "没有学员档案", "本账号对应的学员尚未登记，请联系管理员。"
        )
    return principal, learner


@router.get("/me", response_class=HTMLResponse)
async def my_record(request: Request) -> Response:
    found = await _learner_or_page(request, "/me")
    if isinstance(found, Response):
        return found
    _, learner = found
    record = await credit_progress.progress(credits=request.app.state.credits, learner=learner)
    audit = record["next_audit"]
    values = await render.context(
        request,
        learner=learner,
        year=record["this_year"],
        audit=audit,
        level_label=transcript_content.LEVEL_LABELS.get(audit.level, "") if audit else "",
        pending=record["pending_review"],
        courses=record["courses"],
        in_progress=record["in_progress"],
        completed=record["completed"],
    )
    return render.page(request, "me.html", values)


@router.get("/me/transcript")
async def my_transcript(request: Request, format: str = "pdf") -> Response:
    found = await _learner_or_page(request, "/me")
    if isinstance(found, Response):
        return found
    principal, learner = found
    if render.cross_site(request):
        text = "请在本站页面上点击下载。"
        return await render.message(request, 403, "无法下载", text)
    if format not in FORMATS:
        text = render.bad_format(format)
        return await render.message(request, 422, "无效的格式", text)
    return await transcript_api.transcript_file(
        request,
        principal=principal,
        learner_id=learner.learner_id,
        asked=transcript_service.Request(),
        format_=format,
        attachment=True,
    )


# --- verification ------------------------------------------------------------------------


def _wants_html(request: Request) -> bool:
    accept = request.headers.get("accept", "")
    return "text/html" in accept and "application/json" not in accept.split("text/html")[0]


@router.get("/verify/{code}")
async def verify_page(request: Request, code: str) -> Response:
    """A browser (a QR code) gets a page; anything else the JSON of the API."""
    transcripts = request.app.state.transcripts
    if not _wants_html(request):
        await no_query(request)
        found = await transcript_api.verify(code, transcripts)
        return JSONResponse(found.model_dump(mode="json"))
    try:
        record = await transcript_service.verify(transcripts=transcripts, code=code)
    except NxceError as error:
        reason = (
            "验证码格式不正确"
            if error.status == 422
            else "本平台没有出具过该验证码对应的学时证明，或其记录已被改动"
        )
        values = await render.context(request, summary=None, reason=reason, code=code[:40])
        return render.page(request, "verify.html", values, 404 if error.status == 404 else 422)
    issued = transcript_content.issued_date_text({"issued_at": record.summary["issued_at"]})
    values = await render.context(request, summary=record.summary, code=record.code, issued=issued)
    return render.page(request, "verify.html", values)
