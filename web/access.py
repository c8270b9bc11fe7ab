"""Who may see a page, as dependencies: each answers the signed-in client (a learner's,
an auditor's), what it may see, or a form's checked session, or raises a `PageError`.
The handler `install` puts on the app turns that into the page to give instead: a
redirect to sign in (303, `next=` the page), or a page saying why (403, 404).

A form whose fields have limits checks them first (a 422 problem), then who posts it:
its own dependency declares the fields and calls `auditor_form` or `signin_csrf` (were
those its dependencies, they would run before its fields are checked)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import Depends, FastAPI, File, Form, Request, Response, UploadFile
from fastapi.responses import RedirectResponse

from credits import learners as credit_learners
from credits.models import Learner
from nxce.core.auth import Principal
from nxce.core.clients import Scope
from nxce.core.errors import NotFound, NxceError
from transcripts import exports
from transcripts.models import ExportJob
from web import render
from web.services import SessionsDep
from web.session import CSRF_COOKIE, Session, Sessions, csrf_ok, principal_of


class PageError(Exception):
    """Raised for the page to answer instead of the route's."""

    async def response(self, request: Request) -> Response:
        raise NotImplementedError


class PageRedirect(PageError):
    """Elsewhere first: a signed-out visitor is sent to sign in."""

    def __init__(self, location: str) -> None:
        super().__init__(location)
        self.location = location

    async def response(self, request: Request) -> Response:
        return RedirectResponse(self.location, status_code=303)


class PageMessage(PageError):
    """A page saying why not (403, 404, …), with a link onwards."""

    def __init__(
        self, status: int, heading: str, text: str, link: tuple[str, str] | None = None
    ) -> None:
        super().__init__(status, heading)
        self.status, self.heading, self.text, self.link = status, heading, text, link

    async def response(self, request: Request) -> Response:
        return await render.message(request, self.status, self.heading, self.text, self.link)


async def page_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, PageError)
    return await exc.response(request)


def install(app: FastAPI) -> None:
    """Install the handler of page errors on `app`."""
    app.add_exception_handler(PageError, page_error)


def sign_in_first(target: str) -> PageRedirect:
    return PageRedirect("/signin?" + urlencode({"next": target}))


# --- who is signed in ------------------------------------------------------------------


async def auditor_page(request: Request, sessions: SessionsDep) -> Principal:
    """A client holding `auditor` (or `admin`); others are sent to sign in, or refused."""
    principal = await principal_of(sessions, request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise sign_in_first(target)
    if not (principal.holds(Scope.auditor) or principal.holds(Scope.admin)):
        text = "本页面供评审委员会和人社部门的审核账号使用。"
        raise PageMessage(403, "仅限审核人员", text)
    return principal


AuditorPage = Annotated[Principal, Depends(auditor_page)]


async def admin_page(request: Request, sessions: SessionsDep, then: str | None = None) -> Principal:
    """A client holding `admin`; others are sent to sign in (then to `then`, else back to
    this page), or refused (as auditor_page)."""
    principal = await principal_of(sessions, request)
    if principal is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise sign_in_first(then or target)
    if not principal.holds(Scope.admin):
        text = "本页面供平台管理员使用。"
        raise PageMessage(403, "仅限管理员", text)
    return principal


AdminPage = Annotated[Principal, Depends(admin_page)]


async def learner_page(request: Request, sessions: SessionsDep) -> Principal:
    """A client signed in as a learner; others are sent to sign in (then to "/me"), or
    refused."""
    principal = await principal_of(sessions, request)
    if principal is None:
        raise sign_in_first("/me")
    if not principal.learner_id:
        text = "“我的学时”供以学员身份登录的账号使用；本账号不属于某位学员。"
        raise PageMessage(403, "仅限学员", text)
    return principal


LearnerPage = Annotated[Principal, Depends(learner_page)]


async def own_learner(principal: LearnerPage) -> Learner:
    """The learner a signed-in learner's client belongs to."""
    assert principal.learner_id is not None
    try:
        return await credit_learners.get_learner(learner_id=principal.learner_id)
    except NotFound:
        text = "本账号对应的学员尚未登记，请联系管理员。"
        raise PageMessage(404, "没有学员档案", text) from None


OwnLearner = Annotated[Learner, Depends(own_learner)]


async def own_export_job(job_id: str, principal: AuditorPage) -> ExportJob:
    """An export job the signed-in auditor started (others' do not exist to them)."""
    try:
        return await exports.get(job_id=job_id, requested_by=principal.key)
    except NxceError:
        text = "任务不存在，或不是本账号发起的。"
        raise PageMessage(404, "没有这个导出任务", text) from None


OwnExportJob = Annotated[ExportJob, Depends(own_export_job)]


# --- forms and their CSRF tokens ----------------------------------------------------------


async def auditor_form(request: Request, sessions: Sessions, csrf: str) -> Principal:
    """The auditor posting a form with the session's CSRF token."""
    principal = await auditor_page(request, sessions)
    session = sessions.current(request)
    if session is None or not csrf_ok(session.csrf, csrf):
        raise PageMessage(403, "表单已过期", "请刷新页面后再提交。")
    return principal


async def admin_form(request: Request, sessions: Sessions, csrf: str, page: str) -> Principal:
    """The admin posting a form of `page` with the session's CSRF token (signed out: sent
    to sign in, then to `page`, not to the form's address)."""
    principal = await admin_page(request, sessions, then=page)
    session = sessions.current(request)
    if session is None or not csrf_ok(session.csrf, csrf):
        raise PageMessage(403, "表单已过期", "请刷新页面后再提交。", (page, "返回页面"))
    return principal


def signin_csrf(request: Request, csrf: str) -> None:
    """The sign-in and activation forms carry the token of their double-submit cookie."""
    if not csrf_ok(request.cookies.get(CSRF_COOKIE), csrf):
        page = request.url.path if request.url.path in ("/signin", "/activate") else "/signin"
        text = "表单已过期，请刷新后重试。"
        raise PageMessage(403, "请重新提交", text, (page, "返回表单"))


async def learner_form(request: Request, sessions: Sessions, csrf: str) -> Principal:
    """The learner posting a form of "/me" with the session's CSRF token."""
    principal = await learner_page(request, sessions)
    session = sessions.current(request)
    if session is None or not csrf_ok(session.csrf, csrf):
        raise PageMessage(403, "表单已过期", "请刷新页面后再提交。", ("/me", "返回我的学时"))
    return principal


async def session_to_end(
    request: Request, sessions: SessionsDep, csrf: str = Form("")
) -> Session | None:
    """The session a sign-out form ends (None when signed out), with its CSRF token."""
    session = sessions.current(request)
    if session is not None and not csrf_ok(session.csrf, csrf):
        raise PageMessage(403, "无法退出", "表单已过期，请刷新页面后再退出。")
    return session


@dataclass(frozen=True, slots=True)
class Upload:
    """A file posted by a page's form, and who posted it."""

    by: Principal
    file: UploadFile | None


FormCheck = Callable[[Request, Sessions, str], Awaitable[Principal]]


def upload_by(check: FormCheck) -> Callable[..., Awaitable[Upload]]:
    """A dependency reading an upload's fields, then who posts it by `check` (the page's
    form check: `auditor_form`, `base_form`…), which refuses anyone else."""

    async def read(
        request: Request,
        sessions: SessionsDep,
        file: Annotated[UploadFile | None, File()] = None,
        csrf: str = Form(""),
    ) -> Upload:
        return Upload(await check(request, sessions, csrf), file)

    return read
