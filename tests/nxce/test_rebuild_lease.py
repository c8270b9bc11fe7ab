"""POST /admin/credits/rebuild runs once across API processes: it holds a lease in the
store (nxce/core/leases.py), renewed while it runs, so a replica that finds it held
answers 409 and one that died holding it lets the next rebuild start once it lapses."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from nxce import admin
from nxce.core import db, leases
from nxce.core.leases import Lease
from nxce.settings import Settings
from tests.conftest import ADMIN, embedded_settings


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(tmp_path, seed_fixtures=False)


async def test_a_rebuild_held_by_another_replica_is_409_and_runs_once_it_is_given_back(
    client: httpx.AsyncClient,
) -> None:
    other = "another-replica"
    assert await leases.take(admin.REBUILD_LEASE, owner=other, ttl=timedelta(minutes=2))
    refused = await client.post("/admin/credits/rebuild", headers=ADMIN)
    assert refused.status_code == 409
    assert "another process" in refused.json()["detail"]
    await leases.give_back(admin.REBUILD_LEASE, owner=other)
    done = await client.post("/admin/credits/rebuild", headers=ADMIN)
    assert done.status_code == 200, done.text
    assert await Lease.find_one({"name": admin.REBUILD_LEASE}) is None  # given back


async def test_a_rebuild_whose_replica_died_runs_once_the_lease_lapsed(
    client: httpx.AsyncClient,
) -> None:
    assert await leases.take(admin.REBUILD_LEASE, owner="died", ttl=timedelta(0))
    done = await client.post("/admin/credits/rebuild", headers=ADMIN)
    assert done.status_code == 200, done.text


async def test_a_kept_lease_is_renewed_while_its_block_runs(client: httpx.AsyncClient) -> None:
    ttl = timedelta(seconds=0.3)

    async def expiry() -> Any:
        lease = await db.collection(Lease).find_one({"name": "长任务"})
        return lease["expires_at"] if lease else None

    async with leases.kept("长任务", ttl=ttl) as taken:
        assert taken
        first = await expiry()
        await asyncio.sleep(0.5)  # past the first expiry: renewed meanwhile
        assert await expiry() > first
        assert not await leases.take("长任务", owner="another", ttl=ttl)
    assert await expiry() is None
