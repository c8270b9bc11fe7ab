"""Versioned start-up migrations: each runs once per store, in order, and is recorded in
the `migrations` collection by name. A step must be idempotent: two replicas starting at
once may both run it before either records it.

A store that records a migration this code does not know was written by a newer version:
the start stops (`NewerStore`) before anything runs, rather than serve data whose shape
it does not know. Names are never reused or removed from the lists, so that every name a
store may record stays known to every later version.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from nxce.core import db

Step = Callable[[Any], Awaitable[None]]  # given the database
Migration = tuple[str, Step]

COLLECTION = "migrations"


class NewerStore(RuntimeError):
    """The store records migrations this version does not know."""


async def recorded(database: Any) -> list[str]:
    """The names of the migrations `database` records, in the order they were applied."""
    found = await database[COLLECTION].find({}, {"_id": 1, "applied_at": 1}).to_list(None)
    found.sort(key=lambda row: (row.get("applied_at") is None, row.get("applied_at"), row["_id"]))
    return [row["_id"] for row in found]


async def check_known(database: Any, migrations: Sequence[Migration]) -> None:
    """Raise `NewerStore` when `database` records a migration not in `migrations`."""
    known = {name for name, _ in migrations}
    unknown = [name for name in await recorded(database) if name not in known]
    if unknown:
        raise NewerStore(
            f"the store records {len(unknown)} migration(s) this version of nxce does not "
            f"know: {', '.join(unknown)}. It was written by a newer version: start that "
            "version, or restore a backup taken before the upgrade (docs/operations.md, "
            "'Upgrades'). Nothing was migrated."
        )


async def run(database: Any, migrations: Sequence[Migration]) -> list[str]:
    """Run the migrations not yet recorded in `database`; answers the names it ran.
    Raises `NewerStore`, running nothing, when the store records one not in the list."""
    names = [name for name, _ in migrations]
    if len(set(names)) != len(names):
        raise ValueError(f"migration names must be unique: {names}")
    await check_known(database, migrations)
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
