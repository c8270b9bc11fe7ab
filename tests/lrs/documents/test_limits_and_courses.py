"""Document size limits, and catalog courses as xAPI Activities."""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import urlencode

import httpx
import pytest

from nxce.settings import Settings
from tests.conftest import embedded_settings
from tests.lrs.conftest import LEARNER, xapi


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The catalog is loaded (courses are activities) and xAPI bodies are small."""
    import shutil

    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path, max_xapi_body_bytes=4096)


async def test_a_document_over_the_limit_is_413_and_not_stored(client: httpx.AsyncClient) -> None:
    url = "/xapi/activities/state?" + urlencode(
        {"activityId": "http://example.com/a", "agent": json.dumps(LEARNER), "stateId": "big"}
    )
    response = await client.put(
        url, content=b"x" * 5000, headers={**xapi(), "Content-Type": "text/plain"}
    )
    assert response.status_code == 413
    assert "4096" in response.json()["detail"]
    assert (await client.get(url, headers=xapi())).status_code == 404


async def test_a_course_activity_is_defined_by_the_catalog(client: httpx.AsyncClient) -> None:
    course = (await client.get("/courses/WS-0001")).json()
    found = (
        await client.get(
            f"/xapi/activities?{urlencode({'activityId': course['activity_id']})}", headers=xapi()
        )
    ).json()
    definition = found["definition"]
    assert definition["name"] == {"zh-CN": course["title"]}
    assert definition["type"] == "http://adlnet.gov/expapi/activities/course"
    (extension,) = definition["extensions"].values()
    assert (extension["code"], extension["hours"], extension["series"]) == (
        "WS-0001",
        course["hours"],
        "卫生",
    )
