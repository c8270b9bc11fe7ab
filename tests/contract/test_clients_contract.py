"""The last enabled admin is kept on every backend, also when the last two admins are
disabled at the same moment: on MongoDB each disable is one transaction that writes a
guard document first, so the later of two is retried and counts what the earlier left; on
the embedded store (one process) they take turns."""

from __future__ import annotations

import asyncio

import pytest
from fastapi import FastAPI

from nxce.core import clients
from nxce.core.clients import Scope
from nxce.core.errors import Conflict
from tests.conftest import ADMIN_KEY


@pytest.fixture
def seed() -> bool:
    return False  # no catalog needed


async def test_two_disables_at_once_of_the_last_two_admins_leave_one_enabled(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    await clients.register(by=ADMIN_KEY, name="管理员甲", scopes=[Scope.admin], key="admin-jia")
    await clients.register(by=ADMIN_KEY, name="管理员乙", scopes=[Scope.admin], key="admin-yi")
    await clients.disable(key=ADMIN_KEY, by="admin-jia")
    count = clients._other_admins

    async def slow_count(key: str, session: object) -> int:
        others = await count(key, session)
        await asyncio.sleep(0.05)  # both have counted before either writes, but for the rule
        return others

    monkeypatch.setattr(clients, "_other_admins", slow_count)
    outcomes = await asyncio.gather(
        clients.disable(key="admin-jia", by="admin-yi"),
        clients.disable(key="admin-yi", by="admin-jia"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == 1, outcomes
    enabled = await clients.find(scope=Scope.admin, disabled=False)
    assert enabled.total == 1
