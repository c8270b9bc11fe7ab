"""Start-up migrations of the credit ledger's store (credits/migrations.py): reviews are
kept per judged statement, so the old index of one review per entry is dropped, once."""

from __future__ import annotations

from fastapi import FastAPI
from pymongo import ASCENDING

from credits.migrations import MIGRATIONS
from credits.models import CreditReview
from nxce.core import db, migrations


async def test_the_index_of_one_review_per_entry_is_dropped_once(app: FastAPI) -> None:
    """A store from before issue 13 holds the unique index `entry_unique` on
    credit_reviews.entry_id: the migration drops it and records itself; run again, it
    does nothing. The index per (entry, judged statement) stays."""
    database = app.state.database
    reviews = db.collection(CreditReview)
    await reviews.create_index([("entry_id", ASCENDING)], unique=True, name="entry_unique")
    await database[migrations.COLLECTION].delete_many({})

    assert await migrations.run(database, MIGRATIONS) == ["credits-0001-reviews-per-statement"]

    indexes = await reviews.index_information()
    assert "entry_unique" not in indexes
    assert indexes["entry_source_unique"]["unique"] is True
    assert await migrations.run(database, MIGRATIONS) == []
