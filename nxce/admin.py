"""Admin routes of the service itself: a backup of the embedded store while it runs."""

from __future__ import annotations

import asyncio
import math
import time
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from nxce.core import db, embedded_backup
from nxce.core.auth import Admin
from nxce.core.errors import Conflict, TooManyRequests, invalid
from nxce.core.json_route import JsonRoute
from nxce.core.params import single_valued
from nxce.core.problems import responses
from nxce.settings import Settings

router = APIRouter(route_class=JsonRoute, tags=["admin"])

# One backup a minute per process: each is a full copy of the store, and a client that
# asks in a loop (or a fuzzer calling every operation as admin) must not fill the disk.
BACKUP_INTERVAL_SECONDS = 60
BACKUP_PARAMETERS = frozenset({"without_secret_key"})


class BackupRead(BaseModel):
    """A backup made: a data directory of its own (start on it, or copy it back)."""

    path: str = Field(description="The backup's directory on the service's host.")
    bytes: int = Field(description="Its size: the data file, the key and the client file.")
    documents: int = Field(description="The documents the copied store holds.")
    secret_key: str = Field(description="`included`, or why the key is not.")
    created_at: datetime


class _Gate:
    """When this process last started a backup (monotonic seconds)."""

    last: float | None = None


async def _known_parameters(request: Request) -> None:
    for key in request.query_params:
        if key not in BACKUP_PARAMETERS:
            raise invalid(key, "unknown parameter (a backup goes where the service puts it)",
                          key, location="query")  # fmt: skip


def _gate(request: Request) -> _Gate:
    gate: _Gate | None = getattr(request.app.state, "backup_gate", None)
    if gate is None:
        gate = request.app.state.backup_gate = _Gate()
    return gate


def _admit(gate: _Gate) -> None:
    now = time.monotonic()
    if gate.last is not None and now - gate.last < BACKUP_INTERVAL_SECONDS:
        wait = math.ceil(BACKUP_INTERVAL_SECONDS - (now - gate.last))
        raise TooManyRequests(
            f"a backup was started less than {BACKUP_INTERVAL_SECONDS} s ago; retry in {wait} s",
            retry_after=wait,
        )
    gate.last = now


@router.post(
    "/admin/store/backup",
    response_model=BackupRead,
    dependencies=[Depends(single_valued), Depends(_known_parameters)],
    responses=responses(401, 403, 409, 413, 422, 429),
)
async def backup_store(
    admin: Admin,
    request: Request,
    without_secret_key: Annotated[
        bool,
        Query(
            description="Take the backup although the secret key (NXCE_SECRET_KEY, not "
            "in the data directory) cannot go with it: the operator keeps the key."
        ),
    ] = False,
) -> BackupRead:
    """A consistent copy of the embedded store while the service runs (admin), written to a
    new directory under `$NXCE_DATA_DIR/backups/` named by the UTC time, with `secret.key`
    and `clients.json`. At most one a minute (429 with Retry-After). 409 on MongoDB, on a
    store kept in memory, and when the key cannot go with the copy."""
    settings: Settings = request.app.state.settings
    medium = db.embedded_medium(request.app.state.database)
    if medium is None:
        where = "MongoDB (use mongodump, or `nxce store dump`)" if not settings.embedded else (
            "memory only (NXCE_EMBEDDED_IN_MEMORY): nothing is kept to back up"
        )  # fmt: skip
        raise Conflict(f"the service's store is in {where}")
    gate = _gate(request)
    _admit(gate)
    target = embedded_backup.timestamped(settings)
    try:
        made = await asyncio.to_thread(
            embedded_backup.make, medium, settings, target, without_secret_key=without_secret_key
        )
    except embedded_backup.BackupRefused as refused:
        gate.last = None  # nothing was copied: asking again at once is fine
        raise Conflict(str(refused)) from None
    return BackupRead(
        path=str(made.path),
        bytes=made.bytes,
        documents=made.documents,
        secret_key=made.secret_key,
        created_at=db.now(),
    )
