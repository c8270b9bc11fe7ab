"""The indexes of a durable embedded store's large collections, kept for the next start.

Building the indexes of a large collection reads and decodes every document (about a
minute for a million statements on two cores); most of a restart would be spent there.
So the indexes of each compact collection (`embedded_compact`) are written to
`indexes.snapshot` beside the data file: while serving, every `SNAPSHOT_AFTER` writes
(or `SNAPSHOT_EVERY` seconds, once there are some), and at a clean stop. A start reads
the snapshot, then catches up with what was written since; a kill -9 costs that, not a
rebuild.

How a snapshot stays right while the service writes on:

- the medium numbers each submitted write and logs, in the same commit, which documents
  it wrote or deleted (`changes`, see `embedded_medium`);
- a snapshot is taken from the live indexes in small frames, the event loop serving
  between them; it starts at mark m (the number of the last write submitted then), so any
  document changed while it is taken is either logged after m or, when the snapshot ends,
  changed in memory and not yet submitted (`pending`, kept in the snapshot);
- it is recorded in the data file (meta `snapshot`: its token and m) by a commit queued
  after every write submitted while it was taken, which also drops the log up to m.

A start uses the snapshot the data file names (same token), takes the documents logged
after m and those pending out of its indexes (`HashIndexes.purge`) and files them again as
the data file holds them (`Kept.catch_up`). Each id in a snapshot not among them was not
changed while it was taken, and its entries are those of its committed document. Any
other case (a snapshot missing, truncated, damaged or of another version, a collection
emptied since, a count that does not agree) falls back to reading every document, which is
always right, only slower.

The snapshot is the service's own file in its own data directory (whoever can change it
can change the data file too): pickled frames of plain containers, `bson` ids and
integer arrays, checked against a SHA-256 of all their bytes before any is read.
Documents are filed under slots (small integers, `HashIndexes`), which is what keeps
reading it cheap: only each id is unpickled and hashed once.
"""

from __future__ import annotations

import contextlib
import gc
import hashlib
import logging
import os
import pickle
import secrets
import time
from array import array
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from nxce.core.embedded_indexes import HashIndexes
from nxce.core.embedded_ordered import OrderedIndex

log = logging.getLogger("nxce.core.embedded_snapshot")

FILE_NAME = "indexes.snapshot"
FORMAT = b"nxce-index-snapshot-3\n"  # a change of the frames' shape changes this
CHUNK = 20_000  # keys of an index (or ids) in one frame
SNAPSHOT_AFTER = 100_000  # writes logged since the last snapshot before the next is taken
SNAPSHOT_EVERY = 600.0  # seconds after which some writes (SNAPSHOT_SOME) are enough
SNAPSHOT_SOME = 1_000
PAUSE = 0.05  # at most this long between two frames of a snapshot taken while serving
_LENGTH = 8
_MISSING = object()


@dataclass
class Taken:
    """One collection as a snapshot holds it: its indexes (document ids by slot in
    `indexes.at`), and the ids changed in memory and not yet submitted when it ended."""

    indexes: HashIndexes
    pending: list[Any]


def new_token() -> str:
    return secrets.token_hex(16)


def frames(collections: dict[str, HashIndexes]) -> Iterator[tuple[Any, ...]]:
    """The frames of `collections`' indexes (by medium name), each small, each made when
    it is asked for from the indexes as they are then (see the module for why that is
    right while the service writes between frames)."""
    for name, indexes in collections.items():
        size = len(indexes.at)  # slots from here on were given after the start: logged
        ordered = [(o.prefix, o.field) for o in indexes.ordered]
        yield ("collection", name, indexes.fields, ordered, size)
        for start in range(0, size, CHUNK):
            yield ("at", start, indexes.at[start : min(start + CHUNK, size)])
        for field, index in list(indexes.by_value.items()):
            if field == "_id":  # id -> slot, as `slots`: made from there when read
                yield ("ids", field)
                continue
            keys = list(index)
            for start in range(0, len(keys), CHUNK):
                yield _values(field, index, keys[start : start + CHUNK], size, len(indexes.at))
        for field, held in list(indexes.unhashable.items()):
            yield ("unhashable", field, _slots(held, size, len(indexes.at)))
        for number, ordered_index in enumerate(indexes.ordered):
            postings = ordered_index.postings
            prefixes = list(postings)
            for start in range(0, len(prefixes), CHUNK):
                chunk = [(p, postings.get(p)) for p in prefixes[start : start + CHUNK]]
                yield ("postings", number, [(p, array("q", a)) for p, a in chunk if a])
            yield ("irregular", number, _slots(ordered_index.irregular, size, len(indexes.at)))


def _slots(held: set[int], size: int, given: int) -> array[int]:
    """`held` as an array, without the slots given after the snapshot started (from
    `size` to `given`: few, so looked up rather than every slot checked)."""
    later = held.intersection(range(size, given)) if given > size else None
    return array("q", held.difference(later) if later else held)


def _values(
    field: str, index: dict[Any, Any], keys: list[Any], size: int, given: int
) -> tuple[Any, ...]:
    """One frame of `field`'s index: its keys, and for each a slot (or -1: the next of the
    sets, as arrays)."""
    found, singles, sets = [], array("q"), []
    for key in keys:
        held = index.get(key, _MISSING)
        if type(held) is set:
            sets.append(_slots(held, size, given))
            singles.append(-1)
        elif held is _MISSING or held >= size:
            continue
        else:
            singles.append(held)
        found.append(key)
    return ("values", field, found, singles, sets)


class Writer:
    """A snapshot being written: frames to a file of its own, sealed (digest, fsync),
    then put in place of the last one."""

    def __init__(self, directory: Path, token: str, mark: int) -> None:
        self.path = directory / FILE_NAME
        self.partial = directory / f"{FILE_NAME}.{token}.partial"
        self.token, self.mark = token, mark
        self.digest = hashlib.sha256()
        self.bytes = 0
        self.started = time.perf_counter()
        self.out: BinaryIO = self.partial.open("wb")
        self.out.write(FORMAT)
        self.frame(("token", token, mark))

    def frame(self, frame: tuple[Any, ...]) -> None:
        body = pickle.dumps(frame, protocol=pickle.HIGHEST_PROTOCOL)
        head = len(body).to_bytes(_LENGTH, "little")
        self.digest.update(head)
        self.digest.update(body)
        self.out.write(head)
        self.out.write(body)
        self.bytes += len(head) + len(body)

    def seal(self) -> None:
        """End the file with the digest of its frames and make it durable (may run in a
        thread of its own: it touches nothing else)."""
        self.out.write(self.digest.digest())
        self.out.flush()
        os.fsync(self.out.fileno())
        self.out.close()

    def install(self, names: list[str]) -> None:
        """Put the sealed file in place of the last snapshot."""
        self.partial.replace(self.path)
        log.info(
            "embedded store: indexes of %s kept for the next start (%.1f MB, %.2f s)",
            ", ".join(sorted(names)),
            self.bytes / 1e6,
            time.perf_counter() - self.started,
        )

    def abandon(self) -> None:
        with contextlib.suppress(OSError):
            self.out.close()
        self.partial.unlink(missing_ok=True)


def write(directory: Path, token: str, mark: int, collections: dict[str, HashIndexes]) -> None:
    """Write the snapshot of `collections` (by medium name) under `token` at `mark`,
    durably, at once (the service writes nothing meanwhile: nothing is pending)."""
    writer = Writer(directory, token, mark)
    try:
        for frame in frames(collections):
            writer.frame(frame)
        writer.frame(("pending", {}))
        writer.seal()
        writer.install(list(collections))
    except BaseException:
        writer.abandon()
        raise


def read(directory: Path, named: tuple[str, int] | None) -> tuple[int, dict[str, Taken]] | None:
    """The snapshot the data file names (its token and mark) and its mark, or None when
    there is none that can be used; says why in the log."""
    path = directory / FILE_NAME
    if named is None or not path.exists():
        return None
    try:
        data = path.read_bytes()
        body, digest = memoryview(data)[len(FORMAT) : -32], data[-32:]
        if not data.startswith(FORMAT) or hashlib.sha256(body).digest() != digest:
            log.warning("%s is of another version or damaged: indexes are rebuilt", path)
            return None
        frames = _frames(body)
        _, token, mark = next(frames)
        if (token, mark) != named:
            log.info("%s is not the one the data file names: indexes are rebuilt", path)
            return None
        collecting = gc.isenabled()
        gc.disable()  # millions of objects made at once, none of them garbage
        try:
            return mark, _taken(frames)
        finally:
            if collecting:
                gc.enable()
    except (OSError, pickle.UnpicklingError, EOFError, ValueError, TypeError, KeyError) as error:
        log.warning("%s cannot be read (%s): indexes are rebuilt", path, error)
        return None


def _frames(body: memoryview) -> Iterator[tuple[Any, ...]]:
    at = 0
    while at < len(body):
        length = int.from_bytes(body[at : at + _LENGTH], "little")
        at += _LENGTH
        # The service's own file, its bytes checked against their digest (see the module).
        yield pickle.loads(body[at : at + length])  # noqa: S301
        at += length


def _taken(frames: Iterator[tuple[Any, ...]]) -> dict[str, Taken]:
    taken: dict[str, Taken] = {}
    indexes = HashIndexes()
    ints: list[int] = []
    for frame in frames:
        kind = frame[0]
        if kind == "collection":
            _, name, fields, ordered, size = frame
            indexes = HashIndexes()
            indexes.fields = tuple(fields)
            indexes.ordered = [OrderedIndex(tuple(prefix), field) for prefix, field in ordered]
            indexes.at = [None] * size
            indexes.dirty = False
            ints = list(range(size))  # one int object a slot, shared by every index
            taken[name] = Taken(indexes, [])
        elif kind == "pending":
            for name, ids in frame[1].items():
                if name in taken:
                    taken[name].pending = ids
        else:
            _read_frame(indexes, frame, ints)
    if any(len(t.indexes.slots) > len(t.indexes.at) for t in taken.values()):
        raise ValueError("slots and ids disagree")
    return taken


def _read_frame(indexes: HashIndexes, frame: tuple[Any, ...], ints: list[int]) -> None:
    """Put one frame of a collection in `indexes` (`ints`: the slots' int objects)."""
    kind = frame[0]
    if kind == "at":
        _place_ids(indexes, frame[1], frame[2], ints)
    elif kind == "values":
        _file_values(indexes.by_value.setdefault(frame[1], {}), frame, ints)
    elif kind == "ids":
        indexes.by_value[frame[1]] = dict(indexes.slots)  # a copy keeps the hashes
    elif kind == "unhashable":
        indexes.unhashable[frame[1]] = set(map(ints.__getitem__, frame[2]))
    elif kind == "postings":
        indexes.ordered[frame[1]].postings.update(frame[2])
    elif kind == "irregular":
        indexes.ordered[frame[1]].irregular = set(map(ints.__getitem__, frame[2]))
    else:
        raise ValueError(f"unknown frame {kind!r}")


def _place_ids(indexes: HashIndexes, start: int, ids: list[Any], ints: list[int]) -> None:
    """Put an "at" frame's ids in their slots; after the last, map the ids to them."""
    indexes.at[start : start + len(ids)] = ids
    if start + len(ids) == len(indexes.at):
        indexes.slots = dict(zip(indexes.at, ints, strict=True))
        indexes.slots.pop(None, None)


def _file_values(index: dict[Any, Any], frame: tuple[Any, ...], ints: list[int]) -> None:
    """File a "values" frame's keys in `index`, by slot (`ints`: the slots' objects)."""
    _, _, keys, singles, sets = frame
    get = ints.__getitem__
    if not sets:
        index.update(zip(keys, map(get, singles), strict=True))
        return
    held = iter(sets)
    for key, single in zip(keys, singles, strict=True):
        index[key] = get(single) if single >= 0 else set(map(get, next(held)))


def remove(directory: Path) -> None:
    (directory / FILE_NAME).unlink(missing_ok=True)


def remove_partials(directory: Path) -> None:
    """Snapshots a kill left unfinished (the caller holds the data directory)."""
    for partial in directory.glob(f"{FILE_NAME}.*.partial"):
        partial.unlink(missing_ok=True)
