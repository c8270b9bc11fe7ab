"""A large collection of the embedded store is held as BSON and answers what a collection
of dicts answers: inserts, in-place updates (voiding), unique indexes (a new one checked
against the documents there, as MongoDB does), queries, and a restart from the medium
(which creates the indexes again without reading the documents)."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path
from typing import Any

import mongomock
import pytest
from mongomock import DuplicateKeyError

from nxce.core import embedded_compact, embedded_journal, embedded_medium, embedded_store
from nxce.core.embedded_compact import CompactDocuments
from tests.nxce.core.test_embedded_medium import XAPI, service, statement

IDS = [f"4f1d0c6e-2b7a-4d6e-9a51-6c0e2f3b8d{n:02d}" for n in range(30)]


@pytest.fixture
def compact_from_ten(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(embedded_compact, "COMPACT_FROM", 10)


def learners() -> Any:
    embedded_store.speed_up()
    collection = mongomock.MongoClient()["nxce"]["learners"]
    collection.create_index("id_number", unique=True)
    collection.create_index([("region", 1), ("seq", -1)])
    collection.create_index("seq", unique=True)
    for n in range(12):
        region = "银川市" if n % 3 else "固原市"
        collection.insert_one({"id_number": f"64010219800101{n:04d}", "region": region, "seq": n})
    return collection


@pytest.mark.usefixtures("compact_from_ten")
def test_a_collection_of_ten_is_held_as_bson_and_answers_as_before() -> None:
    collection = learners()
    assert type(collection._store._documents) is CompactDocuments
    # 12 learners, n % 3 == 0 in 固原市: n = 0, 3, 6, 9; newest first by seq.
    found = collection.find({"region": "固原市"}).sort("seq", -1).limit(3)
    assert [d["seq"] for d in found] == [9, 6, 3]
    # A document read is a copy: changing it changes nothing stored.
    first = collection.find_one({"seq": 9})
    first["region"] = "吴忠市"
    assert collection.count_documents({"region": "吴忠市"}) == 0


@pytest.mark.usefixtures("compact_from_ten")
def test_updates_in_place_are_kept_and_reindexed() -> None:
    collection = learners()
    collection.update_many({"region": "固原市"}, {"$set": {"region": "吴忠市"}})
    assert [d["seq"] for d in collection.find({"region": "吴忠市"}).sort("seq", 1)] == [0, 3, 6, 9]
    assert collection.count_documents({"region": "固原市"}) == 0
    collection.update_one({"seq": 4}, {"$inc": {"seq": 100}})
    assert collection.find_one({"seq": 104})["id_number"] == "640102198001010004"


@pytest.mark.usefixtures("compact_from_ten")
def test_a_change_breaking_a_unique_index_is_undone() -> None:
    collection = learners()
    with pytest.raises(DuplicateKeyError):
        collection.update_one({"seq": 1}, {"$set": {"id_number": "640102198001010002"}})
    assert collection.find_one({"seq": 1})["id_number"] == "640102198001010001"
    with pytest.raises(DuplicateKeyError):
        collection.insert_one({"id_number": "640102198001010002", "region": "银川市", "seq": 50})
    assert collection.count_documents({}) == 12
    assert [d["seq"] for d in collection.find({"region": "银川市"}).sort("seq", -1).limit(2)] == [
        11,
        10,
    ]


@pytest.mark.usefixtures("compact_from_ten")
async def test_statements_held_as_bson_are_voided_and_served_after_a_restart(
    tmp_path: Path,
) -> None:
    async with service(tmp_path) as (_, http):
        answer = await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
        assert answer.status_code == 200
        voiding = {
            "actor": statement(IDS[0])["actor"],
            "verb": {"id": "http://adlnet.gov/expapi/verbs/voided"},
            "object": {"objectType": "StatementRef", "id": IDS[3]},
        }
        assert (await http.post("/xapi/statements", json=voiding, headers=XAPI)).status_code == 200
    async with service(tmp_path) as (app, http):
        held = app.state.database.client._store["nxce"]["statements"]._documents
        assert type(held) is CompactDocuments
        # Loaded from the medium, they stay there: nothing of them is held in memory.
        assert set(held.bodies.values()) == {embedded_compact.COLD}
        page = await http.get("/xapi/statements", params={"limit": 40}, headers=XAPI)
        # 30 stored, one of them voided, plus the voiding statement: 30 returned.
        ids = [s["id"] for s in page.json()["statements"]]
        assert len(ids) == 30 and IDS[3] not in ids
        voided = await http.get(
            "/xapi/statements", params={"voidedStatementId": IDS[3]}, headers=XAPI
        )
        assert voided.status_code == 200
        more = [statement(f"5a2e1d0f-3c8b-4e7f-8b62-7d1f3a4c9e{n:02d}") for n in range(3)]
        assert (await http.post("/xapi/statements", json=more, headers=XAPI)).status_code == 200
        # Committed before the answer, and then let go as well.
        assert set(held.bodies.values()) == {embedded_compact.COLD}
        page = await http.get("/xapi/statements", params={"limit": 2}, headers=XAPI)
        assert [s["id"] for s in page.json()["statements"]] == [more[2]["id"], more[1]["id"]]


def _counting_reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every full pass over compact documents and every document read from them."""
    reads: list[str] = []
    scan, body = CompactDocuments.scan, CompactDocuments.body

    def counted_scan(self: CompactDocuments) -> Any:
        reads.append(f"scan {self.name}")
        return scan(self)

    def counted_body(self: CompactDocuments, key: Any) -> Any:
        reads.append(f"read {self.name}")
        return body(self, key)

    monkeypatch.setattr(CompactDocuments, "scan", counted_scan)
    monkeypatch.setattr(CompactDocuments, "body", counted_body)
    return reads


@pytest.mark.usefixtures("compact_from_ten")
@pytest.mark.parametrize(
    ("keys", "options"),
    [
        ("region", {}),
        ([("region", 1), ("phone", 1)], {}),  # 固原市 and no phone (null), four times
        ("phone", {}),  # no phone: null, twelve times
        ("region", {"partialFilterExpression": {"seq": {"$gte": 6}}}),
    ],
    ids=["field", "compound", "missing", "partial"],
)
def test_a_new_unique_index_over_duplicates_is_refused_and_not_created(
    keys: Any, options: dict[str, Any]
) -> None:
    collection = learners()
    assert type(collection._store._documents) is CompactDocuments
    before = collection.index_information()
    with pytest.raises(DuplicateKeyError, match="E11000"):
        collection.create_index(keys, unique=True, **options)
    assert collection.index_information() == before
    # Nothing changed: a write the refused index would have refused is taken.
    collection.insert_one({"id_number": "640402199002020202", "region": "固原市", "seq": 40})


@pytest.mark.usefixtures("compact_from_ten")
@pytest.mark.parametrize(
    ("keys", "options", "duplicate"),
    [
        ("name", {}, {"name": "马晓燕0"}),
        ([("region", 1), ("seq", 1)], {}, {"region": "银川市", "seq": 1}),
        ("phone", {"sparse": True}, {"phone": "13909510000"}),
        (
            "phone",
            {"partialFilterExpression": {"phone": {"$type": "string"}}},
            {"phone": "13909510000"},
        ),
    ],
    ids=["field", "compound", "sparse", "partial"],
)
def test_a_new_unique_index_without_duplicates_is_taken_and_refuses_a_duplicate(
    keys: Any, options: dict[str, Any], duplicate: dict[str, Any]
) -> None:
    collection = learners()
    for n in range(12):
        collection.update_one({"seq": n}, {"$set": {"name": f"马晓燕{n}"}})
    collection.update_one({"seq": 5}, {"$set": {"phone": "13909510000"}})  # one has a phone
    name = collection.create_index(keys, unique=True, **options)
    assert collection.index_information()[name]["unique"] is True
    document = {"id_number": "640402199002020202", "region": "固原市", "seq": 40, **duplicate}
    with pytest.raises(DuplicateKeyError):
        collection.insert_one(document)
    assert collection.count_documents({}) == 12


@pytest.mark.usefixtures("compact_from_ten")
def test_creating_the_indexes_a_compact_collection_has_again_reads_no_document(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    collection = learners()
    reads = _counting_reads(monkeypatch)
    collection.create_index("id_number", unique=True)
    collection.create_index([("region", 1), ("seq", -1)])
    collection.create_index("seq", unique=True)
    assert reads == []
    # A new one reads them, once.
    collection.create_index([("region", 1), ("id_number", 1)], unique=True)
    assert reads == ["scan "]


@pytest.mark.usefixtures("compact_from_ten")
async def test_a_restart_creates_the_statements_indexes_without_reading_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with service(tmp_path) as (_, http):
        answer = await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
        assert answer.status_code == 200
    reads = _counting_reads(monkeypatch)
    records: list[str] = []
    submit = embedded_medium.Medium.submit

    def submitted(self: embedded_medium.Medium, ops: list[embedded_medium.Op], *rest: Any) -> Any:
        records.extend(op.collection for op in ops if op.unique is not None)
        return submit(self, ops, *rest)

    monkeypatch.setattr(embedded_medium.Medium, "submit", submitted)
    async with service(tmp_path) as (app, http):
        statements = app.state.database.client._store["nxce"]["statements"]
        assert type(statements._documents) is CompactDocuments
        assert any(index.get("unique") for index in statements.indexes.values())
        assert [r for r in reads if r.startswith("scan")] == []
        assert records == []  # the same indexes as recorded: nothing written at the start
        # After a write, an index the collection does not have is checked: the 31
        # statements share their authority (one client), so a unique one on it is refused.
        more = statement("5a2e1d0f-3c8b-4e7f-8b62-7d1f3a4c9e00")
        assert (await http.post("/xapi/statements", json=more, headers=XAPI)).status_code == 200
        collection = app.state.database["statements"]
        with pytest.raises(DuplicateKeyError):
            await collection.create_index("authority", unique=True, name="authority_unique")
        assert "authority_unique" not in await collection.index_information()
        assert [r for r in reads if r.startswith("scan")] == ["scan nxce.statements"]


@pytest.mark.usefixtures("compact_from_ten")
async def test_a_data_file_without_recorded_indexes_starts_without_reading_and_records_them(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with service(tmp_path) as (_, http):
        answer = await http.post("/xapi/statements", json=[statement(i) for i in IDS], headers=XAPI)
        assert answer.status_code == 200
    path = tmp_path / embedded_medium.FILE_NAME
    with closing(sqlite3.connect(path)) as file, file:
        file.execute("DELETE FROM meta WHERE key LIKE 'unique%'")  # as written before them
    reads = _counting_reads(monkeypatch)
    async with service(tmp_path):
        assert [r for r in reads if r.startswith("scan")] == []
    with closing(sqlite3.connect(path)) as file:
        keys = {row[0] for row in file.execute("SELECT key FROM meta")}
    assert {embedded_medium.UNIQUE_SINCE, "unique nxce.statements"} <= keys


@pytest.mark.usefixtures("compact_from_ten")
async def test_the_medium_vouches_for_its_unique_indexes_until_the_first_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = embedded_journal.open_client(tmp_path)
    try:
        await client["nxce"]["learners"].create_index("id_number", unique=True)
        await client["nxce"]["learners"].insert_many(
            [{"id_number": f"64010219800101{n:04d}", "region": "银川市"} for n in range(12)]
        )
    finally:
        embedded_journal.close_client(client)
    reads = _counting_reads(monkeypatch)
    client = embedded_journal.open_client(tmp_path)
    try:
        learners = client["nxce"]["learners"]
        assert type(learners._AsyncMongoMockCollection__collection._store._documents) is (
            CompactDocuments
        )
        await learners.create_index("id_number", unique=True)  # written under it: not read
        assert reads == []
        await learners.drop_index("id_number_1")
        duplicate = {"id_number": "640102198001010003", "region": "固原市"}
        await learners.insert_one(duplicate)  # no index now: taken
        reads.clear()
        with pytest.raises(DuplicateKeyError):
            await learners.create_index("id_number", unique=True)  # checked now
        assert "id_number_1" not in await learners.index_information()
        assert reads == ["scan nxce.learners"]
    finally:
        embedded_journal.close_client(client)
    client = embedded_journal.open_client(tmp_path)
    try:  # the dropped index is no longer vouched for after a restart either
        with pytest.raises(DuplicateKeyError):
            await client["nxce"]["learners"].create_index("id_number", unique=True)
    finally:
        embedded_journal.close_client(client)
