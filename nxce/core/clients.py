"""API clients: who may call the service, with hashed secrets and scopes."""

from __future__ import annotations

import json
import logging
import secrets
from datetime import datetime
from enum import StrEnum
from pathlib import Path

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from nxce.core import db, passwords
from nxce.core.errors import Conflict, Unprocessable
from nxce.settings import KEY_PATTERN

log = logging.getLogger("nxce.core.clients")

CLIENT_FILE_NAME = "clients.json"


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
    """A client as kept in the embedded store's client file (secret hashed)."""

    key: str
    name: str
    secret_hash: str
    scopes: list[Scope]
    learner_id: str | None = None
    base_id: str | None = None


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


class ClientFile:
    """The embedded store's client inbox: `nxce clients create` writes, the service reads.

    The embedded store lives inside the running service, so a separate CLI process
    cannot write to it. The CLI writes hashed records to this file instead; the service
    imports it at start and whenever the file changes. A record is imported when it is
    new or differs from its last import, so a client disabled in the store stays
    disabled until the CLI writes that client again (a new secret re-enables it).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._seen_mtime: float | None = None
        self._imported: dict[str, ClientRecord] = {}

    def append(self, record: ClientRecord) -> None:
        records = [r for r in self.read() if r.key != record.key] + [record]
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(
            json.dumps([r.model_dump(mode="json") for r in records], ensure_ascii=False, indent=1),
            encoding="utf-8",
        )
        tmp.chmod(0o600)
        tmp.replace(self.path)

    def read(self) -> list[ClientRecord]:
        """The records of the file; raises ValueError when it is not a list of records."""
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            return [ClientRecord.model_validate(r) for r in raw]
        except (ValueError, TypeError) as error:
            raise ValueError(f"{self.path} is not a list of client records: {error}") from None

    def changed(self) -> bool:
        try:
            mtime = self.path.stat().st_mtime
        except FileNotFoundError:
            return False
        return mtime != self._seen_mtime

    async def import_into_store(self) -> int:
        """Upsert the new or changed records of the file; answers how many.

        A file that cannot be read is logged and skipped: the clients already in the
        store keep working.
        """
        if not self.path.exists():
            return 0
        self._seen_mtime = self.path.stat().st_mtime
        try:
            records = self.read()
        except ValueError:
            log.exception("client file not imported")
            return 0
        fresh = [r for r in records if self._imported.get(r.key) != r]
        for record in fresh:
            await upsert(record=record)
            self._imported[record.key] = record
        if fresh:
            log.info("imported %d client(s) from %s", len(fresh), self.path)
        return len(fresh)
