"""A fast path of the embedded store for the commonest update: `{"$set": {field: value}}`
on top-level fields with plain values (the statement store's `projected` and `voided`
flags, a batch of fifty at a time).

mongomock applies an update by deep-copying each matched document (to tell whether it
changed), changing it in place and checking every unique index again. When the fields set
are top-level, their values plain (str, int, float, bool, None) and in no unique index,
none of that is needed: the values are set in place, as mongomock sets them, and those
told of changes in place (`on_change`: the durable medium's journal) hear of each changed
document. This path sits under the embedded store's own update patch, which moves the
documents to their new index keys after any update. Anything else (upserts, other
operators, dotted fields, dates, options) goes to mongomock as before. What an update
answers (matched and modified counts) is what mongomock answers;
tests/nxce/core/test_embedded_updates.py compares them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from nxce.core.embedded_compact import write_back

_PLAIN = (str, int, float, bool, type(None))
_patched = False


def _unique_fields(store: Any) -> set[str]:
    """The fields named by the collection's unique indexes."""
    fields: set[str] = set()
    for index in store.indexes.values():
        if index.get("unique"):
            fields.update(str(field) for field, _ in index.get("key") or [])
    return fields


def plain_set(store: Any, document: Any, upsert: bool, options: dict[str, Any]) -> Any:
    """The fields and values of `document` when it is an update this path applies, else
    None."""
    if upsert or any(options.values()) or not isinstance(document, dict):
        return None
    if list(document) != ["$set"] or not isinstance(document["$set"], dict):
        return None
    values: dict[str, Any] = document["$set"]
    if not values:
        return None
    for field, value in values.items():
        if not isinstance(field, str) or field == "_id" or field[:1] == "$" or "." in field:
            return None
        if type(value) not in _PLAIN:
            return None
    if _unique_fields(store) & set(values):
        return None
    return values


def _unchanged(document: dict[str, Any], values: dict[str, Any]) -> bool:
    """Every value is there already, of the same type."""
    return all(
        field in document and type(document[field]) is type(value) and document[field] == value
        for field, value in values.items()
    )


def _store_key(identifier: Any) -> Any:
    """The key mongomock files a document under (a dict `_id` as a hashable dict)."""
    if isinstance(identifier, dict):
        from mongomock import helpers

        return helpers.hashdict(identifier)
    return identifier


# Told (collection store, document key) of each document this path changed in place.
on_change: list[Callable[[Any, Any], None]] = []


def speed_up() -> None:
    """Patch mongomock's update once (idempotent); call before the embedded store's own
    update patch, which wraps this one."""
    global _patched
    if _patched:
        return
    import mongomock.collection as mc
    from mongomock import helpers

    original: Callable[..., Any] = mc.Collection._update
    aware: Callable[[Any], Any] = helpers.patch_datetime_awareness_in_document

    def _update(
        self: Any,
        spec: Any,
        document: Any,
        upsert: bool = False,
        manipulate: bool = False,
        multi: bool = False,
        check_keys: bool = False,
        **options: Any,
    ) -> Any:
        values = plain_set(self._store, document, upsert, options)
        if values is None or not isinstance(spec, dict):
            return original(self, spec, document, upsert, manipulate, multi, check_keys, **options)
        matched = list(self._iter_documents(aware(spec)))
        if not multi:
            matched = matched[:1]
        modified = 0
        for existing in matched:
            if _unchanged(existing, values):
                continue
            # mongomock counts a change as Python compares (True == 1 is no change).
            if any(existing.get(f, _MISSING) != v for f, v in values.items()):
                modified += 1
            existing.update(values)
            write_back(self._store, existing)  # a compactly held document is a copy
            for told in on_change:
                told(self._store, _store_key(existing["_id"]))
        return {
            "connectionId": self.database.client._id,
            "err": None,
            "n": len(matched),
            "nModified": modified,
            "ok": 1,
            "upserted": None,
            "updatedExisting": bool(matched),
        }

    mc.Collection._update = _update  # type: ignore[method-assign, assignment]
    _patched = True


_MISSING = object()
