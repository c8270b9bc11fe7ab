"""Evidence documents on the auditor's learner page: each manual entry's documents with
download links, "缺少证明材料：学历证明" where its clause asks for one and none is attached,
and a form attaching a file (PDF, JPEG, PNG; at most 10 MiB).

Downloads and uploads need a signed-in auditor (or admin), as every auditor page; an upload
also needs the session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from credits import evidence
from credits.context import Credits
from credits.evidence_api import file_response
from credits.models import LedgerEntry
from nxce.core.errors import NxceError
from nxce.core.json_route import JsonRoute
from web import render
from web.access import AuditorPage, Upload, auditor_form, upload_by

router = APIRouter(prefix="/auditor", route_class=JsonRoute, include_in_schema=False)

# The form's route, for its body limit: the file and the form's few other bytes.
UPLOAD_FORM_PATH = re.compile(r"/auditor/learners/[^/]+/entries/[^/]+/documents")
UPLOAD_FORM_BYTES = evidence.MAX_DOCUMENT_BYTES + 64 * 1024


async def on_page(
    credits: Credits, learner_id: str, entries: Sequence[LedgerEntry]
) -> dict[str, Any]:
    """What the learner page shows of evidence: documents by entry, the missing document
    by entry, and which entries take documents (manual ones). One query."""
    documents = await evidence.of_learner(learner_id=learner_id)
    missing = {
        e.entry_id: name
        for e in entries
        if (name := evidence.entry_missing(credits.policies, e, e.entry_id in documents))
    }
    manual = {e.entry_id for e in entries if e.source_kind == "manual"}
    return {"documents": documents, "missing": missing, "takes_documents": manual}


@router.get("/learners/{learner_id}/entries/{entry_id}/documents/{document_id}")
async def download(
    request: Request, _: AuditorPage, learner_id: str, entry_id: str, document_id: str
) -> Response:
    if render.cross_site(request):
        return await render.message(request, 403, "无法下载", "请在本站页面上点击下载。")
    try:
        document = await evidence.one(
            learner_id=learner_id, entry_id=entry_id, document_id=document_id
        )
        return file_response(document, await evidence.content_of(document))
    except NxceError as error:
        return await render.message(request, error.status, "无法下载", error.detail)


upload_form = upload_by(auditor_form)  # an upload as the page posts it


@router.post("/learners/{learner_id}/entries/{entry_id}/documents")
async def upload(
    request: Request,
    form: Annotated[Upload, Depends(upload_form)],
    learner_id: str,
    entry_id: str,
) -> Response:
    if form.file is None or not form.file.filename:
        return await render.message(request, 422, "请选择文件", "请选择要上传的证明材料（file）。")
    try:
        await evidence.attach(
            learner_id=learner_id,
            entry_id=entry_id,
            filename=form.file.filename,
            content_type=form.file.content_type,
            content=await form.file.read(evidence.MAX_DOCUMENT_BYTES + 1),
            by=form.by.key,
        )
    except NxceError as error:
        return await render.message(request, error.status, "无法上传", error.detail)
    return RedirectResponse(
        f"/auditor/learners/{learner_id}?done=attach&entry={entry_id}", status_code=303
    )
