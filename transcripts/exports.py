"""Batch exports: the transcripts of many learners in one ZIP, made in the background.

A job is a document (`ExportJob`); the process that created it queues it, and whichever
process claims it first (an atomic queued -> running update) makes it, beating a
heartbeat after every group of learners. A job whose heartbeat stops (its process died)
is claimed again by the sweep of any running process, up to `MAX_ATTEMPTS` times, then
marked failed with the reason: a job finishes, or says it failed; it never hangs.

The ZIP is kept in the store in pieces (`ExportChunk`), so any replica can serve it.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import hashlib
import io
import logging
import re
import tempfile
import uuid
import zipfile
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import IO, Any, get_args

from pymongo import ReturnDocument

from credits.context import Credits
from credits.models import Learner
from nxce.core import db
from nxce.core.errors import NotFound, NxceError, invalid
from nxce.core.sheets import safe as _safe
from transcripts import service
from transcripts.content import Transcript
from transcripts.formats import FORMATS, Format
from transcripts.models import ExportChunk, ExportJob, ExportRequest, JobStatus
from transcripts.wording import conclusion_cells, range_text

log = logging.getLogger("nxce")

MAX_LEARNERS = 20_000  # one job; more is several jobs
GROUP = 50  # learners read, certified and rendered together; one heartbeat each
CHUNK_BYTES = 8 * 1_048_576  # ZIP pieces, well under MongoDB's 16 MiB document limit
SPOOL_BYTES = 32 * 1_048_576  # a ZIP larger than this is built on disk, not in memory
MAX_ATTEMPTS = 3
LEASE = timedelta(seconds=120)  # a running job without a heartbeat this long is stalled
SWEEP_SECONDS = 30.0


async def select_learners(
    *, learner_ids: Sequence[str] | None, employer: str | None, series: str | None
) -> list[str]:
    """The learners a job exports, fixed when it is created: the ids given (422 naming
    any unknown one), or every learner of the employer and/or series (422 when none)."""
    collection = db.collection(Learner)
    if learner_ids:
        unique = list(dict.fromkeys(learner_ids))
        known = {
            d["learner_id"]
            async for d in collection.find(
                {"learner_id": {"$in": unique}}, {"learner_id": 1, "_id": 0}
            )
        }
        unknown = [i for i in unique if i not in known]
        if unknown:
            shown = ", ".join(unknown[:5]) + (" …" if len(unknown) > 5 else "")
            raise invalid("learner_ids", f"{len(unknown)} unknown learner(s): {shown}", unknown[0])
        return unique
    query: dict[str, Any] = {}
    if employer is not None:
        query["employer"] = employer
    if series is not None:
        query["series"] = series
    found = sorted(
        [d["learner_id"] async for d in collection.find(query, {"learner_id": 1, "_id": 0})]
    )
    if not found:
        field, value = ("employer", employer) if employer is not None else ("series", series)
        raise invalid(field, "no learner matches", value)
    if len(found) > MAX_LEARNERS:
        raise invalid(
            "employer" if employer is not None else "series",
            f"{len(found)} learners match; one export holds at most {MAX_LEARNERS}",
            employer if employer is not None else series,
        )
    return found


async def create(
    *,
    request: ExportRequest,
    learner_ids: list[str],
    requested_by: str,
    full_id_numbers: bool,
    base_url: str,
) -> ExportJob:
    moment = db.now()
    job = ExportJob(
        job_id=uuid.uuid4().hex,
        status="queued",
        request=request,
        learner_ids=learner_ids,
        total=len(learner_ids),
        requested_by=requested_by,
        full_id_numbers=full_id_numbers,
        base_url=base_url,
        created_at=moment,
        heartbeat_at=moment,
    )
    await job.insert()
    return job


async def get(*, job_id: str, requested_by: str) -> ExportJob:
    """A job of the client that asked for it (others are told it does not exist)."""
    job = await ExportJob.find_one({"job_id": job_id})
    if job is None or job.requested_by != requested_by:
        raise NotFound(f"no export job {job_id!r}")
    return job


async def mine(*, requested_by: str, limit: int = 50) -> list[ExportJob]:
    return (
        await ExportJob.find({"requested_by": requested_by})
        .sort("-created_at")
        .limit(limit)
        .to_list()
    )


async def count_by_status() -> dict[str, int]:
    """How many export jobs are queued, running, done and failed (the `status` index)."""
    jobs = db.collection(ExportJob)
    return {
        status: int(await jobs.count_documents({"status": status}))
        for status in get_args(JobStatus)
    }


async def file_chunks(job: ExportJob) -> AsyncIterator[bytes]:
    """The finished ZIP, piece by piece (of the attempt that finished it)."""
    cursor = (
        db.collection(ExportChunk)
        .find({"job_id": job.job_id, "attempt": job.attempts}, {"data": 1, "_id": 0})
        .sort("n", 1)
    )
    async for piece in cursor:
        yield bytes(piece["data"])


# --- making a job ---------------------------------------------------------------------

_UNSAFE = re.compile(r'[\\/:*?"<>|\x00-\x1f\x7f]')

SUMMARY_HEADER = (
    "学员编号",
    "姓名",
    "身份证号",
    "工作单位",
    "系列",
    "统计年度",
    "公需课",
    "专业课",
    "合计",
    "待审核（不计入）",
    "已撤销（不计入）",
    "审验结论",
    "总学时差额",
    "公需课差额",
    "验证码",
    "文件",
    "审验人结论",
    "结论作出后记录有变化",
)


def file_name(learner: Learner, extension: str) -> str:
    """`{id}_{name}.{ext}`; characters no file system takes are dropped from the name."""
    return f"{learner.learner_id}_{_UNSAFE.sub('', learner.name)}.{extension}"


def summary_row(body: Transcript, name: str) -> list[Any]:
    learner, sums, audit = body.learner, body.totals, body.audit
    verdict = ("符合" if audit.passed else "不符合") if audit else ""
    return [
        learner.learner_id,
        learner.name,
        learner.id_number,
        learner.employer,
        learner.series or "",
        range_text(body.span),
        sums.public,
        sums.professional,
        sums.total,
        sums.pending_review,
        sums.reversed,
        verdict,
        audit.shortfall.total if audit else "",
        audit.shortfall.public if audit else "",
        body.verification_code,
        name,
        *conclusion_cells(audit),
    ]


@dataclass(frozen=True, slots=True)
class StoredZip:
    """A finished export's ZIP as kept in the store: its size and SHA-256."""

    size: int
    sha256: str


@dataclass(frozen=True, slots=True)
class Zipped:
    """A learner's transcript written into the ZIP under `name`."""

    name: str


@dataclass(frozen=True, slots=True)
class NotMade:
    """A learner's transcript that could not be made, and why (their summary row says so;
    the others are made)."""

    reason: str


class _Lost(Exception):
    """Another process took the job over (this one was thought dead): stop quietly."""


def _running_by(job: ExportJob, owner: str) -> dict[str, Any]:
    """The filter of every write a job's maker makes: the job is still its own."""
    return {"job_id": job.job_id, "owner": owner, "status": "running"}


class Runner:
    """Makes export jobs in the background, one at a time per process."""

    def __init__(
        self,
        *,
        transcripts: service.Transcripts,
        credits: Credits,
        lease: timedelta = LEASE,
        sweep_seconds: float = SWEEP_SECONDS,
    ) -> None:
        self.transcripts = transcripts
        self.credits = credits
        self.lease = lease
        self.sweep_seconds = sweep_seconds
        self.owner = uuid.uuid4().hex
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        self._tasks = [
            asyncio.create_task(self._work(), name="nxce exports"),
            asyncio.create_task(self._sweep(), name="nxce exports sweep"),
        ]

    async def stop(self) -> None:
        """Stop; a job being made goes back to the queue for the next process."""
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._tasks = []

    def submit(self, job_id: str) -> None:
        if job_id not in self._queued:
            self._queued.add(job_id)
            self._queue.put_nowait(job_id)

    async def _sweep(self) -> None:
        """Queue every job no process is making: queued ones (their process may have
        stopped before taking them) and running ones whose heartbeat stopped."""
        while True:
            try:
                for job_id in await self.stalled():
                    self.submit(job_id)
            except Exception:  # the store may be briefly away; sweep again later
                log.exception("export sweep failed")
            await asyncio.sleep(self.sweep_seconds)

    async def stalled(self) -> list[str]:
        before = db.now() - self.lease
        cursor = db.collection(ExportJob).find(
            {"$or": [{"status": "queued"}, {"status": "running", "heartbeat_at": {"$lt": before}}]},
            {"job_id": 1, "_id": 0},
        )
        return [d["job_id"] async for d in cursor]

    async def _work(self) -> None:
        while True:
            job_id = await self._queue.get()
            self._queued.discard(job_id)
            try:
                await self.run(job_id)
            except Exception:
                log.exception("export job %s failed", job_id)

    async def _claim(self, job_id: str) -> ExportJob | None:
        """Take a queued job, or a running one whose heartbeat stopped; None when another
        process holds it or it is finished."""
        moment = db.now()
        claimed = await db.collection(ExportJob).find_one_and_update(
            {
                "job_id": job_id,
                "$or": [
                    {"status": "queued"},
                    {"status": "running", "heartbeat_at": {"$lt": moment - self.lease}},
                ],
            },
            {
                "$set": {
                    "status": "running",
                    "owner": self.owner,
                    "heartbeat_at": moment,
                    "started_at": moment,
                    "done": 0,
                },
                "$inc": {"attempts": 1},
            },
            return_document=ReturnDocument.AFTER,
        )
        if claimed is None:
            return None
        job: ExportJob = ExportJob.model_validate(claimed)
        if job.attempts > MAX_ATTEMPTS:
            await self._finish(
                job,
                status="failed",
                error=f"stopped {MAX_ATTEMPTS} times without finishing (the process making "
                "it ended); start the export again",
            )
            return None
        return job

    async def _beat(self, job: ExportJob, done: int) -> None:
        result = await db.collection(ExportJob).update_one(
            _running_by(job, self.owner), {"$set": {"done": done, "heartbeat_at": db.now()}}
        )
        if result.matched_count == 0:
            raise _Lost

    async def _finish(
        self,
        job: ExportJob,
        *,
        status: JobStatus,
        error: str | None = None,
        stored: StoredZip | None = None,
    ) -> None:
        """Say the job ended: failed and why, or done with the ZIP it stored."""
        fields: dict[str, Any] = {"status": status, "finished_at": db.now(), "error": error}
        if stored is not None:
            fields |= {"done": job.total, "file_bytes": stored.size, "file_sha256": stored.sha256}
        result = await db.collection(ExportJob).update_one(
            _running_by(job, self.owner), {"$set": fields}
        )
        if result.matched_count == 0:
            raise _Lost

    async def _requeue(self, job: ExportJob) -> None:
        """Give a job back (this process is stopping): the attempt does not count."""
        with contextlib.suppress(Exception):
            await db.collection(ExportJob).update_one(
                _running_by(job, self.owner),
                {
                    "$set": {"status": "queued", "owner": None, "done": 0},
                    "$inc": {"attempts": -1},
                },
            )

    async def run(self, job_id: str) -> None:
        job = await self._claim(job_id)
        if job is None:
            return
        # The ZIP in a temporary file: in memory up to SPOOL_BYTES, on disk beyond.
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as spool:
            try:
                await self._make(job, spool)
                await self._store(job, spool)
            except _Lost:
                log.warning("export job %s was taken over by another process", job_id)
            except asyncio.CancelledError:
                await self._requeue(job)
                raise
            except Exception as error:
                if not isinstance(error, NxceError):
                    log.exception("export job %s failed", job_id)
                reason = (
                    error.detail
                    if isinstance(error, NxceError)
                    else f"internal error ({type(error).__name__})"
                )
                with contextlib.suppress(_Lost):
                    await self._finish(job, status="failed", error=reason)

    async def _store(self, job: ExportJob, data: IO[bytes]) -> None:
        """Keep the ZIP under this attempt's number, piece by piece, then say done in one
        update (only if the job is still this process's), then drop other attempts'."""
        collection = db.collection(ExportChunk)
        await collection.delete_many({"job_id": job.job_id, "attempt": job.attempts})
        digest, size, n = hashlib.sha256(), 0, 0
        data.seek(0)
        while piece := await asyncio.to_thread(data.read, CHUNK_BYTES):
            digest.update(piece)
            size += len(piece)
            chunk = ExportChunk(job_id=job.job_id, attempt=job.attempts, n=n, data=piece)
            await collection.insert_one(db.new_document(chunk))
            n += 1
        await self._finish(job, status="done", stored=StoredZip(size, digest.hexdigest()))
        await collection.delete_many({"job_id": job.job_id, "attempt": {"$ne": job.attempts}})

    async def _make(self, job: ExportJob, out: IO[bytes]) -> None:
        """Write the job's ZIP to `out`."""
        request = service.Request.of_export(job.request)
        chosen = FORMATS[job.request.format]
        summary = io.StringIO()
        table = csv.writer(summary, lineterminator="\r\n")
        table.writerow(SUMMARY_HEADER)
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6) as zf:
            for at in range(0, len(job.learner_ids), GROUP):
                ids = job.learner_ids[at : at + GROUP]
                await self._make_group(job, ids, request, chosen, zf, table.writerow)
                await self._beat(job, at + len(ids))
            zf.writestr("summary.csv", "\ufeff" + summary.getvalue())

    async def _make_group(
        self,
        job: ExportJob,
        ids: Sequence[str],
        request: service.Request,
        chosen: Format,
        zf: zipfile.ZipFile,
        write_row: Callable[[Sequence[Any]], object],
    ) -> None:
        """Some of the job's learners: read, certified, rendered into the ZIP, each with a
        row in the summary; the records of the transcripts made are kept."""
        found = {
            learner.learner_id: learner
            async for learner in Learner.find({"learner_id": {"$in": list(ids)}})
        }
        learners = [found[i] for i in ids if i in found]
        issued = await service.issue_many(
            transcripts=self.transcripts,
            credits=self.credits,
            learners=learners,
            request=request,
            full_id_number=job.full_id_numbers,
            issued_by=job.requested_by,
            base_url=job.base_url,
            format_=chosen.name,
        )
        made = await asyncio.to_thread(self._render_into, zf, chosen, learners, issued)
        kept = []
        for learner, one, outcome in zip(learners, issued, made, strict=True):
            if isinstance(outcome, NotMade):
                write_row(_failed_row(learner.learner_id, outcome.reason))
                continue
            write_row([_safe(v) for v in summary_row(one.content, outcome.name)])
            kept.append(one.record)
        for missing in (i for i in ids if i not in found):
            write_row(_failed_row(missing, "学员已不存在"))
        await service.keep(kept)

    def _render_into(
        self,
        zf: zipfile.ZipFile,
        chosen: Format,
        learners: Sequence[Learner],
        issued: Sequence[service.Issued],
    ) -> list[Zipped | NotMade]:
        """Render and zip each transcript (in a worker thread: both take CPU); one failing
        does not stop the others."""
        made: list[Zipped | NotMade] = []
        for learner, one in zip(learners, issued, strict=True):
            try:
                data = self.transcripts.render_now(chosen.name, one.content)
            except Exception as error:
                log.exception("transcript of %s not rendered", one.record.learner_id)
                made.append(NotMade(f"未能生成（{type(error).__name__}）"))
                continue
            name = file_name(learner, chosen.extension)
            zf.writestr(name, data)
            made.append(Zipped(name))
        return made


def _failed_row(learner_id: str, why: str) -> list[str]:
    row = [""] * len(SUMMARY_HEADER)
    row[0], row[SUMMARY_HEADER.index("审验结论")] = _safe(learner_id), why
    return row
