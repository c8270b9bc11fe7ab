"""The title history (职称, issue 13): every title a learner obtained, which the audit reads
for the tenure of §一(三)3 and the years in post of §一(二). Registering starts it, a
PATCH of the title adds to it, it never goes backwards, and learners stored before it
read with one record of their current title."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from credits.models import Learner
from nxce.core import db
from tests.conftest import ADMIN
from tests.credits.conftest import learner_body, register


async def learner(client: httpx.AsyncClient) -> dict[str, Any]:
    response = await client.get("/learners/zhangwei", headers=ADMIN)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def patch(client: httpx.AsyncClient, **fields: Any) -> httpx.Response:
    return await client.patch("/learners/zhangwei", json=fields, headers=ADMIN)


async def test_registration_starts_the_history_with_the_current_title(
    client: httpx.AsyncClient,
) -> None:
    """张伟 registers as junior since 2016-07-01: one record."""
    created = await register(client)
    assert created["titles"] == [{"level": "junior", "obtained_on": "2016-07-01"}]
    assert (await learner(client))["titles"] == created["titles"]


async def test_a_learner_without_a_title_has_an_empty_history(client: httpx.AsyncClient) -> None:
    created = await register(client, title_level="none", title_obtained_on=None)
    assert created["titles"] == []


async def test_patching_a_new_title_adds_a_record_and_makes_it_current(
    client: httpx.AsyncClient,
) -> None:
    """Intermediate on 2020-12-30, then deputy senior on 2024-12-25: three records, oldest
    first; title_level / title_obtained_on are the last."""
    await register(client)
    for level, day in (("intermediate", "2020-12-30"), ("deputy_senior", "2024-12-25")):
        response = await patch(client, title_level=level, title_obtained_on=day)
        assert response.status_code == 200, response.text
    found = await learner(client)
    assert found["titles"] == [
        {"level": "junior", "obtained_on": "2016-07-01"},
        {"level": "intermediate", "obtained_on": "2020-12-30"},
        {"level": "deputy_senior", "obtained_on": "2024-12-25"},
    ]
    assert (found["title_level"], found["title_obtained_on"]) == ("deputy_senior", "2024-12-25")


async def test_patching_the_same_title_changes_nothing(client: httpx.AsyncClient) -> None:
    """The same level and date again: no new record, and the learner is not rewritten."""
    await register(client)
    before = await learner(client)
    response = await patch(client, title_level="junior", title_obtained_on="2016-07-01")
    assert response.status_code == 200, response.text
    after = await learner(client)
    assert after["titles"] == before["titles"]
    assert after["updated_at"] == before["updated_at"]


async def test_another_level_on_the_same_date_corrects_the_last_record(
    client: httpx.AsyncClient,
) -> None:
    """Registered as junior since 2016-07-01 by mistake; a PATCH of the level alone keeps
    the date, so it corrects that record instead of adding one dated the same day."""
    await register(client)
    assert (await patch(client, title_level="intermediate")).status_code == 200
    assert (await learner(client))["titles"] == [
        {"level": "intermediate", "obtained_on": "2016-07-01"}
    ]


@pytest.mark.parametrize(
    ("fields", "field", "value"),
    [
        # dated before the last record (junior, 2016-07-01)
        (
            {"title_level": "intermediate", "title_obtained_on": "2015-12-01"},
            "title_obtained_on",
            "2015-12-01",
        ),
        ({"title_obtained_on": "2016-06-30"}, "title_obtained_on", "2016-06-30"),
        # a lower title after a higher one
        ({"title_level": "none", "title_obtained_on": "2020-01-01"}, "title_level", "none"),
        # the level alone, lower: it would rewrite the junior title of 2016 as none
        ({"title_level": "none"}, "title_level", "none"),
    ],
)
async def test_a_history_going_backwards_is_422_naming_the_field_and_value(
    client: httpx.AsyncClient, fields: dict[str, str], field: str, value: str
) -> None:
    """A title history does not go backwards (our reading: no record dated before the
    last one, no lower title after it): 422 naming the field and the value; nothing is
    written."""
    await register(client)
    before = await learner(client)
    response = await patch(client, employer="宁夏交通建设股份有限公司", **fields)
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == (field, repr(value))
    assert "backwards" in error["message"]
    assert await learner(client) == before


async def test_a_lower_title_after_a_higher_one_is_refused(client: httpx.AsyncClient) -> None:
    """Deputy senior since 2021-12-20; "intermediate since 2022-06-01" goes backwards."""
    await register(client, title_level="deputy_senior", title_obtained_on="2021-12-20")
    response = await patch(client, title_level="intermediate", title_obtained_on="2022-06-01")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "title_level"
    assert "deputy_senior since 2021-12-20" in response.json()["errors"][0]["message"]


async def test_a_learner_stored_before_the_history_reads_with_one(
    client: httpx.AsyncClient,
) -> None:
    """Migration: a learner document without `titles` (as stored before issue 13) reads
    with one record of its current title, and the next PATCH of a title stores both."""
    await register(client, title_level="intermediate", title_obtained_on="2018-12-01")
    await db.collection(Learner).update_one({"learner_id": "zhangwei"}, {"$unset": {"titles": ""}})
    assert "titles" not in await db.collection(Learner).find_one({"learner_id": "zhangwei"})
    assert (await learner(client))["titles"] == [
        {"level": "intermediate", "obtained_on": "2018-12-01"}
    ]
    response = await patch(client, title_level="deputy_senior", title_obtained_on="2022-11-30")
    assert response.status_code == 200, response.text
    stored = await db.collection(Learner).find_one({"learner_id": "zhangwei"})
    assert [r["level"] for r in stored["titles"]] == ["intermediate", "deputy_senior"]


async def test_a_lower_level_alone_does_not_rewrite_the_last_title(
    client: httpx.AsyncClient,
) -> None:
    """Intermediate since 2015-07-01, deputy senior since 2020-07-01: a PATCH of
    `title_level: intermediate` alone would correct the 2020 record to intermediate and
    drop the deputy-senior title (and the tenure it opened, §一(三)3) from the history.
    It is a 422 naming title_level; the history stays."""
    await register(client, title_level="intermediate", title_obtained_on="2015-07-01")
    assert (
        await patch(client, title_level="deputy_senior", title_obtained_on="2020-07-01")
    ).status_code == 200
    before = await learner(client)
    response = await patch(client, title_level="intermediate")
    assert response.status_code == 422
    [error] = response.json()["errors"]
    assert (error["field"], error["value"]) == ("title_level", repr("intermediate"))
    assert "deputy_senior obtained 2020-07-01" in error["message"]
    assert await learner(client) == before


async def test_a_title_obtained_in_the_future_is_refused_everywhere(
    client: httpx.AsyncClient,
) -> None:
    """Our input limit: no title is obtained after today (China Standard Time). A
    registration, a PATCH and a correction dated 2099 are each a 422 naming the field and
    the value, and write nothing."""
    body = learner_body("lisi", "李四", "124", title_obtained_on="2099-01-01")
    refused = await client.post("/learners", json=body, headers=ADMIN)
    assert refused.status_code == 422, refused.text
    [error] = refused.json()["errors"]
    assert error["field"] == "title_obtained_on" and "2099-01-01" in error["message"]
    assert "future" in error["message"]
    assert (await client.get("/learners/lisi", headers=ADMIN)).status_code == 404

    await register(client)
    before = await learner(client)
    refused = await patch(client, title_level="intermediate", title_obtained_on="2099-01-01")
    assert refused.status_code == 422 and "future" in refused.text
    correction = {"level": "junior", "obtained_on": "2099-01-01", "reason": "按证书更正"}
    refused = await client.post(
        "/learners/zhangwei/titles/1/correction", json=correction, headers=ADMIN
    )
    assert refused.status_code == 422 and "future" in refused.text
    assert await learner(client) == before
