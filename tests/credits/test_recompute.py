"""The one recompute path (credits/recompute.py) and base decisions applied at once (§三,
issue 13 item 6): a learner's ledger is computed whole, then swapped in; a base's status
change recomputes every learner trained there at once — a back-dated revocation reverses
the trainings dated on or after it, keeping their hours and saying why — and a process
that dies between marking and recomputing is finished at start or by a rebuild."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from catalog import bases as catalog_bases
from catalog.schemas import StatusChangeCreate
from credits import ledger as credit_ledger
from credits import projection as credit_projection
from credits import recompute as credit_recompute
from credits.models import LedgerEntry, RecomputeMark
from nxce.app import catch_up_credits
from tests.conftest import ADMIN
from tests.credits.conftest import (
    ENGINEERING_BASE,
    REVOKED_BASE,
    TEACHERS_BASE,
    add_entry,
    audit,
    base_id,
    entry,
    ledger,
    manual,
    register,
    register_li,
)


async def snapshot() -> list[dict[str, Any]]:
    return credit_ledger.snapshot(await LedgerEntry.find_all().to_list())


async def rebuild_equals_live(app: FastAPI) -> None:
    """`nxce credits rebuild` (ledger.rebuild) gives the ledger the service keeps live."""
    live = await snapshot()
    await credit_ledger.rebuild(credits=app.state.credits)
    assert await snapshot() == live


def training(day: str, hours: float, base: str) -> dict[str, Any]:
    return {"kind": "training", "date": day, "hours": hours, "base_id": base}


async def change_base(
    client: httpx.AsyncClient, base: str, status: str, effective_on: str, reason: str
) -> None:
    body = {"status": status, "reason": reason, "effective_on": effective_on}
    response = await client.post(f"/bases/{base}/status", json=body, headers=ADMIN)
    assert response.status_code == 200, response.text


def by_date(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["occurred_on"]: e for e in entries}


async def _trained_at_the_engineering_base(client: httpx.AsyncClient) -> str:
    """张伟 trained twice at 宁夏工程技术人员继续教育基地 (certified 2018-04-20): 24 hours on
    2019-02-10 and 48 hours on 2019-06-15; 李秀英 32 hours at 宁夏教师发展与培训中心."""
    await register(client)
    await register_li(client)
    engineering = await base_id(client, ENGINEERING_BASE)
    await entry(client, training("2019-02-10", 24, engineering))
    await entry(client, training("2019-06-15", 48, engineering))
    teachers = await base_id(client, TEACHERS_BASE)
    await entry(client, training("2019-06-15", 32, teachers), "lixiuying")
    return engineering


async def test_back_dated_revocation_reverses_later_trainings_at_once_s3(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: the base is revoked on 2019-03-01, recorded today. At once (no other write):
    the 2019-06-15 training is reversed with its 48 hours and a reason naming the base,
    the status and its date; the 2019-02-10 training (before it) still counts; the
    intermediate audit (window 2018-2021) drops from 72 to 24 professional hours and lists
    the 48 as not counted. 李秀英's training elsewhere is untouched."""
    engineering = await _trained_at_the_engineering_base(client)
    assert (await audit(client))["earned"]["professional"] == 72  # 24 + 48

    await change_base(client, engineering, "revoked", "2019-03-01", "长期未开展继续教育活动")

    entries = by_date(await ledger(client))
    later, earlier = entries["2019-06-15"], entries["2019-02-10"]
    assert (later["status"], later["hours"]) == ("reversed", 48)
    assert ENGINEERING_BASE in later["status_reason"]
    assert "revoked on 2019-03-01" in later["status_reason"]
    assert "§三" in later["status_reason"]
    assert (earlier["status"], earlier["hours"]) == ("counted", 24)
    verdict = await audit(client)
    assert verdict["earned"]["professional"] == 24
    assert [(n["entry_id"], n["hours"]) for n in verdict["not_counted"]] == [(later["id"], 48)]
    [li] = await ledger(client, "lixiuying")
    assert (li["status"], li["hours"]) == ("counted", 32)
    await rebuild_equals_live(app)


async def test_certifying_the_base_again_restores_the_training_s3(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: revoked on 2019-03-01, certified again on 2019-05-01: the 2019-06-15 training
    falls in good standing again and counts its 48 hours (24 + 48 = 72 in the audit)."""
    engineering = await _trained_at_the_engineering_base(client)
    await change_base(client, engineering, "revoked", "2019-03-01", "长期未开展继续教育活动")
    await change_base(client, engineering, "certified", "2019-05-01", "整改合格，重新认证")

    later = by_date(await ledger(client))["2019-06-15"]
    assert (later["status"], later["hours"], later["status_reason"]) == ("counted", 48, None)
    assert (await audit(client))["earned"]["professional"] == 72
    await rebuild_equals_live(app)


async def test_a_new_training_at_a_revoked_base_is_still_refused_s3(
    client: httpx.AsyncClient,
) -> None:
    """§三: recording a training dated after the base's revocation (2021-09-30) is a 422;
    only entries recorded before the revocation become reversed entries."""
    await register(client)
    revoked = await base_id(client, REVOKED_BASE)
    response = await add_entry(client, training("2021-10-08", 16, revoked))
    assert response.status_code == 422
    assert await ledger(client) == []


@pytest.mark.parametrize(
    ("day", "base", "why"),
    [
        ("2023-03-01", REVOKED_BASE, "was revoked on 2023-03-01"),  # revoked 2021-09-30
        ("2016-05-01", ENGINEERING_BASE, "was not yet certified on 2016-05-01"),  # 2018-04-20
    ],
    ids=["revoked-2023", "not-yet-certified-2016"],
)
async def test_a_training_no_policy_covers_yet_at_a_base_not_in_good_standing_is_refused_s3(
    app: FastAPI, client: httpx.AsyncClient, day: str, base: str, why: str
) -> None:
    """§三, good standing defined once: a training dated where no policy converts it yet
    (2023; 2016) would wait for a policy — but its base was not in good standing then, and
    the next recompute would reverse it. Refused at once (422 naming base_id), as a 2021
    training there is, so the live ledger never differs from a rebuild."""
    await register(client)
    response = await add_entry(client, training(day, 16, await base_id(client, base)))
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "base_id"
    assert why in response.json()["detail"]
    assert await ledger(client) == []
    await rebuild_equals_live(app)


@pytest.mark.parametrize("finisher", ["start", "rebuild"])
async def test_a_crash_between_mark_and_recompute_is_finished_s3(
    client: httpx.AsyncClient, app: FastAPI, finisher: str
) -> None:
    """§三 when the process dies halfway: the learners were marked and the revocation
    written, but nothing recomputed. The ledger is stale (48 hours still counted) until
    the start-up catch-up, or `nxce credits rebuild`, finishes the mark: reversed, mark
    gone, and a rebuild then changes nothing."""
    engineering = await _trained_at_the_engineering_base(client)
    await credit_recompute.base_changing(credits=app.state.credits, base_id=engineering)
    change = StatusChangeCreate.model_validate(
        {"status": "revoked", "reason": "长期未开展继续教育活动", "effective_on": "2019-03-01"}
    )
    await catalog_bases.change_status(base_id=engineering, change=change, by="admin")
    assert by_date(await ledger(client))["2019-06-15"]["status"] == "counted"  # stale
    assert [m.learner_id for m in await RecomputeMark.find_all().to_list()] == ["zhangwei"]

    if finisher == "start":
        await catch_up_credits(app.state.credits)  # what the lifespan runs at start
    else:
        await credit_ledger.rebuild(credits=app.state.credits)

    later = by_date(await ledger(client))["2019-06-15"]
    assert (later["status"], later["hours"]) == ("reversed", 48)
    assert await RecomputeMark.find_all().count() == 0
    await rebuild_equals_live(app)


async def test_a_refused_status_change_marks_and_changes_nothing_s3(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§三: certifying a base that is certified is a 409, refused before anyone is marked;
    a mark left by a change that lost a race after marking (the base's revision moved)
    recomputes the same ledger."""
    engineering = await _trained_at_the_engineering_base(client)
    before = await snapshot()
    body = {"status": "certified", "reason": "重复认证", "effective_on": "2019-03-01"}
    response = await client.post(f"/bases/{engineering}/status", json=body, headers=ADMIN)
    assert response.status_code == 409
    assert await RecomputeMark.find_all().count() == 0
    # then the write lost a race
    await credit_recompute.base_changing(credits=app.state.credits, base_id=engineering)
    assert await credit_recompute.finish_marks(credits=app.state.credits) == 1
    assert await snapshot() == before
    assert await RecomputeMark.find_all().count() == 0


async def test_a_rule_refusal_becomes_a_reversed_entry_keeping_its_hours(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§一(三)1: 张伟 (工程) taught 20 hours in 2022 = 60 hours. His series is corrected to
    卫生, whose teaching follows the continuing medical education rules: the recompute
    keeps the entry, reversed, with its 60 hours and why; the rest of his ledger stays."""
    await register(client)
    taught = await entry(client, {"kind": "teaching", "date": "2022-11-20", "hours_taught": 20})
    await entry(client, manual("2020-05-10", "public", 30))
    assert taught["hours"] == 60

    patched = await client.patch("/learners/zhangwei", json={"series": "卫生"}, headers=ADMIN)
    assert patched.status_code == 200, patched.text

    entries = {e["id"]: e for e in await ledger(client)}
    assert len(entries) == 2
    reversed_ = entries[taught["id"]]
    assert (reversed_["status"], reversed_["hours"]) == ("reversed", 60)
    assert reversed_["status_reason"].startswith("no longer accepted:")
    assert "卫生" in reversed_["status_reason"]
    await rebuild_equals_live(app)


async def test_a_programming_error_stops_the_recompute_and_names_the_learner(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An error that is not a rule's refusal is never turned into reversed entries: the
    recompute stops, names the learner, and the ledger is left as it was."""
    await register(client)
    await entry(client, manual("2020-05-10", "public", 30))
    before = await snapshot()

    async def broken(**_: Any) -> list[LedgerEntry]:
        raise KeyError("course_code")

    monkeypatch.setattr(credit_projection, "completion_entries", broken)
    with pytest.raises(credit_recompute.RecomputeFailed, match="zhangwei"):
        await credit_recompute.recompute_learner(credits=app.state.credits, learner_id="zhangwei")
    assert await snapshot() == before


async def test_the_swap_removes_entries_no_source_makes_any_more(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Compute, then swap: an entry in the store that no source makes (left by an older
    version, say) is deleted; the computed ones are written."""
    await register(client)
    kept = await entry(client, manual("2020-05-10", "public", 30))
    stray = LedgerEntry.model_validate(
        {**(await LedgerEntry.find_one({"entry_id": kept["id"]})).model_dump(), "id": None}
        | {"entry_id": "stray-entry", "source_ref": "stray-entry"}
    )
    await stray.insert()
    computed = await credit_recompute.recompute_learner(
        credits=app.state.credits, learner_id="zhangwei"
    )
    assert [e.entry_id for e in computed] == [kept["id"]]
    assert [e["id"] for e in await ledger(client)] == [kept["id"]]
