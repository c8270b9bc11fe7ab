"""The account routes take no query parameters: one sent is a mistake named in a 422, and
the request does nothing (no code issued, no device signed out)."""

from __future__ import annotations

import httpx
import pytest

from tests.accounts.conftest import PASSWORD, activated, app_sign_in, bearer
from tests.conftest import ADMIN


@pytest.mark.parametrize(
    ("method", "path", "as_admin"),
    [
        ("POST", "/learners/zhangwei/activation-code", True),
        ("GET", "/learners/zhangwei/devices", True),
        ("DELETE", "/learners/zhangwei/devices/{device}", True),
        ("GET", "/learners/zhangwei", True),
        ("GET", "/auth/devices", False),
        ("DELETE", "/auth/devices/{device}", False),
    ],
)
async def test_an_unknown_query_parameter_is_a_422_naming_it_and_changes_nothing(
    client: httpx.AsyncClient, method: str, path: str, as_admin: bool
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    headers = ADMIN if as_admin else bearer(signed["access_token"])
    url = path.format(device=signed["device_id"])
    response = await client.request(method, url, params={"设备": "华为🍒"}, headers=headers)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "设备"
    # nothing happened: the device is still signed in, the password (no new code) unchanged
    devices = await client.get("/auth/devices", headers=bearer(signed["access_token"]))
    assert devices.status_code == 200 and len(devices.json()) == 1
    assert (await app_sign_in(client, password=PASSWORD, device="小米"))["learner_id"]


async def test_the_sign_in_routes_name_an_unknown_query_parameter(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    body = {"account": "zhangwei", "password": PASSWORD, "device": "华为"}
    response = await client.post("/auth/app-sign-in", params={"debug": "1"}, json=body)
    assert response.status_code == 422, response.text
    assert response.json()["errors"][0]["field"] == "debug"
