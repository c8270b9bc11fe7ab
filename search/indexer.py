"""Keeps the search index in step with the catalog.

At start, `start` runs `sync` in the background: it compares a fingerprint of the
published courses with the one the index was built from, and rebuilds when they differ
(or the index is missing), so the service answers the catalog without waiting for the
build. An index left by an earlier start answers searches meanwhile; a service with no
index yet answers search with 503 until the first build ends (about a second and a half).

Every catalog write reaches `course_changed` before its response is sent: a published
course is (re)indexed, a retired one removed. Changes that arrive while a rebuild runs
are queued and applied after it, so the rebuild's snapshot never hides them.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from search.backend import SearchBackend, SearchDocument
from search.embedded_query import SCHEMA_VERSION

log = logging.getLogger("nxce.search")

# Bump when the analysis of documents changes, so every index is rebuilt.
ANALYSIS_VERSION = 1

DocumentSource = Callable[[], Awaitable[Sequence[SearchDocument]]]


def fingerprint(documents: Sequence[SearchDocument], backend: str) -> str:
    """A digest of exactly what would be indexed, and how."""
    digest = hashlib.sha256(f"{backend}:{SCHEMA_VERSION}:{ANALYSIS_VERSION}\n".encode())
    for document in sorted(documents, key=lambda d: d["code"]):
        digest.update(json.dumps(document, ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()


class Indexer:
    """Feeds `backend` from `source` (all published courses) and from catalog changes."""

    def __init__(self, backend: SearchBackend, source: DocumentSource) -> None:
        self.backend = backend
        self.source = source
        self.stale = False
        self.ready = False
        self._pending: list[tuple[str, SearchDocument | None]] | None = None
        self._task: asyncio.Task[str] | None = None
        self._sync_lock = asyncio.Lock()

    async def start(self) -> None:
        """Sync in the background; searches are served meanwhile if an index exists."""
        self.ready = await self.backend.fingerprint() is not None
        self._task = asyncio.create_task(self._background_sync())

    async def _background_sync(self) -> str:
        try:
            result = await self.sync()
        except Exception:  # the service keeps serving the catalog; /health shows it
            self.stale = True
            log.exception("search index sync failed; search may be stale")
            raise
        log.info("search (%s): %s", self.backend.name, result)
        return result

    async def wait(self) -> None:
        """Wait for the background sync started by `start` (if any) to end."""
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task

    async def stop(self) -> None:
        if self._task is not None and not self._task.done():
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    async def sync(self, *, force: bool = False) -> str:
        """Rebuild the index when it does not match the catalog; answers what it did."""
        async with self._sync_lock:
            began = time.perf_counter()
            self._pending = []
            try:
                documents = await self.source()
                wanted = fingerprint(documents, self.backend.name)
                current = not force and await self.backend.fingerprint() == wanted
                if not current:
                    await self.backend.replace_all(documents, wanted)
            finally:
                pending, self._pending = self._pending, None
                for code, document in pending:
                    await self._apply(code, document)
            self.stale, self.ready = False, True
            if current:
                return f"index current ({len(documents)} courses)"
            elapsed = time.perf_counter() - began
            return f"index rebuilt ({len(documents)} courses in {elapsed:.2f} s)"

    async def course_changed(self, code: str, document: SearchDocument | None) -> None:
        """Index a published course (`document`), or remove a retired one (None)."""
        if self._pending is not None:
            self._pending.append((code, document))
            return
        await self._apply(code, document)

    async def courses_changed(self, changes: Sequence[tuple[str, SearchDocument | None]]) -> None:
        """Several courses at once (a bulk import): indexed or removed in one write each."""
        if self._pending is not None:
            self._pending.extend(changes)
            return
        documents = [document for _, document in changes if document is not None]
        gone = [code for code, document in changes if document is None]
        try:
            if documents:
                await self.backend.index(documents)
            if gone:
                await self.backend.delete(gone)
        except Exception:  # the catalog write stands; the index is repaired later
            self.stale = True
            log.exception("search index update failed for %d courses; index is stale", len(changes))

    async def _apply(self, code: str, document: SearchDocument | None) -> None:
        # A failure is logged and marks the index stale (shown by /health) rather than
        # failing the catalog write that already happened; a reindex repairs it.
        try:
            if document is None:
                await self.backend.delete([code])
            else:
                await self.backend.index([document])
        except Exception:  # the catalog write stands; the index is repaired later
            self.stale = True
            log.exception("search index update failed for course %s; index is stale", code)
