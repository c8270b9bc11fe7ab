"""The embedded store's fast `$set` answers and stores exactly what mongomock's own update
does, keeps the indexes current, reaches the durable medium, and leaves every other
update to mongomock."""

from __future__ import annotations

import random
from datetime import datetime
from pathlib import Path
from typing import Any

import mongomock
import pytest

from nxce.core import db, embedded_journal, embedded_updates
from nxce.settings import Settings

SERIES = ["会计", "卫生", "工程", None]


def _collections() -> tuple[Any, Any]:
    db.connect(Settings(mongodb_url=None, embedded_in_memory=True))  # patches mongomock
    client = mongomock.MongoClient(tz_aware=True)
    pair = (client["t"]["fast"], client["t"]["mongomock"])
    for collection in pair:
        collection.create_index("series")
        collection.create_index("code", unique=True)
        collection.insert_many(
            [
                {"_id": i, "code": f"C{i}", "series": SERIES[i % 4], "n": i % 3, "done": i % 2 == 0}
                for i in range(60)
            ]
        )
    return pair


def _answer(result: Any) -> dict[str, Any]:
    raw = dict(result.raw_result)
    raw.pop("connectionId")
    return raw


def test_plain_sets_agree_with_mongomock(monkeypatch: pytest.MonkeyPatch) -> None:
    fast, reference = _collections()
    rng = random.Random(16)
    values: list[Any] = ["会计", "卫生", None, 0, 1, 2, 1.0, True, False, ""]
    for _ in range(150):
        spec = rng.choice(
            [
                {"series": rng.choice(SERIES)},
                {"n": rng.randrange(3)},
                {"code": {"$in": [f"C{rng.randrange(70)}" for _ in range(5)]}},
                {"n": {"$gt": 0}, "series": rng.choice(SERIES)},
                {"done": rng.choice([True, False])},
            ]
        )
        fields = rng.sample(["series", "n", "done", "added"], rng.randint(1, 2))
        update = {"$set": {f: rng.choice(values) for f in fields}}
        many = rng.random() < 0.7
        assert embedded_updates.plain_set(fast._store, update, False, {}) is not None
        ours = (fast.update_many if many else fast.update_one)(spec, update)
        with monkeypatch.context() as plain:  # the same update, by mongomock alone
            plain.setattr(embedded_updates, "plain_set", lambda *args: None)
            theirs = (reference.update_many if many else reference.update_one)(spec, update)
        assert _answer(ours) == _answer(theirs), (spec, update)
        assert list(fast.find({}).sort("_id")) == list(reference.find({}).sort("_id"))
    for series in SERIES:  # read through the hash index on `series`
        assert fast.count_documents({"series": series}) == reference.count_documents(
            {"series": series}
        )
        assert list(fast.find({"series": series}).sort("_id")) == list(
            reference.find({"series": series}).sort("_id")
        )


@pytest.mark.parametrize(
    ("update", "upsert"),
    [
        ({"$set": {"n": 5}}, True),  # an upsert
        ({"$set": {"n": 5}, "$inc": {"m": 1}}, False),  # another operator
        ({"$inc": {"n": 1}}, False),
        ({"$set": {"a.b": 1}}, False),  # a dotted field
        ({"$set": {"at": datetime(2022, 6, 1)}}, False),  # a date
        ({"$set": {"tags": ["会计"]}}, False),  # an array
        ({"$set": {"code": "C9"}}, False),  # in a unique index
        ({"$set": {"_id": 3}}, False),
        ({"$set": {}}, False),
        ({"series": "会计"}, False),  # a replacement
    ],
)
def test_other_updates_are_left_to_mongomock(update: dict[str, Any], upsert: bool) -> None:
    fast, _ = _collections()
    assert embedded_updates.plain_set(fast._store, update, upsert, {}) is None


def test_options_are_left_to_mongomock() -> None:
    fast, _ = _collections()
    update = {"$set": {"n": 1}}
    assert embedded_updates.plain_set(fast._store, update, False, {"hint": "series"}) is None
    assert embedded_updates.plain_set(fast._store, update, False, {"hint": None}) is not None


async def test_a_plain_set_reaches_the_medium(tmp_path: Path) -> None:
    client = embedded_journal.open_client(tmp_path)
    try:
        statements = client["nxce"]["statements"]
        await statements.create_index("projected")
        await statements.insert_many(
            [{"statement_id": f"s{i}", "projected": False} for i in range(10)]
        )
        answer = await statements.update_many(
            {"statement_id": {"$in": ["s1", "s2", "s3"]}}, {"$set": {"projected": True}}
        )
        assert (answer.matched_count, answer.modified_count) == (3, 3)
    finally:
        embedded_journal.close_client(client)
    reopened = embedded_journal.open_client(tmp_path)
    try:
        found = reopened["nxce"]["statements"].find({"projected": True}, {"_id": 0})
        assert sorted([d["statement_id"] async for d in found]) == ["s1", "s2", "s3"]
    finally:
        embedded_journal.close_client(reopened)
