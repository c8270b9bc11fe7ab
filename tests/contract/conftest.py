"""The same cases against a real MongoDB, when NXCE_MONGODB_URL names one.

Each test gets a fresh database (`nxce_contract_<random>`), dropped afterwards.
Without NXCE_MONGODB_URL these tests are skipped, saying why; with
NXCE_CONTRACT_REQUIRED=1 (CI's contract job) a skip is a failure (required.py).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from motor.motor_asyncio import AsyncIOMotorClient

from nxce.app import create_app
from nxce.settings import Settings
from tests.conftest import embedded_settings
from tests.contract.required import pytest_runtest_makereport  # noqa: F401

MONGODB_URL = os.environ.get("NXCE_MONGODB_URL")


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    if not MONGODB_URL:
        pytest.skip("NXCE_MONGODB_URL is not set: no MongoDB server to run the contract against")
    return embedded_settings(
        tmp_path, mongodb_url=MONGODB_URL, database=f"nxce_contract_{uuid.uuid4().hex[:12]}"
    )


@pytest.fixture
async def app(settings: Settings) -> AsyncIterator[FastAPI]:
    application = create_app(settings)
    try:
        async with application.router.lifespan_context(application):
            await application.state.indexer.wait()
            yield application
    finally:
        client: AsyncIOMotorClient = AsyncIOMotorClient(settings.mongodb_url)
        await client.drop_database(settings.database)
        client.close()
