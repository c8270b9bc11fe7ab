"""The credit ledger: its entries, manual entries converted by the policy (§一(三)),
auditors' reviews, and `rebuild`, which recomputes it all from the statements, manual
entries and reviews.

    statements ─┐
    manual entries ─┼─> ledger entries (each citing its source and clause) ─> audit
    reviews ───────┘

The ledger is a projection: `rebuild` must give the same entries (`snapshot`).
"""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date
from typing import Any

from credits import conversions, learners, log_lines, recompute
from credits.context import Credits
from credits.models import (
    AUDITED_FIELDS,
    AuditedEntry,
    CreditReview,
    EntryStatus,
    Learner,
    LedgerEntry,
    ManualCredit,
)
from nxce.core import db
from nxce.core.errors import Conflict, NotFound


async def _base_lookup(credits: Credits, kind: str, details: dict[str, Any]) -> Any:
    if kind != "training":
        return lambda base_id, day: (None, None)
    day = conversions.entry_date(kind, details)
    standing = await credits.catalog.base_standing(str(details["base_id"]), day)
    if standing is None:
        return lambda base_id, when: (None, None, False)
    found = (standing.status, standing.name, standing.good)  # good standing: catalog.bases
    return lambda base_id, when: found


def recorded_on(credits: Credits, manual: ManualCredit) -> date:
    """The day a manual entry was recorded, in the policy's time zone (China Standard
    Time): what the entry's dates are checked against, on entry and on rebuild alike."""
    at = manual.recorded_at
    at = at if at.tzinfo is not None else at.replace(tzinfo=UTC)  # MongoDB answers naive UTC
    return at.astimezone(credits.policies.newest().time_zone).date()


async def _manual_entry(credits: Credits, learner: Learner, manual: ManualCredit) -> LedgerEntry:
    converted = conversions.convert(
        kind=manual.kind,
        details=manual.details,
        learner=learner,
        policies=credits.policies,
        base_status=await _base_lookup(credits, manual.kind, manual.details),
        today=recorded_on(credits, manual),
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
        kind=converted.kind,
        source_kind="manual",
        source_ref=manual.entry_id,
        source=json.loads(json.dumps(source, default=str, ensure_ascii=False)),
        clause=converted.clause,
        policy_id=converted.policy_id,
        status=converted.status,
        status_reason=converted.status_reason,
        meets=converted.meets,
        valid_through=converted.valid_through,
        recorded_by=manual.recorded_by,
        recorded_at=manual.recorded_at,
    )


def _with_defaults(credits: Credits, kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """What an entry leaves out and a policy supplies, stored with the entry so that a
    later policy does not change it: a record import's source is the provincial platform
    (§一(一)) of the newest policy that has record imports."""
    if kind != "record_import" or details.get("source"):
        return details
    policy = credits.policies.with_rule("record_import")
    rule = policy.conversions.record_import if policy is not None else None
    return {**details, "source": rule.platform if rule is not None else conversions.UNSPECIFIED}


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
    """Record a manual entry and its ledger entry (awaiting a policy when none converts
    it); 422 when the entry is bad input or a rule of the notice refuses it."""
    learner = await learners.get_learner(learner_id=learner_id)
    manual = ManualCredit(
        entry_id=str(uuid.uuid4()),
        learner_id=learner_id,
        kind=kind,
        details=json.loads(json.dumps(_with_defaults(credits, kind, details), default=str)),
        description=description,
        evidence=evidence,
        recorded_by=by,
        recorded_at=db.now(),
    )
    entry = await _manual_entry(credits, learner, manual)  # raises before anything is written

    async def write(session: Any) -> None:
        await manual.insert(session=session)
        await db.collection(LedgerEntry).insert_one(db.new_document(entry), session=session)
        await log_lines.manual_entry(entry, by=by, session=session)

    await db.atomic(write)
    return entry


async def entries(*, learner_id: str, year: int | None = None) -> list[LedgerEntry]:
    await learners.get_learner(learner_id=learner_id)
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
    when, tied to the statement it judged (one per judged statement), and the learner's
    ledger is recomputed."""
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

    async def write(session: Any) -> None:
        await db.collection(CreditReview).replace_one(
            {"entry_id": entry_id, "source_ref": entry.source_ref},
            db.new_document(decided),
            upsert=True,
            session=session,
        )
        await log_lines.review(decided, entry, learner_id=learner_id, session=session)

    await db.atomic(write)
    recomputed = await recompute.recompute_learner(credits=credits, learner_id=learner_id)
    return next(e for e in recomputed if e.entry_id == entry_id)


async def rebuild(*, credits: Credits, learner_id: str | None = None) -> int:
    """Recompute the ledger (of one learner, or all) from statements, manual entries and
    reviews, through the one recompute path (credits/recompute.py); answers how many
    entries it holds afterwards."""
    return await recompute.rebuild(credits=credits, learner_id=learner_id)


def snapshot(entries_: list[LedgerEntry]) -> list[dict[str, Any]]:
    """The ledger as comparable data (what `rebuild` must reproduce)."""
    rows = [e.model_dump(mode="json", exclude={"id", "revision_id"}) for e in entries_]
    return sorted(rows, key=lambda r: r["entry_id"])
