"""The embedded store answers statement queries from its ordered indexes exactly as a full
scan would (Communication 2.1.3 filters, `since`/`until`, `ascending`, `limit`, the
related-* keys, `more` cursors), reading about a page of statements, not every match."""

from __future__ import annotations

import random
import uuid
from collections import OrderedDict
from typing import Any

import mongomock
import pytest
from mongomock import filtering

from lrs.statements import query
from lrs.statements.models import StatementRecord
from nxce.core import embedded_indexes, embedded_match, embedded_store

VERBS = [
    "http://adlnet.gov/expapi/verbs/completed",
    "http://adlnet.gov/expapi/verbs/attempted",
    "http://adlnet.gov/expapi/verbs/voided",
]
ACTIVITIES = [
    "https://nxce.example/xapi/activities/course/会计-0001",
    "https://nxce.example/xapi/activities/course/卫生-0002",
    "https://nxce.example/xapi/activities/series/卫生",
    "https://nxce.example/xapi/activities/course/WS-0003",
]
AGENTS = [
    "mbox::mailto:zhangwei@nxce.example",
    "account::https://nxce.example::王芳",
    "group::教研组",
]
REGISTRATIONS = [str(uuid.UUID(int=n, version=4)) for n in range(1, 4)]
AUTHORITIES = ["account::https://nxce.example::admin", "account::https://nxce.example::宁夏App"]


def random_record(rng: random.Random, stored_us: int) -> dict[str, Any]:
    agents = rng.sample(AGENTS, rng.randint(1, 2))
    activities = rng.sample(ACTIVITIES, 1)
    return {
        "statement_id": str(uuid.UUID(int=rng.getrandbits(128), version=4)),
        "stored_us": stored_us,
        "document": "{}",
        "voided": rng.random() < 0.2,
        "agents": agents,
        "related_agents": sorted({*agents, *rng.sample(AGENTS, rng.randint(0, 2))}),
        "verbs": [rng.choice(VERBS)],
        "activities": activities,
        "related_activities": sorted({*activities, *rng.sample(ACTIVITIES, rng.randint(0, 2))}),
        "registrations": rng.sample(REGISTRATIONS, rng.randint(0, 1)),
        "authority": rng.choice(AUTHORITIES),
        "projected": False,
    }


def random_query(rng: random.Random, first_us: int, last_us: int) -> query.Query:
    def maybe(values: list[str]) -> str | None:
        return rng.choice(values) if rng.random() < 0.5 else None

    since = rng.randint(first_us - 5, last_us) if rng.random() < 0.3 else None
    until = rng.randint(first_us, last_us + 5) if rng.random() < 0.3 else None
    ascending = rng.random() < 0.5
    return query.Query(
        agent=maybe(AGENTS),
        verb=maybe(VERBS),
        activity=maybe(ACTIVITIES),
        registration=maybe(REGISTRATIONS),
        related_activities=rng.random() < 0.5,
        related_agents=rng.random() < 0.5,
        since_us=since,
        until_us=until,
        limit=rng.choice([1, 2, 10, 50]),
        ascending=ascending,
        through_us=rng.randint(first_us, last_us) if rng.random() < 0.2 else None,
        after_us=rng.randint(first_us, last_us) if rng.random() < 0.2 else None,
    )


def random_visible(rng: random.Random) -> query.Visible:
    choice = rng.random()
    if choice < 0.2:
        return query.Visible(authority=rng.choice(AUTHORITIES))
    if choice < 0.4:
        return query.Visible(agents=frozenset(rng.sample(AGENTS, rng.randint(1, 2))))
    return query.EVERYTHING


class CountingDocuments(OrderedDict[Any, dict[str, Any]]):
    """A collection's documents, counting the reads by id."""

    reads = 0

    def get(self, key: Any, default: Any = None) -> Any:
        self.reads += 1
        return super().get(key, default)


@pytest.fixture
def statements() -> Any:
    embedded_store.speed_up()
    collection = mongomock.MongoClient()["nxce"]["statements"]
    collection.create_indexes(StatementRecord.Settings.indexes)
    return collection


def scan(docs: list[dict[str, Any]], mongo: dict[str, Any], ascending: bool, n: int) -> list[str]:
    """The page a full scan gives: every document matched, sorted, the first `n` kept."""
    matched = [d for d in docs if filtering.filter_applies(mongo, d)]
    matched.sort(key=lambda d: d["stored_us"], reverse=not ascending)
    return [d["statement_id"] for d in matched[:n]]


def test_queries_from_ordered_indexes_equal_a_full_scan(statements: Any) -> None:
    rng = random.Random(16)
    first_us = 1_651_365_000_000_000  # 2022-05-01 08:30 in Beijing, in µs
    statements.insert_many([random_record(rng, first_us + 3 * n) for n in range(1500)])
    last_us = first_us + 3 * 1499
    # Voiding moves statements between keys (voided false -> true) in place.
    voided = [d["statement_id"] for d in statements.find({"voided": False}).limit(40)]
    statements.update_many({"statement_id": {"$in": voided}}, {"$set": {"voided": True}})
    # ... and back, for older ones: filed again in the middle of their lists.
    middle = {"voided": True, "stored_us": {"$lt": first_us + 3 * 700}}
    statements.update_many(middle, {"$set": {"voided": False}})
    docs = list(statements.find())
    planned = 0
    for _ in range(300):
        wanted = random_query(rng, first_us, last_us)
        mongo = query._filter(wanted, random_visible(rng))
        order = 1 if wanted.ascending else -1
        conditions = embedded_match.conditions_of(mongo)
        assert conditions is not None
        if embedded_indexes.ordered_page(statements._store, conditions, [("stored_us", order)]):
            planned += 1
        found = statements.find(mongo).sort("stored_us", order).limit(wanted.limit + 1)
        expected = scan(docs, mongo, wanted.ascending, wanted.limit + 1)
        assert [d["statement_id"] for d in found] == expected, mongo
    assert planned == 300  # every query of the record store has an ordered index


def test_a_page_of_ten_reads_about_ten_statements_of_thousands(statements: Any) -> None:
    rng = random.Random(3)
    statements.insert_many([random_record(rng, 1_000 + n) for n in range(3000)])
    counting = CountingDocuments(statements._store._documents)
    statements._store._documents = counting
    verb = VERBS[0]  # about a third of 3000 use it, some voided
    mongo = query._filter(query.Query(verb=verb, limit=10), query.EVERYTHING)
    page = list(statements.find(mongo).sort("stored_us", -1).limit(11))
    assert len(page) == 11
    # 11 kept, and the voided ones with the verb are not even read: filed under voided true.
    assert counting.reads == 11


def test_a_statement_the_index_cannot_file_makes_it_stand_aside(statements: Any) -> None:
    rng = random.Random(5)
    statements.insert_many([random_record(rng, 1_000 + n) for n in range(50)])
    odd = random_record(rng, 2_000)
    odd["verbs"] = [{"id": VERBS[0]}]  # not a plain value: the verbs index cannot hold it
    statements.insert_one(odd)
    mongo = query._filter(query.Query(verb=VERBS[0]), query.EVERYTHING)
    indexes = embedded_indexes.hash_indexes(statements._store)
    by_verb = next(o for o in indexes.ordered if o.prefix == ("verbs", "voided"))
    assert {indexes.at[slot] for slot in by_verb.irregular} == {odd["_id"]}
    docs = list(statements.find())
    found = [d["statement_id"] for d in statements.find(mongo).sort("stored_us", -1)]
    assert found == scan(docs, mongo, False, len(docs))
    statements.delete_one({"_id": odd["_id"]})
    assert not by_verb.irregular
