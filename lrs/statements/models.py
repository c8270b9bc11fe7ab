"""Beanie documents of the Statement resource, each with the indexes its queries use."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel


def _by_stored(field: str) -> IndexModel:
    """Filter on `field`, visible statements only, newest (or oldest) first."""
    return IndexModel(
        [(field, ASCENDING), ("voided", ASCENDING), ("stored_us", DESCENDING)],
        name=f"{field}_voided_stored",
    )


class StatementRecord(Document):
    """One stored statement: the statement as stored (for `exact`) and what queries need.

    The filter keys hold the statement's own values and, for a statement whose object is
    a StatementRef, those of the statement it targets (recursively), so that one indexed
    query applies Communication 2.1.3's "Filter Conditions for StatementRefs".
    """

    statement_id: str
    stored_us: int  # microseconds since the epoch; strictly increasing, the server's order
    stored: datetime
    document: str  # the statement as stored, as JSON text
    version: str
    voided: bool = False
    voids: str | None = None  # for a voiding statement: the id it voids
    target: str | None = None  # the id of a StatementRef object
    agents: list[str] = Field(default_factory=list)
    related_agents: list[str] = Field(default_factory=list)
    verbs: list[str] = Field(default_factory=list)
    activities: list[str] = Field(default_factory=list)
    related_activities: list[str] = Field(default_factory=list)
    registrations: list[str] = Field(default_factory=list)
    authority: str = ""  # the key of the client that stored it
    privileged: bool = False  # that client held `all`: its voiding reaches any statement
    attachments: list[str] = Field(default_factory=list)
    projected: bool = False  # the credit ledger has taken this statement into account

    class Settings:
        name = "statements"
        indexes = [
            # query.get: one statement by id; store: duplicates of a batch's ids.
            IndexModel([("statement_id", ASCENDING)], unique=True, name="statement_id_unique"),
            # query without filters, and `more` cursors: by stored order.
            IndexModel([("voided", ASCENDING), ("stored_us", DESCENDING)], name="voided_stored"),
            IndexModel([("stored_us", DESCENDING)], unique=True, name="stored_unique"),
            # query filters (agent, related_agents, verb, activity, related_activities,
            # registration) and statements/read/mine (authority).
            _by_stored("agents"),
            _by_stored("related_agents"),
            _by_stored("verbs"),
            _by_stored("activities"),
            _by_stored("related_activities"),
            _by_stored("registrations"),
            _by_stored("authority"),
            # store: statements that target a statement arriving now (filter propagation).
            IndexModel([("target", ASCENDING)], name="target"),
            # store: voiding statements that arrived before their target.
            IndexModel([("voids", ASCENDING)], name="voids"),
            # credits.catch_up: statements the ledger has not taken into account yet.
            IndexModel([("projected", ASCENDING)], name="projected"),
        ]


# The stored fields of a record, in the order Beanie writes them (no `_id`: the driver
# assigns it; no `revision_id`: not used).
_RAW_FIELDS = tuple(n for n in StatementRecord.model_fields if n not in ("id", "revision_id"))


def raw_document(record: StatementRecord) -> dict[str, Any]:
    """A new record as the driver inserts it: what `db.new_document` answers, without
    Beanie's generic encoder (a tenth of the time; every field is a plain BSON value).
    tests/lrs/test_statements_write.py holds the two equal."""
    values = record.__dict__  # the fields' values, without the lazy model's attribute hook
    return {name: values[name] for name in _RAW_FIELDS}


class AttachmentRecord(Document):
    """The raw data of an attachment, once per sha2 (statements refer to it by hash)."""

    sha2: str
    content_type: str
    length: int
    data: bytes

    class Settings:
        name = "attachments"
        # query: attachments of the statements a query returns, by hash.
        indexes = [IndexModel([("sha2", ASCENDING)], unique=True, name="sha2_unique")]


class Counter(Document):
    """Server sequences: `statements` holds the last `stored` time handed out (in µs)."""

    id: str  # type: ignore[assignment]
    value: int = 0

    class Settings:
        name = "lrs_counters"


class Ticket(Document):
    """`stored` values a batch took and has not finished writing (lrs/statements/sequence.py):
    the statements from `first` on may not be visible yet. Removed when the batch's
    statements are written, or abandoned once `expires_us` has passed."""

    id: str  # type: ignore[assignment]
    first: int  # the lowest value the batch may hold (a bound: the counter's value + 1)
    expires_us: int  # µs since the epoch; later, anyone may abandon the ticket

    class Settings:
        name = "lrs_tickets"
        # sequence.high_water: the lowest ticket.
        indexes = [IndexModel([("first", ASCENDING)], name="first")]


DOCUMENTS = (StatementRecord, AttachmentRecord, Counter, Ticket)
