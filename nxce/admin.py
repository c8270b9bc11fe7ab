"""Admin routes of the service itself: what `nxce store backup`, `nxce store dump` and
`nxce credits rebuild` ask of the service that holds the embedded store.

Bounded, per process: one of each at a time (409 while one runs), and one backup and one
dump a minute (429 with Retry-After): each is a full copy of the store, and a client that
asks in a loop (or a fuzzer calling every operation as admin) must not fill the disk.
A credit rebuild is also one at a time across processes (API replicas on one MongoDB): it
holds a lease in the store while it runs, renewed (nxce/core/leases.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, Field

from nxce import archive, store_ops
from nxce.core import admin_log, db, embedded_backup, leases
from nxce.core.admin_log import Area
from nxce.core.auth import Admin
from nxce.core.errors import Conflict, TooManyRequests, invalid
from nxce.core.json_route import JsonRoute
from nxce.core.params import single_valued
from nxce.core.problems import responses
from nxce.settings import Settings

router = APIRouter(route_class=JsonRoute, tags=["admin"])

COPY_INTERVAL_SECONDS = 60  # one backup, and one dump, a minute per process
BACKUP_INTERVAL_SECONDS = COPY_INTERVAL_SECONDS
COPY_PARAMETERS = frozenset({"without_secret_key"})
REBUILD_PARAMETERS = frozenset({"learner"})
REBUILD_LEASE = "credits: rebuild"
# Our reading: renewed every 40 s while a rebuild runs, so a replica that died holding it
# lets the next rebuild start two minutes later.
REBUILD_LEASE_TTL = timedelta(minutes=2)
WITHOUT_KEY_DESCRIPTION = (
    "Go on although the secret key (NXCE_SECRET_KEY, not in the data directory) cannot go "
    "with the copy: the operator keeps the key."
)


class BackupRead(BaseModel):
    """A backup made: a data directory of its own (start on it, or copy it back)."""

    path: str = Field(description="The backup's directory on the service's host.")
    bytes: int = Field(description="Its size: the data file, the key and the client file.")
    documents: int = Field(description="The documents the copied store holds.")
    secret_key: str = Field(description="`included`, or why the key is not.")
    created_at: datetime


class DumpRead(BaseModel):
    """An archive written (README: 'The archive format'), of one snapshot of the store."""

    path: str = Field(description="The archive's directory on the service's host.")
    documents: int = Field(description="The documents it holds, all collections.")
    collections: int = Field(description="The collections (one file each).")
    bytes: int = Field(description="Its size: the files, the manifest and the key.")
    secret_key: str = Field(description="`included`, or why the key is not.")
    created_at: datetime


class RebuildRead(BaseModel):
    """A rebuild of the credit ledger from statements, manual entries and reviews."""

    learner_id: str | None = Field(description="The one learner rebuilt, or null: all.")
    finished: int = Field(description="Learners whose unfinished recompute was finished first.")
    entries: int = Field(description="The entries the rebuilt ledgers hold.")
    changed: int = Field(
        description="Entries that differ from the ledger before (0: it was right). "
        "Statements credited while it ran count too."
    )
    created_at: datetime


class _Gate:
    """The store operations of this process: which run, when each copy last started
    (monotonic seconds)."""

    def __init__(self) -> None:
        self.running: set[str] = set()
        self.last: dict[str, float] = {}


def _known(allowed: frozenset[str], why: str) -> Any:
    async def check(request: Request) -> None:
        for key in request.query_params:
            if key not in allowed:
                raise invalid(key, f"unknown parameter ({why})", key, location="query")

    return Depends(check)


def _gate(request: Request) -> _Gate:
    gate: _Gate | None = getattr(request.app.state, "store_operations", None)
    if gate is None:
        gate = request.app.state.store_operations = _Gate()
    return gate


@contextlib.contextmanager
def _turn(gate: _Gate, what: str, *, interval: float | None) -> Iterator[None]:
    """Run `what` if none runs and (with `interval`) none started that recently; a
    refusal raised inside (ArchiveError, BackupRefused: nothing copied) does not count."""
    if what in gate.running:
        raise Conflict(f"a {what} is running in this service; one at a time: retry when it ends")
    now = time.monotonic()
    last = gate.last.get(what)
    if interval is not None and last is not None and now - last < interval:
        wait = math.ceil(interval - (now - last))
        raise TooManyRequests(
            f"a {what} was started less than {interval:g} s ago; retry in {wait} s",
            retry_after=wait,
        )
    gate.running.add(what)
    if interval is not None:
        gate.last[what] = now
    try:
        yield
    except (archive.ArchiveError, embedded_backup.BackupRefused):
        if last is None:
            gate.last.pop(what, None)
        else:
            gate.last[what] = last
        raise
    finally:
        gate.running.discard(what)


def _medium(request: Request, what: str) -> Any:
    """The running service's durable embedded medium; 409 on MongoDB and in memory."""
    settings: Settings = request.app.state.settings
    medium = db.embedded_medium(request.app.state.database)
    if medium is None:
        where = (
            f"memory only (NXCE_EMBEDDED_IN_MEMORY): nothing is kept to {what}"
            if settings.embedded
            else "MongoDB (`nxce store dump` reads MongoDB itself; or use mongodump)"
        )
        raise Conflict(f"the service's store is in {where}")
    return medium


@router.post(
    "/admin/store/backup",
    response_model=BackupRead,
    dependencies=[
        Depends(single_valued),
        _known(COPY_PARAMETERS, "a backup goes where the service puts it"),
    ],
    responses=responses(401, 403, 409, 413, 422, 429),
)
async def backup_store(
    admin: Admin,
    request: Request,
    without_secret_key: Annotated[bool, Query(description=WITHOUT_KEY_DESCRIPTION)] = False,
) -> BackupRead:
    """A consistent copy of the embedded store while the service runs (admin), written to a
    new directory under `$NXCE_DATA_DIR/backups/` named by the UTC time, with `secret.key`
    (and `clients.json` while it holds hand-overs not applied yet). One at a time and at
    most one a minute (409, 429 with Retry-After). 409 on MongoDB, on a store kept in
    memory, and when the key cannot go with the copy."""
    settings: Settings = request.app.state.settings
    medium = _medium(request, "back up")
    target = embedded_backup.timestamped(settings)
    try:
        with _turn(_gate(request), "backup", interval=COPY_INTERVAL_SECONDS):
            made = await asyncio.to_thread(
                embedded_backup.make,
                medium,
                settings,
                target,
                without_secret_key=without_secret_key,
            )
    except embedded_backup.BackupRefused as refused:
        raise Conflict(str(refused)) from None
    await admin_log.record(
        by=admin.key,
        area=Area.store,
        action="store.backed_up",
        target=made.path.name,
        summary=f"备份了数据存储：{made.documents} 个文档，{made.bytes} 字节",
        detail={
            "path": str(made.path),
            "documents": made.documents,
            "bytes": made.bytes,
            "secret_key": made.secret_key,
        },
    )
    return BackupRead(
        path=str(made.path),
        bytes=made.bytes,
        documents=made.documents,
        secret_key=made.secret_key,
        created_at=db.now(),
    )


@router.post(
    "/admin/store/dump",
    response_model=DumpRead,
    dependencies=[
        Depends(single_valued),
        _known(COPY_PARAMETERS, "a dump goes where the service puts it"),
    ],
    responses=responses(401, 403, 409, 413, 422, 429),
)
async def dump_store(
    admin: Admin,
    request: Request,
    without_secret_key: Annotated[bool, Query(description=WITHOUT_KEY_DESCRIPTION)] = False,
) -> DumpRead:
    """An archive of the embedded store while the service runs (admin), of one snapshot
    (every write acknowledged before it began, none after), written to a new directory
    under `$NXCE_DATA_DIR/dumps/` named by the UTC time, with `secret.key`: the archive
    `nxce store dump` writes (README: 'The archive format'). One at a time and at most one
    a minute (409, 429 with Retry-After). 409 on MongoDB, on a store kept in memory, and
    when the key cannot go with the archive."""
    settings: Settings = request.app.state.settings
    medium = _medium(request, "dump")
    target = store_ops.timestamped(settings)
    try:
        with _turn(_gate(request), "dump", interval=COPY_INTERVAL_SECONDS):
            manifest = await asyncio.to_thread(
                store_ops.dump_snapshot,
                medium,
                settings,
                target,
                without_secret_key=without_secret_key,
            )
    except archive.ArchiveError as refused:
        raise Conflict(str(refused)) from None
    size = sum(path.stat().st_size for path in target.iterdir() if path.is_file())
    documents = sum(c.documents for c in manifest.collections)
    await admin_log.record(
        by=admin.key,
        area=Area.store,
        action="store.dumped",
        target=target.name,
        summary=f"导出了数据存储的归档：{len(manifest.collections)} 个集合，{documents} 个文档",
        detail={
            "path": str(target.resolve()),
            "collections": len(manifest.collections),
            "documents": documents,
            "bytes": size,
        },
    )
    return DumpRead(
        path=str(target.resolve()),
        documents=sum(c.documents for c in manifest.collections),
        collections=len(manifest.collections),
        bytes=size,
        secret_key="included" if manifest.key_file else embedded_backup.KEY_KEPT_BY_OPERATOR,
        created_at=db.now(),
    )


@router.post(
    "/admin/credits/rebuild",
    response_model=RebuildRead,
    dependencies=[
        Depends(single_valued),
        _known(REBUILD_PARAMETERS, "a rebuild takes `learner` only"),
    ],
    responses=responses(401, 403, 404, 409, 413, 422, 429),
)
async def rebuild_credits(
    admin: Admin,
    request: Request,
    learner: Annotated[
        str | None,
        Query(min_length=1, max_length=128, description="Only this learner's ledger."),
    ] = None,
) -> RebuildRead:
    """Recompute the credit ledger (of one learner, or all) from stored statements, manual
    entries and reviews, finishing first the recomputes a stopped process left (admin): what
    `nxce credits rebuild` asks of the service that holds the embedded store. It must come
    out the same as the ledger it replaces; `changed` counts the entries that differ. One
    at a time, in this process and across replicas (409); 404 for an unknown learner."""
    with _turn(_gate(request), "credit rebuild", interval=None):
        async with leases.kept(REBUILD_LEASE, ttl=REBUILD_LEASE_TTL) as taken:
            if not taken:
                raise Conflict(
                    "a credit rebuild is running in another process of this service; one "
                    "at a time: retry when it ends"
                )
            done = await store_ops.rebuild_credits(
                credits=request.app.state.credits, learner_id=learner
            )
    whose = f"学员 {learner} 的" if learner else "全部"
    await admin_log.record(
        by=admin.key,
        area=Area.credits,
        action="credits.rebuilt",
        target=learner or "",
        summary=(f"重建了{whose}学时记录：{done.entries} 条，与重建前不同的 {done.changed} 条"),
        detail={
            "learner_id": learner,
            "finished": done.finished,
            "entries": done.entries,
            "changed": done.changed,
        },
    )
    return RebuildRead(
        learner_id=learner,
        finished=done.finished,
        entries=done.entries,
        changed=done.changed,
        created_at=db.now(),
    )
