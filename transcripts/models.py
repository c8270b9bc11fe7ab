"""Beanie documents of transcripts: every one issued, and batch export jobs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from beanie import Document
from pydantic import BaseModel, ConfigDict, Field
from pymongo import ASCENDING, IndexModel

JobStatus = Literal["queued", "running", "done", "failed"]


class IssuedTranscript(Document):
    """A transcript as it was issued: what `GET /verify/{code}` answers. The code is a
    keyed hash of the summary and the digest of the full content, so a record edited in
    the store fails verification too."""

    code: str
    learner_id: str
    issued_at: datetime
    issued_by: str
    format: str
    content_sha256: str
    summary: dict[str, Any]

    class Settings:
        name = "transcripts"
        indexes = [
            # verify: one transcript by its code.
            IndexModel([("code", ASCENDING)], unique=True, name="code_unique"),
            # a learner's transcripts, newest last.
            IndexModel([("learner_id", ASCENDING), ("issued_at", ASCENDING)], name="learner"),
        ]


class ExportRequest(BaseModel):
    """What a batch export was asked for, kept with its job: whose transcripts (the
    employer and/or series chosen by, if any), which years, which audit, which format."""

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    employer: str | None = None
    series: str | None = None
    from_: int | None = Field(None, alias="from")
    to: int | None = None
    level: str | None = None
    year: int | None = None  # the application year audited; the newest policy's by default
    format: str

    def to_json(self) -> dict[str, Any]:
        """As the job's JSON shows it (`from`, `to`)."""
        return self.model_dump(by_alias=True)


class ExportJob(Document):
    """A batch export: who asked for which transcripts, and how far it has come."""

    job_id: str
    status: JobStatus
    request: ExportRequest
    learner_ids: list[str] = Field(default_factory=list)
    done: int = 0
    total: int = 0
    requested_by: str
    full_id_numbers: bool
    base_url: str
    attempts: int = 0
    owner: str | None = None  # the process making it
    error: str | None = None
    created_at: datetime
    started_at: datetime | None = None
    heartbeat_at: datetime | None = None
    finished_at: datetime | None = None
    file_bytes: int | None = None
    file_sha256: str | None = None

    class Settings:
        name = "export_jobs"
        indexes = [
            IndexModel([("job_id", ASCENDING)], unique=True, name="job_unique"),
            # start-up recovery: unfinished jobs.
            IndexModel([("status", ASCENDING)], name="status"),
        ]


class ExportChunk(Document):
    """A piece of a finished export's ZIP: kept in the store (not on one replica's disk)
    in pieces under MongoDB's 16 MiB document limit."""

    job_id: str
    attempt: int  # a retried job writes its own pieces; the finished attempt's are served
    n: int
    data: bytes

    class Settings:
        name = "export_chunks"
        indexes = [
            IndexModel(
                [("job_id", ASCENDING), ("attempt", ASCENDING), ("n", ASCENDING)],
                unique=True,
                name="job_attempt_n",
            ),
        ]


DOCUMENTS = (IssuedTranscript, ExportJob, ExportChunk)
