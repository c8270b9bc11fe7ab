"""Many learners registered at once (a roster file, accounts/roster.py), by the rules of
`learners.create_learner`: the same checks (`learners.problems`, the schema), the same
document (`learners.new_learner`), the same unique keys (learner id, id number, phone) —
in a few bulk reads and one bulk write instead of a dozen round trips a learner.

- `taken` answers which of the learner ids, id numbers and phone numbers of a file are
  registered already (one `$in` read each), and whose they are, for the trail.
- `register_many` writes them in one ordered bulk insert. Another request may register
  one of the same keys between the check and the write: then the learners this call
  inserted are deleted again and the whole call is a 409 (nothing is written, say so).
- The registration is one line of the admin log (`learner.roster_registered`: who, how
  many, which learner ids), in the transaction of the write.
- Registering credits the statements stored so far: the learners that have any (one read
  of the statements for all of them) get their ledger computed, as `create_learner`
  does for one. Their other sources cannot exist yet: manual entries and programme
  enrolments (hence results) name registered learners only, and a learner id is never
  freed (an erased learner keeps theirs).
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from bson import ObjectId
from pymongo.errors import BulkWriteError

from credits import learner_log, learners, recompute
from credits.context import Credits
from credits.models import Learner
from credits.schemas import LearnerCreate
from lrs.statements.models import StatementRecord
from nxce.core import admin_log, db
from nxce.core.errors import Conflict

RACED = (
    "another request registered one of these learners (a learner id, id number or phone "
    "number of this file) while it was written: nothing was created; check the file again"
)


@dataclass
class Taken:
    """Keys of a file already registered, each with the learner id that holds it."""

    learner_ids: set[str] = field(default_factory=set)
    id_numbers: dict[str, str] = field(default_factory=dict)  # digest -> learner id
    phones: dict[str, str] = field(default_factory=dict)  # digest -> learner id


async def taken(
    *, learner_ids: Sequence[str], id_digests: Sequence[str], phone_digests: Sequence[str]
) -> Taken:
    """Which of these keys registered learners hold (erased learners hold no id number
    or phone: their digests are random or gone)."""
    collection = db.collection(Learner)
    found = Taken()
    if learner_ids:
        query = {"learner_id": {"$in": list(learner_ids)}}
        async for raw in collection.find(query, {"learner_id": 1, "_id": 0}):
            found.learner_ids.add(raw["learner_id"])
    if id_digests:
        query = {"id_number_digest": {"$in": list(id_digests)}}
        async for raw in collection.find(query, {"learner_id": 1, "id_number_digest": 1}):
            found.id_numbers[raw["id_number_digest"]] = raw["learner_id"]
    if phone_digests:
        query = {"phone_digest": {"$in": list(phone_digests)}}
        async for raw in collection.find(query, {"learner_id": 1, "phone_digest": 1}):
            found.phones[raw["phone_digest"]] = raw["learner_id"]
    return found


async def register_many(
    *, credits: Credits, learners_in: Sequence[LearnerCreate], by: str
) -> list[str]:
    """Register `learners_in` (each checked already: `learners.problems`, `taken`) for
    client `by`, all or none (409 `RACED`); answers their learner ids. Their statements
    stored so far are credited."""
    if not learners_in:
        return []
    # encrypting and encoding 10,000 learners is CPU work: off the event loop
    documents = await asyncio.to_thread(_documents, credits, learners_in, db.now())
    collection = db.collection(Learner)
    line = learner_log.roster_registered([learner_in.id for learner_in in learners_in], by=by)

    async def work(session: Any) -> None:
        await collection.insert_many(documents, ordered=True, session=session)
        await admin_log.record_many([line], session=session)

    try:
        await db.atomic(work)
    except (BulkWriteError, db.DuplicateKeyError):
        async with db.one_commit():
            await collection.delete_many({"_id": {"$in": [d["_id"] for d in documents]}})
        raise Conflict(RACED) from None
    learner_ids = [learner_in.id for learner_in in learners_in]
    for learner_id in await _with_sources(credits, learner_ids):
        await recompute.recompute_learner(credits=credits, learner_id=learner_id)
    return learner_ids


def _documents(
    credits: Credits, learners_in: Sequence[LearnerCreate], now: datetime
) -> list[dict[str, Any]]:
    documents = []
    for learner_in in learners_in:
        raw = db.new_document(learners.new_learner(credits, learner_in, now))
        raw["_id"] = ObjectId()  # known before the write, to take it back on a race
        documents.append(raw)
    return documents


async def _with_sources(credits: Credits, learner_ids: list[str]) -> list[str]:
    """The learners of `learner_ids` with statements stored before they were registered
    (an app that knew them first)."""
    keys = {key: learner_id for learner_id in learner_ids for key in credits.agent_keys(learner_id)}
    found: set[str] = set()
    query = {"agents": {"$in": list(keys)}}
    async for raw in db.collection(StatementRecord).find(query, {"agents": 1, "_id": 0}):
        found.update(keys[agent] for agent in raw.get("agents", []) if agent in keys)
    return [learner_id for learner_id in learner_ids if learner_id in found]
