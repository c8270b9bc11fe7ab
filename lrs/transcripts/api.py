"""HTTP routes of transcripts and their verification.

`GET /learners/{id}/transcript`: auditors (and admins) for anyone, a learner-bound client
for its own learner; the national id number in full for auditors only.
`GET /verify/{code}` and `POST /verify`: anyone, no credentials: a code is checkable by
whoever holds the paper.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from lrs.credits import service as credit_service
from lrs.credits.access import check_read, sees_full_id_numbers
from lrs.transcripts import service
from lrs.transcripts.formats import FORMATS
from nxce.auth import Principal, authenticate
from nxce.errors import invalid
from nxce.params import no_query, single_valued
from nxce.problems import responses

Level = Literal["intermediate", "deputy_senior", "senior"]
FormatName = Literal["pdf", "xlsx", "csv", "json"]


def base_url(request: Request) -> str:
    """Where verification links point: the configured public address, else this one."""
    configured: str | None = request.app.state.settings.public_url
    return configured or str(request.base_url).rstrip("/")


def transcripts_of(request: Request) -> service.Transcripts:
    found: service.Transcripts = request.app.state.transcripts
    return found


def credits_of(request: Request) -> credit_service.Credits:
    found: credit_service.Credits = request.app.state.credits
    return found


TranscriptsDep = Annotated[service.Transcripts, Depends(transcripts_of)]
CreditsDep = Annotated[credit_service.Credits, Depends(credits_of)]


async def _principal(request: Request) -> Principal:
    return await authenticate(request)


Caller = Annotated[Principal, Depends(_principal)]


class TranscriptQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: int | None = Field(None, alias="from", ge=2000, le=2100)
    to: int | None = Field(None, ge=2000, le=2100)
    level: Level | None = None
    year: int | None = Field(None, ge=2000, le=2100, description="application year audited")
    format: FormatName = "json"

    def request(self) -> service.Request:
        return service.Request(first=self.from_, last=self.to, level=self.level, year=self.year)


def download_name(learner_id: str, body: dict[str, Any], extension: str) -> str:
    span = body["range"]
    return f"transcript-{learner_id}-{span['from']}-{span['to']}.{extension}"


def file_response(data: bytes, media_type: str, name: str, code: str) -> Response:
    return Response(
        data,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(name)}",
            "Cache-Control": "no-store",
            "X-Verification-Code": code,
        },
    )


learners = APIRouter(
    prefix="/learners",
    tags=["transcripts"],
    dependencies=[Depends(single_valued)],
    responses=responses(401, 403, 404, 422),
)


@learners.get(
    "/{learner_id}/transcript",
    responses={
        200: {
            "content": {f.media_type.split(";")[0]: {} for f in FORMATS.values()},
            "description": "The transcript in the format asked for",
        }
    },
)
async def transcript(
    learner_id: str,
    query: Annotated[TranscriptQuery, Query()],
    caller: Caller,
    transcripts: TranscriptsDep,
    credits: CreditsDep,
    request: Request,
) -> Response:
    """A learner's transcript (学时证明): every ledger entry of the years `from`–`to`
    (pending and reversed ones shown, not counted), totals by year and category, and with
    `level` the audit of an application in `year` (the newest policy's by default; its
    window is the default range). Each carries a verification code checkable at
    `/verify/{code}`."""
    check_read(caller, learner_id)
    issued = await service.issue(
        transcripts=transcripts,
        credits=credits,
        learner_id=learner_id,
        request=query.request(),
        full_id_number=sees_full_id_numbers(caller),
        issued_by=caller.key,
        base_url=base_url(request),
        format_=query.format,
    )
    body, code = issued.content, issued.record.code
    if query.format == "json":
        return JSONResponse(
            body, headers={"Cache-Control": "no-store", "X-Verification-Code": code}
        )
    chosen = FORMATS[query.format]
    data = await transcripts.render(query.format, body)
    return file_response(
        data, chosen.media_type, download_name(learner_id, body, chosen.extension), code
    )


class VerifyRead(BaseModel):
    genuine: bool
    code: str
    issued_at: str
    format: str
    summary: dict[str, Any]
    content_matches: bool | None = Field(
        None, description="POST /verify only: whether the transcript sent is exactly as issued"
    )


verification = APIRouter(tags=["transcripts"], responses=responses(404, 422))


def _verified(record: Any, matches: bool | None = None) -> VerifyRead:
    return VerifyRead(
        genuine=True,
        code=record.code,
        issued_at=record.summary["issued_at"],
        format=record.format,
        summary=record.summary,
        content_matches=matches,
    )


@verification.get("/verify/{code}", response_model=VerifyRead, dependencies=[Depends(no_query)])
async def verify(code: str, transcripts: TranscriptsDep) -> VerifyRead:
    """Public: whether a transcript's verification code is genuine, and the summary it
    certified (name, masked id number, years, totals, verdict, issue time) to compare the
    paper against. 404 (`genuine: false`) for a code no transcript was issued with."""
    return _verified(await service.verify(transcripts=transcripts, code=code))


@verification.post("/verify", response_model=VerifyRead, dependencies=[Depends(no_query)])
async def verify_content(
    body: Annotated[dict[str, Any], Body()], transcripts: TranscriptsDep
) -> VerifyRead:
    """Public: a JSON transcript checked whole: its code is genuine and `content_matches`
    says whether every entry and figure is exactly as issued."""
    code = body.get("verification_code")
    if not isinstance(code, str):
        raise invalid("verification_code", "a JSON transcript carries its code", code)
    record = await service.verify(transcripts=transcripts, code=code)
    return _verified(record, service.matches(record, body))
