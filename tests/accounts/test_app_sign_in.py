"""The app's sign-in: tokens, their scope, refresh rotation, replay, devices."""

from __future__ import annotations

import httpx

from tests.accounts.conftest import activated, app_sign_in, bearer
from tests.lrs.conftest import xapi


async def test_app_sign_in_answers_a_bearer_pair_accepted_by_xapi(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    assert signed["token_type"] == "Bearer"
    assert signed["learner_id"] == "zhangwei"
    assert signed["expires_in"] == 900
    response = await client.get(
        "/xapi/statements", headers=xapi(auth=bearer(signed["access_token"]))
    )
    assert response.status_code == 200, response.text
