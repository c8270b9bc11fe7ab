"""A large collection of the embedded store is held as BSON and answers what a collection
of dicts answers: inserts, in-place updates (voiding), unique indexes, queries, and a
restart from the medium."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import mongomock
import pytest
from mongomock import DuplicateKeyError

from nxce.core import embedded_compact, embedded_store
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
