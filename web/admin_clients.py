"""The admin's pages of client accounts (issue 20): the list (by name, scope and state, a
page at a time), a new client registered from a form on it, and a client's page with a
new secret, disable and enable.

A secret is shown once: on the answer to the form that made it (never cached), with a
copy button (web/static/secret.js, which also puts the client's page address in the
history so a reload shows the page without it); it is stored hashed and written nowhere
else. Every page needs a signed-in admin (web.access.AdminPage), every form the session's
CSRF token; the writes are the same service calls as the JSON API's under /clients
(nxce/core/clients.py), which append their lines to the administrative log.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from catalog import bases
from credits import learners as credit_learners
from nxce.core import admin_log, clients
from nxce.core.admin_log import Area
from nxce.core.auth import Principal
from nxce.core.clients import Client, Scope
from nxce.core.errors import Conflict, NotFound, NxceError
from nxce.core.json_route import JsonRoute
from nxce.settings import KEY_PATTERN
from transcripts.wording import moment_text
from web import render
from web.access import AdminPage, PageMessage, admin_form
from web.services import SessionsDep, SettingsDep

router = APIRouter(prefix="/admin/clients", route_class=JsonRoute, include_in_schema=False)

LIST = "/admin/clients"
PAGE_SIZE = 25
HISTORY = 20  # the client's latest lines of the administrative log on its page
SCOPE_LABELS: dict[Scope, str] = {
    Scope.admin: "管理员（全部权限）",
    Scope.auditor: "审核（评审委员会、人社部门）",
    Scope.all: "学习记录：全部读写",
    Scope.all_read: "学习记录：全部只读",
    Scope.statements_write: "提交学习记录",
    Scope.statements_read: "读取学习记录",
    Scope.statements_read_mine: "读取本账号的学习记录",
    Scope.state: "学习进度（state）",
    Scope.profile: "档案文档（profile）",
    Scope.base: "继续教育基地（仅代表一个基地）",
}
STATES = {"": "全部", "enabled": "启用中", "disabled": "已停用"}
# What "…?done=…" says after a form: fixed words, never the query's text.
DONE = {
    "disabled": "已停用该账号：它的每一个请求立即被拒绝。",
    "enabled": "已重新启用该账号，密钥不变。",
}


def client_path(key: str) -> str:
    return f"{LIST}/{quote(key, safe='')}"


def _short(text: str, limit: int = 64) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


@dataclass(frozen=True, slots=True)
class NewClient:
    """The fields of the form that registers a client, as posted."""

    name: str = ""
    key: str = ""
    scopes: tuple[str, ...] = ()
    learner_id: str = ""
    base_id: str = ""


async def _base_names() -> dict[str, str]:
    """Every base's name by id (a few dozen in the province)."""
    return {str(b.id): b.name for b in await bases.get_all(status=None, level=None)}


def _row(client: Client, base_names: dict[str, str]) -> dict[str, Any]:
    return {
        "key": client.key,
        "path": client_path(client.key),
        "name": client.name,
        "scopes": [SCOPE_LABELS.get(s, s) for s in client.scopes],
        "learner_id": client.learner_id or "",
        "base": base_names.get(client.base_id, client.base_id) if client.base_id else "",
        "created": moment_text(client.created_at),
        "used": moment_text(client.last_used_at) if client.last_used_at else "从未使用",
        "disabled": client.disabled,
    }


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The list's filters as given, and what is wrong with them (shown, 422)."""

    name: str
    scope: Scope | None
    state: str
    after: str
    error: str


def _list_query(request: Request) -> ListQuery:
    params = request.query_params
    name = unicodedata.normalize("NFC", params.get("q", "")).strip()
    scope_text, state = params.get("scope", ""), params.get("state", "")
    after = params.get("after", "")
    error, scope = "", None
    if len(name) > clients.NAME_MAX:
        error = f"按名称查找最多 {clients.NAME_MAX} 个字，收到 {len(name)} 个字。"
    elif scope_text and scope_text not in Scope.__members__.values():
        error = f"没有“{_short(scope_text)}”这项权限。"
    elif state not in STATES:
        error = f"状态只能是“启用中”或“已停用”，收到“{_short(state)}”。"
    elif after and not KEY_PATTERN.match(after):
        error = f"翻页位置“{_short(after)}”不是账号。"
    if not error and scope_text:
        scope = Scope(scope_text)
    return ListQuery(name, scope, state if not error else "", after if not error else "", error)


async def _list_values(
    request: Request,
    query: ListQuery,
    *,
    form: NewClient | None = None,
    form_error: str = "",
) -> dict[str, Any]:
    found = clients.ClientPage([], 0, None)
    if not query.error:
        found = await clients.find(
            name=query.name or None,
            scope=query.scope,
            disabled={"": None, "enabled": False, "disabled": True}[query.state],
            after=query.after or None,
            limit=PAGE_SIZE,
        )
    base_names = await _base_names()
    filters = {"q": query.name, "scope": query.scope.value if query.scope else ""}
    filters["state"] = query.state
    kept = {k: v for k, v in filters.items() if v}
    following = ""
    if found.next_after:
        following = f"{LIST}?{urlencode({**kept, 'after': found.next_after})}"
    first = f"{LIST}?{urlencode(kept)}" if kept else LIST
    return await render.context(
        request,
        section="clients",
        rows=[_row(c, base_names) for c in found.clients],
        total=found.total,
        filters=filters,
        filtered=bool(kept),
        error=query.error,
        following=following,
        first=first if query.after else "",
        scope_labels=[(s.value, label) for s, label in SCOPE_LABELS.items()],
        states=list(STATES.items()),
        bases=sorted(base_names.items(), key=lambda item: item[1]),
        form=form or NewClient(key=clients.new_key()),
        form_error=form_error,
    )


@router.get("", response_class=HTMLResponse)
async def clients_page(request: Request, _: AdminPage) -> Response:
    query = _list_query(request)
    values = await _list_values(request, query)
    return render.page(request, "admin_clients.html", values, 422 if query.error else 200)


async def new_client_form(
    request: Request,
    sessions: SessionsDep,
    csrf: Annotated[str, Form()] = "",
    name: Annotated[str, Form(max_length=400)] = "",
    key: Annotated[str, Form(max_length=200)] = "",
    scopes: Annotated[list[str], Form(max_length=len(Scope))] = [],  # noqa: B006
    learner_id: Annotated[str, Form(max_length=200)] = "",
    base_id: Annotated[str, Form(max_length=200)] = "",
) -> tuple[Principal, NewClient]:
    """The admin posting the list page's form, and its fields (their sizes checked first)."""
    admin = await admin_form(request, sessions, csrf, LIST)
    fields = NewClient(
        name=unicodedata.normalize("NFC", name).strip(),
        key=key.strip(),
        scopes=tuple(scopes),
        learner_id=learner_id.strip(),
        base_id=base_id.strip(),
    )
    return admin, fields


def _name_refusal(form: NewClient) -> str:
    if not form.name:
        return "请填写名称（客户端是给谁用的）。"
    if len(form.name) > clients.NAME_MAX:
        return f"名称最多 {clients.NAME_MAX} 个字，收到 {len(form.name)} 个字。"
    if any(unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp") for c in form.name):
        return "名称只能是一行文字，不能含控制字符。"
    if form.key and not KEY_PATTERN.match(form.key):
        return f"账号“{_short(form.key)}”不合格式：3–64 个英文字母、数字或 _.@-，以字母或数字开头。"
    return ""


def _scope_refusal(form: NewClient) -> str:
    """The rules of `clients.check_binding`, in words."""
    unknown = [s for s in form.scopes if s not in Scope.__members__.values()]
    if unknown:
        return f"没有“{_short(unknown[0])}”这项权限。"
    if not form.scopes:
        return "请至少选择一项权限。"
    if Scope.base.value not in form.scopes:
        if form.base_id:
            return "只有“继续教育基地”权限的账号才代表基地：请选择该权限，或不选基地。"
        return ""
    if len(set(form.scopes)) > 1:
        return "“继续教育基地”权限只能单独授予，不能与其他权限同时选择。"
    if form.learner_id:
        return "“继续教育基地”账号只代表基地，不代表学员：请清空学员编号。"
    if not form.base_id:
        return "“继续教育基地”账号须选择它代表的基地。"
    return ""


async def _bound_refusal(form: NewClient) -> str:
    """The learner it acts as is registered, the base it acts for exists."""
    if form.learner_id:
        try:
            learner = await credit_learners.get_learner(learner_id=form.learner_id)
        except NotFound:
            return f"学员编号“{_short(form.learner_id)}”尚未登记。"
        if learner.erased_at is not None:
            return f"学员“{_short(form.learner_id)}”的个人信息已删除，不能再代表他。"
    if form.base_id:
        try:
            await bases.get(base_id=form.base_id)
        except NotFound:
            return f"没有编号为“{_short(form.base_id)}”的基地。"
    return ""


async def _refusal(form: NewClient) -> str:
    """Why the client of `form` cannot be registered, in words (empty: it can)."""
    return _name_refusal(form) or _scope_refusal(form) or await _bound_refusal(form)


NewClientForm = Annotated[tuple[Principal, NewClient], Depends(new_client_form)]


@router.post("", response_class=HTMLResponse)
async def register_client(request: Request, posted: NewClientForm) -> Response:
    """Register a client; its page answers, with the secret shown this once."""
    admin, form = posted
    words, status = await _refusal(form), 422
    if not words:
        try:
            issued = await clients.register(
                by=admin.key,
                name=form.name,
                scopes=[Scope(s) for s in form.scopes],
                key=form.key or None,
                learner_id=form.learner_id or None,
                base_id=form.base_id or None,
            )
        except Conflict:
            words, status = f"账号“{form.key}”已存在：请换一个，或打开它的页面生成新密钥。", 409
        except NxceError as error:  # a rule the words above do not know yet
            words = f"未能创建：{error.detail}"
        else:
            return await _issued_page(request, issued, created=True)
    values = await _list_values(request, _list_query(request), form=form, form_error=words)
    return render.page(request, "admin_clients.html", values, status)


# --- a client's page -------------------------------------------------------------------


async def _client(key: str) -> Client:
    try:
        return await clients.get(key=key)
    except NotFound:
        text = f"没有账号为“{_short(key)}”的客户端。"
        raise PageMessage(404, "没有这个客户端账号", text, (LIST, "返回客户端账号")) from None


async def shown_client(key: str, _: AdminPage) -> Client:
    """The client of a page the admin asks for (who asks is checked first)."""
    return await _client(key)


ShownClient = Annotated[Client, Depends(shown_client)]


async def _client_values(
    request: Request, client: Client, *, secret: str = "", created: bool = False, notice: str = ""
) -> dict[str, Any]:
    base_names = await _base_names() if client.base_id else {}
    lines = await admin_log.entries(area=Area.clients, target=client.key, limit=HISTORY)
    values = await render.context(
        request,
        section="clients",
        client=_row(client, base_names),
        updated=moment_text(client.updated_at),
        is_admin=Scope.admin in client.scopes,
        secret=secret,
        created=created,
        notice=notice,
        history=[
            {"at": moment_text(line.at), "by": line.by, "summary": line.summary} for line in lines
        ],
    )
    signed_in: Principal | None = values["principal"]
    values["is_self"] = signed_in is not None and signed_in.key == client.key
    return values


@router.get("/{key}", response_class=HTMLResponse)
async def client_page(request: Request, client: ShownClient) -> Response:
    notice = DONE.get(request.query_params.get("done", ""), "")
    values = await _client_values(request, client, notice=notice)
    return render.page(request, "admin_client.html", values)


async def _issued_page(request: Request, issued: clients.Issued, *, created: bool) -> Response:
    """The client's page with its secret: this answer only, never cached."""
    values = await _client_values(request, issued.client, secret=issued.secret, created=created)
    response = render.page(request, "admin_client.html", values, 201 if created else 200)
    response.headers["Cache-Control"] = "no-store"
    return response


async def posted_by_admin(
    request: Request, key: str, sessions: SessionsDep, csrf: Annotated[str, Form()] = ""
) -> Principal:
    """The admin posting a form of the page of the client `key`."""
    return await admin_form(request, sessions, csrf, client_path(key))


AdminForm = Annotated[Principal, Depends(posted_by_admin)]


@router.post("/{key}/secret", response_class=HTMLResponse)
async def renew_secret(
    request: Request, key: str, admin: AdminForm, sessions: SessionsDep, settings: SettingsDep
) -> Response:
    """A new secret (as `POST /clients/{key}/secret`), shown on this answer only. The old
    one stops working at once; an admin renewing their own stays signed in here."""
    client = await _client(key)
    issued = await clients.renew_secret(key=client.key, by=admin.key)
    response = await _issued_page(request, issued, created=False)
    session = sessions.current(request)
    if session is not None and session.key == client.key:
        await sessions.forget(session)  # a new session (new id) replaces it
        secure = render.secure_cookies(request, settings)
        sessions.start(response, client.key, issued.client.secret_hash, request, secure)
    return response


@router.post("/{key}/disable")
async def disable_client(key: str, admin: AdminForm) -> Response:
    """Disable the client (as `POST /clients/{key}/disable`): refused at once everywhere."""
    client = await _client(key)
    try:
        await clients.disable(key=client.key, by=admin.key)
    except Conflict:
        back = (client_path(client.key), "返回该账号")
        if client.key == admin.key:
            text = "不能停用自己正在使用的账号；如确需停用，请由另一位管理员操作。"
        else:
            text = f"“{client.key}”是唯一启用中的管理员账号：请先创建或启用另一个管理员账号。"
        raise PageMessage(409, "不能停用这个账号", text, back) from None
    return RedirectResponse(client_path(client.key) + "?done=disabled", status_code=303)


@router.post("/{key}/enable")
async def enable_client(key: str, admin: AdminForm) -> Response:
    """Enable the client again (as `POST /clients/{key}/enable`), with the secret it had."""
    client = await _client(key)
    await clients.enable(key=client.key, by=admin.key)
    return RedirectResponse(client_path(client.key) + "?done=enabled", status_code=303)
