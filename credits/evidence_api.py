"""HTTP routes of the evidence documents of manual entries.

Admins and auditors attach and read every learner's; a learner-bound client (the app
acting as the learner) those of its own learner's entries; deleting is for admins (a
wrong upload removed on request; neither auditors nor the learner's app withdraw
evidence once filed). The file is the raw request body, its name the `filename` query
parameter (UTF-8, as every query string here), at most 10 MiB.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote

from fastapi import Depends, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from credits import evidence
from credits.access import check_read
from credits.routes import learners_router
from credits.schemas import DocumentRead
from nxce.core.auth import ADMIN, Admin, Principal, authenticate
from nxce.core.params import no_query
from nxce.core.problems import responses

router = learners_router("/learners/{learner_id}/credits/{entry_id}/documents")


async def _principal(request: Request) -> Principal:
    return await authenticate(request)


Caller = Annotated[Principal, Depends(_principal)]


def document_read(document: evidence.EvidenceDocument) -> DocumentRead:
    return DocumentRead(
        id=document.document_id,
        learner_id=document.learner_id,
        entry_id=document.entry_id,
        filename=document.filename,
        media_type=document.media_type,
        size=document.size,
        sha256=document.sha256,
        uploaded_by=document.uploaded_by,
        uploaded_at=document.uploaded_at,
        href=(
            f"/learners/{quote(document.learner_id, safe='')}/credits/"
            f"{document.entry_id}/documents/{document.document_id}"
        ),
    )


def content_disposition(filename: str) -> str:
    """`attachment` with the name in UTF-8 (RFC 6266, RFC 5987 `filename*`) and an ASCII
    stand-in for old clients."""
    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_"
                       for c in filename)  # fmt: skip
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(filename, safe='')}"


class UploadQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    filename: str = Field(
        max_length=1000,
        description="the file's name (NFC, no path, no control characters, at most 200 "
        "characters), e.g. 学历证明-张伟.pdf",
    )


_BINARY = {t: {"schema": {"type": "string", "format": "binary"}} for t in evidence.SIGNATURES}
_BODY = {
    "requestBody": {
        "required": True,
        "description": f"the file: PDF, JPEG or PNG, at most {evidence.MAX_DOCUMENT_BYTES} "
        "bytes; its first bytes must match Content-Type",
        "content": _BINARY,
    }
}


@router.post(
    "",
    response_model=DocumentRead,
    status_code=201,
    responses=responses(400, 409, 413, 415),
    openapi_extra=_BODY,
)
async def attach_document(
    learner_id: str,
    entry_id: str,
    query: Annotated[UploadQuery, Query()],
    request: Request,
    caller: Caller,
    response: Response,
) -> DocumentRead:
    """Attach a document to a manual entry (admin, auditor, the learner's own client).
    415 for a Content-Type other than PDF, JPEG or PNG; 422 for content that is not what
    Content-Type says, an empty body or a bad `filename`; 413 beyond 10 MiB; 409 for a
    completion (its evidence is its statement) or an entry with 20 documents."""
    check_read(caller, learner_id)
    document = await evidence.attach(
        learner_id=learner_id,
        entry_id=entry_id,
        filename=query.filename,
        content_type=request.headers.get("content-type"),
        content=await request.body(),
        by=caller.key,
    )
    found = document_read(document)
    response.headers["Location"] = found.href
    return found


@router.get("", response_model=list[DocumentRead], dependencies=[Depends(no_query)])
async def list_documents(learner_id: str, entry_id: str, caller: Caller) -> list[DocumentRead]:
    """The entry's documents, oldest first (admin, auditor, the learner's own client)."""
    check_read(caller, learner_id)
    found = await evidence.listed(learner_id=learner_id, entry_id=entry_id)
    return [document_read(d) for d in found]


_FILE = {
    200: {
        "description": "the file, as an attachment",
        "content": _BINARY,
    }
}


def file_response(document: evidence.EvidenceDocument, content: bytes) -> Response:
    """The document as a download: its own type, never sniffed, never shown inline."""
    return Response(
        content,
        media_type=document.media_type,
        headers={
            "Content-Disposition": content_disposition(document.filename),
            "X-Content-Type-Options": "nosniff",
            "Content-Security-Policy": "sandbox; default-src 'none'",
            "Cache-Control": "private, no-cache",
            "ETag": f'"{document.sha256}"',
        },
    )


@router.get(
    "/{document_id}",
    response_class=Response,
    responses=_FILE,  # type: ignore[arg-type]
    dependencies=[Depends(no_query)],
)
async def download_document(
    learner_id: str, entry_id: str, document_id: str, caller: Caller
) -> Response:
    """The document's content (admin, auditor, the learner's own client)."""
    check_read(caller, learner_id)
    document = await evidence.one(learner_id=learner_id, entry_id=entry_id, document_id=document_id)
    return file_response(document, await evidence.content_of(document))


@router.delete(
    "/{document_id}",
    status_code=204,
    response_class=Response,
    dependencies=[ADMIN, Depends(no_query)],
    responses=responses(400, 413),
)
async def delete_document(
    learner_id: str, entry_id: str, document_id: str, admin: Admin
) -> Response:
    """Remove a document (admins only: a wrong upload, on request)."""
    await evidence.delete(
        learner_id=learner_id, entry_id=entry_id, document_id=document_id, by=admin.key
    )
    return Response(status_code=204)
