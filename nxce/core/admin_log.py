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
MongoDB both commit in one transaction, and on the embedded store in one commit.

Lines are read newest first by `seq`, a whole number unique to the line: the second of
its `at`, then a counter of this process, then a salt of the process (`sequence`). Its
unique index lets the embedded store read a page in order from its ordered indexes (a
filter and `seq`) instead of sorting the whole log, and a page's cursor is the `seq` of
its last line, so lines of one moment are never skipped between pages."""

from __future__ import annotations

import itertools
import secrets
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from nxce.core import db

MAX_LIMIT = 500
COUNTER_BITS = 16  # lines of one second one process writes before its counter wraps (65,536)
# Two processes (API replicas) differ here but by a 1 in 32,768 chance; even then two of
# their lines collide only when written in the same second with the same count.
SALT_BITS = 15
_SALT = secrets.randbelow(1 << SALT_BITS)
_counter = itertools.count(secrets.randbelow(1 << COUNTER_BITS))


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
    seq: int = 0  # the order of the lines (`sequence`), set when the line is written

    class Settings:
        name = "admin_log"
        indexes = [
            # entries(): newest first (`seq`), all (any area) or by who / which record /
            # what area; a page's cursor is a `seq`.
            IndexModel([("seq", DESCENDING)], unique=True, name="seq_unique"),
            IndexModel([("by", ASCENDING), ("seq", DESCENDING)], name="by_seq"),
            IndexModel([("target", ASCENDING), ("seq", DESCENDING)], name="target_seq"),
            IndexModel([("area", ASCENDING), ("seq", DESCENDING)], name="area_seq"),
        ]


def second_of(moment: datetime) -> int:
    return int(moment.replace(tzinfo=moment.tzinfo or UTC).timestamp())


def sequence(at: datetime) -> int:
    """A line's `seq`: the second of `at`, this process's next count, its salt."""
    count = next(_counter) % (1 << COUNTER_BITS)
    return (second_of(at) << (COUNTER_BITS + SALT_BITS)) | (count << SALT_BITS) | _SALT


def first_of_second(second: int) -> int:
    """The least `seq` of a line written in `second` (a bound of a time range)."""
    return second << (COUNTER_BITS + SALT_BITS)


def _raw(line: AdminAction) -> dict[str, Any]:
    """The line as stored, its `seq` given, its area a plain string (as MongoDB keeps it;
    the embedded store's indexes want plain values)."""
    line.seq = sequence(line.at)
    raw = db.new_document(line)
    raw["area"] = Area(line.area).value
    return raw


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
    await db.collection(AdminAction).insert_one(_raw(line), session=session)


async def record_many(lines: list[AdminAction], *, session: Any = None) -> None:
    """Append several lines at once (a bulk import's rows)."""
    if lines:
        await db.collection(AdminAction).insert_many(
            [_raw(line) for line in lines], session=session
        )


async def entries(
    *,
    by: str | None = None,
    area: Area | None = None,
    target: str | None = None,
    since: datetime | None = None,
    before: datetime | None = None,
    before_seq: int | None = None,
    limit: int = 100,
) -> list[AdminAction]:
    """Lines newest first, of who, what area, which record and time range when given
    (`since` and `before` to the second), older than the line `before_seq` when given
    (a page's cursor)."""
    query: dict[str, Any] = {}
    if by is not None:
        query["by"] = by
    if target is not None:
        query["target"] = target
    # every area when none is given: the (area, seq) index answers a page in order
    query["area"] = area.value if area is not None else {"$in": [a.value for a in Area]}
    bounds: dict[str, int] = {}
    if since is not None:
        bounds["$gte"] = first_of_second(second_of(since))
    if before is not None:
        bounds["$lt"] = first_of_second(second_of(before))
    if before_seq is not None:
        bounds["$lt"] = min(bounds.get("$lt", before_seq), before_seq)
    if bounds:
        query["seq"] = bounds
    limit = max(1, min(limit, MAX_LIMIT))
    return await AdminAction.find(query).sort("-seq").limit(limit).to_list()
