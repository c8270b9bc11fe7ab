"""One JSON decoder for every body: numbers it cannot keep, nesting and repeated keys are
refused naming the property, on the xAPI routes and every other; stored JSON with a
non-finite number (an older release wrote them) reads as null."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute

from nxce.core import json_input
from nxce.core.json_input import JsonRefused
from nxce.core.json_route import JsonRoute
from tests.catalog.test_courses import NEW_COURSE
from tests.conftest import ADMIN
from tests.credits.conftest import learner_body

JSON = {"Content-Type": "application/json"}


@pytest.mark.parametrize(
    ("text", "detail"),
    [
        (
            '{"result": {"score": {"raw": 1e400}}}',
            "statement.result.score.raw: 1e400 is out of range",
        ),
        ('[{"a": 1}, {"b": [0, -1e999]}]', "statement[1].b[1]: -1e999 is out of range"),
        ('{"n": NaN}', "statement.n: NaN is not a JSON number"),
        ('{"n": -Infinity}', "statement.n: -Infinity is not a JSON number"),
        ('{"n": 9223372036854775808}', "statement.n: 9223372036854775808 is out of range"),
        ('{"n": -9223372036854775809}', "statement.n: -9223372036854775809 is out of range"),
        (
            '{"扩展": {"http://x/y": 1e309}}',
            'statement["扩展"]["http://x/y"]: 1e309 is out of range',
        ),
    ],
)
def test_number_out_of_range_is_400_naming_the_property(text: str, detail: str) -> None:
    with pytest.raises(JsonRefused) as refused:
        json_input.loads(text.encode(), "statement")
    assert refused.value.status == 400
    assert refused.value.detail.startswith(detail), refused.value.detail


def test_numbers_in_range_are_kept() -> None:
    text = '{"a": 9223372036854775807, "b": -9223372036854775808, "c": 1.7976931348623157e308}'
    assert json_input.loads(text, "body") == {
        "a": 2**63 - 1,
        "b": -(2**63),
        "c": 1.7976931348623157e308,
    }
    assert json_input.loads("1e-400", "body") == 0.0  # underflow is a finite double


def test_body_nested_too_deep_is_400() -> None:
    for depth in (65, 950, 100_000):
        with pytest.raises(JsonRefused, match="nested deeper than 64 levels"):
            json_input.loads("[" * depth + "]" * depth, "body")


def test_stored_json_with_non_finite_numbers_reads_as_null() -> None:
    older = json.dumps({"raw": float("inf"), "x": [float("-inf"), float("nan"), 1.5]})
    assert "Infinity" in older
    assert json_input.stored(older) == {"raw": None, "x": [None, None, 1.5]}
    assert json_input.stored('{"raw": 1e400}') == {"raw": None}
    with pytest.raises(ValueError):
        json_input.dumps({"raw": float("inf")})  # never written again


def test_every_route_reads_bodies_with_the_kernel_decoder(app: FastAPI) -> None:
    """One decoder for every route: a router created without `route_class=JsonRoute` fails."""
    routes: list[APIRoute] = []

    def walk(router: Any) -> None:
        for route in router.routes:
            if isinstance(route, APIRoute):
                routes.append(route)
            elif hasattr(route, "original_router"):
                walk(route.original_router)

    walk(app.router)
    assert len(routes) > 40
    assert [r.path for r in routes if not isinstance(r, JsonRoute)] == []


async def test_learner_body_number_out_of_range_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    for number, field in [("1e400", "employer"), ("9223372036854775808", "notes.n")]:
        body = json.dumps({**learner_body(), field.split(".")[0]: "__N__"}, ensure_ascii=False)
        value = number if "." not in field else f'{{"n": {number}}}'
        response = await client.post(
            "/learners",
            content=body.replace('"__N__"', value).encode(),
            headers={**ADMIN, **JSON},
        )
        assert response.status_code == 422, response.text
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["errors"][0]["field"] == field
        assert response.json()["detail"].startswith(f"{field}: {number} is out of range")
    assert (await client.get("/learners/zhangwei", headers=ADMIN)).status_code == 404


async def test_course_year_beyond_64_bits_is_422_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    body = json.dumps({**NEW_COURSE, "year": "__N__"}, ensure_ascii=False)
    response = await client.post(
        "/courses",
        content=body.replace('"__N__"', "1" + "0" * 30).encode(),
        headers={**ADMIN, **JSON},
    )
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "year"
    assert (await client.get(f"/courses/{NEW_COURSE['code']}")).status_code == 404


async def test_repeated_key_in_a_body_is_400(client: httpx.AsyncClient) -> None:
    response = await client.post(
        "/courses", content=b'{"code": "A", "code": "B"}', headers={**ADMIN, **JSON}
    )
    assert response.status_code == 400
    assert response.json()["type"] == "urn:nxce:problem:malformed-json"
    assert "appears more than once" in response.json()["detail"]
