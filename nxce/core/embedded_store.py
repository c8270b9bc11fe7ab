"""Speed-ups of mongomock for the embedded store; what queries answer is unchanged.

mongomock interprets every query against every document and copies whole results. The
embedded store serves a 4344-course catalog and a growing statement store, so:

1. a cursor copies only the page it returns (`skip`/`limit` applied before copying);
2. filters that are equalities or `$in` lists on top-level fields, with string, integer
   or null values, are matched by `embedded_match.equality_matcher` with MongoDB's semantics
   for them;
3. such filters on an indexed field read candidates from a hash index kept per collection
   (`embedded_indexes`), then check them with the matcher, instead of scanning;
   unique-index checks on insert use the same path, so inserting stays cheap;
4. a sort on top-level fields whose values are each all strings, all numbers or all
   datetimes is a plain (stable) sort (`embedded_match.sorted_by_keys`) instead of one
   comparison object per document;
5. results without a projection, or with one that includes top-level fields, are copied
   (and their datetimes made timezone-aware) in one pass, by `embedded_results.copy_results`;
6. `find_one` copies the one document it answers, and `distinct` on a top-level field
   copies that field only (mongomock copies every match for both);
7. a filtered page sorted on the last field of a declared compound index is read in
   order from an ordered index (`embedded_ordered`), O(page) documents, not every match;
8. a large collection holds its documents as BSON, or leaves them on the medium
   (`embedded_compact`);
9. reads a request repeats on data that seldom changes (a client by its key, the
   statement counter) may be kept until the collection's next write (`memo`).

`tests/nxce/core/test_db.py` checks these against mongomock's own behaviour (and, for
booleans against numbers, against MongoDB's, where mongomock differs).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from nxce.core import embedded_partial, embedded_unique, embedded_updates
from nxce.core.embedded_compact import CompactDocuments, compact_if_large, write_back
from nxce.core.embedded_indexes import before_write, hash_indexes, ordered_page
from nxce.core.embedded_indexes import candidates as _candidates
from nxce.core.embedded_match import conditions_of, equalities_of, matcher_of, sorted_by_keys
from nxce.core.embedded_results import Ready, copy_results

_patched = False


def speed_up() -> None:
    """Patch mongomock once (idempotent)."""
    global _patched
    if _patched:
        return
    embedded_partial.patch()  # first: the unique checks below wrap its own
    _patch_datetime_awareness()
    _patch_cursor()
    _patch_queries()
    _patch_single_reads()
    embedded_updates.speed_up()  # first: the update patch wraps it
    _patch_updates()
    _patch_collection_store()
    _patch_index_creation()
    _patched = True


_LEAVES = frozenset((str, int, float, bool, type(None), bytes))
original_awareness: Callable[[Any], Any] | None = None  # mongomock's, once replaced


def _patch_datetime_awareness() -> None:
    """mongomock makes every datetime of a document naive UTC, to the millisecond, on each
    insert, update and query, by walking the whole document with an `isinstance` chain
    per value: 6 % of a batch's ingestion. The same walk, with the commonest values (plain
    dicts and lists of strings and numbers) taken by their exact type first; anything else
    goes to mongomock's own function, which answers as before."""
    from bson import ObjectId
    from mongomock import helpers

    global original_awareness
    original: Callable[[Any], Any] = helpers.patch_datetime_awareness_in_document
    original_awareness = original
    leaves = _LEAVES | {ObjectId}

    def patch(value: Any) -> Any:
        kind = type(value)
        if kind in leaves:
            return value
        if kind is dict:
            return {k: patch(v) for k, v in value.items()}
        if kind is list:
            return [patch(v) for v in value]
        return original(value)  # its recursion calls this one again (the module's name)

    helpers.patch_datetime_awareness_in_document = patch


def _patch_cursor() -> None:
    """Cursors keep the window of results they read (a skip and limit read only it)."""
    import mongomock.collection as mc
    from mongomock import helpers

    _make_aware: Callable[[Any], Any] = helpers.make_datetime_timezone_aware_in_document

    def _aware(documents: Iterator[Any], tz_aware: bool) -> list[Any]:
        if not tz_aware:
            return list(documents)
        return [d if type(d) is Ready else _make_aware(d) for d in documents]

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
    from mongomock import filtering

    original_iter: Callable[..., Any] = mc.Collection._iter_documents
    original_dataset: Callable[..., Any] = mc.Collection._get_dataset

    def _iter_documents(self: Any, filter: Any) -> Iterator[dict[str, Any]]:
        conditions = conditions_of(filter)
        if conditions is None:
            # Another filter: candidates from its equalities where one is indexed, each
            # checked by mongomock (a datetime range beside `projected: false`).
            equalities = equalities_of(filter)
            proposed = _candidates(self._store, equalities) if equalities else None
            if proposed is None:
                return original_iter(self, filter)  # type: ignore[no-any-return]
            applies: Callable[[Any, Any], bool] = filtering.filter_applies
            return (doc for doc in proposed if applies(filter, doc))
        matcher = matcher_of(conditions)
        candidates = _candidates(self._store, conditions)
        if candidates is None:
            candidates = list(self._store.documents)
        return (doc for doc in candidates if matcher(doc))

    def _get_dataset(self: Any, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
        conditions = conditions_of(spec)
        page = None if conditions is None else ordered_page(self._store, conditions, sort)
        ordered: Iterable[dict[str, Any]] | None = page
        if ordered is None:
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
    top-level field reads that field only; `estimated_document_count` is the size of the
    collection (as MongoDB's, from its metadata), not a count of every document matched
    against an empty filter."""
    import mongomock.collection as mc

    original_distinct: Callable[..., Any] = mc.Collection.distinct

    def find_one(self: Any, filter: Any = None, *args: Any, **kwargs: Any) -> Any:
        filter = {"_id": filter} if not isinstance(filter, Mapping | None) else filter or {}
        return next(iter(self.find(filter, *args, **kwargs).limit(-1)), None)

    def distinct(self: Any, key: Any, filter: Any = None, session: Any = None) -> Any:
        if session or type(key) is not str or "." in key or key.startswith("$"):
            return original_distinct(self, key, filter, session)
        return self.find(filter, {key: 1}).distinct(key)

    def estimated_document_count(self: Any, **kwargs: Any) -> int:
        if kwargs.pop("session", None) is not None or kwargs:
            return int(original_count(self, **kwargs))  # its own refusals
        return len(self._store._documents)

    original_count: Callable[..., Any] = mc.Collection.estimated_document_count
    mc.Collection.find_one = find_one  # type: ignore[method-assign]
    mc.Collection.distinct = distinct  # type: ignore[method-assign]
    mc.Collection.estimated_document_count = estimated_document_count  # type: ignore[method-assign]


def _patch_updates() -> None:
    """Updates move the documents they change to their new index keys (and keep them,
    where a collection is held compactly)."""
    import mongomock.collection as mc
    import mongomock.helpers as mh

    original_update: Callable[..., Any] = mc.Collection._update
    original_uniques: Callable[..., Any] = mc.Collection._ensure_uniques

    def _update(self: Any, spec: Any, *args: Any, **kwargs: Any) -> Any:
        # Documents change in place. Remember how the documents the update may touch are
        # indexed, and move them to their new keys: in the unique checks during the
        # update (see _ensure_uniques), and after it.
        _changing(self._store)
        # Built first when they must be: indexes built by the update's own lookup would
        # still file the documents it changes under their old keys, and its unique checks
        # would read them there (a duplicate let through).
        indexes = hash_indexes(self._store)
        # As mongomock's update does: stored datetimes are naive UTC, so must the spec's be
        # (a filter comparing a date, as a lease's expiry, would else raise TypeError).
        lookup = mh.patch_datetime_awareness_in_document(spec)  # type: ignore[no-untyped-call]
        # A `$set` of top-level fields moves documents under the indexes naming them only.
        changed = _fields_set(args[0] if args else kwargs.get("document"))
        scope = None if changed is None else indexes.scope(changed)
        touched = {
            doc.get("_id"): indexes.keys_of(doc, scope) for doc in self._iter_documents(lookup)
        }
        self._nxce_touched, self._nxce_scope = touched, scope
        self._nxce_updating = True
        try:
            return original_update(self, spec, *args, **kwargs)
        finally:
            self._nxce_touched = self._nxce_scope = None
            self._nxce_updating = False
            documents = self._store._documents
            for identifier, old in touched.items():
                if identifier in documents:
                    indexes.reindex(documents[identifier], old, scope)
                elif scope is None:
                    indexes.remove_keys(identifier, old)
                else:  # gone (an update never removes one): rebuilt at the next lookup
                    indexes.dirty = True

    def _ensure_uniques(self: Any, new_data: Any) -> Any:
        if getattr(self, "_nxce_updating", False):
            write_back(self._store, new_data)  # changed in place: a copy, if compact
        touched = getattr(self, "_nxce_touched", None)
        indexes = getattr(self._store, "_nxce_hash", None)
        identifier = new_data.get("_id")
        if touched and indexes is not None and identifier in touched:
            scope = getattr(self, "_nxce_scope", None)
            indexes.reindex(new_data, touched[identifier], scope)
            touched[identifier] = indexes.keys_of(new_data, scope)  # where it is filed now
        return original_uniques(self, new_data)

    mc.Collection._update = _update  # type: ignore[method-assign]
    mc.Collection._ensure_uniques = _ensure_uniques  # type: ignore[method-assign]


def _changing(store: Any) -> None:
    """A write is about to change `store` (a collection's): what `memo` kept goes, and
    the indexes are made ready for it (`before_write`)."""
    store._nxce_memo = None
    before_write(store)


def memo(collection: Any) -> dict[Any, Any] | None:
    """9. A dict kept with the collection of the mongomock-motor `collection`, emptied
    before every change of its documents (insert, update, replace, delete, drop: each
    passes `_changing`), for reads that stay true until the next write. None when these
    patches are not installed, or for a collection with a TTL index (mongomock removes
    its expired documents as it reads)."""
    inner = getattr(collection, "_AsyncMongoMockCollection__collection", None)
    if not _patched or inner is None:
        return None
    store = inner._store
    if store._ttl_indexes:
        return None
    kept: dict[Any, Any] | None = store.__dict__.get("_nxce_memo")
    if kept is None:
        kept = store._nxce_memo = {}
    return kept


def _fields_set(document: Any) -> frozenset[str] | None:
    """The top-level fields an update document `{"$set": {...}}` sets, else None (any
    other update may move a document under any index)."""
    if type(document) is not dict or len(document) != 1:
        return None
    values = document.get("$set")
    if type(values) is not dict or not values:
        return None
    if any(type(k) is not str or "." in k or k.startswith("$") for k in values):
        return None
    return frozenset(values)


def _patch_collection_store() -> None:
    """A collection's documents keep its hash indexes current as they come and go."""
    from mongomock.store import CollectionStore

    original_set: Callable[..., Any] = CollectionStore.__setitem__
    original_del: Callable[..., Any] = CollectionStore.__delitem__
    original_drop: Callable[..., Any] = CollectionStore.drop
    original_create_index: Callable[..., Any] = CollectionStore.create_index

    def set_item(self: Any, key: Any, value: Any) -> None:
        _changing(self)
        indexes = getattr(self, "_nxce_hash", None)
        if indexes is not None and not indexes.dirty:
            previous = self._documents.get(key)
            if previous is not None:
                # Replaced: the document keeps its slot (and place), as in the dict.
                indexes.remove_keys(previous.get("_id"), indexes.keys_of(previous))
        original_set(self, key, value)
        if indexes is not None and not indexes.dirty:
            indexes.add(value)
        compact_if_large(self)

    def del_item(self: Any, key: Any) -> None:
        _changing(self)
        indexes = getattr(self, "_nxce_hash", None)
        if indexes is not None and not indexes.dirty and key in self._documents:
            indexes.remove(self._documents[key])
        original_del(self, key)

    def drop(self: Any) -> None:
        _changing(self)
        original_drop(self)
        self._nxce_hash = self._nxce_kept = None

    def create_index(self: Any, index_name: str, index_dict: Any) -> None:
        original_create_index(self, index_name, index_dict)
        indexes = getattr(self, "_nxce_hash", None)
        if indexes is not None:
            indexes.dirty = True

    CollectionStore.__setitem__ = set_item  # type: ignore[method-assign]
    CollectionStore.__delitem__ = del_item  # type: ignore[method-assign]
    CollectionStore.drop = drop  # type: ignore[method-assign]
    CollectionStore.create_index = create_index  # type: ignore[method-assign]


def _patch_index_creation() -> None:
    """A unique index on a compact collection is checked only when it is new: one the
    collection already has, or one the medium vouches for (a restart creates the declared
    indexes again over what the medium holds), reads no document; a new one is checked in
    one pass, with MongoDB's semantics (partial, sparse, compound), and refused with
    mongomock's DuplicateKeyError before it exists (`embedded_unique`). Elsewhere mongomock
    checks as before."""
    import mongomock.collection as mc
    from mongomock.store import CollectionStore

    listed: Any = CollectionStore.documents
    original_create: Callable[..., Any] = mc.Collection.create_index

    def _nothing() -> Iterator[dict[str, Any]]:
        yield from ()

    def documents(self: Any) -> Iterator[dict[str, Any]]:
        if getattr(self, "_nxce_unchecked", False):
            return _nothing()
        found: Iterator[dict[str, Any]] = listed.fget(self)
        return found

    def create_index(self: Any, key_or_list: Any, *args: Any, **kwargs: Any) -> Any:
        store = self._store
        if type(store._documents) is not CompactDocuments or args or not kwargs.get("unique"):
            return original_create(self, key_or_list, *args, **kwargs)
        name, index = embedded_unique.index_of(key_or_list, kwargs)
        # One of that name with other options: mongomock refuses it (OperationFailure).
        if name not in store.indexes and not embedded_unique.held(store, name, index):
            embedded_unique.check(store.documents, index)
        store._nxce_unchecked = True  # checked above, or known to hold
        try:
            return original_create(self, key_or_list, *args, **kwargs)
        finally:
            store._nxce_unchecked = False

    CollectionStore.documents = property(documents)  # type: ignore[method-assign,assignment]
    mc.Collection.create_index = create_index  # type: ignore[method-assign]
