"""Data written by the previous release, read by this one (issue 17: "schema changes come
with versioned migrations run at start, tested from data written by the previous
version").

tests/data/previous/archive is the store of the release named in tests/data/previous/COMMIT,
written through its HTTP API by tests/data/previous/write.py and dumped with its own
`nxce store dump` (tests/data/previous/README.md: how to write it afresh). Each test loads
it into a fresh durable embedded store with this version's `nxce store load` code, starts
the app (migrations run), and reads it through this version's API."""

from __future__ import annotations

import hashlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

import nxce.app
from nxce import archive
from nxce.app import MIGRATIONS, create_app
from nxce.core import db, migrations
from nxce.settings import Settings
from tests.conftest import embedded_settings

PREVIOUS = Path(__file__).parents[1] / "data" / "previous"
ARCHIVE = PREVIOUS / "archive"
EXPECTED: dict[str, Any] = json.loads((PREVIOUS / "expected.json").read_text(encoding="utf-8"))
ADMIN = tuple(EXPECTED["admin"])  # the release's admin client: a test key of this fixture
XAPI = {"X-Experience-API-Version": "2.0.0"}


def previous_settings(data_dir: Path) -> Settings:
    """The durable embedded store in `data_dir`; no bootstrap admin (the archive's own
    admin client must sign in) and no fixture catalog."""
    return embedded_settings(
        data_dir, embedded_in_memory=False, bootstrap_admin=None, seed_fixtures=False
    )


async def load_previous(settings: Settings) -> None:
    """`nxce store load tests/data/previous/archive`, as the command does it."""
    manifest = archive.read(ARCHIVE)
    key = archive.key_plan(manifest, ARCHIVE, settings)
    client = db.connect(settings)
    try:
        client = await archive.load(client, settings, manifest, ARCHIVE, key=key)
    finally:
        db.close(client)


@pytest.fixture
async def settings(tmp_path: Path) -> Settings:
    settings = previous_settings(tmp_path / "data")
    settings.data_dir.mkdir()
    await load_previous(settings)
    return settings


async def started(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The app started on the store of `settings` (migrations run), and a client of it
    signed in as the release's admin; the store is closed after."""
    app: FastAPI = create_app(settings, close_store=True)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="http://testserver", auth=ADMIN
        ) as http:
            yield app, http


@pytest.fixture
async def app_and_client(settings: Settings) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    async for both in started(settings):
        yield both


@pytest.fixture
def client(app_and_client: tuple[FastAPI, httpx.AsyncClient]) -> httpx.AsyncClient:
    return app_and_client[1]


def ok(response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, f"{response.request.url}: {response.text}"
    return response.json() if response.content else None


async def test_the_previous_releases_store_is_the_one_this_fixture_describes() -> None:
    manifest = archive.read(ARCHIVE)  # every file's hash and count checked
    names = {c.name for c in manifest.collections}
    for written in ("learners", "statements", "ledger", "manual_credits", "evidence_documents",
                    "bases", "programme_results", "export_jobs", "accounts", "devices",
                    "xapi_documents", "transcripts", "migrations"):  # fmt: skip
        assert written in names, written
    assert manifest.key_file is not None  # a test key, written with the fixture
    assert sum(path.stat().st_size for path in ARCHIVE.iterdir()) < 200_000


async def test_every_record_reads_through_this_versions_api(client: httpx.AsyncClient) -> None:
    for learner_id, written in EXPECTED["learners"].items():
        learner = ok(await client.get(f"/learners/{learner_id}"))
        assert learner["name"] == written["name"] and learner["series"] == written["series"]
        number = written["id_number"]  # masked to an admin (full to auditors only)
        assert learner["id_number"] == number[:6] + "*" * 8 + number[-4:]
        ledger = ok(await client.get(f"/learners/{learner_id}/credits"))
        rows = sorted([e["id"], e["kind"], e["category"], e["hours"], e["status"]] for e in ledger)
        assert rows == EXPECTED["ledgers"][learner_id]
    for statement_id in [*EXPECTED["statements"], EXPECTED["app_statement"]]:
        found = ok(await client.get("/xapi/statements", params={"statementId": statement_id},
                                    headers=XAPI))  # fmt: skip
        assert found["id"] == statement_id
    listed = ok(await client.get("/xapi/statements", params={"limit": 50}, headers=XAPI))
    assert len(listed["statements"]) == len(EXPECTED["statements"]) + 1  # each stored once

    state = EXPECTED["state"]
    assert ok(await client.get("/xapi/activities/state", params=state["params"],
                               headers=XAPI)) == state["body"]  # fmt: skip
    profile = EXPECTED["activity_profile"]
    found = await client.get("/xapi/activities/profile", params=profile["params"], headers=XAPI)
    assert found.status_code == 200 and found.content.decode() == profile["text"]

    entry = EXPECTED["manual_entry"]
    base_path = f"/learners/{entry['learner']}/credits/{entry['id']}/documents"
    listed_documents = ok(await client.get(base_path))
    assert [d["id"] for d in listed_documents] == [entry["document"]]
    pdf = await client.get(f"{base_path}/{entry['document']}")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-1.4")

    base = ok(await client.get(f"/bases/{EXPECTED['base']['id']}"))
    assert base["status"] == EXPECTED["base"]["status"]
    project = ok(await client.get(f"/programme/projects/{EXPECTED['project']['id']}"))
    assert project["title"] == "枸杞产业高质量发展高级研修班"

    export = EXPECTED["export"]
    job = ok(await client.get(f"/exports/{export['id']}"))
    assert job["status"] == "done"
    file = await client.get(f"/exports/{export['id']}/file")
    assert hashlib.sha256(file.content).hexdigest() == export["sha256_of_file"]
    course = ok(await client.get("/courses/GX-0001"))
    assert course["title"].startswith("习近平新时代中国特色社会主义思想")


async def test_a_credit_rebuild_changes_nothing(client: httpx.AsyncClient) -> None:
    done = ok(await client.post("/admin/credits/rebuild"))
    assert done["changed"] == 0 and done["entries"] == sum(
        len(rows) for rows in EXPECTED["ledgers"].values()
    )


async def test_a_transcript_issued_then_still_verifies(client: httpx.AsyncClient) -> None:
    code = EXPECTED["transcript"]["code"]
    verified = ok(await client.get(f"/verify/{code}", auth=httpx.Auth()))
    assert verified["genuine"] is True
    assert verified["summary"]["learner"]["name"] == "张伟"


async def test_the_client_and_the_learners_account_and_device_sign_in(
    client: httpx.AsyncClient,
) -> None:
    wrong = await client.get("/learners/zhangwei", auth=(ADMIN[0], "not-the-secret"))
    assert wrong.status_code == 401
    devices = ok(await client.get("/learners/zhangwei/devices"))
    assert [d["name"] for d in devices if d.get("revoked_at") is None] == [EXPECTED["device"]]
    body = {"account": "13912345678", "password": EXPECTED["password"], "device": "荣耀 X50"}
    signed = ok(await client.post("/auth/app-sign-in", json=body, auth=httpx.Auth()))
    mine = await client.get(
        "/xapi/statements",
        params={"limit": 10},
        headers={**XAPI, "Authorization": f"Bearer {signed['access_token']}"},
    )
    assert mine.status_code == 200, mine.text


async def test_the_migrations_are_recorded(
    app_and_client: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    app, _ = app_and_client
    names = await migrations.recorded(app.state.database)
    assert names == [name for name, _ in MIGRATIONS]


async def test_a_step_added_later_runs_once_on_the_previous_data(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """How a future schema change comes: a step appended to MIGRATIONS runs at the first
    start on the previous release's data, is recorded, and does not run again."""
    seen: list[int] = []

    async def count_learners(database: Any) -> None:
        seen.append(await database["learners"].count_documents({}))

    added = ("test-0001-count-learners", count_learners)
    monkeypatch.setattr(nxce.app, "MIGRATIONS", (*MIGRATIONS, added))
    for _ in range(2):
        async for app, _ in started(settings):
            recorded = await migrations.recorded(app.state.database)
            assert recorded == [name for name, _ in (*MIGRATIONS, added)]
    assert seen == [len(EXPECTED["learners"])]


async def test_a_store_written_by_a_newer_version_refuses_to_start_and_says_why(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    client = db.connect(settings)
    try:
        future = {"_id": "credits-9999-from-a-later-release", "applied_at": db.now()}
        await db.database(client, settings)[migrations.COLLECTION].insert_one(future)
    finally:
        db.close(client)
    with pytest.raises(migrations.NewerStore) as refused:
        async for _ in started(settings):
            pass
    message = str(refused.value)
    assert "credits-9999-from-a-later-release" in message and "newer version" in message
    assert "nxce cannot start on this store" in caplog.text
