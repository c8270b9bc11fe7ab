"""The embedded store's medium: a write is committed before its 2xx, a failed commit
gives none, the file's settings and contents are checked at start (a damaged file stops
the start, naming itself and what to do), and one process holds a data directory."""

from __future__ import annotations

import asyncio
import os
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from nxce.app import create_app
from nxce.core import db, embedded_medium
from nxce.settings import Settings
from tests.conftest import ADMIN, embedded_settings

XAPI = {**ADMIN, "X-Experience-API-Version": "2.0.0"}
LEARNER = {"objectType": "Agent", "name": "马晓燕", "mbox": "mailto:maxiaoyan@nxce.example"}


def durable(data: Path) -> Settings:
    """The durable embedded store in `data`, without the fixture catalog (fast)."""
    return embedded_settings(data, embedded_in_memory=False, seed_fixtures=False)


def statement(statement_id: str) -> dict[str, Any]:
    return {
        "id": statement_id,
        "actor": LEARNER,
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced", "display": {"zh-CN": "学习"}},
        "object": {"id": "https://nxce.example/xapi/activities/course/GX-0002"},
    }


@asynccontextmanager
async def service(data: Path) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    app = create_app(durable(data))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield app, http


def stored_rows(data: Path, collection: str) -> list[bytes]:
    """The bodies another connection reads from the data file now (committed rows)."""
    reader = sqlite3.connect(f"file:{data / embedded_medium.FILE_NAME}?mode=ro", uri=True)
    try:
        query = "SELECT body FROM documents WHERE collection = ?"
        return [row[0] for row in reader.execute(query, (collection,))]
    finally:
        reader.close()


STATEMENT_ID = "4f1d0c6e-2b7a-4d6e-9a51-6c0e2f3b8d21"


async def test_a_statement_is_committed_before_its_answer(tmp_path: Path) -> None:
    async with service(tmp_path) as (_, http):
        answer = await http.post("/xapi/statements", json=[statement(STATEMENT_ID)], headers=XAPI)
        assert answer.status_code == 200
        # Read by another connection while the service runs: committed, not only queued.
        assert any(
            STATEMENT_ID.encode() in body for body in stored_rows(tmp_path, "nxce.statements")
        )


async def test_a_restart_serves_what_was_stored(tmp_path: Path) -> None:
    async with service(tmp_path) as (_, http):
        await http.post("/xapi/statements", json=[statement(STATEMENT_ID)], headers=XAPI)
    async with service(tmp_path) as (_, http):
        got = await http.get("/xapi/statements", params={"statementId": STATEMENT_ID}, headers=XAPI)
        assert got.status_code == 200
        assert got.json()["actor"]["name"] == "马晓燕"


async def test_a_failed_commit_gives_no_2xx_and_stops_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def failing(self: embedded_medium.Medium, ops: list[embedded_medium.Op]) -> None:
        raise sqlite3.OperationalError("disk I/O error")

    async with service(tmp_path) as (_, http):
        monkeypatch.setattr(embedded_medium.Medium, "_commit", failing)
        answer = await http.post("/xapi/statements", json=[statement(STATEMENT_ID)], headers=XAPI)
        assert answer.status_code == 503
        assert "disk I/O error" in answer.json()["detail"]
        # The store takes no more writes, and says it is unhealthy.
        second = await http.post(
            "/xapi/statements",
            json=[statement("0b0d9d39-6a0e-4a4c-8f3e-5d1b7c2e9a10")],
            headers=XAPI,
        )
        assert second.status_code == 503
        assert (await http.get("/health")).status_code == 503
        monkeypatch.undo()
    async with service(tmp_path) as (_, http):
        got = await http.get("/xapi/statements", params={"statementId": STATEMENT_ID}, headers=XAPI)
        assert got.status_code == 404  # never acknowledged, never committed


def test_settings_that_do_not_hold_stop_the_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A file system where SQLite cannot run WAL with synchronous=FULL: no start."""
    connect = sqlite3.connect

    class Lax(sqlite3.Connection):
        def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
            if sql == "PRAGMA synchronous = FULL":
                sql = "PRAGMA synchronous = NORMAL"
            return super().execute(sql, *args)

    monkeypatch.setattr(
        embedded_medium.sqlite3, "connect", lambda *a, **k: connect(*a, **k, factory=Lax)
    )
    with pytest.raises(db.StoreError, match=r"synchronous=1.*FULL"):
        db.connect(durable(tmp_path))


async def _stored_and_closed(data: Path) -> Path:
    async with service(data) as (_, http):
        batch = [statement(f"4f1d0c6e-2b7a-4d6e-9a51-{n:012d}") for n in range(200)]
        assert (await http.post("/xapi/statements", json=batch, headers=XAPI)).status_code == 200
    return data / embedded_medium.FILE_NAME


def _refused(data: Path) -> str:
    with pytest.raises(db.StoreError) as refused:
        db.connect(durable(data))
    message = str(refused.value)
    assert str(data / embedded_medium.FILE_NAME) in message
    assert "restore the data directory from a backup" in message
    return message


@pytest.mark.parametrize("kept", [0.5, 0.0], ids=["half", "empty"])
def test_a_truncated_file_stops_the_start(tmp_path: Path, kept: float) -> None:
    path = asyncio.run(_stored_and_closed(tmp_path))
    os.truncate(path, int(path.stat().st_size * kept) // 4096 * 4096)
    _refused(tmp_path)


def test_bytes_overwritten_in_a_document_stop_the_start(tmp_path: Path) -> None:
    path = asyncio.run(_stored_and_closed(tmp_path))
    content = bytearray(path.read_bytes())
    at = content.index(b"4f1d0c6e-2b7a-4d6e-9a51-000000000100")  # a statement mid-file
    content[at : at + 8] = b"\xff" * 8
    path.write_bytes(bytes(content))
    assert "checksum" in _refused(tmp_path)


def test_a_page_overwritten_in_the_middle_stops_the_start(tmp_path: Path) -> None:
    path = asyncio.run(_stored_and_closed(tmp_path))
    pages = path.stat().st_size // 4096
    with path.open("r+b") as file:
        file.seek(pages // 2 * 4096)
        file.write(b"\x5a" * 4096)
    _refused(tmp_path)


def test_a_second_process_on_the_data_directory_is_refused(tmp_path: Path) -> None:
    holder = db.connect(durable(tmp_path))
    try:
        with pytest.raises(db.StoreError, match=f"in use by process {os.getpid()}"):
            db.connect(durable(tmp_path))
    finally:
        db.close(holder)
    db.close(db.connect(durable(tmp_path)))  # free again once closed


async def test_a_batch_and_its_crediting_share_one_commit_before_the_answer(
    tmp_path: Path,
) -> None:
    ids = [
        "6a1e4c2b-0d3f-4b8e-9c7a-1f2e3d4c5b60",
        "6a1e4c2b-0d3f-4b8e-9c7a-1f2e3d4c5b61",
        "6a1e4c2b-0d3f-4b8e-9c7a-1f2e3d4c5b62",
    ]
    async with service(tmp_path) as (app, http):
        medium = db.embedded_medium(app.state.database)
        # A client's first request of the minute notes when it was last used (a commit of
        # its own, at most once a minute): made before the batch is counted.
        assert (await http.get("/xapi/statements", headers=XAPI)).status_code == 200
        before = medium.commits
        answer = await http.post("/xapi/statements", json=[statement(i) for i in ids], headers=XAPI)
        assert answer.status_code == 200
        # One commit holds the three statements and the ledger's note that it took them
        # into account (`projected`), read back by another connection.
        assert medium.commits == before + 1
        rows = [
            embedded_medium.decode_document(b) for b in stored_rows(tmp_path, "nxce.statements")
        ]
        assert sorted(r["statement_id"] for r in rows if r["projected"]) == ids
