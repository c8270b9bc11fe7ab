"""`nxce store dump` / `nxce store load` against a real MongoDB (NXCE_MONGODB_URL): the
embedded store → an archive → MongoDB → an archive → a new embedded store gives the same
documents, their Extended JSON types (dates, ObjectIds, binary) kept, and the last
store reads 张伟's id number with the key the operator kept. Skipped without a server."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bson import json_util

from nxce.archive import JSON_OPTIONS
from tests.contract.conftest import require_mongodb
from tests.nxce import tiny_store
from tests.nxce.test_store_archive import nxce


def documents(archive: Path) -> dict[str, list[dict[str, Any]]]:
    """The documents of each collection of an archive that holds any, in file order."""
    read: dict[str, list[dict[str, Any]]] = {}
    for path in sorted(archive.glob("*.jsonl")):
        lines = path.read_text(encoding="utf-8").splitlines()
        if lines:
            read[path.stem] = [json_util.loads(text, json_options=JSON_OPTIONS) for text in lines]
    return read


def round_trip(tmp_path: Path, mongodb: dict[str, str]) -> None:
    """embedded → archive → MongoDB (`mongodb`: its NXCE_* variables) → archive → embedded."""
    source = tmp_path / "embedded"
    seen = tiny_store.build(source)
    key = (source / "secret.key").read_text(encoding="ascii").strip()
    first = tmp_path / "from-embedded"
    assert nxce(source, "store", "dump", str(first)).exit_code == 0

    # Into MongoDB, as the README says: the key given to every replica as NXCE_SECRET_KEY.
    elsewhere = tmp_path / "mongodb-host"  # that host's NXCE_DATA_DIR: no secret.key in it
    on_mongodb = {**mongodb, "NXCE_SECRET_KEY": key}
    loaded = nxce(elsewhere, "store", "load", str(first), **on_mongodb)
    assert loaded.exit_code == 0, loaded.output
    assert "MongoDB database" in loaded.output
    again = nxce(elsewhere, "store", "load", str(first), **on_mongodb)
    assert again.exit_code == 1 and "is not empty" in again.output  # nothing loaded twice

    second = tmp_path / "from-mongodb"
    dumped = nxce(elsewhere, "store", "dump", str(second), "--without-secret-key", **on_mongodb)
    assert dumped.exit_code == 0, dumped.output
    assert documents(second) == documents(first)
    text = (second / "statements.jsonl").read_text(encoding="utf-8")
    assert '"$date"' in text and '"$oid"' in text  # stored, and the record's ObjectId
    state = (second / "xapi_documents.jsonl").read_text(encoding="utf-8")
    assert '"$binary"' in state  # the State document's bytes ({"章节": 3})

    target = tmp_path / "embedded-again"
    back = nxce(target, "store", "load", str(second), NXCE_SECRET_KEY=key)
    assert back.exit_code == 0, back.output
    served = tiny_store.read_back(target, seen["activity"], secret_key=key)
    assert served == seen  # 张伟's id number read with the key


@pytest.fixture
def mongodb() -> Iterator[dict[str, str]]:
    url = require_mongodb()
    from pymongo import MongoClient

    name = f"nxce_contract_{uuid.uuid4().hex[:12]}"
    try:
        yield {"NXCE_MONGODB_URL": url, "NXCE_DATABASE": name}
    finally:
        client: MongoClient[dict[str, Any]] = MongoClient(url)
        client.drop_database(name)
        client.close()


def test_embedded_to_mongodb_and_back_keeps_every_document(
    tmp_path: Path, mongodb: dict[str, str]
) -> None:
    round_trip(tmp_path, mongodb)
