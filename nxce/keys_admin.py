"""The keyring's admin routes: what `nxce keys status` and `nxce keys reencrypt` ask of
the service that holds the embedded store (and what they run directly otherwise).

A re-encryption holds a lease in the store while it runs (one at a time across replicas)
and leaves a line in the admin log with its counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from credits import rekey
from credits.context import Credits
from nxce.admin import _known as known_parameters
from nxce.core import admin_log, db, leases
from nxce.core.auth import Admin
from nxce.core.errors import Conflict
from nxce.core.json_route import JsonRoute
from nxce.core.keys import Keyring
from nxce.core.params import single_valued
from nxce.core.problems import responses

router = APIRouter(route_class=JsonRoute, tags=["admin"])

REENCRYPT_LEASE = "keys: reencrypt"
REENCRYPT_LEASE_TTL = timedelta(minutes=2)  # renewed every 40 s while a run goes on
_LISTED = 50  # learners named in an answer or a log line, per list


class KeyStatusRead(BaseModel):
    """The keyring (key ids only, never a key) and the stored values under each key."""

    current: str = Field(description="The id of the current key: new writes and signatures.")
    previous: list[str] = Field(description="Ids of the previous keys, still read and verified.")
    learners: int = Field(description="Learners in the store.")
    id_numbers: dict[str, int] = Field(
        description="Stored id numbers by the key id they are encrypted under "
        f"(`{rekey.BEFORE_KEY_IDS}`: stored by a release that recorded no key id)."
    )
    phones: dict[str, int] = Field(description="Stored phone numbers, likewise.")
    not_current: int = Field(description="Values `nxce keys reencrypt` would move.")
    missing: list[str] = Field(description="Key ids records name that the ring lacks.")


class ReencryptRead(BaseModel):
    """A run of `nxce keys reencrypt`."""

    current_key: str = Field(description="The key every value moved to.")
    learners: int = Field(description="Learners examined.")
    moved: dict[str, int] = Field(description="Values re-keyed: `id_number`, `phone`.")
    missing_key: list[str] = Field(description="Values left: their key is not in the ring.")
    duplicates: list[str] = Field(
        description="Values left: another learner holds the same number (under another key)."
    )
    changing: list[str] = Field(description="Learners changed at every attempt: run again.")
    created_at: datetime


def key_status(found: rekey.Status) -> KeyStatusRead:
    return KeyStatusRead(
        current=found.current,
        previous=list(found.ring[1:]),
        learners=found.learners,
        id_numbers=dict(found.counts["id_number"]),
        phones=dict(found.counts["phone"]),
        not_current=found.not_current(),
        missing=sorted(found.missing()),
    )


async def status(*, credits: Credits, ring: Keyring) -> KeyStatusRead:
    return key_status(await rekey.status(credits=credits, ring=ring.ids))


async def reencrypt(
    *,
    credits: Credits,
    by: str,
    batch: int = rekey.BATCH,
    progress: Callable[[rekey.Reencrypted], None] | None = None,
) -> ReencryptRead:
    """Re-key every learner's values under the current key, holding the lease, and log
    the run (Conflict when another run holds the lease)."""
    async with leases.kept(REENCRYPT_LEASE, ttl=REENCRYPT_LEASE_TTL) as taken:
        if not taken:
            raise Conflict(
                "a re-encryption is running in another process of this service; one at a "
                "time: retry when it ends"
            )
        done = await rekey.reencrypt(credits=credits, batch=batch, progress=progress)
    answer = ReencryptRead(
        current_key=done.current,
        learners=done.learners,
        moved={kind: done.moved[kind] for kind in ("id_number", "phone")},
        missing_key=done.missing_key[:_LISTED],
        duplicates=done.duplicates[:_LISTED],
        changing=done.changing[:_LISTED],
        created_at=db.now(),
    )
    left = len(done.missing_key) + len(done.duplicates) + len(done.changing)
    await admin_log.record(
        by=by,
        area=admin_log.Area.learners,
        action="keys.reencrypted",
        target=f"key {done.current}",
        summary=(
            f"个人信息重新加密：身份证号 {answer.moved['id_number']} 条、手机号 "
            f"{answer.moved['phone']} 条改用密钥 {done.current}；未处理 {left} 条"
        ),
        detail=answer.model_dump(mode="json", exclude={"created_at"}),
    )
    return answer


@router.get(
    "/admin/keys",
    response_model=KeyStatusRead,
    dependencies=[Depends(single_valued), known_parameters(frozenset(), "it takes none")],
    responses=responses(401, 403, 422, 429),
)
async def get_key_status(admin: Admin, request: Request) -> KeyStatusRead:
    """The keyring's key ids and how many stored id numbers and phones each key holds
    (admin): what `nxce keys status` asks of the service that holds the embedded store."""
    return await status(credits=request.app.state.credits, ring=request.app.state.keyring)


@router.post(
    "/admin/keys/reencrypt",
    response_model=ReencryptRead,
    dependencies=[
        Depends(single_valued),
        known_parameters(frozenset({"batch"}), "a re-encryption takes `batch` only"),
    ],
    responses=responses(401, 403, 409, 413, 422, 429),
)
async def post_reencrypt(
    admin: Admin,
    request: Request,
    batch: Annotated[
        int, Query(ge=10, le=5000, description="Learners read and written per batch.")
    ] = rekey.BATCH,
) -> ReencryptRead:
    """Encrypt and digest every learner's id number and phone again under the current key
    (admin), in batches: idempotent, resumable, safe while the service serves. What `nxce
    keys reencrypt` asks of the service that holds the embedded store. One at a time
    across replicas (409). Logged in the admin log."""
    return await reencrypt(credits=request.app.state.credits, by=admin.key, batch=batch)
