"""The indexes of a large collection kept across a clean stop: a start after one serves
what a rebuild would, and a snapshot is used only over exactly the data it was taken
from (not after a write and a kill, not when damaged, not for other indexes)."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from nxce.core import embedded_compact, embedded_snapshot
from nxce.core.embedded_indexes import HashIndexes
from nxce.core.embedded_medium import FILE_NAME
from tests.nxce.core.test_embedded_compact import learners
from tests.nxce.core.test_embedded_medium import XAPI, service, statement

IDS = [f"6b3e2a1f-4d5c-4e8f-9a07-1c2d3e4f5a{n:02d}" for n in range(30)]
MORE = [f"7c4f3b2a-5e6d-4f9a-8b18-2d3e4f5a6b{n:02d}" for n in range(3)]
VERB = "http://adlnet.gov/expapi/verbs/experienced"


@pytest.fixture(autouse=True)
def compact_from_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded_compact, "COMPACT_FROM", 10)


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the collections whose indexes were built by reading their documents."""
    names: list[str] = []
    original = HashIndexes.rebuild

    def rebuild(self: HashIndexes, store: Any, fields: tuple[str, ...]) -> None:
        names.append(store.name)
        original(self, store, fields)

    monkeypatch.setattr(HashIndexes, "rebuild", rebuild)
    return names


def statements_store(app: Any) -> Any:
    return app.state.database.client._store["nxce"]["statements"]


async def stored_ids(http: Any, **params: Any) -> list[str]:
    page = await http.get("/xapi/statements", params={"limit": 100, **params}, headers=XAPI)
    assert page.status_code == 200
    return [s["id"] for s in page.json()["statements"]]


async def test_a_clean_restart_takes_the_indexes_kept_and_serves_the_same(
    tmp_path: Path, rebuilt: list[str]
) -> None:
    async with service(tmp_path) as (_, http):
        assert (
            await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
        ).status_code == 200
        before = await stored_ids(http, verb=VERB)
    assert (tmp_path / embedded_snapshot.FILE_NAME).exists()
    rebuilt.clear()
    async with service(tmp_path) as (app, http):
        assert await stored_ids(http, verb=VERB) == before == list(reversed(IDS))
        assert "statements" not in rebuilt
        assert not statements_store(app)._nxce_hash.dirty
        # A write after the start moves the kept indexes as any write does.
        assert (
            await http.post("/xapi/statements", json=[statement(i) for i in MORE], headers=XAPI)
        ).status_code == 200
        assert await stored_ids(http, verb=VERB) == list(reversed(MORE)) + before


async def test_after_writes_and_a_kill_the_snapshot_is_caught_up_not_rebuilt(
    tmp_path: Path, rebuilt: list[str]
) -> None:
    crashed = tmp_path / "crashed"
    data = tmp_path / "data"
    async with service(data) as (_, http):
        await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
    async with service(data) as (_, http):
        await http.post("/xapi/statements", json=[statement(i) for i in MORE], headers=XAPI)
        voiding = {
            "id": "8d5a4c3b-6f7e-4a0b-9c29-3e4f5a6b7c01",
            "actor": statement(IDS[0])["actor"],
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": IDS[0]},
        }
        assert (await http.post("/xapi/statements", json=voiding, headers=XAPI)).status_code == 200
        before = await stored_ids(http, verb=VERB)  # the voiding one refers to a match
        assert before == [voiding["id"], *reversed(MORE), *reversed(IDS[1:])]
        # What a kill -9 now would leave: the committed file (and its WAL) and the
        # snapshot of the last stop, taken before these writes.
        crashed.mkdir()
        for name in (FILE_NAME, f"{FILE_NAME}-wal", embedded_snapshot.FILE_NAME):
            if (data / name).exists():
                shutil.copy2(data / name, crashed / name)
    rebuilt.clear()
    async with service(crashed) as (_, http):
        assert await stored_ids(http, verb=VERB) == before
        assert "statements" not in rebuilt


async def test_a_damaged_snapshot_is_set_aside_and_the_indexes_rebuilt(
    tmp_path: Path, rebuilt: list[str]
) -> None:
    async with service(tmp_path) as (_, http):
        await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
    kept = tmp_path / embedded_snapshot.FILE_NAME
    damaged = bytearray(kept.read_bytes())
    damaged[len(damaged) // 2] ^= 0xFF
    kept.write_bytes(bytes(damaged))
    rebuilt.clear()
    async with service(tmp_path) as (_, http):
        assert await stored_ids(http, verb=VERB) == list(reversed(IDS))
        assert "statements" in rebuilt


def test_indexes_kept_for_other_declarations_are_not_adopted() -> None:
    collection = learners()
    store = collection._store
    built = HashIndexes()
    built.rebuild(store, ("_id", "id_number", "region", "seq"))
    fresh = HashIndexes()
    assert fresh.adopt(built, store, ("_id", "id_number", "region", "seq"))
    assert fresh.candidates("region", ["固原市"]) == built.candidates("region", ["固原市"])
    collection.create_index([("id_number", 1), ("seq", 1)])  # one ordered index more
    assert not HashIndexes().adopt(built, store, ("_id", "id_number", "region", "seq"))
    assert not HashIndexes().adopt(built, store, ("_id", "id_number"))


async def test_a_document_changed_on_disk_under_a_kept_snapshot_is_refused_when_read(
    tmp_path: Path,
) -> None:
    """With the indexes kept, a start reads no document of the large collection: one whose
    bytes were changed on disk is found when read, answered 503, and the store takes no
    more writes (the next start reads every document and refuses the file)."""
    async with service(tmp_path) as (_, http):
        await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
    data = sqlite3.connect(tmp_path / FILE_NAME)
    with data:
        row = data.execute(
            "SELECT rowid, body FROM documents WHERE collection = 'nxce.statements' LIMIT 1"
        ).fetchone()
        body = bytearray(row[1])
        body[-5] ^= 0x01
        data.execute("UPDATE documents SET body = ? WHERE rowid = ?", (bytes(body), row[0]))
    data.close()
    async with service(tmp_path) as (_, http):
        page = await http.get("/xapi/statements", params={"limit": 100}, headers=XAPI)
        assert page.status_code == 503
        assert FILE_NAME in page.text
        refused = await http.post("/xapi/statements", json=statement(MORE[0]), headers=XAPI)
        assert refused.status_code == 503


def test_slots_given_while_a_snapshot_is_taken_are_left_out_of_its_frames() -> None:
    """Frames are made one at a time while the service writes: a document filed after the
    snapshot began (its slot logged, caught up at the next start) is in no frame, not
    even in the last frame of slots, which would no longer match the size the snapshot
    announced."""
    collection = learners()
    indexes = HashIndexes()
    indexes.rebuild(collection._store, ("_id", "id_number", "region", "seq"))
    made = embedded_snapshot.frames({"nxce.learners": indexes})
    header = next(made)
    size = header[-1]
    assert header[0] == "collection" and size == len(indexes.at)
    indexes.add({"_id": "后来的", "id_number": "640102", "region": "银川市", "seq": 10**6})
    slots = [frame for frame in made if frame[0] == "at"]
    assert sum(len(frame[2]) for frame in slots) == size
    assert "后来的" not in [i for frame in slots for i in frame[2]]
