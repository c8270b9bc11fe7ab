"""Partial unique indexes (`partialFilterExpression`) in the embedded store, as MongoDB
has them: a document the filter does not match is not in the index, so it conflicts with
nothing (many learners without a phone number, each with `phone_digest: null`).

mongomock 4.3 gets three things wrong, patched here:

1. `create_indexes` (what Beanie calls) drops `partialFilterExpression`, so the index is
   a plain unique one and the second document without the field is a duplicate;
2. `create_index` checks the documents already stored against every document, filter or
   not (an existing store with two learners and no phones could not start);
3. the unique check on each write queries `{"$and": [filter, key]}`, which no hash index
   answers: every insert would read the whole collection. Here the key's equality reads
   its candidates from the hash index (`embedded_indexes`) and the filter checks them.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from typing import Any

from pymongo.errors import DuplicateKeyError


def _applies(filter: dict[str, Any], document: dict[str, Any]) -> bool:
    from mongomock import filtering

    return bool(filtering.filter_applies(filter, document))  # type: ignore[no-untyped-call]


def _value(document: dict[str, Any], key: str) -> Any:
    """The value of a (dotted) key, None when absent: what an index files it under."""
    from mongomock import helpers

    try:
        return helpers.get_value_by_dot(document, key)  # type: ignore[no-untyped-call]
    except KeyError:
        return None


def _in_index(index: dict[str, Any], document: dict[str, Any]) -> bool:
    partial = index.get("partialFilterExpression")
    return partial is None or _applies(partial, document)


def _check_existing(documents: Iterable[dict[str, Any]], keys: list[str], partial: Any) -> None:
    """Before a partial unique index is created: no two documents its filter matches may
    share the key (MongoDB refuses the index then)."""
    seen: set[str] = set()
    for document in documents:
        if not _applies(partial, document):
            continue
        value = repr([_value(document, k) for k in keys])
        if value in seen:
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        seen.add(value)


def ensure_uniques(collection: Any, new_data: dict[str, Any]) -> None:
    """mongomock's unique check of a document just written, but a partial index holds
    only the documents its filter matches, and the key's equality finds the others."""
    for index in collection._store.indexes.values():
        if not index.get("unique"):
            continue
        find = {key: _value(new_data, key) for key, _ in index.get("key")}
        if index.get("sparse") and set(find.values()) == {None}:
            continue
        if not _in_index(index, new_data) or _alone(collection._store, find, new_data):
            continue
        found = (d for d in collection._iter_documents(find) if _in_index(index, d))
        if len(list(itertools.islice(found, 2))) > 1:
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)


def _alone(store: Any, find: dict[str, Any], document: dict[str, Any]) -> bool:
    """Whether the key of a one-field index is shared by no other document: the store's
    hash index of that field (`embedded_indexes`, current) files `document` alone under
    its value. Its candidates include every match (and maybe more), so that one means no
    duplicate; otherwise the documents are checked. A dotted field is left to them (the
    hash index files top-level values only)."""
    indexes = getattr(store, "_nxce_hash", None)
    if indexes is None or indexes.dirty or len(find) != 1:
        return False
    ((field, value),) = find.items()
    if "." in field or field not in indexes.fields or isinstance(value, (list, dict)):
        return False
    try:
        slot = indexes.slots.get(document.get("_id"))
        return slot is not None and indexes.candidates(field, [value]) == {slot}
    except TypeError:  # not hashable: the documents tell
        return False


def patch() -> None:
    """Patch mongomock's collections (called once, before the embedded store's own patches
    wrap the unique check)."""
    import mongomock.collection as mc
    from mongomock import helpers

    original_create: Callable[..., Any] = mc.Collection.create_index

    def create_indexes(self: Any, indexes: Any, session: Any = None) -> list[str]:
        names = []
        for index in indexes:
            document = dict(index.document)
            keys = document.pop("key")
            names.append(self.create_index(list(keys.items()), session=session, **document))
        return names

    def create_index(self: Any, key_or_list: Any, *args: Any, **kwargs: Any) -> Any:
        partial = kwargs.get("partialFilterExpression")
        if partial is None or not kwargs.get("unique"):
            return original_create(self, key_or_list, *args, **kwargs)
        listed = helpers.create_index_list(key_or_list)  # type: ignore[no-untyped-call]
        # nothing is listed when the store skips the check (embedded_store)
        _check_existing(self._store.documents, [k for k, _ in listed], partial)
        unchecked = getattr(self._store, "_nxce_unchecked", False)
        self._store._nxce_unchecked = True  # checked above, as the filter asks
        try:
            return original_create(self, key_or_list, *args, **kwargs)
        finally:
            self._store._nxce_unchecked = unchecked

    mc.Collection.create_indexes = create_indexes  # type: ignore[method-assign]
    mc.Collection.create_index = create_index  # type: ignore[method-assign]
    mc.Collection._ensure_uniques = ensure_uniques  # type: ignore[method-assign]
