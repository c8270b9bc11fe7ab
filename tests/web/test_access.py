"""Who may see a page: signed-out visitors are sent to sign in with `next=` the page,
other accounts get a page saying why, and a form's over-long field is a 422 problem
before anyone is asked who posts it."""

from __future__ import annotations

import httpx
import pytest

from nxce.core import clients
from nxce.core.clients import Scope
from tests.web.test_pages import sign_in


@pytest.mark.parametrize(
    ("path", "location"),
    [
        ("/me", "/signin?next=%2Fme"),
        ("/me/transcript?format=csv", "/signin?next=%2Fme"),
        ("/auditor?q=张", "/signin?next=%2Fauditor%3Fq%3D%25E5%25BC%25A0"),
        (
            "/auditor/exports/some-job/status",
            "/signin?next=%2Fauditor%2Fexports%2Fsome-job%2Fstatus",
        ),
    ],
)
async def test_signed_out_visitors_are_sent_to_sign_in_then_back(
    client: httpx.AsyncClient, path: str, location: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 303
    assert response.headers["location"] == location


async def test_accounts_without_the_scope_get_a_page_saying_why(
    client: httpx.AsyncClient,
) -> None:
    await clients.create(
        key="no-learner", name="普通", scopes=[Scope.statements_read_mine], secret="plain-secret-1"
    )
    await sign_in(client, "no-learner", "plain-secret-1")
    for path, words in (("/me", "仅限学员"), ("/auditor/exports", "仅限审核人员")):
        response = await client.get(path)
        assert response.status_code == 403 and words in response.text
        assert response.headers["content-type"].startswith("text/html")
    job = await client.get("/auditor/exports/some-job/status")
    assert job.status_code == 403 and "仅限审核人员" in job.text


async def test_a_learner_client_without_a_learner_record_gets_a_404_page(
    client: httpx.AsyncClient,
) -> None:
    await clients.create(
        key="ghost", name="无档案", scopes=[Scope.statements_read_mine],
        secret="ghost-secret-1", learner_id="nobody",
    )  # fmt: skip
    await sign_in(client, "ghost", "ghost-secret-1")
    response = await client.get("/me")
    assert response.status_code == 404 and "没有学员档案" in response.text


@pytest.mark.parametrize(
    ("path", "data"),
    [
        ("/auditor/learners/zhangwei/entries/e1/review", {"reason": "理" * 1001}),
        ("/auditor/exports", {"employer": "单" * 201}),
        ("/signin", {"key": "k" * 65}),
    ],
)
async def test_over_long_form_fields_are_a_422_problem_before_who_posts_them(
    client: httpx.AsyncClient, path: str, data: dict[str, str]
) -> None:
    response = await client.post(path, data={**data, "csrf": "not-the-token"})
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
