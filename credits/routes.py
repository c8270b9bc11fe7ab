"""What every router under /learners shares."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from nxce.core.json_route import JsonRoute
from nxce.core.params import single_valued
from nxce.core.problems import responses


def learners_router(prefix: str = "/learners") -> APIRouter:
    """A router of routes under /learners: JSON in and out, single-valued query
    parameters, the errors every learner route may answer."""
    return APIRouter(
        prefix=prefix,
        tags=["learners"],
        route_class=JsonRoute,
        dependencies=[Depends(single_valued)],
        responses=responses(401, 403, 404, 422, 429),
    )
