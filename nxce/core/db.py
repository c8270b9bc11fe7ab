"""Every MongoDB client choice of the service lives here.

Production: motor on a real MongoDB (a replica set, writes with `majority`).
Embedded default: the same Beanie code on mongomock-motor, kept in a SQLite file under
`$NXCE_DATA_DIR` (`embedded_medium`, `embedded_journal`), or in memory only when asked.
Moving to Beanie 2 on PyMongo's async client changes this module only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from datetime import UTC, datetime
from typing import Any, TypeVar

from beanie import Document, init_beanie
from motor.motor_asyncio import AsyncIOMotorClient
from pymongo.errors import BulkWriteError, ConfigurationError, DuplicateKeyError

from nxce.core.embedded_medium import StoreError, StoreFailed, StoreInUse
from nxce.settings import ConfigError, Settings

log = logging.getLogger("nxce.core.db")

T = TypeVar("T")

# Errors domain code catches, named here so a driver change touches this module only.
__all__ = ["BulkWriteError", "DuplicateKeyError", "StoreError", "StoreFailed", "StoreInUse"]
DUPLICATE_KEY = 11000


class _State:
    """The client of this process, whether its server runs transactions, and whether
    other processes may write to it (MongoDB: several API replicas)."""

    client: Any = None
    transactions = False
    shared = False


_state = _State()


def connect(settings: Settings) -> Any:
    """A client for the configured store: MongoDB when `mongodb_url` is set, else the
    embedded store loaded from the data directory (which it then holds: one writer), or
    an empty one in memory (`embedded_in_memory`). Raises `StoreError` when the data
    directory cannot be used (held by another process, damaged), `ConfigError` when the
    driver refuses the MongoDB URL (it connects later: a server down is not seen here)."""
    if settings.mongodb_url:
        try:
            return AsyncIOMotorClient(
                settings.mongodb_url,
                tz_aware=True,
                uuidRepresentation="standard",
                w="majority",
                appname="nxce",
            )
        except (ConfigurationError, ValueError, TypeError) as error:  # InvalidURI included
            raise ConfigError("mongodb_url", settings.mongodb_url, f"refused: {error}") from None
    from mongomock_motor import AsyncMongoMockClient

    from nxce.core import embedded_journal, embedded_store

    if not settings.embedded_in_memory:
        return embedded_journal.open_client(settings.data_dir)
    embedded_store.speed_up()
    return AsyncMongoMockClient(tz_aware=True)


def database(client: Any, settings: Settings) -> Any:
    """The service's database on `client`."""
    return client[settings.database]


async def prepare(client: Any, settings: Settings) -> None:
    """Remember `client` and whether it can run transactions (a replica set or mongos)."""
    _state.client = client
    _state.transactions = False
    _state.shared = not settings.embedded
    if settings.embedded:
        return
    hello = await client.admin.command("hello")
    _state.transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
    if not _state.transactions:
        log.warning("MongoDB is standalone: writes that belong together are not transactional")


async def atomic(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(session)` in a transaction where the server has them (retried on
    transient errors), else `work(None)`; the embedded store has no transactions, but
    commits the writes of `work` to its medium together (`one_commit`)."""
    if not _state.transactions or _state.client is None:
        async with one_commit():
            return await work(None)
    async with await _state.client.start_session() as session:
        result: T = await session.with_transaction(work)
        return result


def shared() -> bool:
    """Whether other processes may write to the store: MongoDB, where several API
    replicas may run; the embedded store belongs to one process."""
    return _state.shared


def one_commit() -> AbstractAsyncContextManager[None]:
    """On the durable embedded store, the writes of the block are committed to its medium
    together at its end (and the block waits for that); elsewhere nothing changes."""
    from nxce.core import embedded_journal

    return embedded_journal.one_commit()


def now() -> datetime:
    """The current UTC time at the precision MongoDB stores (milliseconds), so what a
    write answers equals what a later read answers."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def collection(model: type[Document]) -> Any:
    """The driver collection behind a Beanie document, for raw operations."""
    return model.get_motor_collection()


def memo(model: type[Document]) -> dict[Any, Any] | None:
    """On the embedded store: a dict kept with the collection of `model` and emptied
    before every write to it, for a read a request repeats on data that seldom changes
    (a client by its key, the statement counter): kept there, the read is not made
    again until the collection changes. None on MongoDB, where other processes write."""
    if _state.shared:
        return None
    from nxce.core import embedded_store

    return embedded_store.memo(collection(model))


# Reads kept per collection at most (`read_kept`); beyond, the memo starts afresh (keys a
# request names, as a client key, are not the service's to bound).
MEMO_LIMIT = 10_000


async def read_kept(model: type[Document], key: Any, read: Callable[[], Awaitable[T]]) -> T:
    """`await read()`, kept in `memo(model)` under `key` until the collection of `model`
    changes (read each time on MongoDB). A write during the read empties another dict
    than the one it is kept in, which no later call sees."""
    kept = memo(model)
    if kept is None:
        return await read()
    if key in kept:
        value: T = kept[key]
        return value
    value = await read()
    if len(kept) >= MEMO_LIMIT:
        kept.clear()
    kept[key] = value
    return value


async def init_documents(
    db: Any, models: Sequence[type[Document]], *, skip_indexes: bool = False
) -> None:
    """Bind the Beanie documents to `db` and (unless skipped) create their indexes."""
    await init_beanie(database=db, document_models=list(models), skip_indexes=skip_indexes)


async def ping(db: Any) -> bool:
    """True when the store answers (and a durable embedded store still takes writes)."""
    from nxce.core import embedded_journal

    medium = embedded_journal.medium_of(getattr(db.client, "_store", None))
    if medium is not None and medium.failure is not None:
        log.warning("the embedded store takes no more writes: %s", medium.failure)
        return False
    try:
        await db.command("ping")
    except Exception:  # any driver failure means "not healthy"
        log.warning("MongoDB ping failed", exc_info=True)
        return False
    return True


def embedded_medium(db: Any) -> Any:
    """The durable medium under `db` (an embedded store's database), or None: MongoDB, or
    the embedded store in memory."""
    from nxce.core import embedded_journal

    return embedded_journal.medium_of(getattr(db.client, "_store", None))


def close(client: Any) -> None:
    """Close `client`'s connections; a durable embedded store commits what is queued
    and lets its data directory go."""
    from nxce.core import embedded_journal

    if hasattr(client, "_store"):
        embedded_journal.close_client(client)
    closer = getattr(client, "close", None)
    if callable(closer):
        closer()


def encode(value: Any) -> Any:
    """`value` (models, dates, enums…) as Beanie stores it, for raw updates."""
    from beanie.odm.utils.encoder import Encoder

    return Encoder().encode(value)


def new_document(document: Document) -> dict[str, Any]:
    """A new Beanie document as raw BSON for `insert_many` (the driver assigns `_id`)."""
    raw: dict[str, Any] = encode(document)
    for key in ("_id", "revision_id"):
        if raw.get(key) is None:
            raw.pop(key, None)
    return raw
