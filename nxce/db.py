"""Every MongoDB client choice of the service lives here.

Production: motor on a real MongoDB (a replica set, writes with `majority`).
Embedded default: the same Beanie code on mongomock-motor, in memory.
Moving to Beanie 2 on PyMongo's async client changes this module only.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

from beanie import Document, init_beanie
from motor.motor_asyncio import AsyncIOMotorClient, AsyncIOMotorDatabase
from pymongo.errors import BulkWriteError, DuplicateKeyError

from nxce.settings import Settings

log = logging.getLogger("nxce.db")

Database = AsyncIOMotorDatabase  # what domain services receive when they need raw access
T = TypeVar("T")

# Errors domain code catches, named here so a driver change touches this module only.
__all__ = ["BulkWriteError", "DuplicateKeyError"]
DUPLICATE_KEY = 11000


class _State:
    """The client of this process, and whether its server runs transactions."""

    client: Any = None
    transactions = False


_state = _State()


def connect(settings: Settings) -> Any:
    """A client for the configured store: MongoDB when `mongodb_url` is set, else in memory."""
    if settings.mongodb_url:
        return AsyncIOMotorClient(
            settings.mongodb_url,
            tz_aware=True,
            uuidRepresentation="standard",
            w="majority",
            appname="nxce",
        )
    from mongomock_motor import AsyncMongoMockClient

    _speed_up_mock()
    return AsyncMongoMockClient(tz_aware=True)


def database(client: Any, settings: Settings) -> Any:
    """The service's database on `client`."""
    return client[settings.database]


async def prepare(client: Any, settings: Settings) -> None:
    """Remember `client` and whether it can run transactions (a replica set or mongos)."""
    _state.client = client
    _state.transactions = False
    if settings.embedded:
        return
    hello = await client.admin.command("hello")
    _state.transactions = bool(hello.get("setName")) or hello.get("msg") == "isdbgrid"
    if not _state.transactions:
        log.warning("MongoDB is standalone: writes that belong together are not transactional")


async def atomic(work: Callable[[Any], Awaitable[T]]) -> T:
    """Run `work(session)` in a transaction where the server has them (retried on
    transient errors), else `work(None)`; the embedded store has no transactions."""
    if not _state.transactions or _state.client is None:
        return await work(None)
    async with await _state.client.start_session() as session:
        result: T = await session.with_transaction(work)
        return result


def now() -> datetime:
    """The current UTC time at the precision MongoDB stores (milliseconds), so what a
    write answers equals what a later read answers."""
    moment = datetime.now(UTC)
    return moment.replace(microsecond=moment.microsecond // 1000 * 1000)


def collection(model: type[Document]) -> Any:
    """The driver collection behind a Beanie document, for raw operations."""
    return model.get_motor_collection()


async def init_documents(
    db: Any, models: Sequence[type[Document]], *, skip_indexes: bool = False
) -> None:
    """Bind the Beanie documents to `db` and (unless skipped) create their indexes."""
    await init_beanie(database=db, document_models=list(models), skip_indexes=skip_indexes)


async def ping(db: Any) -> bool:
    """True when the store answers."""
    try:
        await db.command("ping")
    except Exception:  # any driver failure means "not healthy"
        log.warning("MongoDB ping failed", exc_info=True)
        return False
    return True


def close(client: Any) -> None:
    """Close `client`'s connections (a no-op for the in-memory store)."""
    closer = getattr(client, "close", None)
    if callable(closer):
        closer()


_patched = False


def _speed_up_mock() -> None:
    """Three speed-ups of mongomock for the embedded store; results are unchanged.

    1. mongomock deep-copies every matching document of a query before it applies
       `skip` and `limit`, so a page of 20 out of 4344 courses costs 4344 copies. Real
       MongoDB returns only the page. The patched cursor copies only the page.
    2. mongomock runs its general query interpreter on every document. Filters that are
       plain equalities on top-level fields (most lookups of this service) are matched
       by `equality_matcher` instead, with MongoDB's semantics for those filters.
    3. mongomock sorts with a Python comparison object per document. A sort on one
       top-level field whose values are all strings, or all numbers, is a plain sort.

    `tests/test_db.py` checks both against mongomock's own behaviour.
    """
    global _patched
    if _patched:
        return
    import mongomock.collection as mc
    from mongomock import helpers

    def _compute_results(self: Any, with_limit_and_skip: bool = False) -> list[Any]:
        if not with_limit_and_skip or (self._skip == 0 and not self._limit):
            return original_results(self, with_limit_and_skip)
        key = (self._factory, self._skip, self._limit)
        cached = getattr(self, "_nxce_window", None)
        if cached is None or cached[0] != key:
            stop = None if not self._limit else self._skip + abs(self._limit)
            window = list(itertools.islice(self._factory(), self._skip, stop))
            if self.collection.codec_options.tz_aware:
                window = [helpers.make_datetime_timezone_aware_in_document(d) for d in window]
            cached = self._nxce_window = (key, window)
        return cached[1]

    def _get_dataset(self: Any, spec: Any, sort: Any, fields: Any, as_class: Any) -> Any:
        ordered = _sorted_by_one_key(list(self._iter_documents(spec)), sort)
        if ordered is None:
            yield from original_dataset(self, spec, sort, fields, as_class)
            return
        for doc in ordered:
            yield self._copy_only_fields(doc, fields, as_class)

    def _iter_documents(self: Any, filter: Any) -> Any:
        matches = equality_matcher(filter)
        if matches is None:
            return original_iter(self, filter)
        return (doc for doc in list(self._store.documents) if matches(doc))

    original_results = mc.Cursor._compute_results
    original_iter = mc.Collection._iter_documents
    original_dataset = mc.Collection._get_dataset
    mc.Cursor._compute_results = _compute_results  # type: ignore[method-assign]
    mc.Collection._iter_documents = _iter_documents  # type: ignore[method-assign]
    mc.Collection._get_dataset = _get_dataset  # type: ignore[method-assign]
    _patched = True


def _sorted_by_one_key(docs: list[dict[str, Any]], sort: Any) -> list[dict[str, Any]] | None:
    """`docs` sorted as MongoDB would by one top-level key of one type, else None."""
    if not sort:
        return docs
    keys = list(sort.items()) if isinstance(sort, dict) else list(sort)
    if len(keys) != 1 or not isinstance(keys[0][0], str) or "." in keys[0][0]:
        return None
    field, direction = keys[0]
    if field.startswith("$"):
        return None
    values: list[Any] = [doc.get(field) for doc in docs]
    # Strings compare by code point, which is MongoDB's (UTF-8 byte) order without collation.
    if not (all(type(v) is str for v in values) or all(type(v) in (int, float) for v in values)):
        return None
    order = sorted(range(len(docs)), key=lambda i: values[i], reverse=direction < 0)
    return [docs[i] for i in order]


def _equal(actual: Any, wanted: Any) -> bool:
    # MongoDB never equates a boolean with a number; Python does (True == 1).
    return bool(actual == wanted) and isinstance(actual, bool) == isinstance(wanted, bool)


def equality_matcher(filter: Any) -> Any:
    """A fast matcher for `{field: value, …}` with str/int/None values, else None.

    MongoDB semantics: a missing field equals null; an array field matches when it
    equals the value or one of its elements does.
    """
    if not isinstance(filter, dict) or not filter:
        return None
    wanted: list[tuple[str, Any]] = []
    for field, value in filter.items():
        if not isinstance(field, str) or field.startswith("$") or "." in field:
            return None
        if value is not None and (type(value) not in (str, int)):
            return None
        wanted.append((field, value))

    def matches(doc: dict[str, Any]) -> bool:
        for field, value in wanted:
            actual = doc.get(field)
            if actual == value and (type(value) is str or _equal(actual, value)):
                continue
            if isinstance(actual, list) and any(_equal(item, value) for item in actual):
                continue
            return False
        return True

    return matches


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
