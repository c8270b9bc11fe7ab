"""Each format carries the same content: read the PDF's text back, open the XLSX, parse the
CSV, and find the learner, the entries, the totals, the verdict and the code."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pypdf
import pytest
from fastapi import FastAPI
from openpyxl import load_workbook

from nxce import wiring
from nxce.settings import Settings
from tests.credits.conftest import ZHANG_WEI
from tests.transcripts.conftest import INJECTED, mixed_ledger, transcript
from transcripts.codes import grouped
from transcripts.content import CertifiedAudit
from transcripts.formats.sheets import ENTRY_HEADER
from transcripts.wording import number, verdict_text

INTERMEDIATE = {"level": "intermediate", "year": 2022}


async def issued(
    client: httpx.AsyncClient, auditor: dict[str, str], fmt: str
) -> tuple[httpx.Response, dict[str, Any]]:
    """The transcript in `fmt`, and the same transcript's content as JSON."""
    await mixed_ledger(client, auditor)
    response = await transcript(client, auditor, format=fmt, **INTERMEDIATE)
    assert response.status_code == 200, response.text
    body = await transcript(client, auditor, **INTERMEDIATE)
    return response, body.json()


def pdf_text(data: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(data))
    return "\n".join(page.extract_text() for page in reader.pages)


async def test_pdf_carries_the_chinese_text_totals_verdict_and_code(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    response, body = await issued(client, auditor, "pdf")
    assert response.headers["content-type"] == "application/pdf"
    assert "transcript-zhangwei-2018-2021.pdf" in response.headers["content-disposition"]
    text = pdf_text(response.content)
    squeezed = text.replace("\n", "").replace(" ", "")
    for expected in (
        "专业技术人员继续教育学时证明",
        "张伟",
        ZHANG_WEI,
        "宁夏建工集团有限公司",
        "2018—2021年",
        "考察培训：赴浙江考察枸杞产业",
        "单位组织的<技术>培训&考核",
        "待审核",
        "已撤销",
        "学习记录已作废",
        "审核通过：已核对学习记录",
        verdict_text(CertifiedAudit.model_validate(body["audit"])).replace(" ", ""),
        grouped(response.headers["x-verification-code"]),
    ):
        assert expected in squeezed, expected
    lines = body["entries"]
    for line in lines:
        assert line["date"] in text
    totals = body["totals"]
    assert f"合计{number(totals['public'])}{number(totals['professional'])}" in squeezed
    assert f"{number(totals['total'])}" in squeezed


def fonts_of(data: bytes) -> dict[str, bool]:
    """Font names of a PDF, and whether each is embedded."""
    found = {}
    for page in pypdf.PdfReader(io.BytesIO(data)).pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descendants = font.get("/DescendantFonts")
            described = descendants[0].get_object() if descendants else font
            descriptor = described.get("/FontDescriptor")
            descriptor = descriptor.get_object() if descriptor else {}
            embedded = any(k in descriptor for k in ("/FontFile", "/FontFile2", "/FontFile3"))
            found[str(font["/BaseFont"])] = embedded
    return found


async def test_pdf_names_the_standard_cid_font_by_default(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """Without NXCE_PDF_FONT the Chinese is set in STSong-Light, which PDF readers carry
    (Adobe-GB1): named, not embedded."""
    response, _ = await issued(client, auditor, "pdf")
    fonts = fonts_of(response.content)
    assert fonts.get("/STSong-Light") is False, fonts


WQY = Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc")


@pytest.mark.skipif(not WQY.exists(), reason=f"no CJK TrueType font at {WQY} (fonts-wqy-zenhei)")
async def test_pdf_embeds_a_configured_truetype_font(
    client: httpx.AsyncClient, auditor: dict[str, str], app: FastAPI, settings: Settings
) -> None:
    """NXCE_PDF_FONT: the font is embedded as a subset, and the text still reads back."""
    app.state.transcripts = wiring.transcripts(settings.model_copy(update={"pdf_font": WQY}))
    response, _ = await issued(client, auditor, "pdf")
    fonts = fonts_of(response.content)
    assert fonts and all(fonts.get(name) for name in fonts if "WenQuanYi" in name), fonts
    assert any("WenQuanYi" in name for name in fonts), fonts
    assert "专业技术人员继续教育学时证明" in pdf_text(response.content).replace(" ", "")


async def test_xlsx_has_typed_entries_and_a_totals_sheet(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    response, body = await issued(client, auditor, "xlsx")
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == ["学时明细", "学时汇总", "不计入的学时"]
    entries = list(book["学时明细"].iter_rows(values_only=True))
    header, rows = entries[0], entries[1:]
    assert header == ENTRY_HEADER
    assert len(rows) == len(body["entries"])
    for row, line in zip(rows, body["entries"], strict=True):
        assert isinstance(row[1], datetime)
        assert row[1].date().isoformat() == line["date"]
        assert row[2] == line["year"]
        assert isinstance(row[7], int | float)
        assert row[7] == line["hours"]
        assert row[9] is line["counted"]
        assert row[13] == line["entry_id"]
    injected = next(r for r in rows if r[12] and "HYPERLINK" in r[12])
    assert injected[12] == INJECTED  # kept as text, not turned into a formula
    sheet = book["学时汇总"]
    cells = {row[0]: row[1:] for row in sheet.iter_rows(values_only=True) if row[0]}
    assert cells["姓名"][0] == "张伟"
    assert cells["身份证号"][0] == ZHANG_WEI
    totals = body["totals"]
    assert cells["合计"][:3] == (totals["public"], totals["professional"], totals["total"])
    assert cells["审验结论"][0] == verdict_text(CertifiedAudit.model_validate(body["audit"]))
    assert cells["验证码"][0] == response.headers["x-verification-code"]


async def test_csv_is_utf8_with_bom_and_carries_every_entry(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    response, body = await issued(client, auditor, "csv")
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert response.content.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert rows[0] == ["专业技术人员继续教育学时证明"]
    fields = {row[0]: row[1:] for row in rows if row}
    assert fields["姓名"] == ["张伟"]
    assert fields["验证码"] == [response.headers["x-verification-code"]]
    start = rows.index(list(ENTRY_HEADER))
    listed = rows[start + 1 : start + 1 + len(body["entries"])]
    for row, line in zip(listed, body["entries"], strict=True):
        assert row[1] == line["date"]
        assert float(row[7]) == line["hours"]
        assert row[8] == line["status_label"]
        assert row[13] == line["entry_id"]
    injected = next(r for r in listed if "HYPERLINK" in r[12])
    assert injected[12] == "'" + INJECTED  # a spreadsheet shows it, never runs it
    totals = body["totals"]
    assert fields["合计"] == [number(totals[k]) for k in ("public", "professional", "total")]
    assert fields["审验结论"] == [verdict_text(CertifiedAudit.model_validate(body["audit"]))]


@pytest.mark.parametrize("fmt", ["pdf", "xlsx", "csv", "json"])
async def test_every_format_is_certified_by_its_own_code(
    client: httpx.AsyncClient, auditor: dict[str, str], fmt: str
) -> None:
    """Each issue is recorded: its code (in the X-Verification-Code header and in the
    document) verifies, and names the format issued."""
    response, _ = await issued(client, auditor, fmt)
    code = response.headers["x-verification-code"]
    check = await client.get(f"/verify/{code}")
    assert check.status_code == 200, check.text
    assert check.json()["format"] == fmt
