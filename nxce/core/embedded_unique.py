"""New unique indexes on the embedded store's compact collections, checked as MongoDB
checks them, without reading every document at a restart.

MongoDB refuses a unique index that the documents already there break. mongomock checks
by reading every document; on a compact collection (`embedded_compact`) that means
decoding each one from the medium, and a restart creates every declared index again
(the embedded store keeps documents, not index definitions), which would read a
1,000,000-statement collection once per unique index. So:

- a unique index the collection already has (same name, same keys, same options) is not
  checked again: nothing was written without it;
- nor is one the medium vouches for: each collection's unique indexes are recorded on the
  medium (`recorded`; `embedded_journal` commits the record when an index is created or
  dropped, and before the documents of a write after such a change, so the committed
  documents always satisfy it). A restart takes that record as vouched for until the
  collection's first document write; an index the code declares again then costs no read;
- any other unique index is checked (`check`): one pass over the documents, as MongoDB
  builds an index by reading them, and refused with mongomock's `DuplicateKeyError`
  before it exists.

A data file written before these records existed vouches for every index at its first
start (as the embedded store did before: its documents were all written under the
indexes the code declared), and is recorded from then on.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Iterable, Mapping
from typing import Any

from pymongo.errors import DuplicateKeyError

EVERY = frozenset({"*"})  # vouched: a data file without records (see the module)
_MISSING = object()


def spec_text(name: str, index: Mapping[str, Any]) -> str:
    """One unique index as text, the same for the same name, keys and options: how the
    medium records it and how a new one is compared with the record."""
    from bson import json_util

    spec = {**index, "name": name, "key": [list(pair) for pair in index.get("key") or []]}
    return json_util.dumps(spec, sort_keys=True, json_options=json_util.CANONICAL_JSON_OPTIONS)


def recorded(store: Any) -> tuple[str, ...]:
    """The unique indexes `store` (a mongomock CollectionStore) has now, as recorded
    (asked after every write: the text is made again only when the indexes changed)."""
    cached = getattr(store, "_nxce_unique_of", None)
    if cached is not None and cached[0] == store.indexes:
        found: tuple[str, ...] = cached[1]
        return found
    found = tuple(
        sorted(
            spec_text(name, index) for name, index in store.indexes.items() if index.get("unique")
        )
    )
    store._nxce_unique_of = (dict(store.indexes), found)
    return found


def record_text(specs: tuple[str, ...]) -> str:
    return json.dumps(list(specs), ensure_ascii=False)


def specs_of(text: str) -> frozenset[str]:
    """The recorded unique indexes read back (`record_text`); none when unreadable (each
    is then checked when created: slower, never wrong)."""
    try:
        specs = json.loads(text)
    except ValueError:
        return frozenset()
    if not isinstance(specs, list) or not all(isinstance(s, str) for s in specs):
        return frozenset()
    return frozenset(specs)


def held(store: Any, name: str, index: Mapping[str, Any]) -> bool:
    """Whether the documents of `store` are known to satisfy the unique index: it has it
    already, or the medium vouches for it (see the module)."""
    if store.indexes.get(name) == index:
        return True
    vouched: frozenset[str] = getattr(store, "_nxce_vouched", frozenset())
    return vouched is EVERY or spec_text(name, index) in vouched


def index_of(key_or_list: Any, options: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """The name and the definition mongomock's `create_index` files for these arguments."""
    from mongomock import helpers

    listed = helpers.create_index_list(key_or_list)  # type: ignore[no-untyped-call]
    name = options.get("name") or helpers.gen_index_name(listed)  # type: ignore[no-untyped-call]
    index: dict[str, Any] = {"key": listed}
    if options.get("sparse"):
        index["sparse"] = True
    if options.get("unique"):
        index["unique"] = True
    for option in ("expireAfterSeconds", "partialFilterExpression"):
        if options.get(option) is not None:
            index[option] = options[option]
    return name, index


def check(documents: Iterable[dict[str, Any]], index: Mapping[str, Any]) -> None:
    """Refuse a new unique index that two of `documents` break (DuplicateKeyError, as
    mongomock raises): MongoDB's semantics, where mongomock's differ.

    A partial index considers only the documents its filter matches; a missing field is
    null, so two documents without it are duplicates, unless the index is sparse and a
    document has none of its fields (then it is not in the index). Our reading, as the
    check of each insert on this store: an array is one value (not one key an element,
    as MongoDB's multikey index has it); true is not 1 (BSON types differ), 1 is 1.0."""
    from mongomock import filtering

    keys = [key for key, _ in index.get("key") or []]
    partial = index.get("partialFilterExpression")
    sparse = bool(index.get("sparse"))
    seen: set[tuple[Any, ...]] = set()
    for document in documents:
        if partial is not None and not filtering.filter_applies(partial, document):  # type: ignore[no-untyped-call]
            continue
        values = [_value(document, key) for key in keys]
        if sparse and all(value is _MISSING for value in values):
            continue
        found = tuple(_comparable(None if value is _MISSING else value) for value in values)
        if found in seen:
            raise DuplicateKeyError("E11000 Duplicate Key Error", 11000)
        seen.add(found)


def _value(document: Mapping[str, Any], key: str) -> Any:
    """The value of a (dotted) key as mongomock reads it, or `_MISSING`."""
    from mongomock import helpers

    try:
        return helpers.get_value_by_dot(document, key)  # type: ignore[no-untyped-call]
    except KeyError:
        return _MISSING


def _comparable(value: Any) -> Any:
    """A hashable stand-in equal for values an index holds as equal."""
    if isinstance(value, bool):
        return ("bool", value)
    if isinstance(value, datetime.datetime):
        return ("date", value.replace(tzinfo=None) - (value.utcoffset() or datetime.timedelta()))
    if isinstance(value, list | tuple):
        return ("array", tuple(_comparable(item) for item in value))
    if isinstance(value, Mapping):
        return ("object", tuple((k, _comparable(v)) for k, v in value.items()))
    return value
