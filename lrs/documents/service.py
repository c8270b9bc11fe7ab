"""State, Activity Profile and Agent Profile documents: async, keyword-only.

Every write checks its preconditions (If-Match, If-None-Match) against the stored
document and writes only if the document is still the one checked: two devices racing on
one document cannot both win; the loser gets 412 and nothing is merged silently.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from lrs.documents.models import Kind, StoredDocument
from nxce.core import db, json_input
from nxce.core.errors import BadRequest, Conflict, PayloadTooLarge, PreconditionFailed
from nxce.core.preconditions import EntityTags

JSON = "application/json"
MAX_MERGED_BYTES = 15 * 1_048_576  # a merged JSON document, within a MongoDB document


@dataclass(frozen=True)
class Identity:
    """Which document: its kind, context and id (registration "" when none)."""

    kind: Kind
    activity_id: str = ""
    agent: str = ""
    registration: str = ""
    document_id: str = ""

    def query(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "activity_id": self.activity_id,
            "agent": self.agent,
            "registration": self.registration,
            "document_id": self.document_id,
        }

    def context(self, *, any_registration: bool = False) -> dict[str, Any]:
        """The documents of this context; with `any_registration`, of every registration."""
        query = self.query()
        del query["document_id"]
        if any_registration:
            del query["registration"]
        return query


@dataclass(frozen=True)
class Conditions:
    """The request's concurrency headers (Communication 3.1)."""

    if_match: EntityTags | None = None
    if_none_match: EntityTags | None = None

    @property
    def given(self) -> bool:
        return self.if_match is not None or self.if_none_match is not None


def etag_of(content: bytes) -> str:
    return hashlib.sha1(content, usedforsecurity=False).hexdigest()


def _check(existing: StoredDocument | None, conditions: Conditions) -> None:
    """RFC 9110 §13.1.1-2 with the specification's status codes (Communication 3.1)."""
    etag = existing.etag if existing is not None else None
    if conditions.if_match is not None and not conditions.if_match.matches_strongly(etag):
        if existing is None:
            raise PreconditionFailed("If-Match: the document does not exist")
        raise PreconditionFailed(
            f'If-Match: the document\'s ETag is "{existing.etag}"; it changed since it was read'
        )
    if conditions.if_none_match is not None and conditions.if_none_match.matches_weakly(etag):
        raise PreconditionFailed("If-None-Match: the document already exists")


async def get(*, identity: Identity) -> StoredDocument | None:
    found: StoredDocument | None = await StoredDocument.find_one(identity.query())
    return found


def _now() -> tuple[datetime, int]:
    now_us = int(time.time() * 1_000_000)
    return datetime.fromtimestamp(now_us / 1_000_000, UTC), now_us


class _Raced(Exception):
    """Another request wrote the document between our read and our write."""


_ATTEMPTS = 3


async def _retrying(conditions: Conditions, attempt: Callable[[], Awaitable[None]]) -> None:
    """Run a read-then-write; when another request wrote in between, a request that
    stated conditions gets 412 (its view is stale), one that did not is simply re-run."""
    for number in range(_ATTEMPTS):
        try:
            await attempt()
            return
        except _Raced as raced:
            if conditions.given or number == _ATTEMPTS - 1:
                raise PreconditionFailed(f"{raced}; read it and try again") from None


async def _write(
    identity: Identity, existing: StoredDocument | None, content: bytes, content_type: str
) -> None:
    """Insert, or replace `existing` only if nobody changed it since it was read."""
    updated, updated_us = _now()
    fields = {
        "content": content,
        "content_type": content_type,
        "etag": etag_of(content),
        "updated": updated,
        "updated_us": updated_us,
    }
    collection = db.collection(StoredDocument)
    if existing is None:
        try:
            await collection.insert_one({**identity.query(), **fields})
        except db.DuplicateKeyError:
            raise _Raced("the document was created by another request") from None
        return
    result = await collection.update_one(
        {"_id": existing.id, "etag": existing.etag, "updated_us": existing.updated_us},
        {"$set": fields},
    )
    if result.matched_count == 0:
        raise _Raced("the document was changed by another request")


async def put(
    *,
    identity: Identity,
    content: bytes,
    content_type: str,
    conditions: Conditions,
    require_conditions: bool,
    require_conditions_always: bool = False,
) -> None:
    """Store the document, replacing any (Communication 2.2, 3.1).

    `require_conditions`: replacing an existing document needs If-Match or If-None-Match
    (409 otherwise); `require_conditions_always`: so does creating one (400 otherwise).
    """
    await _retrying(
        conditions,
        lambda: _put(
            identity,
            content,
            content_type,
            conditions,
            require_conditions,
            require_conditions_always,
        ),
    )


async def _put(
    identity: Identity,
    content: bytes,
    content_type: str,
    conditions: Conditions,
    require_conditions: bool,
    require_conditions_always: bool,
) -> None:
    existing = await get(identity=identity)
    if existing is not None and require_conditions and not conditions.given:
        raise Conflict(
            "the document exists: read it, then send If-Match with its ETag to replace it "
            "(or If-None-Match: * to create only when absent) (Communication 3.1)"
        )
    if existing is None and require_conditions_always and not conditions.given:
        raise BadRequest(
            "PUT to a profile needs If-Match (with the ETag of the document to replace) or "
            "If-None-Match: * (to create it) (xAPI 1.0.3 Communication 3.1)"
        )
    _check(existing, conditions)
    _check_json(content, content_type)
    await _write(identity, existing, content, content_type)


def _is_json(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() == JSON


def _check_json(content: bytes, content_type: str) -> None:
    if _is_json(content_type):
        _json_object(content, "the document", require_object=False)


def _json_object(content: bytes, what: str, *, require_object: bool = True) -> Any:
    try:
        value = json_input.loads(content, what)
    except BadRequest as error:
        raise BadRequest(
            f"{what} is sent as application/json but is not valid JSON: {error.detail} "
            "(Communication 2.2)"
        ) from None
    if require_object and not isinstance(value, dict):
        raise BadRequest(f"{what} must be a JSON object to be merged (Communication 2.2)")
    return value


def _stored_object(content: bytes) -> dict[str, Any]:
    """The stored document to merge into, read as stored: non-finite numbers an older
    release kept are read as null, so the merged document is valid JSON."""
    try:
        value = json_input.stored(content)
    except ValueError:
        value = None
    if not isinstance(value, dict):
        raise BadRequest(
            "the stored document must be a JSON object to be merged (Communication 2.2)"
        )
    return value


async def post(
    *, identity: Identity, content: bytes, content_type: str, conditions: Conditions
) -> None:
    """Store a new document, or merge JSON objects into the stored one (Communication 2.2):
    top-level properties of the posted object replace those of the stored one."""
    await _retrying(conditions, lambda: _post(identity, content, content_type, conditions))


async def _post(
    identity: Identity, content: bytes, content_type: str, conditions: Conditions
) -> None:
    existing = await get(identity=identity)
    _check(existing, conditions)
    if existing is None:
        _check_json(content, content_type)
        await _write(identity, None, content, content_type)
        return
    if not _is_json(content_type) or not _is_json(existing.content_type):
        raise BadRequest(
            "POST merges JSON documents only: both the stored and the posted "
            "document must be application/json (Communication 2.2)"
        )
    posted = _json_object(content, "the posted document")
    stored = _stored_object(existing.content)
    merged = json_input.dumps({**stored, **posted}).encode("utf-8")
    if len(merged) > MAX_MERGED_BYTES:
        raise PayloadTooLarge(
            f"the merged document would be {len(merged)} bytes; at most {MAX_MERGED_BYTES}"
        )
    await _write(identity, existing, merged, JSON)


async def delete(*, identity: Identity, conditions: Conditions) -> None:
    existing = await get(identity=identity)
    _check(existing, conditions)
    if existing is not None:
        await db.collection(StoredDocument).delete_one({"_id": existing.id, "etag": existing.etag})


async def ids(
    *, context: Identity, since_us: int | None, any_registration: bool = False
) -> tuple[list[str], datetime | None]:
    """The ids of the context's documents (updated after `since`), and the latest update."""
    query = context.context(any_registration=any_registration)
    if since_us is not None:
        query["updated_us"] = {"$gt": since_us}
    found = await StoredDocument.find(query).sort("+updated_us").to_list()
    latest = max((d.updated for d in found), default=None)
    return [d.document_id for d in found], latest


async def delete_all(*, context: Identity, any_registration: bool) -> None:
    """Communication 2.3: every State document of an Activity and Agent (of one
    registration when it is given, of all otherwise)."""
    await db.collection(StoredDocument).delete_many(
        context.context(any_registration=any_registration)
    )
