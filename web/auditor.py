"""Pages for auditors (评审委员会, 人社部门): find a learner, read the audit of an
application with its shortfall and the rules applied, approve or reject pending entries,
download transcripts; start a batch export, watch it, download the ZIP.

Every page needs a signed-in client holding `auditor` (or `admin`): signed-out visitors
are sent to sign in, other accounts get a 403 page. National id numbers in full for
auditors, as in the API.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from credits import audit as audit_rules
from credits import learners as credit_learners
from credits import ledger as credit_ledger
from credits.access import sees_full_id_numbers
from credits.models import AuditedEntry, Learner, LedgerEntry
from nxce.core.auth import Principal
from nxce.core.clients import Scope
from nxce.core.errors import NxceError
from transcripts import api as transcript_api
from transcripts import content as transcript_content
from transcripts import exports
from transcripts import service as transcript_service
from transcripts.formats import FORMATS
from web import render
from web.session import csrf_ok, principal_of

router = APIRouter(prefix="/auditor", include_in_schema=False)
LEVELS = (("intermediate", "中级"), ("deputy_senior", "副高级"), ("senior", "正高级"))
FOUND_AT_MOST = 50
FORMAT_CHOICES = (("pdf", "PDF"), ("xlsx", "Excel"), ("csv", "CSV"), ("json", "JSON"))


async def _auditor_or_page(request: Request) -> Principal | Response:
    principal = await principal_of(render.sessions(request), request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse("/signin?" + urlencode({"next": target}), status_code=303)
    if not (principal.holds(Scope.auditor) or principal.holds(Scope.admin)):
        return await render.message(
            request, 403, "仅限审核人员", "本页面供评审委员会和人社部门的审核账号使用。"
        )
    return principal


async def _form_by_auditor(request: Request, csrf: str) -> Principal | Response:
    """The auditor posting a form with the session's CSRF token; otherwise the page."""
    principal = await _auditor_or_page(request)
    if isinstance(principal, Response):
        return principal
    session = render.sessions(request).current(request)
    if session is None or not csrf_ok(session.csrf, csrf):
        return await render.message(request, 403, "表单已过期", "请刷新页面后再提交。")
    return principal


@router.get("", response_class=HTMLResponse)
async def find(request: Request, q: str = "") -> Response:
    """Learners by id, name or employer (a part of either)."""
    principal = await _auditor_or_page(request)
    if isinstance(principal, Response):
        return principal
    q = q.strip()
    if len(q) > 100:
        return await render.message(request, 422, "查询内容过长", "查询内容最多 100 个字符。")
    if render.has_control(q):  # MongoDB refuses a NUL in a pattern
        return await render.message(request, 422, "无效的查询", "查询内容 q 不能含控制字符。")
    found: list[Learner] = []
    if q:
        part = {"$regex": re.escape(q)}  # the text as it is: no pattern from the visitor
        found = (
            await Learner.find({"$or": [{"learner_id": q}, {"name": part}, {"employer": part}]})
            .sort("+learner_id")
            .limit(FOUND_AT_MOST)
            .to_list()
        )
    values = await render.context(request, q=q, found=found, at_most=FOUND_AT_MOST)
    return render.page(request, "auditor_find.html", values)


def _level_and_year(request: Request, level: str, year: str) -> tuple[str, int] | str:
    policies = request.app.state.credits.policies
    if level not in dict(LEVELS):
        return f"申报级别 level 只能是中级、副高级或正高级，收到 {level[:20]!r}。"
    number = render.small_number(year)
    if number is None:
        return f"申报年度 year 应为年份，收到 {year[:20]!r}。"
    known = [p.application_year for p in policies.all]
    if number not in known:
        return f"申报年度 year 没有对应的政策（可选：{'、'.join(map(str, known))}），收到 {year}。"
    return level, number


@router.get("/learners/{learner_id}", response_class=HTMLResponse)
async def learner_page(
    request: Request, learner_id: str, level: str = "intermediate", year: str = ""
) -> Response:
    principal = await _auditor_or_page(request)
    if isinstance(principal, Response):
        return principal
    credits = request.app.state.credits
    year = year or str(credits.policies.newest().application_year)
    chosen = _level_and_year(request, level, year)
    if isinstance(chosen, str):
        return await render.message(request, 422, "无效的参数", chosen)
    level, application_year = chosen
    try:
        learner = await credit_learners.get_learner(learner_id=learner_id)
    except NxceError:
        text = f"学员编号 {learner_id[:64]} 不存在。"
        back = ("/auditor", "查找学员")
        return await render.message(request, 404, "没有这位学员", text, back)
    policy = credits.policies.for_application(application_year)
    entries = await LedgerEntry.find({"learner_id": learner_id}).sort("+occurred_on").to_list()
    verdict = audit_rules.audit(  # the ledger read once, for the audit and the list
        learner=learner,
        entries=[AuditedEntry.from_document(e.model_dump()) for e in entries],
        policy=policy,
        level=level,
    )
    number = (
        credits.vault.decrypt(learner.id_number_encrypted)
        if sees_full_id_numbers(principal)
        else learner.id_number_masked
    )
    values = await render.context(
        request,
        learner=learner,
        id_number=number,
        verdict=verdict,
        verdict_text=transcript_content.verdict_text(
            {**verdict.model_dump(by_alias=True), "level_label": dict(LEVELS)[level]}
        ),
        applied=[transcript_content.applied_text(a.model_dump()) for a in verdict.applied],
        entries=[transcript_content.entry_line(e.model_dump()) for e in entries],
        levels=LEVELS,
        level=level,
        year=application_year,
        years=[p.application_year for p in credits.policies.all],
        formats=FORMAT_CHOICES,
        notice=_notice(request),
    )
    return render.page(request, "auditor_learner.html", values)


@router.post("/learners/{learner_id}/entries/{entry_id}/review")
async def review(
    request: Request,
    learner_id: str,
    entry_id: str,
    decision: str = Form(""),
    reason: str = Form("", max_length=1000),
    csrf: str = Form(""),
) -> Response:
    principal = await _form_by_auditor(request, csrf)
    if isinstance(principal, Response):
        return principal
    if decision not in ("approve", "reject") or not reason.strip():
        text = "请选择通过或不通过，并填写理由（reason）。"
        return await render.message(request, 422, "请填写审核意见", text)
    try:
        await credit_ledger.review(
            credits=request.app.state.credits,
            learner_id=learner_id,
            entry_id=entry_id,
            decision=decision,
            reason=reason.strip(),
            by=principal.key,
        )
    except NxceError as error:
        return await render.message(request, error.status, "无法审核", error.detail)
    return RedirectResponse(
        f"/auditor/learners/{learner_id}?" + urlencode({"done": decision, "entry": entry_id}),
        status_code=303,
    )


_DONE = {"approve": "已通过", "reject": "已驳回"}
_ENTRY_ID = re.compile(r"^[0-9a-f-]{36}$")


def _notice(request: Request) -> str:
    """The message after a review: fixed words, so no link can put others on the page."""
    done, entry = request.query_params.get("done", ""), request.query_params.get("entry", "")
    if done not in _DONE or not _ENTRY_ID.match(entry):
        return ""
    return f"{_DONE[done]}：{entry}"


@router.get("/learners/{learner_id}/transcript")
async def transcript(
    request: Request, learner_id: str, format: str = "pdf", level: str = "", year: str = ""
) -> Response:
    principal = await _auditor_or_page(request)
    if isinstance(principal, Response):
        return principal
    if render.cross_site(request):
        return await render.message(request, 403, "无法下载", "请在本站页面上点击下载。")
    if format not in FORMATS:
        text = render.bad_format(format)
        return await render.message(request, 422, "无效的格式", text)
    asked = transcript_service.Request()
    if level:
        chosen = _level_and_year(request, level, year or "0")
        if isinstance(chosen, str):
            return await render.message(request, 422, "无效的参数", chosen)
        asked = transcript_service.Request(level=chosen[0], year=chosen[1])
    try:
        return await transcript_api.transcript_file(
            request,
            principal=principal,
            learner_id=learner_id,
            asked=asked,
            format_=format,
            attachment=True,
        )
    except NxceError as error:
        return await render.message(request, error.status, "无法出具", error.detail)


# --- batch exports ---------------------------------------------------------------------


@router.get("/exports", response_class=HTMLResponse)
async def exports_page(request: Request) -> Response:
    principal = await _auditor_or_page(request)
    if isinstance(principal, Response):
        return principal
    values = await render.context(
        request,
        jobs=await exports.mine(requested_by=principal.key, limit=20),
        levels=LEVELS,
        years=[p.application_year for p in request.app.state.credits.policies.all],
        series_names=request.app.state.search_series,
        formats=FORMAT_CHOICES,
    )
    return render.page(request, "auditor_exports.html", values)


@router.post("/exports")
async def start_export(
    request: Request,
    employer: str = Form("", max_length=200),
    series: str = Form("", max_length=50),
    level: str = Form(""),
    year: str = Form(""),
    format: str = Form("pdf"),
    csrf: str = Form(""),
) -> Response:
    principal = await _form_by_auditor(request, csrf)
    if isinstance(principal, Response):
        return principal
    if format not in FORMATS:
        text = render.bad_format(format)
        return await render.message(request, 422, "无效的格式", text)
    if not employer.strip() and not series:
        text = "请填写工作单位（employer）或选择系列（series）。"
        return await render.message(request, 422, "请选择学员", text)
    asked: dict[str, Any] = {
        "format": format,
        "from": None,
        "to": None,
        "level": None,
        "year": None,
    }
    if level:
        chosen = _level_and_year(request, level, year or "0")
        if isinstance(chosen, str):
            return await render.message(request, 422, "无效的参数", chosen)
        asked["level"], asked["year"] = chosen
    asked["employer"] = employer.strip() or None
    asked["series"] = series or None
    try:
        learner_ids = await exports.select_learners(
            learner_ids=None, employer=asked["employer"], series=asked["series"]
        )
    except NxceError as error:
        return await render.message(request, 422, "没有符合条件的学员", error.detail)
    job = await exports.create(
        request=asked,
        learner_ids=learner_ids,
        requested_by=principal.key,
        full_id_numbers=sees_full_id_numbers(principal),
        base_url=transcript_api.base_url(request),
    )
    request.app.state.exports.submit(job.job_id)
    return RedirectResponse(f"/auditor/exports/{job.job_id}", status_code=303)


async def _job(request: Request, job_id: str) -> tuple[Principal, Any] | Response:
    principal = await _auditor_or_page(request)
    if isinstance(principal, Response):
        return principal
    try:
        return principal, await exports.get(job_id=job_id, requested_by=principal.key)
    except NxceError:
        text = "任务不存在，或不是本账号发起的。"
        return await render.message(request, 404, "没有这个导出任务", text)


@router.get("/exports/{job_id}", response_class=HTMLResponse)
async def export_page(request: Request, job_id: str) -> Response:
    found = await _job(request, job_id)
    if isinstance(found, Response):
        return found
    values = await render.context(request, job=transcript_api.export_read(found[1]))
    return render.page(request, "auditor_export.html", values)


@router.get("/exports/{job_id}/status")
async def export_status(request: Request, job_id: str) -> Response:
    """The job as JSON, for the page's progress bar."""
    found = await _job(request, job_id)
    if isinstance(found, Response):
        return found
    return JSONResponse(transcript_api.export_read(found[1]).model_dump(mode="json"))


@router.get("/exports/{job_id}/file")
async def export_file(request: Request, job_id: str) -> Response:
    found = await _job(request, job_id)
    if isinstance(found, Response):
        return found
    job = found[1]
    if job.status != "done":
        return await render.message(request, 409, "尚未完成", "导出任务完成后才能下载。")
    return transcript_api.zip_response(job)
