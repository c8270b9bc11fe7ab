"""Clients handed over to a running embedded service: `clients.json`, applied once.

Clients live in the store (the `clients` collection), with the rest of the data. On the
embedded store a running service holds the data directory, so `nxce clients create`
cannot write to the store itself: it appends the hashed client to `clients.json`, each
entry with an `id` of its own, and the service applies it (at start, and whenever the
file changes). Applying an entry writes the client and records the entry's id in the
`client_handovers` collection, in one commit; an entry whose id is recorded is never
applied again, so a client disabled or given a new secret in the store stays so across
restarts, backups and loads. Applied entries are then removed from the file (under
`clients.lock`, which the command takes too), so the file holds only what is pending.

A file of the previous version has entries without an id: each is named by the SHA-256
of its content, applied once like any other, and removed.

When no process holds the data directory, `nxce clients create` writes the store
directly (after applying whatever the file still holds).
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import json
import logging
import os
import uuid
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from nxce.core import clients, db
from nxce.core.errors import Unprocessable

log = logging.getLogger("nxce.core.client_handover")

FILE_NAME = "clients.json"
LOCK_NAME = "clients.lock"


class Handover(clients.ClientRecord):
    """An entry of `clients.json`: a hashed client and the id that makes it apply once."""

    id: str = Field(default_factory=lambda: uuid.uuid4().hex)


class ClientHandover(Document):
    """A hand-over applied to this store (never applied again)."""

    handover: str
    key: str
    applied_at: datetime = Field(default_factory=db.now)

    class Settings:
        name = "client_handovers"
        indexes = [IndexModel([("handover", ASCENDING)], unique=True, name="handover_unique")]


def _legacy_id(raw: dict[str, object]) -> str:
    """The id of an entry written before entries had one: its content's SHA-256."""
    text = json.dumps(raw, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return "legacy-" + hashlib.sha256(text.encode()).hexdigest()[:32]


class HandoverFile:
    """`$NXCE_DATA_DIR/clients.json`: the command appends, the service applies and prunes."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME
        self._lock_path = directory / LOCK_NAME
        self._seen: tuple[int, int, int] | None = None
        self._applying = asyncio.Lock()  # concurrent requests that saw the change wait

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        """The file's read-modify-write, one process at a time (the command appending,
        the service pruning)."""
        self._lock_path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield
        finally:
            os.close(fd)  # closing lets the lock go

    def read(self) -> list[Handover]:
        """The entries of the file; raises ValueError when it is not a list of them."""
        if not self.path.exists():
            return []
        try:
            raw = json.loads(self.path.read_text(encoding="utf-8"))
            if not isinstance(raw, list):
                raise TypeError(f"a list of client records, got {type(raw).__name__}")
            return [
                Handover.model_validate(r if "id" in r else {**r, "id": _legacy_id(r)}) for r in raw
            ]
        except (ValueError, TypeError) as error:
            raise ValueError(f"{self.path} is not a list of client records: {error}") from None

    def _write(self, entries: list[Handover]) -> None:
        if not entries:
            self.path.unlink(missing_ok=True)
            return
        tmp = self.path.with_suffix(".tmp")
        text = json.dumps(
            [e.model_dump(mode="json") for e in entries], ensure_ascii=False, indent=1
        )
        tmp.write_text(text, encoding="utf-8")
        tmp.chmod(0o600)
        tmp.replace(self.path)

    def append(self, record: clients.ClientRecord) -> Handover:
        """Hand `record` over to the service; answers the entry written."""
        entry = Handover(**record.model_dump())
        with self._locked():
            self._write([*self.read(), entry])
        return entry

    def changed(self) -> bool:
        """True when the file was written since it was last applied (or removed)."""
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return False
        return (status.st_ino, status.st_mtime_ns, status.st_size) != self._seen

    async def apply(self, *, prune: bool) -> int:
        """Apply the entries not applied to this store yet, in the file's order; answers
        how many. With `prune` (a durable store) the applied entries leave the file.

        A file that cannot be read is logged and skipped: the clients in the store keep
        working."""
        async with self._applying:
            return await self._apply_all(prune=prune)

    async def _apply_all(self, *, prune: bool) -> int:
        try:
            status = self.path.stat()
        except FileNotFoundError:
            return 0
        self._seen = (status.st_ino, status.st_mtime_ns, status.st_size)
        try:
            entries = self.read()
        except ValueError:
            log.exception("client file not applied")
            return 0
        applied = 0
        for entry in entries:
            if await _applied(entry.id):
                continue
            try:
                await _apply(entry)
            except Unprocessable:  # e.g. a base's client with another scope: refused
                log.exception("client %r handed over in %s refused", entry.key, self.path)
                continue
            applied += 1
        if applied:
            log.info("applied %d client(s) handed over in %s", applied, self.path)
        if prune and entries:
            await self._prune(entries)
        return applied

    async def _prune(self, entries: list[Handover]) -> None:
        """Remove the applied entries (the command may have added others meanwhile)."""
        applied = {e.id for e in entries if await _applied(e.id)}
        try:
            with self._locked():
                self._write([e for e in self.read() if e.id not in applied])
        except (OSError, ValueError):
            log.exception("applied clients not removed from %s (they stay applied)", self.path)


async def _applied(handover: str) -> bool:
    return await ClientHandover.find_one(ClientHandover.handover == handover) is not None


async def _apply(entry: Handover) -> None:
    """The client and the record that it was applied, committed together."""
    record = clients.ClientRecord(**entry.model_dump(exclude={"id"}))
    async with db.one_commit():
        await clients.upsert(record=record)
        await ClientHandover(handover=entry.id, key=entry.key).insert()
