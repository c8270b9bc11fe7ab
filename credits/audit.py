"""The title audit (审验, §一(二)): does an applicant meet the hours of the window?

`audit` is pure: a learner, their ledger entries and a policy in, the verdict out, with
every special case it applied and its clause, and every entry relevant to it that it did
not count, with the reason (credits/audit_cases.py judges the cases of §一(三)).

    earned.public       = public-course hours of by_year + substitutions.hours (§一(三)2)
    earned.professional = professional hours of by_year + degree_hours (§一(三)1)
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from credits import audit_cases, titles
from credits.audit_tally import Scope, Tally
from credits.models import AuditedEntry, Degree, Learner
from credits.policy import Policy
from credits.schemas import Amounts, Applied, AuditRead, Earned, Substitutions, Window


def _in_post_since(learner: Learner, policy: Policy) -> date | None:
    """The date of the title held in the application year (the current one when the
    history has none by then)."""
    held = titles.held_on(learner.titles, date(policy.application_year, 12, 31))
    return held.obtained_on if held is not None else learner.title_obtained_on


def _master_scope(learner: Learner, policy: Policy, level: str, applied: list[Applied]) -> Scope:
    """§一(二) 硕士研究生学历的继续教育学时根据任职年限要求计算, our reading: the years in post
    within the window (from the year the title was obtained, which counts), at 90 total /
    30 public a year. No year in post within it is never a pass: the requirement cannot be
    met by this rule; the window and requirement shown are then the level's."""
    rule, window = policy.master, policy.level(level)
    first, last = window.window.from_, window.window.to
    obtained = _in_post_since(learner, policy)
    start = max(first, obtained.year) if obtained is not None else first
    years = max(0, last - start + 1)
    since = f"title obtained {obtained}" if obtained else "no title date: whole window"
    if years == 0:
        why = (
            f"硕士研究生: no year in post within the window {first}-{last} ({since}): the "
            "requirement by years in post cannot be met by this rule, and no hours of the "
            f"window count (our reading of {rule.clause})"
        )
        applied.append(Applied(rule="master_no_years_in_post", clause=rule.clause, detail=why))
        return Scope(
            first, last, start, last, Amounts(total=window.total, public=window.public),
            in_post_since=obtained, cannot_be_met=why,
        )  # fmt: skip
    total, public = years * rule.total_per_year, years * rule.public_per_year
    applied.append(
        Applied(
            rule="master_years_in_post",
            clause=rule.clause,
            detail=f"硕士研究生: {years} year(s) in post within the window ({start}-{last}, "
            f"{since}) at {rule.total_per_year:g} total / {rule.public_per_year:g} public "
            f"a year: {total:g} / {public:g} (our reading)",
        )
    )
    return Scope(
        first, last, start, last, Amounts(total=total, public=public), in_post_since=obtained
    )


def _scope(learner: Learner, policy: Policy, level: str, applied: list[Applied]) -> Scope:
    rule = policy.level(level)
    if learner.degree == Degree.master and level in policy.master.levels:
        return _master_scope(learner, policy, level, applied)
    first, last = rule.window.from_, rule.window.to
    return Scope(first, last, first, last, Amounts(total=rule.total, public=rule.public))


def _course_hours(entry: AuditedEntry, tally: Tally) -> None:
    """An entry of hours of its year: counted in a year audited; listed when the ledger
    does not count it or it lies before a master's holder's years in post; not part of
    the audit outside the level's window."""
    scope = tally.scope
    if not scope.in_level_window(entry.year) or tally.skip_unless_counted(entry):
        return
    if scope.cannot_be_met or not scope.counts(entry.year):
        tally.skip(entry, scope.cannot_be_met or scope.before_post())
        return
    tally.add(entry)


def _shortfall(tally: Tally, earned: Earned) -> Amounts:
    """What is still to earn. A degree within the window meets it; a qualification covers
    the professional part of its tenure's years (audit_cases.uncovered_professional)."""
    scope = tally.scope
    if scope.cannot_be_met:
        return scope.required
    if tally.window_met:
        return Amounts(total=0.0, public=0.0)
    public_short = max(0.0, scope.required.public - earned.public)
    professional = audit_cases.uncovered_professional(tally)
    if professional is None:
        return Amounts(total=max(0.0, scope.required.total - earned.total), public=public_short)
    professional_short = max(0.0, professional - earned.professional)
    return Amounts(total=public_short + professional_short, public=public_short)


def audit(
    *,
    learner: Learner,
    entries: Sequence[AuditedEntry],
    policy: Policy,
    level: str,
) -> AuditRead:
    """The verdict for an application of `policy`'s year at `level`."""
    applied: list[Applied] = []
    scope = _scope(learner, policy, level, applied)
    tally = Tally(scope, applied)
    exams: list[AuditedEntry] = []
    qualifications: list[AuditedEntry] = []
    for entry in sorted(entries, key=lambda e: (e.occurred_on, e.entry_id)):
        if entry.kind in audit_cases.SUBSTITUTION_KINDS:
            exams.append(entry)
        elif entry.meets == "window":
            audit_cases.degree(entry, tally)
        elif entry.meets == "professional":
            qualifications.append(entry)
        else:
            _course_hours(entry, tally)
    audit_cases.qualifications(qualifications, learner, policy, tally)
    line: Substitutions = audit_cases.substitutions(exams, learner, policy, tally)
    public = tally.public + line.hours
    professional = tally.professional + tally.degree_hours
    earned = Earned(total=public + professional, public=public, professional=professional)
    shortfall = _shortfall(tally, earned)
    shown = (
        (scope.level_first, scope.level_last) if scope.cannot_be_met else (scope.first, scope.last)
    )
    return AuditRead(
        learner_id=learner.learner_id,
        policy=policy.id,
        level=level,
        year=policy.application_year,
        window=Window(from_=shown[0], to=shown[1]),
        required=scope.required,
        earned=earned,
        by_year=tally.by_year(),
        passed=scope.cannot_be_met is None and shortfall.total == 0 and shortfall.public == 0,
        shortfall=shortfall,
        applied=tally.applied,
        not_counted=sorted(
            tally.not_counted, key=lambda n: (str(n["occurred_on"]), str(n["entry_id"]))
        ),
        substitutions=line,
        degree_hours=tally.degree_hours,
        cannot_be_met=scope.cannot_be_met,
    )
