"""A learner's own page: their hours, transcripts to download, the devices their app is
signed in on (each signed out with a button), and their password changed.

It serves a learner signed in with their password and a learner's client alike (both are
principals bound to a learner). Forms carry the session's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from accounts import app_sign_in
from accounts import service as account_service
from credits import progress as credit_progress
from credits import recommendations as credit_recommendations
from credits.context import Credits
from credits.labels import LEVEL_LABELS
from credits.models import Learner
from nxce.core.auth import Principal
from nxce.core.errors import NotFound, NxceError
from nxce.core.json_route import JsonRoute
from transcripts import api as transcript_api
from transcripts import service as transcript_service
from transcripts.formats import FORMATS
from transcripts.wording import moment_text
from web import render
from web.access import LearnerPage, OwnLearner, PageMessage, learner_form
from web.password_words import RULES, change_refusal
from web.programme import certificates_on_page
from web.services import AccountsDep, CreditsDep, SessionsDep, SettingsDep
from web.session import LEARNER_PREFIX
from web.signin import TOO_MANY

router = APIRouter(route_class=JsonRoute, include_in_schema=False)

# What "/me?done=…" says after a form: fixed words, never the query's text.
DONE = {
    "activated": "账号已激活，密码已设置。今后请用账号和新密码登录。",
    "device": "已退出该设备的登录；它须重新登录才能同步学习记录。",
    "password": "密码已修改；其他浏览器和设备上的登录均已退出。",
}


@router.get("/me", response_class=HTMLResponse)
async def my_record(request: Request, learner: OwnLearner, credits: CreditsDep) -> Response:
    done = request.query_params.get("done", "")
    values = await _my_values(request, learner, credits, notice=DONE.get(done))
    return render.page(request, "me.html", values)


async def _my_values(
    request: Request,
    learner: Learner,
    credits: Credits,
    *,
    notice: str | None = None,
    password_error: str | None = None,
) -> dict[str, Any]:
    record = await credit_progress.progress(credits=credits, learner=learner)
    audit = record.next_audit
    devices = await app_sign_in.devices_of(learner_id=learner.learner_id)
    suggested = await credit_recommendations.recommend(
        credits=credits, learner=learner, record=record
    )
    return await render.context(
        request,
        learner=learner,
        year=record.this_year,
        audit=audit,
        level_label=LEVEL_LABELS.get(audit.level, "") if audit else "",
        pending=record.pending_review,
        courses=record.courses,
        in_progress=record.in_progress,
        completed=record.completed,
        certificates=await certificates_on_page(learner.learner_id),
        suggested=suggested,
        suggested_level=LEVEL_LABELS.get(suggested.shortfall.level or "", ""),
        devices=[
            {
                "id": device.device_id,
                "name": device.name,
                "created": moment_text(device.created_at),
                "used": moment_text(device.last_used_at),
            }
            for device in devices
        ],
        has_password=await account_service.password_hash_of(learner_id=learner.learner_id)
        is not None,
        notice=notice,
        password_error=password_error,
        password_rules=RULES,
    )


@router.get("/me/transcript")
async def my_transcript(
    request: Request, principal: LearnerPage, learner: OwnLearner, format: str = "pdf"
) -> Response:
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


# --- devices ------------------------------------------------------------------------------


async def device_form(request: Request, sessions: SessionsDep, csrf: str = Form("")) -> Principal:
    return await learner_form(request, sessions, csrf)


@router.post("/me/devices/{device_id}/signout")
async def sign_device_out(
    request: Request, device_id: str, principal: Annotated[Principal, Depends(device_form)]
) -> Response:
    """Sign one of the learner's devices out at once (as `DELETE /auth/devices/{id}`)."""
    assert principal.learner_id is not None
    try:
        await app_sign_in.sign_out(
            learner_id=principal.learner_id, device_id=device_id, by=principal.key
        )
    except NotFound:
        text = "该设备不存在、不属于您，或已退出登录。"
        raise PageMessage(404, "没有这台设备", text, ("/me", "返回我的学时")) from None
    return RedirectResponse("/me?done=device", status_code=303)


# --- the password ----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PasswordPosted:
    by: Principal
    old: str
    new: str
    again: str


async def password_form(
    request: Request,
    sessions: SessionsDep,
    old: str = Form("", max_length=200),
    new: str = Form("", max_length=200),
    again: str = Form("", max_length=200),
    csrf: str = Form(""),
) -> PasswordPosted:
    """A new password as the learner posts it: its fields checked, then who posts it."""
    return PasswordPosted(await learner_form(request, sessions, csrf), old, new, again)


@router.post("/me/password", response_class=HTMLResponse)
async def change_password(
    request: Request,
    form: Annotated[PasswordPosted, Depends(password_form)],
    learner: OwnLearner,
    accounts: AccountsDep,
    sessions: SessionsDep,
    settings: SettingsDep,
    credits: CreditsDep,
) -> Response:
    """The learner's new password (the current one required). Their other sessions end
    (theirs keep a digest of the old hash) and every device of their app is signed out;
    this browser's session begins again with the new one."""
    if not await account_service.password_hash_of(learner_id=learner.learner_id):
        text = "您还没有设置密码：请先用管理员发放的激活码激活账号。"
        raise PageMessage(403, "尚未设置密码", text, ("/activate", "激活账号"))
    words = None
    if form.new != form.again:
        words, status = "两次输入的新密码不一致，请重新输入。", 422
    else:
        try:
            await account_service.change_password(
                accounts=accounts,
                learner_id=learner.learner_id,
                old=form.old,
                new=form.new,
                address=request.client.host if request.client else "unknown",
            )
        except NxceError as error:
            status = error.status
            words = TOO_MANY if status == 429 else change_refusal(error, form.new)
    if words is not None:
        values = await _my_values(request, learner, credits, password_error=words)
        return render.page(request, "me.html", values, status)
    response = RedirectResponse("/me?done=password", status_code=303)
    session = sessions.current(request)
    if session is not None and session.key.startswith(LEARNER_PREFIX):
        await sessions.forget(session)  # a new session (new id) replaces it below
        new_hash = await account_service.password_hash_of(learner_id=learner.learner_id)
        assert new_hash is not None  # set a moment ago
        secure = render.secure_cookies(request, settings)
        sessions.start(response, session.key, new_hash, request, secure)
    return response
