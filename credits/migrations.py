"""Migrations of the credit ledger's store, run once at start (nxce.core.migrations)."""

from __future__ import annotations

from typing import Any

from pymongo.errors import OperationFailure

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


MIGRATIONS: tuple[Migration, ...] = (("credits-0001-reviews-per-statement", reviews_per_statement),)
