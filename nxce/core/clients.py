"""API clients: who may call the service, with hashed secrets and scopes."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from nxce.core import db, passwords
from nxce.core.errors import Conflict, Unprocessable
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

    class Settings:
        name = "clients"
        # `get_by_key`: every authenticated request looks its client up by key.
        indexes = [IndexModel([("key", ASCENDING)], unique=True, name="key_unique")]


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
    check_binding(scopes=scopes, learner_id=learner_id, base_id=base_id)
    if await get_by_key(key=key):
        raise Conflict(f"a client with key {key!r} already exists")
    client = Client(
        key=key,
        name=name,
        scopes=scopes,
        secret_hash=passwords.hash_secret(secret),
        learner_id=learner_id,
        base_id=base_id,
    )
    await client.insert()
    return client


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
