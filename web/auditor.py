"""Pages for auditors (评审委员会, 人社部门): find a learner, read the audit of an
application with its shortfall and the rules applied, approve or reject pending entries,
download transcripts; start a batch export, watch it, download the ZIP.

Every page needs a signed-in client holding `auditor` (or `admin`): signed-out visitors
are sent to sign in, other accounts get a 403 page. National id numbers in full for
auditors, as in the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse

from credits import audit as audit_rules
from credits import conclusions, personal
from credits import learners as credit_learners
from credits import ledger as credit_ledger
from credits.access import sees_full_id_numbers
from credits.models import AuditedEntry, Learner, LedgerEntry
from credits.policy import Policies
from credits.schemas import AuditRead
from nxce.core.auth import Principal
from nxce.core.errors import NxceError
from nxce.core.json_route import JsonRoute
from nxce.core.keys import KeyNotInRing
from transcripts import api as transcript_api
from transcripts import exports, left_out
from transcripts import service as transcript_service
from transcripts.content import CertifiedAudit, entry_line
from transcripts.formats import FORMATS
from transcripts.models import ExportRequest
from transcripts.wording import applied_text, moment_text, seen_text, verdict_text
from web import render
from web.access import AuditorPage, OwnExportJob, auditor_form
from web.evidence import on_page as evidence_on_page
from web.programme import certificates_on_page
from web.services import CreditsDep, ExportsDep, SearchSeriesDep, SessionsDep

router = APIRouter(prefix="/auditor", route_class=JsonRoute, include_in_schema=False)
LEVELS = (("intermediate", "中级"), ("deputy_senior", "副高级"), ("senior", "正高级"))
FOUND_AT_MOST = 50
FORMAT_CHOICES = (("pdf", "PDF"), ("xlsx", "Excel"), ("csv", "CSV"), ("json", "JSON"))


@router.get("", response_class=HTMLResponse)
async def find(request: Request, _: AuditorPage, q: str = "") -> Response:
    """Learners by id, name or employer (a part of either)."""
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


def _level_and_year(policies: Policies, level: str, year: str) -> tuple[str, int] | str:
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
    request: Request,
    principal: AuditorPage,
    credits: CreditsDep,
    learner_id: str,
    level: str = "intermediate",
    year: str = "",
) -> Response:
    year = year or str(credits.policies.newest().application_year)
    chosen = _level_and_year(credits.policies, level, year)
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
    audited = [AuditedEntry.from_document(e.model_dump()) for e in entries]
    verdict = audit_rules.audit(  # the ledger read once, for the audit and the list
        learner=learner,
        entries=audited,
        policy=policy,
        level=level,
    )
    verdict = await conclusions.concluded(learner=learner, entries=audited, verdict=verdict)
    try:
        number = await personal.id_number_for(  # a full one is recorded in the audit trail
            credits=credits, learner=learner, principal=principal, where="/auditor/learners/{id}"
        )
        # in full with the full id number (auditors; that view is in the trail), else masked
        phone = personal.shown_phone(credits, learner, full=sees_full_id_numbers(principal))
    except KeyNotInRing as lacking:
        text = (
            f"该学员的身份证号或手机号以密钥 {lacking.key_id} 加密，"
            "本服务的密钥环中没有这把密钥，无法读取。请管理员把它加回 "
            "NXCE_SECRET_KEYS_PREVIOUS（或数据目录的 secret.key）后重启。"
        )
        return await render.message(request, 503, "无法读取个人信息", text)
    values = await render.context(
        request,
        learner=learner,
        id_number=number,
        phone=phone,
        verdict=verdict,
        verdict_text=verdict_text(CertifiedAudit.of(verdict, dict(LEVELS)[level])),
        applied=[applied_text(a) for a in verdict.applied],
        entries=[entry_line(e.model_dump()) for e in entries],
        levels=LEVELS,
        level=level,
        year=application_year,
        years=[p.application_year for p in credits.policies.all],
        formats=FORMAT_CHOICES,
        notice=_notice(request),
        certificates=await certificates_on_page(learner_id),
        **await evidence_on_page(credits, learner_id, entries),
        **_conclusion_values(request, verdict, [e.model_dump() for e in entries]),
    )
    return render.page(request, "auditor_learner.html", values, _status(request))


@dataclass(frozen=True, slots=True)
class Review:
    by: Principal
    decision: str
    reason: str


async def review_form(
    request: Request,
    sessions: SessionsDep,
    decision: str = Form(""),
    reason: str = Form("", max_length=1000),
    csrf: str = Form(""),
) -> Review:
    """A review as an auditor posts it: its fields checked, then who posts it."""
    return Review(await auditor_form(request, sessions, csrf), decision, reason)


@router.post("/learners/{learner_id}/entries/{entry_id}/review")
async def review(
    request: Request,
    form: Annotated[Review, Depends(review_form)],
    credits: CreditsDep,
    learner_id: str,
    entry_id: str,
) -> Response:
    if form.decision not in ("approve", "reject") or not form.reason.strip():
        text = "请选择通过或不通过，并填写理由（reason）。"
        return await render.message(request, 422, "请填写审核意见", text)
    try:
        await credit_ledger.review(
            credits=credits,
            learner_id=learner_id,
            entry_id=entry_id,
            decision=form.decision,
            reason=form.reason.strip(),
            by=form.by.key,
        )
    except NxceError as error:
        return await render.message(request, error.status, "无法审核", error.detail)
    return RedirectResponse(
        f"/auditor/learners/{learner_id}?" + urlencode({"done": form.decision, "entry": entry_id}),
        status_code=303,
    )


_DONE = {"approve": "已通过", "reject": "已驳回", "attach": "已上传证明材料"}
_ENTRY_ID = re.compile(r"^[0-9a-f-]{36}$")


def _notice(request: Request) -> str:
    """The message after a review: fixed words, so no link can put others on the page."""
    done, entry = request.query_params.get("done", ""), request.query_params.get("entry", "")
    if done not in _DONE or not _ENTRY_ID.match(entry):
        return ""
    return f"{_DONE[done]}：{entry}"


@router.get("/learners/{learner_id}/transcript")
async def transcript(
    request: Request,
    principal: AuditorPage,
    credits: CreditsDep,
    learner_id: str,
    format: str = "pdf",
    level: str = "",
    year: str = "",
) -> Response:
    if render.cross_site(request):
        return await render.message(request, 403, "无法下载", "请在本站页面上点击下载。")
    if format not in FORMATS:
        text = render.bad_format(format)
        return await render.message(request, 422, "无效的格式", text)
    asked = transcript_service.Request()
    if level:
        chosen = _level_and_year(credits.policies, level, year or "0")
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
async def exports_page(
    request: Request, principal: AuditorPage, credits: CreditsDep, series_names: SearchSeriesDep
) -> Response:
    values = await render.context(
        request,
        jobs=await exports.mine(requested_by=principal.key, limit=20),
        levels=LEVELS,
        years=[p.application_year for p in credits.policies.all],
        series_names=series_names,
        formats=FORMAT_CHOICES,
    )
    return render.page(request, "auditor_exports.html", values)


@dataclass(frozen=True, slots=True)
class ExportAsked:
    by: Principal
    employer: str
    series: str
    level: str
    year: str
    format: str


async def export_form(
    request: Request,
    sessions: SessionsDep,
    employer: str = Form("", max_length=200),
    series: str = Form("", max_length=50),
    level: str = Form(""),
    year: str = Form(""),
    format: str = Form("pdf"),
    csrf: str = Form(""),
) -> ExportAsked:
    """A batch export as an auditor asks for it: its fields checked, then who asks."""
    by = await auditor_form(request, sessions, csrf)
    return ExportAsked(by, employer, series, level, year, format)


@router.post("/exports")
async def start_export(
    request: Request,
    form: Annotated[ExportAsked, Depends(export_form)],
    credits: CreditsDep,
    runner: ExportsDep,
) -> Response:
    if form.format not in FORMATS:
        text = render.bad_format(form.format)
        return await render.message(request, 422, "无效的格式", text)
    if not form.employer.strip() and not form.series:
        text = "请填写工作单位（employer）或选择系列（series）。"
        return await render.message(request, 422, "请选择学员", text)
    audited: tuple[str | None, int | None] = (None, None)
    if form.level:
        chosen = _level_and_year(credits.policies, form.level, form.year or "0")
        if isinstance(chosen, str):
            return await render.message(request, 422, "无效的参数", chosen)
        audited = chosen
    asked = ExportRequest(
        employer=form.employer.strip() or None,
        series=form.series or None,
        level=audited[0],
        year=audited[1],
        format=form.format,
    )
    try:
        learner_ids = await exports.select_learners(
            learner_ids=None, employer=asked.employer, series=asked.series
        )
    except NxceError as error:
        return await render.message(request, 422, "没有符合条件的学员", error.detail)
    job = await exports.create(
        request=asked,
        learner_ids=learner_ids,
        requested_by=form.by.key,
        full_id_numbers=sees_full_id_numbers(form.by),
        base_url=transcript_api.base_url(request),
    )
    runner.submit(job.job_id)
    return RedirectResponse(f"/auditor/exports/{job.job_id}", status_code=303)


@router.get("/exports/{job_id}", response_class=HTMLResponse)
async def export_page(request: Request, job: OwnExportJob) -> Response:
    values = await render.context(request, job=transcript_api.export_read(job))
    return render.page(request, "auditor_export.html", values)


@router.get("/exports/{job_id}/status")
async def export_status(job: OwnExportJob) -> Response:
    """The job as JSON, for the page's progress bar."""
    return JSONResponse(transcript_api.export_read(job).model_dump(mode="json"))


@router.get("/exports/{job_id}/file")
async def export_file(request: Request, job: OwnExportJob) -> Response:
    if job.status != "done":
        return await render.message(request, 409, "尚未完成", "导出任务完成后才能下载。")
    return transcript_api.zip_response(job)


# --- the auditor's conclusion (审验结论) ------------------------------------------------

DECISIONS = (("approve", "通过"), ("reject", "不通过"))
LONGEST_REASON = 1000


@dataclass(frozen=True, slots=True)
class ConclusionAttempt:
    """A conclusion as an auditor posted it: its fields as typed, and what is wrong with
    them (in Chinese), so the page shows the form again as it was."""

    decision: str
    reason: str
    errors: tuple[str, ...]


def _conclusion_values(
    request: Request, verdict: AuditRead, rows: list[dict[str, Any]]
) -> dict[str, Any]:
    """What the learner page shows of the auditor's conclusion and of the entries the audit
    did not count; the form as posted when it was refused (`request.state`)."""
    attempt = getattr(request.state, "conclusion_attempt", None)
    found = verdict.conclusion
    concluded = request.query_params.get("concluded", "")
    return {
        "not_counted": left_out.lines(verdict, rows),
        "conclusion": found,
        "conclusion_at": moment_text(found.at) if found else "",
        "conclusion_seen": seen_text(found) if found else "",
        "conclusion_changed": verdict.changed_since_conclusion,
        "decisions": DECISIONS,
        "conclusion_form": attempt or ConclusionAttempt("", "", ()),
        "conclusion_notice": dict(DECISIONS).get(concluded, ""),
        "longest_reason": LONGEST_REASON,
    }


def _status(request: Request) -> int:
    """422 when the page shows a refused conclusion form again."""
    return 422 if getattr(request.state, "conclusion_attempt", None) else 200


@dataclass(frozen=True, slots=True)
class ConclusionPosted:
    by: Principal
    level: str
    year: str
    decision: str
    reason: str


async def conclusion_form(
    request: Request,
    sessions: SessionsDep,
    level: str = Form(""),
    year: str = Form(""),
    decision: str = Form(""),
    reason: str = Form("", max_length=4 * LONGEST_REASON),
    csrf: str = Form(""),
) -> ConclusionPosted:
    """A conclusion as an auditor posts it (CSRF checked as for reviews)."""
    by = await auditor_form(request, sessions, csrf)
    return ConclusionPosted(by, level, year, decision, reason)


def _refusals(decision: str, reason: str) -> tuple[str, ...]:
    errors = []
    if decision not in dict(DECISIONS):
        errors.append("请选择审验结论：通过或不通过（decision）。")
    if not reason.strip():
        errors.append("请填写理由（reason），不能为空。")
    elif len(reason.strip()) > LONGEST_REASON:
        errors.append(f"理由（reason）最多 {LONGEST_REASON} 个字，现有 {len(reason.strip())} 个。")
    return tuple(errors)


@router.post("/learners/{learner_id}/conclusions")
async def conclude(
    request: Request,
    form: Annotated[ConclusionPosted, Depends(conclusion_form)],
    credits: CreditsDep,
    learner_id: str,
) -> Response:
    """Record the auditor's conclusion on the audit shown; refused, the page again with
    the form as it was and what to correct."""
    chosen = _level_and_year(credits.policies, form.level, form.year or "0")
    if isinstance(chosen, str):
        return await render.message(request, 422, "无效的参数", chosen)
    level, year = chosen
    errors = _refusals(form.decision, form.reason)
    if errors:
        request.state.conclusion_attempt = ConclusionAttempt(form.decision, form.reason, errors)
        return await learner_page(request, form.by, credits, learner_id, level, str(year))
    try:
        await conclusions.record(
            credits=credits,
            learner_id=learner_id,
            level=level,
            year=year,
            decision=form.decision,
            reason=form.reason.strip(),
            by=form.by.key,
            by_name=form.by.name,
        )
    except NxceError as error:
        return await render.message(request, error.status, "无法记录审验结论", error.detail)
    query = urlencode({"level": level, "year": year, "concluded": form.decision})
    return RedirectResponse(
        f"/auditor/learners/{learner_id}?{query}#conclusion-title", status_code=303
    )
