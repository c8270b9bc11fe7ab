"""Learners and their credit ledger: async, keyword-only, no web framework.

    statements ─┐
    manual entries ─┼─> ledger entries (each citing its source and clause) ─> audit
    reviews ───────┘

Automatic registration (§一(一)): for each learner and catalog course, the earliest stored,
not voided statement saying the learner completed it credits the course's hours, once.
Entries are recomputed whenever one of their sources changes, and `rebuild` recomputes
them all: the ledger is a projection and must come out the same.
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
import weakref
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from credits import conversions
from credits.id_numbers import IdNumberVault, masked
from credits.id_numbers import problem as id_number_problem
from credits.models import (
    AUDITED_FIELDS,
    AuditedEntry,
    CreditReview,
    EntryStatus,
    Learner,
    LedgerEntry,
    ManualCredit,
)
from credits.policy import Policies
from credits.schemas import LearnerCreate, LearnerUpdate
from lrs import identity
from lrs.statements import primitives
from lrs.statements.models import StatementRecord
from nxce.core import db
from nxce.core.errors import Conflict, NotFound, invalid

log = logging.getLogger("nxce")

_ENTRY_NAMESPACE = uuid.UUID("8f7c5b2e-6a1d-4f0e-9b3c-2d4e6f8a0b1c")
SYSTEM = "system"  # 由系统自动审核登记


@dataclass(frozen=True)
class Course:
    code: str
    title: str
    hours: float
    category: str
    series: str | None
    revision: int = 1  # the catalog's revision: 1 for a course never changed


class Catalog(Protocol):
    """What the record store reads of the catalog (the composition root provides it)."""

    async def course_by_activity(self, activity_id: str) -> Course | None: ...

    async def as_of(self, course: Course, moment: datetime) -> Course:
        """`course` with the title, hours and category it had at `moment`."""

    async def base_status(self, base_id: str, day: date) -> tuple[str | None, str | None]: ...

    def series_names(self) -> tuple[str, ...]: ...


@dataclass
class Credits:
    """Everything the credit services need, built once per app."""

    home_page: str
    policies: Policies
    vault: IdNumberVault
    catalog: Catalog
    _locks: weakref.WeakValueDictionary[str, asyncio.Lock] = field(
        default_factory=weakref.WeakValueDictionary, repr=False
    )

    def lock(self, learner_id: str) -> asyncio.Lock:
        """One crediting of a learner at a time in this process (a course's recompute, or
        all their courses at registration and rebuild), so one that read the statements
        before a voiding cannot write after one that read them after."""
        found = self._locks.get(learner_id)
        if found is None:
            found = self._locks[learner_id] = asyncio.Lock()
        return found

    def agent_keys(self, learner_id: str) -> list[str]:
        """The keys statements give the learner's account."""
        return identity.learner_keys(self.home_page, learner_id)


# --- learners -------------------------------------------------------------------------


def _check_learner(credits: Credits, id_number: str | None, series: str | None) -> None:
    if id_number is not None:
        why = id_number_problem(id_number)
        if why is not None:
            raise invalid("id_number", why, masked(id_number) if len(id_number) == 18 else "…")
    if series is not None and series not in credits.catalog.series_names():
        raise invalid("series", "must be one of the 23 series", series)


async def get_learner(*, learner_id: str) -> Learner:
    learner = await Learner.find_one(Learner.learner_id == learner_id)
    if learner is None:
        raise NotFound(f"no learner {learner_id!r}")
    return learner


async def create_learner(*, credits: Credits, learner_in: LearnerCreate) -> Learner:
    """Register a learner; their statements stored so far are credited now."""
    _check_learner(credits, learner_in.id_number, learner_in.series)
    now = db.now()
    learner = Learner(
        learner_id=learner_in.id,
        name=learner_in.name,
        id_number_encrypted=credits.vault.encrypt(learner_in.id_number),
        id_number_digest=credits.vault.digest(learner_in.id_number),
        id_number_masked=masked(learner_in.id_number),
        employer=learner_in.employer,
        series=learner_in.series,
        title_level=learner_in.title_level,
        title_obtained_on=learner_in.title_obtained_on,
        degree=learner_in.degree,
        email=learner_in.email,
        created_at=now,
        updated_at=now,
    )
    try:
        await learner.insert()
    except db.DuplicateKeyError:
        existing = await Learner.find_one(Learner.learner_id == learner_in.id)
        if existing is not None:
            raise Conflict(f"learner {learner_in.id!r} already exists") from None
        raise Conflict("another learner has this id number") from None
    await project_learner(credits=credits, learner_id=learner.learner_id)
    return learner


async def update_learner(*, credits: Credits, learner_id: str, patch: LearnerUpdate) -> Learner:
    learner = await get_learner(learner_id=learner_id)
    values = patch.model_dump(exclude_unset=True)
    _check_learner(credits, values.get("id_number"), values.get("series"))
    for name in ("name", "employer", "title_level", "degree"):
        if name in values and values[name] is None:
            raise invalid(name, "must not be null")
    updates: dict[str, Any] = {k: v for k, v in values.items() if k != "id_number"}
    if values.get("id_number"):
        number = values["id_number"]
        updates |= {
            "id_number_encrypted": credits.vault.encrypt(number),
            "id_number_digest": credits.vault.digest(number),
            "id_number_masked": masked(number),
        }
    if not updates:
        return learner
    updates |= {"revision": learner.revision + 1, "updated_at": db.now()}
    try:
        result = await db.collection(Learner).update_one(
            {"_id": learner.id, "revision": learner.revision}, {"$set": db.encode(updates)}
        )
    except db.DuplicateKeyError:
        raise Conflict("another learner has this id number") from None
    if result.matched_count == 0:
        raise Conflict(f"learner {learner_id!r} was changed by another request; read it again")
    for name, value in updates.items():
        setattr(learner, name, value)
    await rebuild(credits=credits, learner_id=learner_id)  # series and title affect rules
    return learner


# --- automatic registration (§一(一)) ----------------------------------------------------


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


async def _build(
    credits: Credits,
    learner_id: str,
    course: Course,
    completions: list[tuple[StatementRecord, dict[str, Any]]],
    review: CreditReview | None,
) -> LedgerEntry | None:
    """The automatic entry of one learner and course: the earliest completion not voided
    credits, with the hours the course had when it was stored; if every completion was
    voided, the entry stays, reversed (Data 2.3.2)."""
    if not completions:
        return None
    live = [(r, s) for r, s in completions if not r.voided]
    record, statement = (live or completions)[0]
    course = await credits.catalog.as_of(course, record.stored)
    entry_id = entry_id_for(learner_id, course.code)
    entry = _automatic_entry(credits, learner_id, course, record, statement, entry_id)
    if not live:
        entry.status, entry.status_reason = EntryStatus.reversed, "the completion was voided"
        return entry
    if (
        entry.status == EntryStatus.pending_review
        and review is not None
        and review.source_ref == record.statement_id
    ):
        entry.status = EntryStatus.counted if review.decision == "approve" else EntryStatus.reversed
        entry.status_reason = f"{review.decision}d by an auditor: {review.reason}"
        entry.review = {
            "decision": review.decision,
            "reason": review.reason,
            "decided_by": review.decided_by,
            "decided_at": review.decided_at,
        }
    return entry


async def recompute(*, credits: Credits, learner_id: str, activity_id: str) -> LedgerEntry | None:
    """The automatic entry of one learner and one course, from the statements and reviews."""
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
    review = await CreditReview.find_one(CreditReview.entry_id == entry_id)
    entry = await _build(credits, learner_id, course, completions, review)
    if entry is None:
        await db.collection(LedgerEntry).delete_one({"entry_id": entry_id})
        return None
    await _upsert(entry)
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
    status, reason = EntryStatus.counted, None
    try:
        occurred_on = moment.astimezone(policy.time_zone).date()
    except OverflowError:  # 9999-12-31T23:59:59Z has no local date: the day it was stored
        occurred_on = record.stored.astimezone(policy.time_zone).date()
    if moment > record.stored + timedelta(minutes=5):
        status, reason = EntryStatus.pending_review, "the completion is dated after it was stored"
    elif moment < record.stored - timedelta(days=rules.backdate_days):
        status = EntryStatus.pending_review
        reason = (
            f"the completion is dated more than {rules.backdate_days} days before it was stored"
        )
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


async def _upsert(entry: LedgerEntry) -> None:
    raw = db.new_document(entry)
    await db.collection(LedgerEntry).replace_one({"entry_id": entry.entry_id}, raw, upsert=True)


async def project(*, credits: Credits, statement_ids: list[str]) -> None:
    """Credit what newly stored statements say (and un-credit what they void)."""
    ids = [i.lower() for i in statement_ids]
    records = await StatementRecord.find({"statement_id": {"$in": ids}}).to_list()
    voided_ids = [r.voids for r in records if r.voids]
    if voided_ids:
        records += await StatementRecord.find({"statement_id": {"$in": voided_ids}}).to_list()
    verbs = credits.policies.newest().automatic.verbs
    pairs = set()
    pair_of: dict[str, tuple[str, str] | None] = {}
    for record in records:
        statement = json.loads(record.document)
        pair = pair_of[record.statement_id] = _learner_and_activity(credits, statement)
        if pair is not None and completed(statement, verbs):  # nothing else moves the ledger
            pairs.add(pair)
    failed: set[tuple[str, str]] = set()
    for learner_id, activity_id in sorted(pairs):
        try:
            await recompute(credits=credits, learner_id=learner_id, activity_id=activity_id)
        except Exception:  # one learner's course must not hold up the others
            log.exception("crediting %s for %s failed; retried later", activity_id, learner_id)
            failed.add((learner_id, activity_id))
    # A statement is credited once the course it moves is; a voiding one moves its target's.
    done = [
        r.statement_id
        for r in records
        if r.statement_id in ids and pair_of.get(r.voids or r.statement_id) not in failed
    ]
    await db.collection(StatementRecord).update_many(
        {"statement_id": {"$in": done}}, {"$set": {"projected": True}}
    )


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
    while True:
        await asyncio.sleep(every)
        try:
            done = await catch_up(credits=credits, older_than=timedelta(seconds=every))
        except Exception:  # the store may be away for a moment: try again later
            log.exception("crediting statements left behind failed; trying again later")
            continue
        if done:
            log.warning("credited %d statement(s) whose crediting had not completed", done)


async def project_learner(*, credits: Credits, learner_id: str) -> int:
    """Credit every course a learner's stored statements completed (at registration and in
    a rebuild): one read of their statements, one write per entry. Answers how many."""
    async with credits.lock(learner_id):
        return await _project_learner(credits, learner_id)


async def _project_learner(credits: Credits, learner_id: str) -> int:
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
    reviews = {
        r.entry_id: r
        async for r in CreditReview.find({"entry_id": {"$in": sorted(entry_ids.values())}})
    }
    written = 0
    for activity_id, course in courses.items():
        review = reviews.get(entry_ids[activity_id])
        entry = await _build(credits, learner_id, course, by_activity[activity_id], review)
        if entry is not None:
            await _upsert(entry)
            written += 1
    return written


# --- manual entries and reviews (§一(三)) -------------------------------------------------


async def _base_lookup(credits: Credits, kind: str, details: dict[str, Any]) -> Any:
    if kind != "training":
        return lambda base_id, day: (None, None)
    day = conversions.entry_date(kind, details)
    status, name = await credits.catalog.base_status(str(details["base_id"]), day)
    return lambda base_id, when: (status, name)


async def _manual_entry(credits: Credits, learner: Learner, manual: ManualCredit) -> LedgerEntry:
    converted = conversions.convert(
        kind=manual.kind,
        details=manual.details,
        learner=learner,
        policies=credits.policies,
        base_status=await _base_lookup(credits, manual.kind, manual.details),
    )
    source = {**manual.details, **(converted.source or {})}
    if manual.description:
        source["description"] = manual.description
    if manual.evidence:
        source["evidence"] = manual.evidence
    return LedgerEntry(
        entry_id=manual.entry_id,
        learner_id=learner.learner_id,
        year=converted.year,
        occurred_on=converted.occurred_on,
        category=converted.category,
        hours=converted.hours,
        kind=manual.kind,
        source_kind="manual",
        source_ref=manual.entry_id,
        source=json.loads(json.dumps(source, default=str, ensure_ascii=False)),
        clause=converted.clause,
        policy_id=converted.policy_id,
        status=EntryStatus.counted,
        meets=converted.meets,
        valid_through=converted.valid_through,
        recorded_by=manual.recorded_by,
        recorded_at=manual.recorded_at,
    )


async def add_manual(
    *,
    credits: Credits,
    learner_id: str,
    kind: str,
    details: dict[str, Any],
    description: str | None,
    evidence: str | None,
    by: str,
) -> LedgerEntry:
    """Record a manual entry and its ledger entry; 422 when the rules refuse it."""
    learner = await get_learner(learner_id=learner_id)
    manual = ManualCredit(
        entry_id=str(uuid.uuid4()),
        learner_id=learner_id,
        kind=kind,
        details=json.loads(json.dumps(details, default=str)),
        description=description,
        evidence=evidence,
        recorded_by=by,
        recorded_at=db.now(),
    )
    entry = await _manual_entry(credits, learner, manual)  # raises before anything is written

    async def write(session: Any) -> None:
        await manual.insert(session=session)
        await db.collection(LedgerEntry).insert_one(db.new_document(entry), session=session)

    await db.atomic(write)
    return entry


async def entries(*, learner_id: str, year: int | None = None) -> list[LedgerEntry]:
    await get_learner(learner_id=learner_id)
    query: dict[str, Any] = {"learner_id": learner_id}
    if year is not None:
        query["year"] = year
    return await LedgerEntry.find(query).sort("+occurred_on", "+entry_id").to_list()


async def audited_entries(*, learner: Learner) -> list[AuditedEntry]:
    """A learner's whole ledger as the audit reads it (in no particular order)."""
    learner_id = learner.learner_id
    projection = {name: 1 for name in AUDITED_FIELDS} | {"_id": 0}
    return [
        AuditedEntry.from_document(document)
        async for document in db.collection(LedgerEntry).find(
            {"learner_id": learner_id}, projection
        )
    ]


async def review(
    *, credits: Credits, learner_id: str, entry_id: str, decision: str, reason: str, by: str
) -> LedgerEntry:
    """An auditor approves or rejects a pending entry; the decision is kept with who and
    when, and tied to the statement it judged."""
    entry = await LedgerEntry.find_one({"entry_id": entry_id, "learner_id": learner_id})
    if entry is None:
        raise NotFound(f"learner {learner_id!r} has no entry {entry_id!r}")
    if entry.status != EntryStatus.pending_review:
        raise Conflict(f"entry {entry_id} is {entry.status.value}, not pending review")
    decided = CreditReview(
        entry_id=entry_id,
        source_ref=entry.source_ref,
        decision=decision,
        reason=reason,
        decided_by=by,
        decided_at=db.now(),
    )
    await db.collection(CreditReview).replace_one(
        {"entry_id": entry_id}, db.new_document(decided), upsert=True
    )
    activity = await _activity_of(entry)
    updated = await recompute(credits=credits, learner_id=learner_id, activity_id=activity)
    assert updated is not None
    return updated


async def _activity_of(entry: LedgerEntry) -> str:
    record = await StatementRecord.find_one(StatementRecord.statement_id == entry.source_ref)
    assert record is not None
    return str(json.loads(record.document)["object"]["id"])


# --- rebuild ----------------------------------------------------------------------------


async def rebuild(*, credits: Credits, learner_id: str | None = None) -> int:
    """Recompute the ledger (of one learner, or all) from statements, manual entries and
    reviews; answers how many entries it holds afterwards."""
    learners = (
        [await get_learner(learner_id=learner_id)]
        if learner_id
        else await Learner.find_all().to_list()
    )
    count = 0
    for learner in learners:
        await db.collection(LedgerEntry).delete_many({"learner_id": learner.learner_id})
        manuals = (
            await ManualCredit.find(ManualCredit.learner_id == learner.learner_id)
            .sort("+recorded_at")
            .to_list()
        )
        for manual in manuals:
            try:
                entry = await _manual_entry(credits, learner, manual)
            except Exception as error:  # a rule changed since: keep the entry, reversed
                entry = _refused_manual(learner, manual, str(error))
            await _upsert(entry)
        count += len(manuals) + await project_learner(
            credits=credits, learner_id=learner.learner_id
        )
    return count


def _refused_manual(learner: Learner, manual: ManualCredit, why: str) -> LedgerEntry:
    day = conversions.entry_date(manual.kind, manual.details)
    return LedgerEntry(
        entry_id=manual.entry_id,
        learner_id=learner.learner_id,
        year=day.year,
        occurred_on=day,
        category="professional",
        hours=0,
        kind=manual.kind,
        source_kind="manual",
        source_ref=manual.entry_id,
        source=dict(manual.details),
        clause="",
        policy_id="",
        status=EntryStatus.reversed,
        status_reason=f"no longer accepted: {why}",
        recorded_by=manual.recorded_by,
        recorded_at=manual.recorded_at,
    )


def snapshot(entries_: list[LedgerEntry]) -> list[dict[str, Any]]:
    """The ledger as comparable data (what `rebuild` must reproduce)."""
    rows = [e.model_dump(mode="json", exclude={"id", "revision_id"}) for e in entries_]
    return sorted(rows, key=lambda r: r["entry_id"])
