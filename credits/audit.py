"""The title audit (审验, §一(二)): does an applicant meet the hours of the window?

`audit` is pure: a learner, their ledger entries and a policy in, the verdict out, with
every special case it applied and its clause, and every entry it did not count and why.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from credits.models import AuditedEntry, Degree, EntryStatus, Learner
from credits.policy import Policy
from credits.schemas import Amounts, Applied, AuditRead, Earned, Window, YearHours


def _master_window(
    learner: Learner, policy: Policy, level_from: int, level_to: int, applied: list[Applied]
) -> tuple[int, int, float, float]:
    """§一(二): a master's degree holder's requirement follows the years in post within the
    window (from the year the current title was obtained), at 90 total / 30 public a year."""
    rule = policy.master
    start = level_from
    obtained = learner.title_obtained_on
    if obtained is not None and obtained.year > level_from:
        start = obtained.year
    years = max(0, level_to - start + 1)
    total, public = years * rule.total_per_year, years * rule.public_per_year
    since = f"title obtained {obtained.isoformat()}" if obtained else "no title date: whole window"
    applied.append(
        Applied(
            rule="master_years_in_post",
            clause=rule.clause,
            detail=f"硕士研究生: {years} year(s) in post within the window ({start}-{level_to}, "
            f"{since}) at {rule.total_per_year:g} total / {rule.public_per_year:g} public "
            f"a year: {total:g} / {public:g}",
        )
    )
    return start, level_to, total, public


def _inside(day: date, first: int, last: int) -> bool:
    return first <= day.year <= last


@dataclass
class _Tally:
    """What the audit has counted so far, over the years of the window."""

    first: int
    last: int
    applied: list[Applied]
    by_year: dict[int, YearHours] = field(init=False)
    not_counted: list[dict[str, object]] = field(default_factory=list)
    public: float = 0.0
    professional: float = 0.0
    window_met: bool = False
    professional_met: bool = False

    def __post_init__(self) -> None:
        self.by_year = {
            year: YearHours(year=year, public=0, professional=0)
            for year in range(self.first, self.last + 1)
        }

    def add(self, entry: AuditedEntry) -> None:
        if entry.category == "public":
            self.public += entry.hours
            self.by_year[entry.year].public += entry.hours
        else:
            self.professional += entry.hours
            self.by_year[entry.year].professional += entry.hours

    def apply(self, entry: AuditedEntry, rule: str, detail: str) -> None:
        """Record the special case an entry makes, citing the entry's clause."""
        self.applied.append(
            Applied(rule=rule, clause=entry.clause, entry_id=entry.entry_id, detail=detail)
        )

    def skip(self, entry: AuditedEntry, reason: str) -> None:
        self.not_counted.append(
            {
                "entry_id": entry.entry_id,
                "hours": entry.hours,
                "category": entry.category,
                "reason": reason,
            }
        )


def _why_not_counted(entry: AuditedEntry, policy: Policy) -> str | None:
    """Why an entry of the window does not count (None: it counts): its status, or a
    §一(三)2 substitution that ended before the year this policy audits."""
    if entry.status != EntryStatus.counted:
        return entry.status.value
    if entry.valid_through is not None and policy.application_year > entry.valid_through.year:
        return (
            f"{entry.kind} substitutions ended on {entry.valid_through} "
            f"({entry.clause}); this audit is under {policy.document}"
        )
    return None


def _degree(entry: AuditedEntry, tally: _Tally) -> None:
    """§一(三)1: a degree begun and finished within the window meets it; otherwise its
    certified hours count and the public requirement still applies."""
    enrolled = date.fromisoformat(str(entry.source["enrolled_on"]))
    graduated = date.fromisoformat(str(entry.source["graduated_on"]))
    if _inside(enrolled, tally.first, tally.last) and _inside(graduated, tally.first, tally.last):
        tally.window_met = True
        tally.apply(
            entry,
            "degree_within_window",
            f"enrolled {enrolled} and graduated {graduated} within the window: "
            "the window's requirement is met (只需提交学历证明)",
        )
    else:
        tally.apply(
            entry,
            "degree_across_window",
            f"enrolled {enrolled}, graduated {graduated}: the institution's "
            f"certified {entry.hours:g} hours count, and the public-course "
            "requirement within the window still applies",
        )


def _qualification(entry: AuditedEntry, tally: _Tally) -> None:
    """§一(三)3: a qualification obtained after the title meets the professional part."""
    tally.professional_met = True
    tally.apply(
        entry,
        "qualification_after_title",
        f"qualification {entry.source.get('name', '')} obtained "
        f"{entry.occurred_on} after the title: the professional-course part of the "
        "tenure is met",
    )


def _substitution(entry: AuditedEntry, tally: _Tally) -> None:
    """§一(三)2: an exam in place of public courses, while the substitution lasts."""
    tally.apply(
        entry,
        entry.kind,
        f"{entry.hours:g} public hours in place of public courses "
        f"(valid through {entry.valid_through})",
    )


def _count(entry: AuditedEntry, learner: Learner, tally: _Tally) -> None:
    """Count one entry of the window, with the special case it makes."""
    if entry.meets == "window":
        _degree(entry, tally)
    if entry.meets == "professional" and (
        learner.title_obtained_on is None or entry.occurred_on >= learner.title_obtained_on
    ):
        _qualification(entry, tally)
    if entry.valid_through is not None:
        _substitution(entry, tally)
    tally.add(entry)


def _shortfall(required: Amounts, tally: _Tally) -> Amounts:
    public_short = max(0.0, required.public - tally.public)
    if tally.window_met:
        return Amounts(total=0.0, public=0.0)
    if tally.professional_met:
        return Amounts(total=public_short, public=public_short)  # only the public part is left
    total_short = max(0.0, required.total - (tally.public + tally.professional))
    return Amounts(total=total_short, public=public_short)


def audit(
    *,
    learner: Learner,
    entries: Sequence[AuditedEntry],
    policy: Policy,
    level: str,
) -> AuditRead:
    """The verdict for an application of `policy`'s year at `level`."""
    rule = policy.level(level)
    first, last = rule.window.from_, rule.window.to
    required_total, required_public = rule.total, rule.public
    applied: list[Applied] = []
    if learner.degree == Degree.master and level in policy.master.levels:
        first, last, required_total, required_public = _master_window(
            learner, policy, first, last, applied
        )
    tally = _Tally(first, last, applied)
    for entry in sorted(entries, key=lambda e: (e.occurred_on, e.entry_id)):
        if not first <= entry.year <= last:
            continue
        reason = _why_not_counted(entry, policy)
        if reason is None:
            _count(entry, learner, tally)
        else:
            tally.skip(entry, reason)
    required = Amounts(total=required_total, public=required_public)
    shortfall = _shortfall(required, tally)
    return AuditRead(
        learner_id=learner.learner_id,
        policy=policy.id,
        level=level,
        year=policy.application_year,
        window=Window(from_=first, to=last),
        required=required,
        earned=Earned(
            total=tally.public + tally.professional,
            public=tally.public,
            professional=tally.professional,
        ),
        by_year=list(tally.by_year.values()),
        passed=shortfall.total == 0 and shortfall.public == 0,
        shortfall=shortfall,
        applied=tally.applied,
        not_counted=tally.not_counted,
    )
