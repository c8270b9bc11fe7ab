"""Two API processes on one store: duplicate batches and completions sent to both at once
are stored once and credited once, and a `since` pull from either misses nothing; failed
authentications sent to both count once, together (the sign-in throttle in the store).

On MongoDB: two `nxce serve` processes on one database (skipped without
NXCE_MONGODB_URL, see conftest.py). Embedded analogue: two apps on one in-process store,
each with its own credit services and locks (one process still: they share the statement
writer's lock, so that half of the statements case is MongoDB's alone).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from motor.motor_asyncio import AsyncIOMotorClient

from nxce.app import create_app
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET, embedded_settings
from tests.contract.conftest import require_mongodb
from tests.credits.conftest import (
    activity,
    completion,
    learner_body,
    ledger,
    policy_covering_this_year,
)
from tests.lrs.conftest import STATEMENTS, xapi

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def backend() -> str:
    return "embedded"  # the MongoDB half starts processes of its own


@pytest.fixture
def extra_settings(tmp_path: Path) -> dict[str, Any]:
    return {"policy_dir": policy_covering_this_year(tmp_path / "policies")}


async def pull_ids(http: httpx.AsyncClient) -> list[str]:
    """Every statement id a replica answers, following `more`."""
    response = await http.get(STATEMENTS, params={"limit": 4}, headers=xapi())
    assert response.status_code == 200, response.text
    ids = [s["id"] for s in response.json()["statements"]]
    more = response.json()["more"]
    while more:
        response = await http.get(more, headers=xapi())
        assert response.status_code == 200, response.text
        ids += [s["id"] for s in response.json()["statements"]]
        more = response.json()["more"]
    return ids


async def exercise(first: httpx.AsyncClient, second: httpx.AsyncClient) -> None:
    """张伟 and 李秀英 complete courses; every batch goes to both replicas at once, some
    twice; 张伟 completes GX-0002 a second time, with another statement id."""
    for learner in (learner_body(), learner_body("lixiuying", "李秀英", "124", series="卫生")):
        response = await first.post("/learners", json=learner, headers=ADMIN)
        assert response.status_code == 201, response.text
    gx2, gx3, ws1 = [await activity(first, c) for c in ("GX-0002", "GX-0003", "WS-0001")]
    li = {"learner_id": "lixiuying", "name": "李秀英"}
    one = [completion(gx2), completion(gx3), completion(gx2, **li)]
    two = [completion(gx3, **li), completion(gx2), completion(ws1, **li)]
    sends = [(first, one), (second, one), (second, two), (first, two), (second, one)]
    answers = await asyncio.gather(
        *(http.post(STATEMENTS, json=batch, headers=xapi()) for http, batch in sends)
    )
    assert [a.status_code for a in answers] == [200] * len(sends), [a.text for a in answers]
    sent = {s["id"] for s in one + two}
    for http in (first, second):
        ids = await pull_ids(http)
        assert sorted(ids) == sorted(sent)  # each once
        zhang = await ledger(http)
        assert sorted(e["source"]["course_code"] for e in zhang) == ["GX-0002", "GX-0003"]
        assert {e["source_ref"] for e in zhang} == {one[0]["id"], one[1]["id"]}  # the first
        lis = await ledger(http, "lixiuying")
        assert sorted(e["source"]["course_code"] for e in lis) == ["GX-0002", "GX-0003", "WS-0001"]


async def failures_counted_together(first: httpx.AsyncClient, second: httpx.AsyncClient) -> None:
    """Ten wrong secrets of one key from one address, five to each replica at once: each
    answers 401, and then both refuse the key there (429 with Retry-After)."""
    key = f"stranger-{uuid.uuid4().hex[:8]}"
    answers = await asyncio.gather(
        *(
            http.get("/learners/nobody", auth=(key, f"guess-{n}"))
            for n, http in enumerate([first, second] * 5)
        )
    )
    assert [a.status_code for a in answers] == [401] * 10, [a.text for a in answers]
    for http in (first, second):
        refused = await http.get("/learners/nobody", auth=(key, "guess-x"))
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["retry-after"]) > 0


@pytest.fixture
async def replica(app: FastAPI, tmp_path: Path, search_index: Path) -> AsyncIterator[FastAPI]:
    """A second app on the first one's store."""
    data = tmp_path / "replica-2"
    shutil.copytree(search_index, data / "search")
    settings = embedded_settings(data, policy_dir=app.state.settings.policy_dir)
    other = create_app(settings, store=app.state.store)
    async with other.router.lifespan_context(other):
        yield other


async def test_two_apps_on_one_embedded_store_store_and_credit_each_once(
    app: FastAPI, replica: FastAPI
) -> None:
    assert replica.state.credits is not app.state.credits
    transports = [httpx.ASGITransport(app=a) for a in (app, replica)]
    async with (
        httpx.AsyncClient(transport=transports[0], base_url="http://testserver") as first,
        httpx.AsyncClient(transport=transports[1], base_url="http://testserver") as second,
    ):
        await exercise(first, second)


async def test_two_apps_on_one_embedded_store_count_failed_authentications_together(
    app: FastAPI, replica: FastAPI
) -> None:
    assert replica.state.verifier.throttle is not app.state.verifier.throttle
    transports = [httpx.ASGITransport(app=a) for a in (app, replica)]
    async with (
        httpx.AsyncClient(transport=transports[0], base_url="http://testserver") as first,
        httpx.AsyncClient(transport=transports[1], base_url="http://testserver") as second,
    ):
        await failures_counted_together(first, second)


# --- two `nxce serve` processes on one MongoDB ------------------------------------------


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@pytest.fixture
def mongodb_processes(tmp_path: Path) -> Iterator[list[str]]:
    """Two `nxce serve` on one fresh MongoDB database, the same key and admin; answers
    their base URLs. The first seeds the catalog before the second starts."""
    url = require_mongodb()
    database = f"nxce_contract_{uuid.uuid4().hex[:12]}"
    policies = policy_covering_this_year(tmp_path / "policies")
    base = {k: v for k, v in os.environ.items() if not k.startswith("NXCE_")}
    shared = {
        "PYTHONPATH": str(ROOT),
        "NXCE_MONGODB_URL": url,
        "NXCE_DATABASE": database,
        "NXCE_SECRET_KEY": secrets.token_urlsafe(32),
        "NXCE_BOOTSTRAP_ADMIN": f"{ADMIN_KEY}:{ADMIN_SECRET}",
        "NXCE_POLICY_DIR": str(policies),
        "NXCE_LOG_LEVEL": "warning",
    }
    servers: list[subprocess.Popen[bytes]] = []
    urls: list[str] = []
    try:
        for n in range(2):
            data = tmp_path / f"replica-{n + 1}"
            data.mkdir()
            port = free_port()
            command = [sys.executable, "-m", "nxce", "serve", "--port", str(port), "--no-demo"]
            env = base | shared | {"NXCE_DATA_DIR": str(data)}
            with (data / "serve.log").open("ab") as log:
                servers.append(subprocess.Popen(command, env=env, cwd=data, stdout=log, stderr=log))
            urls.append(f"http://127.0.0.1:{port}")
            asyncio.run(ready(urls[-1], servers[-1]))
        yield urls
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)

        async def drop() -> None:
            client: AsyncIOMotorClient = AsyncIOMotorClient(url)
            await client.drop_database(database)
            client.close()

        asyncio.run(drop())


async def ready(url: str, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 180
    async with httpx.AsyncClient(base_url=url) as http:
        while time.monotonic() < deadline:
            assert server.poll() is None, (server.args, server.returncode)
            try:
                if (await http.get(STATEMENTS, params={"limit": 1}, headers=xapi())).is_success:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.2)
    raise AssertionError(f"{url} did not start")


def test_two_api_processes_on_one_mongodb_store_credit_and_throttle_each_once(
    mongodb_processes: list[str],
) -> None:
    async def run() -> None:
        async with (
            httpx.AsyncClient(base_url=mongodb_processes[0], timeout=60) as first,
            httpx.AsyncClient(base_url=mongodb_processes[1], timeout=60) as second,
        ):
            await exercise(first, second)
            await failures_counted_together(first, second)

    asyncio.run(run())
