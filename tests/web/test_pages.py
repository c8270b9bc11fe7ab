"""The pages over HTTP: bad parameters name themselves, sessions cannot be forged, forms
need their CSRF token, sign-in never redirects off the site, JSON clients of /verify get
JSON."""

from __future__ import annotations

import re

import httpx
import pytest

from nxce import clients
from nxce.clients import Scope
from tests.lrs.credits.conftest import register
from tests.lrs.credits.conftest import settings as settings  # the catalog loaded
from web.session import COOKIE


def token(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found, page
    return found.group(1)


async def sign_in(
    client: httpx.AsyncClient, key: str, secret: str, next_: str = "/"
) -> httpx.Response:
    form = await client.get("/signin")
    return await client.post(
        "/signin",
        data={"key": key, "secret": secret, "csrf": token(form.text), "next": next_},
    )


@pytest.mark.parametrize(
    ("query", "words"),
    [
        ({"category": "optional"}, "category"),
        ({"series": "火星"}, "series"),
        ({"page": "0"}, "page"),
        ({"page": "abc"}, "page"),
        ({"q": "枸" * 101}, "100"),
    ],
)
async def test_bad_search_parameters_get_a_page_naming_them(
    client: httpx.AsyncClient, query: dict[str, str], words: str
) -> None:
    response = await client.get("/", params=query)
    assert response.status_code == 422
    assert words in response.text
    assert response.headers["content-type"].startswith("text/html")


async def test_unknown_course_is_a_404_page(client: httpx.AsyncClient) -> None:
    response = await client.get("/course/NOPE-0001")
    assert response.status_code == 404 and "没有这门课程" in response.text


async def test_sign_in_sets_an_http_only_session_and_stays_on_the_site(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await clients.create(
        key="zw-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zw-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    response = await sign_in(client, "zw-web", "zw-web-secret", "https://evil.example/")
    assert response.status_code == 303
    assert response.headers["location"] == "/"  # never off the site
    cookie = response.headers["set-cookie"]
    assert COOKIE in cookie and "httponly" in cookie.lower() and "samesite=lax" in cookie.lower()
    me = await client.get("/me")
    assert me.status_code == 200 and "我的学时" in me.text


async def test_a_forged_or_altered_session_is_no_session(client: httpx.AsyncClient) -> None:
    await register(client)
    await clients.create(
        key="zw-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zw-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    await sign_in(client, "zw-web", "zw-web-secret")
    value = client.cookies[COOKIE]
    data, _, mac = value.rpartition(".")
    client.cookies.set(COOKIE, data + "." + mac[::-1])
    assert (await client.get("/me")).status_code == 303  # back to sign in


async def test_forms_without_their_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    no_token = await client.post(
        "/signin", data={"key": "pingshen-web", "secret": "pingshen-web-secret", "csrf": "x"}
    )
    assert no_token.status_code == 403
    assert COOKIE not in client.cookies
    await sign_in(client, "pingshen-web", "pingshen-web-secret")
    assert COOKIE in client.cookies
    refused = await client.post("/signout", data={"csrf": "wrong"})
    assert refused.status_code == 403
    me = await client.get("/me")
    assert me.status_code == 403 and "学员" in me.text  # an auditor is not a learner


async def test_json_clients_of_verify_get_json(client: httpx.AsyncClient) -> None:
    response = await client.get("/verify/" + "A" * 24, headers={"Accept": "application/json"})
    assert response.status_code == 404
    assert response.json()["genuine"] is False
    page = await client.get("/verify/" + "A" * 24, headers={"Accept": "text/html"})
    assert page.status_code == 404 and "无法核验" in page.text
    extra = await client.get("/verify/" + "A" * 24 + "?x=1")
    assert extra.status_code == 422
