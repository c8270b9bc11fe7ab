"""The previous release's data (tests/data/previous/) loaded into a real MongoDB
(NXCE_MONGODB_URL) with this version's loader, its key given as NXCE_SECRET_KEY as the
README says for replicas, then read through this version's API: the same cases as
tests/nxce/test_previous_release.py on the embedded store. Skipped without a server."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from motor.motor_asyncio import AsyncIOMotorClient

from nxce.settings import Settings
from tests.conftest import embedded_settings
from tests.contract.conftest import require_mongodb
from tests.nxce.test_previous_release import (  # noqa: F401
    ARCHIVE,
    app_and_client,
    client,
    load_previous,
    test_a_credit_rebuild_changes_nothing,
    test_a_step_added_later_runs_once_on_the_previous_data,
    test_a_store_written_by_a_newer_version_refuses_to_start_and_says_why,
    test_a_transcript_issued_then_still_verifies,
    test_every_record_reads_through_this_versions_api,
    test_the_client_and_the_learners_account_and_device_sign_in,
    test_the_migrations_are_recorded,
)


@pytest.fixture
async def settings(tmp_path: Path) -> AsyncIterator[Settings]:
    url = require_mongodb()
    settings = embedded_settings(
        tmp_path / "data",
        mongodb_url=url,
        database=f"nxce_contract_{uuid.uuid4().hex[:12]}",
        secret_key=(ARCHIVE / "secret.key").read_text(encoding="ascii").strip(),
        bootstrap_admin=None,
        seed_fixtures=False,
    )
    settings.data_dir.mkdir()
    await load_previous(settings)
    try:
        yield settings
    finally:
        server: AsyncIOMotorClient[Any] = AsyncIOMotorClient(url)
        await server.drop_database(settings.database)
        server.close()
