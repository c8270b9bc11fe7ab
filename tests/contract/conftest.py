"""The same cases on every backend: the embedded store always, and a real MongoDB when
NXCE_MONGODB_URL names one.

A contract test takes `app` (or `client`), which is parametrized by `backend`:
`embedded` (the in-process store, started from a copy of the seeded store like the
embedded suites) and `mongodb` (a fresh database `nxce_contract_<random>`, dropped
afterwards). Without NXCE_MONGODB_URL the MongoDB half is skipped, saying why; with
NXCE_CONTRACT_REQUIRED=1 (CI's contract job) that skip is a failure instead
(`require_mongodb`, and `required.py` for any other skip). A module that runs on MongoDB
only overrides `backend`; one that needs no catalog overrides `seed`.
"""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from fastapi import FastAPI
from motor.motor_asyncio import AsyncIOMotorClient

from nxce.app import create_app
from nxce.settings import Settings
from tests.conftest import embedded_settings
from tests.contract.required import pytest_runtest_makereport  # noqa: F401

MONGODB_URL = os.environ.get("NXCE_MONGODB_URL")
NO_SERVER = "NXCE_MONGODB_URL is not set: no MongoDB server to run the contract against"


def require_mongodb() -> str:
    """The MongoDB URL; skips the test without one (fails under NXCE_CONTRACT_REQUIRED=1)."""
    if MONGODB_URL:
        return MONGODB_URL
    if os.environ.get("NXCE_CONTRACT_REQUIRED") == "1":
        pytest.fail(f"{NO_SERVER}, and NXCE_CONTRACT_REQUIRED=1 requires one")
    pytest.skip(NO_SERVER)


@pytest.fixture(params=["embedded", "mongodb"])
def backend(request: pytest.FixtureRequest) -> str:
    """The store the test's app runs on."""
    name: str = request.param
    return name


@pytest.fixture
def seed() -> bool:
    """Whether the app starts with the fixture catalog and bases (a module overrides it)."""
    return True


@pytest.fixture
def extra_settings(tmp_path: Path) -> dict[str, Any]:
    """Settings a module adds (a policy directory, …)."""
    return {}


@pytest.fixture
def settings(
    backend: str,
    seed: bool,
    extra_settings: dict[str, Any],
    tmp_path: Path,
    request: pytest.FixtureRequest,
) -> Settings:
    if backend == "mongodb":
        database = f"nxce_contract_{uuid.uuid4().hex[:12]}"
        return embedded_settings(
            tmp_path,
            mongodb_url=require_mongodb(),
            database=database,
            seed_fixtures=seed,
            **extra_settings,
        )
    if seed:  # start with the prebuilt search index of the fixture catalog
        index: Path = request.getfixturevalue("search_index")
        shutil.copytree(index, tmp_path / "search")
    return embedded_settings(tmp_path, seed_fixtures=seed, **extra_settings)


@pytest.fixture
async def app(settings: Settings, store_copy: Any) -> AsyncIterator[FastAPI]:
    application = create_app(settings, store=store_copy)
    try:
        async with application.router.lifespan_context(application):
            await application.state.indexer.wait()
            yield application
    finally:
        if not settings.embedded:
            client: AsyncIOMotorClient = AsyncIOMotorClient(settings.mongodb_url)
            await client.drop_database(settings.database)
            client.close()
