"""Migrations of the credit ledger's store, run once at start (nxce.core.migrations)."""

from __future__ import annotations

import uuid
from typing import Any

from pymongo.errors import OperationFailure

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


MIGRATIONS: tuple[Migration, ...] = (
    ("credits-0001-reviews-per-statement", reviews_per_statement),
    ("credits-0002-typed-public-hours-are-record-imports", typed_public_hours_are_record_imports),
)
