"""Start-up migrations of the credit ledger's store (credits/migrations.py): reviews are
kept per judged statement, so the old index of one review per entry is dropped, once;
public hours typed before record imports existed become record imports; learners get the
keys the admin's find reads."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from pymongo import ASCENDING

from credits import lookup, recompute
from credits.migrations import MIGRATIONS
from credits.models import CreditReview, Learner, LedgerEntry, RecomputeMark
from nxce.core import db, migrations
from tests.conftest import ADMIN
from tests.credits.conftest import entry, ledger, manual, register

ALL = [name for name, _ in MIGRATIONS]


async def test_the_index_of_one_review_per_entry_is_dropped_once(app: FastAPI) -> None:
    """A store from before issue 13 holds the unique index `entry_unique` on
    credit_reviews.entry_id: the migration drops it and records itself; run again, it
    does nothing. The index per (entry, judged statement) stays."""
    database = app.state.database
    reviews = db.collection(CreditReview)
    await reviews.create_index([("entry_id", ASCENDING)], unique=True, name="entry_unique")
    await database[migrations.COLLECTION].delete_many({})

    assert await migrations.run(database, MIGRATIONS) == ALL

    indexes = await reviews.index_information()
    assert "entry_unique" not in indexes
    assert indexes["entry_source_unique"]["unique"] is True
    assert await migrations.run(database, MIGRATIONS) == []


async def test_typed_public_hours_of_an_older_store_become_record_imports(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """§一(一), issue 13 item 8: 30 public hours typed in 2021 were written, before record
    imports, as a ledger entry of kind `manual`. The migration marks 张伟 for a recompute
    and start-up's `finish_marks` rewrites the entry as a record import from an
    unspecified source, with the same 30 hours; run again, the migration does nothing."""
    await register(client)
    typed = await entry(client, manual("2021-10-01", "public", 30))
    await db.collection(LedgerEntry).update_one(  # the entry as the older service wrote it
        {"entry_id": typed["id"]}, {"$set": {"kind": "manual", "source.source": None}}
    )
    database = app.state.database
    await database[migrations.COLLECTION].delete_many({})

    assert await migrations.run(database, MIGRATIONS) == ALL
    assert await RecomputeMark.find_all().count() == 1
    assert await recompute.finish_marks(credits=app.state.credits) == 1

    [migrated] = await ledger(client)
    assert (migrated["kind"], migrated["hours"], migrated["category"]) == (
        "record_import",
        30,
        "public",
    )
    assert migrated["source"]["source"] == "unspecified"
    assert await migrations.run(database, MIGRATIONS) == []


async def test_learners_of_an_older_store_get_their_find_keys(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Issue 20: learners stored before the admin's find have no `find_keys`; the
    migration gives them those of their name and employer (an erased one the employer's
    only), and the find by the beginning of a name finds them."""
    await register(client, name="马晓燕")
    await register(client, "lixiuying", "李秀英", "124", employer="宁夏医科大学总医院")
    erased = await client.post(
        "/learners/lixiuying/erasure", json={"reason": "本人申请"}, headers=ADMIN
    )
    assert erased.status_code == 200
    learners = db.collection(Learner)
    await learners.update_many({}, {"$unset": {"find_keys": ""}})  # as the older service
    assert await lookup.find(text="马", field="name") == lookup.Found([], 1, False)
    database = app.state.database
    await database[migrations.COLLECTION].delete_many({})

    assert await migrations.run(database, MIGRATIONS) == ALL
    found = await lookup.find(text="马晓", field="name")
    assert [learner.learner_id for learner in found.learners] == ["zhangwei"]
    erased_keys = (await learners.find_one({"learner_id": "lixiuying"}))["find_keys"]
    assert erased_keys == ["e:宁", "e:宁夏", "e:宁夏医", "e:宁夏医科"]
    assert await migrations.run(database, MIGRATIONS) == []
