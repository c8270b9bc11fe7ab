"""Batch exports: a job per request, its progress, the ZIP with one transcript per learner
and a summary CSV; jobs whose process stopped are taken up again, or fail with a reason."""

from __future__ import annotations

import asyncio
import csv
import io
import json
import zipfile
from datetime import timedelta
from typing import Any

import httpx
import pypdf
import pytest
from fastapi import FastAPI

from nxce.core import db
from tests.conftest import ADMIN
from tests.credits.conftest import entry, manual, register
from transcripts import exports
from transcripts import service as transcript_service
from transcripts.content import Transcript
from transcripts.models import ExportJob, IssuedTranscript

EMPLOYER = "宁夏建工集团有限公司"


async def many_learners(client: httpx.AsyncClient, count: int) -> dict[str, float]:
    """`count` learners of one employer, each with one manual entry of its own hours;
    answers hours by learner id."""
    hours: dict[str, float] = {}
    for n in range(count):
        learner_id = f"worker{n:04d}"
        await register(client, learner_id, f"职工{n}号", f"{n:03d}", employer=EMPLOYER)
        hours[learner_id] = float(n % 9 + 1)
        await entry(client, manual("2020-05-01", "public", hours[learner_id]), learner_id)
    return hours


async def start(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> httpx.Response:
    return await client.post("/exports", json=body, headers=auth)


async def finished(
    client: httpx.AsyncClient, auth: dict[str, str], job_id: str
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Poll the job until it ends; answers its last state and every progress seen."""
    seen: list[dict[str, Any]] = []
    for _ in range(2000):
        response = await client.get(f"/exports/{job_id}", headers=auth)
        assert response.status_code == 200, response.text
        job = response.json()
        seen.append(job["progress"])
        if job["status"] in ("done", "failed"):
            return job, seen
        await asyncio.sleep(0.02)
    raise AssertionError(f"export {job_id} did not finish: {seen[-1]}")


async def download(client: httpx.AsyncClient, auth: dict[str, str], job: dict[str, Any]) -> bytes:
    response = await client.get(job["file"]["url"], headers=auth)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    return response.content


async def test_a_batch_of_200_learners_as_csv(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """200 learners chosen by employer: progress rises to 200/200 (100%), the ZIP holds
    one CSV per learner with that learner's hours and a summary row for each."""
    hours = await many_learners(client, 200)
    response = await start(client, auditor, employer=EMPLOYER, format="csv", **{"from": 2020})
    assert response.status_code == 202, response.text
    created = response.json()
    assert response.headers["location"] == f"/exports/{created['id']}"
    assert created["progress"] == {"done": 0, "total": 200, "percent": 0.0}

    job, seen = await finished(client, auditor, created["id"])
    assert job["status"] == "done", job
    assert seen[-1] == {"done": 200, "total": 200, "percent": 100.0}
    done = [p["done"] for p in seen]
    assert done == sorted(done)

    data = await download(client, auditor, job)
    assert len(data) == job["file"]["bytes"]
    archive = zipfile.ZipFile(io.BytesIO(data))
    names = archive.namelist()
    assert len(names) == 201 and "summary.csv" in names
    for n in (0, 57, 199):
        learner_id = f"worker{n:04d}"
        text = archive.read(f"{learner_id}_职工{n}号.csv").decode("utf-8-sig")
        rows = {row[0]: row[1:] for row in csv.reader(io.StringIO(text)) if row}
        assert rows["姓名"] == [f"职工{n}号"]
        assert rows["学员编号"] == [learner_id]
        assert float(rows["合计"][0]) == hours[learner_id]
    summary = list(csv.reader(io.StringIO(archive.read("summary.csv").decode("utf-8-sig"))))
    assert summary[0][:3] == ["学员编号", "姓名", "身份证号"]
    by_id = {row[0]: row for row in summary[1:]}
    assert set(by_id) == set(hours)
    for learner_id, expected in hours.items():
        assert float(by_id[learner_id][8]) == expected
        code = by_id[learner_id][14]
        assert (await client.get(f"/verify/{code}")).status_code == 200


async def test_pdf_export_with_the_audit_by_learner_ids(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    hours = await many_learners(client, 3)
    response = await start(
        client, auditor, learner_ids=list(hours), level="intermediate", year=2022, format="pdf"
    )
    assert response.status_code == 202, response.text
    job, _ = await finished(client, auditor, response.json()["id"])
    assert job["status"] == "done", job
    archive = zipfile.ZipFile(io.BytesIO(await download(client, auditor, job)))
    text = pypdf.PdfReader(io.BytesIO(archive.read("worker0001_职工1号.pdf"))).pages[0]
    extracted = text.extract_text().replace(" ", "")
    assert "职工1号" in extracted and "申报2022年中级职称" in extracted
    summary = list(csv.reader(io.StringIO(archive.read("summary.csv").decode("utf-8-sig"))))
    assert [row[11] for row in summary[1:]] == ["不符合"] * 3


async def test_who_may_export_and_see_a_job(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: Any
) -> None:
    """Auditors and admins start exports; a learner's app may not. A job is seen and
    downloaded by the client that started it only. Auditors' files carry id numbers in
    full, admins' masked."""
    await many_learners(client, 1)
    app_client = await bound_client("worker0000")
    assert (await start(client, app_client, employer=EMPLOYER)).status_code == 403
    assert (await client.post("/exports", json={"employer": EMPLOYER})).status_code == 401

    mine = (await start(client, auditor, employer=EMPLOYER, format="json")).json()
    theirs = (await start(client, ADMIN, employer=EMPLOYER, format="json")).json()
    assert (await client.get(f"/exports/{mine['id']}", headers=ADMIN)).status_code == 404
    listed = await client.get("/exports", headers=auditor)
    assert [j["id"] for j in listed.json()] == [mine["id"]]

    full, _ = await finished(client, auditor, mine["id"])
    masked, _ = await finished(client, ADMIN, theirs["id"])
    blocked = await client.get(f"/exports/{mine['id']}/file", headers=ADMIN)
    assert blocked.status_code == 404
    numbers = []
    for job, auth in ((full, auditor), (masked, ADMIN)):
        archive = zipfile.ZipFile(io.BytesIO(await download(client, auth, job)))
        body = json.loads(archive.read("worker0000_职工0号.json"))
        numbers.append(body["learner"]["id_number"])
    assert "*" not in numbers[0] and "********" in numbers[1]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "learner_ids"),
        ({"learner_ids": ["worker0000"], "employer": EMPLOYER}, "not both"),
        ({"learner_ids": []}, "learner_ids"),
        ({"learner_ids": ["worker0000", "nobody"]}, "nobody"),
        ({"employer": "不存在的单位"}, "employer"),
        ({"series": "工程", "format": "docx"}, "format"),
        ({"series": "工程", "from": 2022, "to": 2018}, "from"),
        ({"series": "工程", "level": "intermediate", "year": 2031}, "year"),
        ({"series": "工程", "colour": "red"}, "colour"),
    ],
)
async def test_bad_requests_start_nothing(
    client: httpx.AsyncClient, auditor: dict[str, str], body: dict[str, Any], field: str
) -> None:
    await many_learners(client, 1)
    response = await start(client, auditor, **body)
    assert response.status_code == 422, response.text
    assert field in response.json()["detail"]
    assert await ExportJob.count() == 0


async def test_file_before_the_job_is_done_is_409(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI
) -> None:
    await many_learners(client, 1)
    await app.state.exports.stop()  # nothing makes the job
    job = (await start(client, auditor, employer=EMPLOYER)).json()
    response = await client.get(f"/exports/{job['id']}/file", headers=auditor)
    assert response.status_code == 409
    assert "queued" in response.json()["detail"]


async def stall(job_id: str, attempts: int) -> None:
    """Make the job look as if the process making it died mid-way."""
    await db.collection(ExportJob).update_one(
        {"job_id": job_id},
        {
            "$set": {
                "status": "running",
                "owner": "a-process-that-died",
                "done": 1,
                "attempts": attempts,
                "heartbeat_at": db.now() - timedelta(minutes=10),
            }
        },
    )


async def test_a_job_whose_process_died_is_taken_up_again(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI
) -> None:
    """After a restart (a new runner over the same store) the stalled job is claimed by
    the sweep, made from the start, and finishes; the attempt is counted."""
    await many_learners(client, 3)
    await app.state.exports.stop()
    job = (await start(client, auditor, employer=EMPLOYER, format="csv")).json()
    await stall(job["id"], attempts=1)

    restarted = exports.Runner(
        transcripts=app.state.transcripts, credits=app.state.credits, sweep_seconds=0.05
    )
    app.state.exports = restarted
    await restarted.start()
    try:
        ended, _ = await finished(client, auditor, job["id"])
    finally:
        await restarted.stop()
    assert ended["status"] == "done"
    assert ended["attempts"] == 2
    assert ended["progress"]["done"] == 3
    archive = zipfile.ZipFile(io.BytesIO(await download(client, auditor, ended)))
    assert len(archive.namelist()) == 4


async def test_a_job_that_keeps_dying_fails_with_the_reason(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI
) -> None:
    await many_learners(client, 1)
    await app.state.exports.stop()
    job = (await start(client, auditor, employer=EMPLOYER)).json()
    await stall(job["id"], attempts=exports.MAX_ATTEMPTS)
    runner = exports.Runner(transcripts=app.state.transcripts, credits=app.state.credits)
    await runner.run(job["id"])
    ended, _ = await finished(client, auditor, job["id"])
    assert ended["status"] == "failed"
    assert "start the export again" in ended["error"]


async def test_a_transcript_that_cannot_be_made_is_reported_and_the_others_are_made(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI, monkeypatch: Any
) -> None:
    """One learner's file failing (a renderer bug) fails that learner's row, not the job;
    no record of the failed transcript is kept, so its code never verifies."""
    await many_learners(client, 3)
    render = app.state.transcripts.render_now

    def broken_for_one(name: str, body: Transcript) -> bytes:
        if body.learner.learner_id == "worker0001":
            raise RuntimeError("renderer crashed")
        data: bytes = render(name, body)
        return data

    monkeypatch.setattr(app.state.transcripts, "render_now", broken_for_one)
    job = (await start(client, auditor, employer=EMPLOYER, format="pdf")).json()
    ended, _ = await finished(client, auditor, job["id"])
    assert ended["status"] == "done", ended
    archive = zipfile.ZipFile(io.BytesIO(await download(client, auditor, ended)))
    assert sorted(archive.namelist()) == [
        "summary.csv", "worker0000_职工0号.pdf", "worker0002_职工2号.pdf",
    ]  # fmt: skip
    rows = list(csv.reader(io.StringIO(archive.read("summary.csv").decode("utf-8-sig"))))
    failed = next(r for r in rows if r[0] == "worker0001")
    assert failed[11] == "未能生成（RuntimeError）"
    assert await IssuedTranscript.find({"learner_id": "worker0001"}).count() == 0
    assert await IssuedTranscript.find({"learner_id": "worker0000"}).count() == 1


async def test_a_job_that_breaks_fails_and_says_so(
    client: httpx.AsyncClient, auditor: dict[str, str], monkeypatch: Any
) -> None:
    await many_learners(client, 1)

    async def broken(**_: Any) -> list[Any]:
        raise RuntimeError("store away")

    monkeypatch.setattr(transcript_service, "issue_many", broken)
    job = (await start(client, auditor, employer=EMPLOYER)).json()
    ended, _ = await finished(client, auditor, job["id"])
    assert ended["status"] == "failed"
    assert ended["error"] == "internal error (RuntimeError)"
    assert ended["file"] is None


async def test_a_stopping_process_gives_its_job_back(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI, monkeypatch: Any
) -> None:
    """A graceful stop puts the job being made back in the queue, its attempt uncounted."""
    await many_learners(client, 1)
    started = asyncio.Event()

    async def slow(**_: Any) -> list[Any]:
        started.set()
        await asyncio.sleep(60)
        return []

    monkeypatch.setattr(transcript_service, "issue_many", slow)
    job = (await start(client, auditor, employer=EMPLOYER)).json()
    await asyncio.wait_for(started.wait(), 10)
    await app.state.exports.stop()
    again = (await client.get(f"/exports/{job['id']}", headers=auditor)).json()
    assert (again["status"], again["attempts"]) == ("queued", 0)


async def test_formulas_in_the_summary_are_written_as_text(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client, "wang", '=HYPERLINK("http://evil.example")', "301", employer="@SUM(1)")
    job = (await start(client, auditor, learner_ids=["wang"], format="json")).json()
    ended, _ = await finished(client, auditor, job["id"])
    archive = zipfile.ZipFile(io.BytesIO(await download(client, auditor, ended)))
    rows = list(csv.reader(io.StringIO(archive.read("summary.csv").decode("utf-8-sig"))))
    assert rows[1][1].startswith("'=") and rows[1][3] == "'@SUM(1)"


async def test_a_job_taken_over_by_another_process_is_left_to_it(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI
) -> None:
    """A process thought dead that wakes up finds another owner at its next heartbeat
    and stops without writing anything."""
    await many_learners(client, 1)
    await app.state.exports.stop()
    job = (await start(client, auditor, employer=EMPLOYER)).json()
    first = exports.Runner(transcripts=app.state.transcripts, credits=app.state.credits)
    claimed = await first._claim(job["id"])
    assert claimed is not None
    await db.collection(ExportJob).update_one(
        {"job_id": job["id"]}, {"$set": {"owner": "another-process"}}
    )
    with pytest.raises(exports._Lost):
        await first._beat(claimed, 1)
    with pytest.raises(exports._Lost):  # nor may it say the job is done or failed
        await first._finish(claimed, status="failed", error="late")
    assert (await ExportJob.find_one({"job_id": job["id"]})).status == "running"  # type: ignore[union-attr]


async def test_a_large_zip_is_built_on_disk_and_kept_in_pieces(
    client: httpx.AsyncClient,
    auditor: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Past SPOOL_BYTES the ZIP goes to a temporary file, and it is stored in pieces of
    CHUNK_BYTES; the download is the whole, with the SHA-256 the job names."""
    import hashlib

    from transcripts.models import ExportChunk

    monkeypatch.setattr(exports, "SPOOL_BYTES", 4096)
    monkeypatch.setattr(exports, "CHUNK_BYTES", 2_000)
    await many_learners(client, 3)
    job = (await start(client, auditor, employer=EMPLOYER, format="pdf")).json()
    ended, _ = await finished(client, auditor, job["id"])
    assert ended["status"] == "done", ended
    assert await ExportChunk.find({"job_id": job["id"]}).count() > 3
    data = await download(client, auditor, ended)
    assert hashlib.sha256(data).hexdigest() == ended["file"]["sha256"]
    assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == 4


async def test_a_job_keeps_and_answers_its_request_with_the_keys_of_the_api(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """The request is kept with the job as the API takes it (`from`, `to`), so every
    process reads every other's jobs, and answered in the order of its fields."""
    await many_learners(client, 1)
    response = await start(client, auditor, employer=EMPLOYER, format="json", **{"from": 2020})
    assert response.status_code == 202, response.text
    job = response.json()
    assert list(job["request"].items()) == [
        ("employer", EMPLOYER), ("series", None), ("from", 2020), ("to", None),
        ("level", None), ("year", None), ("format", "json"),
    ]  # fmt: skip
    stored = await db.collection(ExportJob).find_one({"job_id": job["id"]}, {"request": 1})
    assert stored is not None
    assert list(stored["request"].items()) == list(job["request"].items())
    ended, _ = await finished(client, auditor, job["id"])
    assert ended["status"] == "done", ended
