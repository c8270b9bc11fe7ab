"""The pages over HTTP: bad parameters name themselves, sessions cannot be forged, forms
need their CSRF token, sign-in never redirects off the site, JSON clients of /verify get
JSON."""

from __future__ import annotations

import re

import httpx
import pytest

from nxce.core import clients
from nxce.core.clients import Scope
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
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


async def test_a_cookie_kept_after_sign_out_or_a_new_secret_is_worth_nothing(
    client: httpx.AsyncClient,
) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    await sign_in(client, "pingshen-web", "pingshen-web-secret")
    kept = client.cookies[COOKIE]
    page = await client.get("/auditor")
    assert page.status_code == 200
    await client.post("/signout", data={"csrf": token(page.text)})
    client.cookies.set(COOKIE, kept)
    assert (await client.get("/auditor")).status_code == 303  # signed out: sign in again

    client.cookies.clear()
    await sign_in(client, "pingshen-web", "pingshen-web-secret")
    assert (await client.get("/auditor")).status_code == 200
    client_record = await clients.get_by_key(key="pingshen-web")
    assert client_record is not None
    await clients.create(key="other", name="x", scopes=[Scope.auditor], secret="other-secret-1")
    other = await clients.get_by_key(key="other")
    assert other is not None
    client_record.secret_hash = other.secret_hash  # the secret was changed
    await client_record.save()
    assert (await client.get("/auditor")).status_code == 303


@pytest.mark.parametrize(
    ("path", "words"),
    [
        ("/?page=²", "page"),
        ("/?page=" + "9" * 5000, "page"),
        ("/auditor/learners/zhangwei?year=²", "year"),
        ("/auditor?q=%00", "q"),
    ],
)
async def test_odd_numbers_and_control_characters_are_422_pages(
    client: httpx.AsyncClient, path: str, words: str
) -> None:
    await register(client)
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    await sign_in(client, "pingshen-web", "pingshen-web-secret")
    response = await client.get(path)
    assert response.status_code == 422, response.text
    assert words in response.text


async def test_downloads_started_by_another_site_are_refused_and_notices_are_fixed_words(
    client: httpx.AsyncClient,
) -> None:
    from transcripts.models import IssuedTranscript

    await register(client)
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    await sign_in(client, "pingshen-web", "pingshen-web-secret")
    elsewhere = await client.get(
        "/auditor/learners/zhangwei/transcript?format=pdf",
        headers={"Sec-Fetch-Site": "cross-site"},
    )
    assert elsewhere.status_code == 403
    assert await IssuedTranscript.count() == 0
    here = await client.get(
        "/auditor/learners/zhangwei/transcript?format=csv",
        headers={"Sec-Fetch-Site": "same-origin"},
    )
    assert here.status_code == 200
    crafted = await client.get("/auditor/learners/zhangwei?done=approve&entry=请致电某某")
    assert "请致电" not in crafted.text
