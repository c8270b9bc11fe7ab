"""Index snapshots taken while the service writes, and a kill -9 after one: a start
catches the snapshot up with the writes since (inserts, in-place updates, replacements,
deletions, a changed sort key) and holds exactly the indexes a rebuild from the
documents would, without reading every document."""

from __future__ import annotations

import asyncio
import random
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

import pytest

from nxce.core import embedded_compact, embedded_indexes, embedded_journal, embedded_snapshot
from nxce.core.embedded_indexes import HashIndexes
from nxce.core.embedded_medium import FILE_NAME

REGIONS = ["银川市", "石嘴山市", "吴忠市", "固原市", "中卫市"]


@pytest.fixture(autouse=True)
def small(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded_compact, "COMPACT_FROM", 10)
    monkeypatch.setattr(embedded_snapshot, "CHUNK", 3)  # many frames: writes between them
    monkeypatch.setattr(embedded_snapshot, "SNAPSHOT_AFTER", 25)


@pytest.fixture
def rebuilt(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    names: list[str] = []
    original = HashIndexes.rebuild

    def rebuild(self: HashIndexes, store: Any, fields: tuple[str, ...]) -> None:
        names.append(store.name)
        original(self, store, fields)

    monkeypatch.setattr(HashIndexes, "rebuild", rebuild)
    return names


async def learners(data: Path) -> tuple[Any, Any]:
    client = embedded_journal.open_client(data)
    collection = client["nxce"]["learners"]
    await collection.create_index("id_number", unique=True)
    await collection.create_index([("region", 1), ("seq", -1)])
    await collection.create_index("seq", unique=True)
    await collection.create_index("tags")
    return client, collection


def learner(n: int, rng: random.Random) -> dict[str, Any]:
    return {
        "id_number": f"64010219800101{n:04d}",
        "region": rng.choice(REGIONS),
        "seq": n,
        "tags": rng.sample(["电气", "土木", "医护", "财会"], rng.randrange(3)),
        "name": f"学员{n}",
    }


async def answers(collection: Any) -> dict[str, Any]:
    """What the indexed queries answer (each read through the indexes)."""
    found: dict[str, Any] = {}
    for region in REGIONS:
        page = collection.find({"region": region}).sort("seq", -1)
        found[region] = [d["id_number"] for d in await page.to_list(None)]
    for tag in ["电气", "土木", "医护", "财会"]:
        found[tag] = sorted(d["seq"] for d in await collection.find({"tags": tag}).to_list(None))
    found["all"] = sorted(d["seq"] for d in await collection.find({}).to_list(None))
    return found


def meaning(indexes: HashIndexes) -> dict[str, Any]:
    """The indexes by document id rather than slot: equal for the same documents."""
    at = indexes.at
    by_value = {
        field: {
            key: sorted(map(str, (at[s] for s in (held if type(held) is set else {held}))))
            for key, held in index.items()
        }
        for field, index in indexes.by_value.items()
    }
    ordered = [
        {prefix: list(posting) for prefix, posting in o.postings.items() if posting}
        for o in indexes.ordered
    ]
    live = sorted(str(i) for i in at if i is not None)
    return {"by_value": by_value, "ordered": ordered, "ids": live}


def partials(directory: Path) -> list[Path]:
    """Snapshots being written (or left unfinished) in `directory`."""
    return list(directory.glob("*.partial"))


@contextmanager
def kill_copy(data: Path, crashed: Path) -> Iterator[Path]:
    """The files a kill -9 now would leave (the data file, its WAL, the snapshot)."""
    crashed.mkdir()
    for name in (FILE_NAME, f"{FILE_NAME}-wal", embedded_snapshot.FILE_NAME):
        if (data / name).exists():
            shutil.copy2(data / name, crashed / name)
    yield crashed


async def change(collection: Any, rng: random.Random, n: int) -> None:
    """One write of every kind, at random."""
    kind = rng.randrange(5)
    seqs = [d["seq"] for d in await collection.find({}, {"seq": 1}).to_list(None)]
    if kind == 0 or not seqs:
        await collection.insert_one(learner(1000 + n, rng))
    elif kind == 1:
        await collection.update_one({"seq": rng.choice(seqs)}, {"$set": {"region": "中卫市"}})
    elif kind == 2:
        await collection.delete_one({"seq": rng.choice(seqs)})
    elif kind == 3:
        old = rng.choice(seqs)
        await collection.update_one({"seq": old}, {"$set": {"seq": 5000 + n}})  # the sort key
    else:
        old = rng.choice(seqs)
        await collection.replace_one({"seq": old}, learner(old, rng) | {"tags": ["医护"]})


async def test_a_kill_after_a_periodic_snapshot_with_writes_since_and_during_it(
    tmp_path: Path, rebuilt: list[str]
) -> None:
    rng = random.Random(6)
    data = tmp_path / "data"
    client, collection = await learners(data)
    medium = embedded_journal.medium_of(client._store)
    assert medium is not None
    for n in range(20):
        await collection.insert_one(learner(n, rng))
    await answers(collection)  # the indexes are built
    taken = 0
    for n in range(120):
        await change(collection, rng, n)
        task = medium.snapshot_task
        if task is not None and n < 100:  # writes while the snapshot is taken, frame by frame
            for k in range(4):
                await change(collection, rng, 200 + 4 * n + k)
            await task
            taken += 1
    assert taken >= 2, "no periodic snapshot was taken"
    assert medium.snapshot is None  # the first start had none; it was named since
    named = medium._snapshot_named()
    assert named is not None and named[1] < medium.submitted  # writes after its mark
    expected = await answers(collection)
    live = meaning(
        embedded_indexes.hash_indexes(collection._AsyncMongoMockCollection__collection._store)
    )
    with kill_copy(data, tmp_path / "crashed") as crashed:
        rebuilt.clear()
        copy, again = await learners(crashed)
        assert await answers(again) == expected
        assert "learners" not in rebuilt
        store = again._AsyncMongoMockCollection__collection._store
        assert meaning(store._nxce_hash) == live
        embedded_journal.close_client(copy)
    embedded_journal.close_client(client)


async def test_pending_writes_at_the_end_of_a_snapshot_are_caught_up(
    tmp_path: Path, rebuilt: list[str]
) -> None:
    """A document changed in memory but not yet committed when a snapshot ends, then
    lost to a kill: the start takes it from the data file as it was."""
    rng = random.Random(7)
    data = tmp_path / "data"
    client, collection = await learners(data)
    medium = embedded_journal.medium_of(client._store)
    assert medium is not None
    for n in range(30):
        await collection.insert_one(learner(n, rng))
    expected = await answers(collection)
    store = collection._AsyncMongoMockCollection__collection._store
    indexes = embedded_indexes.current(store)
    assert indexes is not None
    async with embedded_journal.one_commit():
        # Changed in memory inside a block, not submitted while the snapshot is written.
        await collection.update_one({"seq": 3}, {"$set": {"region": "外省"}})
        await collection.delete_one({"seq": 4})
        await collection.insert_one(learner(99, rng))
        pending = embedded_journal._pending(client._store, {"nxce.learners"})
        assert len(pending["nxce.learners"]) == 3
        mark = medium.submitted
        token = embedded_snapshot.new_token()
        writer = embedded_snapshot.Writer(data, token, mark)
        for frame in embedded_snapshot.frames({"nxce.learners": indexes}):
            writer.frame(frame)
        writer.frame(("pending", pending))
        writer.seal()
        writer.install(["nxce.learners"])
        await medium.record_snapshot(token, mark)
        with kill_copy(data, tmp_path / "crashed") as crashed:  # the block never commits
            rebuilt.clear()
            copy, again = await learners(crashed)
            assert await answers(again) == expected
            assert "learners" not in rebuilt
            embedded_journal.close_client(copy)
    embedded_journal.close_client(client)


async def test_a_snapshot_of_indexes_rebuilt_while_it_is_taken_is_dropped(tmp_path: Path) -> None:
    rng = random.Random(8)
    client, collection = await learners(tmp_path)
    medium = embedded_journal.medium_of(client._store)
    assert medium is not None
    for n in range(24):
        await collection.insert_one(learner(n, rng))
    await answers(collection)
    await collection.insert_one(learner(24, rng))  # the 25th write: a snapshot starts
    task = medium.snapshot_task
    assert task is not None
    for _ in range(3):
        await asyncio.sleep(0)  # the snapshot has its first frames
    assert not task.done()
    await collection.create_index("name")  # the indexes are rebuilt at the next lookup
    await answers(collection)
    await task
    assert medium._snapshot_named() is None
    assert not partials(tmp_path)
    embedded_journal.close_client(client)


def test_the_write_p99_while_a_snapshot_is_taken_stays_short() -> None:
    """Not a timing assertion: that frames are small (each is made between two writes)."""
    indexes = HashIndexes()
    indexes.fields = ("_id", "region")
    for n in range(100):
        indexes.add({"_id": n, "region": REGIONS[n % 5]})
    sizes = [
        len(f[2]) for f in embedded_snapshot.frames({"x": indexes}) if f[0] in ("at", "values")
    ]
    assert max(sizes) <= embedded_snapshot.CHUNK


def logged(data: Path) -> int:
    with closing(sqlite3.connect(data / FILE_NAME)) as file:
        count: int = file.execute("SELECT count(*) FROM changes").fetchone()[0]
        return count


async def test_without_a_large_collection_the_log_of_changes_stays_short(tmp_path: Path) -> None:
    """Nothing to keep in a snapshot: the log is dropped as often as a snapshot would be
    taken, and at a clean stop."""
    rng = random.Random(9)
    client, collection = await learners(tmp_path)
    medium = embedded_journal.medium_of(client._store)
    assert medium is not None
    for n in range(8):  # fewer than COMPACT_FROM: held as dicts, no snapshot
        await collection.insert_one(learner(n, rng))
    for n in range(100):
        await collection.update_one({"seq": n % 8}, {"$set": {"name": f"学员{n}"}})
        if medium.snapshot_task is not None:
            await medium.snapshot_task
    assert logged(tmp_path) < 30  # 108 writes, dropped every 25
    assert medium._snapshot_named() is None
    embedded_journal.close_client(client)
    assert logged(tmp_path) == 0


async def test_a_stop_during_a_snapshot_and_a_kill_leave_no_partial_file(tmp_path: Path) -> None:
    rng = random.Random(10)
    client, collection = await learners(tmp_path)
    medium = embedded_journal.medium_of(client._store)
    assert medium is not None
    for n in range(24):
        await collection.insert_one(learner(n, rng))
    await answers(collection)
    await collection.insert_one(learner(24, rng))  # the 25th write: a snapshot starts
    await asyncio.sleep(0)
    assert medium.snapshot_task is not None and partials(tmp_path)
    embedded_journal.close_client(client)  # stopped while it is taken
    assert not partials(tmp_path)
    left = tmp_path / f"{embedded_snapshot.FILE_NAME}.0123abcd.partial"  # as a kill leaves
    left.write_bytes(b"unfinished")
    client, _ = await learners(tmp_path)
    assert not partials(tmp_path)
    embedded_journal.close_client(client)
