"""Popularity: how many learners completed each course, as search ranks by it (issue 19).

A course's popularity is the number of distinct learners whose ledger holds a completion
entry of it that stands: the ledger's once-per-course rule makes one entry per learner and
course, so counting entries counts learners; a voided completion reverses its entry and so
no longer counts. Our reading (the notice says nothing of popularity): an entry counts when
it is `counted` or `awaiting_policy` (the learner completed the course; only the policy
that turns it into hours is missing), not when `pending_review` (its date is in doubt) or
`reversed` (voided, or rejected by an auditor).

The counts are kept in memory (`Popularity`, one per app): a full count from the ledger at
start, then moved by the ledger as it writes each completion entry (no I/O of its own);
the composition root pushes the courses that moved to the search backend every 30 s, and
counts afresh now and then where other processes write the same ledger (MongoDB)
(nxce/search_wiring.py). Recommendations rank by the same counts.
"""

from __future__ import annotations

from collections import Counter
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
    counts: Counter[str] = Counter()
    async for row in db.collection(LedgerEntry).find(match, {"source.course_code": 1, "_id": 0}):
        code = (row.get("source") or {}).get("course_code")
        if code:
            counts[str(code)] += 1
    return dict(counts)


def completions_of(entries: Iterable[dict[str, Any]]) -> dict[str, bool]:
    """Course code -> whether its entry stands, for the completion entries among `entries`
    (stored forms)."""
    found = {}
    for entry in entries:
        code = (entry.get("source") or {}).get("course_code")
        if entry.get("kind") == COMPLETION and code:
            found[str(code)] = standing(entry)
    return found


def standing(entry: dict[str, Any] | None) -> bool:
    """Whether a completion entry (its stored form; None: no entry) counts (see the module)."""
    return entry is not None and entry.get("status") in STANDING


class Popularity:
    """The learners of each course, kept in memory by this process: set from the ledger by
    a full count (`reset`, at start and now and then), moved by the ledger as it writes a
    completion entry (`moved`, no I/O: a statement write never waits on it), and the
    courses moved since the last push (`take`)."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.ready = False  # a full count has been made
        self._changed: set[str] = set()

    def moved(self, code: str, before: bool, after: bool) -> None:
        """A learner's completion entry of `code` stood (`before`) and stands (`after`)."""
        if before == after:
            return
        self.counts[code] = max(0, self.counts.get(code, 0) + (1 if after else -1))
        self._changed.add(code)

    def reset(self, counts: dict[str, int]) -> None:
        """A full count: what it does not name, nobody completed."""
        self.counts, self.ready = dict(counts), True

    def learners(self, code: str) -> int:
        return self.counts.get(code, 0)

    def note(self, codes: Iterable[str]) -> None:
        """Push these courses again (a push that failed)."""
        self._changed.update(codes)

    def take(self) -> set[str]:
        """The courses moved since the last `take`."""
        taken, self._changed = self._changed, set()
        return taken
