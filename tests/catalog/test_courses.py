"""Catalog reads and writes over HTTP: listing, filters, paging, writes, retirement."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN

NEW_COURSE: dict[str, Any] = {
    "code": "WS-9001",
    "title": "基层常见病中医适宜技术推广应用",
    "description": "面向基层医疗卫生人员，讲解针刺、艾灸、拔罐等适宜技术的操作规范。",
    "category": "professional",
    "series": "卫生",
    "subject": "中医药",
    "hours": 2.5,
    "year": 2022,
    "base": "宁夏医学继续教育培训中心",
    "delivery": "mobile",
    "tags": ["中医适宜技术", "基层卫生"],
}


async def stats(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/catalog/stats")
    assert response.status_code == 200
    return response.json()  # type: ignore[no-any-return]


async def test_stats_answers_the_notice_totals_and_series_add_up(client: httpx.AsyncClient) -> None:
    body = await stats(client)
    assert (body["courses"], body["hours"]) == (4344, 8255)
    assert len(body["by_series"]) == 23
    public = body["by_category"]["public"]
    series_courses = sum(t["courses"] for t in body["by_series"].values())
    series_hours = sum(t["hours"] for t in body["by_series"].values())
    assert public["courses"] + series_courses == 4344
    assert public["hours"] + series_hours == 8255
    assert body["by_category"]["professional"] == {"courses": series_courses, "hours": series_hours}
    assert all(t["courses"] > 0 for t in body["by_series"].values())


async def test_courses_list_first_page_is_ordered_by_code(client: httpx.AsyncClient) -> None:
    response = await client.get("/courses")
    assert response.status_code == 200
    body = response.json()
    assert (body["total"], body["page"], body["page_size"]) == (4344, 1, 20)
    codes = [c["code"] for c in body["items"]]
    assert len(codes) == 20 and codes == sorted(codes)


async def test_courses_filter_by_series_matches_stats(client: httpx.AsyncClient) -> None:
    expected = (await stats(client))["by_series"]["卫生"]["courses"]
    response = await client.get("/courses", params={"series": "卫生", "page_size": 100})
    body = response.json()
    assert body["total"] == expected
    assert {c["series"] for c in body["items"]} == {"卫生"}
    assert {c["category"] for c in body["items"]} == {"professional"}


async def test_courses_filter_public_category_has_no_series(client: httpx.AsyncClient) -> None:
    body = (await client.get("/courses", params={"category": "public", "page_size": 100})).json()
    assert body["total"] == (await stats(client))["by_category"]["public"]["courses"]
    assert all(c["series"] is None and c["category"] == "public" for c in body["items"])


async def test_courses_filters_combine(client: httpx.AsyncClient) -> None:
    first = (await client.get("/courses", params={"series": "会计"})).json()["items"][0]
    params = {
        "series": "会计",
        "subject": first["subject"],
        "year": first["year"],
        "page_size": 100,
    }
    body = (await client.get("/courses", params=params)).json()
    assert body["total"] >= 1
    for course in body["items"]:
        assert (course["series"], course["subject"], course["year"]) == (
            "会计",
            first["subject"],
            first["year"],
        )


async def test_courses_paging_covers_every_course_once(client: httpx.AsyncClient) -> None:
    total = (await client.get("/courses", params={"series": "档案"})).json()["total"]
    seen: list[str] = []
    page = 1
    while True:
        params = {"series": "档案", "page": page, "page_size": 7}
        items = (await client.get("/courses", params=params)).json()["items"]
        if not items:
            break
        seen += [c["code"] for c in items]
        page += 1
    assert len(seen) == len(set(seen)) == total
    assert page == -(-total // 7) + 1


async def test_courses_page_past_the_end_is_empty(client: httpx.AsyncClient) -> None:
    body = (await client.get("/courses", params={"page": 10_000})).json()
    assert body["items"] == [] and body["total"] == 4344


async def test_course_get_by_code_has_activity_iri_and_etag(client: httpx.AsyncClient) -> None:
    response = await client.get("/courses/GQ-0001")
    assert response.status_code == 200
    course = response.json()
    assert course["series"] == "枸杞"
    assert course["activity_id"] == "https://nxce.example/xapi/activities/course/GQ-0001"
    assert response.headers["etag"] == f'"{course["revision"]}"'


async def test_course_get_unknown_code_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/courses/NOPE-1")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert "NOPE-1" in response.json()["detail"]


async def test_course_create_answers_201_with_location(client: httpx.AsyncClient) -> None:
    response = await client.post("/courses", json=NEW_COURSE, headers=ADMIN)
    assert response.status_code == 201, response.text
    assert response.headers["location"] == "/courses/WS-9001"
    body = response.json()
    assert body["status"] == "published" and body["revision"] == 1
    assert body["activity_id"].endswith("/WS-9001")
    assert (await client.get("/courses/WS-9001")).json()["title"] == NEW_COURSE["title"]
    after = await stats(client)
    assert (after["courses"], after["hours"]) == (4345, 8257.5)


async def test_course_create_same_code_is_409(client: httpx.AsyncClient) -> None:
    assert (await client.post("/courses", json=NEW_COURSE, headers=ADMIN)).status_code == 201
    again = await client.post("/courses", json={**NEW_COURSE, "title": "另一门课程"}, headers=ADMIN)
    assert again.status_code == 409
    assert (await client.get("/courses/WS-9001")).json()["title"] == NEW_COURSE["title"]


async def test_course_put_replaces_every_field(client: httpx.AsyncClient) -> None:
    await client.post("/courses", json=NEW_COURSE, headers=ADMIN)
    replacement = {**NEW_COURSE, "title": "中医适宜技术（修订版）", "hours": 3, "tags": []}
    response = await client.put("/courses/WS-9001", json=replacement, headers=ADMIN)
    assert response.status_code == 200
    body = response.json()
    assert (body["title"], body["hours"], body["tags"], body["revision"]) == (
        "中医适宜技术（修订版）",
        3,
        [],
        2,
    )


async def test_course_put_new_code_creates_it(client: httpx.AsyncClient) -> None:
    body = {k: v for k, v in NEW_COURSE.items() if k != "code"}
    response = await client.put("/courses/WS-9002", json=body, headers=ADMIN)
    assert response.status_code == 201
    assert response.json()["code"] == "WS-9002"


async def test_course_put_code_differing_from_path_is_422(client: httpx.AsyncClient) -> None:
    await client.post("/courses", json=NEW_COURSE, headers=ADMIN)
    response = await client.put(
        "/courses/WS-9001", json={**NEW_COURSE, "code": "WS-9"}, headers=ADMIN
    )
    assert response.status_code == 422
    assert "WS-9" in response.json()["detail"]


async def test_course_patch_changes_only_given_fields(client: httpx.AsyncClient) -> None:
    before = (await client.get("/courses/KJ-0001")).json()
    response = await client.patch("/courses/KJ-0001", json={"hours": 4}, headers=ADMIN)
    assert response.status_code == 200
    after = response.json()
    assert after["hours"] == 4 and after["revision"] == before["revision"] + 1
    assert {k: v for k, v in after.items() if k not in ("hours", "revision", "updated_at")} == {
        k: v for k, v in before.items() if k not in ("hours", "revision", "updated_at")
    }


async def test_course_patch_to_public_drops_the_series(client: httpx.AsyncClient) -> None:
    response = await client.patch("/courses/KJ-0001", json={"category": "public"}, headers=ADMIN)
    assert response.status_code == 200
    assert response.json()["series"] is None


async def test_course_patch_public_to_professional_needs_a_series(
    client: httpx.AsyncClient,
) -> None:
    response = await client.patch(
        "/courses/GX-0001", json={"category": "professional"}, headers=ADMIN
    )
    assert response.status_code == 422
    assert "series is required" in response.json()["detail"]
    assert (await client.get("/courses/GX-0001")).json()["category"] == "public"


async def test_course_write_with_stale_if_match_is_412(client: httpx.AsyncClient) -> None:
    first = await client.patch(
        "/courses/KJ-0001", json={"hours": 3}, headers={**ADMIN, "If-Match": '"1"'}
    )
    assert first.status_code == 200
    second = await client.patch(
        "/courses/KJ-0001", json={"hours": 5}, headers={**ADMIN, "If-Match": '"1"'}
    )
    assert second.status_code == 412
    assert (await client.get("/courses/KJ-0001")).json()["hours"] == 3


async def test_course_if_match_that_is_no_revision_is_400(client: httpx.AsyncClient) -> None:
    response = await client.patch(
        "/courses/KJ-0001", json={"hours": 3}, headers={**ADMIN, "If-Match": "abc"}
    )
    assert response.status_code == 400
    assert "'abc'" in response.json()["detail"]


async def test_course_delete_retires_but_keeps_resolving(client: httpx.AsyncClient) -> None:
    course = (await client.get("/courses/GQ-0001")).json()
    response = await client.delete("/courses/GQ-0001", headers=ADMIN)
    assert response.status_code == 200 and response.json()["status"] == "retired"
    assert (await client.get("/courses/GQ-0001")).json()["status"] == "retired"
    listed = (await client.get("/courses", params={"series": "枸杞", "page_size": 100})).json()
    assert "GQ-0001" not in [c["code"] for c in listed["items"]]
    retired = (await client.get("/courses", params={"status": "retired"})).json()
    assert [c["code"] for c in retired["items"]] == ["GQ-0001"]
    after = await stats(client)
    assert after["courses"] == 4343 and after["hours"] == 8255 - course["hours"]
    assert after["retired"] == {"courses": 1, "hours": course["hours"]}


async def test_course_delete_twice_is_idempotent(client: httpx.AsyncClient) -> None:
    first = (await client.delete("/courses/GQ-0001", headers=ADMIN)).json()
    second = await client.delete("/courses/GQ-0001", headers=ADMIN)
    assert second.status_code == 200 and second.json()["revision"] == first["revision"]


async def test_course_restore_publishes_again(client: httpx.AsyncClient) -> None:
    await client.delete("/courses/GQ-0001", headers=ADMIN)
    response = await client.post("/courses/GQ-0001/restore", headers=ADMIN)
    assert response.json()["status"] == "published"
    assert (await stats(client))["courses"] == 4344


async def test_course_history_records_who_changed_what(client: httpx.AsyncClient) -> None:
    await client.post("/courses", json=NEW_COURSE, headers=ADMIN)
    await client.patch("/courses/WS-9001", json={"hours": 3}, headers=ADMIN)
    await client.delete("/courses/WS-9001", headers=ADMIN)
    history = (await client.get("/courses/WS-9001/history", headers=ADMIN)).json()
    assert [h["action"] for h in history] == ["created", "updated", "retired"]
    assert [h["revision"] for h in history] == [1, 2, 3]
    assert {h["by"] for h in history} == {"admin"}
    assert history[1]["changes"] == {"hours": {"from": 2.5, "to": 3}}
    assert history[2]["changes"] == {"status": {"from": "published", "to": "retired"}}


async def test_fixture_courses_have_a_creation_history(client: httpx.AsyncClient) -> None:
    history = (await client.get("/courses/WS-0001/history", headers=ADMIN)).json()
    assert [(h["action"], h["by"]) for h in history] == [("created", "fixtures")]


async def test_course_history_needs_admin(client: httpx.AsyncClient) -> None:
    assert (await client.get("/courses/WS-0001/history")).status_code == 401


async def test_openapi_describes_the_catalog(client: httpx.AsyncClient) -> None:
    assert (await client.get("/docs")).status_code == 200
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert {"/courses", "/courses/{code}", "/catalog/stats", "/bases"} <= set(paths)


async def test_health_names_the_store(client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json()["store"] == "embedded"
