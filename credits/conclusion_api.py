"""HTTP routes of the auditor's conclusions (审验结论) on a learner's audit.

Auditors and admins record them; auditors, admins and the learner's own client read them
(the audit answer, `GET /learners/{id}/audit`, shows the current one).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Query, Response

from credits import conclusions, learners
from credits.access import check_auditor, check_read
from credits.api import Caller, CreditsDep
from credits.routes import learners_router
from credits.schemas import ConclusionCreate, ConclusionRead, ConclusionsQuery
from nxce.core.problems import responses

router = learners_router()


@router.post(
    "/{learner_id}/audit/conclusions",
    response_model=ConclusionRead,
    status_code=201,
    responses=responses(400, 413, 415),
)
async def conclude(
    learner_id: str,
    conclusion_in: ConclusionCreate,
    caller: Caller,
    credits: CreditsDep,
    response: Response,
) -> ConclusionRead:
    """An auditor's conclusion (审验结论) on the learner's audit at `level` in `year`:
    `approve` or `reject`, with a `reason` (required). It keeps the verdict computed now;
    it becomes the current conclusion of that level and year, and earlier ones are kept."""
    check_auditor(caller)
    conclusion = await conclusions.record(
        credits=credits,
        learner_id=learner_id,
        level=conclusion_in.level,
        year=conclusion_in.year,
        decision=conclusion_in.decision,
        reason=conclusion_in.reason,
        by=caller.key,
        by_name=caller.name,
    )
    response.headers["Location"] = (
        f"/learners/{learner_id}/audit/conclusions?level={conclusion.level}&year={conclusion.year}"
    )
    return conclusions.read(conclusion, current=True)


@router.get("/{learner_id}/audit/conclusions", response_model=list[ConclusionRead])
async def list_conclusions(
    learner_id: str,
    query: Annotated[ConclusionsQuery, Query()],
    caller: Caller,
    credits: CreditsDep,
) -> list[ConclusionRead]:
    """The learner's conclusions (of one `level` and/or `year` when given), oldest first;
    `current` marks the newest of each level and year."""
    check_read(caller, learner_id)
    await learners.get_learner(learner_id=learner_id)
    if query.year is not None:
        conclusions.check_year(credits, query.year, "query")
    found = await conclusions.history(learner_id=learner_id, level=query.level, year=query.year)
    newest = conclusions.current_of(found)
    return [conclusions.read(c, current=c.conclusion_id in newest) for c in found]
