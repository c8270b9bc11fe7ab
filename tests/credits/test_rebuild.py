"""Rebuild: the ledger is a projection of stored statements, manual entries and reviews —
recomputing it (`nxce credits rebuild`, `credits.ledger.rebuild`) gives the ledger it replaces;
statements stored but never projected (a crash in between) are credited by catch-up."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from credits import ledger as credit_ledger
from credits import projection as credit_projection
from credits.models import LedgerEntry
from lrs import identity, versions
from lrs.statements import store as statements
from lrs.statements.models import StatementRecord
from nxce.cli import app as cli
from nxce.settings import get_settings
from tests.conftest import ADMIN
from tests.credits.conftest import (
    ENGINEERING_BASE,
    HOME,
    activity,
    ago,
    base_id,
    completion,
    entry,
    ledger,
    manual,
    register,
    register_li,
    review,
    send,
    voiding_of,
)


async def snapshot(learner_id: str | None = None) -> list[dict[str, Any]]:
    query = {} if learner_id is None else {"learner_id": learner_id}
    return credit_ledger.snapshot(await LedgerEntry.find(query).to_list())


async def _mixed_ledger(
    client: httpx.AsyncClient, auditor: dict[str, str], *, voiding: bool
) -> None:
    """Two learners with counted, pending, approved and rejected completions, an actor who
    registered after studying, manual entries of several kinds, and (when `voiding`) a
    voided completion."""
    await register(client)
    await register_li(client)
    gx1, gx2, gx3, gx4, ws1 = [
        await activity(client, code)
        for code in ("GX-0001", "GX-0002", "GX-0003", "GX-0004", "WS-0001")
    ]
    await send(
        client,
        completion(gx1),  # counted
        completion(gx1),  # the same course again: credits once
        completion(gx2, when="2020-06-01T09:00:00+08:00"),  # pending, then approved
        completion(gx3, when="2021-02-01T09:00:00+08:00"),  # pending, then rejected
        completion(gx4, when="2019-05-01T09:00:00+08:00"),  # stays pending
        completion(ws1, "lixiuying", name="李秀英", when="2022-01-01T00:30:00+08:00"),
        completion(ws1, "wangfang", name="王芳"),  # not yet a learner
    )
    by_code = {e["source"]["course_code"]: e["id"] for e in await ledger(client)}
    assert (await review(client, by_code["GX-0002"], "approve", auth=auditor)).status_code == 200
    assert (await review(client, by_code["GX-0003"], "reject", auth=auditor)).status_code == 200
    [li_pending] = await ledger(client, "lixiuying")
    approved = await review(client, li_pending["id"], "approve", learner_id="lixiuying")
    assert approved.status_code == 200
    await register(client, "wangfang", "王芳", "125", series="教师", employer="银川市第一中学")
    await entry(client, {"kind": "study_tour", "date": "2019-08-10", "days": 5})
    await entry(client, {"kind": "teaching", "date": "2020-11-20", "hours_taught": 20})
    await entry(client, {"kind": "foreign_language_exam", "date": "2020-04-18"})
    await entry(
        client,
        {
            "kind": "training",
            "date": "2018-06-15",
            "hours": 48,
            "base_id": await base_id(client, ENGINEERING_BASE),
        },
    )
    await entry(client, manual("2021-09-01", "professional", 102))
    await entry(
        client,
        {
            "kind": "degree",
            "enrolled_on": "2016-09-01",
            "graduated_on": "2019-06-30",
            "certified_hours": 120,
        },
        "lixiuying",
    )
    if voiding:
        [target] = await send(client, completion(await activity(client, "GX-0005")))
        await send(client, voiding_of(target))


async def test_rebuild_reproduces_the_ledger_of_statements_reviews_and_manual_entries(
    client: httpx.AsyncClient, app: FastAPI, auditor: dict[str, str]
) -> None:
    """Rebuild: completions (counted, pending, approved, rejected, credited on a later
    registration) and manual entries of every kind come out the same."""
    await _mixed_ledger(client, auditor, voiding=False)
    before = await snapshot()
    assert len(before) == 4 + 5 + 2 + 1  # 张伟 4 courses + 5 manual, 李秀英 2, 王芳 1
    # the 2020 teaching awaits a policy (§一(三)1 credits teaching done in 2022), and
    # GX-0001 completed an hour ago: no installed policy covers this year, so it waits.
    assert {row["status"] for row in before} == {
        "counted",
        "pending_review",
        "reversed",
        "awaiting_policy",
    }

    count = await credit_ledger.rebuild(credits=app.state.credits)

    assert count == len(before)
    assert await snapshot() == before


async def test_rebuild_reproduces_the_ledger_with_a_voided_completion(
    client: httpx.AsyncClient, app: FastAPI, auditor: dict[str, str]
) -> None:
    """Rebuild: the same mix, plus a voided completion (its entry `reversed`), comes out
    the same."""
    await _mixed_ledger(client, auditor, voiding=True)
    before = await snapshot()
    assert [r["status"] for r in before if r["source"].get("course_code") == "GX-0005"] == [
        "reversed"
    ]
    await credit_ledger.rebuild(credits=app.state.credits)
    assert await snapshot() == before


async def test_rebuild_of_one_learner_leaves_the_others(
    client: httpx.AsyncClient, app: FastAPI, auditor: dict[str, str]
) -> None:
    """Rebuild `--learner`: only that learner's entries are recomputed and counted."""
    await _mixed_ledger(client, auditor, voiding=False)
    zhang, li = await snapshot("zhangwei"), await snapshot("lixiuying")
    count = await credit_ledger.rebuild(credits=app.state.credits, learner_id="lixiuying")
    assert count == len(li) == 2
    assert await snapshot("lixiuying") == li
    assert await snapshot("zhangwei") == zhang


async def test_catch_up_credits_statements_stored_but_not_projected_s1_1(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Crash recovery (§一(一) must never lose a completion): statements stored without
    being projected (the process died in between) are credited by catch_up, once."""
    await register(client)
    gx = await activity(client, "GX-0002")
    writer = statements.Writer(identity.authority(key="admin", name="平台", home_page=HOME))
    ids = await statements.store(
        statements=[completion(gx), completion(gx, when=ago(minutes=5))],
        version=versions.V2,
        writer=writer,
    )
    assert await ledger(client) == []
    assert await StatementRecord.find({"projected": False}).count() == 2

    assert await credit_projection.catch_up(credits=app.state.credits) == 2

    [credited] = await ledger(client)
    # Credited once, from the earliest; dated this year, which no installed policy covers
    # yet, so its 3 hours wait for one (they are kept, not lost).
    assert (credited["source_ref"], credited["hours"], credited["status"]) == (
        ids[0],
        3.0,
        "awaiting_policy",
    )
    assert await StatementRecord.find({"projected": False}).count() == 0
    assert await credit_projection.catch_up(credits=app.state.credits) == 0
    assert len(await ledger(client)) == 1


async def test_statements_sent_over_http_are_projected_at_once(client: httpx.AsyncClient) -> None:
    """§一(一): a statement stored through the API is credited and marked projected, so a
    restart's catch-up has nothing left to do."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0001")))
    assert len(await ledger(client)) == 1
    assert await StatementRecord.find({"projected": False}).count() == 0


async def test_statements_credited_at_once_are_written_once_on_the_embedded_store(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embedded store commits a statement with its crediting: it is stored as
    projected, and not written a second time to say so."""
    await register(client)
    course = await activity(client, "GX-0001")
    updates: list[Any] = []
    real = credit_projection.db.collection

    def spying(model: Any) -> Any:
        collection = real(model)
        if model is not StatementRecord:
            return collection

        class Spy:
            def __getattr__(self, name: str) -> Any:
                return getattr(collection, name)

            async def update_many(self, *args: Any, **kwargs: Any) -> Any:
                updates.append(args)
                return await collection.update_many(*args, **kwargs)

        return Spy()

    monkeypatch.setattr(credit_projection.db, "collection", spying)
    await send(client, completion(course), completion(course, when=ago(minutes=5)))
    assert len(await ledger(client)) == 1
    assert updates == []
    assert await StatementRecord.find({"projected": True}).count() == 2


async def test_a_crediting_that_fails_leaves_its_statements_to_catch_up(
    client: httpx.AsyncClient, app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The crediting raised (its listener failed): the statements stay stored (200), marked
    as not projected, and catch-up credits them."""
    await register(client)
    real = credit_projection.project

    async def failing(**kwargs: Any) -> None:
        raise RuntimeError("the ledger is away")

    monkeypatch.setattr(credit_projection, "project", failing)
    statement = completion(await activity(client, "GX-0002"))
    await send(client, statement)
    assert await ledger(client) == []
    [left] = await StatementRecord.find({"projected": False}).to_list()
    assert left.statement_id == statement["id"]
    monkeypatch.setattr(credit_projection, "project", real)
    assert await credit_projection.catch_up(credits=app.state.credits) == 1
    assert [e["source_ref"] for e in await ledger(client)] == [statement["id"]]


def test_cli_credits_rebuild_on_the_embedded_store_explains_itself(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`nxce credits rebuild`: an embedded store kept in memory lives inside `nxce serve`,
    so the command refuses (exit 2) and says why (a durable one is rebuilt in place: see
    tests/nxce/test_crash.py)."""
    monkeypatch.delenv("NXCE_MONGODB_URL", raising=False)
    monkeypatch.setenv("NXCE_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("NXCE_EMBEDDED_IN_MEMORY", "true")
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(cli, ["credits", "rebuild", "--learner", "zhangwei"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 2
    assert "NXCE_EMBEDDED_IN_MEMORY" in result.output


async def test_editing_a_course_later_keeps_the_hours_already_credited_s1_1(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§一(一) and rebuild: 张伟 completed GX-0002 while it was a 3-hour course; the admin
    later edits the course to 2 hours. What he was credited stays 3 hours — when his
    record is changed, and when the ledger is rebuilt."""
    await register(client)
    await send(client, completion(await activity(client, "GX-0002")))
    before = await snapshot()
    edited = await client.patch("/courses/GX-0002", json={"hours": 2.0}, headers=ADMIN)
    assert edited.status_code == 200, edited.text
    await client.patch("/learners/zhangwei", json={"employer": "宁夏大学"}, headers=ADMIN)
    [credited] = await ledger(client)
    assert credited["hours"] == 3.0
    await credit_ledger.rebuild(credits=app.state.credits)
    assert await snapshot() == before
