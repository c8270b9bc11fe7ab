"""The sign-in throttle in the store (nxce/core/throttle.py): one count across API
replicas, a sliding window, nothing written for a success, nothing typed kept in clear.
Two `Throttle` instances over one store stand for two replicas; tests/contract runs the
same cases on MongoDB."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import httpx
import pytest

from nxce.core import db
from nxce.core.errors import TooManyRequests
from nxce.core.throttle import (
    FAILURES_PER_ADDRESS,
    FAILURES_PER_KEY_AND_ADDRESS,
    WINDOW_SECONDS,
    Throttle,
    ThrottleWindow,
)
from nxce.settings import Settings
from tests.conftest import ADMIN, basic, embedded_settings

ADDRESS = "203.0.113.7"


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return embedded_settings(tmp_path, seed_fixtures=False)


class Clock:
    """Epoch seconds that stand still until moved."""

    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


def replicas(clock: Clock | None = None) -> tuple[Throttle, Throttle]:
    """The throttles of two API processes over one store."""
    if clock is None:
        return Throttle(0), Throttle(0)
    return Throttle(0, clock=clock), Throttle(0, clock=clock)


async def windows() -> list[dict[str, object]]:
    found: list[dict[str, object]] = await db.collection(ThrottleWindow).find({}).to_list(None)
    return found


async def test_two_replicas_share_one_count_of_a_keys_failures(client: httpx.AsyncClient) -> None:
    first, second = replicas()
    for n in range(FAILURES_PER_KEY_AND_ADDRESS):
        await (first if n % 2 else second).failed("editor", ADDRESS)
    for throttle in (first, second):
        with pytest.raises(TooManyRequests) as refused:
            await throttle.check("editor", ADDRESS)
        assert f"of the key 'editor' from {ADDRESS}" in refused.value.detail
        assert refused.value.extra["retry_after"] > 0
    await first.check("editor", "198.51.100.1")  # another address: not refused
    await second.check("reviewer", ADDRESS)  # another key: not refused


async def test_failures_counted_at_once_by_two_replicas_are_neither_lost_nor_doubled(
    client: httpx.AsyncClient,
) -> None:
    first, second = replicas()
    keys = [f"陌生人-{n}" for n in range(30)]
    await asyncio.gather(
        *((first if n % 2 else second).failed(key, ADDRESS) for n, key in enumerate(keys)),
        *(first.failed("editor", ADDRESS) for _ in range(4)),
        *(second.failed("editor", ADDRESS) for _ in range(4)),
    )
    stored = await windows()
    assert len(stored) == len(keys) + 2  # a bucket per key, the editor's, the address's
    address = next(w for w in stored if w["key"] == "")
    assert len(address["times"]) == len(keys) + 8  # type: ignore[arg-type]
    per_key = sorted(len(w["times"]) for w in stored if w["key"] != "")  # type: ignore[arg-type]
    assert per_key == [1] * len(keys) + [8]


async def test_a_key_is_let_in_again_when_its_limit_th_latest_failure_leaves_the_window(
    client: httpx.AsyncClient,
) -> None:
    clock = Clock()
    started = clock.now
    first, second = replicas(clock)
    for n in range(FAILURES_PER_KEY_AND_ADDRESS):
        clock.now = started + n  # one failure a second, alternating replicas
        await (first if n % 2 else second).failed("editor", ADDRESS)
    clock.now = started + 100
    with pytest.raises(TooManyRequests) as refused:
        await first.check("editor", ADDRESS)
    assert refused.value.extra["retry_after"] == WINDOW_SECONDS - 100 + 1
    clock.now = started + WINDOW_SECONDS + 0.5  # the first failure has left the window
    await second.check("editor", ADDRESS)
    await first.failed("editor", ADDRESS)  # the tenth again, in the window
    with pytest.raises(TooManyRequests):
        await second.check("editor", ADDRESS)


async def test_an_expired_window_counts_nothing_and_the_next_failure_starts_it_afresh(
    client: httpx.AsyncClient,
) -> None:
    """The embedded store keeps expired documents (no TTL monitor): reads ignore them."""
    clock = Clock()
    started = clock.now
    first, second = replicas(clock)
    for _ in range(FAILURES_PER_ADDRESS):
        await first.failed("editor", ADDRESS)
    with pytest.raises(TooManyRequests) as slowed:
        await second.failed("reviewer", ADDRESS)  # past the address's limit
    assert "a valid key and secret are still accepted" in slowed.value.detail
    clock.now = started + WINDOW_SECONDS + 1
    await second.check("editor", ADDRESS)
    await second.failed("reviewer", ADDRESS)  # no 429: the address starts afresh
    for _ in range(FAILURES_PER_KEY_AND_ADDRESS - 1):
        await first.failed("editor", ADDRESS)
    await first.check("editor", ADDRESS)  # nine in the window, not ten


async def test_a_successful_basic_request_writes_nothing_and_a_failure_writes_two_buckets(
    client: httpx.AsyncClient,
) -> None:
    for _ in range(3):
        response = await client.get("/learners/nobody", headers=ADMIN)
        assert response.status_code == 404, response.text  # authenticated, then not found
    assert await windows() == []
    refused = await client.get("/learners/nobody", headers=basic("admin", "wrong-secret"))
    assert refused.status_code == 401
    assert len(await windows()) == 2  # the key from the address, and the address


async def test_a_typed_account_name_is_kept_only_as_a_digest(client: httpx.AsyncClient) -> None:
    typed = "640102199001011234"  # an id number typed as an account name
    body = {"account": typed, "password": "wrong-password-1", "device": "华为"}
    assert (await client.post("/auth/app-sign-in", json=body)).status_code == 401
    stored = await windows()
    assert len(stored) == 2
    assert typed not in repr(stored) and typed[-6:] not in repr(stored)


async def test_the_windows_expire_under_a_ttl_index(client: httpx.AsyncClient) -> None:
    indexes = await db.collection(ThrottleWindow).index_information()
    assert indexes["expiry"]["key"] == [("expires_at", 1)]
    assert indexes["expiry"]["expireAfterSeconds"] == 0
    assert indexes["bucket"]["unique"] is True


async def test_the_embedded_store_removes_expired_windows_at_most_once_a_minute(
    client: httpx.AsyncClient,
) -> None:
    clock = Clock()
    started = clock.now
    throttle = Throttle(0, clock=clock)
    await throttle.failed("editor", ADDRESS)
    clock.now = started + WINDOW_SECONDS + 1  # both buckets expired
    await throttle.failed("reviewer", "198.51.100.1")  # removes the two expired ones
    assert {w["address"] for w in await windows()} == {"198.51.100.1"}
    clock.now += WINDOW_SECONDS + 1
    await throttle.failed("reviewer", "198.51.100.2")  # prunes again: a minute has passed
    assert {w["address"] for w in await windows()} == {"198.51.100.2"}
    clock.now += 1
    await throttle.failed("reviewer", "198.51.100.3")  # a second later: no prune
    assert len(await windows()) == 4
