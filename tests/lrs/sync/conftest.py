"""Sync tests run in the credits tests' world (the catalog loaded, learners, bound
clients), with helpers for xAPI requests as the app makes them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from nxce.core.clients import Scope
from tests.conftest import ADMIN
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

MakePhone = Callable[[str], Awaitable[dict[str, str]]]


@pytest.fixture(params=["basic-client", "app-sign-in"])
def phone_of(request: pytest.FixtureRequest, client: httpx.AsyncClient) -> MakePhone:
    """The app of a registered learner, as the README describes both ways in: a
    learner-bound HTTP Basic client holding APP_SCOPES, or the app signed in with the
    learner's password (set with an activation code) and its Bearer access token. Answers
    the request headers."""

    async def signed_in(learner_id: str) -> dict[str, str]:
        issued = await client.post(f"/learners/{learner_id}/activation-code", headers=ADMIN)
        assert issued.status_code == 201, issued.text
        password = "西夏王陵的月亮很圆-" + str(len(learner_id))
        body = {"account": learner_id, "code": issued.json()["code"], "password": password}
        activated = await client.post("/auth/activate", json=body)
        assert activated.status_code == 204, activated.text
        signed = await client.post(
            "/auth/app-sign-in",
            json={"account": learner_id, "password": password, "device": "OPPO Find X7"},
        )
        assert signed.status_code == 200, signed.text
        return {"Authorization": f"Bearer {signed.json()['access_token']}"}

    async def basic_client(learner_id: str) -> dict[str, str]:
        make = request.getfixturevalue("bound_client")
        headers: dict[str, str] = await make(learner_id, *APP_SCOPES)
        return headers

    return signed_in if request.param == "app-sign-in" else basic_client


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
