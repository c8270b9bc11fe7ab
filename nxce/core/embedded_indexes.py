"""The embedded store's indexes of a collection: value -> ids per indexed field, and the
ordered indexes of `embedded_ordered`.

A filter of equalities on an indexed field reads its candidates from here (the matcher
then checks them) instead of scanning the collection; unique-index checks on insert use
the same path. A filtered page sorted on an ordered index's field reads documents in
order until it has its page (`ordered_page`).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from typing import Any

from nxce.core.embedded_match import matcher_of
from nxce.core.embedded_ordered import Entries, OrderedIndex, declared

_NONE = object()
HashKeys = dict[str, list[Any] | None]
Keys = tuple[HashKeys, list[Entries]]  # what a document is indexed under


class HashIndexes:
    """value -> ids, per indexed field of one collection, plus each id's insertion order,
    and the collection's ordered indexes.

    Entries may be stale after an in-place update (mongomock updates documents in place),
    so updates mark the indexes dirty and the next lookup rebuilds them; a lookup only
    proposes candidates, which the matcher then checks.
    """

    def __init__(self) -> None:
        self.fields: tuple[str, ...] = ()
        self.ordered: list[OrderedIndex] = []
        self.by_value: dict[str, dict[Any, Any]] = {}  # value -> an id, or a set of ids
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
                _file(index, key, identifier)
        for ordered in self.ordered:
            ordered.add(identifier, ordered.entries(doc))

    def remove(self, doc: dict[str, Any]) -> None:
        self.order.pop(doc.get("_id"), None)
        self.remove_keys(doc.get("_id"), self.keys_of(doc))

    def keys_of(self, doc: dict[str, Any]) -> Keys:
        """What the document is indexed under now (to un-index it after it changes)."""
        return (
            {field: self._keys(doc, field) for field in self.fields},
            [ordered.entries(doc) for ordered in self.ordered],
        )

    def remove_keys(self, identifier: Any, keys: Keys) -> None:
        hashed, entries = keys
        for field, values in hashed.items():
            self.unhashable.get(field, set()).discard(identifier)
            index = self.by_value.get(field, {})
            for key in values or []:
                _unfile(index, key, identifier)
        for ordered, filed in zip(self.ordered, entries, strict=True):
            ordered.remove(identifier, filed)

    def reindex(self, doc: dict[str, Any], old: Keys) -> None:
        """Move a document changed in place from its old keys to its current ones."""
        self.remove_keys(doc.get("_id"), old)
        self.add(doc)

    def rebuild(self, store: Any, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.ordered = declared(store.indexes.values())
        self.by_value, self.unhashable, self.order = {}, {}, {}
        for doc in store._documents.values():
            self.add(doc)
        self.dirty = False

    def state(self) -> dict[str, Any]:
        """What `from_state` needs to stand for these indexes (see `embedded_snapshot`)."""
        return {
            "fields": self.fields,
            "ordered": [(o.prefix, o.field, o.postings, o.irregular) for o in self.ordered],
            "by_value": self.by_value,
            "unhashable": self.unhashable,
            "order": self.order,
            "next": max(self.order.values(), default=-1) + 1,
        }

    def adopt(self, state: dict[str, Any], store: Any, fields: tuple[str, ...]) -> bool:
        """Take `state` (from `state()`) as these indexes when it was built for the same
        indexed fields and ordered indexes as `store` declares now; False otherwise."""
        ordered = declared(store.indexes.values())
        shape = [(o.prefix, o.field) for o in ordered]
        if state["fields"] != fields or [(p, f) for p, f, _, _ in state["ordered"]] != shape:
            return False
        for index, (_, _, postings, irregular) in zip(ordered, state["ordered"], strict=True):
            index.postings, index.irregular = postings, irregular
        self.fields, self.ordered = fields, ordered
        self.by_value, self.unhashable = state["by_value"], state["unhashable"]
        self.order, self.counter = state["order"], itertools.count(state["next"])
        self.dirty = False
        return True

    def candidates(self, field: str, accepted: list[Any]) -> set[Any]:
        index = self.by_value.get(field, {})
        found = set(self.unhashable.get(field, set()))
        for value in accepted:
            found.update(ids(index, value))
        return found


def _file(index: dict[Any, Any], key: Any, identifier: Any) -> None:
    """File `identifier` under `key`: one id as it is (most keys of a unique field), a
    set of ids once there are two."""
    held = index.get(key, _NONE)
    if held is _NONE:
        index[key] = identifier
    elif type(held) is set:
        held.add(identifier)
    elif held != identifier:
        index[key] = {held, identifier}


def _unfile(index: dict[Any, Any], key: Any, identifier: Any) -> None:
    held = index.get(key, _NONE)
    if type(held) is set:
        held.discard(identifier)
        if not held:
            del index[key]
    elif held is not _NONE and held == identifier:
        del index[key]


def ids(index: dict[Any, Any], key: Any) -> Any:
    """The ids filed under `key` (a set, or a tuple of one or none)."""
    held = index.get(key, _NONE)
    if held is _NONE:
        return ()
    return held if type(held) is set else (held,)


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
        kept = getattr(store, "_nxce_kept", None)
        store._nxce_kept = None
        if kept is None or not indexes.adopt(kept, store, fields):
            indexes.rebuild(store, fields)
    return indexes


def keep(store: Any, state: dict[str, Any]) -> None:
    """Indexes of `store` as a snapshot kept them: used instead of a rebuild by the first
    lookup, unless the declared indexes differ by then (see `embedded_snapshot`)."""
    store._nxce_kept = state


def before_write(store: Any) -> None:
    """A write is about to change `store`: indexes kept from a snapshot are taken up now,
    while they still describe its documents (or dropped, when they cannot be)."""
    if getattr(store, "_nxce_kept", None) is not None:
        hash_indexes(store)


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


def _sort_key(sort: Any) -> tuple[str, int] | None:
    keys = list(sort.items()) if isinstance(sort, dict) else list(sort or [])
    if len(keys) != 1 or not isinstance(keys[0][0], str) or keys[0][1] not in (1, -1):
        return None
    return keys[0][0], keys[0][1]


def _usable(ordered: OrderedIndex, field: str, by_field: dict[str, Any]) -> list[list[Any]] | None:
    """The accepted values of each prefix field when `ordered` can answer the filter."""
    if ordered.field != field or ordered.irregular or isinstance(by_field.get(field), list):
        return None
    accepted: list[list[Any]] = []
    for prefix in ordered.prefix:
        values = by_field.get(prefix)
        if not isinstance(values, list):
            return None
        accepted.append(values)
    return accepted


def ordered_page(
    store: Any, conditions: list[tuple[str, Any]], sort: Any
) -> Iterator[dict[str, Any]] | None:
    """The matching documents in the order of a one-field sort, read lazily from the
    ordered index with the most prefix fields the filter fixes (equalities or `$in` on
    all of them; a range on the sort field); None when no ordered index answers."""
    wanted = _sort_key(sort)
    if wanted is None:
        return None
    field, direction = wanted
    indexes = hash_indexes(store)
    by_field = dict(conditions)
    best: tuple[OrderedIndex, list[list[Any]]] | None = None
    for ordered in indexes.ordered:
        accepted = _usable(ordered, field, by_field)
        if accepted is not None and (best is None or len(accepted) > len(best[1])):
            best = (ordered, accepted)
    if best is None:
        return None
    walk = best[0].walk(best[1], by_field.get(field) or {}, direction < 0)
    if walk is None:
        return None
    return _read(walk, indexes.by_value.get(field, {}), store._documents, conditions)


def _read(
    values: Iterator[Any],
    by_value: dict[Any, Any],
    documents: Any,
    conditions: list[tuple[str, Any]],
) -> Iterator[dict[str, Any]]:
    matches = matcher_of(conditions)
    for value in values:
        for identifier in ids(by_value, value):
            doc = documents.get(identifier)
            if doc is not None and matches(doc):
                yield doc
