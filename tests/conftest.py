"""Shared fixtures: a fresh embedded service per test, and an HTTP client to it."""

from __future__ import annotations

import asyncio
import base64
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from nxce.app import create_app
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
    """Settings for the embedded store, whatever NXCE_* the developer has set."""
    values: dict[str, object] = {
        "mongodb_url": None,
        "public_url": None,
        "allowed_hosts": TEST_HOSTS,
        "data_dir": data_dir,
        "bootstrap_admin": f"{ADMIN_KEY}:{ADMIN_SECRET}",
        "platform_home_page": "https://nxce.example",
        "activity_base": "https://nxce.example/xapi/activities/course",
        **overrides,
    }
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def search_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The embedded search index of the fixture catalog, built once per test session."""
    directory = tmp_path_factory.mktemp("search-index")

    async def build() -> None:
        application = create_app(embedded_settings(directory))
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
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    async with application.router.lifespan_context(application):
        if not application.state.indexer.ready:
            await application.state.indexer.wait()  # no index yet: let the first build end
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http
