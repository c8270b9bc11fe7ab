"""Copies of an embedded store: one seeded store can start many independent services."""

from __future__ import annotations

import copy
from datetime import datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

from nxce.core.embedded_compact import compact_if_large

# What a copy of a document shares with the original: values nothing changes in place.
_SHARED = frozenset((str, int, float, bool, bytes, ObjectId, Decimal, datetime, type(None)))


def _copy_value(value: Any) -> Any:
    kind = type(value)
    if kind in _SHARED:
        return value
    if kind is dict:
        return {key: _copy_value(inner) for key, inner in value.items()}
    if kind is list:
        return [_copy_value(inner) for inner in value]
    return copy.deepcopy(value)


def _copy_document(document: dict[str, Any]) -> dict[str, Any]:
    return {
        field: value if type(value) in _SHARED else _copy_value(value)
        for field, value in document.items()
    }


def copied(client: Any) -> Any:
    """A new embedded store client holding a copy of every database of `client` (its
    documents and indexes; the hash indexes of `embedded_store` are rebuilt on first use):
    writes to one never reach the other."""
    from mongomock.store import ServerStore
    from mongomock_motor import AsyncMongoMockClient

    source, target = client._store, ServerStore()  # type: ignore[no-untyped-call]
    for database_name, database in source._databases.items():
        for name, collection in database._collections.items():
            twin = target[database_name][name]
            twin._documents.update(
                (key, _copy_document(document)) for key, document in collection._documents.items()
            )
            twin.indexes = {key: dict(index) for key, index in collection.indexes.items()}
            twin._ttl_indexes = {key: twin.indexes[key] for key in collection._ttl_indexes}
            twin._is_force_created = collection._is_force_created
            compact_if_large(twin)
    return AsyncMongoMockClient(tz_aware=client.codec_options.tz_aware, _store=target)
