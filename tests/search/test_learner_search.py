"""Search for a learner: a learner-bound client's series ranks first over the API, a
signed-in learner's on the search page; no credentials is anonymous search, bad
credentials a 401."""

from __future__ import annotations

import re

import httpx

import fixtures
from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN, basic
from tests.credits.conftest import register
from tests.web.test_pages import sign_in

TITLES = {course.code: course.title for course in fixtures.read_courses()}
RESEARCHER = basic("wf-app", "wf-app-secret")


async def researcher(client: httpx.AsyncClient) -> None:
    """王芳, a researcher (自然科研), with a client bound to her."""
    await register(client, "wangfang", "王芳", "125", series="自然科研")
    await clients.create(
        key="wf-app", name="王芳", scopes=[Scope.statements_read_mine],
        secret="wf-app-secret", learner_id="wangfang",
    )  # fmt: skip


async def first_titles(client: httpx.AsyncClient, **headers: str) -> list[str]:
    response = await client.get("/search", params={"q": "kj", "page_size": 5}, headers=headers)
    assert response.status_code == 200, response.text
    return [hit["title"] for hit in response.json()["hits"]]


async def test_kj_ranks_kuaiji_first_anonymously_and_keji_for_a_researcher(
    client: httpx.AsyncClient,
) -> None:
    await researcher(client)
    anonymous = await first_titles(client)
    assert "会计" in anonymous[0]  # 会计 covers more of the catalog than 科技
    assert await first_titles(client, **ADMIN) == anonymous  # an admin is no learner
    mine = await first_titles(client, **RESEARCHER)
    assert "科技" in mine[0]


async def test_search_with_bad_credentials_is_401(client: httpx.AsyncClient) -> None:
    await researcher(client)
    for headers in (
        basic("wf-app", "wrong-secret"),
        basic("nobody", "x"),
        {"Authorization": "Bearer abc"},
        {"Authorization": ""},
    ):
        response = await client.get("/search", params={"q": "枸杞"}, headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["content-type"] == "application/problem+json"
    assert (await client.get("/search", params={"q": "枸杞"})).status_code == 200


async def test_search_page_ranks_a_signed_in_learners_series_first(
    client: httpx.AsyncClient,
) -> None:
    await researcher(client)

    async def first_code() -> str:
        page = await client.get("/", params={"q": "kj"})
        assert page.status_code == 200
        found = re.search(r'href="/course/([A-Z]+-\d+)"', page.text)
        assert found, page.text
        return found.group(1)

    assert "会计" in TITLES[await first_code()]
    assert (await sign_in(client, "wf-app", "wf-app-secret")).status_code == 303
    assert "科技" in TITLES[await first_code()]
