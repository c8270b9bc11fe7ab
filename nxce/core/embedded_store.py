"""Speed-ups of mongomock for the embedded store; what queries answer is unchanged.

mongomock interprets every query against every document and copies whole results. The
embedded store serves a 4344-course catalog and a growing statement store, so:

1. a cursor copies only the page it returns (`skip`/`limit` applied before copying);
2. filters that are equalities or `$in` lists on top-level fields, with string, integer
   or null values, are matched by `equality_matcher` with MongoDB's semantics for them;
3. such filters on an indexed field read candidates from a hash index kept per collection
   (then check them with the matcher), instead of scanning; unique-index checks on insert
   use the same path, so inserting stays cheap as a collection grows;
4. a sort on top-level fields whose values are each all strings, all numbers or all
   datetimes is a plain (stable) sort instead of one comparison object per document;
5. results without a projection, or with one that includes top-level fields, are copied
   (and their datetimes made timezone-aware) in one pass, by `copy_results`;
6. `find_one` copies the one document it answers, and `distinct` on a top-level field
   copies that field only (mongomock copies every match for both).

`tests/nxce/test_db.py` checks these against mongomock's own behaviour (and, for booleans
against numbers, against MongoDB's, where mongomock differs).
"""

from __future__ import annotations

import copy
import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

Matcher = Callable[[dict[str, Any]], bool]
_SCALARS: tuple[type, ...] = (str, int, bool, ObjectId)
_IMMUTABLE: frozenset[type] = frozenset(
    {str, int, float, bool, bytes, ObjectId, Decimal, type(None)}
)  # copied as they are
_RANGES = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}
_patched = False


class _Ready(dict[str, Any]):
    """A result `copy_results` made: copied and timezone-aware already."""


def _copy_value(value: Any, aware: bool) -> Any:
    kind = type(value)
    if kind in _IMMUTABLE:  # most values: checked first
        return value
    if kind is dict:
        return {key: _copy_value(inner, aware) for key, inner in value.items()}
    if kind is list:
        return [_copy_value(inner, aware) for inner in value]
    if kind is datetime:
        return value.replace(tzinfo=UTC) if aware else value
    return copy.deepcopy(value)


def _simple_inclusion(fields: Any) -> tuple[set[str], bool] | None:
    """The top-level fields a projection includes and whether `_id` is kept, or None for
    any other projection (exclusions, dotted paths, operators)."""
    if not isinstance(fields, dict) or not fields:
        return None
    keep_id = True
    included = set()
    for field, flag in fields.items():
        if not isinstance(field, str) or "." in field or field.startswith("$"):
            return None
        if field == "_id":
            keep_id = bool(flag)
        elif flag is True or (type(flag) is int and flag == 1):
            included.add(field)
        else:
            return None
    return (included, keep_id) if included else None


def copy_results(
    docs: Iterable[dict[str, Any]], fields: Any, aware: bool
) -> Iterator[dict[str, Any]] | None:
    """`docs` as a query answers them (projected, copied, datetimes in UTC when `aware`),
    or None when the projection is one only mongomock applies."""
    if fields is None:
        return (_Ready(_copy_value(doc, aware)) for doc in docs)
    simple = _simple_inclusion(fields)
    if simple is None:
        return None
    included, keep_id = simple
    return (_project(doc, included, keep_id, aware) for doc in docs)


def _project(doc: dict[str, Any], included: set[str], keep_id: bool, aware: bool) -> _Ready:
    return _Ready(
        {
            key: _copy_value(value, aware)
            for key, value in doc.items()
            if key in included or (key == "_id" and keep_id)
        }
    )


def _scalar(value: Any) -> bool:
    return value is None or type(value) in _SCALARS


def _equal(actual: Any, wanted: Any) -> bool:
    # MongoDB never equates a boolean with a number; Python does (True == 1).
    return bool(actual == wanted) and isinstance(actual, bool) == isinstance(wanted, bool)


def _matches_value(actual: Any, wanted: Any) -> bool:
    if actual == wanted and (type(wanted) is str or _equal(actual, wanted)):
        return True
    return isinstance(actual, list) and any(_equal(item, wanted) for item in actual)


def _is_number(value: Any) -> bool:
    return type(value) in (int, float)


def _conditions(filter: Any) -> list[tuple[str, Any]] | None:
    """[(field, accepted values or a range)] for filters made of `{f: v}`,
    `{f: {"$in": [...]}}` and `{f: {"$gt"/"$gte"/"$lt"/"$lte": number, ...}}`, else None.
    A range is a dict of operators; accepted values are a list."""
    if not isinstance(filter, dict) or not filter:
        return None
    conditions: list[tuple[str, Any]] = []
    for field, value in filter.items():
        if not isinstance(field, str) or field.startswith("$") or "." in field:
            return None
        if isinstance(value, dict):
            if list(value) == ["$in"] and isinstance(value["$in"], list | tuple):
                accepted = list(value["$in"])
                if not all(_scalar(v) for v in accepted):
                    return None
                conditions.append((field, accepted))
            elif value and all(op in _RANGES and _is_number(v) for op, v in value.items()):
                conditions.append((field, dict(value)))
            else:
                return None
        elif _scalar(value):
            conditions.append((field, [value]))
        else:
            return None
    return conditions


def _in_range(actual: Any, bounds: dict[str, Any]) -> bool:
    """MongoDB compares numbers only with numbers (arrays: any element in range)."""
    values = actual if isinstance(actual, list) else [actual]
    return any(
        _is_number(v) and all(_RANGES[op](v, bound) for op, bound in bounds.items()) for v in values
    )


def equality_matcher(filter: Any) -> Matcher | None:
    """A fast matcher for equality and `$in` filters with str/int/bool/None values and
    numeric ranges, else None.

    MongoDB semantics: a missing field equals null; an array field matches when it equals
    the value or one of its elements does; booleans are not numbers; ranges compare
    numbers with numbers only.
    """
    conditions = _conditions(filter)
    return None if conditions is None else _matcher(conditions)


def _matcher(conditions: list[tuple[str, Any]]) -> Matcher:
    def matches(doc: dict[str, Any]) -> bool:
        for field, accepted in conditions:
            actual = doc.get(field)
            if isinstance(accepted, dict):
                if not _in_range(actual, accepted):
                    return False
            elif not any(_matches_value(actual, wanted) for wanted in accepted):
                return False
        return True

    return matches


def _sortable(values: list[Any]) -> bool:
    """Values of one type MongoDB and Python order alike: strings (by code point, which is
    MongoDB's UTF-8 byte order without collation), numbers, or datetimes of one kind."""
    kinds = {type(v) for v in values}
    if kinds <= {str} or kinds <= {int, float}:
        return True
    if kinds == {datetime}:
        return len({v.tzinfo is None for v in values}) <= 1
    return False


def sorted_by_keys(docs: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]] | None:
    """`docs` sorted as MongoDB would by top-level keys whose values each have one sortable
    type (see `_sortable`), else None."""
    if not sort:
        return docs
    keys = list(sort.items()) if isinstance(sort, dict) else list(sort)
    for field, _ in keys:
        if not isinstance(field, str) or "." in field or field.startswith("$"):
            return None
    columns = [[doc.get(field) for doc in docs] for field, _ in keys]
    if not all(_sortable(column) for column in columns):
        return None
    order = list(range(len(docs)))
    for (_, direction), column in reversed(list(zip(keys, columns, strict=True))):
        order.sort(key=column.__getitem__, reverse=direction < 0)  # stable, so keys nest
    return [docs[i] for i in order]


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


def _hash_indexes(store: Any) -> HashIndexes:
    indexes: HashIndexes | None = getattr(store, "_nxce_hash", None)
    if indexes is None:
        indexes = HashIndexes()
        store._nxce_hash = indexes
    fields = _indexed_fields(store)
    if indexes.dirty or indexes.fields != fields:
        indexes.rebuild(store, fields)
    return indexes


def _candidates(store: Any, conditions: list[tuple[str, Any]]) -> list[dict[str, Any]] | None:
    """Documents that may match, in insertion order; None when no condition is indexed."""
    indexes = _hash_indexes(store)
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


def speed_up() -> None:
    """Patch mongomock once (idempotent)."""
    global _patched
    if _patched:
        return
    _patch_cursor()
    _patch_queries()
    _patch_single_reads()
    _patch_updates()
    _patch_collection_store()
    _patched = True


def _patch_cursor() -> None:
    """Cursors keep the window of results they read (a skip and limit read only it)."""
    import mongomock.collection as mc
    from mongomock import helpers

    _make_aware: Callable[[Any], Any] = helpers.make_datetime_timezone_aware_in_document

    def _aware(documents: Iterator[Any], tz_aware: bool) -> list[Any]:
        if not tz_aware:
            return list(documents)
        return [d if type(d) is _Ready else _make_aware(d) for d in documents]

    def _compute_results(self: Any, with_limit_and_skip: bool = False) -> list[Any]:
        tz_aware = self.collection.codec_options.tz_aware
        if not with_limit_and_skip or (self._skip == 0 and not self._limit):
            if not self._results or self._factory_last_generated_results != self._factory:
                self._results = _aware(self._factory(), tz_aware)
                self._factory_last_generated_results = self._factory
            # Every caller only reads it (by index, or its length): a copy for each
            # document a cursor yields made reading n documents O(n²).
            results: list[Any] = self._results
            return results
        key = (self._factory, self._skip, self._limit)
        cached = getattr(self, "_nxce_window", None)
        if cached is None or cached[0] != key:
            stop = None if not self._limit else self._skip + abs(self._limit)
            window = _aware(itertools.islice(self._factory(), self._skip, stop), tz_aware)
            cached = self._nxce_window = (key, window)
        return cached[1]

    mc.Cursor._compute_results = _compute_results  # type: ignore[method-assign]


def _patch_queries() -> None:
    """Queries read candidates from the hash indexes and copy only what they return."""
    import mongomock.collection as mc

    original_iter: Callable[..., Any] = mc.Collection._iter_documents
    original_dataset: Callable[..., Any] = mc.Collection._get_dataset

    def _iter_documents(self: Any, filter: Any) -> Iterator[dict[str, Any]]:
        conditions = _conditions(filter)
        if conditions is None:
            return original_iter(self, filter)  # type: ignore[no-any-return]
        matcher = _matcher(conditions)
        candidates = _candidates(self._store, conditions)
        if candidates is None:
            candidates = list(self._store.documents)
        return (doc for doc in candidates if matcher(doc))

    def _get_dataset(self: Any, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
        ordered = sorted_by_keys(list(self._iter_documents(spec)), sort)
        if ordered is None:
            yield from original_dataset(self, spec, sort, fields, as_class)
            return
        copied = (
            copy_results(ordered, fields, self.codec_options.tz_aware) if as_class is dict else None
        )
        if copied is None:
            copied = (self._copy_only_fields(doc, fields, as_class) for doc in ordered)
        yield from copied

    mc.Collection._iter_documents = _iter_documents  # type: ignore[method-assign]
    mc.Collection._get_dataset = _get_dataset  # type: ignore[method-assign]


def _patch_single_reads() -> None:
    """`find_one` reads one document, as pymongo's does (a limit of -1); `distinct` on a
    top-level field reads that field only."""
    import mongomock.collection as mc

    original_distinct: Callable[..., Any] = mc.Collection.distinct

    def find_one(self: Any, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        filter = {"_id": filter} if not isinstance(filter, Mapping | None) else filter or {}
        return next(iter(self.find(filter, *args, **kwargs).limit(-1)), None)

    def distinct(self: Any, key: Any, filter: Any = None, session: Any = None) -> Any:
        if session or type(key) is not str or "." in key or key.startswith("$"):
            return original_distinct(self, key, filter, session)
        return self.find(filter, {key: 1}).distinct(key)

    mc.Collection.find_one = find_one  # type: ignore[method-assign]
    mc.Collection.distinct = distinct  # type: ignore[method-assign]


def _patch_updates() -> None:
    """Updates move the documents they change to their new index keys."""
    import mongomock.collection as mc
    import mongomock.helpers as mh

    original_update: Callable[..., Any] = mc.Collection._update
    original_uniques: Callable[..., Any] = mc.Collection._ensure_uniques

    def _update(self: Any, spec: Any, *args: Any, **kwargs: Any) -> Any:
        # Documents change in place. Remember how the documents the update may touch are
        # indexed, and move them to their new keys: in the unique checks during the
        # update (see _ensure_uniques), and after it.
        indexes = getattr(self._store, "_nxce_hash", None)
        if indexes is None or indexes.dirty:
            try:  # the update's own lookup may build the indexes, which it then outdates
                return original_update(self, spec, *args, **kwargs)
            finally:
                built = getattr(self._store, "_nxce_hash", None)
                if built is not None:
                    built.dirty = True
        # As mongomock's update does: stored datetimes are naive UTC, so must the spec's be
        # (a filter comparing a date, as a lease's expiry, would else raise TypeError).
        lookup = mh.patch_datetime_awareness_in_document(spec)  # type: ignore[no-untyped-call]
        touched = {doc.get("_id"): indexes.keys_of(doc) for doc in self._iter_documents(lookup)}
        self._nxce_touched = touched
        try:
            return original_update(self, spec, *args, **kwargs)
        finally:
            self._nxce_touched = None
            documents = self._store._documents
            for identifier, old in touched.items():
                if identifier in documents:
                    indexes.reindex(documents[identifier], old)
                else:
                    indexes.remove_keys(identifier, old)

    def _ensure_uniques(self: Any, new_data: Any) -> Any:
        touched = getattr(self, "_nxce_touched", None)
        indexes = getattr(self._store, "_nxce_hash", None)
        if touched and indexes is not None and new_data.get("_id") in touched:
            indexes.reindex(new_data, touched[new_data.get("_id")])
        return original_uniques(self, new_data)

    mc.Collection._update = _update  # type: ignore[method-assign]
    mc.Collection._ensure_uniques = _ensure_uniques  # type: ignore[method-assign]


def _patch_collection_store() -> None:
    """A collection's documents keep its hash indexes current as they come and go."""
    from mongomock.store import CollectionStore

    original_set: Callable[..., Any] = CollectionStore.__setitem__
    original_del: Callable[..., Any] = CollectionStore.__delitem__
    original_drop: Callable[..., Any] = CollectionStore.drop
    original_create_index: Callable[..., Any] = CollectionStore.create_index

    def set_item(self: Any, key: Any, value: Any) -> None:
        indexes = getattr(self, "_nxce_hash", None)
        if indexes is not None and not indexes.dirty:
            previous = self._documents.get(key)
            if previous is not None:
                indexes.remove(previous)
        original_set(self, key, value)
        if indexes is not None and not indexes.dirty:
            indexes.add(value)

    def del_item(self: Any, key: Any) -> None:
        indexes = getattr(self, "_nxce_hash", None)
        if indexes is not None and not indexes.dirty and key in self._documents:
            indexes.remove(self._documents[key])
        original_del(self, key)

    def drop(self: Any) -> None:
        original_drop(self)
        self._nxce_hash = None

    def create_index(self: Any, index_name: str, index_dict: Any) -> None:
        original_create_index(self, index_name, index_dict)
        indexes = getattr(self, "_nxce_hash", None)
        if indexes is not None:
            indexes.dirty = True

    CollectionStore.__setitem__ = set_item  # type: ignore[method-assign]
    CollectionStore.__delitem__ = del_item  # type: ignore[method-assign]
    CollectionStore.drop = drop  # type: ignore[method-assign]
    CollectionStore.create_index = create_index  # type: ignore[method-assign]
