"""Migrations of the credit ledger's store, run once at start (nxce.core.migrations)."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo.errors import OperationFailure

from credits.models import search_keys
from nxce.core import db
from nxce.core.migrations import Migration

OLD_REVIEW_INDEX = "entry_unique"


async def reviews_per_statement(database: Any) -> None:
    """Issue 13 (item 9): reviews are kept per judged statement, unique on (entry_id,
    source_ref); the index of one review per entry, which would refuse the review of a
    later completion of a course, is dropped. Beanie creates the new index; it never
    drops old ones."""
    reviews = database["credit_reviews"]
    if OLD_REVIEW_INDEX not in await reviews.index_information():
        return
    try:
        await reviews.drop_index(OLD_REVIEW_INDEX)
    except OperationFailure:  # another replica dropped it first
        if OLD_REVIEW_INDEX in await reviews.index_information():
            raise


async def typed_public_hours_are_record_imports(database: Any) -> None:
    """Issue 13 (item 8): public hours typed as a `manual` entry are a record import of the
    provincial platform's record (source "unspecified"). Their ledger entries were written
    as kind `manual`: the learners holding one are marked for a recompute, which start-up
    finishes right after the migrations (credits/recompute.py `finish_marks`)."""
    learners = await database["ledger"].distinct(
        "learner_id", {"kind": "manual", "category": "public"}
    )
    for learner_id in sorted(learners):
        await database["credit_recompute_marks"].update_one(
            {"learner_id": learner_id},
            {
                "$set": {
                    "token": uuid.uuid4().hex,
                    "reason": "typed public hours become record imports (issue 13)",
                    "marked_at": db.now(),
                }
            },
            upsert=True,
        )


async def learners_find_keys(database: Any) -> None:
    """Issue 20: learners are found by the first characters of their name and employer
    (`Learner.find_keys`, credits/lookup.py); those registered before keep them from now
    (an erased learner by the employer only)."""
    learners = database["learners"]
    query = {"find_keys": {"$exists": False}}
    found = [raw async for raw in learners.find(query, {"name": 1, "employer": 1, "erased_at": 1})]
    for raw in found:
        name = None if raw.get("erased_at") else raw.get("name")
        keys = search_keys(name, raw.get("employer"))
        await learners.update_one({"_id": raw["_id"]}, {"$set": {"find_keys": keys}})


MIGRATIONS: tuple[Migration, ...] = (
    ("credits-0001-reviews-per-statement", reviews_per_statement),
    ("credits-0002-typed-public-hours-are-record-imports", typed_public_hours_are_record_imports),
    ("credits-0003-learners-find-keys", learners_find_keys),
)
