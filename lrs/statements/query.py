"""Retrieving statements: one by id, or a page of a query (Communication 2.1.3), within
what the client may read; and the Consistent-Through time of the answers."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lrs.statements import sequence
from lrs.statements.models import AttachmentRecord, StatementRecord
from nxce.core import db
from nxce.core.errors import NotFound

MAX_LIMIT = 500  # statements in one page of a query
MAX_PAGE_BYTES = 8 << 20  # characters of the statements of one page; the rest follow in `more`
MAX_PAGE_ATTACHMENT_BYTES = 16 << 20  # attachment data sent with one page


@dataclass(frozen=True)
class Visible:
    """Which statements a client may read: all (the default), those it stored
    (`statements/read/mine`: `authority`), or those about its learner (a client bound to a
    learner, the app acting as them: `agents`, the learner's actor keys)."""

    authority: str | None = None
    agents: frozenset[str] | None = None

    def allows(self, record: StatementRecord) -> bool:
        if self.authority and record.authority != self.authority:
            return False
        return self.agents is None or bool(self.agents.intersection(record.agents))


EVERYTHING = Visible()


async def get(*, statement_id: str, voided: bool, visible: Visible = EVERYTHING) -> StatementRecord:
    """One statement by id: a statement not voided, or (`voided`) one that is (2.1.4)."""
    record = await StatementRecord.find_one(StatementRecord.statement_id == statement_id.lower())
    if record is None or record.voided != voided or not visible.allows(record):
        kind = "voided statement" if voided else "statement"
        raise NotFound(f"no {kind} with id {statement_id!r}")
    return record


@dataclass(frozen=True)
class Query:
    """GET /statements filters (Communication 2.1.3), plus the cursor of `more`."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since_us: int | None = None
    until_us: int | None = None
    limit: int = 0
    ascending: bool = False
    through_us: int | None = None  # the newest statement the first page could see
    after_us: int | None = None  # the last statement a previous page returned


def _filter(query: Query, visible: Visible) -> dict[str, Any]:
    """The statements a query matches (Communication 2.1.3), not voided, among those the
    client may read."""
    mongo: dict[str, Any] = {"voided": False}
    mongo.update(_agent_filter(query, visible))
    mongo.update(_verb_activity_registration(query))
    if visible.authority:
        mongo["authority"] = visible.authority
    stored = _stored_range(query)
    if stored:
        mongo["stored_us"] = stored
    return mongo


def _agent_filter(query: Query, visible: Visible) -> dict[str, Any]:
    """Communication 2.1.3 `agent` (with `related_agents`), within the agents a client
    bound to a learner may see: an agent filter it may not see matches nothing."""
    mongo: dict[str, Any] = {}
    if query.agent is not None:
        mongo["related_agents" if query.related_agents else "agents"] = query.agent
    if visible.agents is not None:
        mine = sorted(visible.agents)
        if "agents" in mongo:
            mongo["agents"] = {"$in": [mongo["agents"]] if mongo["agents"] in mine else []}
        else:
            mongo["agents"] = {"$in": mine}
    return mongo


def _verb_activity_registration(query: Query) -> dict[str, Any]:
    """Communication 2.1.3 `verb`, `activity` (with `related_activities`) and
    `registration`."""
    mongo: dict[str, Any] = {}
    if query.verb is not None:
        mongo["verbs"] = query.verb
    if query.activity is not None:
        mongo["related_activities" if query.related_activities else "activities"] = query.activity
    if query.registration is not None:
        mongo["registrations"] = query.registration.lower()
    return mongo


def _stored_range(query: Query) -> dict[str, int]:
    """Communication 2.1.3 `since` and `until` on `stored`, within what the first page
    could see and after what previous pages returned."""
    stored: dict[str, int] = {}
    if query.since_us is not None:
        stored["$gt"] = query.since_us
    if query.until_us is not None:
        stored["$lte"] = query.until_us
    if query.through_us is not None:
        stored["$lte"] = min(stored.get("$lte", query.through_us), query.through_us)
    if query.after_us is not None:
        if query.ascending:
            stored["$gt"] = max(stored.get("$gt", query.after_us), query.after_us)
        else:
            stored["$lt"] = query.after_us
    return stored


async def stored_since(*, moments: Sequence[datetime]) -> list[int]:
    """How many statements (voided ones too) were stored at or after each of `moments`:
    one walk of the `voided_stored` index from the earliest (read from the index alone on
    MongoDB), its `stored` values counted against each moment."""
    if not moments:
        return []
    bounds = [int(moment.timestamp() * 1_000_000) for moment in moments]
    query = {"voided": {"$in": [False, True]}, "stored_us": {"$gte": min(bounds)}}
    found = db.collection(StatementRecord).find(query, {"_id": 0, "stored_us": 1})
    counts = [0] * len(bounds)
    async for record in found.sort("stored_us", -1):
        for n, bound in enumerate(bounds):
            counts[n] += record["stored_us"] >= bound
    return counts


async def latest_stored_us() -> int:
    """The newest `stored` value whose statements, and all before them, are visible to
    queries in every process (lrs/statements/sequence.py: the high-water mark)."""
    return await sequence.visible_through()


async def consistent_through() -> datetime:
    """Communication 2.1.3: every statement stored before this time is visible to queries,
    whichever replica stored it."""
    return sequence.time_of(await latest_stored_us())


async def find(
    *, query: Query, visible: Visible = EVERYTHING, with_attachments: bool = False
) -> tuple[list[StatementRecord], bool]:
    """A page of statements newest first (or oldest first), and whether more follow.

    A page stops early, after at least one statement, once its statements (and, with
    attachments, their data) pass MAX_PAGE_BYTES (MAX_PAGE_ATTACHMENT_BYTES).
    """
    limit = query.limit if 0 < query.limit <= MAX_LIMIT else MAX_LIMIT
    order = "+stored_us" if query.ascending else "-stored_us"
    found = (
        await StatementRecord.find(_filter(query, visible)).sort(order).limit(limit + 1).to_list()
    )
    lengths: dict[str, int] = {}
    wanted = sorted({sha2 for r in found[:limit] for sha2 in r.attachments})
    if with_attachments and wanted:
        # Lengths only: the data is read (attachments_for) for the statements kept, so a
        # page never holds more than its budget in memory.
        lengths = {
            a["sha2"]: int(a["length"])
            async for a in db.collection(AttachmentRecord).find(
                {"sha2": {"$in": wanted}}, {"sha2": 1, "length": 1}
            )
        }
    page: list[StatementRecord] = []
    size = data = 0
    counted: set[str] = set()
    for record in found[:limit]:
        size += len(record.document)
        data += sum(lengths.get(h, 0) for h in set(record.attachments) - counted)
        counted.update(record.attachments)
        if page and (size > MAX_PAGE_BYTES or data > MAX_PAGE_ATTACHMENT_BYTES):
            return page, True
        page.append(record)
    return page, len(found) > limit


async def attachments_for(records: Sequence[StatementRecord]) -> list[AttachmentRecord]:
    """The raw data of the attachments of these statements, once per sha2."""
    wanted = sorted({sha2 for r in records for sha2 in r.attachments})
    if not wanted:
        return []
    return await AttachmentRecord.find({"sha2": {"$in": wanted}}).to_list()
