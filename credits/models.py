"""Beanie documents of learners and credit hours.

Sources (what people and statements said) and the ledger (what they are worth) are kept
apart: `ManualCredit` and `CreditReview` are written once by admins and auditors, stored
statements are the other source, and `LedgerEntry` rows are computed from them, so the
whole ledger can be rebuilt and must come out the same (`nxce credits rebuild`).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, IndexModel


class TitleLevel(StrEnum):
    none = "none"
    junior = "junior"
    intermediate = "intermediate"
    deputy_senior = "deputy_senior"
    senior = "senior"


class Degree(StrEnum):
    bachelor = "bachelor"
    master = "master"
    doctor = "doctor"
    other = "other"


TITLE_ORDER = tuple(TitleLevel)  # from none to senior: a title history never goes down


class TitleRecord(BaseModel):
    """A title a learner obtained, and when (None: not recorded). The tenure of a title
    (任职期, §一(三)3) runs from its date to the next record's."""

    level: TitleLevel
    obtained_on: date | None = None


def backfill_titles(data: Any) -> Any:
    """A stored learner without `titles` (written before the title history) reads as one
    record of its current title; one without a title (`none`) has an empty history."""
    if not isinstance(data, dict) or data.get("titles"):
        return data
    level = data.get("title_level")
    if level is None or level == TitleLevel.none.value:
        return data
    record = {"level": level, "obtained_on": as_date(data.get("title_obtained_on"))}
    return {**data, "titles": [record]}


KEY_CHARS = 4  # the first characters of a name or an employer a learner is found by


def search_keys(name: str | None, employer: str | None) -> list[str]:
    """What a learner of this name and employer is found by: "n:" and "e:" and each of
    their first one to `KEY_CHARS` characters (none for an erased name: None)."""
    keys = []
    for tag, text in (("n", name), ("e", employer)):
        text = (text or "").strip()
        keys += [f"{tag}:{text[:n]}" for n in range(1, min(len(text), KEY_CHARS) + 1)]
    return keys


class Learner(Document):
    """A professional (专业技术人员) with a platform account; the national id number is
    kept encrypted, with a keyed digest to find duplicates and a masked form to show.

    An erased learner (`erased_at`, see credits/personal.py) keeps no personal data: the
    name and masked number are placeholders, the encrypted number is gone and the digest
    is a random one that no id number has."""

    learner_id: str
    name: str
    id_number_encrypted: str | None
    id_number_digest: str
    id_number_masked: str
    employer: str
    series: str | None
    title_level: TitleLevel
    title_obtained_on: date | None = None
    # Every title obtained, oldest first; `title_level` / `title_obtained_on` are the last.
    titles: list[TitleRecord] = Field(default_factory=list)
    degree: Degree
    email: str | None = None
    # A mobile number (credits/phones.py), like the id number: encrypted, a keyed digest
    # (unique where present: learners sign in with it) and a masked form; None: none given.
    phone_encrypted: str | None = None
    phone_digest: str | None = None
    phone_masked: str | None = None
    # The first 1-4 characters of the name ("n:张", "n:张伟") and of the employer ("e:宁"…):
    # what credits/lookup.py finds learners by (kept with the name and the employer).
    find_keys: list[str] = Field(default_factory=list)
    revision: int = 1
    created_at: datetime
    updated_at: datetime
    erased_at: datetime | None = None

    class Settings:
        name = "learners"
        indexes = [
            # learners.get: one learner by id; id numbers are unique people.
            IndexModel([("learner_id", ASCENDING)], unique=True, name="learner_unique"),
            IndexModel([("id_number_digest", ASCENDING)], unique=True, name="id_number_unique"),
            # A phone number is one learner's (accounts sign in with it). Most learners have
            # none: MongoDB would count every null as the same key, so the index holds only
            # the documents whose digest is a string (a partial index).
            IndexModel(
                [("phone_digest", ASCENDING)],
                unique=True,
                name="phone_unique",
                partialFilterExpression={"phone_digest": {"$type": "string"}},
            ),
            # transcript exports: the learners of an employer, of a series.
            IndexModel([("employer", ASCENDING)], name="employer"),
            # the admin's find (credits/lookup.py): a prefix of the name, or of the
            # employer, a page at a time in this order; `find_keys` (the first characters
            # of both) narrows it where prefixes are no index range (the embedded store).
            IndexModel([("name", ASCENDING), ("learner_id", ASCENDING)], name="name_learner"),
            IndexModel([("find_keys", ASCENDING), ("name", ASCENDING)], name="find_keys"),
            IndexModel(
                [("employer", ASCENDING), ("name", ASCENDING), ("learner_id", ASCENDING)],
                name="employer_name_learner",
            ),
            IndexModel([("series", ASCENDING)], name="series"),
        ]

    @model_validator(mode="before")
    @classmethod
    def _titles_backfilled(cls, data: Any) -> Any:
        """Learners stored before the title history read with one (MongoDB and embedded
        alike); `nxce`'s next write of the learner stores it."""
        return backfill_titles(data)


class EntryStatus(StrEnum):
    counted = "counted"
    pending_review = "pending_review"
    reversed = "reversed"
    # dated where no installed policy has the rule for it: recorded, not counted, counted
    # once a policy covering it is installed (status_reason: "no policy covers 2023 yet")
    awaiting_policy = "awaiting_policy"


class ManualCredit(Document):
    """A manual entry as an admin or auditor recorded it (§一(三)): the source of one
    ledger entry, converted by the policy in force on its date."""

    entry_id: str
    learner_id: str
    kind: str
    details: dict[str, Any]
    description: str | None = None
    evidence: str | None = None
    recorded_by: str
    recorded_at: datetime

    class Settings:
        name = "manual_credits"
        # ledger.rebuild and ledger.add: a learner's manual entries.
        indexes = [
            IndexModel([("entry_id", ASCENDING)], unique=True, name="entry_unique"),
            IndexModel([("learner_id", ASCENDING)], name="learner"),
        ]


class CreditReview(Document):
    """An auditor's decision on a pending entry, tied to the source it judged: one per
    judged statement, so a later completion of a course whose earlier one was rejected
    is judged (and credited) on its own."""

    entry_id: str
    source_ref: str  # the statement id (or manual entry id) that was judged
    decision: str  # approve | reject
    reason: str
    decided_by: str
    decided_at: datetime

    class Settings:
        name = "credit_reviews"
        # projector: the decisions on an entry, one per judged statement. The index of
        # one decision per entry ("entry_unique") is dropped by credits/migrations.py.
        indexes = [
            IndexModel(
                [("entry_id", ASCENDING), ("source_ref", ASCENDING)],
                unique=True,
                name="entry_source_unique",
            )
        ]


class LedgerEntry(Document):
    """One line of a learner's record: hours of a category in a year, why, and from what."""

    entry_id: str
    learner_id: str
    year: int
    occurred_on: date
    category: str  # public | professional
    hours: float
    kind: str  # completion, or the manual kind
    source_kind: str  # statement | manual
    source_ref: str  # the statement id, or the manual entry id
    source: dict[str, Any] = Field(default_factory=dict)  # course or manual details, evidence
    clause: str
    policy_id: str
    status: EntryStatus
    status_reason: str | None = None
    meets: str | None = None  # "window" (§一(三)1 degree) or "professional" (§一(三)3)
    valid_through: date | None = None  # §一(三)2 exam substitutions end with 2022
    recorded_by: str
    recorded_at: datetime
    review: dict[str, Any] | None = None

    class Settings:
        name = "ledger"
        indexes = [
            IndexModel([("entry_id", ASCENDING)], unique=True, name="entry_unique"),
            # ledger.entries and audit: a learner's entries by year.
            IndexModel([("learner_id", ASCENDING), ("year", ASCENDING)], name="learner_year"),
            # figures.registered: entries recorded since a moment (the admin's overview).
            IndexModel([("recorded_at", ASCENDING)], name="recorded_at"),
            # figures.waiting: entries pending review or awaiting a policy.
            IndexModel([("status", ASCENDING)], name="status"),
        ]


def as_date(value: Any) -> Any:
    """A day as stored (MongoDB keeps dates as datetimes) back as a date."""
    return value.date() if isinstance(value, datetime) else value


@dataclass(frozen=True, slots=True)
class AuditedEntry:
    """What the audit reads of a ledger entry: read straight from the store for a
    learner's whole ledger, without building (and validating) a LedgerEntry per row."""

    entry_id: str
    year: int
    occurred_on: date
    category: str
    hours: float
    kind: str
    clause: str
    status: EntryStatus
    meets: str | None
    valid_through: date | None
    source: dict[str, Any]
    status_reason: str | None = None
    source_kind: str = "manual"

    @classmethod
    def from_document(cls, document: dict[str, Any]) -> AuditedEntry:
        day = as_date
        return cls(
            entry_id=document["entry_id"],
            year=int(document["year"]),
            occurred_on=day(document["occurred_on"]),
            category=document["category"],
            hours=float(document["hours"]),
            kind=document["kind"],
            clause=document["clause"],
            status=EntryStatus(document["status"]),
            meets=document.get("meets"),
            valid_through=day(document.get("valid_through")),
            source=document.get("source") or {},
            status_reason=document.get("status_reason"),
            source_kind=document.get("source_kind") or "manual",
        )


AUDITED_FIELDS = tuple(f.name for f in fields(AuditedEntry))


class EventKind(StrEnum):
    id_number_view = "id_number_view"  # a full id number was shown (PIPL)
    id_number_conflict = "id_number_conflict"  # a registration named another's id number
    erasure = "erasure"  # a learner's personal data was erased on request (PIPL)
    phone_conflict = "phone_conflict"  # a registration named another's phone number
    roster_import = "roster_import"  # learners registered from a roster file (accounts/)
    # an admin looked a learner up by a full id number (the number is not kept)
    id_number_lookup = "id_number_lookup"


class AuditEvent(Document):
    """One line of the audit trail of personal data: who (client key), when, which learner
    record, what; written once, read by auditors and admins (`GET /audit/events`)."""

    kind: EventKind
    at: datetime
    by: str
    learner_id: str
    detail: dict[str, Any] = Field(default_factory=dict)

    class Settings:
        name = "audit_events"
        indexes = [
            # trail.events: newest first, of a kind, of a learner.
            IndexModel([("at", ASCENDING)], name="at"),
            IndexModel([("kind", ASCENDING), ("at", ASCENDING)], name="kind_at"),
            IndexModel([("learner_id", ASCENDING), ("at", ASCENDING)], name="learner_at"),
        ]


class ConflictWindow(Document):
    """What credits/personal.py throttles, counted per client and time window in the store
    (so that it holds across replicas): id-number conflicts and registrations in flight
    (`client|minute`), and id-number lookups (`lookup|client|window`)."""

    key: str  # client key and window
    client: str
    held: int  # conflicts (and registrations being written), or lookups, this window
    expires_at: datetime

    class Settings:
        name = "id_number_conflict_windows"
        indexes = [
            IndexModel([("key", ASCENDING)], unique=True, name="key_unique"),
            IndexModel([("expires_at", ASCENDING)], expireAfterSeconds=0, name="expiry"),
        ]


class AuditConclusion(Document):
    """An auditor's conclusion (审验结论) on a learner's audit of an application at a level
    in a year: approve or reject, with the reason, and the verdict it saw (the audit
    answer as JSON) with a fingerprint of what that verdict was computed from. Written
    once and never changed: the newest of a learner, level and year is the current one,
    the earlier ones stay (see credits/conclusions.py)."""

    conclusion_id: str
    learner_id: str
    level: str
    year: int  # the application year audited
    decision: str  # approve | reject
    reason: str
    verdict: dict[str, Any]  # the AuditRead it saw, as the API answered it
    fingerprint: str  # sha256 of the audited entries and the learner's title (conclusions)
    concluded_by: str  # the client key
    concluded_by_name: str  # the client's name, as the pages and transcripts show it
    concluded_at: datetime

    class Settings:
        name = "audit_conclusions"
        indexes = [
            IndexModel([("conclusion_id", ASCENDING)], unique=True, name="conclusion_unique"),
            # conclusions.current and .history: a learner's, newest last.
            IndexModel(
                [
                    ("learner_id", ASCENDING),
                    ("level", ASCENDING),
                    ("year", ASCENDING),
                    ("concluded_at", ASCENDING),
                ],
                name="learner_level_year_at",
            ),
        ]


class RecomputeMark(Document):
    """A learner whose ledger must be recomputed (a base they trained at changed status,
    §三; a policy now covers entries that waited for one): written before the change it
    follows and removed once the recompute is written, so a process that dies in between
    leaves the mark for start-up, the keep-up loop or `nxce credits rebuild` to finish.
    In the store, so that it holds across replicas."""

    learner_id: str
    token: str  # renewed by every marking: a recompute removes only the mark it read
    reason: str
    marked_at: datetime
    # What the recompute's changes are kept under (LedgerChange.cause), e.g. a base
    # decision; None: not kept. A later marking replaces it, as it replaces the reason.
    cause: str | None = None

    class Settings:
        name = "credit_recompute_marks"
        indexes = [IndexModel([("learner_id", ASCENDING)], unique=True, name="learner_unique")]


class LedgerChange(Document):
    """One ledger entry a recompute changed (its hours, its status, or it came or went),
    kept under the cause of the recompute, e.g. a base's status decision (§三), so the
    administrator who recorded it sees whose hours it moved. Written with the ledger's
    swap, in the same transaction; only inserted."""

    cause: str
    learner_id: str
    entry_id: str
    kind: str
    occurred_on: date
    category: str
    hours_before: float | None  # None: the entry is new
    hours_after: float | None  # None: the entry is gone
    status_before: EntryStatus | None
    status_after: EntryStatus | None
    reason_after: str | None = None
    changed_at: datetime

    class Settings:
        name = "ledger_changes"
        indexes = [
            # recompute.changes / changes_count: a cause's changes, by learner and entry.
            IndexModel(
                [("cause", ASCENDING), ("learner_id", ASCENDING), ("entry_id", ASCENDING)],
                name="cause_learner_entry",
            )
        ]


DOCUMENTS = (
    Learner,
    ManualCredit,
    CreditReview,
    LedgerEntry,
    AuditEvent,
    ConflictWindow,
    AuditConclusion,
    RecomputeMark,
    LedgerChange,
)
