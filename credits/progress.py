"""A learner's progress, as the app shows it: courses started, in progress (with the last
score or progress reported) and completed; hours credited this year against the year's
requirement (§一(二): 90, of them 30 public); the next audit; and what awaits review.

Computed when asked, from the stored statements and the ledger, so it reflects a statement
as soon as it is stored.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from credits import audit as audit_rules
from credits.context import Course, Credits
from credits.models import AuditedEntry, EntryStatus, Learner, LedgerEntry, TitleLevel, as_date
from credits.policy import Policies, Policy
from credits.projection import completed, entry_id_for
from credits.schemas import (
    Amounts,
    AuditRead,
    CourseCompleted,
    CourseCounts,
    CourseProgress,
    Earned,
    PendingEntry,
    ProgressRead,
    YearProgress,
)
from lrs import identity
from lrs.statements import primitives
from lrs.statements.models import StatementRecord
from nxce.core import db

# cmi5 9.5.4.1: result.extensions progress, an integer 0-100 (sent with `progressed`).
PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress"
# The level a learner applies for next, by the title they hold.
NEXT_LEVEL = {
    TitleLevel.none: "intermediate",
    TitleLevel.junior: "intermediate",
    TitleLevel.intermediate: "deputy_senior",
    TitleLevel.deputy_senior: "senior",
    TitleLevel.senior: None,
}


def _reported(statement: dict[str, Any]) -> tuple[float | None, dict[str, Any] | None]:
    """The progress (0-100) and the score a statement reports, where it reports them."""
    result = statement.get("result") or {}
    extensions = result.get("extensions") or {}
    progress = extensions.get(PROGRESS)
    value = None
    if isinstance(progress, int | float) and not isinstance(progress, bool):
        value = min(100.0, max(0.0, float(progress)))
    score = result.get("score")
    return value, score if isinstance(score, dict) else None


@dataclass(slots=True)
class _Course:
    """What one course's statements say, read oldest first."""

    course: Course
    activity_id: str
    started_at: datetime | None = None
    last_at: datetime | None = None
    last_verb: str = ""
    progress: float | None = None
    score: dict[str, Any] | None = None
    completed_at: datetime | None = None

    def add(self, statement: dict[str, Any], moment: datetime, verbs: list[str]) -> None:
        self.started_at = self.started_at or moment
        self.last_at, self.last_verb = moment, statement["verb"]["id"]
        progress, score = _reported(statement)
        if progress is not None:
            self.progress = progress
        if score is not None:
            self.score = score
        if completed(statement, verbs):
            self.completed_at = self.completed_at or moment

    def in_progress(self) -> CourseProgress:
        return CourseProgress(
            code=self.course.code,
            title=self.course.title,
            category=self.course.category,
            hours=self.course.hours,
            activity_id=self.activity_id,
            started_at=self.started_at,
            last_at=self.last_at,
            last_verb=self.last_verb,
            progress=self.progress,
            score=self.score,
        )

    def completed(self, entry: dict[str, Any] | None) -> CourseCompleted:
        """The course completed, with the ledger entry its completion made (if any)."""
        return CourseCompleted(
            **dict(self.in_progress()),
            completed_at=self.completed_at,
            entry_id=entry["entry_id"] if entry else None,
            status=entry["status"] if entry else None,
        )


async def _courses(credits: Credits, learner_id: str) -> list[_Course]:
    """The catalog courses the learner's statements are about, each read in the order the
    learner did things (statement timestamps, then the stored order): a phone syncing
    last week's offline session does not make its old progress the latest."""
    verbs = credits.policies.newest().automatic.verbs
    keys = credits.agent_keys(learner_id)
    cursor = db.collection(StatementRecord).find(
        {"agents": {"$in": keys}, "voided": False, "voids": None},
        {"document": 1, "stored": 1, "stored_us": 1, "_id": 0},
    )
    by_activity: dict[str, list[tuple[datetime, int, dict[str, Any]]]] = {}
    async for record in cursor:
        statement = json.loads(record["document"])
        target = statement.get("object") or {}
        if target.get("objectType", "Activity") != "Activity":
            continue
        if identity.ifi_key(statement["actor"]) not in keys:
            continue  # about the learner (a group's member, say), not done by them
        moment = primitives.parse_timestamp(statement.get("timestamp", "")) or record["stored"]
        by_activity.setdefault(str(target["id"]), []).append(
            (moment, int(record["stored_us"]), statement)
        )
    found = []
    for activity_id, said in by_activity.items():
        course = await credits.catalog.course_by_activity(activity_id)
        if course is None:
            continue
        tracked = _Course(course, activity_id)
        for moment, _, statement in sorted(said, key=lambda t: (t[0], t[1])):
            tracked.add(statement, moment, verbs)
        found.append(tracked)
    return found


def _pending(rows: list[dict[str, Any]]) -> list[PendingEntry]:
    waiting = [r for r in rows if r["status"] == EntryStatus.pending_review.value]
    return [
        PendingEntry(
            entry_id=r["entry_id"],
            date=as_date(r["occurred_on"]),
            kind=r["kind"],
            title=(r.get("source") or {}).get("course_title")
            or (r.get("source") or {}).get("description"),
            category=r["category"],
            hours=r["hours"],
            reason=r.get("status_reason"),
        )
        for r in sorted(waiting, key=lambda r: (r["occurred_on"], r["entry_id"]))
    ]


def _hours(rows: list[dict[str, Any]], year: int, status: EntryStatus) -> Earned:
    chosen = [r for r in rows if r["year"] == year and r["status"] == status.value]
    public = sum(float(r["hours"]) for r in chosen if r["category"] == "public")
    professional = sum(float(r["hours"]) for r in chosen if r["category"] != "public")
    return Earned(total=public + professional, public=public, professional=professional)


def yearly_policy(policies: Policies, year: int) -> tuple[Policy, str]:
    """The policy whose yearly figures (§一(二)) measure `year`, and why: the newest one
    covering a day of that year, or (our reading) the newest installed policy when none
    covers it yet."""
    first, last = date(year, 1, 1), date(year, 12, 31)
    covering = [p for p in policies.all if p.covered.from_ <= last and p.covered.to >= first]
    if covering:
        policy = covering[-1]
        return (
            policy,
            f"yearly figures of {policy.id} ({policy.application_year}), which covers {year}",
        )
    policy = policies.newest()
    return policy, (
        f"yearly figures of {policy.id} ({policy.application_year}); no policy covers {year} yet"
    )


def _year(rows: list[dict[str, Any]], year: int, policies: Policies) -> YearProgress:
    """The hours counted in `year` against the yearly requirement (§一(二)), of the
    policy it names; hours of the year awaiting a policy are shown apart, not earned."""
    policy, basis = yearly_policy(policies, year)
    required = policy.yearly
    earned = _hours(rows, year, EntryStatus.counted)
    total_required, public_required = required.total, required.public
    return YearProgress(
        year=year,
        clause=required.clause,
        required=Amounts(total=total_required, public=public_required),
        earned=earned,
        remaining=Amounts(
            total=max(0.0, total_required - earned.total),
            public=max(0.0, public_required - earned.public),
        ),
        policy=policy.id,
        basis=basis,
        awaiting_policy=_hours(rows, year, EntryStatus.awaiting_policy),
    )


def _next_audit(credits: Credits, learner: Learner, rows: list[dict[str, Any]]) -> AuditRead | None:
    """The audit of the level the learner applies for next, under the newest policy."""
    policy = credits.policies.newest()
    level = NEXT_LEVEL[learner.title_level]
    if level is None or level not in policy.levels:
        return None
    return audit_rules.audit(
        learner=learner,
        entries=[AuditedEntry.from_document(r) for r in rows],
        policy=policy,
        level=level,
    )


async def progress(*, credits: Credits, learner: Learner) -> ProgressRead:
    """The learner's progress now."""
    policy = credits.policies.newest()
    moment = db.now()
    this_year = moment.astimezone(policy.time_zone).year
    rows = [
        row
        async for row in db.collection(LedgerEntry).find(
            {"learner_id": learner.learner_id}, {"_id": 0}
        )
    ]
    by_entry = {r["entry_id"]: r for r in rows}
    in_progress: list[CourseProgress] = []
    done: list[CourseCompleted] = []
    for course in await _courses(credits, learner.learner_id):
        if course.completed_at is None:
            in_progress.append(course.in_progress())
        else:
            entry = by_entry.get(entry_id_for(learner.learner_id, course.course.code))
            done.append(course.completed(entry))
    return ProgressRead(
        learner_id=learner.learner_id,
        as_of=moment,
        courses=CourseCounts(
            started=len(in_progress) + len(done),
            in_progress=len(in_progress),
            completed=len(done),
        ),
        in_progress=sorted(in_progress, key=lambda c: c.last_at, reverse=True),
        completed=sorted(done, key=lambda c: c.completed_at, reverse=True),
        this_year=_year(rows, this_year, credits.policies),
        next_audit=_next_audit(credits, learner, rows),
        pending_review=_pending(rows),
    )
