"""HTTP routes of transcripts and their verification.

`GET /learners/{id}/transcript`: auditors (and admins) for anyone, a learner-bound client
for its own learner; the national id number in full for auditors only.
`GET /verify/{code}` and `POST /verify`: anyone, no credentials: a code is checkable by
whoever holds the paper.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, ConfigDict, Field, model_validator

from catalog import programme as catalog_programme
from catalog.programme import Programme
from catalog.programme_api import certificate_verified
from catalog.programme_schemas import CertificateVerifyRead
from credits.access import check_auditor, check_read, sees_full_id_numbers
from credits.context import Credits
from credits.schemas import LEARNER_ID
from nxce.core.auth import Principal, authenticate
from nxce.core.errors import Conflict, NotFound, invalid
from nxce.core.json_route import JsonRoute
from nxce.core.params import QueryInt, no_query, single_valued
from nxce.core.problems import responses
from transcripts import codes, exports, service
from transcripts.content import Transcript
from transcripts.formats import FORMATS
from transcripts.models import ExportJob, ExportRequest, IssuedTranscript, JobStatus

Level = Literal["intermediate", "deputy_senior", "senior"]
FormatName = Literal["pdf", "xlsx", "csv", "json"]


def base_url(request: Request) -> str:
    """Where verification links point: NXCE_PUBLIC_URL, else the address of this request,
    whose host the service answers only when NXCE_ALLOWED_HOSTS lists it (nxce.core.hosts)."""
    configured: str | None = request.app.state.settings.public_url
    return configured or str(request.base_url).rstrip("/")


def transcripts_of(request: Request) -> service.Transcripts:
    found: service.Transcripts = request.app.state.transcripts
    return found


def credits_of(request: Request) -> Credits:
    found: Credits = request.app.state.credits
    return found


TranscriptsDep = Annotated[service.Transcripts, Depends(transcripts_of)]

Caller = Annotated[Principal, Depends(authenticate)]


class TranscriptQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    from_: QueryInt | None = Field(None, alias="from", ge=2000, le=2100)
    to: QueryInt | None = Field(None, ge=2000, le=2100)
    level: Level | None = None
    year: QueryInt | None = Field(None, ge=2000, le=2100, description="application year audited")
    format: FormatName = "json"

    def request(self) -> service.Request:
        return service.Request(first=self.from_, last=self.to, level=self.level, year=self.year)


def download_name(learner_id: str, body: Transcript, extension: str) -> str:
    span = body.span
    return f"transcript-{learner_id}-{span.first}-{span.last}.{extension}"


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
    route_class=JsonRoute,
    tags=["transcripts"],
    dependencies=[Depends(single_valued)],
    responses=responses(401, 403, 404, 422, 429),
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
    request: Request,
) -> Response:
    """A learner's transcript (学时证明): every ledger entry of the years `from`–`to`
    (pending and reversed ones shown, not counted), totals by year and category, and with
    `level` the audit of an application in `year` (the newest policy's by default; its
    window is the default range). Each carries a verification code checkable at
    `/verify/{code}`."""
    check_read(caller, learner_id)
    return await transcript_file(
        request, principal=caller, learner_id=learner_id, asked=query.request(),
        format_=query.format,
    )  # fmt: skip


async def transcript_file(
    request: Request,
    *,
    principal: Principal,
    learner_id: str,
    asked: service.Request,
    format_: str,
    attachment: bool = False,
) -> Response:
    """Issue one transcript, render it, record it (only once made) and answer it: JSON
    inline unless `attachment`, the other formats as files. The API and the pages."""
    transcripts = transcripts_of(request)
    issued = await service.issue(
        transcripts=transcripts,
        credits=credits_of(request),
        learner_id=learner_id,
        request=asked,
        full_id_number=sees_full_id_numbers(principal),
        issued_by=principal.key,
        base_url=base_url(request),
        format_=format_,
    )
    body, code = issued.content, issued.record.code
    if format_ == "json" and not attachment:
        await service.keep([issued.record])
        return JSONResponse(
            body.to_json(), headers={"Cache-Control": "no-store", "X-Verification-Code": code}
        )
    chosen = FORMATS[format_]
    data = await transcripts.render(format_, body)
    await service.keep([issued.record])
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


verification = APIRouter(route_class=JsonRoute, tags=["transcripts"], responses=responses(404, 422))


def _verified(record: IssuedTranscript, matches: bool | None = None) -> VerifyRead:
    return VerifyRead(
        genuine=True,
        code=record.code,
        issued_at=record.summary["issued_at"],
        format=record.format,
        summary=record.summary,
        content_matches=matches,
    )


def programme_of(request: Request) -> Programme:
    found: Programme = request.app.state.programme
    return found


ProgrammeDep = Annotated[Programme, Depends(programme_of)]


@verification.get(
    "/verify/{code}",
    response_model=VerifyRead | CertificateVerifyRead,
    dependencies=[Depends(no_query)],
)
async def verify(
    code: str, transcripts: TranscriptsDep, programme: ProgrammeDep
) -> VerifyRead | CertificateVerifyRead:
    """Public: whether a transcript's verification code is genuine, and the summary it
    certified (name, masked id number, years, totals, verdict, issue time) to compare the
    paper against; or a programme certificate's (§五(二), `kind: "certificate"`): what it
    certifies, no id numbers, and whether it still stands (`withdrawn` when its base was
    not in good standing on the assessment date, §三). 404 (`genuine: false`) for a code
    neither was issued with."""
    try:
        return _verified(await service.verify(transcripts=transcripts, code=code))
    except NotFound as missing:
        cleaned = codes.normalise(code)
        found = None
        if cleaned is not None:
            found = await catalog_programme.verify_certificate(programme=programme, code=cleaned)
        if found is None:
            raise NotFound(
                f"no transcript or certificate was issued with the code {cleaned} (or its "
                f"record was altered)",
                genuine=False,
            ) from missing
        return certificate_verified(found)


@verification.post(
    "/verify",
    response_model=VerifyRead,
    dependencies=[Depends(no_query)],
    responses=responses(400, 413, 415),
)
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


# --- batch exports ----------------------------------------------------------------------


class ExportCreate(BaseModel):
    """Whose transcripts (ids, or everyone of an employer and/or series), which years,
    which audit, which format."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    learner_ids: list[Annotated[str, Field(pattern=LEARNER_ID)]] | None = Field(
        None, min_length=1, max_length=exports.MAX_LEARNERS
    )
    employer: Annotated[str, Field(min_length=1, max_length=200)] | None = None
    series: Annotated[str, Field(min_length=1, max_length=50)] | None = None
    from_: QueryInt | None = Field(None, alias="from", ge=2000, le=2100)
    to: QueryInt | None = Field(None, ge=2000, le=2100)
    level: Level | None = None
    year: int | None = Field(None, ge=2000, le=2100)
    format: FormatName = "pdf"

    @model_validator(mode="after")
    def _one_selection(self) -> ExportCreate:
        by_filter = self.employer is not None or self.series is not None
        if (self.learner_ids is None) == (not by_filter):
            raise ValueError(
                "give learner_ids, or employer and/or series, to choose the learners"
                if self.learner_ids is None
                else "give learner_ids or employer/series, not both"
            )
        return self

    def export_request(self) -> ExportRequest:
        """What the job keeps of the request (the learners it exports are kept apart)."""
        return ExportRequest(
            employer=self.employer,
            series=self.series,
            from_=self.from_,
            to=self.to,
            level=self.level,
            year=self.year,
            format=self.format,
        )


class Progress(BaseModel):
    done: int
    total: int
    percent: float


class ExportFile(BaseModel):
    url: str
    bytes: int
    sha256: str


class ExportRead(BaseModel):
    id: str
    status: JobStatus
    progress: Progress
    request: dict[str, Any]
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    attempts: int
    error: str | None
    file: ExportFile | None


def export_read(job: ExportJob) -> ExportRead:
    file = None
    if job.status == "done" and job.file_bytes is not None and job.file_sha256 is not None:
        file = ExportFile(
            url=f"/exports/{job.job_id}/file", bytes=job.file_bytes, sha256=job.file_sha256
        )
    percent = 100.0 if job.total == 0 else round(100 * job.done / job.total, 1)
    return ExportRead(
        id=job.job_id,
        status=job.status,
        progress=Progress(done=job.done, total=job.total, percent=percent),
        request=job.request.to_json(),
        created_at=job.created_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        attempts=job.attempts,
        error=job.error,
        file=file,
    )


def runner_of(request: Request) -> exports.Runner:
    found: exports.Runner = request.app.state.exports
    return found


exports_router = APIRouter(
    prefix="/exports",
    route_class=JsonRoute,
    tags=["transcripts"],
    dependencies=[Depends(no_query)],
    responses=responses(401, 403, 404, 422, 429),
)


@exports_router.post(
    "", response_model=ExportRead, status_code=202, responses=responses(400, 413, 415)
)
async def start_export(
    asked: ExportCreate,
    caller: Caller,
    runner: Annotated[exports.Runner, Depends(runner_of)],
    request: Request,
    response: Response,
) -> ExportRead:
    """Start a batch export (auditors, admins): one transcript file per learner and a
    summary CSV, zipped. Answers the job (202); follow `GET /exports/{id}`."""
    check_auditor(caller)
    export_request = asked.export_request()
    service.Request.of_export(export_request).check(location="body")
    if asked.level is not None:  # an unknown application year is refused now, not later
        policies = runner.credits.policies
        policies.for_application(
            asked.year if asked.year is not None else policies.newest().application_year
        ).level(asked.level)
    learner_ids = await exports.select_learners(
        learner_ids=asked.learner_ids, employer=asked.employer, series=asked.series
    )
    job = await exports.create(
        request=export_request,
        learner_ids=learner_ids,
        requested_by=caller.key,
        full_id_numbers=sees_full_id_numbers(caller),
        base_url=base_url(request),
    )
    runner.submit(job.job_id)
    response.headers["Location"] = f"/exports/{job.job_id}"
    return export_read(job)


@exports_router.get("", response_model=list[ExportRead])
async def list_exports(caller: Caller) -> list[ExportRead]:
    """The caller's export jobs, newest first (at most 50)."""
    return [export_read(job) for job in await exports.mine(requested_by=caller.key)]


@exports_router.get("/{job_id}", response_model=ExportRead)
async def get_export(job_id: str, caller: Caller) -> ExportRead:
    """A job's status and progress (`done` of `total` learners); when done, its file."""
    return export_read(await exports.get(job_id=job_id, requested_by=caller.key))


@exports_router.get(
    "/{job_id}/file",
    responses={
        200: {"content": {"application/zip": {}}, "description": "The ZIP"},
        **responses(409),
    },
)
async def export_file(job_id: str, caller: Caller) -> Response:
    """The finished ZIP: one transcript per learner and summary.csv. 409 until done."""
    job = await exports.get(job_id=job_id, requested_by=caller.key)
    if job.status != "done":
        raise Conflict(f"export job {job_id!r} is {job.status}, not done", job_status=job.status)
    return zip_response(job)


def zip_response(job: ExportJob) -> StreamingResponse:
    """A finished export's ZIP, streamed from the store."""
    return StreamingResponse(
        exports.file_chunks(job),
        media_type="application/zip",
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''transcripts-{job.job_id}.zip",
            "Content-Length": str(job.file_bytes),
            "Cache-Control": "no-store",
        },
    )
