"""Versioned start-up migrations: each runs once per store, in order, and is recorded in
the `migrations` collection by name. A step must be idempotent: two replicas starting at
once may both run it before either records it."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nxce.core import db

Step = Callable[[Any], Awaitable[None]]  # given the database
Migration = tuple[str, Step]

COLLECTION = "migrations"


async def run(database: Any, migrations: Sequence[Migration]) -> list[str]:
    """Run the migrations not yet recorded in `database`; answers the names it ran."""
    done = database[COLLECTION]
    ran = []
    for name, step in migrations:
        if await done.find_one({"_id": name}) is not None:
            continue
        await step(database)
        with contextlib.suppress(db.DuplicateKeyError):  # another replica recorded it first
            await done.insert_one({"_id": name, "applied_at": db.now()})
        ran.append(name)
    return ran
