"""Shared fixtures: a fresh embedded service per test, and an HTTP client to it.

Seeding the fixture catalog takes seconds, so it happens once per test session (per
xdist worker) in `seeded_store`; each test's service starts on its own copy of that
store, exactly as it would have left an empty store after seeding it.
"""

from __future__ import annotations

import asyncio
import base64
import functools
import shutil
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, NamedTuple

import httpx
import pytest
from fastapi import FastAPI

from nxce.app import create_app, open_store
from nxce.core import db, embedded_copy, passwords
from nxce.settings import Settings

ADMIN_KEY, ADMIN_SECRET = "admin", "admin-secret-for-tests"


def basic(key: str, secret: str) -> dict[str, str]:
    token = base64.b64encode(f"{key}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {token}"}


ADMIN = basic(ADMIN_KEY, ADMIN_SECRET)


# The loopback names the service answers by default, and the host of Starlette's and
# httpx's in-process test clients (never allowed unless a setting names it).
TEST_HOSTS = "localhost,127.0.0.1,[::1],testserver"


def embedded_settings(data_dir: Path, **overrides: object) -> Settings:
    """Settings for the embedded store in memory, whatever NXCE_* the developer has set
    (tests of the durable store pass `embedded_in_memory=False`)."""
    values: dict[str, object] = {
        "mongodb_url": None,
        "public_url": None,
        "allowed_hosts": TEST_HOSTS,
        "data_dir": data_dir,
        "embedded_in_memory": True,
        "bootstrap_admin": f"{ADMIN_KEY}:{ADMIN_SECRET}",
        "platform_home_page": "https://nxce.example",
        "activity_base": "https://nxce.example/xapi/activities/course",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


_HASH_SECRET, _VERIFY_SECRET = passwords.hash_secret, passwords.verify_secret


@functools.cache
def _hash_once(secret: str) -> str:
    return _HASH_SECRET(secret)


@functools.cache
def _verify_once(secret: str, encoded: str) -> bool:
    return _VERIFY_SECRET(secret, encoded)


@pytest.fixture(autouse=True)
def _scrypt_once_per_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every test starts a fresh app that hashes the admin secret again and verifies it on
    its first request, and scrypt is slow on purpose: hash each secret once per session
    and verify each (secret, hash) pair once. A wrong secret is still verified, and fails."""
    monkeypatch.setattr(passwords, "hash_secret", _hash_once)
    monkeypatch.setattr(passwords, "verify_secret", _verify_once)


class SeededStore(NamedTuple):
    """An embedded store as a service leaves it after seeding an empty one, and the
    settings it was seeded with."""

    settings: Settings
    client: Any

    def serves(self, settings: Settings) -> bool:
        """Whether a service with `settings` would seed an empty store the same way."""
        return (
            settings.embedded
            and settings.seed_fixtures
            and settings.database == self.settings.database
            and settings.activity_base == self.settings.activity_base
        )


@pytest.fixture(scope="session")
def seeded_store(tmp_path_factory: pytest.TempPathFactory) -> SeededStore:
    """The fixture catalog and bases loaded and indexes created, once per test session;
    services start on copies of it (`embedded_copy.copied`), never on it."""
    settings = embedded_settings(tmp_path_factory.mktemp("seeded-store"))
    client = db.connect(settings)
    asyncio.run(open_store(settings, seed=True, client=client))
    return SeededStore(settings, client)


@pytest.fixture
def store_copy(settings: Settings, request: pytest.FixtureRequest) -> Any:
    """A copy of the seeded store when the service would seed an embedded store the
    same way, else None (the service connects to the store `settings` name)."""
    if not (settings.embedded and settings.seed_fixtures):
        return None
    seeded: SeededStore = request.getfixturevalue("seeded_store")
    return embedded_copy.copied(seeded.client) if seeded.serves(settings) else None


@pytest.fixture(scope="session")
def search_index(tmp_path_factory: pytest.TempPathFactory, seeded_store: SeededStore) -> Path:
    """The embedded search index of the fixture catalog, built once per test session."""
    directory = tmp_path_factory.mktemp("search-index")

    async def build() -> None:
        application = create_app(
            embedded_settings(directory), store=embedded_copy.copied(seeded_store.client)
        )
        async with application.router.lifespan_context(application):
            await application.state.indexer.wait()

    asyncio.run(build())
    return directory / "search"


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """Embedded settings whose data directory starts with the prebuilt search index (the
    service checks its fingerprint at start, so a stale copy would be rebuilt)."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path)


@pytest.fixture
async def app(settings: Settings, store_copy: Any) -> AsyncIterator[FastAPI]:
    application = create_app(settings, store=store_copy)
    async with application.router.lifespan_context(application):
        if not application.state.indexer.ready:
            await application.state.indexer.wait()  # no index yet: let the first build end
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
