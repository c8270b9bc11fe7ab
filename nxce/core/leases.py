"""Leases in the store: work that one process of several (API replicas) does at a time.

A lease is a document (name, owner, expiry). It is taken by one atomic conditional
update: the document is matched when its lease has expired or is the taker's own, and
upserted when there is none; a lease held by another process matches nothing, so the
upsert meets the unique index on the name and fails (MongoDB answers a duplicate key
error, whichever of two concurrent takers loses). Right on MongoDB with several replicas;
the embedded store has one process, where the same code holds too.

A holder that dies keeps the lease until it expires: choose `ttl` longer than the work.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from beanie import Document
from pymongo import ASCENDING, IndexModel

from nxce.core import db


class Lease(Document):
    """Who holds the lease `name`, until when."""

    name: str
    owner: str
    expires_at: datetime

    class Settings:
        name = "leases"
        indexes = [IndexModel([("name", ASCENDING)], unique=True, name="name_unique")]


async def take(name: str, *, owner: str, ttl: timedelta) -> bool:
    """Take (or renew) the lease `name` for `owner` until `ttl` from now; False when
    another owner holds it and it has not expired."""
    now = db.now()
    try:
        await db.collection(Lease).update_one(
            {"name": name, "$or": [{"owner": owner}, {"expires_at": {"$lte": now}}]},
            {"$set": {"owner": owner, "expires_at": now + ttl}},
            upsert=True,
        )
    except db.DuplicateKeyError:
        return False  # held by another owner
    return True


async def give_back(name: str, *, owner: str) -> None:
    """End `owner`'s lease `name` (nothing when another owner holds it now)."""
    await db.collection(Lease).delete_one({"name": name, "owner": owner})


@asynccontextmanager
async def held(name: str, *, ttl: timedelta) -> AsyncIterator[bool]:
    """The lease `name` for the block, given back after it: yields whether it was taken
    (False: another process holds it; the block should do nothing)."""
    owner = uuid.uuid4().hex
    taken = await take(name, owner=owner, ttl=ttl)
    try:
        yield taken
    finally:
        if taken:
            await give_back(name, owner=owner)


@asynccontextmanager
async def kept(name: str, *, ttl: timedelta) -> AsyncIterator[bool]:
    """Like `held`, for work that may outlast `ttl`: the lease is renewed every third of
    `ttl` while the block runs, so it lapses only `ttl` after its holder died. Yields
    whether it was taken."""
    owner = uuid.uuid4().hex
    if not await take(name, owner=owner, ttl=ttl):
        yield False
        return

    async def renew() -> None:
        while True:
            await asyncio.sleep(ttl.total_seconds() / 3)
            await take(name, owner=owner, ttl=ttl)

    renewing = asyncio.create_task(renew())
    try:
        yield True
    finally:
        renewing.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await renewing
        await give_back(name, owner=owner)
