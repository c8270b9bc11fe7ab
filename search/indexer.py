"""Keeps the search index in step with the catalog.

At start, `sync` compares a fingerprint of the published courses with the one the index
was built from and rebuilds when they differ (or the index is missing). Afterwards every
catalog write reaches `course_changed`: a published course is (re)indexed, a retired one
removed, before the write's response is sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Awaitable, Callable, Sequence

from search.backend import SearchBackend, SearchDocument
from search.embedded import SCHEMA_VERSION

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

    async def sync(self, *, force: bool = False) -> str:
        """Rebuild the index when it does not match the catalog; answers what it did."""
        began = time.perf_counter()
        documents = await self.source()
        wanted = fingerprint(documents, self.backend.name)
        if not force and await self.backend.fingerprint() == wanted:
            self.stale = False
            return f"index current ({len(documents)} courses)"
        await self.backend.replace_all(documents, wanted)
        self.stale = False
        elapsed = time.perf_counter() - began
        log.info("search index rebuilt: %d courses in %.2f s", len(documents), elapsed)
        return f"index rebuilt ({len(documents)} courses in {elapsed:.2f} s)"

    async def course_changed(self, code: str, document: SearchDocument | None) -> None:
        """Index a published course (`document`), or remove a retired one (None).

        A failure is logged and marks the index stale (shown by /health) rather than
        failing the catalog write that already happened; `nxce search reindex` or the
        next start repairs it.
        """
        try:
            if document is None:
                await self.backend.delete([code])
            else:
                await self.backend.index([document])
        except Exception:  # the catalog write stands; the index is repaired later
            self.stale = True
            log.exception("search index update failed for course %s; index is stale", code)
