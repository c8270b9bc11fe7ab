"""Query parameters are UTF-8 text, dates are YYYY-MM-DD and numbers are digits: anything
else is refused naming the parameter, on every route."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import ADMIN
from tests.credits.conftest import base_id


@pytest.mark.parametrize(
    ("path", "name"),
    [
        ("/search?q=%FF", "q"),
        ("/courses?series=%E4%BC", "series"),
        ("/courses?page=1&%FFx=1", "\ufffdx"),
        ("/health?q=%C0%AF", "q"),
    ],
)
async def test_query_parameter_not_utf8_is_400_naming_the_parameter(
    client: httpx.AsyncClient, path: str, name: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["detail"].startswith(f"query parameter {name!r} is not UTF-8 text")


async def test_xapi_query_parameter_not_utf8_is_400_naming_the_parameter(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get(
        "/xapi/statements?verb=http://x/%FF",
        headers={**ADMIN, "X-Experience-API-Version": "2.0.0"},
    )
    assert response.status_code == 400
    assert response.headers["X-Experience-API-Version"] == "2.0.0"
    assert "query parameter 'verb' is not UTF-8 text" in response.json()["detail"]


@pytest.mark.parametrize(
    "on", ["0", "1651363200", "2022-05-01T00:00", "2022-5-1", "２０２２-05-01"]
)
async def test_base_status_on_date_not_iso_is_422_naming_on(
    client: httpx.AsyncClient, on: str
) -> None:
    base = await base_id(client, "宁夏工程技术人员继续教育基地")
    response = await client.get(f"/bases/{base}/status", params={"on": on})
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "on"
    assert "YYYY-MM-DD" in response.json()["detail"]
    good = await client.get(f"/bases/{base}/status", params={"on": "2022-05-01"})
    assert good.status_code == 200 and good.json()["on"] == "2022-05-01"


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/courses?page=1.0", "page"),
        ("/courses?year=2_022", "year"),
        ("/search?q=枸杞&year=+2022", "year"),
        ("/search?q=枸杞&min_hours=1e1", "min_hours"),
        ("/search?q=枸杞&page_size=%202", "page_size"),
    ],
)
async def test_query_number_not_in_digits_is_422_naming_it(
    client: httpx.AsyncClient, path: str, field: str
) -> None:
    response = await client.get(path)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == field
