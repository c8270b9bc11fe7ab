"""Partial unique indexes in the embedded store behave as MongoDB's: only the documents
the filter matches are in the index (learners' phone digests: most learners have none)."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo import ASCENDING, IndexModel
from pymongo.errors import DuplicateKeyError

from nxce.core import db
from nxce.settings import Settings

PARTIAL = IndexModel(
    [("phone", ASCENDING)],
    unique=True,
    name="phone_unique",
    partialFilterExpression={"phone": {"$type": "string"}},
)


def _collection(name: str) -> Any:
    client = db.connect(Settings(mongodb_url=None, embedded_in_memory=True))
    return client["t"][name]


async def test_documents_outside_the_filter_never_conflict() -> None:
    collection = _collection("partial")
    await collection.create_indexes([PARTIAL])
    info = await collection.index_information()
    assert info["phone_unique"]["partialFilterExpression"] == {"phone": {"$type": "string"}}
    await collection.insert_many([{"n": i, "phone": None} for i in range(20)])
    await collection.insert_many([{"n": 20 + i} for i in range(5)])  # no field at all
    await collection.insert_one({"n": 30, "phone": "13812345678"})
    with pytest.raises(DuplicateKeyError):
        await collection.insert_one({"n": 31, "phone": "13812345678"})
    with pytest.raises(DuplicateKeyError):
        await collection.update_one({"n": 3}, {"$set": {"phone": "13812345678"}})
    await collection.update_one({"n": 3}, {"$set": {"phone": "13912345678"}})
    await collection.update_one({"n": 30}, {"$set": {"phone": None}})  # leaves the index
    await collection.update_one({"n": 4}, {"$set": {"phone": "13812345678"}})
    assert await collection.count_documents({"phone": "13812345678"}) == 1


async def test_the_index_is_created_over_documents_without_the_field_but_not_duplicates() -> None:
    collection = _collection("existing")
    await collection.insert_many([{"n": i} for i in range(3)] + [{"n": 3, "phone": None}])
    await collection.create_indexes([PARTIAL])  # many without a phone: accepted
    duplicated = _collection("duplicated")
    await duplicated.insert_many([{"phone": "13812345678"}, {"phone": "13812345678"}])
    with pytest.raises(DuplicateKeyError):
        await duplicated.create_indexes([PARTIAL])
