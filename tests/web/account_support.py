"""What the tests of the account pages share: activation through the page, the alert a
page shows, a second browser."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from tests.accounts.conftest import PASSWORD, issue_code
from tests.credits.conftest import register
from tests.web.test_pages import token

NEW_PASSWORD = "贺兰山下-葡萄酒-2027"
NAMES_RULE = "新密码不能是或包含您的学员编号、身份证号或手机号。"


def alert(page: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', page)
    assert found, page
    return found.group(1)


async def activate(
    client: httpx.AsyncClient,
    account: str,
    code: str,
    password: str = PASSWORD,
    again: str | None = None,
) -> httpx.Response:
    form = await client.get("/activate")
    assert form.status_code == 200
    data = {
        "account": account,
        "code": code,
        "password": password,
        "again": password if again is None else again,
        "csrf": token(form.text),
    }
    return await client.post("/activate", data=data)


async def registered_with_code(client: httpx.AsyncClient) -> str:
    """张伟 registered, and a code issued for him by the admin (the API)."""
    await register(client)
    return str((await issue_code(client, "zhangwei"))["code"])


@pytest.fixture
async def other(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser: its own cookies."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
