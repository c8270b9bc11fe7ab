"""Bad input gets a 4xx problem naming the field and the value, and changes nothing."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from tests.catalog.test_courses import NEW_COURSE, stats
from tests.conftest import ADMIN

JSON = {"Content-Type": "application/json"}

BAD_BODIES: list[tuple[str, dict[str, Any], str, str]] = [
    # (case, changed fields, field named, text the message must hold)
    ("hours not in half steps", {"hours": 1.3}, "hours", "multiple of 0.5, got 1.3"),
    ("hours nearly a half", {"hours": 0.5000000001}, "hours", "got 0.5000000001"),
    ("negative hours", {"hours": -2}, "hours", "greater than 0, got -2"),
    ("zero hours", {"hours": 0}, "hours", "greater than 0, got 0"),
    ("absurd hours", {"hours": 10_000}, "hours", "at most 200, got 10000"),
    ("hours of the wrong type", {"hours": "两小时"}, "hours", "'两小时'"),
    ("hours as a numeric string", {"hours": "2.5"}, "hours", "'2.5'"),
    ("hours as a boolean", {"hours": True}, "hours", "got true"),
    ("year as a string", {"year": "2022"}, "year", "'2022'"),
    ("unknown series", {"series": "护理"}, "series", "got '护理'"),
    ("public course with a series", {"category": "public"}, "body", "series must be null"),
    ("professional course without series", {"series": None}, "body", "series is required"),
    ("unknown category", {"category": "elective"}, "category", "'elective'"),
    ("bad code", {"code": "ws 9001"}, "code", "'ws 9001'"),
    ("year out of range", {"year": 1900}, "year", "1900"),
    ("blank title", {"title": "   "}, "title", "blank"),
    ("title too long", {"title": "枸" * 1000}, "title", "1000 characters"),
    ("control character in title", {"title": "枸杞\x00栽培"}, "title", "control characters"),
    ("unknown delivery", {"delivery": "tv"}, "delivery", "'tv'"),
    ("tags not a list", {"tags": "枸杞"}, "tags", "'枸杞'"),
    ("repeated tag", {"tags": ["枸杞", "枸杞"]}, "tags", "'枸杞' twice"),
    ("unknown field", {"teacher": "张三"}, "teacher", "unknown field 'teacher'"),
]


@pytest.mark.parametrize(
    ("case", "change", "field", "text"), BAD_BODIES, ids=[b[0] for b in BAD_BODIES]
)
async def test_course_create_bad_body_is_422_naming_field_and_value(
    client: httpx.AsyncClient, case: str, change: dict[str, Any], field: str, text: str
) -> None:
    response = await client.post("/courses", json={**NEW_COURSE, **change}, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["type"] == "urn:nxce:problem:validation-error"
    assert problem["status"] == 422
    assert any(e["field"] == field for e in problem["errors"]), problem
    assert text in problem["detail"], problem["detail"]
    assert (await client.get(f"/courses/{NEW_COURSE['code']}")).status_code == 404


async def test_course_create_missing_field_names_it(client: httpx.AsyncClient) -> None:
    body = {k: v for k, v in NEW_COURSE.items() if k != "hours"}
    response = await client.post("/courses", json=body, headers=ADMIN)
    assert response.status_code == 422
    assert "hours: Field required" in response.json()["detail"]


async def test_course_create_broken_json_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/courses",
        content=b'{"code": "WS-9001", "title": ',
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:nxce:problem:malformed-json"
    assert "not valid JSON" in response.json()["detail"]


@pytest.mark.parametrize("raw", [b'{"hours": NaN}', b'{"hours": Infinity}', b'{"hours": 1e400}'])
async def test_course_create_non_finite_hours_is_422(client: httpx.AsyncClient, raw: bytes) -> None:
    body = json.dumps({k: v for k, v in NEW_COURSE.items() if k != "hours"})[:-1].encode()
    response = await client.post(
        "/courses", content=body + b", " + raw[1:], headers={**ADMIN, **JSON}
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "hours"
    assert response.json()["detail"].startswith("hours: ")
    assert ("not a JSON number" if b"1e" not in raw else "out of range") in response.json()[
        "detail"
    ]


async def test_course_create_deeply_nested_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/courses", content=b"[" * 5000 + b"]" * 5000, headers={**ADMIN, **JSON}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:nxce:problem:malformed-json"


@pytest.mark.parametrize("content_type", [None, "text/plain", "application/x-www-form-urlencoded"])
async def test_course_create_body_that_is_not_json_is_415(
    client: httpx.AsyncClient, content_type: str | None
) -> None:
    headers = {**ADMIN, **({"Content-Type": content_type} if content_type else {})}
    response = await client.post("/courses", content=json.dumps(NEW_COURSE), headers=headers)
    assert response.status_code == 415
    assert "Content-Type: application/json" in response.json()["detail"]
    assert (await client.get(f"/courses/{NEW_COURSE['code']}")).status_code == 404


async def test_course_create_body_not_an_object_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/courses", json=["WS-9001"], headers=ADMIN)
    assert response.status_code == 422


async def test_course_create_10_mb_title_is_413_and_writes_nothing(
    client: httpx.AsyncClient,
) -> None:
    before = await stats(client)
    response = await client.post(
        "/courses", json={**NEW_COURSE, "title": "枸" * 10_000_000}, headers=ADMIN
    )
    assert response.status_code == 413
    assert response.headers["content-type"] == "application/problem+json"
    assert "at most 1048576 bytes" in response.json()["detail"]
    assert await stats(client) == before


async def test_course_streamed_oversized_body_is_413(client: httpx.AsyncClient) -> None:
    async def chunks():  # type: ignore[no-untyped-def]
        for _ in range(40):
            yield b"x" * 65_536

    response = await client.post("/courses", content=chunks(), headers={**ADMIN, **JSON})
    assert response.status_code == 413


async def test_course_patch_bad_value_changes_nothing(client: httpx.AsyncClient) -> None:
    before = (await client.get("/courses/KJ-0001")).json()
    response = await client.patch(
        "/courses/KJ-0001", json={"title": "新标题", "hours": -1}, headers=ADMIN
    )
    assert response.status_code == 422
    assert (await client.get("/courses/KJ-0001")).json() == before


async def test_course_patch_null_title_is_422(client: httpx.AsyncClient) -> None:
    response = await client.patch("/courses/KJ-0001", json={"title": None}, headers=ADMIN)
    assert response.status_code == 422
    assert "title must not be null" in response.json()["detail"]


BAD_QUERIES: list[tuple[dict[str, Any], str]] = [
    ({"category": "elective"}, "'elective'"),
    ({"series": "护理"}, "got '护理'"),
    ({"year": "二〇二二"}, "'二〇二二'"),
    ({"status": "deleted"}, "'deleted'"),
    ({"page": 0}, "page"),
    ({"page_size": 100_000}, "page_size"),
    ({"page_size": -1}, "page_size"),
    ({"colour": "red"}, "unknown parameter 'colour'"),
    ({"series": "会计", "serie": "卫生"}, "unknown parameter 'serie'"),
]


@pytest.mark.parametrize(("params", "text"), BAD_QUERIES, ids=[str(q[0]) for q in BAD_QUERIES])
async def test_courses_list_bad_query_is_422_naming_it(
    client: httpx.AsyncClient, params: dict[str, Any], text: str
) -> None:
    response = await client.get("/courses", params=params)
    assert response.status_code == 422, response.text
    assert text in response.json()["detail"]


async def test_courses_list_injection_attempt_is_plain_data(client: httpx.AsyncClient) -> None:
    for value in ('{"$ne": null}', "会计' OR '1'='1", "[$ne]=1"):
        response = await client.get("/courses", params={"subject": value})
        assert response.status_code == 200
        assert response.json()["total"] == 0
    response = await client.get("/courses?subject[$ne]=x")
    assert response.status_code == 422


async def test_unknown_route_is_404_problem(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


async def test_wrong_method_is_405_problem(client: httpx.AsyncClient) -> None:
    response = await client.post("/catalog/stats", headers=ADMIN)
    assert response.status_code == 405
    assert response.json()["status"] == 405


async def test_title_length_counts_composed_characters(client: httpx.AsyncClient) -> None:
    decomposed = "e\u0301" * 120  # 120 é written as e + combining accent
    response = await client.post(
        "/courses", json={**NEW_COURSE, "title": decomposed}, headers=ADMIN
    )
    assert response.status_code == 201, response.text
    assert response.json()["title"] == "\u00e9" * 120
