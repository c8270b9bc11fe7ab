"""The one recompute path: a learner's whole ledger computed in memory from its sources
(manual entries converted by the policy, completions projected from the statements,
auditors' reviews applied, programme results of §二 read from the catalog), then swapped in.

    manual entries ─────┐
    statements ─────────┤
    reviews ────────────┼─> computed entries ─> swap (upsert each, delete the rest)
    programme results ──┘

`ledger.rebuild`, a learner's registration and update, reviews, programme results and
base decisions (§三) use it. A rule's refusal of a manual entry (a base no longer in good
standing on its date, a policy changed since) becomes a reversed entry that keeps its
hours and says why; any other error stops the recompute and names the learner
(`RecomputeFailed`), writing nothing.

Base decisions apply at once and survive a crash: before a base's status change is
written, every learner trained there (a training entry, or a programme result) is marked
(`RecomputeMark`, in the store); after it, each is recomputed and its mark removed. A
programme result being recorded marks its learner the same way. Marks a process left
behind are finished at start, by the keep-up loop and by `nxce credits rebuild`.

A recompute with a cause (a base decision: `decision_cause`) keeps the entries it changed
(`LedgerChange`: hours before → after, status before → after) under that cause, written
with the new ledger in one transaction; the mark carries the cause, so a recompute that
a crash left to start-up or the keep-up loop keeps them too. `changes` reads them back.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from credits import conversions, learners, ledger, popularity, programme, projection
from credits.context import BaseStanding, Catalog, Course, Credits, ProgrammeResult
from credits.models import (
    EntryStatus,
    Learner,
    LedgerChange,
    LedgerEntry,
    ManualCredit,
    RecomputeMark,
    as_date,
)
from nxce.core import db, periodic
from nxce.core.errors import NotFound, Unprocessable

log = logging.getLogger("nxce")


class RecomputeFailed(RuntimeError):
    """Recomputing a learner's ledger failed on an error that is not a rule's refusal (a
    programming error, the store away): nothing was written; the learner is named."""

    def __init__(self, learner_id: str, error: BaseException) -> None:
        super().__init__(f"recomputing the ledger of learner {learner_id!r} failed: {error!r}")
        self.learner_id = learner_id


# --- computing a learner's ledger -------------------------------------------------------


class _StandingAside:
    """The catalog with one base's status set aside: what a training entry at a base no
    longer in good standing would have been worth (the hours it keeps, reversed)."""

    def __init__(self, catalog: Catalog) -> None:
        self._catalog = catalog

    async def course_by_activity(self, activity_id: str) -> Course | None:
        return await self._catalog.course_by_activity(activity_id)

    async def as_of(self, course: Course, moment: datetime) -> Course:
        return await self._catalog.as_of(course, moment)

    async def base_standing(
        self, base_id: str, day: date, *, started_on: date | None = None
    ) -> BaseStanding | None:
        standing = await self._catalog.base_standing(base_id, day, started_on=started_on)
        return None if standing is None else replace(standing, good=True)

    async def programme_results(self, learner_id: str) -> list[ProgrammeResult]:
        return await self._catalog.programme_results(learner_id)

    async def programme_learners(self, base_id: str) -> list[str]:
        return await self._catalog.programme_learners(base_id)

    def series_names(self) -> tuple[str, ...]:
        return self._catalog.series_names()

    async def published(self, *, category: str, series: str | None) -> list[Course]:
        return await self._catalog.published(category=category, series=series)


def standing_reason(standing: BaseStanding, day: date) -> str:
    """§三: why a training entry dated `day` does not count: the base, its status and the
    date it took effect."""
    if standing.status is None:
        return f"base {standing.name} was not yet certified on {day} (§三)"
    return (
        f"base {standing.name} was {standing.status} on {standing.since} (§三); "
        f"the training is dated {day}"
    )


async def _training_at_fallen_base(
    credits: Credits, learner: Learner, manual: ManualCredit
) -> LedgerEntry | None:
    """§三: a training entry at a base not in good standing on its date, reversed with the
    hours it would have had; None when the base was in good standing (or is unknown)."""
    if manual.kind != "training":
        return None
    day = conversions.entry_date(manual.kind, manual.details)
    standing = await credits.catalog.base_standing(str(manual.details["base_id"]), day)
    if standing is None or standing.good:
        return None
    aside = replace(credits, catalog=_StandingAside(credits.catalog))
    entry = await ledger._manual_entry(aside, learner, manual)
    entry.status, entry.status_reason = EntryStatus.reversed, standing_reason(standing, day)
    return entry


def _refused(
    learner: Learner, manual: ManualCredit, refusal: Unprocessable, before: LedgerEntry | None
) -> LedgerEntry:
    """A manual entry the rules refuse now (they changed since it was recorded): kept,
    reversed, with the hours it had and why."""
    day = conversions.entry_date(manual.kind, manual.details)
    hours = before.hours if before is not None else float(manual.details.get("hours") or 0)
    return LedgerEntry(
        entry_id=manual.entry_id,
        learner_id=learner.learner_id,
        year=day.year,
        occurred_on=day,
        category=before.category if before is not None else "professional",
        hours=hours,
        kind=manual.kind,
        source_kind="manual",
        source_ref=manual.entry_id,
        source=before.source if before is not None else dict(manual.details),
        clause=before.clause if before is not None else "",
        policy_id=before.policy_id if before is not None else "",
        status=EntryStatus.reversed,
        status_reason=f"no longer accepted: {refusal.detail}",
        recorded_by=manual.recorded_by,
        recorded_at=manual.recorded_at,
    )


async def _manual(
    credits: Credits, learner: Learner, manual: ManualCredit, before: LedgerEntry | None
) -> LedgerEntry:
    fallen = await _training_at_fallen_base(credits, learner, manual)
    if fallen is not None:
        return fallen
    try:
        return await ledger._manual_entry(credits, learner, manual)
    except Unprocessable as refusal:
        return _refused(learner, manual, refusal, before)


async def _current(learner_id: str) -> dict[str, LedgerEntry]:
    return {e.entry_id: e async for e in LedgerEntry.find({"learner_id": learner_id})}


async def compute(
    *, credits: Credits, learner: Learner, current: dict[str, LedgerEntry] | None = None
) -> list[LedgerEntry]:
    """A learner's whole ledger, computed in memory from its sources (nothing written);
    `current`: the ledger as stored, when the caller has read it already."""
    learner_id = learner.learner_id
    if current is None:
        current = await _current(learner_id)
    manuals = (
        await ManualCredit.find(ManualCredit.learner_id == learner_id)
        .sort("+recorded_at", "+entry_id")
        .to_list()
    )
    computed = [await _manual(credits, learner, m, current.get(m.entry_id)) for m in manuals]
    computed += await projection.completion_entries(credits=credits, learner_id=learner_id)
    computed += await programme.programme_entries(credits=credits, learner_id=learner_id)
    return computed


def _changed(
    cause: str, before: dict[str, LedgerEntry], after: list[LedgerEntry]
) -> list[LedgerChange]:
    """The entries whose hours, category or status differ between `before` and `after`,
    and those that came or went, as changes kept under `cause`."""
    now = db.now()
    found: list[LedgerChange] = []
    pairs: list[tuple[LedgerEntry | None, LedgerEntry | None]] = [
        (before.get(e.entry_id), e) for e in after
    ]
    kept = {e.entry_id for e in after}
    pairs += [(e, None) for entry_id, e in before.items() if entry_id not in kept]
    for old, new in pairs:
        if old is not None and new is not None:
            same = (old.hours, old.category, old.status) == (new.hours, new.category, new.status)
            if same:
                continue
        either = new if new is not None else old
        assert either is not None
        found.append(
            LedgerChange(
                cause=cause,
                learner_id=either.learner_id,
                entry_id=either.entry_id,
                kind=either.kind,
                occurred_on=either.occurred_on,
                category=either.category,
                hours_before=old.hours if old is not None else None,
                hours_after=new.hours if new is not None else None,
                status_before=old.status if old is not None else None,
                status_after=new.status if new is not None else None,
                reason_after=new.status_reason if new is not None else None,
                changed_at=now,
            )
        )
    return sorted(found, key=lambda c: (c.occurred_on, c.entry_id))


async def _swap(
    learner_id: str, entries: list[LedgerEntry], changes: list[LedgerChange] | None = None
) -> None:
    """Replace the learner's ledger by `entries`: upsert each, then delete the entries not
    among them, and keep `changes`, in one transaction on MongoDB. Without transactions
    (the embedded store, a standalone server) the order means a crash halfway leaves
    every computed entry written and at worst an entry that should be gone: never an
    empty ledger."""
    keep = [e.entry_id for e in entries]
    documents = [db.new_document(e) for e in entries]
    kept_changes = [db.new_document(c) for c in changes or []]

    async def write(session: Any) -> None:
        collection = db.collection(LedgerEntry)
        for document in documents:
            await collection.replace_one(
                {"entry_id": document["entry_id"]}, document, upsert=True, session=session
            )
        await collection.delete_many(
            {"learner_id": learner_id, "entry_id": {"$nin": keep}}, session=session
        )
        if kept_changes:
            await db.collection(LedgerChange).insert_many(kept_changes, session=session)

    await db.atomic(write)


async def _completions(learner_id: str) -> dict[str, bool]:
    """The learner's completion entries now: course code -> whether it stands (popularity)."""
    found = db.collection(LedgerEntry).find(
        {"learner_id": learner_id, "kind": popularity.COMPLETION},
        {"source": 1, "kind": 1, "status": 1, "_id": 0},
    )
    return popularity.completions_of([row async for row in found])


@dataclass(frozen=True, slots=True)
class Recomputed:
    """A learner's recomputed ledger, and the entries that changed (kept when it had a
    cause)."""

    entries: list[LedgerEntry]
    changes: list[LedgerChange]


async def recompute_learner(
    *, credits: Credits, learner_id: str, cause: str | None = None
) -> list[LedgerEntry]:
    """Compute the learner's whole ledger, then swap it in; the learner's recompute mark
    (if any) is removed once the new ledger is written. With a `cause` (or a mark that
    has one), the entries that changed are kept under it. 404 when there is no such
    learner; `RecomputeFailed` naming the learner on any error but a rule's refusal."""
    return (
        await recompute_with_changes(credits=credits, learner_id=learner_id, cause=cause)
    ).entries


async def recompute_with_changes(
    *, credits: Credits, learner_id: str, cause: str | None = None
) -> Recomputed:
    """`recompute_learner`, answering the entries that changed as well."""
    async with credits.lock(learner_id):
        learner = await learners.get_learner(learner_id=learner_id)
        mark = await db.collection(RecomputeMark).find_one(
            {"learner_id": learner_id}, {"token": 1, "cause": 1, "_id": 0}
        )
        cause = cause or (mark or {}).get("cause")
        try:
            before = await _completions(learner_id)
            current = await _current(learner_id)
            entries = await compute(credits=credits, learner=learner, current=current)
            changes = _changed(cause or "", current, entries)
            await _swap(learner_id, entries, changes if cause else None)
        except Exception as error:
            raise RecomputeFailed(learner_id, error) from error
        after = popularity.completions_of(
            {"kind": e.kind, "source": e.source, "status": e.status.value} for e in entries
        )
        for code in before.keys() | after.keys():
            credits.popularity.moved(code, before.get(code, False), after.get(code, False))
        if mark is not None:  # a marking since has a new token: that mark stays
            await db.collection(RecomputeMark).delete_one(
                {"learner_id": learner_id, "token": mark["token"]}
            )
    return Recomputed(entries, changes)


async def rebuild(*, credits: Credits, learner_id: str | None = None) -> int:
    """Recompute the ledger of one learner, or of all (which finishes every mark left
    behind); answers how many entries the recomputed ledgers hold."""
    if learner_id is not None:
        return len(await recompute_learner(credits=credits, learner_id=learner_id))
    count = 0
    ids = [d["learner_id"] async for d in db.collection(Learner).find({}, {"learner_id": 1})]
    for each in sorted(ids):
        count += len(await recompute_learner(credits=credits, learner_id=each))
    await finish_marks(credits=credits)  # marks of learners no longer there
    return count


# --- marks: recomputes that must happen even if the process dies ------------------------


async def mark(learner_ids: list[str], reason: str, *, cause: str | None = None) -> None:
    """Note in the store that these learners' ledgers must be recomputed (keeping the
    entries that change under `cause`, when given)."""
    if not learner_ids:
        return
    now = db.now()
    for learner_id in sorted(set(learner_ids)):
        values = {"token": uuid.uuid4().hex, "reason": reason, "marked_at": now, "cause": cause}
        await db.collection(RecomputeMark).update_one(
            {"learner_id": learner_id}, {"$set": values}, upsert=True
        )


async def finish_marks(*, credits: Credits, older_than: timedelta | None = None) -> int:
    """Recompute every marked learner (with `older_than`, only marks at least that old:
    younger ones are being finished by the request that made them); answers how many.
    A learner that failed keeps its mark (logged); the others go on."""
    query: dict[str, Any] = {}
    if older_than is not None:
        query["marked_at"] = {"$lt": db.now() - older_than}
    marks = [
        (d["learner_id"], d["token"])
        async for d in db.collection(RecomputeMark).find(query, {"_id": 0}).sort("marked_at", 1)
    ]
    done = 0
    for learner_id, token in marks:
        try:
            await recompute_learner(credits=credits, learner_id=learner_id)
        except NotFound:  # the learner is gone: nothing to recompute
            gone = {"learner_id": learner_id, "token": token}
            await db.collection(RecomputeMark).delete_one(gone)
            continue
        except RecomputeFailed:
            log.exception("a marked ledger could not be recomputed; its mark stays")
            continue
        done += 1
    return done


async def keep_marks(*, credits: Credits, every: float = 30.0) -> None:
    """Finish marks left behind now and then (a base change whose process died)."""
    await periodic.every(
        every,
        lambda: finish_marks(credits=credits, older_than=timedelta(seconds=every)),
        failed="finishing recompute marks failed",
        done="recomputed %s ledger(s) marked before a process stopped",
    )


# --- base decisions (§三) ---------------------------------------------------------------


async def _trained_at(credits: Credits, base_id: str) -> list[str]:
    """The learners with a training entry at the base, or a programme result of one of its
    projects (§二)."""
    found = await db.collection(ManualCredit).distinct(
        "learner_id", {"kind": "training", "details.base_id": base_id}
    )
    found += await credits.catalog.programme_learners(base_id)
    return sorted({str(learner_id) for learner_id in found})


def decision_cause(decision_id: str) -> str:
    """What the ledger changes a base decision (§三) made are kept under."""
    return f"base-decision:{decision_id}"


@dataclass(frozen=True, slots=True)
class Followed:
    """What the ledgers did after a base decision: learners recomputed, and how many of
    their entries changed (of how many learners)."""

    recomputed: int
    entries_changed: int
    learners_changed: int


async def base_changing(*, credits: Credits, base_id: str, decision_id: str | None = None) -> None:
    """§三, before a base's status change is written: mark the learners trained there
    (with the decision, so the entries their recompute changes are kept under it)."""
    cause = decision_cause(decision_id) if decision_id else None
    learner_ids = await _trained_at(credits, base_id)
    await mark(learner_ids, f"base {base_id} changed status (§三)", cause=cause)


async def base_changed(
    *, credits: Credits, base_id: str, decision_id: str | None = None
) -> Followed:
    """§三, once a base's status change is written: recompute (at once) the ledger of every
    learner trained there, keeping the entries that changed under the decision; answers
    how many learners were recomputed and how many entries changed."""
    cause = decision_cause(decision_id) if decision_id else None
    learner_ids = await _trained_at(credits, base_id)
    entries = learners_changed = 0
    for learner_id in learner_ids:
        done = await recompute_with_changes(credits=credits, learner_id=learner_id, cause=cause)
        entries += len(done.changes)
        learners_changed += bool(done.changes)
    return Followed(len(learner_ids), entries, learners_changed)


async def changes(
    *, cause: str, offset: int = 0, limit: int = 50
) -> tuple[list[LedgerChange], int]:
    """The ledger entries kept under `cause`, by learner and entry, a page at a time
    (`limit` at most 200), and how many there are in all."""
    query = {"cause": cause}
    total: int = await db.collection(LedgerChange).count_documents(query)
    page = (
        await LedgerChange.find(query)
        .sort("+learner_id", "+entry_id")
        .skip(max(0, offset))
        .limit(max(1, min(limit, 200)))
        .to_list()
    )
    return page, total


async def change_counts(*, causes: list[str]) -> dict[str, int]:
    """How many ledger entries are kept under each of `causes` (a count on the index
    each: a base's few decisions)."""
    collection = db.collection(LedgerChange)
    return {cause: int(await collection.count_documents({"cause": cause})) for cause in causes}


# --- programme results (§二, §五(二)) -----------------------------------------------


async def result_recording(*, learner_id: str) -> None:
    """Before a programme result of the learner is written: mark the learner, so that a
    process dying before the recompute leaves the crediting to be finished."""
    await mark([learner_id], "a programme result was recorded (§二, §五(二))")


async def result_recorded(*, credits: Credits, learner_id: str) -> None:
    """Once a programme result is written: recompute the learner's ledger at once (a pass
    credits the project's hours). The result stands whatever happens here: a recompute
    that fails is logged and its mark left for the keep-up loop to finish."""
    try:
        await recompute_learner(credits=credits, learner_id=learner_id)
    except (NotFound, RecomputeFailed):
        log.exception("crediting a programme result failed; its mark stays for the keep-up")


# --- entries that waited for a policy ---------------------------------------------------


async def recount_awaiting(*, credits: Credits) -> int:
    """At start: learners with entries awaiting a policy that an installed policy now
    covers are marked and recomputed (their entries are counted); answers how many."""
    policies = credits.policies.all
    learner_ids = {
        str(d["learner_id"])
        async for d in db.collection(LedgerEntry).find(
            {"status": EntryStatus.awaiting_policy.value},
            {"learner_id": 1, "occurred_on": 1, "_id": 0},
        )
        if any(p.covers(as_date(d["occurred_on"])) for p in policies)
    }
    await mark(sorted(learner_ids), "a policy now covers entries awaiting one")
    for learner_id in sorted(learner_ids):
        await recompute_learner(credits=credits, learner_id=learner_id)
    return len(learner_ids)
