"""Storing statements: async, keyword-only, no web framework.

    statement in -> validate -> store once (id is the key; same id and same content is a
    no-op, different content is 409)

A batch is all or nothing: every statement is validated, every attachment found, every
signature checked and every id compared before anything is written, and the writes of a
batch form one transaction where MongoDB runs them. `stored` comes from the server
sequence (`sequence`), so it strictly increases in the order statements are stored.
"""

from __future__ import annotations

import functools
import json
import uuid
from collections import Counter as Tally
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from lrs import directory, identity
from lrs.statements import compare, joining, primitives, propagation, sequence, signatures
from lrs.statements.models import AttachmentRecord, StatementRecord, raw_document
from lrs.statements.multipart import Part
from lrs.statements.propagation import Keys, target_of
from lrs.statements.validation.statement import VOIDED, validate
from lrs.statements.validation.values import StatementInvalid
from lrs.versions import XapiVersion
from nxce.core import db, json_input
from nxce.core.errors import BadRequest, Conflict, Forbidden, PayloadTooLarge

MAX_BATCH = 1000  # statements in one request; more is 413
MAX_STATEMENT_BYTES = 1 << 20  # one statement as stored, in UTF-8; more is 413
ATTEMPTS = 3  # a batch meeting a duplicate id or an abandoned ticket is written again

# A statement of a batch, with its id in lower case.
Fresh = list[tuple[dict[str, Any], str]]
# Told of the statements of a batch, and their ids, once it is written (see `store`).
Published = Callable[[list[dict[str, Any]], list[str]], Awaitable[None]]


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
    if "id" not in statement:
        statement["id"] = str(uuid.uuid4())
    if version.is_2 and "timestamp" in statement:
        statement["timestamp"] = primitives.utc_text(statement["timestamp"])
    if stored_text is not None:
        statement.setdefault("timestamp", stored_text)
        statement["stored"] = stored_text
    statement["authority"] = writer.authority
    statement.setdefault("version", "2.0.0" if version.is_2 else "1.0.0")
    _context_arrays(statement)
    return statement


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


def _check_batch(
    statements: Sequence[Any], version: XapiVersion, writer: Writer, paths: list[str]
) -> None:
    """Every statement valid (Data 2.2-2.4), and, for a client acting for one learner,
    about that learner."""
    for statement, path in zip(statements, paths, strict=True):
        try:
            validate(statement, version, path)
        except StatementInvalid as error:
            raise BadRequest(str(error)) from None
    if writer.acting_as is None:
        return
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


async def store(
    *,
    statements: Sequence[Any],
    version: XapiVersion,
    writer: Writer,
    parts: dict[str, Part] | None = None,
    multipart: bool = False,
    single: bool = False,
    published: Published | None = None,
    counted: Callable[[int], None] | None = None,
) -> list[str]:
    """Store a batch; answers the ids of its statements in order. All or nothing.
    `counted(n)` is told, once the batch is committed, how many of its statements were not
    stored before (the service's metrics).

    `published(statements, ids)` is told of the stored batch before it is committed, so
    that on the embedded store what it writes (the credit ledger's entries) shares the
    batch's commit: the answer waits for one commit, not two. It must not fail (the
    statements stand).

    On the embedded store, batches that arrive together with the same writer, version and
    listeners may be written as one (`joining`): each still answers for its own."""
    parts = parts or {}
    if len(statements) > MAX_BATCH:
        raise PayloadTooLarge(
            f"a batch holds at most {MAX_BATCH} statements, got {len(statements)}"
        )
    paths = ["statement" if single else f"statements[{i}]" for i in range(len(statements))]
    _check_batch(statements, version, writer, paths)
    ids = [str(s["id"]).lower() if "id" in s else str(uuid.uuid4()) for s in statements]
    repeated = next((i for i, n in Tally(ids).items() if n > 1), None)
    if repeated is not None:
        raise BadRequest(
            f"the batch holds statement id {repeated} more than once (Communication 2.1.2)"
        )
    prepared = [dict(s, id=s.get("id", new)) for s, new in zip(statements, ids, strict=True)]
    used = _check_attachments(prepared, parts, multipart, paths)
    # On the embedded store the statements and what `published` writes (the crediting)
    # share one commit, so a statement is stored as taken into account (`projected`), and
    # marked back if its listeners could not take it (events.py; credits/projection.py for
    # one course that failed): no second write of every statement. On MongoDB the
    # statements are committed first, and marked once credited, so that a process dying
    # in between leaves them to catch up.
    projected = published is not None and not db.shared()
    write = functools.partial(
        _write_batch,
        version=version,
        writer=writer,
        parts=parts,
        used=used,
        projected=projected,
        published=published,
        counted=counted,
    )
    joinable = (
        projected  # the embedded store, whose one process writes every statement
        and not used
        and len(prepared) <= joining.JOIN_MAX
        and all(target_of(s) is None for s in prepared)
    )
    key = (writer, version, published, counted)
    if not (joinable and await joining.join(key, prepared, ids, write)):
        await write(prepared, ids)  # alone
    return [str(s["id"]) for s in prepared]


async def _write_batch(
    prepared: list[dict[str, Any]],
    ids: list[str],
    *,
    version: XapiVersion,
    writer: Writer,
    parts: dict[str, Part],
    used: set[str],
    projected: bool,
    published: Published | None,
    counted: Callable[[int], None] | None,
) -> None:
    """Write a batch checked by `store` (again, under new `stored` values, when it meets a
    duplicate id or an abandoned ticket), then tell `published` and `counted`."""
    for attempt in range(ATTEMPTS):
        try:
            # The batch is written under the lock, and committed (on the embedded store's
            # medium) after it, with what `published` wrote: concurrent batches share
            # commits. It stays pending until committed; its tickets (sequence.py) end
            # with the writes.
            try:
                async with db.one_commit():
                    try:
                        async with sequence.write_lock():
                            # Values for every statement of the batch (those stored
                            # already leave theirs unused), taken before the transaction
                            # starts: its snapshot must hold their ticket.
                            first = await sequence.reserve(len(prepared))
                            fresh = await db.atomic(
                                functools.partial(
                                    _write,
                                    prepared,
                                    ids,
                                    version,
                                    writer,
                                    parts,
                                    used,
                                    first,
                                    projected=projected,
                                )
                            )
                        if published is not None:  # the ids as stored: lower case
                            await published(prepared, ids)
                    finally:
                        await sequence.finish()
            finally:
                sequence.release()
            if counted is not None:
                counted(fresh)
            return
        except (db.DuplicateKeyError, sequence.Abandoned):
            if attempt == ATTEMPTS - 1:
                raise
            # Another instance stored one of these ids in the meantime (compare again), or
            # this batch's `stored` values were abandoned (take new ones).


async def mark_projected(statement_ids: list[str], *, projected: bool) -> None:
    """Mark these statements as taken into account by the listeners of stored statements
    (the credit ledger), or not, which is what those catch up on; those marked so already
    are not written again."""
    if statement_ids:
        await db.collection(StatementRecord).update_many(
            {"statement_id": {"$in": statement_ids}, "projected": not projected},
            {"$set": {"projected": projected}},
        )


async def _write(
    prepared: list[dict[str, Any]],
    ids: list[str],
    version: XapiVersion,
    writer: Writer,
    parts: dict[str, Part],
    used: set[str],
    first: int,
    session: Any,
    *,
    projected: bool = False,
) -> int:
    """The writes of one batch, in one transaction where MongoDB runs them; its new
    statements are stored as `first`, `first + 1`… (marked `projected` when asked); answers
    how many statements were not stored before."""
    fresh = await _not_yet_stored(prepared, ids, writer, session)
    if not fresh:
        return 0
    batch_ids = {statement_id for _, statement_id in fresh}
    known = await _stored_targets(fresh, session)
    _check_voiding(fresh, known, writer)
    records, by_id = _records(fresh, first, version, writer, used, known, projected)
    voided_now = await _mark_voided(records, batch_ids, writer, session)
    # Attachment data first: data no statement refers to yet is harmless, a statement
    # whose data is missing is not.
    await _store_attachments(fresh, parts, used, session)
    await sequence.complete(session)  # the ticket ends with the statements' commit
    await db.collection(StatementRecord).insert_many(
        [raw_document(r) for r in records], ordered=True, session=session
    )
    await _void(sorted(t for t in voided_now if t not in batch_ids), session)
    await propagation.propagate_to_earlier(records, session)
    await directory.record_activities(by_id.values(), session)
    return len(fresh)


async def _not_yet_stored(
    prepared: list[dict[str, Any]], ids: list[str], writer: Writer, session: Any
) -> Fresh:
    """Communication 2.1.1: the statements of the batch not stored yet; one stored already
    is a no-op when it has the same content and this client (or a privileged one) sent it,
    else 409."""
    found = db.collection(StatementRecord).find(
        {"statement_id": {"$in": ids}}, _STORED_FIELDS, session=session
    )
    existing = {r["statement_id"]: r async for r in found}
    fresh = []
    resent_voiding = set()
    for statement, statement_id in zip(prepared, ids, strict=True):
        record = existing.get(statement_id)
        if record is None:
            fresh.append((statement, statement_id))
        elif record.get("authority", "") != writer.key and not writer.privileged:
            # Not compared: the answer would tell another client's statement's content.
            raise Conflict(
                f"statement {statement_id} is already stored, by another client "
                "(Communication 2.1.1)"
            )
        elif not compare.same(json_input.stored(record["document"]), statement):
            raise Conflict(
                f"statement {statement_id} is already stored with different "
                "content (Communication 2.1.1)"
            )
        elif record.get("voids") is not None:
            resent_voiding.add(str(record["voids"]))
    # A voiding statement sent again: make sure its target is voided (the first attempt
    # may have stopped between the two writes where there are no transactions).
    await _void(sorted(resent_voiding), session)
    return fresh


async def _stored_targets(fresh: Fresh, session: Any) -> dict[str, StatementRecord]:
    """The stored statements the StatementRefs of the batch target, by id."""
    targets = {t for s, _ in fresh if (t := target_of(s))}
    if not targets:
        return {}
    return {
        r.statement_id: r
        for r in await StatementRecord.find(
            {"statement_id": {"$in": sorted(targets)}}, session=session
        ).to_list()
    }


def _check_voiding(fresh: Fresh, known: dict[str, StatementRecord], writer: Writer) -> None:
    """Data 2.3.2: a voiding statement cannot be voided; voiding a statement another
    client stored needs the `all` scope."""
    for statement, _ in fresh:
        if statement["verb"]["id"] != VOIDED:
            continue
        target = target_of(statement)
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


def _records(
    fresh: Fresh,
    first: int,
    version: XapiVersion,
    writer: Writer,
    used: set[str],
    known: dict[str, StatementRecord],
    projected: bool,
) -> tuple[list[StatementRecord], dict[str, dict[str, Any]]]:
    """The records of the batch from `stored` value `first` on, each with the keys of its
    own and of the statements it targets (`known`: those stored before), marked
    `projected` when asked, and each statement's final form by id; a statement over
    MAX_STATEMENT_BYTES is 413. Each record is built once, whole (a model's attribute
    set afterwards costs a validation hook)."""
    own: dict[str, Keys] = {}
    by_id: dict[str, dict[str, Any]] = {}
    documents: list[tuple[str, int, str]] = []
    for offset, (statement, statement_id) in enumerate(fresh):
        stored_us = first + offset
        stored_text = primitives.format_timestamp(sequence.time_of(stored_us))
        final = _prepare(statement, version, writer, stored_text)
        by_id[statement_id] = final
        own[statement_id] = propagation.own_keys(final)
        document = json_input.dumps(final)
        if len(document.encode("utf-8")) > MAX_STATEMENT_BYTES:
            raise PayloadTooLarge(
                f"statement {statement_id} is {len(document.encode('utf-8'))} bytes as "
                f"stored; at most {MAX_STATEMENT_BYTES}"
            )
        documents.append((statement_id, stored_us, document))
    records = []
    for statement_id, stored_us, document in documents:
        final = by_id[statement_id]
        keys = propagation.propagated(statement_id, own, by_id, known)
        records.append(
            StatementRecord(
                statement_id=statement_id,
                stored_us=stored_us,
                stored=sequence.time_of(stored_us),
                document=document,
                version=final["version"],
                voids=target_of(final) if final["verb"]["id"] == VOIDED else None,
                target=target_of(final),
                authority=writer.key,
                privileged=writer.privileged,
                attachments=sorted({str(a["sha2"]).lower() for a in _attachments_of(final)} & used),
                projected=projected,
                **keys.fields(),
            )
        )
    return records, by_id


# What comparing a statement sent again reads of the stored one (raw: no models).
_STORED_FIELDS = {"statement_id": 1, "authority": 1, "document": 1, "voids": 1, "_id": 0}
_VOIDING_FIELDS = {"voids": 1, "privileged": 1, "authority": 1, "_id": 0}  # raw: no models


async def _mark_voided(
    records: list[StatementRecord], batch_ids: set[str], writer: Writer, session: Any
) -> set[str]:
    """Data 2.3.2: the records of the batch its own voiding statements void, or that
    voiding statements stored before them void when the same client, or a privileged
    one, stored those. Answers the ids the batch voids."""
    voided_now = {r.voids for r in records if r.voids}
    voiding = db.collection(StatementRecord).find(
        {"voids": {"$in": sorted(batch_ids)}}, _VOIDING_FIELDS, session=session
    )
    voided_earlier = {
        str(r["voids"])
        async for r in voiding
        if r.get("privileged") or r.get("authority") == writer.key
    }
    for record in records:
        if record.voids is None and record.statement_id in voided_now | voided_earlier:
            record.voided = True
    return voided_now


async def _void(statement_ids: list[str], session: Any) -> None:
    """Data 2.3.2: these stored statements are voided (a voiding statement never is)."""
    if statement_ids:
        await db.collection(StatementRecord).update_many(
            {"statement_id": {"$in": statement_ids}, "voids": None},
            {"$set": {"voided": True}},
            session=session,
        )


async def _store_attachments(
    fresh: Fresh, parts: dict[str, Part], used: set[str], session: Any
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
