"""Filters and sorts the embedded store answers itself, with MongoDB's semantics.

Filters that are equalities or `$in` lists on top-level fields, with string, integer or
null values (and numeric ranges), are matched by `equality_matcher`; a sort on top-level
fields whose values are each all strings, all numbers or all datetimes is a plain
(stable) sort by `sorted_by_keys`. Anything else is left to mongomock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from bson import ObjectId

Matcher = Callable[[dict[str, Any]], bool]
_SCALARS: tuple[type, ...] = (str, int, bool, ObjectId)
_RANGES = {
    "$gt": lambda a, b: a > b,
    "$gte": lambda a, b: a >= b,
    "$lt": lambda a, b: a < b,
    "$lte": lambda a, b: a <= b,
}


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


def conditions_of(filter: Any) -> list[tuple[str, Any]] | None:
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


def equalities_of(filter: Any) -> list[tuple[str, Any]]:
    """The `{f: v}` and `{f: {"$in": [...]}}` conditions (scalar values, top-level fields)
    of any filter whose other parts are left to mongomock: what every match satisfies, so
    a hash index may propose candidates for the whole filter."""
    if not isinstance(filter, dict):
        return []
    found = []
    for field, value in filter.items():
        if not isinstance(field, str) or field.startswith("$") or "." in field:
            continue
        single = {field: value}
        conditions = conditions_of(single)
        if conditions is not None and isinstance(conditions[0][1], list):
            found.append(conditions[0])
    return found


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
    conditions = conditions_of(filter)
    return None if conditions is None else matcher_of(conditions)


def _strings_in(actual: Any, accepted: frozenset[str]) -> bool:
    """`actual` (or an element of it) is one of the strings `accepted` (only a string
    equals a string)."""
    if type(actual) is str:
        return actual in accepted
    return type(actual) is list and any(type(v) is str and v in accepted for v in actual)


def matcher_of(conditions: list[tuple[str, Any]]) -> Matcher:
    # `$in` lists of strings (a batch's ids) are checked as sets: one lookup a document.
    checks = [
        (field, frozenset(accepted))
        if type(accepted) is list and len(accepted) > 4 and all(type(v) is str for v in accepted)
        else (field, accepted)
        for field, accepted in conditions
    ]

    def matches(doc: dict[str, Any]) -> bool:
        for field, accepted in checks:
            actual = doc.get(field)
            if type(accepted) is frozenset:
                if not _strings_in(actual, accepted):
                    return False
            elif isinstance(accepted, dict):
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
