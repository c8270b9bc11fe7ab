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

The unique indexes of each collection are recorded on the medium too (`embedded_unique`):
committed when an index is created or dropped, and ahead of a write's documents when they
changed since (a collection dropped), so a restart knows which unique indexes its
documents satisfy.

`one_commit()` gathers the writes of a block into one commit at its end (the statement
write path: one commit per batch, outside the statement write lock, so concurrent batches
share commits). Any write call, even one that changed nothing, waits for every write
queued before it: a caller never acknowledges something it read before it is committed.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from nxce.core import embedded_compact, embedded_indexes, embedded_snapshot, embedded_unique
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
INDEX_METHODS = ("create_index", "create_indexes", "drop_index", "drop_indexes")

log = logging.getLogger("nxce.core.embedded_journal")
_installed = False


class _Block:
    """The writes gathered by one `one_commit` block, in order."""

    def __init__(self) -> None:
        self.medium: Medium | None = None
        self.server: Any = None
        self.touched: list[tuple[Any, str, set[Any], bool]] = []


_open_blocks: set[_Block] = set()  # blocks whose writes are in memory, not yet submitted


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


def _unique_changed(store: Any) -> tuple[str, ...] | None:
    """The collection's unique indexes when they differ from what the medium records."""
    now = embedded_unique.recorded(store)
    return None if now == getattr(store, "_nxce_recorded", None) else now


def _ops(store: Any, name: str, touched: set[Any], dropped: bool) -> list[Op]:
    ops = [Op(name, None)] if dropped else []
    unique = _unique_changed(store)
    if unique is not None:  # first: the documents after it were written under these
        ops.insert(0, Op(name, None, unique=embedded_unique.record_text(unique)))
        store._nxce_recorded = unique
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
    if touched or dropped:  # the medium vouches for no index not created by now
        store._nxce_vouched = frozenset()
    name = f"{collection.database.name}.{collection.name}"
    block = _block.get()
    if block is not None:
        block.medium, block.server = medium, collection.database.client._store
        if touched or dropped:
            block.touched.append((store, name, touched, dropped))
        return
    ops = _ops(store, name, touched, dropped)
    await medium.write(ops)
    _let_go(medium, [(store, name)], ops)
    _snapshot_if_due(collection.database.client._store, medium)


@asynccontextmanager
async def one_commit() -> AsyncIterator[None]:
    """The embedded writes of the block are committed together at its end (also when
    it fails: memory holds them already); a block inside another joins the outer one."""
    if _block.get() is not None:
        yield
        return
    block = _Block()
    token = _block.set(block)
    _open_blocks.add(block)
    try:
        yield
    finally:
        _block.reset(token)
        _open_blocks.discard(block)
        if block.medium is not None:
            merged = _merged(block.touched)
            ops = [op for entry in merged for op in _ops(*entry)]
            await block.medium.write(ops)
            _let_go(block.medium, [(store, name) for store, name, _, _ in merged], ops)
            _snapshot_if_due(block.server, block.medium)


def _merged(
    touched: list[tuple[Any, str, set[Any], bool]],
) -> list[tuple[Any, str, set[Any], bool]]:
    """The block's writes, one entry a collection: a document written by several calls
    (a statement inserted then marked, a counter moved twice) is written once, as memory
    holds it at the end. A collection dropped in the block is dropped first, then its
    documents written since are put back: only those touched after the drop are kept
    (the drop emptied the others)."""
    by_store: dict[int, tuple[Any, str, set[Any], bool]] = {}
    for store, name, ids, dropped in touched:
        held = by_store.get(id(store))
        if held is None or dropped:
            by_store[id(store)] = (store, name, set(ids), dropped or (held is not None and held[3]))
        else:
            held[2].update(ids)
    return list(by_store.values())


async def _record_unique(collection: Any) -> None:
    """After an index is created or dropped on `collection` (a mongomock Collection):
    commit the record of its unique indexes, if it changed. Not in a `one_commit` block:
    a record may be committed before the block's documents, which were in memory, so
    checked, when an index was created (and one that shrank claims less)."""
    medium = medium_of(collection.database.client._store)
    store = collection._store
    unique = _unique_changed(store)
    if medium is None or unique is None:
        return
    name = f"{collection.database.name}.{collection.name}"
    store._nxce_recorded = unique
    await medium.write([Op(name, None, unique=embedded_unique.record_text(unique))])


def _then(
    original: Callable[..., Any], after: Callable[[Any], Awaitable[None]]
) -> Callable[..., Any]:
    """mongomock-motor's method `original`, followed (even when it fails) by `after` on
    its mongomock Collection: `_settle` after a write, `_record_unique` after an index
    change."""

    async def wrapped(self: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await original(self, *args, **kwargs)
        finally:
            await after(self._AsyncMongoMockCollection__collection)

    wrapped.__name__ = original.__name__
    return wrapped


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
    for names, after in ((WRITE_METHODS, _settle), (INDEX_METHODS, _record_unique)):
        for name in names:
            original = getattr(AsyncMongoMockCollection, name)
            setattr(AsyncMongoMockCollection, name, _then(original, after))
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
        embedded_snapshot.remove_partials(directory)
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
    holds (`embedded_snapshot`) takes its ids and indexes from there, caught up with what
    was written since."""
    counts = medium.counts()
    _vouch(medium, server, counts)
    large = {name for name, count in counts.items() if count >= embedded_compact.COMPACT_FROM}
    kept = _kept(medium, counts)
    count = 0
    for name, (ids, held) in kept.items():
        store = _compact(server, medium, name)
        store._documents.bodies = ids
        embedded_indexes.keep(store, held)
        count += len(ids)
    for name, key, body in medium.raw_rows(skip=frozenset(kept), counts=counts):
        identifier = _key(medium.decode(name, key)["_id"])
        if name in large:
            _compact(server, medium, name)._documents.put_body(identifier, embedded_compact.COLD)
        else:
            database, _, collection = name.partition(".")
            server[database][collection]._documents[identifier] = medium.decode(name, body)
        count += 1
    return count


def _vouch(medium: Medium, server: Any, counts: dict[str, int]) -> None:
    """Each collection's unique indexes as the medium records them: vouched for until its
    first write (`embedded_unique`); all of them, once, for a data file without records."""
    unique = medium.unique_indexes()
    for name in counts if unique is None else unique:
        database, _, collection = name.partition(".")
        store = server[database][collection]
        if unique is None:
            store._nxce_vouched = embedded_unique.EVERY
            continue
        specs = embedded_unique.specs_of(unique[name])
        store._nxce_vouched = specs
        store._nxce_recorded = tuple(sorted(specs))


def _kept(
    medium: Medium, counts: dict[str, int]
) -> dict[str, tuple[dict[Any, bytes], embedded_indexes.Kept]]:
    """The collections the index snapshot holds, caught up with the writes since it: the
    ids of their documents (all `COLD`) and their indexes to be caught up when first used;
    a collection emptied since, or whose count does not agree, is left out (read)."""
    read = embedded_snapshot.read(medium.path.parent, medium.snapshot)
    if read is None:
        return {}
    mark, taken = read
    changes, emptied = medium.changes_since(mark)
    kept = {}
    for name, held in taken.items():
        if name in emptied:
            continue
        ids = dict.fromkeys(held.indexes.slots, embedded_compact.COLD)  # hashes reused
        changed = dict.fromkeys(held.pending)
        changed.update((_key(medium.decode(name, k)["_id"]), None) for k in changes.get(name, ()))
        for identifier in changed:
            if medium.read(name, encode_key(identifier)) is None:
                ids.pop(identifier, None)
            else:
                ids[identifier] = embedded_compact.COLD
        if len(ids) != counts.get(name, 0):
            log.warning("the index snapshot of %s disagrees with the data file: rebuilt", name)
            continue
        kept[name] = (ids, embedded_indexes.Kept(held.indexes, list(changed)))
        if changed:
            log.info(
                "embedded store: %d documents of %s changed since its index snapshot",
                len(changed),
                name,
            )
    return kept


def _compact(server: Any, medium: Medium, name: str) -> Any:
    """The store of collection `name` (database.collection), its documents held compactly
    on `medium`."""
    database, _, collection = name.partition(".")
    store = server[database][collection]
    if type(store._documents) is not CompactDocuments:
        store._documents = CompactDocuments()
        store._documents.keep_on(medium, name)
    return store


def _indexed(server: Any, medium: Medium) -> dict[str, Any]:
    """The current indexes of every compact collection held on `medium`, by its name
    there (those not built, or outdated, are not kept: a start builds them)."""
    found = {}
    for database_name in list(server._databases):
        database = server[database_name]
        for collection_name in list(database._collections):
            store = database[collection_name]
            documents = store._documents
            if type(documents) is not CompactDocuments or documents.medium is not medium:
                continue
            indexes = embedded_indexes.current(store)
            if indexes is not None:
                found[f"{database_name}.{collection_name}"] = indexes
    return found


def _pending(server: Any, names: set[str]) -> dict[str, list[Any]]:
    """The ids of the documents of collections `names` changed in memory and not yet
    submitted to the medium (not taken by a write yet, or held by an open block)."""
    pending: dict[str, set[Any]] = {}
    for name in names:
        database, _, collection = name.partition(".")
        touched = getattr(server[database][collection], "_nxce_touched", None)
        if touched:
            pending.setdefault(name, set()).update(touched)
    for block in _open_blocks:
        for _, name, touched, _ in block.touched:
            if name in names and touched:
                pending.setdefault(name, set()).update(touched)
    return {name: list(ids) for name, ids in pending.items()}


def _snapshot_if_due(server: Any, medium: Medium) -> None:
    """Start taking an index snapshot in the background when enough was written since
    the last (`SNAPSHOT_AFTER` writes, or `SNAPSHOT_SOME` and `SNAPSHOT_EVERY` seconds)."""
    if medium.snapshot_task is not None or medium.closing or server is None:
        return
    since = medium.since_snapshot
    waited = time.monotonic() - medium.snapshot_started
    if since >= embedded_snapshot.SNAPSHOT_AFTER or (
        since >= embedded_snapshot.SNAPSHOT_SOME and waited >= embedded_snapshot.SNAPSHOT_EVERY
    ):
        medium.snapshot_task = asyncio.get_running_loop().create_task(_periodic(server, medium))


async def _periodic(server: Any, medium: Medium) -> None:
    """Take an index snapshot while serving, a frame at a time (see `embedded_snapshot`):
    from the mark of the last write submitted now; then name it in the data file."""
    mark = medium.submitted
    medium.since_snapshot, medium.snapshot_started = 0, time.monotonic()
    token = embedded_snapshot.new_token()
    writer = None
    try:
        collections = _indexed(server, medium)
        if not collections:  # nothing to keep: the log need not grow
            await medium.record_snapshot(None, mark)
            return
        generations = {name: (i, i.generation) for name, i in collections.items()}
        writer = medium.snapshot_writer = embedded_snapshot.Writer(medium.path.parent, token, mark)
        frames = embedded_snapshot.frames(collections)
        while True:
            began = time.perf_counter()
            frame = next(frames, None)
            if frame is None:
                break
            writer.frame(frame)
            # Requests are served between frames; the snapshot takes at most about half
            # of the event loop's time while it is taken.
            await asyncio.sleep(min(time.perf_counter() - began, embedded_snapshot.PAUSE))
            if medium.closing or not _same(server, generations):
                writer.abandon()
                return
        writer.frame(("pending", _pending(server, set(collections))))
        await asyncio.to_thread(writer.seal)
        if medium.closing:
            writer.abandon()
            return
        writer.install(list(collections))
        await medium.record_snapshot(token, mark)
    except Exception:  # the snapshot only saves time: the data file is what counts
        if not medium.closing:  # else `close_client` abandoned it
            log.exception("keeping the indexes for the next start failed; tried again later")
        if writer is not None:
            writer.abandon()
    finally:
        medium.snapshot_task = medium.snapshot_writer = None


def _same(server: Any, generations: dict[str, tuple[embedded_indexes.HashIndexes, int]]) -> bool:
    """Whether each collection still has the indexes it had (not rebuilt, not dropped)."""
    for name, (indexes, generation) in generations.items():
        database, _, collection = name.partition(".")
        now = getattr(server[database][collection], "_nxce_hash", None)
        if now is not indexes or indexes.generation != generation or indexes.dirty:
            return False
    return True


def close_client(client: Any) -> None:
    """Commit what is queued, keep the indexes of the large collections for the next
    start (when every commit succeeded) and let the data directory go (a no-op in
    memory)."""
    server = client._store
    medium = medium_of(server)
    if medium is None:
        return
    token = None
    medium.closing = True  # a snapshot being taken in the background stops
    if medium.snapshot_writer is not None:
        medium.snapshot_writer.abandon()
    if medium.snapshot_task is not None:
        medium.snapshot_task.cancel()
    try:
        if medium.drain():
            collections = _indexed(server, medium)
            if collections:
                token = embedded_snapshot.new_token()
                embedded_snapshot.write(medium.path.parent, token, medium.submitted, collections)
    except Exception:  # the snapshot only saves time: the data file is what counts
        log.exception("keeping the indexes for the next start failed; they will be rebuilt")
        token = None
    finally:
        medium.close(snapshot=token)
        server._nxce_medium = None
