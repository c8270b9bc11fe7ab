"""The embedded store's durable medium: one SQLite file under `$NXCE_DATA_DIR`.

mongomock answers every query; this file keeps what it holds. Each document is a row
(collection, BSON of its `_id`, BSON of the document, a CRC-32 of both), written by one
thread that commits queued writes together: one transaction and one fsync per batch
(WAL, `synchronous=FULL`), each writer released once the batch holding its write is
committed. A write is acknowledged only after that.

Each commit also logs which documents each write changed (`changes`: the write's number,
the collection, the BSON of the `_id`, or NULL when the collection was emptied), from the
mark of the last index snapshot on (`embedded_snapshot`): a start after a kill catches the
snapshot up with them.

`meta` also records each collection's unique indexes (`embedded_unique`), written in the
commit order of the documents, so the documents on the file always satisfy them.

A data directory has one writer: `store.lock` is held with `flock` (and names the
process) while a service or a command has the store open.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import fcntl
import logging
import os
import sqlite3
import threading
import time
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bson
from bson.binary import UuidRepresentation
from bson.codec_options import CodecOptions, TypeDecoder, TypeRegistry
from bson.int64 import Int64

from nxce.core.errors import ServiceUnavailable

log = logging.getLogger("nxce.core.embedded_medium")

FILE_NAME = "store.sqlite3"
LOCK_NAME = "store.lock"
FORMAT = "nxce-embedded-1"
CODEC: CodecOptions[dict[str, Any]] = CodecOptions(
    tz_aware=False, uuid_representation=UuidRepresentation.STANDARD
)

_SCHEMA = (
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    "CREATE TABLE documents (collection TEXT NOT NULL, id BLOB NOT NULL, "
    "body BLOB NOT NULL, crc INTEGER NOT NULL)",
    "CREATE UNIQUE INDEX documents_key ON documents (collection, id)",
)
_PUT = (
    "INSERT INTO documents (collection, id, body, crc) VALUES (?, ?, ?, ?) "
    "ON CONFLICT (collection, id) DO UPDATE SET body = excluded.body, crc = excluded.crc"
)
_DELETE = "DELETE FROM documents WHERE collection = ? AND id = ?"
_DROP = "DELETE FROM documents WHERE collection = ?"
_READ = "SELECT body, crc FROM documents WHERE collection = ? AND id = ?"
_SCAN = "SELECT id, body, crc FROM documents WHERE collection = ? ORDER BY rowid"
_CHANGES = (
    "CREATE TABLE IF NOT EXISTS changes (seq INTEGER NOT NULL, collection TEXT NOT NULL, id BLOB)"
)
_LOG = "INSERT INTO changes (seq, collection, id) VALUES (?, ?, ?)"
SNAPSHOT_KEY = "snapshot"  # meta: "<token> <mark>" of the index snapshot of this data
UNIQUE_KEY = "unique "  # meta: + a collection's name: its unique indexes (`embedded_unique`)
UNIQUE_SINCE = "unique-recorded"  # meta: unique indexes are recorded in this data file
_RECORD = "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)"


class StoreError(RuntimeError):
    """The data directory cannot be opened; the message names the file and what to do."""


class StoreInUse(StoreError):
    """Another process holds the data directory; `holder` is its pid as it wrote it."""

    def __init__(self, message: str, holder: str) -> None:
        super().__init__(message)
        self.holder = holder


class StoreFailed(ServiceUnavailable):
    """A commit to the medium failed: the write is not acknowledged, and the store takes
    no more writes until the service restarts (it then loads what was committed)."""


@dataclass(frozen=True, slots=True)
class _Entry:
    """Queued for the writer: a write's ops, its number, and the index snapshot it names
    (`record_snapshot`), if any."""

    ops: list[Op]
    future: concurrent.futures.Future[None]
    number: int
    snapshot: tuple[str | None, int] | None = None
    # A request's write (`write`): woken on its event loop, with the others of its commit
    # in one call (a thread-safe call per commit, not per write).
    waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None


@dataclass(frozen=True, slots=True)
class Op:
    """One change: a document written (`body`), deleted (`body` None), or a whole
    collection emptied (`key` None); `identifier` is its key in memory. With `unique`,
    the record of the collection's unique indexes instead (`embedded_unique`)."""

    collection: str
    key: bytes | None
    body: bytes | None = None
    identifier: Any = None
    unique: str | None = None


def _wake_waiters(futures: list[asyncio.Future[None]], error: BaseException | None) -> None:
    """On the waiters' loop: the writes of a commit are committed (or failed)."""
    for future in futures:
        if future.done():  # its caller was cancelled
            continue
        if error is None:
            future.set_result(None)
        else:
            future.set_exception(error)


def checksum(key: bytes, body: bytes) -> int:
    return zlib.crc32(body, zlib.crc32(key))


def encode_key(identifier: Any) -> bytes:
    return bson.encode({"_id": identifier}, codec_options=CODEC)


def encode_document(document: Any) -> bytes:
    return bson.encode(document, codec_options=CODEC)


class _PlainInt(TypeDecoder):
    """BSON's Int64 decoded as plain `int`, as mongomock holds integers (its matchers and
    the embedded store's compare `type(value) is int`)."""

    bson_type = Int64

    def transform_bson(self, value: Any) -> int:
        return int(value)


_DECODE: CodecOptions[dict[str, Any]] = CODEC.with_options(
    type_registry=TypeRegistry([_PlainInt()])
)


def decode_document(body: bytes) -> dict[str, Any]:
    return bson.decode(body, codec_options=_DECODE)


class DirectoryLock:
    """The data directory's one writer: an exclusive `flock` on `store.lock`, which
    holds the holder's pid for the message another process gets."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / LOCK_NAME
        self._fd: int | None = None

    def acquire(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode(errors="replace").strip() or "unknown"
            os.close(fd)
            raise StoreInUse(
                f"the data directory {self.path.parent} is in use by process {holder} "
                f"(it holds {self.path}): one service or command at a time opens an "
                "embedded store; stop that process first, or use another NXCE_DATA_DIR",
                holder,
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None


def _connect(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
    connection.execute("PRAGMA synchronous = FULL")
    synchronous = connection.execute("PRAGMA synchronous").fetchone()[0]
    if str(mode).lower() != "wal" or synchronous != 2:
        connection.close()
        raise StoreError(
            f"{path}: SQLite runs with journal_mode={mode}, synchronous={synchronous} here, "
            "not WAL and FULL (2), so a commit may not be on disk before it is acknowledged; "
            "keep NXCE_DATA_DIR on a local file system that supports them"
        )
    return connection


def _create(path: Path) -> None:
    """A new, empty data file, made beside its place and moved there once complete (a
    file that exists is never an unfinished new one)."""
    fresh = path.with_name(path.name + ".new")
    fresh.unlink(missing_ok=True)
    connection = sqlite3.connect(fresh, isolation_level=None)
    try:
        connection.execute("PRAGMA journal_mode = WAL")
        connection.execute("BEGIN")
        for statement in _SCHEMA:
            connection.execute(statement)
        connection.execute("INSERT INTO meta VALUES ('format', ?)", (FORMAT,))
        connection.execute(_RECORD, (UNIQUE_SINCE, "1"))
        connection.execute("COMMIT")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        connection.close()
    for leftover in (fresh.with_name(fresh.name + "-wal"), fresh.with_name(fresh.name + "-shm")):
        leftover.unlink(missing_ok=True)
    os.replace(fresh, path)
    fsync_directory(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_directory(directory: Path) -> None:
    """Make the names in `directory` (a file moved in, a directory renamed) durable."""
    _fsync(directory)


def _corrupt(path: Path, what: str) -> StoreError:
    return StoreError(
        f"{path} is damaged ({what}); the service will not start on it. Stop, restore the "
        f"data directory from a backup (or move {path.name} away to start empty), and start "
        "again"
    )


class Medium:
    """The open data file and its writer thread."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self.lock = DirectoryLock(directory)
        self.failure: BaseException | None = None
        self.commits = 0
        # The index snapshot the data file names (token, mark), as found at open.
        self.snapshot: tuple[str, int] | None = None
        self.submitted = 0  # the number of the last write submitted (see `changes`)
        self.since_snapshot = 0  # writes (ops) submitted since the last snapshot started
        self.snapshot_started = 0.0  # time.monotonic() then (or at open)
        self.snapshot_task: Any = None  # the periodic snapshot being taken, if any
        self.snapshot_writer: Any = None  # and its file (`embedded_snapshot.Writer`)
        self.closing = False
        self._queue: list[_Entry] = []
        self._last: concurrent.futures.Future[None] | None = None
        self._wake = threading.Condition()
        self._closing = False
        self._connection: sqlite3.Connection | None = None
        self._read: sqlite3.Connection | None = None
        self._thread: threading.Thread | None = None

    def open(self) -> None:
        """Take the directory, create the file if there is none, check it and its
        settings (WAL, synchronous=FULL); raises StoreError naming what is wrong."""
        self.lock.acquire()
        try:
            if not self.path.exists():
                _create(self.path)
            self._connection = _connect(self.path)
            self._check()
            self._connection.execute(_CHANGES)
            self.snapshot = self._snapshot_named()
            last = self._connection.execute("SELECT max(seq) FROM changes").fetchone()[0]
            self.submitted = max(last or 0, self.snapshot[1] if self.snapshot else 0)
            self.snapshot_started = time.monotonic()
        except sqlite3.DatabaseError as error:
            self._abandon()
            raise _corrupt(self.path, str(error)) from None
        except BaseException:
            self._abandon()
            raise
        self._thread = threading.Thread(target=self._run, name="nxce-store-writer", daemon=True)
        self._thread.start()

    def _abandon(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None
        self.lock.release()

    def _check(self) -> None:
        assert self._connection is not None
        tables = {row[0] for row in self._connection.execute("SELECT name FROM sqlite_master")}
        if not {"meta", "documents"} <= tables:
            raise _corrupt(self.path, "it holds no nxce store: the file is empty or truncated")
        fmt = self._connection.execute("SELECT value FROM meta WHERE key = 'format'").fetchone()
        if fmt is None or fmt[0] != FORMAT:
            raise StoreError(f"{self.path}: unknown store format {fmt}, expected {FORMAT}")
        problems = [row[0] for row in self._connection.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise _corrupt(self.path, "; ".join(problems[:3]))

    def rows(self) -> Iterator[tuple[str, dict[str, Any]]]:
        """Every stored document in the order it was first written: (collection name,
        document); raises StoreError on a row whose checksum or encoding is wrong."""
        for collection, _, body in self.raw_rows():
            yield collection, self.decode(collection, body)

    def counts(self) -> dict[str, int]:
        """The number of documents of each collection."""
        assert self._connection is not None
        query = "SELECT collection, count(*) FROM documents GROUP BY collection"
        try:
            return dict(self._connection.execute(query).fetchall())
        except sqlite3.DatabaseError as error:
            raise _corrupt(self.path, str(error)) from None

    def raw_rows(
        self, skip: frozenset[str] = frozenset(), counts: dict[str, int] | None = None
    ) -> Iterator[tuple[str, bytes, bytes]]:
        """(collection name, BSON of the `_id`, BSON of the document) of every stored
        document (but those of the collections in `skip`) in the order it was first
        written, checksums checked (StoreError). Given the collections' `counts`, each
        collection is read by itself, in that order (the rows of those skipped are not
        read at all)."""
        assert self._connection is not None
        if counts is None:
            marks = ", ".join("?" * len(skip))
            query = (
                f"SELECT collection, id, body, crc FROM documents "  # noqa: S608 (placeholders only)
                f"WHERE collection NOT IN ({marks}) ORDER BY rowid"
            )
            yield from self._checked_rows(query, tuple(sorted(skip)))
            return
        query = (
            "SELECT collection, id, body, crc FROM documents WHERE collection = ? ORDER BY rowid"
        )
        for name in counts:
            if name not in skip:
                yield from self._checked_rows(query, (name,))

    def _checked_rows(
        self, query: str, parameters: tuple[str, ...]
    ) -> Iterator[tuple[str, bytes, bytes]]:
        assert self._connection is not None
        try:
            for collection, key, body, crc in self._connection.execute(query, parameters):
                if checksum(key, body) != crc:
                    raise _corrupt(self.path, f"a document of {collection} fails its checksum")
                yield collection, key, body
        except sqlite3.DatabaseError as error:
            raise _corrupt(self.path, str(error)) from None

    # -- reading documents kept only here (see `embedded_compact`) ---------------------

    def _reader(self) -> sqlite3.Connection:
        """A connection of the event loop's thread for reads: each read sees what is
        committed (WAL), never what is queued."""
        if self._read is None:
            self._read = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        return self._read

    def read(self, collection: str, key: bytes) -> bytes | None:
        """The committed BSON of one document (by the BSON of its `_id`), or None;
        StoreFailed when it fails its checksum."""
        row = self._reader().execute(_READ, (collection, key)).fetchone()
        if row is None:
            return None
        body = bytes(row[0])
        self._checked(collection, key, body, row[1])
        return body

    def scan(self, collection: str) -> Iterator[tuple[bytes, bytes]]:
        """(BSON of the `_id`, BSON of the document) of every committed document of
        `collection`, in the order each was first written (checksums checked)."""
        for key, body, crc in self._reader().execute(_SCAN, (collection,)):
            self._checked(collection, key, body, crc)
            yield bytes(key), bytes(body)

    def _checked(self, collection: str, key: bytes, body: bytes, crc: int) -> None:
        """A document read while serving that fails its checksum: the data file was
        changed under the service; the store takes no more writes (StoreFailed, 503)."""
        if checksum(key, body) != crc:
            self.failure = _corrupt(self.path, f"a document of {collection} fails its checksum")
            raise StoreFailed(str(self.failure))

    # -- the index snapshot and the log of changes since (see `embedded_snapshot`) ------

    def _snapshot_named(self) -> tuple[str, int] | None:
        """The token and mark of the index snapshot of this data, if any."""
        assert self._connection is not None
        query = "SELECT value FROM meta WHERE key = ?"
        row = self._connection.execute(query, (SNAPSHOT_KEY,)).fetchone()
        token, _, mark = str(row[0] if row else "").partition(" ")
        return (token, int(mark)) if token and mark.isdigit() else None

    def changes_since(self, mark: int) -> tuple[dict[str, list[bytes]], set[str]]:
        """The BSON `_id`s of the documents each collection had written or deleted by the
        writes after `mark`, in order, each once; and the collections emptied since."""
        assert self._connection is not None
        query = "SELECT collection, id FROM changes WHERE seq > ? ORDER BY rowid"
        changed: dict[str, dict[bytes, None]] = {}
        emptied: set[str] = set()
        try:
            for collection, key in self._connection.execute(query, (mark,)):
                if key is None:
                    emptied.add(collection)
                else:
                    changed.setdefault(collection, {})[bytes(key)] = None
        except sqlite3.DatabaseError as error:
            raise _corrupt(self.path, str(error)) from None
        return {name: list(keys) for name, keys in changed.items()}, emptied

    async def record_snapshot(self, token: str | None, mark: int) -> None:
        """Name the snapshot `token`, taken at `mark`, in the data file (None: none, there
        is no large collection to keep), and drop the log up to `mark`; committed after
        every write submitted before this call."""
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        if self.failure is not None:
            raise StoreFailed(f"the store no longer takes writes: {self.failure}")
        with self._wake:
            self._queue.append(_Entry([], future, 0, (token, mark)))
            self._wake.notify()
        self._last = future
        await asyncio.shield(asyncio.wrap_future(future))

    def decode(self, collection: str, body: bytes) -> dict[str, Any]:
        """A document of `collection` read from the file; StoreError when it is no BSON."""
        try:
            return decode_document(body)
        except bson.InvalidBSON as error:
            raise _corrupt(self.path, f"a document of {collection}: {error}") from None

    def unique_indexes(self) -> dict[str, str] | None:
        """The recorded unique indexes of each collection (`embedded_unique`); None for a
        data file written before they were recorded."""
        assert self._connection is not None
        try:
            rows = self._connection.execute("SELECT key, value FROM meta").fetchall()
        except sqlite3.DatabaseError as error:
            raise _corrupt(self.path, str(error)) from None
        found = dict(rows)
        if UNIQUE_SINCE not in found:
            return None
        return {k[len(UNIQUE_KEY) :]: v for k, v in found.items() if k.startswith(UNIQUE_KEY)}

    # -- writing ---------------------------------------------------------------------

    def submit(
        self,
        ops: list[Op],
        waiter: tuple[asyncio.AbstractEventLoop, asyncio.Future[None]] | None = None,
    ) -> concurrent.futures.Future[None]:
        """Queue `ops` for the next commit; the future ends when they are committed (or
        with StoreFailed), and so does `waiter`, on its loop. With no ops: a future for
        everything queued so far."""
        if self.failure is not None:
            raise StoreFailed(f"the store no longer takes writes: {self.failure}")
        if not ops:
            done: concurrent.futures.Future[None] = concurrent.futures.Future()
            done.set_result(None)
            return self._last if self._last is not None and not self._last.done() else done
        future: concurrent.futures.Future[None] = concurrent.futures.Future()
        with self._wake:
            self.submitted += 1
            self.since_snapshot += sum(op.unique is None for op in ops)  # documents
            self._queue.append(_Entry(ops, future, self.submitted, waiter=waiter))
            self._wake.notify()
        self._last = future
        return future

    async def write(self, ops: list[Op]) -> None:
        """Commit `ops` (and everything queued before them) before returning."""
        if not ops:
            await asyncio.shield(asyncio.wrap_future(self.submit(ops)))
            return
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self.submit(ops, (loop, waiter))
        # A caller cancelled stops waiting; the commit goes on (`_wake_waiters` skips it).
        await waiter

    def _run(self) -> None:
        while True:
            with self._wake:
                while not self._queue and not self._closing:
                    self._wake.wait()
                batch, self._queue = self._queue, []
            if not batch:
                return
            error: BaseException | None = None
            try:
                self._commit(batch)
                self.commits += 1
            except BaseException as failure:  # every waiter hears it; no later write is taken
                log.exception("committing %d write(s) to %s failed", len(batch), self.path)
                self.failure = failure
                error = StoreFailed(f"committing to {self.path} failed: {failure}")
            waiting: dict[asyncio.AbstractEventLoop, list[asyncio.Future[None]]] = {}
            for entry in batch:
                if error is None:
                    entry.future.set_result(None)
                else:
                    entry.future.set_exception(error)
                if entry.waiter is not None:
                    waiting.setdefault(entry.waiter[0], []).append(entry.waiter[1])
            for loop, futures in waiting.items():
                with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits
                    loop.call_soon_threadsafe(_wake_waiters, futures, error)

    def _commit(self, batch: list[_Entry]) -> None:
        connection = self._connection
        assert connection is not None
        connection.execute("BEGIN IMMEDIATE")
        try:
            for entry in batch:
                # Runs of puts go in one call (a batch of statements is a run): the writer
                # thread holds the interpreter less, and the request handlers wait less.
                puts: list[tuple[str, bytes, bytes, int]] = []
                for op in entry.ops:
                    if op.unique is None and op.key is not None and op.body is not None:
                        puts.append((op.collection, op.key, op.body, checksum(op.key, op.body)))
                        continue
                    if puts:
                        connection.executemany(_PUT, puts)
                        puts = []
                    if op.unique is not None:
                        connection.execute(_RECORD, (UNIQUE_KEY + op.collection, op.unique))
                        connection.execute(_RECORD, (UNIQUE_SINCE, "1"))
                    elif op.key is None:
                        connection.execute(_DROP, (op.collection,))
                    else:
                        connection.execute(_DELETE, (op.collection, op.key))
                if puts:
                    connection.executemany(_PUT, puts)
                logged = [
                    (entry.number, o.collection, o.key) for o in entry.ops if o.unique is None
                ]
                if logged:
                    connection.executemany(_LOG, logged)
                if entry.snapshot is not None:
                    self._name_snapshot(*entry.snapshot)
            connection.execute("COMMIT")
        except BaseException:
            with contextlib.suppress(sqlite3.Error):
                connection.execute("ROLLBACK")
            raise

    def backup(self, target: Path) -> int:
        """A consistent copy of the data file at `target` (SQLite's online backup, in one
        step: one read transaction, so it holds every commit before it and none after,
        while the writer goes on), checked (`quick_check`) and fsynced; answers the number
        of documents it holds. Raises StoreError when the copy does not check."""
        copy = sqlite3.connect(target, isolation_level=None)
        try:
            source = sqlite3.connect(self.path)
            try:
                source.backup(copy)
            finally:
                source.close()
            copy.execute("PRAGMA journal_mode = WAL")
            copy.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            problems = [row[0] for row in copy.execute("PRAGMA quick_check")]
            if problems != ["ok"]:
                raise StoreError(f"the copy {target} does not check: {'; '.join(problems[:3])}")
            documents: int = copy.execute("SELECT count(*) FROM documents").fetchone()[0]
        finally:
            copy.close()
        _fsync(target)
        return documents

    def drain(self) -> bool:
        """Commit what is queued and stop the writer; True when every commit succeeded
        (then the data file holds exactly what memory does)."""
        with self._wake:
            self._closing = True
            self._wake.notify()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        return self.failure is None

    def _name_snapshot(self, token: str | None, mark: int) -> None:
        """Name the snapshot `token` taken at `mark` (None: no snapshot stands for this
        data any more) and drop the log up to `mark` (kept only for a snapshot)."""
        assert self._connection is not None
        if token is None:
            self._connection.execute("DELETE FROM meta WHERE key = ?", (SNAPSHOT_KEY,))
        else:
            self._connection.execute(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                (SNAPSHOT_KEY, f"{token} {mark}"),
            )
        self._connection.execute("DELETE FROM changes WHERE seq <= ?", (mark,))

    def close(self, snapshot: str | None = None) -> None:
        """Commit what is queued, stop the writer, record `snapshot` (the token of an
        index snapshot of exactly this data, taken after `drain`, at the last write
        submitted; None: none, and the log is dropped), checkpoint the WAL into the file
        and let the directory go."""
        self.closing = True
        self.drain()
        if self._read is not None:
            self._read.close()
            self._read = None
        if self._connection is not None:
            if self.failure is None:
                try:
                    self._connection.execute("BEGIN IMMEDIATE")
                    self._name_snapshot(snapshot, self.submitted)
                    self._connection.execute("COMMIT")
                except sqlite3.Error:  # the snapshot only saves time: it is not named
                    log.exception("naming the index snapshot in %s failed", self.path)
                    with contextlib.suppress(sqlite3.Error):
                        self._connection.execute("ROLLBACK")
            with contextlib.suppress(sqlite3.Error):
                self._connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._connection.close()
            self._connection = None
        self.lock.release()
