"""Ordered indexes of the embedded store: a filtered, sorted page reads O(limit) documents.

A compound index declared on a collection, `[(f1, ±1), ..., (fk, ±1), (s, ±1)]`, whose
sort field `s` also has a unique single-field index (so no two documents tie on it), is
kept as: for each tuple of values of the prefix fields, the sorted `s` values of the
documents holding them (an `array` of integers). A query with an equality (or `$in`) on
every prefix field, perhaps a range on `s`, and a sort on `s` alone walks those lists in
order, merges them, and checks each document with the full matcher until the cursor has
its page, instead of matching and sorting every candidate.

MongoDB uses the same declarations (an index on `(verbs, voided, stored_us)` answers
`{verbs: v, voided: false}` sorted by `stored_us`); only documents whose prefix values
are strings, integers, booleans, ObjectIds or null and whose `s` is an integer are kept
here; any other document makes the index stand aside (the query then scans, as before).
"""

from __future__ import annotations

import heapq
import itertools
from array import array
from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Iterator
from typing import Any

from bson import ObjectId

_PLAIN: frozenset[type] = frozenset((str, int, bool, ObjectId, type(None)))
_BOOLEANS = {True: ("$bool", True), False: ("$bool", False)}  # True == 1 in Python, not MongoDB
MAX_COMBINATIONS = 64  # prefix value tuples a query may walk at once
Entries = list[tuple[tuple[Any, ...], int]] | None  # (prefix, sort value)s, None: irregular


def key_of(value: Any) -> Any:
    """The index key of a plain value (booleans kept apart from 0 and 1)."""
    return _BOOLEANS[value] if type(value) is bool else value


class OrderedIndex:
    """One compound index: prefix value tuple -> sorted sort-field values."""

    def __init__(self, prefix: tuple[str, ...], field: str) -> None:
        self.prefix, self.field = prefix, field
        self.postings: dict[tuple[Any, ...], array[int]] = {}
        self.irregular: set[int] = set()  # slots of documents this index cannot hold

    def entries(self, doc: dict[str, Any]) -> Entries:
        """Where `doc` is filed, or None when it cannot be (see the module)."""
        value = doc.get(self.field)
        if type(value) is not int:
            return None
        choices = []
        for field in self.prefix:
            held = doc.get(field)
            if type(held) is list:
                if any(type(v) not in _PLAIN for v in held):
                    return None
                keys = [_BOOLEANS[v] if type(v) is bool else v for v in held]
                choices.append(list(dict.fromkeys(keys)) if len(keys) > 1 else keys)
            elif type(held) in _PLAIN:
                choices.append([_BOOLEANS[held] if type(held) is bool else held])
            else:
                return None
        if all(len(keys) == 1 for keys in choices):
            return [(tuple(keys[0] for keys in choices), value)]
        return [(combination, value) for combination in itertools.product(*choices)]

    def add(self, slot: int, entries: Entries) -> None:
        if entries is None:
            self.irregular.add(slot)
            return
        for prefix, value in entries:
            posting = self.postings.get(prefix)
            if posting is None:
                posting = self.postings[prefix] = array("q")
            if not posting or posting[-1] < value:
                posting.append(value)  # the usual case: a newer document
            else:
                posting.insert(bisect_right(posting, value), value)

    def remove(self, slot: int, entries: Entries) -> None:
        self.irregular.discard(slot)
        for prefix, value in entries or []:
            posting = self.postings.get(prefix)
            if posting is None:
                continue
            at = bisect_left(posting, value)
            if at < len(posting) and posting[at] == value:
                del posting[at]
            if not posting:
                del self.postings[prefix]

    def purge(self, gone: set[int], values: set[Any]) -> None:
        """Take out the slots `gone`, whose sort values were `values` (see
        `HashIndexes.purge`)."""
        self.irregular -= gone
        if not values:
            return
        for prefix, posting in list(self.postings.items()):
            if not values.isdisjoint(posting):
                kept = array("q", (v for v in posting if v not in values))
                if kept:
                    self.postings[prefix] = kept
                else:
                    del self.postings[prefix]

    def walk(
        self, accepted: list[list[Any]], bounds: dict[str, Any], descending: bool
    ) -> Iterator[int] | None:
        """The sort values filed under any combination of accepted prefix values, within
        `bounds`, in order, each once; None when there are too many combinations."""
        combinations = 1
        for values in accepted:
            combinations *= len(values)
        if combinations > MAX_COMBINATIONS:
            return None
        lists = []
        for combination in itertools.product(*accepted):
            posting = self.postings.get(tuple(key_of(v) for v in combination))
            if posting:
                lists.append(_slice(posting, bounds, descending))
        if len(lists) < 2:
            return _once(iter(lists[0] if lists else ()))
        return _once(heapq.merge(*lists, reverse=descending))


def _slice(posting: array[int], bounds: dict[str, Any], descending: bool) -> Iterable[int]:
    """The values of `posting` within `bounds` (`$gt`, `$gte`, `$lt`, `$lte` numbers),
    ascending or descending, lazily."""
    start, stop = 0, len(posting)
    for op, bound in bounds.items():
        if op == "$gt":
            start = max(start, bisect_right(posting, bound))
        elif op == "$gte":
            start = max(start, bisect_left(posting, bound))
        elif op == "$lt":
            stop = min(stop, bisect_left(posting, bound))
        else:
            stop = min(stop, bisect_right(posting, bound))
    if descending:
        return (posting[i] for i in range(stop - 1, start - 1, -1))
    return (posting[i] for i in range(start, stop))


def _once(values: Iterator[int]) -> Iterator[int]:
    """Values without repeats (a document filed under two accepted keys; a value is held
    twice only while an insert that breaks the unique index is rolled back)."""
    previous = None
    for value in values:
        if value != previous:
            yield value
        previous = value


def declared(indexes: Iterable[dict[str, Any]]) -> list[OrderedIndex]:
    """The ordered indexes a collection's declared indexes allow (see the module)."""
    declarations = list(indexes)
    unique_single = {
        keys[0][0]
        for index in declarations
        if index.get("unique") and len(keys := list(index.get("key") or [])) == 1
    }
    found: list[OrderedIndex] = []
    seen: set[tuple[str, ...]] = set()
    for index in declarations:
        keys = [field for field, _ in index.get("key") or []]
        if len(keys) < 2 or not all(_top_level(f) for f in keys) or len(set(keys)) < len(keys):
            continue
        if keys[-1] in unique_single and tuple(keys) not in seen:
            seen.add(tuple(keys))
            found.append(OrderedIndex(tuple(keys[:-1]), keys[-1]))
    return found


def _top_level(field: Any) -> bool:
    return isinstance(field, str) and "." not in field and not field.startswith("$")
