"""§三 通报批评并限期整改: a base criticised with a rectification deadline, certified again
when it rectifies, revoked by the daily check (dated the deadline) when it does not."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalog import api as catalog_api
from catalog import bases as catalog_bases
from catalog import rectification
from catalog.events import CatalogEvents
from catalog.models import Base, BaseStatus, StatusChange
from catalog.schemas import StatusChangeCreate
from nxce.app import check_rectification
from nxce.core import leases
from tests.catalog.programme_support import create_project, enrol, learner, new_base, result
from tests.catalog.test_bases import NEW_BASE, create_base
from tests.conftest import ADMIN

COMPLAINT = "经调查核实，培训考核记录不实，予以通报批评并限期整改"


async def change(client: httpx.AsyncClient, base_id: str, **body: Any) -> httpx.Response:
    return await client.post(f"/bases/{base_id}/status", json=body, headers=ADMIN)


async def criticise(
    client: httpx.AsyncClient, base_id: str, effective_on: str, rectify_by: str
) -> dict[str, Any]:
    response = await change(
        client,
        base_id,
        status="criticised",
        reason=COMPLAINT,
        effective_on=effective_on,
        rectify_by=rectify_by,
    )
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


@pytest.fixture
def recorded_before_the_deadline(monkeypatch: pytest.MonkeyPatch) -> None:
    """These tests model criticisms recorded while their (now past) deadline was ahead:
    the check the status route runs after a change (`revoke_if_overdue`) is left out, so
    the daily check under test finds them criticised."""

    async def not_yet(*, base_id: str, events: object, today: object = None) -> bool:
        return False

    monkeypatch.setattr(catalog_api.rectification, "revoke_if_overdue", not_yet)


async def another_base(client: httpx.AsyncClient, name: str) -> str:
    response = await client.post("/bases", json={**NEW_BASE, "name": name}, headers=ADMIN)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_a_criticism_records_its_deadline_and_the_status_on_a_date_shows_it(
    client: httpx.AsyncClient,
) -> None:
    """§三: certified 2020-03-01, criticised on 2022-05-01 with until 2022-06-30 to
    rectify: the history and the status on 2022-05-20 carry the deadline."""
    base = await create_base(client)
    changed = await criticise(client, base["id"], "2022-05-01", "2022-06-30")
    assert changed["status"] == "criticised"
    assert changed["history"][-1] | {"recorded_at": None} == {
        "status": "criticised",
        "reason": COMPLAINT,
        "effective_on": "2022-05-01",
        "rectify_by": "2022-06-30",
        "recorded_at": None,
    }
    status = await client.get(f"/bases/{base['id']}/status", params={"on": "2022-05-20"})
    assert status.json() | {"base_id": None} == {
        "base_id": None,
        "on": "2022-05-20",
        "status": "criticised",
        "since": "2022-05-01",
        "rectify_by": "2022-06-30",
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({"status": "criticised"}, "is required"),
        ({"status": "criticised", "rectify_by": "2022-05-01"}, "must be after effective_on"),
        ({"status": "criticised", "rectify_by": "2022-04-30"}, "must be after effective_on"),
        ({"status": "revoked", "rectify_by": "2022-06-30"}, "only a criticism"),
        ({"status": "commended", "rectify_by": "2022-06-30"}, "only a criticism"),
    ],
    ids=["missing", "same-day", "before", "on-a-revocation", "on-a-commendation"],
)
async def test_the_rectification_deadline_is_checked_422_naming_rectify_by(
    client: httpx.AsyncClient, body: dict[str, Any], message: str
) -> None:
    base = await create_base(client)
    response = await change(client, base["id"], reason=COMPLAINT, effective_on="2022-05-01", **body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "rectify_by"
    assert message in response.json()["detail"]
    assert [h["status"] for h in (await client.get(f"/bases/{base['id']}")).json()["history"]] == [
        "certified"
    ]


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_criticism_follows_certified_or_commended_and_leads_to_certified_or_revoked(
    client: httpx.AsyncClient,
) -> None:
    """§三 transitions: criticised after certified; certified again (rectified); commended,
    then criticised; revoked while criticised. Criticised twice in a row, or commended
    while criticised, is a 409."""
    base = await create_base(client)
    await criticise(client, base["id"], "2021-05-01", "2021-06-30")
    again = await change(
        client,
        base["id"],
        status="criticised",
        reason=COMPLAINT,
        effective_on="2021-05-10",
        rectify_by="2021-07-30",
    )
    assert again.status_code == 409
    commended = await change(
        client, base["id"], status="commended", reason="表扬", effective_on="2021-05-20"
    )
    assert commended.status_code == 409
    rectified = await change(
        client,
        base["id"],
        status="certified",
        reason="整改到位，恢复认证",
        effective_on="2021-06-20",
    )
    assert rectified.status_code == 200, rectified.text
    commended = await change(
        client,
        base["id"],
        status="commended",
        reason="考核优秀，通报表扬",
        effective_on="2021-12-20",
    )
    assert commended.status_code == 200, commended.text
    await criticise(client, base["id"], "2022-03-01", "2022-04-30")
    revoked = await change(
        client, base["id"], status="revoked", reason="整改不到位", effective_on="2022-04-15"
    )
    assert revoked.status_code == 200, revoked.text
    statuses = [h["status"] for h in revoked.json()["history"]]
    assert statuses == [
        "certified",
        "criticised",
        "certified",
        "commended",
        "criticised",
        "revoked",
    ]


def test_good_standing_of_a_criticised_base_is_for_work_under_way_only() -> None:
    """§三 (domain.md "Bases"): certified 2020-03-01, criticised 2022-05-01. On
    2022-05-20 it is in good standing only for a project started before 2022-05-01; not
    for one started on or after it, nor for work dated on its own (no start)."""
    at = datetime(2022, 5, 1, tzinfo=UTC)
    base = Base.model_construct(
        history=[
            StatusChange(
                status=BaseStatus.certified, reason="认定", effective_on=date(2020, 3, 1),
                recorded_at=at, recorded_by="admin",
            ),
            StatusChange(
                status=BaseStatus.criticised, reason=COMPLAINT, effective_on=date(2022, 5, 1),
                recorded_at=at, recorded_by="admin", rectify_by=date(2022, 6, 30),
            ),
        ]
    )  # fmt: skip
    on = date(2022, 5, 20)
    assert catalog_bases.in_good_standing(base, on, started_on=date(2022, 4, 30))
    assert not catalog_bases.in_good_standing(base, on, started_on=date(2022, 5, 1))
    assert not catalog_bases.in_good_standing(base, on)
    assert catalog_bases.in_good_standing(base, date(2022, 4, 30))  # certified then
    assert not catalog_bases.in_good_standing(base, date(2020, 2, 29), started_on=date(2020, 1, 1))


# --- the daily check ---------------------------------------------------------------------


async def history(client: httpx.AsyncClient, base_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await client.get(f"/bases/{base_id}")).json()["history"]
    return found


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_the_daily_check_revokes_exactly_the_bases_past_their_deadline(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Three bases criticised: one with its deadline 2022-06-30 passed (revoked, dated the
    deadline, by "daily check", the reason naming the deadline); one with its deadline
    still ahead (untouched); one certified again before its deadline 2022-06-30
    (untouched). Run again: nothing more (idempotent)."""
    late = await another_base(client, "银川市会计人员继续教育培训中心")
    ahead = await another_base(client, "吴忠市农业技术人员培训基地")
    rectified = await another_base(client, "固原市卫生人才培训中心")
    future = (catalog_bases.today() + timedelta(days=30)).isoformat()
    yesterday = (catalog_bases.today() - timedelta(days=1)).isoformat()
    await criticise(client, late, "2022-05-01", "2022-06-30")
    await criticise(client, ahead, yesterday, future)
    await criticise(client, rectified, "2022-05-01", "2022-06-30")
    done = await change(
        client,
        rectified,
        status="certified",
        reason="整改到位，恢复认证",
        effective_on="2022-06-20",
    )
    assert done.status_code == 200, done.text

    assert await rectification.revoke_overdue(events=app.state.catalog_events) == 1

    last = (await history(client, late))[-1]
    assert (last["status"], last["effective_on"]) == ("revoked", "2022-06-30")
    assert "2022-06-30" in last["reason"] and "§三" in last["reason"]
    stored = await catalog_bases.get(base_id=late)
    assert stored.history[-1].recorded_by == rectification.DAILY_CHECK
    assert stored.status == "revoked"
    assert [h["status"] for h in await history(client, ahead)] == ["certified", "criticised"]
    assert [h["status"] for h in await history(client, rectified)] == [
        "certified",
        "criticised",
        "certified",
    ]
    assert await rectification.revoke_overdue(events=app.state.catalog_events) == 0
    assert [h["status"] for h in await history(client, late)] == [
        "certified",
        "criticised",
        "revoked",
    ]


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_a_deadline_that_is_today_has_not_passed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The deadline is the last day to rectify (China Standard Time): on that day the check
    revokes nothing; the day after, it revokes, dated the deadline."""
    base = await create_base(client)
    await criticise(client, base["id"], "2022-05-01", "2022-06-30")
    events = app.state.catalog_events
    assert await rectification.revoke_overdue(events=events, today=date(2022, 6, 30)) == 0
    assert await rectification.revoke_overdue(events=events, today=date(2022, 7, 1)) == 1
    assert (await history(client, base["id"]))[-1]["effective_on"] == "2022-06-30"


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_two_concurrent_checks_revoke_once(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Two replicas' checks at once: one takes the lease and revokes, the other does
    nothing; the base has one revocation."""
    base = await create_base(client)
    await criticise(client, base["id"], "2022-05-01", "2022-06-30")
    events = app.state.catalog_events
    counts = await asyncio.gather(
        rectification.revoke_overdue(events=events), rectification.revoke_overdue(events=events)
    )
    assert sorted(counts) == [0, 1]
    assert [h["status"] for h in await history(client, base["id"])].count("revoked") == 1


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_a_check_whose_lease_is_held_elsewhere_does_nothing_until_it_expires(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Another replica holds the lease (a check under way): this one revokes nothing. A
    holder that died leaves a lease that expires; then the check runs."""
    base = await create_base(client)
    await criticise(client, base["id"], "2022-05-01", "2022-06-30")
    events = app.state.catalog_events
    assert await leases.take(rectification.LEASE_NAME, owner="replica-2", ttl=timedelta(hours=1))
    assert await rectification.revoke_overdue(events=events) == 0
    assert (await history(client, base["id"]))[-1]["status"] == "criticised"

    assert await leases.take(rectification.LEASE_NAME, owner="replica-2", ttl=timedelta(0))
    assert await rectification.revoke_overdue(events=events) == 1


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_the_start_up_check_catches_up_deadlines_missed_while_stopped(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """The service was stopped over two deadlines (2022-06-30 and 2022-08-31): the check
    the lifespan runs at start revokes both bases, each dated its own deadline."""
    first = await another_base(client, "银川市会计人员继续教育培训中心")
    second = await another_base(client, "吴忠市农业技术人员培训基地")
    await criticise(client, first, "2022-05-01", "2022-06-30")
    await criticise(client, second, "2022-07-01", "2022-08-31")

    await check_rectification(app.state.catalog_events)  # what the lifespan runs at start

    assert (await history(client, first))[-1]["effective_on"] == "2022-06-30"
    assert (await history(client, second))[-1]["effective_on"] == "2022-08-31"
    assert {h["status"] for h in [(await history(client, b))[-1] for b in (first, second)]} == {
        "revoked"
    }


@pytest.mark.usefixtures("recorded_before_the_deadline")
async def test_a_ledger_that_fails_to_follow_does_not_stop_the_check_for_other_bases(
    client: httpx.AsyncClient,
) -> None:
    """Two bases past their deadline; the listener after the first revocation fails (a
    ledger could not be recomputed). The first stays revoked (its mark would be finished
    by the keep-up loop), and the second is revoked in the same run."""
    first = await another_base(client, "银川市会计人员继续教育培训中心")
    second = await another_base(client, "吴忠市农业技术人员培训基地")
    await criticise(client, first, "2022-05-01", "2022-06-30")
    await criticise(client, second, "2022-05-01", "2022-06-30")
    events = CatalogEvents()

    async def nothing(base_id: str, decision_id: str) -> None:
        return None

    async def failing(base_id: str, decision_id: str) -> None:
        if base_id == first:
            raise RuntimeError("the store went away while recomputing")

    events.subscribe_bases(changing=nothing, changed=failing)

    assert await rectification.revoke_overdue(events=events) == 1
    assert [(await history(client, b))[-1]["status"] for b in (first, second)] == [
        "revoked",
        "revoked",
    ]


async def test_the_openapi_document_describes_the_criticism(client: httpx.AsyncClient) -> None:
    """The status change body documents `rectify_by`; statuses include criticised."""
    schemas = (await client.get("/openapi.json")).json()["components"]["schemas"]
    change = schemas["StatusChangeCreate"]["properties"]
    assert "rectify_by" in change and "criticised" in change["rectify_by"]["description"]
    assert "criticised" in schemas["BaseStatus"]["enum"]
    assert "rectify_by" in schemas["StatusChangeRead"]["properties"]


async def test_a_back_dated_criticism_past_its_deadline_revokes_at_once(
    client: httpx.AsyncClient,
) -> None:
    """Criticised effective 2022-09-01 with until 2022-09-30 to rectify, recorded today:
    the deadline has passed, so the status change itself ends in the revocation, dated
    2022-09-30, and a result dated 2022-10-05 is refused without waiting for a restart."""
    base = await new_base(client)  # 银川市枸杞产业人才培训基地, certified 2020-03-01
    project = await create_project(client, base, starts_on="2022-08-29", ends_on="2022-09-30")
    learner_id = await learner(client, 90)
    assert (await enrol(client, project["id"], learner_id)).status_code == 201
    changed = await criticise(client, base, "2022-09-01", "2022-09-30")
    assert changed["status"] == "revoked"
    assert [(h["status"], h["effective_on"]) for h in changed["history"][-2:]] == [
        ("criticised", "2022-09-01"),
        ("revoked", "2022-09-30"),
    ]
    assert "整改期限2022-09-30届满" in changed["history"][-1]["reason"]
    late = await result(client, project["id"], learner_id, assessed_on="2022-10-05")
    assert late.status_code == 409 and "revoked since 2022-09-30" in late.text


async def test_a_write_relying_on_a_base_runs_its_overdue_check_first(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """A criticism written past the API (no check after it): the next enrolment at the
    base runs the check for it first, revokes it (dated the deadline) and is refused."""
    base = await new_base(client)
    project = await create_project(client, base, starts_on="2022-08-29", ends_on="2022-09-30")
    criticism = StatusChangeCreate(
        status=BaseStatus.criticised,
        reason=COMPLAINT,
        effective_on=date(2022, 9, 1),
        rectify_by=date(2022, 9, 30),
    )
    await catalog_bases.change_status(base_id=base, change=criticism, by="test")
    assert (await history(client, base))[-1]["status"] == "criticised"
    refused = await enrol(client, project["id"], await learner(client, 91))
    assert refused.status_code == 409, refused.text
    assert (refused.json()["base_status"], refused.json()["since"]) == ("revoked", "2022-09-30")
    last = (await history(client, base))[-1]
    assert last["status"] == "revoked" and "整改期限2022-09-30届满" in last["reason"]
    # idempotent: a second check for the base finds nothing overdue
    assert not await rectification.revoke_if_overdue(base_id=base, events=app.state.catalog_events)
