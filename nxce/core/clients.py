"""API clients: who may call the service, with hashed secrets and scopes."""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata
import weakref
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from nxce.core import admin_log, db, passwords
from nxce.core.admin_log import Area
from nxce.core.errors import Conflict, NotFound, Unprocessable, invalid
from nxce.settings import KEY_PATTERN


class Scope(StrEnum):
    """What a client may do. `admin` holds every scope, the xAPI ones included."""

    admin = "admin"
    auditor = "auditor"
    all = "all"
    all_read = "all/read"
    statements_write = "statements/write"
    statements_read = "statements/read"
    statements_read_mine = "statements/read/mine"
    state = "state"
    profile = "profile"
    # A continuing-education base's account (§五(二)): acts for its `base_id` only (see
    # `nxce.core.auth.acts_for_base`); it holds no other scope.
    base = "base"


def holds(scopes: list[str], needed: Scope) -> bool:
    """True when `scopes` grant `needed`: directly, or through `admin`."""
    return Scope.admin in scopes or needed in scopes


class Client(Document):
    """A client of the API; HTTP Basic with `key` as the user name."""

    key: str
    name: str
    secret_hash: str
    scopes: list[Scope]
    learner_id: str | None = None  # a client acting as this learner (the mobile app)
    base_id: str | None = None  # a client acting for this base (scope `base`)
    disabled: bool = False
    created_at: datetime = Field(default_factory=db.now)
    updated_at: datetime = Field(default_factory=db.now)
    # When it last authenticated, to the minute (`note_used`); None: never since recorded.
    last_used_at: datetime | None = None

    class Settings:
        name = "clients"
        indexes = [
            # `get_by_key`: every authenticated request looks its client up by key; `find`
            # pages through them in key order.
            IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
            # `find` by scope, and `disable` counting the enabled admins.
            IndexModel(
                [("scopes", ASCENDING), ("disabled", ASCENDING), ("key", ASCENDING)],
                name="scope_disabled_key",
            ),
        ]


class ClientRecord(BaseModel):
    """A client as handed over to the embedded service in `clients.json` (secret hashed)."""

    key: str
    name: str
    secret_hash: str
    scopes: list[Scope]
    learner_id: str | None = None
    base_id: str | None = None


def check_binding(*, scopes: list[Scope], learner_id: str | None, base_id: str | None) -> None:
    """A base's client (scope `base`, §五(二)) acts for its base and nothing else: it
    names its base, holds no other scope and acts as no learner; a base goes with that
    scope only. 422 otherwise (the CLI, `create` and `upsert`, so a hand-over file too)."""
    if Scope.base not in scopes:
        if base_id is not None:
            raise Unprocessable(f"base_id goes with the scope base only, got {base_id!r}")
        return
    others = sorted({s.value for s in scopes} - {Scope.base.value})
    if others:
        raise Unprocessable(
            f"scopes: a client of scope base holds no other scope, got {', '.join(others)}"
        )
    if learner_id is not None:
        raise Unprocessable(
            f"learner_id: a client of scope base acts as no learner, got {learner_id!r}"
        )
    if base_id is None:
        raise Unprocessable("base_id: a client of scope base names the base it acts for")


def check_key(key: str) -> str:
    """A client key is 3-64 letters, digits, `_.@-`; it is the Basic user name."""
    if not KEY_PATTERN.match(key):
        raise Unprocessable(
            f"key must be 3-64 letters, digits or _.@- starting with a letter or digit, got {key!r}"
        )
    return key


def new_key() -> str:
    """A fresh random client key."""
    return "nx_" + secrets.token_hex(8)


def new_secret() -> str:
    """A fresh random secret, shown once to whoever creates the client."""
    return secrets.token_urlsafe(32)


async def get_by_key(*, key: str) -> Client | None:
    """The client with `key`, if any."""
    return await Client.find_one(Client.key == key)


async def authenticating(key: str) -> Client | None:
    """The client with `key`, to authenticate a request: on the embedded store read once,
    then kept until the clients next change (`db.read_kept`: a client disabled or given a
    new secret is read afresh by the next request); on MongoDB read each time. The object
    answered is shared by requests: read it, never change it."""
    return await db.read_kept(Client, ("key", key), lambda: get_by_key(key=key))


async def create(
    *,
    key: str,
    name: str,
    scopes: list[Scope],
    secret: str,
    learner_id: str | None = None,
    base_id: str | None = None,
) -> Client:
    """Create a client (bound to a learner when `learner_id`, acting for a base when
    `base_id`); 409 when the key is taken."""
    check_key(key)
    client = _new_client(key, name, scopes, secret, learner_id, base_id)
    if await get_by_key(key=key):
        raise Conflict(f"a client with key {key!r} already exists")
    await client.insert()
    return client


def _new_client(
    key: str,
    name: str,
    scopes: list[Scope],
    secret: str,
    learner_id: str | None,
    base_id: str | None,
) -> Client:
    """A client not yet stored, its binding checked and its secret hashed."""
    check_binding(scopes=scopes, learner_id=learner_id, base_id=base_id)
    return Client(
        key=key,
        name=name,
        scopes=scopes,
        secret_hash=passwords.hash_secret(secret),
        learner_id=learner_id,
        base_id=base_id,
    )


async def upsert(*, record: ClientRecord) -> Client:
    """Create or update the client `record.key` from an already-hashed record."""
    check_binding(scopes=record.scopes, learner_id=record.learner_id, base_id=record.base_id)
    existing = await get_by_key(key=record.key)
    if existing is None:
        client = Client(**record.model_dump())
        await client.insert()
        return client
    existing.name, existing.scopes = record.name, record.scopes
    existing.secret_hash, existing.disabled = record.secret_hash, False
    existing.learner_id, existing.base_id = record.learner_id, record.base_id
    existing.updated_at = db.now()
    await existing.save()
    return existing


async def ensure_admin(*, user: str, password: str) -> Client:
    """Create or update the admin client `user` (NXCE_BOOTSTRAP_ADMIN)."""
    check_key(user)
    existing = await get_by_key(key=user)
    if existing and passwords.verify_secret(password, existing.secret_hash):
        if existing.scopes != [Scope.admin] or existing.disabled:
            existing.scopes, existing.disabled = [Scope.admin], False
            await existing.save()
        return existing
    record = ClientRecord(
        key=user,
        name="bootstrap admin",
        scopes=[Scope.admin],
        secret_hash=passwords.hash_secret(password),
    )
    return await upsert(record=record)


# --- the administrators' service: find, register, new secret, disable, enable ------------
# What /admin/clients and the JSON API under /clients call; each write appends its line to
# the administrative log in the same `db.atomic` session (never the secret).

PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
NAME_MAX = 100
# "Last used" is written at most once a minute per client (issue 20, "Details settled").
USED_EVERY = timedelta(seconds=60)
# One document every write that could leave no enabled admin also writes, inside its
# transaction: two such transactions that ran at once conflict on it, and MongoDB retries
# the later one, which then counts the admins the earlier one left (without it, each would
# count the other's admin as enabled, and both commit: write skew).
_GUARD_COLLECTION = "client_guards"
_ADMINS_GUARD = "enabled admins"
# The embedded store belongs to one process: there, one such write at a time is enough.
_local_turns: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@dataclass(frozen=True, slots=True)
class Issued:
    """A client and its new secret: shown once, to whoever made it, then never again."""

    client: Client
    secret: str


@dataclass(frozen=True, slots=True)
class ClientPage:
    """Clients in key order; `next_after` is the key to continue after (None: the last)."""

    clients: list[Client]
    total: int
    next_after: str | None


def check_name(name: str) -> str:
    """A client's name: one line of 1-100 characters (NFC, trimmed)."""
    name = unicodedata.normalize("NFC", name).strip()
    if not name:
        raise invalid("name", "must not be blank", name)
    if len(name) > NAME_MAX:
        raise invalid("name", f"must be at most {NAME_MAX} characters", name)
    bad = next((c for c in name if unicodedata.category(c) in ("Cc", "Cf", "Zl", "Zp")), None)
    if bad is not None:
        raise invalid("name", f"must not contain control characters such as {bad!r}", name)
    return name


def check_scopes(scopes: list[Scope]) -> list[Scope]:
    """At least one scope; each once, in the order `Scope` lists them."""
    if not scopes:
        raise invalid("scopes", "give at least one scope", [])
    return [s for s in Scope if s in scopes]


async def get(*, key: str) -> Client:
    """The client with `key`; 404 when there is none."""
    client = await get_by_key(key=key)
    if client is None:
        raise NotFound(f"no client with key {key[:64]!r}")
    return client


async def find(
    *,
    name: str | None = None,
    scope: Scope | None = None,
    disabled: bool | None = None,
    after: str | None = None,
    limit: int = PAGE_SIZE,
) -> ClientPage:
    """Clients whose name holds `name` (any case), holding `scope`, disabled or not, in
    key order after the key `after`; `limit` at a time, with how many match in all."""
    query: dict[str, Any] = {}
    if name:
        query["name"] = {"$regex": re.escape(name), "$options": "i"}
    if scope is not None:
        query["scopes"] = scope.value
    if disabled is not None:
        query["disabled"] = True if disabled else {"$ne": True}
    limit = max(1, min(limit, MAX_PAGE_SIZE))
    paged = {**query, "key": {"$gt": after}} if after else query
    found = await Client.find(paged).sort("+key").limit(limit + 1).to_list()
    total = await Client.find(query).count()
    more = len(found) > limit
    return ClientPage(found[:limit], total, found[limit - 1].key if more else None)


def _scope_words(scopes: list[Scope]) -> str:
    return "、".join(s.value for s in scopes)


async def register(
    *,
    by: str,
    name: str,
    scopes: list[Scope],
    key: str | None = None,
    learner_id: str | None = None,
    base_id: str | None = None,
) -> Issued:
    """A new client with a fresh secret (a random key unless `key`), by the admin `by`;
    the same rules as `nxce clients create` (`check_key`, `check_binding`). 409 when the
    key is taken, 422 naming the field otherwise."""
    key = check_key(key) if key else new_key()
    name, scopes = check_name(name), check_scopes(scopes)
    secret = new_secret()
    client = _new_client(key, name, scopes, secret, learner_id, base_id)

    async def work(session: Any) -> None:
        if await db.collection(Client).find_one({"key": key}, {"_id": 1}, session=session):
            raise Conflict(f"a client with key {key!r} already exists")
        try:
            await client.insert(session=session)
        except db.DuplicateKeyError:  # another replica took the key a moment ago
            raise Conflict(f"a client with key {key!r} already exists") from None
        binding = f"，代表学员 {learner_id}" if learner_id else ""
        binding += f"，代表基地 {base_id}" if base_id else ""
        await admin_log.record(
            by=by,
            area=Area.clients,
            action="client.created",
            target=key,
            summary=f"新建客户端账号 {key}（{name}），权限 {_scope_words(scopes)}{binding}",
            detail={
                "name": name,
                "scopes": [s.value for s in scopes],
                "learner_id": learner_id,
                "base_id": base_id,
            },
            session=session,
        )

    async with _one_at_a_time():
        await db.atomic(work)
    return Issued(client, secret)


async def renew_secret(*, key: str, by: str) -> Issued:
    """A new secret for `key`, by the admin `by`: the old one stops working at once (and
    the web sessions signed in with it end). 404 when there is no such client."""
    secret = new_secret()
    secret_hash = passwords.hash_secret(secret)

    async def work(session: Any) -> None:
        changed = await db.collection(Client).update_one(
            {"key": key},
            {"$set": {"secret_hash": secret_hash, "updated_at": db.now()}},
            session=session,
        )
        if changed.matched_count == 0:
            raise NotFound(f"no client with key {key[:64]!r}")
        await admin_log.record(
            by=by,
            area=Area.clients,
            action="client.secret_renewed",
            target=key,
            summary=f"为客户端账号 {key} 生成新密钥，原密钥即时失效",
            detail={"previous_secret": "revoked"},
            session=session,
        )

    await db.atomic(work)
    return Issued(await get(key=key), secret)


async def disable(*, key: str, by: str) -> Client:
    """Disable `key`, by the admin `by`: refused at once on every route. 409 for the
    admin's own client (another admin may), and for the last enabled admin, also when two
    admins are disabled at once on two replicas; disabling a disabled client changes
    nothing."""
    if key == by:
        raise Conflict(
            f"a client cannot disable itself ({key!r}): another admin can, so that one stays"
        )

    async def work(session: Any) -> bool:
        await _guard(session)
        raw = await db.collection(Client).find_one(
            {"key": key}, {"scopes": 1, "disabled": 1}, session=session
        )
        if raw is None:
            raise NotFound(f"no client with key {key[:64]!r}")
        if raw.get("disabled"):
            return False
        scopes = list(raw.get("scopes", []))
        if Scope.admin.value in scopes and await _other_admins(key, session) == 0:
            raise Conflict(
                f"{key!r} is the last enabled admin: enable or create another admin first"
            )
        await db.collection(Client).update_one(
            {"key": key}, {"$set": {"disabled": True, "updated_at": db.now()}}, session=session
        )
        await admin_log.record(
            by=by,
            area=Area.clients,
            action="client.disabled",
            target=key,
            summary=f"停用客户端账号 {key}（权限 {'、'.join(scopes)}），即时生效",
            detail={"disabled": {"from": False, "to": True}, "scopes": scopes},
            session=session,
        )
        return True

    async with _one_at_a_time():
        await db.atomic(work)
    return await get(key=key)


async def enable(*, key: str, by: str) -> Client:
    """Enable the disabled client `key` again, by the admin `by` (its secret unchanged);
    enabling an enabled client changes nothing. 404 when there is no such client."""

    async def work(session: Any) -> None:
        changed = await db.collection(Client).update_one(
            {"key": key, "disabled": True},
            {"$set": {"disabled": False, "updated_at": db.now()}},
            session=session,
        )
        if changed.matched_count == 0:
            return
        await admin_log.record(
            by=by,
            area=Area.clients,
            action="client.enabled",
            target=key,
            summary=f"重新启用客户端账号 {key}",
            detail={"disabled": {"from": True, "to": False}},
            session=session,
        )

    await db.atomic(work)
    return await get(key=key)


async def note_used(client: Client, *, at: datetime | None = None) -> bool:
    """Record that `client` authenticated at `at` (now), at most once a minute: nothing is
    written while the `last_used_at` just read is younger than that, and the write itself
    is conditional, so replicas that see the same old value write it once. Answers
    whether this call wrote it."""
    moment = at or db.now()
    last = client.last_used_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=UTC)
    if last is not None and moment - last < USED_EVERY:
        return False
    stale = moment - USED_EVERY
    written = await db.collection(Client).update_one(
        {"_id": client.id, "$or": [{"last_used_at": None}, {"last_used_at": {"$lt": stale}}]},
        {"$set": {"last_used_at": moment}},
    )
    return bool(written.modified_count)


async def _other_admins(key: str, session: Any) -> int:
    """How many enabled admins there are besides `key`."""
    query = {"scopes": Scope.admin.value, "disabled": {"$ne": True}, "key": {"$ne": key}}
    count: int = await db.collection(Client).count_documents(query, session=session)
    return count


async def _guard(session: Any) -> None:
    """Write the guard document inside the caller's transaction (see `_ADMINS_GUARD`)."""
    guards = db.collection(Client).database[_GUARD_COLLECTION]
    await guards.update_one(
        {"_id": _ADMINS_GUARD}, {"$inc": {"writes": 1}}, upsert=True, session=session
    )


class _OneAtATime:
    """On the embedded store (one process), the writes that could leave no enabled admin
    run one at a time; on MongoDB the guard document orders them across replicas."""

    lock: asyncio.Lock | None = None

    async def __aenter__(self) -> None:
        if db.shared():
            return
        loop = asyncio.get_running_loop()
        self.lock = _local_turns.get(loop)
        if self.lock is None:
            self.lock = _local_turns[loop] = asyncio.Lock()
        await self.lock.acquire()

    async def __aexit__(self, *_: object) -> None:
        if self.lock is not None:
            self.lock.release()


def _one_at_a_time() -> _OneAtATime:
    return _OneAtATime()
