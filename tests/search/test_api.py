"""`GET /search`, `GET /search/suggest` and reindexing over HTTP, on the embedded engine."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.catalog.test_courses import NEW_COURSE
from tests.conftest import ADMIN


async def search(client: httpx.AsyncClient, **params: Any) -> dict[str, Any]:
    response = await client.get("/search", params=params)
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


async def test_search_answers_hits_total_facets_and_time(client: httpx.AsyncClient) -> None:
    body = await search(client, q="滩羊", facets="series,category")
    assert body["total"] > 0 and body["backend"] == "embedded"
    assert body["took_ms"] >= 0
    hit = body["hits"][0]
    assert {"code", "title", "title_highlighted", "series", "hours", "score"} <= set(hit)
    assert "<em>滩羊</em>" in hit["title_highlighted"]
    assert sum(body["facets"]["category"].values()) == body["total"]


async def test_search_highlight_is_escaped_html(client: httpx.AsyncClient) -> None:
    course = {**NEW_COURSE, "title": "<b>急诊</b>分诊与预检"}
    assert (await client.post("/courses", json=course, headers=ADMIN)).status_code == 201
    hits = (await search(client, q="急诊 预检", page_size=100))["hits"]
    hit = next(h for h in hits if h["code"] == course["code"])
    assert hit["title_highlighted"] == "&lt;b&gt;<em>急诊</em>&lt;/b&gt;分诊与<em>预检</em>"


async def test_new_course_is_found_at_once(client: httpx.AsyncClient) -> None:
    assert (await search(client, q="中医适宜技术推广"))["total"] == 0
    await client.post("/courses", json=NEW_COURSE, headers=ADMIN)
    hits = (await search(client, q="中医适宜技术推广"))["hits"]
    assert [h["code"] for h in hits] == ["WS-9001"]


async def test_retired_course_disappears_at_once_and_restored_returns(
    client: httpx.AsyncClient,
) -> None:
    title = (await client.get("/courses/GQ-0001")).json()["title"]
    assert "GQ-0001" in [h["code"] for h in (await search(client, q=title))["hits"]]
    await client.delete("/courses/GQ-0001", headers=ADMIN)
    assert "GQ-0001" not in [h["code"] for h in (await search(client, q=title))["hits"]]
    await client.post("/courses/GQ-0001/restore", headers=ADMIN)
    assert (await search(client, q=title))["hits"][0]["code"] == "GQ-0001"


async def test_edited_course_changes_at_once(client: httpx.AsyncClient) -> None:
    await client.patch(
        "/courses/GQ-0001", json={"title": "枸杞烘干房节能改造", "hours": 4}, headers=ADMIN
    )
    hit = (await search(client, q="烘干房节能"))["hits"][0]
    assert (hit["code"], hit["hours"]) == ("GQ-0001", 4)


async def test_search_filters_and_sort(client: httpx.AsyncClient) -> None:
    body = await search(
        client, series="会计", min_hours=2, max_hours=3, sort="hours:desc", page_size=100
    )
    hours = [h["hours"] for h in body["hits"]]
    assert hours == sorted(hours, reverse=True) and all(2 <= h <= 3 for h in hours)
    assert {h["series"] for h in body["hits"]} == {"会计"}


async def test_suggest_answers_ten_titles(client: httpx.AsyncClient) -> None:
    response = await client.get("/search/suggest", params={"q": "gouq"})
    assert response.status_code == 200
    suggestions = response.json()["suggestions"]
    assert 1 <= len(suggestions) <= 10
    assert all("<em>" in s["title_highlighted"] for s in suggestions)


BAD: list[tuple[dict[str, Any], int, str]] = [
    ({"q": "枸" * 1000}, 400, "at most 100 characters, got 1000"),
    ({"page_size": 100_000}, 422, "page_size"),
    ({"page": 0}, 422, "page"),
    ({"sort": "title:asc"}, 422, "got 'title:asc'"),
    ({"sort": "hours"}, 422, "got 'hours'"),
    ({"facets": "series,teacher"}, 422, "got 'teacher'"),
    ({"series": "护理"}, 422, "got '护理'"),
    ({"category": "elective"}, 422, "'elective'"),
    ({"min_hours": 3, "max_hours": 1}, 422, "must not exceed"),
    ({"min_hours": "nan"}, 422, "min_hours"),
    ({"year": "今年"}, 422, "'今年'"),
    ({"colour": "red"}, 422, "unknown parameter 'colour'"),
]


@pytest.mark.parametrize(("params", "status", "text"), BAD, ids=[str(b[0])[:40] for b in BAD])
async def test_search_bad_parameters_are_clear_errors(
    client: httpx.AsyncClient, params: dict[str, Any], status: int, text: str
) -> None:
    response = await client.get("/search", params=params)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert text in response.json()["detail"]


async def test_suggest_too_long_is_400(client: httpx.AsyncClient) -> None:
    response = await client.get("/search/suggest", params={"q": "x" * 101})
    assert response.status_code == 400


async def test_reindex_needs_admin_and_rebuilds(client: httpx.AsyncClient) -> None:
    assert (await client.post("/search/reindex")).status_code == 401
    response = await client.post("/search/reindex", headers=ADMIN)
    assert response.status_code == 200
    assert "4344 courses" in response.json()["result"]
    assert (await search(client))["total"] == 4344


async def test_health_reports_search(client: httpx.AsyncClient) -> None:
    body = (await client.get("/health")).json()
    assert body["search"]["ok"] and body["search"]["documents"] == 4344
    assert body["search"]["stale"] is False


async def test_index_is_reused_when_current(app: Any) -> None:
    assert await app.state.indexer.sync() == "index current (4344 courses)"


async def test_search_answers_503_until_the_first_index_is_built(tmp_path: Any) -> None:
    from nxce.app import create_app
    from tests.conftest import embedded_settings

    application = create_app(embedded_settings(tmp_path))  # no index from an earlier start
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            early = await http.get("/search", params={"q": "枸杞"})
            assert early.status_code == 503
            assert early.headers["retry-after"] == "2"
            assert (await http.get("/catalog/stats")).json()["courses"] == 4344
            await application.state.indexer.wait()
            assert (await http.get("/search", params={"q": "枸杞"})).json()["total"] > 0
