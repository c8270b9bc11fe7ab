"""HTTP route of a learner's recommendations (issue 19): the courses that close their
shortfall. The learner's own client (or session), admins and auditors read them."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Query
from pydantic import BaseModel, ConfigDict, Field

from credits import learners, progress, recommendations
from credits.access import check_read
from credits.api import Caller, CreditsDep
from credits.recommendations import RecommendationsRead
from credits.routes import learners_router
from nxce.core.params import QueryInt

router = learners_router()


class RecommendationsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    level: Literal["intermediate", "deputy_senior", "senior"] | None = None
    year: QueryInt | None = Field(None, ge=2000, le=2100)


@router.get("/{learner_id}/recommendations", response_model=RecommendationsRead)
async def learner_recommendations(
    learner_id: str,
    query: Annotated[RecommendationsQuery, Query()],
    caller: Caller,
    credits: CreditsDep,
) -> RecommendationsRead:
    """Courses not yet completed that close what the learner still needs where a
    completion today can count: the shortfall of an audit whose window includes the
    current year (of `level`, else the learner's next level; of the application `year`
    when given), else this year's target (90 hours, 30 public) — `shortfall.basis` says
    which. Public courses first while public hours are short, then professional courses
    of the learner's series, by popularity; a learner who needs nothing gets no items and a
    `message` saying so."""
    check_read(caller, learner_id)
    learner = await learners.get_learner(learner_id=learner_id)
    record = await progress.progress(credits=credits, learner=learner)
    return await recommendations.recommend(
        credits=credits, learner=learner, record=record, level=query.level, year=query.year
    )
