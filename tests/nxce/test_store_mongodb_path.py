"""The MongoDB side of `nxce store dump` / `load` (indexes built before the load, the
source named `mongodb`, the key from NXCE_SECRET_KEY) run here on mongomock posing as the
server: tests/contract/test_archive_mongodb.py runs the same round trip on a real MongoDB
when NXCE_MONGODB_URL is set. What the mock cannot show: MongoDB's own type and order
handling (`_id` first, int32 / int64), its index builds and its batch limits."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from nxce.core import db
from tests.contract.test_archive_mongodb import round_trip

POSING = "mongodb://mongomock.invalid:27017"


@pytest.fixture
def mongodb(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """NXCE_* naming a "MongoDB" that is one mongomock client for the whole test."""
    from mongomock_motor import AsyncMongoMockClient

    server = AsyncMongoMockClient(tz_aware=True)
    connect, prepare = db.connect, db.prepare

    def posing_connect(settings: Any) -> Any:
        return server if settings.mongodb_url == POSING else connect(settings)

    async def posing_prepare(client: Any, settings: Any) -> None:
        if client is server:  # mongomock has no `hello`: a standalone server, then
            return await prepare(client, settings.model_copy(update={"mongodb_url": None}))
        return await prepare(client, settings)

    monkeypatch.setattr(db, "connect", posing_connect)
    monkeypatch.setattr(db, "prepare", posing_prepare)
    return {"NXCE_MONGODB_URL": POSING, "NXCE_DATABASE": "nxce_moved"}


def test_embedded_to_the_mongodb_code_path_and_back_keeps_every_document(
    tmp_path: Path, mongodb: dict[str, str]
) -> None:
    round_trip(tmp_path, mongodb)
