"""Figures of the credit ledger for the admin's overview: entries recorded since a
moment, in all, and the entries waiting for someone (an auditor's review, a policy) —
each one indexed count."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from credits.evidence import EvidenceDocument
from credits.models import AuditConclusion, EntryStatus, LedgerEntry
from nxce.core import db

MAX_DOCUMENTS_READ = 2000  # evidence documents of the last 90 days the overview reads
EVIDENCE_DAYS = 90


@dataclass(frozen=True, slots=True)
class Waiting:
    """Ledger entries no one has finished with."""

    pending_review: int  # completions over the daily ceiling etc., for an auditor to judge
    awaiting_policy: int  # dated where no installed policy converts them yet


async def registered_since(*, moments: Sequence[datetime]) -> list[int]:
    """Ledger entries recorded at or after each of `moments`: one read of the
    `recorded_at` index from the earliest (the index alone on MongoDB), counted against
    each moment."""
    if not moments:
        return []
    bounds = [aware(moment) for moment in moments]
    query = {"recorded_at": {"$gte": min(bounds)}}
    found = db.collection(LedgerEntry).find(query, {"_id": 0, "recorded_at": 1})
    counts = [0] * len(bounds)
    async for entry in found:
        at = aware(entry["recorded_at"])
        for n, bound in enumerate(bounds):
            counts[n] += at >= bound
    return counts


async def evidence_awaiting(*, since: datetime, most: int = MAX_DOCUMENTS_READ) -> int | None:
    """Evidence documents uploaded since `since` whose learner has no audit conclusion
    recorded after the upload (our reading of "awaiting a conclusion": an auditor
    concludes on the documents there are); None when more than `most` were uploaded
    since (the figure would read too much)."""
    uploaded = await (
        db.collection(EvidenceDocument)
        .find({"uploaded_at": {"$gte": since}}, {"_id": 0, "learner_id": 1, "uploaded_at": 1})
        .limit(most + 1)
        .to_list(None)
    )
    if len(uploaded) > most:
        return None
    learner_ids = sorted({document["learner_id"] for document in uploaded})
    latest: dict[str, datetime] = {}
    if learner_ids:
        found = db.collection(AuditConclusion).find(
            {"learner_id": {"$in": learner_ids}}, {"_id": 0, "learner_id": 1, "concluded_at": 1}
        )
        async for conclusion in found:
            learner_id, at = conclusion["learner_id"], aware(conclusion["concluded_at"])
            if learner_id not in latest or at > latest[learner_id]:
                latest[learner_id] = at
    return sum(
        1
        for document in uploaded
        if document["learner_id"] not in latest
        or latest[document["learner_id"]] < aware(document["uploaded_at"])
    )


def aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


async def registered_total() -> int:
    """Ledger entries in all (the collection's count, not a scan, on MongoDB)."""
    return int(await db.collection(LedgerEntry).estimated_document_count())


async def waiting() -> Waiting:
    """Entries pending an auditor's review and entries awaiting a policy (`status`)."""
    ledger = db.collection(LedgerEntry)
    pending = await ledger.count_documents({"status": EntryStatus.pending_review.value})
    awaiting = await ledger.count_documents({"status": EntryStatus.awaiting_policy.value})
    return Waiting(pending_review=int(pending), awaiting_policy=int(awaiting))
