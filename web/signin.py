"""Signing in and out on the pages, and a learner's first sign-in with an activation code.

One form signs in learners and staff. Its name is taken as a learner's account when it
names a learner who has set a password (their learner id, 18-character id number or
11-digit phone, `accounts.service.resolve`); otherwise as the key of a client (staff, and
learners' clients made on the command line), whose secret is its password; a name that is
neither fails as an unknown account does. Our reading: a client whose key is also the
account name of a learner with a password is taken as the learner. Either way a failure
answers the same words, counts against the one throttle of clients and accounts, and costs
one argon2 and one scrypt verification (the path not taken against a dummy hash), so that
the time of a failure does not tell a client's key from a learner's account or no one.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import secrets
from dataclasses import dataclass
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse

from accounts import passwords as account_passwords
from accounts import service as account_service
from accounts.context import Accounts
from nxce.core import clients, passwords
from nxce.core.auth import Principal, Verifier
from nxce.core.errors import NxceError, TooManyRequests, Unauthorized
from nxce.core.json_route import JsonRoute
from web import render
from web.access import session_to_end, signin_csrf
from web.password_words import RULES, activation_refusal
from web.services import AccountsDep, SessionsDep, SettingsDep, VerifierDep
from web.session import CSRF_COOKIE, Session, Sessions, learner_key

router = APIRouter(route_class=JsonRoute, include_in_schema=False)

SIGN_IN_FAILED = "账号或密码不正确。"
TOO_MANY = "尝试次数过多，请稍后再试。"


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


def _shown_back(name: str) -> str:
    """The account name to fill the form again with after a refusal: never one that may
    be an id number or a phone number (however typed: 11 digits or more), which are not
    shown back."""
    return "" if sum(c.isdigit() for c in name) >= 11 else name


def _address(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _csrf_cookie(response: Response, token: str, secure: bool, path: str) -> None:
    """The double-submit token of a form shown before any session (`path`: its page)."""
    response.set_cookie(
        CSRF_COOKIE, token, httponly=True, samesite="strict", path=path, secure=secure
    )


def _form_page(
    request: Request, name: str, values: dict[str, object], path: str, status: int = 200
) -> Response:
    """A sign-in or activation form with a fresh double-submit token."""
    token = secrets.token_urlsafe(24)
    values["csrf"] = token
    response = render.page(request, name, values, status)
    response.headers["Cache-Control"] = "no-store"  # an activation code typed is kept in it
    settings = request.app.state.settings
    _csrf_cookie(response, token, render.secure_cookies(request, settings), path)
    return response


def _retry_after(response: Response, error: NxceError) -> Response:
    if isinstance(error, TooManyRequests):
        response.headers["Retry-After"] = str(error.extra.get("retry_after", 60))
    return response


# --- signing in --------------------------------------------------------------------------


@router.get("/signin", response_class=HTMLResponse)
async def signin_form(request: Request, next: str = "/") -> Response:
    values = await render.context(request, error=None, key="", next=_local(next))
    return _form_page(request, "signin.html", values, "/signin")


@dataclass(frozen=True, slots=True)
class SignIn:
    key: str
    secret: str
    next: str


async def signin_posted(
    request: Request,
    key: str = Form("", max_length=64),
    secret: str = Form("", max_length=200),
    csrf: str = Form(""),
    next: str = Form("/"),
) -> SignIn:
    """The sign-in form: its fields checked, then its CSRF token."""
    signin_csrf(request, csrf)
    return SignIn(key.strip(), secret, next)


async def is_learner_account(accounts: Accounts, verifier: Verifier, name: str) -> bool:
    """Whether the sign-in form takes `name` as a learner's account (see the module)."""
    learner_id = await account_service.resolve(accounts=accounts, account=name)
    if learner_id is not None and await account_service.password_hash_of(learner_id=learner_id):
        return True
    if verifier.handovers is not None and verifier.handovers.changed():
        await verifier.handovers.apply(prune=verifier.prune)  # clients made a moment ago
    return await clients.get_by_key(key=name) is None


@router.post("/signin", response_class=HTMLResponse)
async def signin(
    request: Request,
    form: Annotated[SignIn, Depends(signin_posted)],
    verifier: VerifierDep,
    accounts: AccountsDep,
    sessions: SessionsDep,
    settings: SettingsDep,
) -> Response:
    secure = render.secure_cookies(request, settings)
    as_learner = await is_learner_account(accounts, verifier, form.key)
    try:
        if as_learner:
            learner_id = await account_service.sign_in(
                accounts=accounts, account=form.key, password=form.secret, address=_address(request)
            )
            return await _learner_signed_in(request, sessions, learner_id, form.next, secure)
        principal = await _client(verifier, form.key, form.secret, _address(request))
    except (Unauthorized, TooManyRequests) as error:
        if isinstance(error, Unauthorized):
            await _path_not_taken(accounts, form.secret, as_learner)
        words = SIGN_IN_FAILED if isinstance(error, Unauthorized) else TOO_MANY
        values = await render.context(
            request, error=words, key=_shown_back(form.key), next=_local(form.next)
        )
        page = _form_page(request, "signin.html", values, "/signin", error.status)
        return _retry_after(page, error)
    home = "/me" if principal.learner_id else "/base" if principal.base_id else "/"
    response = RedirectResponse(_local(form.next) if form.next != "/" else home, status_code=303)
    client = await clients.get_by_key(key=principal.key)
    assert client is not None  # it was verified a moment ago
    sessions.start(response, principal.key, client.secret_hash, request, secure)
    return response


@functools.cache
def _no_client_hash() -> str:
    return passwords.hash_secret("nxce web sign-in: no client has this secret")


async def _path_not_taken(accounts: Accounts, secret: str, as_learner: bool) -> None:
    """The other path's verification of a failed sign-in, against a dummy hash (see the
    module), run like the real ones: off the event loop, a few at a time."""
    async with accounts.hashing():
        if as_learner:
            await asyncio.to_thread(passwords.verify_secret, secret, _no_client_hash())
        else:
            dummy = account_passwords.DUMMY_HASH
            await asyncio.to_thread(account_passwords.verify_password, secret, dummy)


async def _client(verifier: Verifier, key: str, secret: str, address: str) -> Principal:
    authorization = "Basic " + base64.b64encode(f"{key}:{secret}".encode()).decode()
    return await verifier.principal(authorization, address)


async def _learner_signed_in(
    request: Request,
    sessions: Sessions,
    learner_id: str,
    next: str,
    secure: bool,
    done: str | None = None,
) -> Response:
    """A learner's session begins (its secret: a digest of their password's hash)."""
    password_hash = await account_service.password_hash_of(learner_id=learner_id)
    if password_hash is None:  # changed or cleared a moment ago: sign in again
        return RedirectResponse("/signin?" + urlencode({"next": "/me"}), status_code=303)
    target = _local(next) if next != "/" else "/me"
    if done is not None:
        target += "?" + urlencode({"done": done})
    response = RedirectResponse(target, status_code=303)
    sessions.start(response, learner_key(learner_id), password_hash, request, secure)
    response.delete_cookie(CSRF_COOKIE, path="/activate")
    return response


@router.post("/signout")
async def signout(
    session: Annotated[Session | None, Depends(session_to_end)], sessions: SessionsDep
) -> Response:
    response = RedirectResponse("/", status_code=303)
    await sessions.end(response, session)
    return response


# --- the first sign-in: an activation code ----------------------------------------------------


@router.get("/activate", response_class=HTMLResponse)
async def activate_form(request: Request) -> Response:
    values = await render.context(request, error=None, account="", code="", password_rules=RULES)
    return _form_page(request, "activate.html", values, "/activate")


@dataclass(frozen=True, slots=True)
class Activation:
    account: str
    code: str
    password: str
    again: str


async def activation_posted(
    request: Request,
    account: str = Form("", max_length=64),
    code: str = Form("", max_length=64),
    password: str = Form("", max_length=200),
    again: str = Form("", max_length=200),
    csrf: str = Form(""),
) -> Activation:
    """The activation form: its fields checked, then its CSRF token."""
    signin_csrf(request, csrf)
    return Activation(account.strip(), code.strip(), password, again)


@router.post("/activate", response_class=HTMLResponse)
async def activate(
    request: Request,
    form: Annotated[Activation, Depends(activation_posted)],
    accounts: AccountsDep,
    sessions: SessionsDep,
    settings: SettingsDep,
) -> Response:
    """Set the password with the code, then sign the learner in (to "/me")."""
    if form.password != form.again:
        return await _activation_refused(request, form, 422, "两次输入的新密码不一致，请重新输入。")
    try:
        learner_id = await account_service.activate(
            accounts=accounts,
            account=form.account,
            code=form.code,
            password=form.password,
            address=_address(request),
        )
    except NxceError as error:
        words = TOO_MANY if error.status == 429 else activation_refusal(error, form.password)
        return _retry_after(await _activation_refused(request, form, error.status, words), error)
    secure = render.secure_cookies(request, settings)
    return await _learner_signed_in(request, sessions, learner_id, "/", secure, "activated")


async def _activation_refused(
    request: Request, form: Activation, status: int, words: str
) -> Response:
    values = await render.context(
        request,
        error=words,
        account=_shown_back(form.account),
        code=form.code,
        password_rules=RULES,
    )
    return _form_page(request, "activate.html", values, "/activate", status)
