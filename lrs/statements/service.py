"""Storing and retrieving statements: async, keyword-only, no web framework.

    statement in -> validate -> store once (id is the key; same id and same content is a
    no-op, different content is 409) -> query

A batch is all or nothing: every statement is validated, every attachment found, every
signature checked and every id compared before anything is written, and the writes of a
batch form one transaction where MongoDB runs them. `stored` comes from a server sequence,
so it strictly increases in the order statements are stored.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
import weakref
from collections import Counter as Tally
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pymongo import ReturnDocument

from lrs import directory, identity
from lrs.statements import compare, primitives, signatures
from lrs.statements.models import AttachmentRecord, Counter, StatementRecord
from lrs.statements.multipart import Part
from lrs.statements.validation.statement import VOIDED, validate
from lrs.statements.validation.values import StatementInvalid
from lrs.versions import XapiVersion
from nxce.core import db
from nxce.core.errors import BadRequest, Conflict, Forbidden, NotFound, PayloadTooLarge

MAX_BATCH = 1000  # statements in one request; more is 413
MAX_LIMIT = 500  # statements in one page of a query
MAX_STATEMENT_BYTES = 1 << 20  # one statement as stored, in UTF-8; more is 413
MAX_PAGE_BYTES = 8 << 20  # characters of the statements of one page; the rest follow in `more`
MAX_PAGE_ATTACHMENT_BYTES = 16 << 20  # attachment data sent with one page
_write_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


# The first `stored` value of the batch being written now, per event loop: statements
# from it on may not be visible yet, so Consistent-Through and first pages stop before it.
_pending: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, int] = weakref.WeakKeyDictionary()


def _write_lock() -> asyncio.Lock:
    """One statement writer at a time within a process (and event loop)."""
    loop = asyncio.get_running_loop()
    lock = _write_locks.get(loop)
    if lock is None:
        lock = _write_locks[loop] = asyncio.Lock()
    return lock


@dataclass
class Writer:
    """Who stores: the authority the LRS records, and its key for `statements/read/mine`."""

    authority: dict[str, Any]
    # Holds `all` (or admin): may void, and re-send, statements other clients stored.
    privileged: bool = False
    # A client bound to a learner (the app acting as them): the keys of that learner's
    # account; every statement it stores must have that learner as its actor.
    acting_as: frozenset[str] | None = None

    @property
    def key(self) -> str:
        return identity.ifi_key(self.authority) or ""


# --- preparing statements -------------------------------------------------------------


def _context_arrays(statement: dict[str, Any]) -> None:
    """Data 2.4.6.2: contextActivities are returned as arrays, even of one."""
    context = statement.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        context["contextActivities"] = {
            key: item if isinstance(item, list) else [item]
            for key, item in context["contextActivities"].items()
        }
    target = statement.get("object")
    if isinstance(target, dict) and target.get("objectType") == "SubStatement":
        _context_arrays(target)


def _prepare(
    raw: dict[str, Any], version: XapiVersion, writer: Writer, stored_text: str | None
) -> dict[str, Any]:
    """The statement as it will be stored: id, timestamp, stored, authority and version
    set by the LRS (Data 2.4.1, 2.4.7-2.4.10)."""
    statement: dict[str, Any] = json.loads(json.dumps(raw))
    statement.setdefault("id", str(uuid.uuid4()))
    if version.is_2 and "timestamp" in statement:
        statement["timestamp"] = primitives.utc_text(statement["timestamp"])
    if stored_text is not None:
        statement.setdefault("timestamp", stored_text)
        statement["stored"] = stored_text
    statement["authority"] = writer.authority
    statement.setdefault("version", "2.0.0" if version.is_2 else "1.0.0")
    _context_arrays(statement)
    return statement


# --- filter keys ----------------------------------------------------------------------


@dataclass
class Keys:
    """What queries match a statement by (its own, before StatementRef propagation)."""

    agents: set[str] = field(default_factory=set)
    related_agents: set[str] = field(default_factory=set)
    verbs: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    related_activities: set[str] = field(default_factory=set)
    registrations: set[str] = field(default_factory=set)

    def merge(self, other: Keys) -> None:
        for name in vars(self):
            getattr(self, name).update(getattr(other, name))

    def fields(self) -> dict[str, list[str]]:
        return {name: sorted(values) for name, values in vars(self).items()}


def _activity_ids(context: Any) -> set[str]:
    found = set()
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        for items in context["contextActivities"].values():
            for activity in items if isinstance(items, list) else [items]:
                if isinstance(activity, dict) and "id" in activity:
                    found.add(activity["id"])
    return found


def _context_agents(context: Any) -> set[str]:
    found: set[str] = set()
    if not isinstance(context, dict):
        return found
    for key in ("instructor", "team"):
        found |= identity.keys(context.get(key))
    for item in context.get("contextAgents") or []:
        found |= identity.keys(item.get("agent"))
    for item in context.get("contextGroups") or []:
        found |= identity.keys(item.get("group"))
    return found


def own_keys(statement: dict[str, Any]) -> Keys:
    """Communication 2.1.3: the agent, verb, activity and registration filters, plain and
    `related_*`, as they apply to this statement alone."""
    keys = Keys()
    target = statement.get("object") or {}
    kind = target.get("objectType", "Activity")
    keys.agents |= identity.keys(statement.get("actor"))
    if kind in ("Agent", "Group"):
        keys.agents |= identity.keys(target)
    keys.verbs.add(statement["verb"]["id"])
    if kind == "Activity":
        keys.activities.add(target["id"])
    keys.related_agents |= keys.agents | identity.keys(statement.get("authority"))
    keys.related_agents |= _context_agents(statement.get("context"))
    keys.related_activities |= keys.activities | _activity_ids(statement.get("context"))
    if kind == "SubStatement":
        inner = target.get("object") or {}
        keys.related_agents |= identity.keys(target.get("actor"))
        keys.related_agents |= _context_agents(target.get("context"))
        if inner.get("objectType") in ("Agent", "Group"):
            keys.related_agents |= identity.keys(inner)
        if inner.get("objectType", "Activity") == "Activity" and "id" in inner:
            keys.related_activities.add(inner["id"])
        keys.related_activities |= _activity_ids(target.get("context"))
    context = statement.get("context")
    if isinstance(context, dict) and isinstance(context.get("registration"), str):
        keys.registrations.add(context["registration"].lower())
    return keys


def _target_of(statement: dict[str, Any]) -> str | None:
    target = statement.get("object") or {}
    if target.get("objectType") == "StatementRef":
        return str(target["id"]).lower()
    return None


def _keys_of(record: StatementRecord) -> Keys:
    return Keys(
        set(record.agents),
        set(record.related_agents),
        set(record.verbs),
        set(record.activities),
        set(record.related_activities),
        set(record.registrations),
    )


# --- the server sequence --------------------------------------------------------------


async def _reserve(count: int, session: Any) -> int:
    """Reserve `count` consecutive `stored` values (µs); answers the first.

    Two steps on one counter document: raise it to the clock, then add `count`. Every
    value handed out is distinct and later than every value handed out before it.
    """
    now_us = int(time.time() * 1_000_000)
    counters = db.collection(Counter)
    await counters.update_one(
        {"_id": "statements"}, {"$max": {"value": now_us}}, upsert=True, session=session
    )
    after = await counters.find_one_and_update(
        {"_id": "statements"},
        {"$inc": {"value": count}},
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return int(after["value"]) - count + 1


def _time_of(stored_us: int) -> datetime:
    return datetime.fromtimestamp(stored_us / 1_000_000, UTC)


# --- storing --------------------------------------------------------------------------


def _attachments_of(statement: dict[str, Any]) -> list[dict[str, Any]]:
    found = list(statement.get("attachments") or [])
    target = statement.get("object") or {}
    if target.get("objectType") == "SubStatement":
        found += list(target.get("attachments") or [])
    return found


def _check_attachments(
    statements: Sequence[dict[str, Any]], parts: dict[str, Part], multipart: bool, paths: list[str]
) -> set[str]:
    """Communication 1.5.2: every attachment has a fileUrl or its data among the parts;
    signatures (Data 2.6) verify. Answers the sha2 of the data to keep."""
    used: set[str] = set()
    for statement, path in zip(statements, paths, strict=True):
        for i, attachment in enumerate(_attachments_of(statement)):
            sha2 = str(attachment["sha2"]).lower()
            if sha2 in parts:
                used.add(sha2)
            elif "fileUrl" not in attachment or signatures.is_signature(attachment):
                where = f"{path}.attachments[{i}]"
                if not multipart:
                    raise BadRequest(
                        f"{where}: has no fileUrl; send its data as a "
                        "multipart/mixed part (Communication 1.5.2)"
                    )
                raise BadRequest(
                    f"{where}: no part has X-Experience-API-Hash {sha2} and it "
                    "has no fileUrl (Communication 1.5.2)"
                )
            if signatures.is_signature(attachment):
                if attachment.get("contentType") != signatures.SIGNATURE_CONTENT_TYPE:
                    raise BadRequest(
                        f"{path}.attachments[{i}].contentType: a signature is "
                        "application/octet-stream (Data 2.6)"
                    )
                try:
                    signatures.verify(statement, parts[sha2].body)
                except signatures.SignatureInvalid as error:
                    raise BadRequest(f"{path}: {error} (Data 2.6)") from None
    unused = set(parts) - used
    if unused:
        raise BadRequest(
            f"the part with X-Experience-API-Hash {sorted(unused)[0]} belongs to no "
            "attachment of the statements (Communication 1.5.2)"
        )
    return used


async def store(
    *,
    statements: Sequence[Any],
    version: XapiVersion,
    writer: Writer,
    parts: dict[str, Part] | None = None,
    multipart: bool = False,
    single: bool = False,
) -> list[str]:
    """Store a batch; answers the ids of its statements in order. All or nothing."""
    parts = parts or {}
    if len(statements) > MAX_BATCH:
        raise PayloadTooLarge(
            f"a batch holds at most {MAX_BATCH} statements, got {len(statements)}"
        )
    paths = ["statement" if single else f"statements[{i}]" for i in range(len(statements))]
    for statement, path in zip(statements, paths, strict=True):
        try:
            validate(statement, version, path)
        except StatementInvalid as error:
            raise BadRequest(str(error)) from None
    if writer.acting_as is not None:
        for statement, path in zip(statements, paths, strict=True):
            actor = statement["actor"]
            if actor.get("objectType") == "Group":
                raise Forbidden(
                    f"{path}.actor: this client acts for one learner only: the actor is that "
                    "learner, not a Group"
                )
            if identity.ifi_key(actor) not in writer.acting_as:
                raise Forbidden(
                    f"{path}.actor: this client acts for one learner only, and this actor "
                    "is someone else"
                )
    ids = [str(s["id"]).lower() if "id" in s else str(uuid.uuid4()) for s in statements]
    repeated = next((i for i, n in Tally(ids).items() if n > 1), None)
    if repeated is not None:
        raise BadRequest(
            f"the batch holds statement id {repeated} more than once (Communication 2.1.2)"
        )
    prepared = [dict(s, id=s.get("id", new)) for s, new in zip(statements, ids, strict=True)]
    used = _check_attachments(prepared, parts, multipart, paths)
    for attempt in range(3):
        try:
            async with _write_lock():
                try:
                    await db.atomic(
                        lambda session: _write(prepared, ids, version, writer, parts, used, session)
                    )
                finally:
                    _pending.pop(asyncio.get_running_loop(), None)
            return [str(s["id"]) for s in prepared]
        except db.DuplicateKeyError:
            if attempt == 2:
                raise
            # Another instance stored one of these ids in the meantime: compare again.
    raise AssertionError("unreachable")


async def _write(
    prepared: list[dict[str, Any]],
    ids: list[str],
    version: XapiVersion,
    writer: Writer,
    parts: dict[str, Part],
    used: set[str],
    session: Any,
) -> None:
    existing = {
        r.statement_id: r
        for r in await StatementRecord.find(
            {"statement_id": {"$in": ids}}, session=session
        ).to_list()
    }
    fresh = []
    resent_voiding = set()
    for statement, statement_id in zip(prepared, ids, strict=True):
        record = existing.get(statement_id)
        if record is None:
            fresh.append((statement, statement_id))
        elif record.authority != writer.key and not writer.privileged:
            # Not compared: the answer would tell another client's statement's content.
            raise Conflict(
                f"statement {statement_id} is already stored, by another client "
                "(Communication 2.1.1)"
            )
        elif not compare.same(json.loads(record.document), statement):
            raise Conflict(
                f"statement {statement_id} is already stored with different "
                "content (Communication 2.1.1)"
            )
        elif record.voids is not None:
            resent_voiding.add(record.voids)
    if resent_voiding:
        # A voiding statement sent again: make sure its target is voided (the first
        # attempt may have stopped between the two writes where there are no transactions).
        await db.collection(StatementRecord).update_many(
            {"statement_id": {"$in": sorted(resent_voiding)}, "voids": None},
            {"$set": {"voided": True}},
            session=session,
        )
    if not fresh:
        return
    batch_ids = {statement_id for _, statement_id in fresh}
    targets = {t for s, _ in fresh if (t := _target_of(s))}
    known = {
        r.statement_id: r
        for r in await StatementRecord.find(
            {"statement_id": {"$in": sorted(targets)}}, session=session
        ).to_list()
    }
    for statement, _ in fresh:
        if statement["verb"]["id"] != VOIDED:
            continue
        target = _target_of(statement)
        voiding = known.get(target or "")
        if voiding is not None and voiding.authority != writer.key and not writer.privileged:
            raise Forbidden(
                f"statement {target} was stored by another client; voiding it needs the `all` scope"
            )
        in_batch = next((s for s, i in fresh if i == target), None)
        if (voiding is not None and voiding.voids is not None) or (
            in_batch is not None and in_batch["verb"]["id"] == VOIDED
        ):
            raise BadRequest(
                f"statement {target} voids another statement, and a voiding "
                "statement cannot be voided (Data 2.3.2)"
            )
    first = await _reserve(len(fresh), session)
    _pending[asyncio.get_running_loop()] = first
    records = []
    own: dict[str, Keys] = {}
    by_id: dict[str, dict[str, Any]] = {}
    for offset, (statement, statement_id) in enumerate(fresh):
        stored_us = first + offset
        stored_text = primitives.format_timestamp(_time_of(stored_us))
        final = _prepare(statement, version, writer, stored_text)
        by_id[statement_id] = final
        own[statement_id] = own_keys(final)
        document = json.dumps(final, ensure_ascii=False)
        if len(document.encode("utf-8")) > MAX_STATEMENT_BYTES:
            raise PayloadTooLarge(
                f"statement {statement_id} is {len(document.encode('utf-8'))} bytes as "
                f"stored; at most {MAX_STATEMENT_BYTES}"
            )
        records.append(
            StatementRecord(
                statement_id=statement_id,
                stored_us=stored_us,
                stored=_time_of(stored_us),
                document=document,
                version=final["version"],
                voids=_target_of(final) if final["verb"]["id"] == VOIDED else None,
                target=_target_of(final),
                authority=writer.key,
                privileged=writer.privileged,
                attachments=sorted({str(a["sha2"]).lower() for a in _attachments_of(final)} & used),
            )
        )
    for record in records:
        keys = _propagated(record.statement_id, own, by_id, known)
        for name, values in keys.fields().items():
            setattr(record, name, values)
    voided_now = {r.voids for r in records if r.voids}
    # Voiding statements stored before their target void it when the same client, or a
    # privileged one, stored them.
    voided_earlier = {
        r.voids
        for r in await StatementRecord.find(
            {"voids": {"$in": sorted(batch_ids)}}, session=session
        ).to_list()
        if r.privileged or r.authority == writer.key
    }
    for record in records:
        if record.voids is None and record.statement_id in voided_now | voided_earlier:
            record.voided = True
    # Attachment data first: data no statement refers to yet is harmless, a statement
    # whose data is missing is not.
    await _store_attachments(fresh, parts, used, session)
    await db.collection(StatementRecord).insert_many(
        [db.new_document(r) for r in records], ordered=True, session=session
    )
    outside = sorted(t for t in voided_now if t not in batch_ids)
    if outside:
        await db.collection(StatementRecord).update_many(
            {"statement_id": {"$in": outside}, "voids": None},
            {"$set": {"voided": True}},
            session=session,
        )
    await _propagate_to_earlier(records, session)
    await directory.record_activities(by_id.values(), session)


async def _store_attachments(
    fresh: list[tuple[dict[str, Any], str]], parts: dict[str, Part], used: set[str], session: Any
) -> None:
    """The data of the attachments, once per sha2, with the contentType the statement
    declares (validated) rather than the part's header."""
    declared: dict[str, str] = {}
    for statement, _ in fresh:
        for attachment in _attachments_of(statement):
            declared.setdefault(str(attachment["sha2"]).lower(), str(attachment["contentType"]))
    for sha2 in sorted(used & set(declared)):
        part = parts[sha2]
        await db.collection(AttachmentRecord).update_one(
            {"sha2": sha2},
            {
                "$setOnInsert": {
                    "sha2": sha2,
                    "content_type": declared[sha2],
                    "length": len(part.body),
                    "data": part.body,
                }
            },
            upsert=True,
            session=session,
        )


def _propagated(
    statement_id: str,
    own: dict[str, Keys],
    by_id: dict[str, dict[str, Any]],
    known: dict[str, StatementRecord],
) -> Keys:
    """Own keys plus those of the statements it targets, recursively (2.1.3)."""
    keys = Keys()
    seen = set()
    current: str | None = statement_id
    while current is not None and current not in seen:
        seen.add(current)
        if current in own:
            keys.merge(own[current])
            current = _target_of(by_id[current])
        elif current in known:
            keys.merge(_keys_of(known[current]))
            current = None  # a stored record already holds its targets' keys
        else:
            current = None
    return keys


async def _propagate_to_earlier(records: Iterable[StatementRecord], session: Any) -> None:
    """Statements stored earlier that target these ones take their keys too (2.1.3): one
    query per step of the StatementRef chains, not one per statement."""
    wave = list(records)
    seen = {r.statement_id for r in wave}
    while wave:
        targets = {r.statement_id: r for r in wave}
        referring = await StatementRecord.find(
            {"target": {"$in": sorted(targets)}}, session=session
        ).to_list()
        wave = []
        for other in referring:
            if other.statement_id in seen:
                continue
            seen.add(other.statement_id)
            keys = _keys_of(other)
            keys.merge(_keys_of(targets[str(other.target)]))
            await db.collection(StatementRecord).update_one(
                {"_id": other.id}, {"$set": keys.fields()}, session=session
            )
            for name, values in keys.fields().items():
                setattr(other, name, values)
            wave.append(other)


# --- retrieving -----------------------------------------------------------------------


@dataclass(frozen=True)
class Visible:
    """Which statements a client may read: all (the default), those it stored
    (`statements/read/mine`: `authority`), or those about its learner (a client bound to a
    learner, the app acting as them: `agents`, the learner's actor keys)."""

    authority: str | None = None
    agents: frozenset[str] | None = None

    def allows(self, record: StatementRecord) -> bool:
        if self.authority and record.authority != self.authority:
            return False
        return self.agents is None or bool(self.agents.intersection(record.agents))


EVERYTHING = Visible()


async def get(*, statement_id: str, voided: bool, visible: Visible = EVERYTHING) -> StatementRecord:
    """One statement by id: a statement not voided, or (`voided`) one that is (2.1.4)."""
    record = await StatementRecord.find_one(StatementRecord.statement_id == statement_id.lower())
    if record is None or record.voided != voided or not visible.allows(record):
        kind = "voided statement" if voided else "statement"
        raise NotFound(f"no {kind} with id {statement_id!r}")
    return record


@dataclass(frozen=True)
class Query:
    """GET /statements filters (Communication 2.1.3), plus the cursor of `more`."""

    agent: str | None = None
    verb: str | None = None
    activity: str | None = None
    registration: str | None = None
    related_activities: bool = False
    related_agents: bool = False
    since_us: int | None = None
    until_us: int | None = None
    limit: int = 0
    ascending: bool = False
    through_us: int | None = None  # the newest statement the first page could see
    after_us: int | None = None  # the last statement a previous page returned


def _filter(query: Query, visible: Visible) -> dict[str, Any]:
    mongo: dict[str, Any] = {"voided": False}
    if query.agent is not None:
        mongo["related_agents" if query.related_agents else "agents"] = query.agent
    if visible.agents is not None:
        mine = sorted(visible.agents)
        if "agents" in mongo:  # an agent filter the client may not see matches nothing
            mongo["agents"] = {"$in": [mongo["agents"]] if mongo["agents"] in mine else []}
        else:
            mongo["agents"] = {"$in": mine}
    if query.verb is not None:
        mongo["verbs"] = query.verb
    if query.activity is not None:
        mongo["related_activities" if query.related_activities else "activities"] = query.activity
    if query.registration is not None:
        mongo["registrations"] = query.registration.lower()
    if visible.authority:
        mongo["authority"] = visible.authority
    stored: dict[str, int] = {}
    if query.since_us is not None:
        stored["$gt"] = query.since_us
    if query.until_us is not None:
        stored["$lte"] = query.until_us
    if query.through_us is not None:
        stored["$lte"] = min(stored.get("$lte", query.through_us), query.through_us)
    if query.after_us is not None:
        if query.ascending:
            stored["$gt"] = max(stored.get("$gt", query.after_us), query.after_us)
        else:
            stored["$lt"] = query.after_us
    if stored:
        mongo["stored_us"] = stored
    return mongo


async def latest_stored_us() -> int:
    """The newest `stored` value whose statements are all visible: the one handed out
    last (0 when nothing was stored), or just before a batch this process is writing."""
    counter = await db.collection(Counter).find_one({"_id": "statements"})
    latest = int(counter["value"]) if counter else 0
    pending = _pending.get(asyncio.get_running_loop())
    return latest if pending is None else min(latest, pending - 1)


def consistent_through() -> datetime:
    """Communication 2.1.3: every statement stored before this time is visible to queries.

    Exact for one process (the embedded store, or one replica); replicas writing to one
    MongoDB each know only their own writes in flight.
    """
    now = datetime.now(UTC)
    pending = _pending.get(asyncio.get_running_loop())
    return now if pending is None else min(now, _time_of(pending - 1))


async def find(
    *, query: Query, visible: Visible = EVERYTHING, with_attachments: bool = False
) -> tuple[list[StatementRecord], bool]:
    """A page of statements newest first (or oldest first), and whether more follow.

    A page stops early, after at least one statement, once its statements (and, with
    attachments, their data) pass MAX_PAGE_BYTES (MAX_PAGE_ATTACHMENT_BYTES).
    """
    limit = query.limit if 0 < query.limit <= MAX_LIMIT else MAX_LIMIT
    order = "+stored_us" if query.ascending else "-stored_us"
    found = (
        await StatementRecord.find(_filter(query, visible)).sort(order).limit(limit + 1).to_list()
    )
    lengths: dict[str, int] = {}
    wanted = sorted({sha2 for r in found[:limit] for sha2 in r.attachments})
    if with_attachments and wanted:
        # Lengths only: the data is read (attachments_for) for the statements kept, so a
        # page never holds more than its budget in memory.
        lengths = {
            a["sha2"]: int(a["length"])
            async for a in db.collection(AttachmentRecord).find(
                {"sha2": {"$in": wanted}}, {"sha2": 1, "length": 1}
            )
        }
    page: list[StatementRecord] = []
    size = data = 0
    counted: set[str] = set()
    for record in found[:limit]:
        size += len(record.document)
        data += sum(lengths.get(h, 0) for h in set(record.attachments) - counted)
        counted.update(record.attachments)
        if page and (size > MAX_PAGE_BYTES or data > MAX_PAGE_ATTACHMENT_BYTES):
            return page, True
        page.append(record)
    return page, len(found) > limit


async def attachments_for(records: Sequence[StatementRecord]) -> list[AttachmentRecord]:
    """The raw data of the attachments of these statements, once per sha2."""
    wanted = sorted({sha2 for r in records for sha2 in r.attachments})
    if not wanted:
        return []
    return await AttachmentRecord.find({"sha2": {"$in": wanted}}).to_list()
