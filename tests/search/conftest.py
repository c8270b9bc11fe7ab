"""Search backends under test: the embedded one always, Meilisearch when NXCE_MEILI_URL is set.

`fixture_backend` holds the whole fixture catalog (module-scoped, read-only tests);
`small_backend` is a fresh, empty backend per test for writes and crafted documents.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import pytest
from meilisearch.errors import MeilisearchApiError

import fixtures
from search.backend import SearchBackend, SearchDocument
from search.embedded import EmbeddedBackend
from search.meili import MeiliBackend
from tests.contract.required import pytest_runtest_makereport  # noqa: F401 (a skip fails in CI)

MEILI_URL = os.environ.get("NXCE_MEILI_URL")
MEILI_KEY = os.environ.get("NXCE_MEILI_KEY")
BACKENDS = ["embedded", "meilisearch"]


def fixture_documents() -> list[SearchDocument]:
    documents = []
    for course in fixtures.read_courses():
        raw = course.model_dump(mode="json")
        documents.append({k: raw[k] for k in SearchDocument.__annotations__})  # type: ignore[misc]
    return documents  # type: ignore[return-value]


def make(kind: str) -> SearchBackend:
    if kind == "embedded":
        return EmbeddedBackend(None)
    if not MEILI_URL:
        pytest.skip("NXCE_MEILI_URL is not set: no Meilisearch server to run the contract against")
    return MeiliBackend(MEILI_URL, MEILI_KEY, uid=f"nxce_test_{uuid.uuid4().hex[:10]}")


async def dispose(backend: SearchBackend) -> None:
    if isinstance(backend, MeiliBackend):
        for uid in (backend.uid, backend.meta_uid):
            with contextlib.suppress(MeilisearchApiError):  # never created
                await backend._wait(await backend._call(backend.client.delete_index, uid))
    await backend.close()


@pytest.fixture(scope="module", params=BACKENDS)
def fixture_backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    backend = make(request.param)
    loop = asyncio.new_event_loop()
    loop.run_until_complete(backend.open())
    loop.run_until_complete(backend.replace_all(fixture_documents(), "contract"))
    yield backend
    loop.run_until_complete(dispose(backend))
    loop.close()


@pytest.fixture(params=BACKENDS)
async def small_backend(request: pytest.FixtureRequest) -> AsyncIterator[SearchBackend]:
    backend = make(request.param)
    await backend.open()
    yield backend
    await dispose(backend)
