"""Popularity: how many learners completed each course, as search ranks by it (issue 19).

A course's popularity is the number of distinct learners whose ledger holds a completion
entry of it that stands: the ledger's once-per-course rule makes one entry per learner and
course, so counting entries counts learners; a voided completion reverses its entry and so
no longer counts. Our reading (the notice says nothing of popularity): an entry counts when
it is `counted` or `awaiting_policy` (the learner completed the course; only the policy
that turns it into hours is missing), not when `pending_review` (its date is in doubt) or
`reversed` (voided, or rejected by an auditor).

The ledger notes the courses whose completions it changed (`CompletionChanges`, in
memory, never awaited on I/O by a statement write); the composition root reads them every
30 s and pushes the new counts to the search backend (nxce/search_wiring.py).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from credits.models import EntryStatus, LedgerEntry
from nxce.core import db

# The statuses of a completion entry that count towards popularity (see the module).
STANDING = (EntryStatus.counted.value, EntryStatus.awaiting_policy.value)
COMPLETION = "completion"


async def completions_by_course(*, codes: list[str] | None = None) -> dict[str, int]:
    """Distinct learners with a standing completion entry, per course code (of `codes`
    only when given); courses nobody completed are absent."""
    match: dict[str, Any] = {"kind": COMPLETION, "status": {"$in": list(STANDING)}}
    if codes is not None:
        if not codes:
            return {}
        match["source.course_code"] = {"$in": sorted(set(codes))}
    pipeline = [
        {"$match": match},
        {"$group": {"_id": "$source.course_code", "learners": {"$sum": 1}}},
    ]
    rows = await db.collection(LedgerEntry).aggregate(pipeline).to_list(None)
    return {str(r["_id"]): int(r["learners"]) for r in rows if r["_id"]}


def completion_codes(entries: Iterable[dict[str, Any]]) -> set[str]:
    """The course codes of the completion entries among `entries` (stored forms)."""
    found = set()
    for entry in entries:
        code = (entry.get("source") or {}).get("course_code")
        if entry.get("kind") == COMPLETION and code:
            found.add(str(code))
    return found


class CompletionChanges:
    """The courses whose completion entries changed since the last look (in this process):
    the ledger notes them as it writes, the popularity push takes them."""

    def __init__(self) -> None:
        self._codes: set[str] = set()

    def note(self, codes: Iterable[str]) -> None:
        self._codes.update(codes)

    def take(self) -> set[str]:
        """The codes noted since the last `take` (forgotten here: a push that fails notes
        them again)."""
        taken, self._codes = self._codes, set()
        return taken

    def __len__(self) -> int:
        return len(self._codes)
