"""The entries an audit did not count, as transcripts list them in a section of their own:
the audit's `not_counted` (entry id, hours, reason) joined with the ledger's rows (date,
what was done, the ledger's reason for the status)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from credits.labels import CATEGORY_LABELS, KIND_LABELS, not_counted_note
from credits.schemas import AuditRead
from transcripts.content import entry_line


@dataclass(frozen=True, slots=True)
class NotCounted:
    """An entry the audit did not count, as the transcript's section of its own lists it:
    what, when, how many hours, and why (the audit's reason, in Chinese where known)."""

    entry_id: str
    date: str
    kind_label: str
    title: str
    category_label: str
    hours: float
    reason: str
    reason_note: str


def _hours(value: Any) -> float:
    """6 rather than 6.0, as the other figures of a transcript."""
    hours = float(value or 0)
    return int(hours) if hours.is_integer() else hours


def lines(audit: AuditRead | None, rows: Sequence[dict[str, Any]]) -> tuple[NotCounted, ...]:
    """The audit's `not_counted` entries with what the ledger says of each (date, what
    was done), by date."""
    if audit is None:
        return ()
    by_id = {r["entry_id"]: r for r in rows}
    found = []
    for item in audit.not_counted:
        row = by_id.get(str(item.get("entry_id")))
        line = None if row is None else entry_line(row)
        kind = str(item.get("kind") or (line.kind if line else ""))
        category = str(item.get("category") or (line.category if line else ""))
        reason = str(item.get("reason") or "")
        found.append(
            NotCounted(
                entry_id=str(item.get("entry_id", "")),
                date=line.date if line else str(item.get("occurred_on") or "")[:10],
                kind_label=line.kind_label if line else KIND_LABELS.get(kind, kind),
                title=line.title if line else "",
                category_label=CATEGORY_LABELS.get(category, category),
                hours=_hours(item.get("hours")),
                reason=reason,
                reason_note=not_counted_note(reason, line.status_note if line else None),
            )
        )
    return tuple(sorted(found, key=lambda n: (n.date, n.entry_id)))
