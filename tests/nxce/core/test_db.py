"""The embedded store's speed-ups of mongomock answer exactly what mongomock answers."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from typing import Any

import pytest
from mongomock import filtering

from nxce.core import db, embedded_copy, embedded_match, embedded_results
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
    for _ in range(400):
        query = random_filter(rng)
        matcher = embedded_match.equality_matcher(query)
        assert matcher is not None
        for doc in docs:
            if _holds_bool(doc) or any(isinstance(v, bool) for v in query.values()):
                continue  # mongomock equates True with 1 where MongoDB does not; see below
            assert matcher(doc) == filtering.filter_applies(query, doc), (query, doc)


def test_in_and_range_filters_agree_with_mongomock() -> None:
    rng = random.Random(11)
    docs = [
        {"_id": i, "n": rng.choice([0, 1, 2.5, 7, -3, None, [1, 9], [], "7", "会计", ["卫生", 7]])}
        for i in range(200)
    ]
    docs += [{"_id": "missing"}]
    queries: list[dict[str, Any]] = [
        {"n": {"$in": [1, 7, None]}},
        {"n": {"$in": ["7"]}},
        # Five strings or more are checked as a set.
        {"n": {"$in": ["7", "会计", "卫生", "一", "二", "三"]}},
        {"n": {"$in": ["1", "9", "2.5", "-3", "财务"]}},
        {"n": {"$in": []}},
        {"n": {"$gt": 1}},
        {"n": {"$gte": 1, "$lt": 7}},
        {"n": {"$lte": 0}},
        {"n": {"$gt": -10, "$lte": 100}},
    ]
    for query in queries:
        matcher = embedded_match.equality_matcher(query)
        assert matcher is not None
        for doc in docs:
            assert matcher(doc) == filtering.filter_applies(query, doc), (query, doc)


def _holds_bool(doc: dict[str, Any]) -> bool:
    return any(
        isinstance(v, bool) or (isinstance(v, list) and any(isinstance(i, bool) for i in v))
        for v in doc.values()
    )


def test_equality_matcher_keeps_booleans_and_numbers_apart_like_mongodb() -> None:
    matcher = embedded_match.equality_matcher({"n": 1})
    assert matcher is not None
    assert not matcher({"n": True}) and not matcher({"n": [True]})
    assert matcher({"n": 1}) and matcher({"n": 1.0}) and matcher({"n": [0, 1]})
    flag = embedded_match.equality_matcher({"voided": False})
    assert flag is not None
    assert flag({"voided": False}) and not flag({"voided": 0}) and not flag({})
    missing = embedded_match.equality_matcher({"n": None})
    assert missing is not None
    assert missing({}) and missing({"n": None}) and missing({"n": [None]})
    assert not missing({"n": 0}) and not missing({"n": []})


@pytest.mark.parametrize(
    "query",
    [
        {},
        {"$or": [{"a": 1}]},
        {"a.b": 1},
        {"a": {"$ne": 1}},
        {"a": [1]},
        {"a": 1.5},
        {"a": {"$gt": "x"}},
        {"a": {"$in": [[1]]}},
    ],
)
def test_equality_matcher_declines_other_filters(query: dict[str, Any]) -> None:
    assert embedded_match.equality_matcher(query) is None


async def test_hash_indexes_follow_inserts_updates_and_deletes() -> None:
    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["records"]
    await collection.create_index("tag")
    await collection.insert_many([{"k": i, "tag": ["a", "b"][i % 2]} for i in range(100)])
    assert await collection.count_documents({"tag": "a"}) == 50
    await collection.update_many({"k": {"$lt": 10}}, {"$set": {"tag": "c"}})
    assert await collection.count_documents({"tag": "c"}) == 10
    assert await collection.count_documents({"tag": "a"}) == 45
    await collection.insert_one({"k": 100, "tag": ["a", "c"]})
    assert await collection.count_documents({"tag": "c"}) == 11
    await collection.delete_many({"tag": "a"})
    assert await collection.count_documents({"tag": {"$in": ["a", "b"]}}) == 45
    found = await collection.find({"tag": "b"}).sort("k").to_list(None)
    assert [d["k"] for d in found] == list(range(11, 100, 2))


@pytest.mark.parametrize("seed", range(3))
async def test_updates_move_documents_only_under_the_indexes_whose_keys_changed(
    seed: int,
) -> None:
    """An update re-files a document under the indexes whose keys it changed (hash and
    ordered ones, a value becoming unhashable, a list) and leaves the others: every query
    then answers what the same query over a plain scan answers. (Booleans beside numbers,
    where mongomock's matching differs from MongoDB's, are tested above.)"""
    rng = random.Random(seed)
    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["records"]
    await collection.create_index("tag")
    await collection.create_index("seq", unique=True)
    await collection.create_index([("tag", 1), ("flag", 1), ("seq", -1)])
    values: list[Any] = ["会计", "卫生", 7, None, ["会计", "卫生"], ["卫生", 7]]
    if seed == 2:  # a document the ordered index cannot hold: it stands aside (a scan)
        values.append({"a": 1})
    docs = [
        {"seq": i, "tag": rng.choice(values), "flag": rng.choice([True, False]), "n": i % 7}
        for i in range(200)
    ]
    await collection.insert_many([dict(d) for d in docs])
    plain: dict[int, dict[str, Any]] = {d["seq"]: d for d in docs}
    for _ in range(60):
        k = rng.randrange(7)
        field = rng.choice(["tag", "flag", "n"])
        change: dict[str, Any] = {
            field: rng.choice([True, False, None] if field == "flag" else values)
        }
        await collection.update_many({"n": k}, {"$set": change})
        for d in plain.values():
            if d["n"] == k:
                d.update(change)
    for tag in ["会计", "卫生", 7, None]:
        for flag in (True, False, None):
            query = {"tag": tag, "flag": flag}
            found = await collection.find(query).sort("seq", -1).limit(5).to_list(None)
            expected = sorted(
                (d for d in plain.values() if filtering.filter_applies(query, d)),
                key=lambda d: -d["seq"],
            )[:5]
            assert [d["seq"] for d in found] == [d["seq"] for d in expected], query
        found = await collection.find({"tag": tag}).sort("seq", 1).to_list(None)
        expected = sorted(
            (d for d in plain.values() if filtering.filter_applies({"tag": tag}, d)),
            key=lambda d: d["seq"],
        )
        assert [d["seq"] for d in found] == [d["seq"] for d in expected], tag


async def test_other_filters_read_candidates_from_their_indexed_equalities() -> None:
    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["records"]
    await collection.create_index("projected")
    rng = random.Random(21)
    docs = [
        {
            "k": i,
            "projected": rng.random() < 0.9,
            "stored": datetime(2022, 5, 1 + i % 28, tzinfo=UTC),
            "series": rng.choice(["会计", "卫生", None]),
        }
        for i in range(300)
    ]
    await collection.insert_many([dict(d) for d in docs])
    queries: list[dict[str, Any]] = [
        # The credit catch-up: not projected, stored before a moment.
        {"projected": False, "stored": {"$lt": datetime(2022, 5, 10, tzinfo=UTC)}},
        {"projected": {"$in": [False]}, "$or": [{"series": "会计"}, {"series": None}]},
        {
            "projected": True,
            "series": {"$ne": "卫生"},
            "stored": {"$gte": datetime(2022, 5, 20, tzinfo=UTC)},
        },
    ]
    for query in queries:
        found = await collection.find(query).sort("k").to_list(None)
        expected = [d["k"] for d in docs if filtering.filter_applies(query, d)]
        assert [d["k"] for d in found] == expected, query
        assert expected  # each query matches some


async def test_unique_indexes_still_refuse_duplicates() -> None:
    from pymongo.errors import DuplicateKeyError

    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["unique"]
    await collection.create_index("code", unique=True)
    await collection.insert_many([{"code": f"C{i}"} for i in range(50)])
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"code": "C7"})
    with pytest.raises(DuplicateKeyError):
        await collection.update_one({"code": "C8"}, {"$set": {"code": "C9"}})
    assert await collection.count_documents({"code": "C8"}) == 1


async def test_a_copied_store_is_equal_and_independent() -> None:
    from pymongo.errors import DuplicateKeyError

    original = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    source = original["t"]["records"]
    await source.create_index("code", unique=True)
    await source.create_index("tag")
    await source.insert_many(
        [{"code": f"C{i}", "tag": ["a", "b"][i % 2], "n": [i]} for i in range(20)]
    )
    copied = embedded_copy.copied(original)
    twin = copied["t"]["records"]
    assert await twin.index_information() == await source.index_information()
    assert await twin.find({}).to_list(None) == await source.find({}).to_list(None)
    await twin.update_many({"tag": "a"}, {"$set": {"tag": "c"}, "$push": {"n": -1}})
    await twin.insert_one({"code": "C20", "tag": "a"})
    await source.delete_one({"code": "C1"})
    assert await twin.count_documents({"tag": "c"}) == 10
    assert await twin.count_documents({"tag": "a"}) == 1
    assert await source.count_documents({"tag": "a"}) == 10
    assert (await source.find_one({"code": "C0"}))["n"] == [0]
    assert await source.count_documents({"code": "C20"}) == 0
    assert await twin.count_documents({"code": "C1"}) == 1
    with pytest.raises(DuplicateKeyError):
        await twin.insert_one({"code": "C3"})


def test_find_one_and_distinct_answer_what_mongomock_answers() -> None:
    import mongomock

    db.connect(Settings(mongodb_url=None, embedded_in_memory=True))  # patches mongomock
    collection = mongomock.MongoClient(tz_aware=True)["t"]["reads"]
    rng = random.Random(5)
    collection.create_index("series")
    collection.insert_many(
        [{**random_doc(rng), "k": i, "at": datetime(2022, 1, 1 + i % 28)} for i in range(120)]
    )
    for query in ({}, {"series": "会计"}, {"k": {"$gt": 60}}, {"k": -1}, {"year": [None]}):
        # mongomock's own: a whole find, then its first document, or its distinct values
        assert collection.find_one(query) == next(collection.find(query), None), query
        for sort in ([("k", -1)], [("series", 1), ("k", 1)]):
            first = next(collection.find(query, sort=sort), None)
            assert collection.find_one(query, sort=sort) == first, (query, sort)
        for key in ("series", "year", "tags", "at", "tags.a", "missing"):
            ours = collection.distinct(key, query)
            assert ours == collection.find(query).distinct(key), (query, key)
    assert collection.find_one(collection.find_one({})["_id"])["k"] == 0


@pytest.mark.parametrize("direction", [1, -1])
def test_one_key_sort_agrees_with_mongomock(direction: int) -> None:
    rng = random.Random(direction)
    words = ["GX-0001", "WS-0100", "会计", "卫生", "ａ", "Z", "z", "é", "枸杞"]
    docs = [
        {"_id": i, "code": rng.choice(words), "hours": rng.choice([0.5, 1, 2.5, 3])}
        for i in range(200)
    ]
    for field in ("code", "hours"):
        ours = embedded_match.sorted_by_keys(docs, [(field, direction)])
        assert ours is not None
        theirs = sorted(
            docs, key=lambda d, f=field: filtering.resolve_sort_key(f, d), reverse=direction < 0
        )
        assert [d[field] for d in ours] == [d[field] for d in theirs]


def test_one_key_sort_declines_mixed_types() -> None:
    docs = [{"k": "a"}, {"k": 1}, {}]
    assert embedded_match.sorted_by_keys(docs, [("k", 1)]) is None
    assert embedded_match.sorted_by_keys(docs, [("k", 1), ("j", 1)]) is None


async def test_paged_cursor_returns_the_slice_of_the_whole_result() -> None:
    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
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


@pytest.mark.parametrize(
    "fields",
    [None, {"series": 1}, {"series": 1, "when": True, "_id": 0}, {"nested": 1, "_id": 1}],
)
def test_copied_results_agree_with_mongomock(fields: dict[str, Any] | None) -> None:
    import mongomock
    from mongomock import helpers

    when = datetime(2022, 1, 1, 0, 30)  # stored without a zone, as mongomock keeps it
    docs = [
        {
            "_id": i,
            "series": "会计" if i % 2 else None,
            "when": when,
            "nested": {"at": [when, {"学时": 2.5}], "tags": ["公需课"]},
            "data": b"\x00\x01",
        }
        for i in range(20)
    ]
    collection = mongomock.MongoClient()["t"]["docs"]
    for aware in (True, False):
        copied = embedded_results.copy_results(docs, fields, aware)
        assert copied is not None
        ours = list(copied)
        theirs = [collection._copy_only_fields(d, dict(fields or {}) or None, dict) for d in docs]
        if aware:
            theirs = [helpers.make_datetime_timezone_aware_in_document(d) for d in theirs]
        assert ours == theirs
        assert all(
            o is not d and o.get("nested") is not d["nested"]
            for o, d in zip(ours, docs, strict=True)
        )
        if aware and (fields is None or "when" in fields):
            assert ours[0]["when"].tzinfo is not None


@pytest.mark.parametrize("fields", [{"series": 0}, {"nested.at": 1}, {"series": {"$slice": 1}}])
def test_other_projections_are_left_to_mongomock(fields: dict[str, Any]) -> None:
    assert embedded_results.copy_results([{"_id": 1}], fields, True) is None


async def test_projected_find_through_the_store_matches_unprojected_fields() -> None:
    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["docs"]
    await collection.insert_many(
        [{"code": f"C{i}", "at": datetime(2022, 1, 1, tzinfo=UTC), "n": i} for i in range(5)]
    )
    whole = await collection.find({}).sort("code").to_list(None)
    projected = await collection.find({}, {"code": 1, "at": 1, "_id": 0}).sort("code").to_list(None)
    assert projected == [{"code": d["code"], "at": d["at"]} for d in whole]
    assert projected[0]["at"].tzinfo is not None


def test_datetimes_are_made_naive_utc_as_mongomock_makes_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The embedded store's walk of a document (`_patch_datetime_awareness`) answers what
    mongomock's own answers, value for value and container type for container type."""
    from collections import OrderedDict
    from datetime import timedelta, timezone

    from bson import ObjectId, Timestamp
    from bson.son import SON
    from mongomock import helpers

    from nxce.core import embedded_store

    db.connect(Settings(mongodb_url=None, embedded_in_memory=True))  # the speed-ups installed
    original = embedded_store.original_awareness
    assert original is not None
    assert helpers.patch_datetime_awareness_in_document is not original
    rng = random.Random(7)
    beijing = timezone(timedelta(hours=8))

    def value(depth: int) -> Any:
        leaves: list[Any] = [
            "宁夏",
            7,
            2.5,
            True,
            None,
            b"\x00",
            ObjectId(),
            datetime(2022, 5, 1, 8, 30, 0, 123456, tzinfo=beijing),
            datetime(2022, 5, 1, 8, 30, 0, 987654),
            Timestamp(1, 2),
        ]
        if depth > 2 or rng.random() < 0.4:
            return rng.choice(leaves)
        kind = rng.choice([dict, list, tuple, OrderedDict, SON])
        items = [(f"k{i}", value(depth + 1)) for i in range(rng.randint(0, 4))]
        if kind in (list, tuple):
            return kind(v for _, v in items)
        return kind(items)

    def shape(found: Any) -> Any:
        if isinstance(found, dict):
            return (type(found), [(k, shape(v)) for k, v in found.items()])
        if isinstance(found, list | tuple):
            return (type(found), [shape(v) for v in found])
        return (type(found), found)

    fast = helpers.patch_datetime_awareness_in_document

    def expected(document: Any) -> Any:
        with monkeypatch.context() as m:  # mongomock's own walk, all the way down
            m.setattr(helpers, "patch_datetime_awareness_in_document", original)
            return original(document)

    for _ in range(300):
        document = {"_id": ObjectId(), "课程": value(0), "list": [value(1), value(1)]}
        assert shape(fast(document)) == shape(expected(document))


@pytest.mark.parametrize("indexed_first", [False, True])
async def test_unique_checks_refuse_every_duplicate_whether_or_not_the_hash_index_is_built(
    indexed_first: bool,
) -> None:
    """Once the hash index of a unique field is built (a lookup builds it), a write's
    unique check reads its candidates there; the refusals are the same either way."""
    from pymongo.errors import DuplicateKeyError

    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["unique_keys"]
    await collection.create_index("code", unique=True)
    await collection.insert_many([{"code": f"会计{i}", "n": i} for i in range(20)])
    await collection.insert_one({"n": 99})  # no code: filed under null
    await collection.insert_one({"code": 1, "n": 100})
    if indexed_first:
        assert await collection.count_documents({"code": "会计3"}) == 1
    refused = [
        collection.insert_one({"code": "会计7"}),
        collection.insert_one({"code": 1.0}),  # 1 and 1.0 are one key to MongoDB
        collection.insert_one({"other": "no code either"}),  # a second null
        collection.update_one({"code": "会计8"}, {"$set": {"code": "会计9"}}),
        collection.replace_one({"code": "会计10"}, {"code": "会计11"}),
        collection.update_one({"code": "新"}, {"$set": {"code": "会计12"}}, upsert=True),
    ]
    for write in refused:
        with pytest.raises(DuplicateKeyError):
            await write
    assert await collection.count_documents({}) == 22
    assert await collection.count_documents({"code": "会计8"}) == 1
    await collection.insert_one({"code": "会计20"})  # a new key is taken
    await collection.update_one({"code": "会计0"}, {"$set": {"code": "会计21"}})
    assert await collection.count_documents({"code": {"$in": ["会计20", "会计21"]}}) == 2


async def test_a_unique_dotted_key_is_checked_against_the_documents() -> None:
    """The hash indexes file top-level values only: a dotted key's duplicates are found
    by reading the documents."""
    from pymongo.errors import DuplicateKeyError

    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["dotted"]
    await collection.create_index("acct.name", unique=True)
    await collection.insert_one({"kind": "学员", "acct": {"name": "张伟"}})
    assert await collection.count_documents({"kind": "学员"}) == 1  # the indexes built
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"kind": "学员", "acct": {"name": "张伟"}})
    await collection.insert_one({"kind": "学员", "acct": {"name": "李娜"}})
    assert await collection.count_documents({}) == 2


@pytest.mark.parametrize("how", ["replace_one", "update_one"])
async def test_an_update_before_any_read_still_refuses_a_duplicate(how: str) -> None:
    """An update when the hash indexes are not built (a start, a new index): they are
    built before it changes the document, so its unique check sees the new value."""
    from pymongo.errors import DuplicateKeyError

    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["emails"]
    await collection.create_index("email", unique=True)
    await collection.insert_many([{"_id": 1, "email": "a@nxce.cn"}, {"_id": 2, "email": "b"}])
    await collection.create_index("other")  # the hash indexes are to be built again
    with pytest.raises(DuplicateKeyError):
        if how == "replace_one":
            await collection.replace_one({"_id": 2}, {"_id": 2, "email": "a@nxce.cn"})
        else:
            await collection.update_one({"_id": 2}, {"$set": {"email": "a@nxce.cn"}})
    assert await collection.count_documents({"email": "a@nxce.cn"}) == 1


async def _write_each_way(collection: Any, way: str) -> None:
    from pymongo import InsertOne

    writes = {
        "insert_one": lambda: collection.insert_one({"k": 9}),
        "insert_many": lambda: collection.insert_many([{"k": 9}]),
        "update_one $set": lambda: collection.update_one({"_id": 1}, {"$set": {"k": 5}}),
        "update_many $inc": lambda: collection.update_many({}, {"$inc": {"k": 1}}),
        "upsert": lambda: collection.update_one({"_id": 7}, {"$set": {"k": 7}}, upsert=True),
        "replace_one": lambda: collection.replace_one({"_id": 2}, {"k": 0}),
        "find_one_and_update": lambda: collection.find_one_and_update(
            {"_id": 0}, {"$set": {"k": 3}}
        ),
        "delete_one": lambda: collection.delete_one({"_id": 0}),
        "delete_many": lambda: collection.delete_many({"k": {"$gte": 1}}),
        "bulk_write": lambda: collection.bulk_write([InsertOne({"k": 8})]),
        "drop": lambda: collection.drop(),
    }
    await writes[way]()


WAYS = [
    "insert_one",
    "insert_many",
    "update_one $set",
    "update_many $inc",
    "upsert",
    "replace_one",
    "find_one_and_update",
    "delete_one",
    "delete_many",
    "bulk_write",
    "drop",
]


@pytest.mark.parametrize("way", WAYS)
async def test_what_a_collection_keeps_goes_at_its_next_write(way: str) -> None:
    from nxce.core import embedded_store

    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection, other = client["t"]["kept"], client["t"]["other"]
    await collection.insert_many([{"_id": i, "k": i} for i in range(3)])
    kept = embedded_store.memo(collection)
    assert kept == {}
    kept["会计"] = 1
    await other.insert_one({"k": 1})  # another collection's write
    await collection.find_one({"_id": 1})  # a read
    assert embedded_store.memo(collection) == {"会计": 1}
    await _write_each_way(collection, way)
    assert embedded_store.memo(collection) == {}


async def test_nothing_is_kept_for_a_collection_whose_documents_expire() -> None:
    from nxce.core import embedded_store

    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    collection = client["t"]["expiring"]
    await collection.create_index("at", expireAfterSeconds=60)
    assert embedded_store.memo(collection) is None


async def test_a_kept_read_is_made_again_once_its_collection_changed(app: Any) -> None:
    from nxce.core import clients

    reads: list[str] = []

    async def read() -> Any:
        reads.append("read")
        return await clients.get_by_key(key="admin")

    first = await db.read_kept(clients.Client, ("key", "admin"), read)
    assert await db.read_kept(clients.Client, ("key", "admin"), read) is first
    assert len(reads) == 1
    await db.collection(clients.Client).update_one(
        {"key": "admin"}, {"$set": {"name": "管理员（新）"}}
    )
    again = await db.read_kept(clients.Client, ("key", "admin"), read)
    assert len(reads) == 2 and again is not None and again.name == "管理员（新）"
    db._state.shared = True  # MongoDB: other processes write, so nothing is kept
    try:
        await db.read_kept(clients.Client, ("key", "admin"), read)
        await db.read_kept(clients.Client, ("key", "admin"), read)
    finally:
        db._state.shared = False
    assert len(reads) == 4
