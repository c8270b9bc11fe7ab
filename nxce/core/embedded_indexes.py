"""The embedded store's hash indexes: value -> ids per indexed field of a collection.

A filter of equalities on an indexed field reads its candidates from here (the matcher
then checks them) instead of scanning the collection; unique-index checks on insert use
the same path.
"""

from __future__ import annotations

import itertools
from typing import Any


class HashIndexes:
    """value -> ids, per indexed field of one collection, plus each id's insertion order.

    Entries may be stale after an in-place update (mongomock updates documents in place),
    so updates mark the indexes dirty and the next lookup rebuilds them; a lookup only
    proposes candidates, which the matcher then checks.
    """

    def __init__(self) -> None:
        self.fields: tuple[str, ...] = ()
        self.by_value: dict[str, dict[Any, set[Any]]] = {}
        self.unhashable: dict[str, set[Any]] = {}
        self.order: dict[Any, int] = {}
        self.counter = itertools.count()
        self.dirty = True

    def _keys(self, doc: dict[str, Any], field: str) -> list[Any] | None:
        value = doc.get(field)
        values = value if isinstance(value, list) else [value]
        try:
            for item in values:
                hash(item)
        except TypeError:
            return None
        return values

    def add(self, doc: dict[str, Any]) -> None:
        identifier = doc.get("_id")
        self.order.setdefault(identifier, next(self.counter))
        for field in self.fields:
            keys = self._keys(doc, field)
            if keys is None:
                self.unhashable.setdefault(field, set()).add(identifier)
                continue
            index = self.by_value.setdefault(field, {})
            for key in keys:
                index.setdefault(key, set()).add(identifier)

    def remove(self, doc: dict[str, Any]) -> None:
        self.order.pop(doc.get("_id"), None)
        self.remove_keys(doc.get("_id"), self.keys_of(doc))

    def keys_of(self, doc: dict[str, Any]) -> dict[str, list[Any] | None]:
        """What the document is indexed under now (to un-index it after it changes)."""
        return {field: self._keys(doc, field) for field in self.fields}

    def remove_keys(self, identifier: Any, keys: dict[str, list[Any] | None]) -> None:
        for field, values in keys.items():
            self.unhashable.get(field, set()).discard(identifier)
            for key in values or []:
                self.by_value.get(field, {}).get(key, set()).discard(identifier)

    def reindex(self, doc: dict[str, Any], old: dict[str, list[Any] | None]) -> None:
        """Move a document changed in place from its old keys to its current ones."""
        self.remove_keys(doc.get("_id"), old)
        self.add(doc)

    def rebuild(self, store: Any, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.by_value, self.unhashable, self.order = {}, {}, {}
        for doc in store._documents.values():
            self.add(doc)
        self.dirty = False

    def candidates(self, field: str, accepted: list[Any]) -> set[Any]:
        index = self.by_value.get(field, {})
        found = set(self.unhashable.get(field, set()))
        for value in accepted:
            found |= index.get(value, set())
        return found


def _indexed_fields(store: Any) -> tuple[str, ...]:
    fields = []
    for index in store.indexes.values():
        first = next(iter(index.get("key") or []), None)
        if first is not None and first[0] != "_id" and first[0] not in fields:
            fields.append(first[0])
    return ("_id", *fields)


def hash_indexes(store: Any) -> HashIndexes:
    indexes: HashIndexes | None = getattr(store, "_nxce_hash", None)
    if indexes is None:
        indexes = HashIndexes()
        store._nxce_hash = indexes
    fields = _indexed_fields(store)
    if indexes.dirty or indexes.fields != fields:
        indexes.rebuild(store, fields)
    return indexes


def candidates(store: Any, conditions: list[tuple[str, Any]]) -> list[dict[str, Any]] | None:
    """Documents that may match, in insertion order; None when no condition is indexed."""
    indexes = hash_indexes(store)
    best: set[Any] | None = None
    for field, accepted in conditions:
        if field in indexes.fields and isinstance(accepted, list):
            found = indexes.candidates(field, accepted)
            if best is None or len(found) < len(best):
                best = found
    if best is None:
        return None
    ordered = sorted(best, key=lambda i: indexes.order.get(i, 0))
    documents = store._documents
    return [documents[i] for i in ordered if i in documents]
