"""Every route of the app under /admin — found in `app.routes`, so pages added later are
covered — refuses everyone but admins: a learner's, an auditor's and a base's session get
403 on each page and each form (posted with the session's own CSRF token and fields that
pass validation), a signed-out visitor is sent to sign in; the JSON routes under /admin
take no session at all (401) and answer 403 to those clients' HTTP Basic."""

from __future__ import annotations

import datetime as dt
import enum
import re
import types
import typing
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from fastapi import FastAPI, UploadFile
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN, ADMIN_KEY, basic
from tests.credits.conftest import ENGINEERING_BASE, base_id, register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in, token

CLIENTS = {
    "learner": ([Scope.statements_read_mine], {"learner_id": "zhangwei"}),
    "auditor": ([Scope.auditor], {}),
    "base": ([Scope.base], {"base_id": "BASE"}),
}
SECRET = "not-an-admin-secret-1"


def _routes(routes: Any) -> list[tuple[str, bool, APIRoute]]:
    """(path, in the OpenAPI document, route) of every API route, through included
    routers (FastAPI includes them lazily: their effective routes carry the prefix)."""
    found: list[tuple[str, bool, APIRoute]] = []
    for route in routes:
        if isinstance(route, APIRoute):
            found.append((route.path, route.include_in_schema, route))
        elif hasattr(route, "effective_candidates"):
            for candidate in route.effective_candidates():
                original = getattr(candidate, "original_route", None)
                if isinstance(original, APIRoute):
                    found.append((candidate.path, candidate.include_in_schema, original))
                else:
                    found += _routes([candidate])
    return found


def admin_routes(app: FastAPI) -> list[tuple[str, str, bool, APIRoute]]:
    """(method, path, is a page, route) of every route whose path starts with /admin.
    Pages (and their forms) are left out of the OpenAPI document; the JSON API is in it."""
    found = [
        (method, path, not in_schema, route)
        for path, in_schema, route in _routes(app.routes)
        if path.startswith("/admin")
        for method in sorted(route.methods - {"HEAD"})
    ]
    assert found, "no /admin routes"
    return found


def path_of(path: str, ids: dict[str, str]) -> str:
    """`path` with each {parameter} filled: a known record's id where the name says which."""

    def fill(match: re.Match[str]) -> str:
        name = match.group(1).split(":")[0]
        for word, value in ids.items():
            if word in name:
                return quote(value, safe="")
        return "x1"

    return re.sub(r"\{([^}]+)\}", fill, path)


def _sample(annotation: Any) -> Any:
    """A value of `annotation` that passes validation (a form field's type)."""
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _sample(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        kinds = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _sample(kinds[0]) if kinds else ""
    if origin is typing.Literal:
        return str(typing.get_args(annotation)[0])
    if origin in (list, tuple, set):
        return [_sample(typing.get_args(annotation)[0])]
    if isinstance(annotation, type):
        if issubclass(annotation, enum.Enum):
            return str(next(iter(annotation)).value)
        if issubclass(annotation, bool):
            return "true"
        if issubclass(annotation, int | float):
            return "1"
        if issubclass(annotation, dt.date):
            return "2022-05-10"
    return "测试1"


def body_fields(dependant: Dependant) -> list[Any]:
    """The form fields of a route and of every dependency it declares."""
    fields = list(dependant.body_params)
    for inner in dependant.dependencies:
        fields += body_fields(inner)
    return fields


def form_of(route: APIRoute, csrf: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Form fields (with the CSRF token) and files a post of `route` needs to pass
    validation, so that what answers is who may post it."""
    data: dict[str, Any] = {}
    files: dict[str, Any] = {}
    for field in body_fields(route.dependant):
        name = field.alias
        annotation = field.field_info.annotation
        if "UploadFile" in str(annotation) or annotation is UploadFile:
            files[name] = ("课程.csv", b"code,title\n", "text/csv")
        elif name == "csrf":
            data[name] = csrf
        else:
            data[name] = _sample(annotation)
    data.setdefault("csrf", csrf)
    return data, files


async def session_of(app: FastAPI, kind: str, bases: str) -> httpx.AsyncClient:
    """A browser signed in as a client of `kind`."""
    scopes, binding = CLIENTS[kind]
    binding = {k: (bases if v == "BASE" else v) for k, v in binding.items()}
    await clients.create(key=f"{kind}-web", name=kind, scopes=scopes, secret=SECRET, **binding)
    browser = httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    )
    assert (await sign_in(browser, f"{kind}-web", SECRET)).status_code == 303
    return browser


async def known_ids(client: httpx.AsyncClient) -> dict[str, str]:
    await register(client)
    return {
        "learner": "zhangwei",
        "code": "GQ-0001",
        "course": "GQ-0001",
        "base": await base_id(client, ENGINEERING_BASE),
        "client": ADMIN_KEY,
        "key": ADMIN_KEY,
    }


@pytest.mark.parametrize("kind", sorted(CLIENTS))
async def test_every_admin_page_and_form_is_403_to_other_sessions(
    client: httpx.AsyncClient, app: FastAPI, kind: str
) -> None:
    ids = await known_ids(client)
    browser = await session_of(app, kind, ids["base"])
    csrf = token((await browser.get("/")).text)
    checked = []
    try:
        for method, path, page, route in admin_routes(app):
            if not page:
                continue
            url = path_of(path, ids)
            if method == "GET":
                answer = await browser.get(url)
            else:
                data, files = form_of(route, csrf)
                answer = await browser.request(method, url, data=data, files=files or None)
            assert answer.status_code == 403, (kind, method, url, answer.status_code, answer.text)
            assert "仅限管理员" in answer.text, (method, url)
            checked.append((method, path))
    finally:
        await browser.aclose()
    assert ("GET", "/admin") in checked and ("GET", "/admin/log") in checked


async def test_every_admin_page_and_form_sends_a_signed_out_visitor_to_sign_in(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ids = await known_ids(client)
    for method, path, page, route in admin_routes(app):
        if not page:
            continue
        url = path_of(path, ids)
        if method == "GET":
            answer = await client.get(url)
        else:
            data, files = form_of(route, "no-session")
            answer = await client.request(method, url, data=data, files=files or None)
        assert answer.status_code == 303, (method, url, answer.status_code, answer.text)
        assert answer.headers["location"].startswith("/signin?next=%2Fadmin"), (method, url)


async def test_the_admin_json_routes_take_no_session_and_refuse_other_clients(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    ids = await known_ids(client)
    api = [(m, p) for m, p, page, _ in admin_routes(app) if not page]
    assert ("GET", "/admin-log") in api and ("POST", "/admin/credits/rebuild") in api
    for kind, (scopes, binding) in CLIENTS.items():
        key = f"{kind}-api"
        bound = {k: (ids["base"] if v == "BASE" else v) for k, v in binding.items()}
        await clients.create(key=key, name=kind, scopes=scopes, secret=SECRET, **bound)
        for method, path in api:
            answer = await client.request(method, path_of(path, ids), headers=basic(key, SECRET))
            assert answer.status_code == 403, (kind, method, path, answer.text)
    browser = await session_of(app, "learner", ids["base"])
    try:
        for method, path in api:
            answer = await browser.request(method, path_of(path, ids))
            assert answer.status_code == 401, (method, path, answer.text)
    finally:
        await browser.aclose()
    assert (await client.get("/admin-log", headers=ADMIN)).status_code == 200
