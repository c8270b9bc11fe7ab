"""Query results of the embedded store copied in one pass (see `embedded_store`).

Results without a projection, or with one that includes top-level fields, are copied
(and their datetimes made timezone-aware) by `copy_results`; any other projection is left
to mongomock.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from bson import ObjectId

_IMMUTABLE: frozenset[type] = frozenset(
    {str, int, float, bool, bytes, ObjectId, Decimal, type(None)}
)  # copied as they are


class Ready(dict[str, Any]):
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
        return (Ready(_copy_value(doc, aware)) for doc in docs)
    simple = _simple_inclusion(fields)
    if simple is None:
        return None
    included, keep_id = simple
    return (_project(doc, included, keep_id, aware) for doc in docs)


def _project(doc: dict[str, Any], included: set[str], keep_id: bool, aware: bool) -> Ready:
    return Ready(
        {
            key: _copy_value(value, aware)
            for key, value in doc.items()
            if key in included or (key == "_id" and keep_id)
        }
    )
