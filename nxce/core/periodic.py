"""Work repeated in the background of a process: catching up what a request or a process
that stopped left unfinished."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger("nxce")


async def every(
    seconds: float, job: Callable[[], Awaitable[int]], *, done: str, failed: str
) -> None:
    """Run `job` every `seconds` for ever; a failure is logged (`failed`) and tried again
    next time (the store may be away for a moment). `job` answers how many things it
    finished, logged as `done` % count when there were any."""
    while True:
        await asyncio.sleep(seconds)
        try:
            finished = await job()
        except Exception:
            log.exception("%s; trying again in %g s", failed, seconds)
            continue
        if finished:
            log.warning(done, finished)
