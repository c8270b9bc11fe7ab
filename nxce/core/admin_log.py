"""The administrative log: one append-only line for every administrative write and every
sensitive read — catalog, bases, clients, learners, manual credit entries and record
imports, reviews and conclusions, programme results, activation codes and password
resets, views of full id numbers. Who (client key), when, what (an area and an action),
which record, and a short detail (changed fields, counts, reasons; never a secret, never a
full id number).

The domain keeps its own records too (a course's change history, a base's status
timeline, the personal-data trail of credits/trail.py); this log is the one list an
administrator reads across all of them (`/admin/log`). Lines are only inserted: nothing
in the service updates or deletes one.

A write and its line belong together: pass the write's `session` (db.atomic) so that on
MongoDB both commit in one transaction, and on the embedded store in one commit."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from nxce.core import db

MAX_LIMIT = 500


class Area(StrEnum):
    """What part of the service a line is about (the log page's "what" filter)."""

    catalog = "catalog"  # courses: create, edit, retire, restore, bulk import
    bases = "bases"  # continuing-education bases: registration, status decisions (§三)
    clients = "clients"  # client accounts: create, new secret, disable
    learners = "learners"  # learner profiles, title history, id-number lookups and views
    credits = "credits"  # manual entries, record imports, rebuilds
    reviews = "reviews"  # completion reviews, audit conclusions
    programme = "programme"  # knowledge-update programme projects and results (§二)
    accounts = "accounts"  # activation codes, password resets, rosters, devices
    store = "store"  # backups and dumps of the store


class AdminAction(Document):
    """One administrative write or sensitive read."""

    at: datetime = Field(default_factory=db.now)
    by: str  # the client key of who did it
    area: Area
    action: str  # a short verb phrase in English, e.g. "course.updated"
    target: str  # the record: a course code, base id, client key, learner id…
    summary: str = ""  # one line for people, in Chinese
    detail: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "admin_log"
        indexes = [
            # entries(): newest first, all or by who / what / which record.
            IndexModel([("at", DESCENDING), ("_id", DESCENDING)], name="at"),
            IndexModel([("by", ASCENDING), ("at", DESCENDING)], name="by_at"),
            IndexModel([("area", ASCENDING), ("at", DESCENDING)], name="area_at"),
            IndexModel([("target", ASCENDING), ("at", DESCENDING)], name="target_at"),
        ]


async def record(
    *,
    by: str,
    area: Area,
    action: str,
    target: str,
    summary: str = "",
    detail: dict[str, Any] | None = None,
    session: Any = None,
) -> None:
    """Append one line (inside the caller's transaction when `session` is given)."""
    line = AdminAction(
        by=by, area=area, action=action, target=target, summary=summary, detail=detail or {}
    )
    await db.collection(AdminAction).insert_one(db.new_document(line), session=session)


async def record_many(lines: list[AdminAction], *, session: Any = None) -> None:
    """Append several lines at once (a bulk import's rows)."""
    if lines:
        await db.collection(AdminAction).insert_many(
            [db.new_document(line) for line in lines], session=session
        )


async def entries(
    *,
    by: str | None = None,
    area: Area | None = None,
    target: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    before_id: Any = None,
    limit: int = 100,
) -> list[AdminAction]:
    """Lines newest first, of who, what area, which record and time range when given.
    `before_id` with `before` (the `at` and the id of the last line of a page) also
    answers the lines of that same moment older than it: a batch's lines share their `at`."""
    query: dict[str, Any] = {}
    if by is not None:
        query["by"] = by
    if area is not None:
        query["area"] = area.value
    if target is not None:
        query["target"] = target
    moment: dict[str, datetime] = {}
    if since is not None:
        moment["$gte"] = since
    if before is not None:
        moment["$lt"] = before
    if before is not None and before_id is not None:
        del moment["$lt"]
        moment["$lte"] = before
        query["$or"] = [{"at": {"$lt": before}}, {"at": before, "_id": {"$lt": before_id}}]
    if moment:
        query["at"] = moment
    limit = max(1, min(limit, MAX_LIMIT))
    return await AdminAction.find(query).sort("-at", "-_id").limit(limit).to_list()
