"""Completions dated where no installed policy covers them (issue 13 item 12; our reading:
the notice is 2022's). Such a completion is recorded with its hours, `awaiting_policy`,
"no policy covers <year> yet", counted by no audit; progress says which policy's yearly
figures it measures this year by and shows the hours waiting; once an administrator
installs a policy covering the year (NXCE_POLICY_DIR), the start counts them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI

from credits import ledger as credit_ledger
from credits import progress as credit_progress
from credits.learners import get_learner
from credits.models import LedgerEntry
from nxce import wiring
from nxce.app import catch_up_credits
from nxce.settings import Settings
from tests.credits.conftest import (
    THIS_YEAR_POLICY,
    activity,
    completion,
    entry,
    ledger,
    manual,
    policy_covering_this_year,
    register,
    send,
)

THIS_YEAR = datetime.now(UTC).astimezone(timezone(timedelta(hours=8))).year


async def snapshot() -> list[dict[str, Any]]:
    return credit_ledger.snapshot(await LedgerEntry.find_all().to_list())


async def progress(client: httpx.AsyncClient, auditor: dict[str, str]) -> dict[str, Any]:
    response = await client.get("/learners/zhangwei/progress", headers=auditor)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_completion_no_policy_covers_awaits_one_with_its_hours(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """张伟 completes GX-0002 (3 public hours) an hour ago; ningxia-2022 covers dates up to
    2022-12-31 only. The entry keeps its 3 hours, awaiting a policy, and says why; a
    rebuild gives the same."""
    await register(client)
    [statement_id] = await send(client, completion(await activity(client, "GX-0002")))
    [waiting] = await ledger(client)
    assert (waiting["source_ref"], waiting["year"], waiting["hours"]) == (
        statement_id,
        THIS_YEAR,
        3.0,
    )
    assert waiting["status"] == "awaiting_policy"
    assert waiting["status_reason"] == f"no policy covers {THIS_YEAR} yet"
    live = await snapshot()
    await credit_ledger.rebuild(credits=app.state.credits)
    assert await snapshot() == live


async def test_progress_names_the_yearly_figures_and_shows_hours_awaiting_a_policy_s1_2(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(二) yearly figures (90, 30 public) for this year: no policy covers it, so
    progress measures it by the newest policy's figures and says so; GX-0002's 3 hours
    and WS-0001's 2 professional hours are shown as awaiting a policy, not as earned."""
    await register(client)
    await send(
        client,
        completion(await activity(client, "GX-0002")),
        completion(await activity(client, "WS-0001")),
    )
    year = (await progress(client, auditor))["this_year"]
    assert year["year"] == THIS_YEAR
    assert year["policy"] == "ningxia-2022"
    assert year["basis"] == (
        f"yearly figures of ningxia-2022 (2022); no policy covers {THIS_YEAR} yet"
    )
    assert year["required"] == {"total": 90, "public": 30}
    assert year["earned"] == {"total": 0, "public": 0, "professional": 0}
    assert year["remaining"] == {"total": 90, "public": 30}
    assert year["awaiting_policy"] == {"total": 5, "public": 3, "professional": 2}


async def test_installing_a_policy_that_covers_the_year_counts_what_waited(
    client: httpx.AsyncClient, app: FastAPI, settings: Settings, tmp_path: Path
) -> None:
    """An administrator installs a policy covering this year and restarts: the start
    re-counts the entries awaiting it (GX-0002's 3 hours now count, under that policy),
    leaves the others alone (a 2020 manual entry), and progress measures the year by the
    new policy. The rebuild under the new policy gives the same ledger."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0002")))
    kept = await entry(client, manual("2020-05-10", "public", 30))
    before = {e["id"]: e for e in await ledger(client)}

    installed = settings.model_copy(
        update={"policy_dir": policy_covering_this_year(tmp_path / "installed")}
    )
    credits = wiring.credits(installed)  # the restarted service's policies
    await catch_up_credits(credits)  # what the lifespan runs at start

    after = {e["id"]: e for e in await ledger(client)}
    [counted] = [e for e in after.values() if e["kind"] == "completion"]
    assert (counted["status"], counted["hours"], counted["policy_id"]) == (
        "counted",
        3.0,
        THIS_YEAR_POLICY,
    )
    assert counted["status_reason"] is None
    assert after[kept["id"]] == before[kept["id"]]
    learner = await get_learner(learner_id="zhangwei")
    year = (await credit_progress.progress(credits=credits, learner=learner)).this_year
    assert (year.policy, year.earned.public, year.awaiting_policy.total) == (
        THIS_YEAR_POLICY,
        3,
        0,
    )
    assert year.basis.endswith(f"which covers {THIS_YEAR}")
    live = await snapshot()
    await credit_ledger.rebuild(credits=credits)
    assert await snapshot() == live
