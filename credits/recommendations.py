"""Recommendations (issue 19): courses that close what a learner still needs, where a
completion today can still count.

The shortfall (`basis`):
- `audit`: an audit whose window includes the current year (China Standard Time), when an
  installed policy has one for the level asked (or the learner's next level, as progress
  reads it) — the 2022 notice's windows end in 2021, so under it alone there is none;
- `year`: otherwise the current year's target that progress shows (§一(二): 90 hours, 30
  of them public, under the yearly figures of the newest policy covering the year).

Then public courses while public hours are short, and professional courses of the
learner's series for the rest of the total; a learner with no series is offered public
courses for the rest (they count towards the total too). Our readings, not the notice's:
- a course the learner completed (whatever its entry's status) is never offered; one they
  started is offered first in its group, since finishing it is the shortest way;
- within a group, courses are ranked by popularity (distinct learners who completed them,
  credits/popularity.py), then professional courses whose title names the series (the
  most central to it), then more hours (fewer courses to close the gap), then code;
- at most `MAX_ITEMS` courses: a gap larger than they cover says so in `message`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from pydantic import BaseModel

from credits import audit as audit_rules
from credits import ledger, popularity
from credits.context import Course, Credits
from credits.models import Learner
from credits.policy import Policy
from credits.progress import NEXT_LEVEL
from credits.schemas import ProgressRead

MAX_ITEMS = 50
PUBLIC, PROFESSIONAL = "public", "professional"


class Shortfall(BaseModel):
    basis: str  # "audit" | "year"
    policy: str
    level: str | None = None
    year: int  # the application year (audit) or the current year (year)
    window: dict[str, int] | None = None
    total: float
    public: float
    professional: float
    note: str | None = None  # why this basis, when the one asked for could not be used


class Recommendation(BaseModel):
    code: str
    title: str
    category: str
    series: str | None
    hours: float
    reason: str


class RecommendationsRead(BaseModel):
    learner_id: str
    shortfall: Shortfall
    items: list[Recommendation]
    hours: float  # the items' hours together
    message: str | None = None


def _window_policy(credits: Credits, level: str, year: int) -> Policy | None:
    """The newest policy auditing `level` over a window that includes `year`."""
    found = [
        p
        for p in credits.policies.all
        if level in p.levels and p.levels[level].window.from_ <= year <= p.levels[level].window.to
    ]
    return found[-1] if found else None


async def shortfall(
    *,
    credits: Credits,
    learner: Learner,
    record: ProgressRead,
    level: str | None = None,
    year: int | None = None,
) -> Shortfall:
    """What the learner still needs where a completion today can count (see the module);
    `year` names an application year (422 when no policy audits it)."""
    this_year = record.this_year.year
    level = level or NEXT_LEVEL[learner.title_level]
    note = None
    policy = None
    if year is not None:
        asked = credits.policies.for_application(year)
        if level is not None:
            window = asked.level(level).window
            if window.from_ <= this_year <= window.to:
                policy = asked
            else:
                note = (
                    f"the {year} audit's window ({window.from_}-{window.to}) does not include "
                    f"{this_year}: a completion today cannot count towards it"
                )
    elif level is not None:
        policy = _window_policy(credits, level, this_year)
        if policy is None:
            note = (
                f"no installed policy audits {level} applications over a window that "
                f"includes {this_year}"
            )
    if policy is not None and level is not None:
        verdict = audit_rules.audit(
            learner=learner,
            entries=await ledger.audited_entries(learner=learner),
            policy=policy,
            level=level,
        )
        short = verdict.shortfall
        return Shortfall(
            basis="audit",
            policy=policy.id,
            level=level,
            year=policy.application_year,
            window={"from": verdict.window.from_, "to": verdict.window.to},
            total=short.total,
            public=short.public,
            professional=max(0.0, short.total - short.public),
            note=verdict.cannot_be_met,
        )
    remaining = record.this_year.remaining
    return Shortfall(
        basis="year",
        policy=record.this_year.policy,
        year=this_year,
        total=remaining.total,
        public=remaining.public,
        professional=max(0.0, remaining.total - remaining.public),
        note=note,
    )


@dataclass(slots=True)
class _Candidate:
    course: Course
    learners: int
    started: bool  # the learner started it (statements about it, no completion)
    progress: float | None  # the last progress (0-100) they reported, if any
    central: bool  # a professional course whose title names the series

    def rank(self) -> tuple[bool, int, bool, float, str]:
        return (
            not self.started,
            -self.learners,
            not self.central,
            -self.course.hours,
            self.course.code,
        )


def _reason(candidate: _Candidate, why: str) -> str:
    parts = [why]
    if candidate.started and candidate.progress is not None:
        parts.append(f"你已开始学习（进度 {int(candidate.progress)}%），完成即可计入")
    elif candidate.started:
        parts.append("你已开始学习，完成即可计入")
    if candidate.learners:
        parts.append(f"{candidate.learners} 人已完成")
    return "；".join(parts)


def _take(candidates: list[_Candidate], hours: float, why: str, room: int) -> list[Recommendation]:
    """The best-ranked candidates until their hours reach `hours` (or `room` of them)."""
    chosen: list[Recommendation] = []
    total = 0.0
    for candidate in sorted(candidates, key=_Candidate.rank):
        if total >= hours or len(chosen) >= room:
            break
        course = candidate.course
        chosen.append(
            Recommendation(
                code=course.code,
                title=course.title,
                category=course.category,
                series=course.series,
                hours=course.hours,
                reason=_reason(candidate, why),
            )
        )
        total += course.hours
    return chosen


async def _candidates(
    credits: Credits, record: ProgressRead, category: str, series: str | None
) -> list[_Candidate]:
    done = {c.code for c in record.completed}
    started = {c.code: c.progress for c in record.in_progress}
    courses = [
        c
        for c in await credits.catalog.published(category=category, series=series)
        if c.code not in done
    ]
    counts = credits.popularity.counts  # kept by the ledger's writes (credits/popularity.py)
    if not credits.popularity.ready:  # the count at start is not done yet
        counts = await popularity.completions_by_course(codes=[c.code for c in courses])
    return [
        _Candidate(
            course=c,
            learners=counts.get(c.code, 0),
            started=c.code in started,
            progress=started.get(c.code),
            central=series is not None and series in c.title,
        )
        for c in courses
    ]


def _hours(value: float) -> str:
    return f"{value:g}"


async def recommend(
    *,
    credits: Credits,
    learner: Learner,
    record: ProgressRead,
    level: str | None = None,
    year: int | None = None,
) -> RecommendationsRead:
    """The learner's shortfall and the courses that close it (see the module)."""
    short = await shortfall(credits=credits, learner=learner, record=record, level=level, year=year)
    what = "审验周期" if short.basis == "audit" else f"{short.year}年度"
    if short.total <= 0 and short.public <= 0:
        return RecommendationsRead(
            learner_id=learner.learner_id,
            shortfall=short,
            items=[],
            hours=0.0,
            message=f"{what}学时已达到要求，无需补学。",
        )
    items: list[Recommendation] = []
    if short.public > 0:
        public = await _candidates(credits, record, PUBLIC, None)
        why = f"公需课还差 {_hours(short.public)} 学时"
        items += _take(public, short.public, why, MAX_ITEMS)
    rest = short.total - sum(i.hours for i in items)
    if rest > 0 and len(items) < MAX_ITEMS:
        chosen = {i.code for i in items}
        if learner.series:
            group = await _candidates(credits, record, PROFESSIONAL, learner.series)
            why = f"{learner.series}系列专业课，总学时还差 {_hours(rest)} 学时"
        else:  # our reading: without a series, public courses count towards the total
            group = await _candidates(credits, record, PUBLIC, None)
            why = f"总学时还差 {_hours(rest)} 学时，公需课也计入总学时"
        group = [c for c in group if c.course.code not in chosen]
        items += _take(group, rest, why, MAX_ITEMS - len(items))
    covered = math.fsum(i.hours for i in items)
    message = None
    if covered < short.total:
        message = (
            f"{what}还差 {_hours(short.total)} 学时；以下 {len(items)} 门课程共 "
            f"{_hours(covered)} 学时，完成后仍差 {_hours(short.total - covered)} 学时。"
        )
    return RecommendationsRead(
        learner_id=learner.learner_id,
        shortfall=short,
        items=items,
        hours=covered,
        message=message,
    )
