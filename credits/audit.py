"""The title audit (审验, §一(二)): does an applicant meet the hours of the window?

`audit` is pure: a learner, their ledger entries and a policy in, the verdict out, with
every special case it applied and its clause, and every entry it did not count and why.
"""

from __future__ import annotations

from collections.abc import Sequence
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
    public = professional = 0.0
    by_year = {
        year: YearHours(year=year, public=0, professional=0) for year in range(first, last + 1)
    }
    not_counted: list[dict[str, object]] = []
    window_met = professional_met = False
    for entry in sorted(entries, key=lambda e: (e.occurred_on, e.entry_id)):
        if not first <= entry.year <= last:
            continue
        if entry.status != EntryStatus.counted:
            not_counted.append(
                {
                    "entry_id": entry.entry_id,
                    "hours": entry.hours,
                    "category": entry.category,
                    "reason": entry.status.value,
                }
            )
            continue
        if entry.valid_through is not None and policy.application_year > entry.valid_through.year:
            not_counted.append(
                {
                    "entry_id": entry.entry_id,
                    "hours": entry.hours,
                    "category": entry.category,
                    "reason": f"{entry.kind} substitutions ended on {entry.valid_through} "
                    f"({entry.clause}); this audit is under {policy.document}",
                }
            )
            continue
        if entry.meets == "window":
            enrolled = date.fromisoformat(str(entry.source["enrolled_on"]))
            graduated = date.fromisoformat(str(entry.source["graduated_on"]))
            if _inside(enrolled, first, last) and _inside(graduated, first, last):
                window_met = True
                applied.append(
                    Applied(
                        rule="degree_within_window",
                        clause=entry.clause,
                        entry_id=entry.entry_id,
                        detail=f"enrolled {enrolled} and graduated {graduated} within the window: "
                        "the window's requirement is met (只需提交学历证明)",
                    )
                )
            else:
                applied.append(
                    Applied(
                        rule="degree_across_window",
                        clause=entry.clause,
                        entry_id=entry.entry_id,
                        detail=f"enrolled {enrolled}, graduated {graduated}: the institution's "
                        f"certified {entry.hours:g} hours count, and the public-course "
                        "requirement within the window still applies",
                    )
                )
        if entry.meets == "professional" and (
            learner.title_obtained_on is None or entry.occurred_on >= learner.title_obtained_on
        ):
            professional_met = True
            applied.append(
                Applied(
                    rule="qualification_after_title",
                    clause=entry.clause,
                    entry_id=entry.entry_id,
                    detail=f"qualification {entry.source.get('name', '')} obtained "
                    f"{entry.occurred_on} after the title: the professional-course part of the "
                    "tenure is met",
                )
            )
        if entry.valid_through is not None:
            applied.append(
                Applied(
                    rule=entry.kind,
                    clause=entry.clause,
                    entry_id=entry.entry_id,
                    detail=f"{entry.hours:g} public hours in place of public courses "
                    f"(valid through {entry.valid_through})",
                )
            )
        if entry.category == "public":
            public += entry.hours
            by_year[entry.year].public += entry.hours
        else:
            professional += entry.hours
            by_year[entry.year].professional += entry.hours
    public_short = max(0.0, required_public - public)
    if window_met:
        total_short = public_short = 0.0
    elif professional_met:
        total_short = public_short  # only the public part is still required
    else:
        total_short = max(0.0, required_total - (public + professional))
    return AuditRead(
        learner_id=learner.learner_id,
        policy=policy.id,
        level=level,
        year=policy.application_year,
        window=Window(from_=first, to=last),
        required=Amounts(total=required_total, public=required_public),
        earned=Earned(total=public + professional, public=public, professional=professional),
        by_year=list(by_year.values()),
        passed=total_short == 0 and public_short == 0,
        shortfall=Amounts(total=total_short, public=public_short),
        applied=applied,
        not_counted=not_counted,
    )
