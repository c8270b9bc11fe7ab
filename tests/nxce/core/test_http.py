"""HTTP rules every route shares: HEAD, query parameters, If-Match, path values."""

from __future__ import annotations

import httpx
import pytest

from tests.catalog.test_courses import NEW_COURSE
from tests.conftest import ADMIN


async def test_head_answers_like_get_without_a_body(client: httpx.AsyncClient) -> None:
    for path in ("/courses?series=枸杞", "/courses/GQ-0001", "/catalog/stats", "/health"):
        get = await client.get(path)
        head = await client.head(path)
        assert head.status_code == get.status_code == 200, path
        assert head.content == b""
        assert head.headers["content-length"] == get.headers["content-length"]
    assert (await client.head("/courses/NOPE-1")).status_code == 404
    search = await client.head("/search?q=枸杞")  # took_ms varies, so only status and body
    assert search.status_code == 200 and search.content == b""


@pytest.mark.parametrize(
    "path",
    [
        "/courses?series=会计&series=卫生",
        "/courses?page=1&page=2",
        "/search?q=枸杞&q=滩羊",
        "/bases?status=revoked&status=certified",
    ],
)
async def test_repeated_query_parameter_is_422(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert "give it once" in response.json()["detail"]


@pytest.mark.parametrize(
    "path", ["/catalog/stats?category=public", "/health?x=1", "/courses/GQ-0001?full=1"]
)
async def test_unknown_query_parameter_is_422_everywhere(
    client: httpx.AsyncClient, path: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 422
    assert "unknown parameter" in response.json()["detail"]


async def test_status_filter_error_names_the_field(client: httpx.AsyncClient) -> None:
    problem = (await client.get("/courses", params={"status": "ANY"})).json()
    assert [e["field"] for e in problem["errors"]] == ["status"]
    assert "'ANY'" in problem["detail"]


@pytest.mark.parametrize("code", ["ws-1", "课程", "A", "A" * 41, "WS 1"])
async def test_put_to_an_invalid_new_code_is_422(client: httpx.AsyncClient, code: str) -> None:
    body = {k: v for k, v in NEW_COURSE.items() if k != "code"}
    response = await client.put(f"/courses/{code}", json=body, headers=ADMIN)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "code"


async def test_not_found_detail_shortens_long_values(client: httpx.AsyncClient) -> None:
    response = await client.get("/courses/" + "X" * 10_000)
    assert response.status_code == 404
    assert len(response.json()["detail"]) < 200


# If-Match follows RFC 9110: strong comparison, "*" needs an existing resource.
IF_MATCH_CASES = [
    ('"1"', 200),
    ('"2"', 412),
    ('"1", "7"', 200),
    ('"7", "8"', 412),
    ("*", 200),
    ('W/"1"', 412),
    ('"' + "1" * 5000 + '"', 412),
    ('"¹"', 412),
    ("1", 400),
    ('"1', 400),
]


@pytest.mark.parametrize(
    ("header", "status"), IF_MATCH_CASES, ids=[c[0][:12] for c in IF_MATCH_CASES]
)
async def test_if_match_on_patch(client: httpx.AsyncClient, header: str, status: int) -> None:
    response = await client.patch(
        "/courses/KJ-0001",
        json={"hours": 3},
        headers={**ADMIN, "If-Match": header.encode()},  # type: ignore[dict-item]
    )
    assert response.status_code == status, response.text
    revision = (await client.get("/courses/KJ-0001")).json()["revision"]
    assert revision == (2 if status == 200 else 1)


async def test_if_match_on_a_missing_course_is_412(client: httpx.AsyncClient) -> None:
    body = {k: v for k, v in NEW_COURSE.items() if k != "code"}
    for header in ('"1"', "*"):
        response = await client.put(
            "/courses/WS-9999", json=body, headers={**ADMIN, "If-Match": header}
        )
        assert response.status_code == 412, header
        deleted = await client.delete("/courses/WS-9999", headers={**ADMIN, "If-Match": header})
        assert deleted.status_code == 412
    assert (await client.get("/courses/WS-9999")).status_code == 404


async def test_non_json_body_without_credentials_is_401_first(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/courses", content=b"code=WS-1", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 401


async def test_openapi_declares_basic_auth_and_problem_responses(
    client: httpx.AsyncClient,
) -> None:
    spec = (await client.get("/openapi.json")).json()
    assert spec["components"]["securitySchemes"]["HTTPBasic"]["scheme"] == "basic"
    post = spec["paths"]["/courses"]["post"]
    assert {"401", "403", "409", "413", "415", "422"} <= set(post["responses"])
    assert post["security"] == [{"HTTPBasic": []}]
