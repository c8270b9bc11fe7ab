"""Evidence documents of manual entries (学历证明, 考察培训文件, …): PDF, JPEG or PNG files
an admin, an auditor or the learner's own app attaches to a manual entry, kept in the
store itself, never on a path a request names.

A document is a metadata document (`evidence_documents`) and its content in chunks of at
most 255 KiB (`evidence_chunks`), the layout of GridFS, written with plain documents so
that MongoDB and the embedded store keep them alike. The chunks are written first and the
metadata last: a document exists once its metadata does, so a write that dies halfway
leaves chunks nobody can see, never a document without its content. A deletion removes
the metadata first.

Which entries need a document is policy data (`document` on a conversion, with the clause
that asks for it); an entry shows `document_missing` while none is attached.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from beanie import Document
from pymongo import ASCENDING, IndexModel

from credits import log_lines
from credits.models import AuditedEntry, Learner, LedgerEntry, ManualCredit
from credits.policy import Degree, Policies, Policy
from credits.schemas import AuditRead, DocumentMissing
from nxce.core import db
from nxce.core.errors import Conflict, NotFound, UnsupportedMediaType, invalid, show_value

MAX_DOCUMENT_BYTES = 10 * 1024 * 1024  # our limit: a scanned certificate, a few pages
CHUNK_BYTES = 255 * 1024  # as GridFS: well below MongoDB's 16 MiB document limit
MAX_DOCUMENTS_PER_ENTRY = 20  # our limit: evidence, not an archive
MAX_FILENAME_CHARS = 200
# The upload route, for its own body limit (beyond the 1 MiB of JSON bodies).
UPLOAD_PATH = re.compile(r"/learners/[^/]+/credits/[^/]+/documents")

# The media types accepted, each with the bytes its content starts with.
SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "application/pdf": (b"%PDF-",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/png": (b"\x89PNG\r\n\x1a\n",),
}


class EvidenceDocument(Document):
    """What is known of an attached document; its content is in `EvidenceChunk`s."""

    document_id: str
    learner_id: str
    entry_id: str
    filename: str  # NFC, no path, at most 200 characters
    media_type: str
    size: int
    sha256: str
    chunks: int
    uploaded_by: str
    uploaded_at: datetime

    class Settings:
        name = "evidence_documents"
        indexes = [
            IndexModel([("document_id", ASCENDING)], unique=True, name="document_unique"),
            # of_learner, listed: a learner's documents, an entry's, in upload order.
            IndexModel(
                [("learner_id", ASCENDING), ("entry_id", ASCENDING), ("uploaded_at", ASCENDING)],
                name="learner_entry",
            ),
            # figures.evidence_awaiting: documents uploaded lately (the admin's overview).
            IndexModel([("uploaded_at", ASCENDING)], name="uploaded_at"),
        ]


class EvidenceChunk(Document):
    """Part `n` (from 0) of a document's content."""

    document_id: str
    n: int
    data: bytes

    class Settings:
        name = "evidence_chunks"
        indexes = [
            IndexModel([("document_id", ASCENDING), ("n", ASCENDING)], unique=True, name="part")
        ]


DOCUMENTS = (EvidenceDocument, EvidenceChunk)


# --- what a request brings ----------------------------------------------------------------


def clean_filename(raw: str | None) -> str:
    """The file's name as it is kept: NFC, trimmed; 422 naming `filename` for a name with a
    path, a control character, none at all or more than 200 characters."""
    if raw is None:
        raise invalid(
            "filename", "is required (the file's name, e.g. 学历证明.pdf)", location="query"
        )
    name = unicodedata.normalize("NFC", raw).strip()
    why = None
    if not name:
        why = "must not be blank"
    elif any(unicodedata.category(c) in ("Cc", "Cf") for c in name):
        why = "must not contain control characters"
    elif "/" in name or "\\" in name or name in (".", ".."):
        why = "must be a file name without a path"
    elif len(name) > MAX_FILENAME_CHARS:
        why = f"must be at most {MAX_FILENAME_CHARS} characters, got {len(name)}"
    if why is not None:
        raise invalid("filename", why, raw, location="query")
    return name


def media_type_of(content_type: str | None) -> str:
    """The declared media type (parameters dropped); 415 naming Content-Type unless it is
    one of PDF, JPEG and PNG."""
    media_type = (content_type or "").split(";", 1)[0].strip().lower()
    if media_type not in SIGNATURES:
        accepted = ", ".join(SIGNATURES)
        detail = f"Content-Type must be one of {accepted}, got {show_value(content_type or '')}"
        entry = {
            "location": "header",
            "field": "Content-Type",
            "message": f"must be one of {accepted}",
            "value": show_value(content_type or ""),
        }
        raise UnsupportedMediaType(detail, errors=[entry])
    return media_type


def sniffed(content: bytes) -> str | None:
    """The media type the content's first bytes say, None when none we accept."""
    for media_type, signatures in SIGNATURES.items():
        if content.startswith(signatures):
            return media_type
    return None


def check_content(media_type: str, content: bytes) -> None:
    """422 naming the body unless it is not empty and its content is of `media_type`."""
    if not content:
        raise invalid("body", "must not be empty (the file's bytes)")
    found = sniffed(content)
    if found != media_type:
        says = f"it looks like {found}" if found else f"it starts with {content[:8].hex(' ')}"
        raise invalid("body", f"the content is not {media_type} as Content-Type says ({says})")


# --- the store ----------------------------------------------------------------------------


async def manual_entry(*, learner_id: str, entry_id: str) -> ManualCredit:
    """The learner's manual entry `entry_id`; 404 when the learner has no such entry, 409
    when it is a completion (its evidence is its xAPI statement, not a file)."""
    found = await ManualCredit.find_one({"entry_id": entry_id, "learner_id": learner_id})
    if found is not None:
        return found
    ledger_entry = await db.collection(LedgerEntry).find_one(
        {"entry_id": entry_id, "learner_id": learner_id}, {"source_kind": 1}
    )
    if ledger_entry is not None:
        raise Conflict(
            f"entry {entry_id!r} is a {ledger_entry.get('source_kind', 'statement')} entry: "
            "documents are attached to manual entries; a completion's evidence is its statement"
        )
    raise NotFound(f"learner {learner_id!r} has no entry {entry_id!r}")


async def attach(
    *,
    learner_id: str,
    entry_id: str,
    filename: str | None,
    content_type: str | None,
    content: bytes,
    by: str,
) -> EvidenceDocument:
    """Keep `content` as a document of the learner's manual entry. Refusals (bad name,
    type or content, unknown entry) write nothing."""
    await manual_entry(learner_id=learner_id, entry_id=entry_id)
    name = clean_filename(filename)
    media_type = media_type_of(content_type)
    check_content(media_type, content)
    if len(content) > MAX_DOCUMENT_BYTES:  # the body limit has refused it already
        raise invalid("body", f"must be at most {MAX_DOCUMENT_BYTES} bytes", len(content))
    learner = await Learner.find_one({"learner_id": learner_id})
    if learner is not None and learner.erased_at is not None:
        raise Conflict(f"the personal data of learner {learner_id!r} was erased")
    held = await db.collection(EvidenceDocument).count_documents(
        {"learner_id": learner_id, "entry_id": entry_id}
    )
    if held >= MAX_DOCUMENTS_PER_ENTRY:
        raise Conflict(
            f"entry {entry_id!r} has {held} documents, at most {MAX_DOCUMENTS_PER_ENTRY} "
            "(our limit); an admin may delete one first"
        )
    document_id = str(uuid.uuid4())
    parts = [content[i : i + CHUNK_BYTES] for i in range(0, len(content), CHUNK_BYTES)]
    chunks = db.collection(EvidenceChunk)
    await chunks.insert_many([{"document_id": document_id, "n": n, "data": part}
                              for n, part in enumerate(parts)])  # fmt: skip
    document = EvidenceDocument(
        document_id=document_id,
        learner_id=learner_id,
        entry_id=entry_id,
        filename=name,
        media_type=media_type,
        size=len(content),
        sha256=hashlib.sha256(content).hexdigest(),
        chunks=len(parts),
        uploaded_by=by,
        uploaded_at=db.now(),
    )
    try:
        await document.insert()
    except BaseException:
        await chunks.delete_many({"document_id": document_id})
        raise
    await log_lines.evidence(
        "attached", by=by, learner_id=learner_id, entry_id=entry_id, document=_logged(document)
    )
    return document


def _logged(document: EvidenceDocument) -> dict[str, Any]:
    """What the administrative log keeps of a document (never its content)."""
    return {
        "document_id": document.document_id,
        "filename": document.filename,
        "media_type": document.media_type,
        "size": document.size,
        "sha256": document.sha256,
    }


async def listed(*, learner_id: str, entry_id: str) -> list[EvidenceDocument]:
    """The documents of the learner's entry, oldest first (404 for an unknown entry)."""
    found = await of_learner(learner_id=learner_id, entry_ids=[entry_id])
    if not found:
        ledger_entry = await db.collection(LedgerEntry).find_one(
            {"entry_id": entry_id, "learner_id": learner_id}, {"_id": 1}
        )
        if ledger_entry is None:
            raise NotFound(f"learner {learner_id!r} has no entry {entry_id!r}")
    return found.get(entry_id, [])


async def of_learner(
    *, learner_id: str, entry_ids: Iterable[str] | None = None
) -> dict[str, list[EvidenceDocument]]:
    """The learner's documents by entry, oldest first: one query."""
    query: dict[str, Any] = {"learner_id": learner_id}
    if entry_ids is not None:
        query["entry_id"] = {"$in": list(entry_ids)}
    found: dict[str, list[EvidenceDocument]] = {}
    for document in await EvidenceDocument.find(query).sort("+uploaded_at").to_list():
        found.setdefault(document.entry_id, []).append(document)
    return found


async def entries_with_documents(*, learner_id: str) -> set[str]:
    """The ids of the learner's entries that have a document: one query."""
    cursor = db.collection(EvidenceDocument).find({"learner_id": learner_id}, {"entry_id": 1})
    return {row["entry_id"] async for row in cursor}


async def one(*, learner_id: str, entry_id: str, document_id: str) -> EvidenceDocument:
    found = await EvidenceDocument.find_one(
        {"document_id": document_id, "learner_id": learner_id, "entry_id": entry_id}
    )
    if found is None:
        raise NotFound(
            f"entry {entry_id!r} of learner {learner_id!r} has no document {document_id!r}"
        )
    return found


async def content_of(document: EvidenceDocument) -> bytes:
    """The document's bytes, checked against its size and digest."""
    cursor = db.collection(EvidenceChunk).find({"document_id": document.document_id}).sort("n", 1)
    content = b"".join([bytes(row["data"]) async for row in cursor])
    if len(content) != document.size or hashlib.sha256(content).hexdigest() != document.sha256:
        if await EvidenceDocument.find_one({"document_id": document.document_id}) is None:
            raise NotFound(f"document {document.document_id!r} was deleted")
        raise RuntimeError(f"evidence document {document.document_id}: content does not match")
    return content


async def delete(*, learner_id: str, entry_id: str, document_id: str, by: str) -> EvidenceDocument:
    """Remove a document (metadata first, so no reader finds it half gone); the removal
    is in the administrative log."""
    document = await one(learner_id=learner_id, entry_id=entry_id, document_id=document_id)
    await db.collection(EvidenceDocument).delete_one({"document_id": document_id})
    await db.collection(EvidenceChunk).delete_many({"document_id": document_id})
    await log_lines.evidence(
        "removed", by=by, learner_id=learner_id, entry_id=entry_id, document=_logged(document)
    )
    return document


async def erase_learner(*, learner_id: str) -> int:
    """Remove all the learner's documents (their erasure on request: a 学历证明 names its
    holder); answers how many."""
    ids = [
        row["document_id"]
        async for row in db.collection(EvidenceDocument).find(
            {"learner_id": learner_id}, {"document_id": 1}
        )
    ]
    if ids:
        await db.collection(EvidenceDocument).delete_many({"document_id": {"$in": ids}})
        await db.collection(EvidenceChunk).delete_many({"document_id": {"$in": ids}})
    return len(ids)


# --- which entries need one ---------------------------------------------------------------


def required(policy: Policy, kind: str, source: dict[str, Any]) -> tuple[str, ...]:
    """The documents the clause of `kind` asks for (policy data): a degree's 学历证明, and
    the institution's 院校学时证明 when its hours are certified (§一(三)1)."""
    rule = policy.conversions.get(kind)
    if rule is None or rule.document is None:
        return ()
    names = [rule.document]
    hours_document = rule.certified_hours_document if isinstance(rule, Degree) else None
    if hours_document is not None and source.get("certified_hours") is not None:
        names.append(hours_document)
    return tuple(names)


def policy_of(policies: Policies, policy_id: str) -> Policy:
    """The policy that converted an entry; the newest one for an entry no policy covers
    yet (our reading: the kind needs the same document then)."""
    return next((p for p in policies.all if p.id == policy_id), policies.newest())


def missing(policy: Policy, kind: str, source: dict[str, Any], attached: bool) -> str | None:
    """The documents an entry lacks, named as the notice names them ("学历证明、院校学时证明"),
    while none is attached; None when it needs none or has one."""
    if attached:
        return None
    names = required(policy, kind, source)
    return "、".join(names) if names else None


def entry_missing(policies: Policies, entry: LedgerEntry, attached: bool) -> str | None:
    """`missing` of a ledger entry; a completion or a reversed entry needs none."""
    if entry.source_kind != "manual" or entry.status == "reversed":
        return None
    return missing(policy_of(policies, entry.policy_id), entry.kind, entry.source, attached)


def documents_missing(
    *,
    policy: Policy,
    entries: Sequence[AuditedEntry],
    attached: set[str],
    window: tuple[int, int],
    not_counted: Iterable[str],
    applied: Iterable[str],
) -> list[dict[str, str]]:
    """The entries an audit relies on that lack their document: in its window or named by
    a rule it applied; not those it did not count, except the ones pending review (the
    auditor deciding on them wants the document)."""
    left_out = set(not_counted)
    relied_on = set(applied)
    found = []
    for entry in entries:
        if entry.status == "reversed":
            continue
        if entry.entry_id in left_out and entry.status != "pending_review":
            continue
        if not (window[0] <= entry.year <= window[1] or entry.entry_id in relied_on):
            continue
        name = missing(policy, entry.kind, entry.source, entry.entry_id in attached)
        if name is not None:
            found.append({"entry_id": entry.entry_id, "kind": entry.kind, "document": name})
    return found


async def audit_documents_missing(
    *, learner_id: str, policy: Policy, entries: Sequence[AuditedEntry], verdict: AuditRead
) -> list[DocumentMissing]:
    """`documents_missing` of an audit (one query: the learner's entries with a document)."""
    if not any(required(policy, e.kind, e.source) for e in entries):
        return []  # no entry needs one: no query
    found = documents_missing(
        policy=policy,
        entries=entries,
        attached=await entries_with_documents(learner_id=learner_id),
        window=(verdict.window.from_, verdict.window.to),
        not_counted=(str(item.get("entry_id")) for item in verdict.not_counted),
        applied=(a.entry_id for a in verdict.applied if a.entry_id),
    )
    return [DocumentMissing(**item) for item in found]
