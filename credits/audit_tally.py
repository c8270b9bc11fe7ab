"""What one audit counts as it reads a learner's entries: the window it covers, the hours
counted by year, the special cases applied with their clause, and every entry it does
not count with a reason a person understands (credits/audit.py puts them together)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from credits.models import AuditedEntry
from credits.schemas import Amounts, Applied, YearHours

# The ledger's statuses as the audit words them (`status_reason` follows, when there is one).
STATUS_WORDS = {
    "pending_review": "pending review",
    "reversed": "reversed",
    "awaiting_policy": "awaiting a policy",
}


@dataclass(frozen=True)
class Scope:
    """What the audit covers: the level's window (`level_first`..`level_last`), the years
    counted within it (`first`..`last`: the years in post of a master's holder), the
    requirement of those years, and why no hours can meet it, when none can."""

    level_first: int
    level_last: int
    first: int
    last: int
    required: Amounts
    in_post_since: date | None = None  # a master's holder's title date (§一(二))
    cannot_be_met: str | None = None

    @property
    def years(self) -> int:
        return max(0, self.last - self.first + 1)

    def in_level_window(self, year: int) -> bool:
        return self.level_first <= year <= self.level_last

    def counts(self, year: int) -> bool:
        return self.first <= year <= self.last

    def before_post(self) -> str:
        """Why hours of the level's window before the years in post do not count."""
        since = f"title obtained {self.in_post_since}" if self.in_post_since else "no title"
        return f"before the years in post ({since}; §一(二), our reading)"


@dataclass
class Tally:
    """What the audit has counted so far."""

    scope: Scope
    applied: list[Applied] = field(default_factory=list)
    years: dict[int, list[float]] = field(init=False)  # year -> [public, professional]
    not_counted: list[dict[str, object]] = field(default_factory=list)
    public: float = 0.0  # public-course hours of the years counted
    professional: float = 0.0  # professional hours of the years counted
    degree_hours: float = 0.0  # §一(三)1 certified hours of a degree crossing the window
    window_met: bool = False  # §一(三)1 a degree within the window
    covered_years: set[int] = field(default_factory=set)  # §一(三)3 professional part met

    def __post_init__(self) -> None:
        scope = self.scope
        first, last = (
            (scope.level_first, scope.level_last)
            if scope.cannot_be_met
            else (scope.first, scope.last)
        )
        self.years = {year: [0.0, 0.0] for year in range(first, last + 1)}

    def add(self, entry: AuditedEntry) -> None:
        """Count the hours of an entry of a year counted."""
        if entry.category == "public":
            self.public += entry.hours
            self.years[entry.year][0] += entry.hours
        else:
            self.professional += entry.hours
            self.years[entry.year][1] += entry.hours

    def by_year(self) -> list[YearHours]:
        return [
            YearHours(year=year, public=public, professional=professional)
            for year, (public, professional) in self.years.items()
        ]

    def apply(self, entry: AuditedEntry | None, rule: str, detail: str, clause: str = "") -> None:
        """Record a special case, citing the entry's clause (or `clause`)."""
        self.applied.append(
            Applied(
                rule=rule,
                clause=clause or (entry.clause if entry else ""),
                entry_id=entry.entry_id if entry else None,
                detail=detail,
            )
        )

    def skip(self, entry: AuditedEntry, reason: str, hours: float | None = None) -> None:
        """List an entry (or `hours` of it) as not counted, and why."""
        self.not_counted.append(
            {
                "entry_id": entry.entry_id,
                "kind": entry.kind,
                "occurred_on": entry.occurred_on.isoformat(),
                "hours": entry.hours if hours is None else hours,
                "category": entry.category,
                "reason": reason,
            }
        )

    def skip_unless_counted(self, entry: AuditedEntry) -> bool:
        """List an entry the ledger does not count (pending, reversed, awaiting a policy)
        with its status and the ledger's reason; True when it was listed."""
        status = entry.status.value
        if status == "counted":
            return False
        word = STATUS_WORDS.get(status, status.replace("_", " "))
        self.skip(entry, f"{word}: {entry.status_reason}" if entry.status_reason else word)
        return True
