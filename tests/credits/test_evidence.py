"""Evidence documents of manual entries (issue 13, "Evidence"): PDF, JPEG and PNG files up
to 10 MiB attached to a manual entry, kept in the store in chunks, listed with the entry,
downloaded as attachments; entries whose clause asks for a document (§一(三)1 学历证明,
院校学时证明, 考察培训文件; §五(二) 继续教育证明, our reading) say so until one is attached."""

from __future__ import annotations

import hashlib
from typing import Any
from urllib.parse import quote

import httpx

from credits.evidence import CHUNK_BYTES, MAX_DOCUMENT_BYTES, EvidenceChunk, EvidenceDocument
from nxce.core import clients, db
from nxce.core.clients import Scope
from tests.conftest import ADMIN, basic
from tests.credits.conftest import (
    ENGINEERING_BASE,
    MakeBound,
    activity,
    audit,
    base_id,
    completion,
    entry,
    ledger,
    manual,
    register,
    send,
)

# A tiny PDF, and the first bytes of a JPEG and a PNG (the content is what is sniffed).
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64
DEGREE = {"kind": "degree", "enrolled_on": "2018-09-01", "graduated_on": "2021-06-30"}
STUDY_TOUR = {"kind": "study_tour", "date": "2019-08-10", "days": 5}


async def upload(
    client: httpx.AsyncClient,
    entry_id: str,
    content: bytes = PDF,
    filename: str | None = "学历证明-张伟.pdf",
    media_type: str = "application/pdf",
    learner_id: str = "zhangwei",
    auth: dict[str, str] = ADMIN,
) -> httpx.Response:
    params = {} if filename is None else {"filename": filename}
    return await client.post(
        f"/learners/{learner_id}/credits/{entry_id}/documents",
        params=params,
        content=content,
        headers={**auth, "Content-Type": media_type},
    )


async def attached(client: httpx.AsyncClient, entry_id: str, **kwargs: Any) -> dict[str, Any]:
    response = await upload(client, entry_id, **kwargs)
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def problem_field(response: httpx.Response) -> tuple[str, str]:
    error = response.json()["errors"][0]
    return error["field"], error.get("value", "")


# --- attach, list, download -----------------------------------------------------------


async def test_a_degree_certificate_is_attached_listed_and_downloaded_byte_for_byte(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    found = await attached(client, degree["id"])
    assert found["filename"] == "学历证明-张伟.pdf"
    assert (found["media_type"], found["size"]) == ("application/pdf", len(PDF))
    assert found["sha256"] == hashlib.sha256(PDF).hexdigest()
    assert (found["learner_id"], found["entry_id"], found["uploaded_by"]) == (
        "zhangwei",
        degree["id"],
        "admin",
    )
    assert found["href"] == f"/learners/zhangwei/credits/{degree['id']}/documents/{found['id']}"

    listed = await client.get(f"/learners/zhangwei/credits/{degree['id']}/documents", headers=ADMIN)
    assert [d["id"] for d in listed.json()] == [found["id"]]

    got = await client.get(found["href"], headers=ADMIN)
    assert got.status_code == 200 and got.content == PDF
    assert got.headers["content-type"] == "application/pdf"
    assert got.headers["x-content-type-options"] == "nosniff"
    assert got.headers["content-disposition"] == (
        "attachment; filename=\"____-__.pdf\"; filename*=UTF-8''"
        + quote("学历证明-张伟.pdf", safe="")
    )


async def test_a_file_of_several_chunks_comes_back_whole(client: httpx.AsyncClient) -> None:
    """A JPEG of 600 KiB is kept in 3 chunks of at most 255 KiB (255 + 255 + 90)."""
    await register(client)
    tour = await entry(client, STUDY_TOUR)
    photo = JPEG + bytes(range(256)) * (600 * 4 - 1) + b"\x00" * (256 - len(JPEG))
    assert len(photo) == 600 * 1024
    found = await attached(client, tour["id"], content=photo, filename="考察合影.jpg",
                           media_type="image/jpeg")  # fmt: skip
    parts = await db.collection(EvidenceChunk).find({"document_id": found["id"]}).to_list(None)
    assert sorted(len(p["data"]) for p in parts) == [90 * 1024, CHUNK_BYTES, CHUNK_BYTES]
    got = await client.get(found["href"], headers=ADMIN)
    assert got.content == photo and got.headers["content-type"] == "image/jpeg"


async def test_a_file_of_exactly_10_mib_is_accepted(client: httpx.AsyncClient) -> None:
    """The JSON limit (1 MiB) does not apply to the upload route: 10 MiB is."""
    await register(client)
    tour = await entry(client, STUDY_TOUR)
    big = PNG + b"\x00" * (MAX_DOCUMENT_BYTES - len(PNG))
    found = await attached(client, tour["id"], content=big, filename="考察报告扫描件.png",
                           media_type="image/png")  # fmt: skip
    assert found["size"] == 10 * 1024 * 1024


async def test_the_ledger_lists_each_entrys_documents_and_what_is_missing(
    client: httpx.AsyncClient,
) -> None:
    """Degree (§一(三)1): 学历证明; with certified hours also 院校学时证明; a study tour:
    考察培训文件; training at a base: 继续教育证明 (§五(二), our reading); a teaching entry
    and an admin's manual hours need none."""
    await register(client)
    degree = await entry(client, DEGREE)
    across = {"kind": "degree", "enrolled_on": "2016-09-01", "graduated_on": "2019-06-30",
              "certified_hours": 72}  # fmt: skip
    crossing = await entry(client, across)
    tour = await entry(client, STUDY_TOUR)
    base = await base_id(client, ENGINEERING_BASE)
    training = await entry(
        client, {"kind": "training", "date": "2021-05-01", "hours": 40, "base_id": base}
    )
    teaching = await entry(client, {"kind": "teaching", "date": "2020-09-01", "hours_taught": 8})
    typed = await entry(client, manual("2021-10-01", "professional", 30))
    document = await attached(client, tour["id"], filename="考察通知.pdf")

    rows = {row["id"]: row for row in await ledger(client)}
    assert rows[degree["id"]]["document_missing"] == "学历证明"
    assert rows[crossing["id"]]["document_missing"] == "学历证明、院校学时证明"
    assert rows[training["id"]]["document_missing"] == "继续教育证明"
    assert rows[tour["id"]]["document_missing"] is None
    assert [d["id"] for d in rows[tour["id"]]["documents"]] == [document["id"]]
    assert rows[teaching["id"]]["document_missing"] is None
    assert rows[typed["id"]]["document_missing"] is None
    assert rows[degree["id"]]["documents"] == []


async def test_the_audit_names_the_entries_missing_their_document(
    client: httpx.AsyncClient,
) -> None:
    """An intermediate audit of 2022 (window 2018-2021) relies on the degree (2018-2021)
    and the study tour of 2019; once the degree has its 学历证明, only the tour is left."""
    await register(client)
    degree = await entry(client, DEGREE)
    tour = await entry(client, STUDY_TOUR)
    before = await audit(client)
    assert sorted(before["documents_missing"], key=lambda m: m["kind"]) == [
        {"entry_id": degree["id"], "kind": "degree", "document": "学历证明"},
        {"entry_id": tour["id"], "kind": "study_tour", "document": "考察培训文件"},
    ]
    await attached(client, degree["id"])
    after = await audit(client)
    assert after["documents_missing"] == [
        {"entry_id": tour["id"], "kind": "study_tour", "document": "考察培训文件"}
    ]
    assert after["passed"] == before["passed"]  # the auditor judges; the verdict is the same


async def test_an_entry_outside_the_audit_window_is_not_named(client: httpx.AsyncClient) -> None:
    """A study tour of 2017 is outside 2018-2021 (intermediate), inside 2017-2021."""
    await register(client)
    await entry(client, {**STUDY_TOUR, "date": "2017-05-01"})
    assert (await audit(client, "intermediate"))["documents_missing"] == []
    assert [m["kind"] for m in (await audit(client, "deputy_senior"))["documents_missing"]] == [
        "study_tour"
    ]


# --- who may ---------------------------------------------------------------------------


async def test_a_learners_own_app_attaches_and_reads_but_not_anothers(
    client: httpx.AsyncClient, bound_client: MakeBound
) -> None:
    await register(client)
    await register(client, "wangfang", "王芳", "125")
    mine = await entry(client, DEGREE)
    theirs = await entry(client, DEGREE, learner_id="wangfang")
    app = await bound_client("zhangwei", Scope.statements_write)
    found = await attached(client, mine["id"], auth=app)
    assert found["uploaded_by"] == "zhangwei-app"
    assert (await client.get(found["href"], headers=app)).content == PDF

    refused = await upload(client, theirs["id"], learner_id="wangfang", auth=app)
    assert refused.status_code == 403
    other = await attached(client, theirs["id"], learner_id="wangfang")
    assert (await client.get(other["href"], headers=app)).status_code == 403
    listed = f"/learners/wangfang/credits/{theirs['id']}/documents"
    assert (await client.get(listed, headers=app)).status_code == 403
    assert await db.collection(EvidenceDocument).count_documents({"learner_id": "wangfang"}) == 1


async def test_auditors_attach_and_read_only_admins_delete(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    found = await attached(client, degree["id"], auth=auditor)
    assert (await client.get(found["href"], headers=auditor)).status_code == 200
    app = await bound_client("zhangwei")
    assert (await client.delete(found["href"], headers=auditor)).status_code == 403
    assert (await client.delete(found["href"], headers=app)).status_code == 403
    assert (await client.delete(found["href"], headers=ADMIN)).status_code == 204
    assert (await client.get(found["href"], headers=ADMIN)).status_code == 404
    assert await db.collection(EvidenceChunk).count_documents({"document_id": found["id"]}) == 0
    assert (await ledger(client))[0]["document_missing"] == "学历证明"


async def test_a_client_bound_to_no_learner_and_no_auditor_scope_is_refused(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    await clients.create(
        key="kecheng", name="课程平台", scopes=[Scope.statements_write], secret="kecheng-secret"
    )
    response = await upload(client, degree["id"], auth=basic("kecheng", "kecheng-secret"))
    assert response.status_code == 403


# --- bad input: refused, nothing written ------------------------------------------------


async def nothing_stored() -> bool:
    return (
        await db.collection(EvidenceDocument).count_documents({}) == 0
        and await db.collection(EvidenceChunk).count_documents({}) == 0
    )


async def test_a_body_over_10_mib_is_a_413_naming_the_limit(client: httpx.AsyncClient) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    too_big = PDF + b"\x00" * (MAX_DOCUMENT_BYTES + 1 - len(PDF))
    response = await upload(client, degree["id"], content=too_big)
    assert response.status_code == 413
    assert "at most 10485760 bytes" in response.json()["detail"]
    assert await nothing_stored()


async def test_other_routes_keep_the_1_mib_json_limit(client: httpx.AsyncClient) -> None:
    await register(client)
    response = await client.post(
        "/learners/zhangwei/credits",
        content=b'{"kind": "study_tour", "x": "' + b"a" * (1024 * 1024) + b'"}',
        headers={**ADMIN, "Content-Type": "application/json"},
    )
    assert response.status_code == 413


async def test_a_type_other_than_pdf_jpeg_png_is_a_415_naming_content_type(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    word = b"PK\x03\x04" + b"\x00" * 32  # a .docx
    docx = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    response = await upload(client, degree["id"], content=word, filename="学历证明.docx",
                            media_type=docx)  # fmt: skip
    assert response.status_code == 415
    assert problem_field(response) == ("Content-Type", repr(docx))
    assert await nothing_stored()


async def test_content_that_is_not_the_declared_type_is_a_422_naming_the_body(
    client: httpx.AsyncClient,
) -> None:
    """A PNG sent as application/pdf; an HTML page sent as image/jpeg."""
    await register(client)
    degree = await entry(client, DEGREE)
    response = await upload(client, degree["id"], content=PNG, media_type="application/pdf")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "body"
    assert "not application/pdf" in response.json()["detail"]
    assert "it looks like image/png" in response.json()["detail"]
    page = b"<html><script>alert(1)</script></html>"
    response = await upload(client, degree["id"], content=page, media_type="image/jpeg")
    assert response.status_code == 422
    assert "it starts with 3c 68 74 6d 6c 3e 3c 73" in response.json()["detail"]
    assert await nothing_stored()


async def test_an_empty_body_is_a_422(client: httpx.AsyncClient) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    response = await upload(client, degree["id"], content=b"")
    assert response.status_code == 422
    assert response.json()["detail"] == "body: must not be empty (the file's bytes)"
    assert await nothing_stored()


async def test_filenames_with_a_path_or_control_characters_are_refused(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    for name, why in (
        ("../../etc/学历证明.pdf", "without a path"),
        ("C:\\证明\\学历证明.pdf", "without a path"),
        ("学历证明\n.pdf", "control characters"),
        ("学历\u202e证明.pdf", "control characters"),  # right-to-left override
        ("   ", "blank"),
        ("证" * 201, "at most 200 characters"),
    ):
        response = await upload(client, degree["id"], filename=name)
        assert response.status_code == 422, name
        assert problem_field(response)[0] == "filename" and why in response.json()["detail"]
    missing = await upload(client, degree["id"], filename=None)
    assert missing.status_code == 422 and problem_field(missing)[0] == "filename"
    assert await nothing_stored()


async def test_a_decomposed_filename_is_kept_in_nfc(client: httpx.AsyncClient) -> None:
    await register(client)
    degree = await entry(client, DEGREE)
    found = await attached(client, degree["id"], filename="Zhang Wei\u0301 学历.pdf")
    assert found["filename"] == "Zhang Wei\u0301 学历.pdf".replace("i\u0301", "í")


async def test_unknown_entries_404_and_completions_409(client: httpx.AsyncClient) -> None:
    """A completion's evidence is its xAPI statement: 409, the entry is of another sort."""
    await register(client)
    await register(client, "wangfang", "王芳", "125")
    unknown = await upload(client, "00000000-0000-0000-0000-000000000000")
    assert unknown.status_code == 404
    theirs = await entry(client, DEGREE, learner_id="wangfang")
    assert (await upload(client, theirs["id"])).status_code == 404  # not zhangwei's
    await send(client, completion(await activity(client, "GQ-0001")))
    completed = next(e for e in await ledger(client) if e["kind"] == "completion")
    response = await upload(client, completed["id"])
    assert response.status_code == 409
    assert "completion's evidence is its statement" in response.json()["detail"]
    assert completed["document_missing"] is None and completed["documents"] == []
    assert await nothing_stored()


async def test_an_erasure_removes_the_learners_documents(client: httpx.AsyncClient) -> None:
    """A 学历证明 names its holder: erasing the personal data on request removes it."""
    await register(client)
    degree = await entry(client, DEGREE)
    found = await attached(client, degree["id"])
    answer = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人申请（2024-03-01）"}, headers=ADMIN
    )
    assert answer.status_code == 200, answer.text
    assert (await client.get(found["href"], headers=ADMIN)).status_code == 404
    assert await nothing_stored()
    again = await upload(client, degree["id"])
    assert again.status_code == 409 and "erased" in again.json()["detail"]
