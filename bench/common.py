"""What the bench scripts share: percentiles, and the service in process on a fresh
embedded store (the catalog loaded, its search index built before anything is timed)."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

ADMIN = ("bench", "bench-secret-123")


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


@asynccontextmanager
async def embedded_app(prefix: str) -> AsyncIterator[Any]:
    """A started app over a temporary data directory, with the admin client ADMIN."""
    from nxce.app import create_app
    from nxce.settings import Settings

    data = Path(tempfile.mkdtemp(prefix=prefix))
    settings = Settings(
        mongodb_url=None,
        data_dir=data,
        bootstrap_admin=":".join(ADMIN),
        log_level="warning",
        allowed_hosts="bench",  # the host of the in-process clients
    )
    app = create_app(settings)
    try:
        async with app.router.lifespan_context(app):
            await app.state.indexer.wait()  # the index builds at start: not measured
            yield app
    finally:
        shutil.rmtree(data, ignore_errors=True)
