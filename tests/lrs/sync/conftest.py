"""Sync tests run in the credits tests' world (the catalog loaded, learners, bound
clients), with helpers for xAPI requests as the app makes them."""

from __future__ import annotations

from typing import Any

import httpx

from nxce.core.clients import Scope
from tests.credits.conftest import (  # noqa: F401 - fixtures shared with the credits tests
    auditor,
    bound_client,
    settings,
)
from tests.lrs.conftest import STATEMENTS, xapi

# What the app's client holds (README, "Mobile sync"): write and read its learner's
# statements, and keep its place in State.
APP_SCOPES = (Scope.statements_write, Scope.statements_read_mine, Scope.state)
STATE = "/xapi/activities/state"


async def pull(
    client: httpx.AsyncClient, auth: dict[str, str], **params: Any
) -> tuple[list[dict[str, Any]], str]:
    """Every statement a GET with `params` reaches, following `more`; answers them and the
    Consistent-Through of the first page."""
    response = await client.get(STATEMENTS, params=params, headers=xapi("2.0.0", auth))
    assert response.status_code == 200, response.text
    through = response.headers["X-Experience-API-Consistent-Through"]
    found = list(response.json()["statements"])
    more = response.json()["more"]
    while more:
        response = await client.get(more, headers=xapi("2.0.0", auth))
        assert response.status_code == 200, response.text
        found += response.json()["statements"]
        more = response.json()["more"]
    return found, through
