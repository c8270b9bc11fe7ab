"""The auditor's conclusion (审验结论) on a learner's audit, and what the audit answer shows
of it.

The audit (credits/audit.py) computes a verdict; an auditor who has read it records
approve or reject, with a reason, for an application at a level in a year. A conclusion
keeps the verdict it saw and a fingerprint of what that verdict was computed from, so the
audit can say later whether the record changed since (`changed_since_conclusion`).
Conclusions are written once: a new one for the same level and year becomes the current
one, and the earlier ones stay, so who concluded what, when, on which verdict, is never
lost.

Our reading (the notice says nothing of conclusions): the fingerprint covers the entries
of the window's years and every special-case entry (degree, qualification, exam) whatever
its date, since the audit may count those from outside the window, each with its id,
status, hours, category, year and date; and the learner's degree, series and title (with
its history where kept). A change to anything else (a completion of a later year) does
not flag a conclusion.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Any

from credits import audit as audit_rules
from credits import learners, ledger, log_lines
from credits.context import Credits
from credits.models import AuditConclusion, AuditedEntry, Learner
from credits.schemas import AuditRead, ConclusionBrief, ConclusionRead, SeenVerdict
from nxce.core import db
from nxce.core.errors import invalid

_SPECIAL_KINDS = frozenset(
    {"degree", "qualification", "foreign_language_exam", "computer_exam_module"}
)
_OWN_FIELDS = frozenset({"conclusion", "changed_since_conclusion"})
_NEWEST_LAST = ("+concluded_at", "+conclusion_id")


def _audited(entry: AuditedEntry, first: int, last: int) -> bool:
    """Whether the audit of a window `first`..`last` may read the entry."""
    return (
        first <= entry.year <= last
        or entry.kind in _SPECIAL_KINDS
        or entry.meets is not None
        or entry.valid_through is not None
    )


def _title(learner: Learner) -> dict[str, Any]:
    """The learner's facts the audit reads besides the ledger."""
    history = getattr(learner, "titles", None)  # the title history, where it is kept
    return {
        "degree": learner.degree.value,
        "series": learner.series,
        "title_level": learner.title_level.value,
        "title_obtained_on": _day(learner.title_obtained_on),
        "titles": [
            [str(getattr(t, "level", "")), _day(getattr(t, "obtained_on", None))]
            for t in history or ()
        ],
    }


def _day(value: Any) -> str | None:
    return None if value is None else str(value)[:10]


def fingerprint(*, learner: Learner, entries: Sequence[AuditedEntry], verdict: AuditRead) -> str:
    """SHA-256 of what `verdict` was computed from (see the module's reading)."""
    first, last = verdict.window.from_, verdict.window.to
    lines = sorted(
        (e.entry_id, e.status.value, float(e.hours), e.category, e.year, e.occurred_on.isoformat())
        for e in entries
        if _audited(e, first, last)
    )
    body = {"learner": _title(learner), "entries": lines, "policy": verdict.policy}
    text = json.dumps(body, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _snapshot(verdict: AuditRead) -> dict[str, Any]:
    """The audit answer as the API gave it, without what this module adds to it."""
    return verdict.model_dump(mode="json", by_alias=True, exclude=set(_OWN_FIELDS))


def brief(conclusion: AuditConclusion) -> ConclusionBrief:
    seen = conclusion.verdict
    return ConclusionBrief(
        id=conclusion.conclusion_id,
        decision=conclusion.decision,  # approve | reject, as stored
        reason=conclusion.reason,
        by=conclusion.concluded_by,
        by_name=conclusion.concluded_by_name,
        at=conclusion.concluded_at,
        verdict=SeenVerdict(passed=seen["passed"], shortfall=seen["shortfall"]),
    )


def read(conclusion: AuditConclusion, *, current: bool) -> ConclusionRead:
    return ConclusionRead(
        id=conclusion.conclusion_id,
        learner_id=conclusion.learner_id,
        level=conclusion.level,
        year=conclusion.year,
        decision=conclusion.decision,  # approve | reject, as stored
        reason=conclusion.reason,
        by=conclusion.concluded_by,
        by_name=conclusion.concluded_by_name,
        at=conclusion.concluded_at,
        current=current,
        fingerprint=conclusion.fingerprint,
        verdict=conclusion.verdict,
    )


def with_conclusion(
    verdict: AuditRead,
    conclusion: AuditConclusion | None,
    *,
    learner: Learner,
    entries: Sequence[AuditedEntry],
) -> AuditRead:
    """The audit answer with the current conclusion, and whether the record changed after
    it (the fingerprint now differs from the one the conclusion kept)."""
    if conclusion is None:
        return verdict.model_copy(update={"conclusion": None, "changed_since_conclusion": False})
    now = fingerprint(learner=learner, entries=entries, verdict=verdict)
    return verdict.model_copy(
        update={
            "conclusion": brief(conclusion),
            "changed_since_conclusion": now != conclusion.fingerprint,
        }
    )


def check_year(credits: Credits, year: int, location: str = "body") -> None:
    """422 naming `year` when no policy audits applications of it (as the audit does)."""
    known = [p.application_year for p in credits.policies.all]
    if year not in known:
        listed = ", ".join(map(str, known))
        message = f"no policy audits applications of it (policies: {listed})"
        raise invalid("year", message, year, location=location)


async def record(
    *,
    credits: Credits,
    learner_id: str,
    level: str,
    year: int,
    decision: str,
    reason: str,
    by: str,
    by_name: str,
) -> AuditConclusion:
    """Record an auditor's conclusion on the audit as it stands now: the verdict computed
    at this moment is the one kept with it."""
    learner = await learners.get_learner(learner_id=learner_id)
    check_year(credits, year)
    policy = credits.policies.for_application(year)
    entries = await ledger.audited_entries(learner=learner)
    verdict = audit_rules.audit(learner=learner, entries=entries, policy=policy, level=level)
    conclusion = AuditConclusion(
        conclusion_id=str(uuid.uuid4()),
        learner_id=learner_id,
        level=level,
        year=year,
        decision=decision,
        reason=reason,
        verdict=_snapshot(verdict),
        fingerprint=fingerprint(learner=learner, entries=entries, verdict=verdict),
        concluded_by=by,
        concluded_by_name=by_name,
        concluded_at=db.now(),
    )

    async def write(session: Any) -> None:
        await db.collection(AuditConclusion).insert_one(
            db.new_document(conclusion), session=session
        )
        await log_lines.conclusion(conclusion, session=session)

    await db.atomic(write)
    return conclusion


async def history(
    *, learner_id: str, level: str | None = None, year: int | None = None
) -> list[AuditConclusion]:
    """A learner's conclusions (of one level and/or year when given), oldest first."""
    query: dict[str, Any] = {"learner_id": learner_id}
    if level is not None:
        query["level"] = level
    if year is not None:
        query["year"] = year
    return await AuditConclusion.find(query).sort(*_NEWEST_LAST).to_list()


def current_of(found: Sequence[AuditConclusion]) -> set[str]:
    """The ids of the current conclusions among `found` (the newest of each level and
    year; `found` oldest first)."""
    newest: dict[tuple[str, int], str] = {}
    for conclusion in found:
        newest[(conclusion.level, conclusion.year)] = conclusion.conclusion_id
    return set(newest.values())


async def current(
    *, learner_ids: Sequence[str], level: str, year: int
) -> dict[str, AuditConclusion]:
    """The current conclusion of each learner (who has one) on `level` in `year`, in one
    query for a batch of transcripts."""
    if not learner_ids:
        return {}
    query = {"learner_id": {"$in": list(learner_ids)}, "level": level, "year": year}
    found: dict[str, AuditConclusion] = {}
    for conclusion in await AuditConclusion.find(query).sort(*_NEWEST_LAST).to_list():
        found[conclusion.learner_id] = conclusion  # newest last: the last one stays
    return found


async def concluded(
    *, learner: Learner, entries: Sequence[AuditedEntry], verdict: AuditRead
) -> AuditRead:
    """The audit answer with its current conclusion (what `GET /learners/{id}/audit` and
    the auditor's page show)."""
    found = await current(learner_ids=[learner.learner_id], level=verdict.level, year=verdict.year)
    return with_conclusion(verdict, found.get(learner.learner_id), learner=learner, entries=entries)
