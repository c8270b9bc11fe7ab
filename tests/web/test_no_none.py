"""No page prints Python's `None` (issue 19: the result line of a public course printed it
where the series goes). Walks the main pages with fixture data — search with several
queries and filters, a public and a professional course, a learner's record with its
recommendations, the auditor's pages, the programme's pages, a base's pages, the
verification of a certificate — and looks for the word in each page's visible text."""

from __future__ import annotations

import html
import re

import httpx

from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import (
    activity,
    completion,
    entry,
    manual,
    register,
    send,
)
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in
from tests.web.test_programme_pages import enrol, project

# `None` as a word: ASCII word boundaries, so 系列None (a CJK character is a word
# character to Unicode) is caught too.
NONE = re.compile(r"\bNone\b", re.ASCII)
SEARCHES = [
    {},
    {"q": "枸杞"},
    {"q": "gq"},
    {"q": "会计"},
    {"q": "习近平"},
    {"q": "gouqi", "series": "枸杞"},
    {"category": "public"},
    {"category": "public", "page": "2"},
    {"q": "乡村振兴", "category": "public"},
    {"q": "None"},  # what the visitor typed is theirs: checked apart below
]


def visible(page: str) -> str:
    """The text a reader sees: no scripts, styles or tags; entities decoded."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def check(page: httpx.Response, where: str, typed: str = "") -> None:
    assert page.status_code == 200, (where, page.status_code)
    text = visible(page.text)
    if typed:
        text = text.replace(typed, "")
    found = NONE.search(text)
    assert found is None, (
        f"{where} prints None: …{text[max(0, found.start() - 60) : found.end() + 60]}…"
    )


async def fixture_data(client: httpx.AsyncClient) -> dict[str, str]:
    """Two learners with completions, manual entries, a pending entry and a programme
    result with its certificate."""
    await register(client)
    await register(client, "wangfang", "王芳", "125", series="会计")
    await register(client, "lina", "李娜", "126", series=None)
    await send(
        client,
        completion(await activity(client, "GX-0001")),
        completion(await activity(client, "GX-0002"), "wangfang", name="王芳"),
        completion(await activity(client, "GX-0003"), when="2020-01-01T00:00:00Z"),  # pending
    )
    await entry(client, manual("2021-10-01", "public", 30))
    await entry(client, {"kind": "study_tour", "date": "2019-05-10", "days": 5})
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    answer = await client.post(
        f"/programme/projects/{found['id']}/results",
        json={"learner_id": "zhangwei", "passed": True, "assessed_on": "2022-05-12"},
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.text
    return {"project": found["id"], "code": answer.json()["certificate"]["verification_code"]}


async def test_no_page_prints_none(client: httpx.AsyncClient) -> None:
    made = await fixture_data(client)
    for params in SEARCHES:
        check(await client.get("/", params=params), f"search {params}", params.get("q", ""))
    public = await client.get("/", params={"category": "public"})
    assert "GX-0001" in public.text  # the result lines of public courses were walked
    for code in ("GX-0001", "GQ-0001"):
        check(await client.get(f"/course/{code}"), f"/course/{code}")
    check(await client.get(f"/verify/{made['code']}", headers={"Accept": "text/html"}), "verify")

    for learner_id in ("zhangwei", "lina"):
        await clients.create(
            key=f"{learner_id}-web", name=learner_id, scopes=[Scope.statements_read_mine],
            secret=f"{learner_id}-web-secret", learner_id=learner_id,
        )  # fmt: skip
        assert (await sign_in(client, f"{learner_id}-web", f"{learner_id}-web-secret")).is_redirect
        me = await client.get("/me")
        check(me, f"/me of {learner_id}")
        assert "为你推荐" in me.text
        check(await client.get("/course/GX-0001"), f"/course/GX-0001 for {learner_id}")
        check(await client.get("/", params={"q": "公需"}), f"search for {learner_id}")
        client.cookies.clear()

    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).is_redirect
    for path in (
        "/auditor",
        "/auditor?q=张",
        "/auditor/learners/zhangwei",
        "/auditor/learners/zhangwei?level=deputy_senior&year=2022",
        "/auditor/learners/lina",
        "/auditor/learners/wangfang",
        "/auditor/programme",
        "/auditor/programme?year=2022",
        "/auditor/programme/projects",
        f"/auditor/programme/projects/{made['project']}",
        "/auditor/exports",
        "/base",
        f"/base/projects/{made['project']}",
    ):
        check(await client.get(path), path)
