"""A transcript says whether its verdict is computed (系统计算) or concluded by an auditor
(审验结论: 通过/不通过, by whom, when, why) and when the record changed after the
conclusion; PDF, XLSX and CSV list the audit's not-counted entries in a section of their
own; and codes issued before conclusions existed still verify."""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from pathlib import Path
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from nxce.settings import Settings
from tests.conftest import embedded_settings
from tests.credits.conftest import entry, manual
from tests.transcripts.conftest import mixed_ledger, transcript, transcript_json
from tests.transcripts.test_exports import download, finished, start
from tests.transcripts.test_formats import pdf_text
from transcripts.models import IssuedTranscript

INTERMEDIATE = {"level": "intermediate", "year": 2022}
REASON = "经核对，2021年待审核课程另有纸质证明，同意通过"
OLD = Path(__file__).parent / "data" / "issued_before_conclusions.json"


async def conclude(
    client: httpx.AsyncClient, auth: dict[str, str], decision: str = "approve"
) -> dict[str, Any]:
    response = await client.post(
        "/learners/zhangwei/audit/conclusions",
        json={**INTERMEDIATE, "decision": decision, "reason": REASON},
        headers=auth,
    )
    assert response.status_code == 201, response.text
    found: dict[str, Any] = response.json()
    return found


def squeezed(data: bytes) -> str:
    return pdf_text(data).replace("\n", "").replace(" ", "")


async def test_a_computed_verdict_says_so_and_lists_what_was_not_counted(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """张伟's 2018-2021 window holds two entries the audit does not count: GX-0003
    completed 2021-05-20, still pending review (2 hours), and GX-0001, approved then
    voided (1.5 hours)."""
    ids = await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor, **INTERMEDIATE)
    assert "conclusion" not in body["audit"]  # computed: the audit JSON as before
    assert {n["entry_id"] for n in body["audit"]["not_counted"]} == {
        ids["pending"],
        ids["voided"],
    }
    response = await transcript(client, auditor, format="pdf", **INTERMEDIATE)
    text = squeezed(response.content)
    assert "结论来源：系统计算，审验人尚未作出审验结论。" in text
    assert "不计入的学时（2条）" in text
    assert "待审核：" in text
    assert "已撤销：学习记录已作废" in text
    check = await client.get(f"/verify/{response.headers['x-verification-code']}")
    assert "conclusion" not in check.json()["summary"]["verdict"]


async def test_a_concluded_transcript_names_the_auditor_and_the_reason(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    made = await conclude(client, auditor)
    body = await transcript_json(client, auditor, **INTERMEDIATE)
    shown = body["audit"]["conclusion"]
    assert (shown["decision"], shown["reason"], shown["by_name"]) == (
        "approve",
        REASON,
        "工程系列评审委员会",
    )
    assert shown["at"] == made["at"]
    assert body["audit"]["changed_since_conclusion"] is False
    assert body["audit"]["passed"] is False  # the computed verdict is kept beside it

    pdf = await transcript(client, auditor, format="pdf", **INTERMEDIATE)
    text = squeezed(pdf.content)
    assert "审验结论：通过（审验人：工程系列评审委员会，" in text
    assert f"理由：{REASON}" in text
    # 111 of 360 counted: 249 total and 87 public short when concluded.
    assert "结论作出时系统计算：未达到要求（总学时尚差249学时，公需课尚差87学时）" in text
    assert "出具时系统计算：申报2022年中级职称" in text
    assert "结论作出后学时记录有变化" not in text

    code = pdf.headers["x-verification-code"]
    summary = (await client.get(f"/verify/{code}")).json()["summary"]
    assert summary["verdict"]["basis"] == "concluded"
    assert summary["verdict"]["conclusion"]["decision_label"] == "通过"
    assert summary["verdict"]["conclusion"]["by"] == "pingshen"
    page = await client.get(f"/verify/{code}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "审验人作出审验结论：通过（审验人：工程系列评审委员会" in page.text


async def test_a_change_after_the_conclusion_is_on_the_transcript(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    await conclude(client, auditor, "reject")
    await entry(client, manual("2020-09-01", "public", 30, "公需课补学"))
    body = await transcript_json(client, auditor, **INTERMEDIATE)
    assert body["audit"]["changed_since_conclusion"] is True
    pdf = await transcript(client, auditor, format="pdf", **INTERMEDIATE)
    text = squeezed(pdf.content)
    assert "审验结论：不通过" in text
    assert "注意：结论作出后学时记录有变化" in text

    xlsx = await transcript(client, auditor, format="xlsx", **INTERMEDIATE)
    book = load_workbook(io.BytesIO(xlsx.content))
    cells = {r[0]: r[1:] for r in book["学时汇总"].iter_rows(values_only=True) if r[0]}
    assert cells["结论来源"][0] == "审验人作出审验结论"
    assert cells["审验人结论"][0] == "不通过"
    assert cells["审验人"][0] == "工程系列评审委员会（pingshen）"
    assert cells["结论理由"][0] == REASON
    assert cells["结论后变化"][0] == "结论作出后学时记录有变化"


async def test_xlsx_and_csv_list_the_not_counted_entries(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    ids = await mixed_ledger(client, auditor)
    xlsx = await transcript(client, auditor, format="xlsx", **INTERMEDIATE)
    sheet = load_workbook(io.BytesIO(xlsx.content))["不计入的学时"]
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][0] == "不计入的学时（2条）"
    assert rows[1] == ("日期", "类型", "事项", "类别", "学时", "不计入的原因", "条目编号")
    by_id = {r[6]: r for r in rows[2:]}
    pending, voided = by_id[ids["pending"]], by_id[ids["voided"]]
    assert pending[:5] == ("2021-05-20", "在线学习", pending[2], "公需课", 2)
    assert str(pending[5]).startswith("待审核")
    assert voided[0] == "2021-03-15"
    assert voided[4] == 1.5
    assert voided[5] == "已撤销：学习记录已作废"

    response = await transcript(client, auditor, format="csv", **INTERMEDIATE)
    lines = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    at = lines.index(["不计入的学时（2条）"])
    assert lines[at + 1][5] == "不计入的原因"
    assert {row[6] for row in lines[at + 2 : at + 4]} == {ids["pending"], ids["voided"]}


async def test_a_batch_export_names_the_conclusion(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await mixed_ledger(client, auditor)
    await conclude(client, auditor)
    response = await start(client, auditor, learner_ids=["zhangwei"], format="csv", **INTERMEDIATE)
    assert response.status_code == 202, response.text
    job, _ = await finished(client, auditor, response.json()["id"])
    assert job["status"] == "done", job
    archive = zipfile.ZipFile(io.BytesIO(await download(client, auditor, job)))
    summary = list(csv.reader(io.StringIO(archive.read("summary.csv").decode("utf-8-sig"))))
    header, row = summary[0], summary[1]
    assert row[header.index("审验结论")] == "不符合"  # computed
    assert row[header.index("审验人结论")].startswith("通过（工程系列评审委员会，")
    assert row[header.index("结论作出后记录有变化")] == "否"


# --- codes issued before conclusions existed ----------------------------------------

ISSUED_BEFORE = json.loads(OLD.read_text(encoding="utf-8"))


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The secret key the transcript in data/issued_before_conclusions.json was signed
    with (by the service as it was before conclusions existed)."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path, secret_key=ISSUED_BEFORE["secret_key"])


async def test_a_code_issued_before_conclusions_still_verifies(client: httpx.AsyncClient) -> None:
    """The record and the JSON transcript as the service issued them before this change
    (summary without `basis`/`conclusion`, audit without the conclusion's keys): the code
    is genuine, the JSON matches, and the page shows the verdict as computed."""
    await IssuedTranscript.model_validate(ISSUED_BEFORE["record"]).insert()
    issued = ISSUED_BEFORE["transcript"]
    code = issued["verification_code"]
    assert "conclusion" not in issued["audit"]

    check = await client.get(f"/verify/{code}")
    assert check.status_code == 200, check.text
    assert check.json()["genuine"] is True
    assert check.json()["summary"]["verdict"]["shortfall"] == {"total": 249.0, "public": 87.0}
    whole = await client.post("/verify", json=issued)
    assert whole.status_code == 200, whole.text
    assert whole.json()["content_matches"] is True
    page = await client.get(f"/verify/{code}", headers={"Accept": "text/html"})
    assert page.status_code == 200
    assert "真实有效" in page.text
    assert "<dt>结论来源</dt><dd>系统计算</dd>" in page.text

    edited = {**issued, "audit": {**issued["audit"], "conclusion": None}}
    assert (await client.post("/verify", json=edited)).json()["content_matches"] is False
