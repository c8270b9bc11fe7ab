"""Figures of the credit ledger for the admin's overview: entries recorded since a
moment, in all, and the entries waiting for someone (an auditor's review, a policy) —
each one indexed count."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from credits.models import EntryStatus, LedgerEntry
from nxce.core import db


@dataclass(frozen=True, slots=True)
class Waiting:
    """Ledger entries no one has finished with."""

    pending_review: int  # completions over the daily ceiling etc., for an auditor to judge
    awaiting_policy: int  # dated where no installed policy converts them yet


async def registered_since(*, moment: datetime) -> int:
    """Ledger entries recorded at or after `moment` (the `recorded_at` index)."""
    query = {"recorded_at": {"$gte": moment}}
    return int(await db.collection(LedgerEntry).count_documents(query))


async def registered_total() -> int:
    """Ledger entries in all (the collection's count, not a scan, on MongoDB)."""
    return int(await db.collection(LedgerEntry).estimated_document_count())


async def waiting() -> Waiting:
    """Entries pending an auditor's review and entries awaiting a policy (`status`)."""
    ledger = db.collection(LedgerEntry)
    pending = await ledger.count_documents({"status": EntryStatus.pending_review.value})
    awaiting = await ledger.count_documents({"status": EntryStatus.awaiting_policy.value})
    return Waiting(pending_review=int(pending), awaiting_policy=int(awaiting))
