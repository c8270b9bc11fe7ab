"""Every write to a durable embedded store reaches its medium before it returns.

mongomock changes documents synchronously; each write method of mongomock-motor's
collection (insert, update, replace, delete, find-and-modify, bulk, drop) is wrapped so
that, once it has changed memory, the documents it touched are written to the medium and
the call returns only after they are committed (`Medium.write`). Which documents were
touched is recorded where mongomock changes them: a document set or deleted in a
collection's store, and one changed in place by an update (`_ensure_uniques` sees each, or
the fast `$set` of `embedded_updates` tells of it).

What is written is a document as memory holds it when it is written, so a document
written again by a later call is never overwritten on the medium by an older copy.

`one_commit()` gathers the writes of a block into one commit at its end (the statement
write path: one commit per batch, outside the statement write lock, so concurrent batches
share commits). Any write call, even one that changed nothing, waits for every write
queued before it: a caller never acknowledges something it read before it is committed.
"""

from __future__ import annotations

import contextvars
import logging
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from nxce.core import embedded_compact, embedded_indexes, embedded_snapshot
from nxce.core.embedded_compact import CompactDocuments
from nxce.core.embedded_medium import Medium, Op, encode_document, encode_key

WRITE_METHODS = (
    "bulk_write",
    "delete_many",
    "delete_one",
    "drop",
    "find_one_and_delete",
    "find_one_and_replace",
    "find_one_and_update",
    "insert_many",
    "insert_one",
    "replace_one",
    "update_many",
    "update_one",
)

log = logging.getLogger("nxce.core.embedded_journal")
_installed = False


class _Block:
    """The writes gathered by one `one_commit` block, in order."""

    def __init__(self) -> None:
        self.medium: Medium | None = None
        self.touched: list[tuple[Any, str, set[Any], bool]] = []


_block: contextvars.ContextVar[_Block | None] = contextvars.ContextVar(
    "nxce_embedded_block", default=None
)


def medium_of(server_store: Any) -> Medium | None:
    medium: Medium | None = getattr(server_store, "_nxce_medium", None)
    return medium


def attach(server_store: Any, medium: Medium) -> None:
    """Make the writes to `server_store` (a mongomock ServerStore) durable on `medium`."""
    install()
    server_store._nxce_medium = medium


def _take(store: Any) -> tuple[set[Any], bool]:
    """The ids changed in a collection's store since last taken, and whether it was
    emptied (dropped) first."""
    touched: set[Any] = getattr(store, "_nxce_touched", None) or set()
    dropped = bool(getattr(store, "_nxce_dropped", False))
    store._nxce_touched = set()
    store._nxce_dropped = False
    return touched, dropped


def _ops(store: Any, name: str, touched: set[Any], dropped: bool) -> list[Op]:
    ops = [Op(name, None)] if dropped else []
    documents = store._documents
    compact = type(documents) is CompactDocuments
    for identifier in touched:
        if compact:  # held as the BSON the medium stores
            body = documents.body(identifier)
        else:
            document = documents.get(identifier)
            body = None if document is None else encode_document(document)
        ops.append(Op(name, encode_key(identifier), body, identifier))
    return ops


def _let_go(medium: Medium, stores: list[tuple[Any, str]], ops: list[Op]) -> None:
    """The documents of compact collections committed by `ops` are left on the medium
    (unless they changed since)."""
    for store, name in stores:
        documents = store._documents
        if type(documents) is not CompactDocuments:
            continue
        if documents.medium is None:
            documents.keep_on(medium, name)
        for op in ops:
            if op.collection == name and op.body is not None:
                documents.settled(op.identifier, op.body)


async def _settle(collection: Any) -> None:
    """After a write on `collection` (a mongomock Collection): commit what it changed."""
    medium = medium_of(collection.database.client._store)
    store = collection._store
    touched, dropped = _take(store)
    if medium is None:
        return
    name = f"{collection.database.name}.{collection.name}"
    block = _block.get()
    if block is not None:
        block.medium = medium
        if touched or dropped:
            block.touched.append((store, name, touched, dropped))
        return
    ops = _ops(store, name, touched, dropped)
    await medium.write(ops)
    _let_go(medium, [(store, name)], ops)


@asynccontextmanager
async def one_commit() -> AsyncIterator[None]:
    """The embedded writes of the block are committed together at its end (also when
    it fails: memory holds them already); a block inside another joins the outer one."""
    if _block.get() is not None:
        yield
        return
    block = _Block()
    token = _block.set(block)
    try:
        yield
    finally:
        _block.reset(token)
        if block.medium is not None:
            ops = [op for entry in block.touched for op in _ops(*entry)]
            await block.medium.write(ops)
            _let_go(block.medium, [(store, name) for store, name, _, _ in block.touched], ops)


def _durable(original: Callable[..., Any]) -> Callable[..., Any]:
    async def write(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        finally:
            await _settle(self._AsyncMongoMockCollection__collection)

    write.__name__ = original.__name__
    return write


def install() -> None:
    """Record what mongomock changes, and wrap mongomock-motor's write methods (once)."""
    global _installed
    if _installed:
        return
    import mongomock.collection as mc
    from mongomock.store import CollectionStore
    from mongomock_motor import AsyncMongoMockCollection

    from nxce.core import embedded_store, embedded_updates

    embedded_store.speed_up()  # first: these hooks wrap its own
    original_set: Callable[..., Any] = CollectionStore.__setitem__
    original_del: Callable[..., Any] = CollectionStore.__delitem__
    original_drop: Callable[..., Any] = CollectionStore.drop
    original_uniques: Callable[..., Any] = mc.Collection._ensure_uniques

    def _touch(store: Any, key: Any) -> None:
        touched = getattr(store, "_nxce_touched", None)
        if touched is None:
            touched = store._nxce_touched = set()
        touched.add(key)

    def set_item(self: Any, key: Any, value: Any) -> None:
        original_set(self, key, value)
        _touch(self, key)

    def del_item(self: Any, key: Any) -> None:
        original_del(self, key)
        _touch(self, key)

    def drop(self: Any) -> None:
        original_drop(self)
        self._nxce_touched = set()
        self._nxce_dropped = True

    def ensure_uniques(self: Any, new_data: Any) -> Any:
        result = original_uniques(self, new_data)
        identifier = new_data.get("_id")
        _touch(self._store, _key(identifier))
        return result

    CollectionStore.__setitem__ = set_item  # type: ignore[method-assign]
    CollectionStore.__delitem__ = del_item  # type: ignore[method-assign]
    CollectionStore.drop = drop  # type: ignore[method-assign]
    mc.Collection._ensure_uniques = ensure_uniques  # type: ignore[method-assign]
    embedded_updates.on_change.append(_touch)  # a fast `$set` changes documents in place
    for name in WRITE_METHODS:
        setattr(AsyncMongoMockCollection, name, _durable(getattr(AsyncMongoMockCollection, name)))
    _installed = True


def _key(identifier: Any) -> Any:
    """The key mongomock files a document under (a dict `_id` as a hashable dict)."""
    if isinstance(identifier, dict):
        from mongomock import helpers

        return helpers.hashdict(identifier)
    return identifier


def open_client(directory: Path) -> Any:
    """An embedded store client holding what `directory`'s data file holds, its writes
    made durable there; raises StoreError (naming the file) when it cannot be used."""
    from mongomock_motor import AsyncMongoMockClient

    medium = Medium(directory)
    started = time.perf_counter()
    medium.open()
    try:
        client: Any = AsyncMongoMockClient(tz_aware=True)
        server = client._store
        count = _load(medium, server)
    except BaseException:
        medium.close()
        raise
    attach(server, medium)
    log.info(
        "embedded store: %d documents loaded from %s in %.2f s",
        count,
        medium.path,
        time.perf_counter() - started,
    )
    return client


def _load(medium: Medium, server: Any) -> int:
    """Put what the medium holds into `server` (a mongomock ServerStore): the documents of
    a collection of `COMPACT_FROM` or more left on the medium (compact, `COLD`), those of
    the others decoded; answers the number of documents. A collection the index snapshot
    holds (`embedded_snapshot`) takes its keys and indexes from there."""
    counts = medium.counts()
    large = {name for name, count in counts.items() if count >= embedded_compact.COMPACT_FROM}
    kept = embedded_snapshot.read(medium.path.parent, medium.snapshot) or {}
    kept = {name: taken for name, taken in kept.items() if len(taken.keys) == counts.get(name)}
    count = 0
    for name, taken in kept.items():
        store = _compact(server, medium, name)
        store._documents.bodies = dict.fromkeys(taken.keys, embedded_compact.COLD)
        if taken.indexes is not None:
            embedded_indexes.keep(store, taken.indexes)
        count += len(taken.keys)
    for name, key, body in medium.raw_rows(skip=frozenset(kept)):
        identifier = _key(medium.decode(name, key)["_id"])
        if name in large:
            _compact(server, medium, name)._documents.put_body(identifier, embedded_compact.COLD)
        else:
            database, _, collection = name.partition(".")
            server[database][collection]._documents[identifier] = medium.decode(name, body)
        count += 1
    return count


def _compact(server: Any, medium: Medium, name: str) -> Any:
    """The store of collection `name` (database.collection), its documents held compactly
    on `medium`."""
    database, _, collection = name.partition(".")
    store = server[database][collection]
    if type(store._documents) is not CompactDocuments:
        store._documents = CompactDocuments()
        store._documents.keep_on(medium, name)
    return store


def _snapshot(server: Any, medium: Medium) -> dict[str, embedded_snapshot.Taken]:
    """The keys and indexes of every compact collection held on `medium` (call once
    every write is committed)."""
    taken = {}
    for database_name in list(server._databases):
        database = server[database_name]
        for collection_name in list(database._collections):
            store = database[collection_name]
            documents = store._documents
            if type(documents) is not CompactDocuments or documents.medium is not medium:
                continue
            built = getattr(store, "_nxce_hash", None)
            kept = getattr(store, "_nxce_kept", None)
            state = built.state() if built is not None and not built.dirty else kept
            name = f"{database_name}.{collection_name}"
            taken[name] = embedded_snapshot.Taken(list(documents.bodies), state)
    return taken


def close_client(client: Any) -> None:
    """Commit what is queued, keep the indexes of the large collections for the next
    start (when every commit succeeded) and let the data directory go (a no-op in
    memory)."""
    server = client._store
    medium = medium_of(server)
    if medium is None:
        return
    token = None
    try:
        if medium.drain():
            taken = _snapshot(server, medium)
            if taken:
                token = embedded_snapshot.new_token()
                embedded_snapshot.write(medium.path.parent, token, taken)
    except Exception:  # the snapshot only saves time: the data file is what counts
        log.exception("keeping the indexes for the next start failed; they will be rebuilt")
        token = None
    finally:
        medium.close(snapshot=token)
        server._nxce_medium = None
