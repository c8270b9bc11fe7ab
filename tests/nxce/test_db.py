"""The embedded store's speed-ups of mongomock answer exactly what mongomock answers."""

from __future__ import annotations

import random
from typing import Any

import pytest
from mongomock import filtering

from nxce import db
from nxce.settings import Settings

VALUES: list[Any] = [
    "会计",
    "卫生",
    "",
    None,
    0,
    1,
    2,
    1.0,
    True,
    False,
    [],
    ["会计", 1],
    [None],
    [True],
    {"a": 1},
]


def random_doc(rng: random.Random) -> dict[str, Any]:
    doc = {f: rng.choice(VALUES) for f in ("series", "year", "tags") if rng.random() < 0.8}
    return {"_id": rng.random(), **doc}


def random_filter(rng: random.Random) -> dict[str, Any]:
    fields = rng.sample(["series", "year", "tags"], rng.randint(1, 2))
    return {f: rng.choice(["会计", "卫生", "", None, 0, 1, 2, True]) for f in fields}


def test_equality_matcher_agrees_with_mongomock() -> None:
    rng = random.Random(7)
    docs = [random_doc(rng) for _ in range(300)]
    for _ in range(300):
        query = random_filter(rng)
        matcher = db.equality_matcher(query)
        if any(isinstance(v, bool) for v in query.values()):
            assert matcher is None  # booleans take mongomock's own path
            continue
        assert matcher is not None
        for doc in docs:
            if _holds_bool(doc):
                continue  # mongomock equates True with 1 where MongoDB does not; see below
            assert matcher(doc) == filtering.filter_applies(query, doc), (query, doc)


def _holds_bool(doc: dict[str, Any]) -> bool:
    return any(
        isinstance(v, bool) or (isinstance(v, list) and any(isinstance(i, bool) for i in v))
        for v in doc.values()
    )


def test_equality_matcher_keeps_booleans_and_numbers_apart_like_mongodb() -> None:
    matcher = db.equality_matcher({"n": 1})
    assert not matcher({"n": True}) and not matcher({"n": [True]})
    assert matcher({"n": 1}) and matcher({"n": 1.0}) and matcher({"n": [0, 1]})
    missing = db.equality_matcher({"n": None})
    assert missing({}) and missing({"n": None}) and missing({"n": [None]})
    assert not missing({"n": 0}) and not missing({"n": []})


@pytest.mark.parametrize(
    "query",
    [{}, {"$or": [{"a": 1}]}, {"a.b": 1}, {"a": {"$ne": 1}}, {"a": [1]}, {"a": 1.5}, {"a": True}],
)
def test_equality_matcher_declines_other_filters(query: dict[str, Any]) -> None:
    assert db.equality_matcher(query) is None


@pytest.mark.parametrize("direction", [1, -1])
def test_one_key_sort_agrees_with_mongomock(direction: int) -> None:
    rng = random.Random(direction)
    words = ["GX-0001", "WS-0100", "会计", "卫生", "ａ", "Z", "z", "é", "枸杞"]
    docs = [
        {"_id": i, "code": rng.choice(words), "hours": rng.choice([0.5, 1, 2.5, 3])}
        for i in range(200)
    ]
    for field in ("code", "hours"):
        ours = db._sorted_by_one_key(docs, [(field, direction)])
        assert ours is not None
        theirs = sorted(
            docs, key=lambda d, f=field: filtering.resolve_sort_key(f, d), reverse=direction < 0
        )
        assert [d[field] for d in ours] == [d[field] for d in theirs]


def test_one_key_sort_declines_mixed_types() -> None:
    docs = [{"k": "a"}, {"k": 1}, {}]
    assert db._sorted_by_one_key(docs, [("k", 1)]) is None
    assert db._sorted_by_one_key(docs, [("k", 1), ("j", 1)]) is None


async def test_paged_cursor_returns_the_slice_of_the_whole_result() -> None:
    client = db.connect(Settings(mongodb_url=None))
    collection = client["t"]["docs"]
    rng = random.Random(3)
    await collection.insert_many(
        [
            {"code": f"C{i:04d}", "series": rng.choice(["会计", "卫生"]), "n": rng.randint(0, 9)}
            for i in range(500)
        ]
    )
    for query, sort in [({}, "code"), ({"series": "会计"}, "code"), ({"n": {"$gt": 4}}, "n")]:
        whole = await collection.find(query).sort(sort).to_list(None)
        for skip, limit in [(0, 10), (7, 20), (480, 50), (600, 10)]:
            page = await collection.find(query).sort(sort).skip(skip).limit(limit).to_list(None)
            assert page == whole[skip : skip + limit]
