"""The admin's page of a learner's account (issue 21): whether a password is set, the
outstanding activation code, the devices the app is signed in on; a new activation code
issued with a button (shown once, on the answer to that form, never again) and a device
signed out with another.

The first page of the admin section ("/admin/..."). Every page needs a signed-in client
holding `admin` (web.access.AdminPage); forms carry the session's CSRF token. The id
number and the phone are shown masked, as to anyone but auditors. The writes go through
the same service calls as the API's (`POST /learners/{id}/activation-code`,
`DELETE /learners/{id}/devices/{device_id}`), which record who made them: the account's
`activation_issued_by`, the device's revocation reason.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from accounts import app_sign_in, standing
from accounts import service as account_service
from accounts.service import IssuedCode
from credits import learners as credit_learners
from credits.models import Learner
from nxce.core.auth import Principal
from nxce.core.errors import NotFound
from nxce.core.json_route import JsonRoute
from transcripts.wording import moment_text
from web import render
from web.access import AdminPage, PageMessage, admin_form
from web.services import AccountsDep, SessionsDep

router = APIRouter(prefix="/admin/learners", route_class=JsonRoute, include_in_schema=False)

# What "…/account?done=…" says after a form: fixed words, never the query's text.
DONE = {"device": "已退出该设备的登录；它须重新登录才能同步学习记录。"}


def account_path(learner_id: str) -> str:
    return f"/admin/learners/{quote(learner_id, safe='')}/account"


async def _learner(learner_id: str) -> Learner:
    """The learner of the page (an erased learner has no account to manage), or a 404 page."""
    try:
        learner: Learner | None = await credit_learners.get_learner(learner_id=learner_id)
    except NotFound:
        learner = None
    if learner is None or learner.erased_at is not None:
        text = f"学员编号 {learner_id[:64]} 不存在。"
        raise PageMessage(404, "没有这位学员", text, ("/admin/learners", "查找学员"))
    return learner


async def shown_learner(learner_id: str, _: AdminPage) -> Learner:
    """The learner of a page the admin asks for (who asks is checked first)."""
    return await _learner(learner_id)


ShownLearner = Annotated[Learner, Depends(shown_learner)]


async def _values(
    request: Request, learner: Learner, *, issued: IssuedCode | None = None, notice: str = ""
) -> dict[str, Any]:
    state = await standing.get(learner_id=learner.learner_id)
    devices = await app_sign_in.devices_of(learner_id=learner.learner_id)
    return await render.context(
        request,
        learner=learner,
        id_number=learner.id_number_masked,  # never in full here: admins are not auditors
        phone=learner.phone_masked,
        has_password=state.has_password,
        password_set=moment_text(state.password_set_at) if state.password_set_at else "",
        code_outstanding=state.code_outstanding,
        code_expires=moment_text(state.code_expires_at) if state.code_expires_at else "",
        code_issued_by=state.code_issued_by or "",
        issued_code=issued.code if issued else "",
        issued_expires=moment_text(issued.expires_at) if issued else "",
        devices=[
            {
                "id": device.device_id,
                "name": device.name,
                "created": moment_text(device.created_at),
                "used": moment_text(device.last_used_at),
            }
            for device in devices
        ],
        notice=notice,
        path=account_path(learner.learner_id),
        section="learners",
    )


@router.get("/{learner_id}/account", response_class=HTMLResponse)
async def account_page(request: Request, learner: ShownLearner) -> Response:
    notice = DONE.get(request.query_params.get("done", ""), "")
    values = await _values(request, learner, notice=notice)
    return render.page(request, "admin_account.html", values)


async def posted_by_admin(
    request: Request, learner_id: str, sessions: SessionsDep, csrf: str = Form("")
) -> Principal:
    """The admin posting a form of the page of `learner_id`'s account."""
    return await admin_form(request, sessions, csrf, account_path(learner_id))


AdminForm = Annotated[Principal, Depends(posted_by_admin)]


@router.post("/{learner_id}/account/activation-code", response_class=HTMLResponse)
async def issue_code(
    request: Request, learner_id: str, admin: AdminForm, accounts: AccountsDep
) -> Response:
    """A new activation code (as `POST /learners/{id}/activation-code`), shown on this
    answer only: it is stored as a digest, and this answer is never cached."""
    learner = await _learner(learner_id)
    issued = await account_service.issue_code(
        accounts=accounts, learner_id=learner.learner_id, by=admin.key
    )
    values = await _values(request, learner, issued=issued)
    response = render.page(request, "admin_account.html", values)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.post("/{learner_id}/account/devices/{device_id}/signout")
async def sign_device_out(learner_id: str, device_id: str, admin: AdminForm) -> Response:
    """Sign one of the learner's devices out at once (as
    `DELETE /learners/{id}/devices/{device_id}`)."""
    learner = await _learner(learner_id)
    try:
        await app_sign_in.sign_out(
            learner_id=learner.learner_id, device_id=device_id, by=admin.key, by_admin=True
        )
    except NotFound:
        text = "该设备不存在、不属于这位学员，或已退出登录。"
        back = (account_path(learner.learner_id), "返回账号管理")
        raise PageMessage(404, "没有这台设备", text, back) from None
    return RedirectResponse(account_path(learner.learner_id) + "?done=device", status_code=303)
