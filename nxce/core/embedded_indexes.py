"""The embedded store's indexes of a collection: value -> ids per indexed field, and the
ordered indexes of `embedded_ordered`.

A filter of equalities on an indexed field reads its candidates from here (the matcher
then checks them) instead of scanning the collection; unique-index checks on insert use
the same path. A filtered page sorted on an ordered index's field reads documents in
order until it has its page (`ordered_page`).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from typing import Any

from nxce.core.embedded_match import matcher_of
from nxce.core.embedded_ordered import Entries, OrderedIndex, declared

_NONE = object()
HashKeys = dict[str, list[Any] | None]
Keys = tuple[HashKeys, list[Entries]]  # what a document is indexed under
Scope = tuple[tuple[str, ...], frozenset[int]]  # indexed fields, positions of ordered indexes


class HashIndexes:
    """value -> slots, per indexed field of one collection, and its ordered indexes.

    Each document is filed under a slot: a small integer given in insertion order
    (`slots`: id -> slot, `at`: slot -> id, None once the document is gone), so the sets
    of the indexes hold integers (cheap to hash, to copy and to keep in a snapshot) and a
    set of candidates sorted is in insertion order.

    Entries may be stale after an in-place update (mongomock updates documents in place),
    so updates mark the indexes dirty and the next lookup rebuilds them; a lookup only
    proposes candidates, which the matcher then checks.
    """

    def __init__(self) -> None:
        self.fields: tuple[str, ...] = ()
        self.ordered: list[OrderedIndex] = []
        self.by_value: dict[str, dict[Any, Any]] = {}  # value -> a slot, or a set of slots
        self.unhashable: dict[str, set[int]] = {}
        self.slots: dict[Any, int] = {}
        self.at: list[Any] = []
        self.dirty = True
        self.generation = 0  # a rebuild or an adoption makes all slots new
        self._scopes: dict[frozenset[str], Scope] = {}  # fields set -> indexes they move

    def _keys(self, doc: dict[str, Any], field: str) -> list[Any] | None:
        value = doc.get(field)
        values = value if isinstance(value, list) else [value]
        try:
            for item in values:
                hash(item)
        except TypeError:
            return None
        return values

    def slot_of(self, identifier: Any) -> int:
        """The document's slot (a new one, last in order, for a document not filed)."""
        slot = self.slots.get(identifier)
        if slot is None:
            slot = self.slots[identifier] = len(self.at)
            self.at.append(identifier)
        return slot

    def add(self, doc: dict[str, Any]) -> None:
        slot = self.slot_of(doc.get("_id"))
        for field in self.fields:
            keys = self._keys(doc, field)
            if keys is None:
                self.unhashable.setdefault(field, set()).add(slot)
                continue
            index = self.by_value.setdefault(field, {})
            for key in keys:
                _file(index, key, slot)
        for ordered in self.ordered:
            ordered.add(slot, ordered.entries(doc))

    def remove(self, doc: dict[str, Any]) -> None:
        identifier = doc.get("_id")
        self.remove_keys(identifier, self.keys_of(doc))
        slot = self.slots.pop(identifier, None)
        if slot is not None:
            self.at[slot] = None

    def keys_of(self, doc: dict[str, Any], scope: Scope | None = None) -> Keys:
        """What the document is indexed under now (to un-index it after it changes); with
        `scope`, under those indexes only (the ordered ones not in it are None)."""
        if scope is None:
            return (
                {field: self._keys(doc, field) for field in self.fields},
                [ordered.entries(doc) for ordered in self.ordered],
            )
        fields, positions = scope
        return (
            {field: self._keys(doc, field) for field in fields},
            [
                self.ordered[i].entries(doc) if i in positions else None
                for i in range(len(self.ordered))
            ],
        )

    def scope(self, changed: frozenset[str]) -> Scope:
        """The indexes an update setting the top-level fields `changed` can move a document
        under: those naming one of them (or a field within one)."""
        known = self._scopes.get(changed)
        if known is None:

            def touches(field: str) -> bool:
                return field.partition(".")[0] in changed

            fields = tuple(f for f in self.fields if touches(f))
            positions = frozenset(
                i
                for i, o in enumerate(self.ordered)
                if touches(o.field) or any(touches(f) for f in o.prefix)
            )
            known = self._scopes[changed] = (fields, positions)
        return known

    def remove_keys(self, identifier: Any, keys: Keys) -> None:
        slot = self.slots.get(identifier)
        if slot is None:
            return
        hashed, entries = keys
        for field, values in hashed.items():
            self.unhashable.get(field, set()).discard(slot)
            index = self.by_value.get(field, {})
            for key in values or []:
                _unfile(index, key, slot)
        for ordered, filed in zip(self.ordered, entries, strict=True):
            ordered.remove(slot, filed)

    def reindex(self, doc: dict[str, Any], old: Keys, scope: Scope | None = None) -> None:
        """Move a document changed in place from its old keys (`keys_of(doc, scope)` before
        the change) to its current ones: only under the indexes whose keys changed (an
        update usually sets a field or two, as `projected`, which few indexes hold); with
        `scope`, only the indexes an update of those fields can change are looked at."""
        slot = self.slots.get(doc.get("_id"))
        if slot is None:
            self.add(doc)
            return
        hashed, entries = old
        fields, positions = scope if scope is not None else (self.fields, None)
        for field in fields:
            keys = self._keys(doc, field)
            was = hashed.get(field, _NONE)
            if keys == was and keys is not None:
                continue
            unhashable = self.unhashable.get(field)
            if unhashable is not None:
                unhashable.discard(slot)
            index = self.by_value.setdefault(field, {})
            for key in was if isinstance(was, list) else []:
                _unfile(index, key, slot)
            if keys is None:
                self.unhashable.setdefault(field, set()).add(slot)
                continue
            for key in keys:
                _file(index, key, slot)
        for i, (ordered, filed) in enumerate(zip(self.ordered, entries, strict=True)):
            if positions is not None and i not in positions:
                continue
            now = ordered.entries(doc)
            if now == filed and now is not None:
                continue
            ordered.remove(slot, filed)
            ordered.add(slot, now)

    def purge(self, gone: set[int]) -> None:
        """Take the slots `gone` out of every index without their documents (one pass
        over the indexes: a snapshot's documents changed since, see `embedded_snapshot`);
        the slots stay given."""
        if not gone:
            return
        sort_fields = {ordered.field for ordered in self.ordered}
        values: dict[str, set[Any]] = {}
        for field, index in self.by_value.items():
            dropped = [
                key
                for key, held in index.items()
                if (not held.isdisjoint(gone) if type(held) is set else held in gone)
            ]
            deleted = set()
            for key in dropped:
                held = index[key]
                if type(held) is set:
                    held -= gone
                    if held:
                        continue
                del index[key]
                deleted.add(key)
            if field in sort_fields:
                values[field] = deleted
        for held in self.unhashable.values():
            held -= gone
        for ordered in self.ordered:
            ordered.purge(gone, values.get(ordered.field, set()))

    def rebuild(self, store: Any, fields: tuple[str, ...]) -> None:
        self.fields = fields
        self.ordered = declared(store.indexes.values())
        self.by_value, self.unhashable, self.slots, self.at = {}, {}, {}, []
        self._scopes = {}
        self.generation += 1
        for doc in store._documents.values():
            self.add(doc)
        self.dirty = False

    def shape(self) -> tuple[tuple[str, ...], list[tuple[tuple[str, ...], str]]]:
        """The indexed fields and the ordered indexes (prefix, sort field)."""
        return self.fields, [(o.prefix, o.field) for o in self.ordered]

    def adopt(self, kept: HashIndexes, store: Any, fields: tuple[str, ...]) -> bool:
        """Take `kept` (read from a snapshot) as these indexes when it was built for the
        same indexed fields and ordered indexes as `store` declares now; False otherwise."""
        ordered = declared(store.indexes.values())
        if kept.shape() != (fields, [(o.prefix, o.field) for o in ordered]):
            return False
        for index, taken in zip(ordered, kept.ordered, strict=True):
            index.postings, index.irregular = taken.postings, taken.irregular
        self.fields, self.ordered = fields, ordered
        self.by_value, self.unhashable = kept.by_value, kept.unhashable
        self.slots, self.at = kept.slots, kept.at
        self._scopes = {}
        self.generation += 1
        self.dirty = False
        return True

    def candidates(self, field: str, accepted: list[Any]) -> set[int]:
        """The slots of the documents that may match."""
        index = self.by_value.get(field, {})
        found = set(self.unhashable.get(field, set()))
        for value in accepted:
            found.update(ids(index, value))
        return found


def _file(index: dict[Any, Any], key: Any, slot: int) -> None:
    """File `slot` under `key`: one slot as it is (most keys of a unique field), a set of
    slots once there are two."""
    held = index.get(key, _NONE)
    if held is _NONE:
        index[key] = slot
    elif type(held) is set:
        held.add(slot)
    elif held != slot:
        index[key] = {held, slot}


def _unfile(index: dict[Any, Any], key: Any, slot: int) -> None:
    held = index.get(key, _NONE)
    if type(held) is set:
        held.discard(slot)
        if not held:
            del index[key]
    elif held is not _NONE and held == slot:
        del index[key]


def ids(index: dict[Any, Any], key: Any) -> Any:
    """The slots filed under `key` (a set, or a tuple of one or none)."""
    held = index.get(key, _NONE)
    if held is _NONE:
        return ()
    return held if type(held) is set else (held,)


def _indexed_fields(store: Any) -> tuple[str, ...]:
    """The first fields of the collection's indexes; read once per set of index names
    (every lookup asks)."""
    names = tuple(store.indexes)
    cached = getattr(store, "_nxce_fields", None)
    if cached is not None and cached[0] == names:
        return cached[1]  # type: ignore[no-any-return]
    fields = []
    for index in store.indexes.values():
        first = next(iter(index.get("key") or []), None)
        if first is not None and first[0] != "_id" and first[0] not in fields:
            fields.append(first[0])
    found = ("_id", *fields)
    store._nxce_fields = (names, found)
    return found


def hash_indexes(store: Any) -> HashIndexes:
    indexes: HashIndexes | None = getattr(store, "_nxce_hash", None)
    if indexes is None:
        indexes = HashIndexes()
        store._nxce_hash = indexes
    fields = _indexed_fields(store)
    if indexes.dirty or indexes.fields != fields:
        kept: Kept | None = getattr(store, "_nxce_kept", None)
        store._nxce_kept = None
        if kept is not None and indexes.adopt(kept.indexes, store, fields):
            kept.catch_up(indexes, store._documents)
        else:
            indexes.rebuild(store, fields)
    return indexes


@dataclass
class Kept:
    """A collection's indexes as a snapshot kept them, and the ids of the documents
    written or deleted since (their entries there may be out of date)."""

    indexes: HashIndexes
    changed: list[Any] = dataclass_field(default_factory=list)

    def catch_up(self, indexes: HashIndexes, documents: Any) -> None:
        """Move the changed documents in `indexes` (adopted from these) to what they are
        now: out of every index, then filed again as they are (or let go, if gone)."""
        slots = indexes.slots
        indexes.purge({slots[i] for i in self.changed if i in slots})
        for identifier in self.changed:
            doc = documents.get(identifier)
            if doc is not None:
                if identifier not in slots:
                    # Written while the snapshot was taken: its sort values may be there.
                    for ordered in indexes.ordered:
                        ordered.remove(-1, ordered.entries(doc))
                indexes.add(doc)
            elif (slot := slots.pop(identifier, None)) is not None:
                indexes.at[slot] = None


def keep(store: Any, kept: Kept) -> None:
    """Indexes of `store` as a snapshot kept them: used instead of a rebuild by the first
    lookup, unless the declared indexes differ by then (see `embedded_snapshot`)."""
    store._nxce_kept = kept


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
    at, documents = indexes.at, store._documents
    chosen = (at[slot] for slot in sorted(best))
    return [documents[i] for i in chosen if i is not None and i in documents]


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
    return _read(walk, indexes, field, store._documents, conditions)


def _read(
    values: Iterator[Any],
    indexes: HashIndexes,
    field: str,
    documents: Any,
    conditions: list[tuple[str, Any]],
) -> Iterator[dict[str, Any]]:
    matches = matcher_of(conditions)
    for value in values:
        for slot in ids(indexes.by_value.get(field, {}), value):
            identifier = indexes.at[slot]
            doc = None if identifier is None else documents.get(identifier)
            if doc is not None and matches(doc):
                yield doc


def current(store: Any) -> HashIndexes | None:
    """`store`'s indexes when they are built and current (those kept by a snapshot taken
    up first); None otherwise. Never reads every document (see `embedded_snapshot`)."""
    indexes: HashIndexes | None = getattr(store, "_nxce_hash", None)
    kept: Kept | None = getattr(store, "_nxce_kept", None)
    fields = _indexed_fields(store)
    if kept is not None:
        store._nxce_kept = None
        indexes = store._nxce_hash = indexes or HashIndexes()
        if not indexes.adopt(kept.indexes, store, fields):
            indexes.dirty = True
            return None
        kept.catch_up(indexes, store._documents)
    if indexes is None or indexes.dirty or indexes.fields != fields:
        return None
    return indexes
