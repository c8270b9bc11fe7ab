"""Helpers for the account tests: learners registered by the admin, activation codes,
passwords set, apps signed in."""

from __future__ import annotations

from typing import Any

import httpx

from tests.conftest import ADMIN
from tests.credits.conftest import (  # noqa: F401 - fixtures shared with the credits tests
    bound_client,
    id_number,
    register,
    settings,
)

PASSWORD = "枸杞红了-2026-春"  # a learner's own choice: Chinese and ASCII, 13 characters
ZHANG_WEI_ID_NUMBER = id_number("123")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


async def issue_code(client: httpx.AsyncClient, learner_id: str) -> dict[str, Any]:
    response = await client.post(f"/learners/{learner_id}/activation-code", headers=ADMIN)
    assert response.status_code == 201, response.text
    issued: dict[str, Any] = response.json()
    return issued


async def activated(
    client: httpx.AsyncClient,
    learner_id: str = "zhangwei",
    name: str = "张伟",
    sequence: str = "123",
    password: str = PASSWORD,
) -> str:
    """Register a learner, issue a code and set `password` with it; answers the id."""
    await register(client, learner_id, name, sequence)
    issued = await issue_code(client, learner_id)
    response = await client.post(
        "/auth/activate",
        json={"account": learner_id, "code": issued["code"], "password": password},
    )
    assert response.status_code == 204, response.text
    return learner_id


async def app_sign_in(
    client: httpx.AsyncClient,
    account: str = "zhangwei",
    password: str = PASSWORD,
    device: str = "华为 Mate 60",
) -> dict[str, Any]:
    response = await client.post(
        "/auth/app-sign-in", json={"account": account, "password": password, "device": device}
    )
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer
