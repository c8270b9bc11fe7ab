"""The devices an app signed a learner in on: one per sign-in, holding the digest of its
current refresh token. The `devices` collection is also the revocation list of access
tokens: every request with a Bearer token reads its device (one find by a unique index),
so a device signed out stops working at once, whatever its access token's lifetime."""

from __future__ import annotations

import secrets
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from nxce.core import db

MAX_NAME_CHARS = 100
# A refresh token already rotated away is remembered (as a digest) this many rotations
# back, so that presenting one of them is recognised as a replay (and revokes the device);
# older ones are merely unknown (401).
SPENT_KEPT = 20


class Device(Document):
    """An app signed in as a learner on one device."""

    device_id: str
    learner_id: str
    name: str
    created_at: datetime = Field(default_factory=db.now)
    last_used_at: datetime = Field(default_factory=db.now)  # the last sign-in or refresh
    refresh_digest: str
    # The token rotated away last, and when: a retry of it within the grace window gets
    # the same new pair (its answer was lost); after that it is a replay.
    previous_refresh_digest: str | None = None
    rotated_at: datetime | None = None
    spent_digests: list[str] = Field(default_factory=list)
    revoked_at: datetime | None = None
    revoked_reason: str | None = None

    class Settings:
        name = "devices"
        indexes = [
            # every Bearer request: its device by id (the revocation check).
            IndexModel([("device_id", ASCENDING)], unique=True, name="device_unique"),
            # a learner's devices (GET /auth/devices, sign-out everywhere).
            IndexModel([("learner_id", ASCENDING)], name="learner"),
            # POST /auth/refresh: the device of a refresh token, current, previous or spent.
            IndexModel([("refresh_digest", ASCENDING)], name="refresh"),
            IndexModel([("previous_refresh_digest", ASCENDING)], name="previous_refresh"),
            IndexModel([("spent_digests", ASCENDING)], name="spent_refresh"),
        ]


def new_device_id() -> str:
    return "dev-" + secrets.token_urlsafe(12)


async def start(*, learner_id: str, name: str, refresh_digest: str) -> Device:
    """A new device of `learner_id` holding the refresh token of digest `refresh_digest`."""
    now = db.now()
    device = Device(
        device_id=new_device_id(),
        learner_id=learner_id,
        name=name[:MAX_NAME_CHARS],
        created_at=now,
        last_used_at=now,
        refresh_digest=refresh_digest,
    )
    await device.insert()
    return device


async def get(*, device_id: str) -> Device | None:
    """The device `device_id` (signed out or not), by its unique index."""
    return await Device.find_one(Device.device_id == device_id)


async def by_refresh_digest(*, digests: Sequence[str]) -> Device | None:
    """The device whose current, previous or spent refresh token has one of `digests`
    (a token's digests under each key of the ring)."""
    for field in ("refresh_digest", "previous_refresh_digest", "spent_digests"):
        found = await Device.find_one({field: {"$in": list(digests)}})
        if found is not None:
            return found
    return None


async def active_of(*, learner_id: str) -> list[Device]:
    """The devices `learner_id` is signed in on, most recently used first (of two used in
    the same millisecond, the one signed in later)."""
    found = await Device.find({"learner_id": learner_id, "revoked_at": None}).to_list()
    return sorted(found, key=lambda d: (d.last_used_at, str(d.id)), reverse=True)


async def rotate(*, device: Device, new_digest: str, now: datetime) -> bool:
    """Replace `device`'s current refresh digest by `new_digest` if it is still the one
    read (compare and set: of two refreshes racing, one wins); answers whether it won."""
    spent = [device.refresh_digest, *device.spent_digests][:SPENT_KEPT]
    result = await db.collection(Device).update_one(
        {
            "device_id": device.device_id,
            "refresh_digest": device.refresh_digest,
            "revoked_at": None,
        },
        {
            "$set": {
                "refresh_digest": new_digest,
                "previous_refresh_digest": device.refresh_digest,
                "rotated_at": now,
                "last_used_at": now,
                "spent_digests": spent,
            }
        },
    )
    return bool(result.modified_count)


async def revoke(*, device_id: str, reason: str, learner_id: str | None = None) -> bool:
    """Sign the device out (of `learner_id`, when given) at once; answers whether a
    signed-in device was signed out."""
    query: dict[str, Any] = {"device_id": device_id, "revoked_at": None}
    if learner_id is not None:
        query["learner_id"] = learner_id
    result = await db.collection(Device).update_one(
        query, {"$set": {"revoked_at": db.now(), "revoked_reason": reason}}
    )
    return bool(result.modified_count)


async def revoke_all(*, learner_id: str, reason: str) -> int:
    """Sign every device of `learner_id` out (a new password); answers how many."""
    result = await db.collection(Device).update_many(
        {"learner_id": learner_id, "revoked_at": None},
        {"$set": {"revoked_at": db.now(), "revoked_reason": reason}},
    )
    return int(result.modified_count)
