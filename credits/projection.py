"""Automatic registration (§一(一)): the ledger projected from the stored statements.

For each learner and catalog course, the earliest stored, not voided statement saying the
learner completed it credits the course's hours, once. An entry is recomputed whenever
one of its statements or its reviews change; `completion_entries` builds all of a
learner's courses at once for the one recompute path (credits/recompute.py).
"""

from __future__ import annotations

import json
import logging
import uuid
from datetime import timedelta
from typing import Any

from credits import popularity
from credits.context import Course, Credits
from credits.models import CreditReview, EntryStatus, Learner, LedgerEntry
from lrs.statements import primitives
from lrs.statements import store as statements
from lrs.statements.models import StatementRecord
from nxce.core import db, periodic

log = logging.getLogger("nxce")

_ENTRY_NAMESPACE = uuid.UUID("8f7c5b2e-6a1d-4f0e-9b3c-2d4e6f8a0b1c")
_DECIDED = {"approve": "approved", "reject": "rejected"}  # how an entry reads a review
SYSTEM = "system"  # 由系统自动审核登记


def completed(statement: dict[str, Any], verbs: list[str]) -> bool:
    """§一(一): the statement says its actor completed its object: verb completed or passed,
    or result.completion true; and not result.success false."""
    result = statement.get("result") or {}
    if result.get("success") is False:
        return False
    return statement["verb"]["id"] in verbs or result.get("completion") is True


def _learner_and_activity(credits: Credits, statement: dict[str, Any]) -> tuple[str, str] | None:
    actor, target = statement.get("actor") or {}, statement.get("object") or {}
    account = actor.get("account") or {}
    if account.get("homePage", "").rstrip("/") != credits.home_page.rstrip("/"):
        return None
    if target.get("objectType", "Activity") != "Activity":
        return None
    return str(account.get("name")), str(target["id"])


def entry_id_for(learner_id: str, code: str) -> str:
    return str(uuid.uuid5(_ENTRY_NAMESPACE, f"{learner_id}|{code}"))


def _qualifying(
    credits: Credits, learner_id: str, records: list[StatementRecord]
) -> dict[str, list[tuple[StatementRecord, dict[str, Any]]]]:
    """The completions (§一(一)) among a learner's records, by activity, oldest first."""
    verbs = credits.policies.newest().automatic.verbs
    found: dict[str, list[tuple[StatementRecord, dict[str, Any]]]] = {}
    for record in sorted(records, key=lambda r: r.stored_us):
        statement = json.loads(record.document)
        pair = _learner_and_activity(credits, statement)
        if pair is not None and pair[0] == learner_id and completed(statement, verbs):
            found.setdefault(pair[1], []).append((record, statement))
    return found


Reviews = dict[str, CreditReview]  # an entry's reviews by the statement each judged


def _rejected(review: CreditReview | None) -> bool:
    return review is not None and review.decision == "reject"


async def _build(
    credits: Credits,
    learner_id: str,
    course: Course,
    completions: list[tuple[StatementRecord, dict[str, Any]]],
    reviews: Reviews,
) -> LedgerEntry | None:
    """The automatic entry of one learner and course: the earliest completion neither
    voided nor rejected by an auditor credits, with the hours the course had when it was
    stored (a rejected back-dated completion does not stop a genuine later one; the
    rejected ones are named in `source.rejected`). When every live completion was
    rejected, the entry is the earliest, reversed; when every completion was voided, the
    entry stays, reversed (Data 2.3.2). A course credits once."""
    if not completions:
        return None
    live = [(r, s) for r, s in completions if not r.voided]
    rejected = [(r, s) for r, s in live if _rejected(reviews.get(r.statement_id))]
    open_ = [(r, s) for r, s in live if not _rejected(reviews.get(r.statement_id))]
    record, statement = (open_ or live or completions)[0]
    course = await credits.catalog.as_of(course, record.stored)
    entry_id = entry_id_for(learner_id, course.code)
    entry = _automatic_entry(credits, learner_id, course, record, statement, entry_id)
    if not live:
        entry.status, entry.status_reason = EntryStatus.reversed, "the completion was voided"
        return entry
    others = [r for r, _ in rejected if r.statement_id != record.statement_id]
    if others:
        entry.source["rejected"] = [
            {"statement_id": r.statement_id, "reason": reviews[r.statement_id].reason}
            for r in others
        ]
    review = reviews.get(record.statement_id)
    if entry.status == EntryStatus.pending_review and review is not None:
        entry.status = EntryStatus.counted if review.decision == "approve" else EntryStatus.reversed
        entry.status_reason = f"{_DECIDED[review.decision]} by an auditor: {review.reason}"
        entry.review = {
            "decision": review.decision,
            "reason": review.reason,
            "decided_by": review.decided_by,
            "decided_at": review.decided_at,
        }
    if entry.status == EntryStatus.counted:
        _await_policy(credits, entry)
    return entry


def _await_policy(credits: Credits, entry: LedgerEntry) -> None:
    """A counted completion counts under the newest policy covering its date. Our reading
    (the notice is 2022's): one dated where no installed policy covers it is recorded with
    its hours, awaiting a policy, and counted once an administrator installs one that
    covers it (credits/recompute.py re-counts at start)."""
    covering = [policy for policy in credits.policies.all if policy.covers(entry.occurred_on)]
    if covering:
        entry.policy_id = covering[-1].id
        return
    waiting = f"no policy covers {entry.year} yet"
    entry.status = EntryStatus.awaiting_policy
    entry.status_reason = f"{waiting} ({entry.status_reason})" if entry.status_reason else waiting


async def reviews_of(entry_ids: list[str]) -> dict[str, Reviews]:
    """The reviews of entries, by entry and judged statement."""
    found: dict[str, Reviews] = {}
    async for review in CreditReview.find({"entry_id": {"$in": sorted(entry_ids)}}):
        found.setdefault(review.entry_id, {})[review.source_ref] = review
    return found


async def recompute(*, credits: Credits, learner_id: str, activity_id: str) -> LedgerEntry | None:
    """The automatic entry of one learner and one course, from the statements and reviews
    (the fast path for newly stored statements; the whole ledger is recomputed by
    credits/recompute.py with the same `_build`)."""
    async with credits.lock(learner_id):
        return await _recompute(credits, learner_id, activity_id)


async def _recompute(credits: Credits, learner_id: str, activity_id: str) -> LedgerEntry | None:
    if await Learner.find_one(Learner.learner_id == learner_id) is None:
        return None  # kept: credited when the learner registers
    course = await credits.catalog.course_by_activity(activity_id)
    if course is None:
        return None
    records = await StatementRecord.find(
        {"agents": {"$in": credits.agent_keys(learner_id)}, "activities": activity_id}
    ).to_list()
    completions = _qualifying(credits, learner_id, records).get(activity_id, [])
    entry_id = entry_id_for(learner_id, course.code)
    reviews = (await reviews_of([entry_id])).get(entry_id, {})
    entry = await _build(credits, learner_id, course, completions, reviews)
    before = await db.collection(LedgerEntry).find_one(
        {"entry_id": entry_id}, {"status": 1, "_id": 0}
    )
    if entry is None:
        await db.collection(LedgerEntry).delete_one({"entry_id": entry_id})
    elif await upsert(entry) and credits.on_registered is not None:
        credits.on_registered(str(entry.category))
    after = None if entry is None else {"status": entry.status.value}
    credits.popularity.moved(course.code, popularity.standing(before), popularity.standing(after))
    return entry


def _automatic_entry(
    credits: Credits,
    learner_id: str,
    course: Course,
    record: StatementRecord,
    statement: dict[str, Any],
    entry_id: str,
) -> LedgerEntry:
    """The entry a completion makes: the course's hours and category, the year of the
    completion in China Standard Time; pending review when its date cannot be trusted."""
    policy = credits.policies.newest()
    rules = policy.automatic
    timestamp = statement.get("timestamp", "")
    moment = primitives.parse_timestamp(timestamp) or record.stored
    try:
        occurred_on = moment.astimezone(policy.time_zone).date()
    except OverflowError:  # 9999-12-31T23:59:59Z has no local date: the day it was stored
        occurred_on = record.stored.astimezone(policy.time_zone).date()
    doubts = []
    if moment > record.stored + timedelta(minutes=5):
        doubts.append("the completion is dated after it was stored")
    elif moment < record.stored - timedelta(days=rules.backdate_days):
        doubts.append(
            f"the completion is dated more than {rules.backdate_days} days before it was stored"
        )
    if course.available_from is not None and moment < course.available_from:
        since = course.available_from.astimezone(policy.time_zone).date()
        doubts.append(f"the completion is dated before the course existed (from {since})")
    status = EntryStatus.pending_review if doubts else EntryStatus.counted
    reason = "; ".join(doubts) or None
    return LedgerEntry(
        entry_id=entry_id,
        learner_id=learner_id,
        year=occurred_on.year,
        occurred_on=occurred_on,
        category=course.category,
        hours=course.hours,
        kind="completion",
        source_kind="statement",
        source_ref=record.statement_id,
        source={
            "course_code": course.code,
            "course_title": course.title,
            "timestamp": timestamp,
            "stored": statement.get("stored"),
        },
        clause=rules.clause,
        policy_id=policy.id,
        status=status,
        status_reason=reason,
        recorded_by=SYSTEM,
        recorded_at=record.stored,
    )


async def upsert(entry: LedgerEntry) -> bool:
    """Write the entry; answers whether it is new (not a change of one written before)."""
    raw = db.new_document(entry)
    result = await db.collection(LedgerEntry).replace_one(
        {"entry_id": entry.entry_id}, raw, upsert=True
    )
    return result.upserted_id is not None


# What projecting reads of a statement.
_READ = {"statement_id": 1, "document": 1, "voids": 1, "projected": 1, "_id": 0}


async def _raw_records(statement_ids: list[str]) -> list[dict[str, Any]]:
    """The id, JSON text and voided target of these stored statements (raw: only the
    three fields, without building whole records)."""
    found = db.collection(StatementRecord).find({"statement_id": {"$in": statement_ids}}, _READ)
    return [r async for r in found]


async def _registered(learner_ids: set[str]) -> set[str]:
    """Which of these learners have registered (one read for a batch)."""
    found = db.collection(Learner).find(
        {"learner_id": {"$in": sorted(learner_ids)}}, {"learner_id": 1, "_id": 0}
    )
    return {str(r["learner_id"]) async for r in found}


async def project(*, credits: Credits, statement_ids: list[str]) -> None:
    """Credit what newly stored statements say (and un-credit what they void). On the
    embedded store its writes are committed together."""
    async with db.one_commit():
        await _project(credits, [i.lower() for i in statement_ids])


async def _project(credits: Credits, ids: list[str]) -> None:
    records = await _raw_records(ids)
    voided_ids = [r["voids"] for r in records if r.get("voids")]
    if voided_ids:
        records += await _raw_records(voided_ids)
    verbs = credits.policies.newest().automatic.verbs
    pairs = set()
    pair_of: dict[str, tuple[str, str] | None] = {}
    for record in records:
        statement = json.loads(record["document"])
        pair = pair_of[record["statement_id"]] = _learner_and_activity(credits, statement)
        if pair is not None and completed(statement, verbs):  # nothing else moves the ledger
            pairs.add(pair)
    # A learner not registered has no entries: crediting waits for the registration
    # (which credits what was stored before it); one read skips them all.
    registered = await _registered({learner_id for learner_id, _ in pairs}) if pairs else set()
    failed: set[tuple[str, str]] = set()
    for learner_id, activity_id in sorted(p for p in pairs if p[0] in registered):
        try:
            await recompute(credits=credits, learner_id=learner_id, activity_id=activity_id)
        except Exception:  # one learner's course must not hold up the others
            log.exception("crediting %s for %s failed; retried later", activity_id, learner_id)
            failed.add((learner_id, activity_id))
    # A statement is credited once the course it moves is; a voiding one moves its target's.
    # Only marks that change are written: on the embedded store the statements come stored
    # as projected already (lrs statements.store), and those not credited are marked back.
    wanted = set(ids)
    done: list[str] = []
    undone: list[str] = []
    for r in records:
        if r["statement_id"] not in wanted:
            continue
        credited = pair_of.get(r.get("voids") or r["statement_id"]) not in failed
        if credited != bool(r.get("projected")):
            (done if credited else undone).append(r["statement_id"])
    await statements.mark_projected(done, projected=True)
    await statements.mark_projected(undone, projected=False)


async def catch_up(*, credits: Credits, older_than: timedelta | None = None) -> int:
    """Project statements stored but not yet projected (a process died in between, or
    crediting failed); with `older_than`, only those stored at least that long ago (the
    younger ones are being credited by the request that stored them)."""
    query: dict[str, Any] = {"projected": False}
    if older_than is not None:
        query["stored"] = {"$lt": db.now() - older_than}
    pending = [
        d["statement_id"]
        async for d in db.collection(StatementRecord)
        .find(query, {"statement_id": 1, "_id": 0})
        .sort("stored_us", 1)
    ]
    for start in range(0, len(pending), 500):
        await project(credits=credits, statement_ids=pending[start : start + 500])
    return len(pending)


async def keep_up(*, credits: Credits, every: float = 30.0) -> None:
    """Catch up now and then, so a crediting that failed without the process stopping
    is completed without waiting for a restart."""
    await periodic.every(
        every,
        lambda: catch_up(credits=credits, older_than=timedelta(seconds=every)),
        failed="crediting statements left behind failed",
        done="credited %s statement(s) whose crediting had not completed",
    )


async def completion_entries(*, credits: Credits, learner_id: str) -> list[LedgerEntry]:
    """The automatic entries of every course a learner's stored statements completed, in
    memory (credits/recompute.py writes them): one read of their statements and reviews."""
    records = await StatementRecord.find(
        {"agents": {"$in": credits.agent_keys(learner_id)}}
    ).to_list()
    by_activity = _qualifying(credits, learner_id, records)
    courses = {
        activity_id: course
        for activity_id in sorted(by_activity)
        if (course := await credits.catalog.course_by_activity(activity_id)) is not None
    }
    entry_ids = {a: entry_id_for(learner_id, c.code) for a, c in courses.items()}
    reviews = await reviews_of(list(entry_ids.values()))
    built = []
    for activity_id, course in courses.items():
        found = reviews.get(entry_ids[activity_id], {})
        entry = await _build(credits, learner_id, course, by_activity[activity_id], found)
        if entry is not None:
            built.append(entry)
    return built
