"""The transcript's content (JSON) against the ledger and the audit it is made from:
every entry of the years asked for, pending and reversed ones shown and not counted,
totals by year and category, the verdict; and who sees what."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from nxce.core.clients import Scope
from tests.conftest import ADMIN
from tests.credits.conftest import ZHANG_WEI, MakeBound, audit, entry, ledger, manual, register
from tests.transcripts.conftest import mixed_ledger, transcript, transcript_json
from transcripts.content import Transcript
from transcripts.models import IssuedTranscript


async def test_entries_totals_and_verdict_match_the_ledger_and_the_audit(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """The intermediate application of 2022 audits 2018-2021: the transcript lists every
    ledger entry of those years with its hours, status and clause, counts only `counted`
    ones, and certifies exactly the audit's verdict."""
    ids = await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor, level="intermediate", year=2022)

    assert body["range"] == {"from": 2018, "to": 2021}
    rows = {e["id"]: e for e in await ledger(client) if 2018 <= e["year"] <= 2021}
    assert [line["entry_id"] for line in body["entries"]] == sorted(
        rows, key=lambda i: (rows[i]["occurred_on"], i)
    )
    for line in body["entries"]:
        row = rows[line["entry_id"]]
        assert (line["hours"], line["category"], line["status"], line["clause"]) == (
            row["hours"],
            row["category"],
            row["status"],
            row["clause"],
        )
        assert line["counted"] is (row["status"] == "counted")
    assert ids["this_year"] not in {line["entry_id"] for line in body["entries"]}

    lines = {line["entry_id"]: line for line in body["entries"]}
    assert lines[ids["pending"]]["status_label"] == "待审核"
    assert lines[ids["voided"]]["status_label"] == "已撤销"
    assert lines[ids["voided"]]["status_reason"] == "the completion was voided"
    assert lines[ids["voided"]]["status_note"] == "学习记录已作废"
    assert lines[ids["approved"]]["course_code"] == "GX-0002"
    assert lines[ids["tour_2021"]]["title"] == "考察培训：赴浙江考察枸杞产业"
    assert lines[ids["tour_2021"]]["evidence"] == "考察报告（宁人社函〔2021〕12号）"
    assert lines[ids["tour_2021"]]["hours"] == 18  # 3 days x 6 (§一(三)1)

    counted = [r for r in rows.values() if r["status"] == "counted"]
    public = sum(r["hours"] for r in counted if r["category"] == "public")
    professional = sum(r["hours"] for r in counted if r["category"] == "professional")
    totals = body["totals"]
    assert (totals["public"], totals["professional"]) == (public, professional) == (33, 78)
    assert totals["total"] == public + professional
    assert totals["pending_review"] == rows[ids["pending"]]["hours"]
    assert totals["reversed"] == rows[ids["voided"]]["hours"]
    by_year = {y["year"]: (y["public"], y["professional"]) for y in totals["by_year"]}
    assert by_year == {2018: (0, 0), 2019: (30, 0), 2020: (0, 60), 2021: (3, 18)}

    verdict = await audit(client, "intermediate", 2022)
    certified = body["audit"]
    for key in ("window", "required", "earned", "passed", "shortfall", "applied", "not_counted"):
        assert certified[key] == verdict[key], key
    assert certified["passed"] is False
    assert certified["shortfall"] == {"total": 360 - 111, "public": 120 - 33}
    assert certified["level_label"] == "中级"


async def test_range_defaults_to_the_ledger_years_and_can_be_chosen(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """Without `level` there is no verdict; the range defaults to the years the ledger
    holds, and `from`/`to` narrow it."""
    await mixed_ledger(client, auditor)
    body = await transcript_json(client, auditor)
    assert body["audit"] is None
    this_year = max(e["year"] for e in await ledger(client))
    assert body["range"] == {"from": 2019, "to": this_year}
    narrow = await transcript_json(client, auditor, **{"from": 2020, "to": 2020})
    assert {line["year"] for line in narrow["entries"]} == {2020}
    assert narrow["totals"]["total"] == 60
    assert narrow["totals"]["by_year"] == [
        {"year": 2020, "public": 0, "professional": 60, "total": 60}
    ]


async def test_a_learner_without_entries_gets_an_empty_transcript(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client)
    body = await transcript_json(client, auditor, level="senior")
    assert body["entries"] == []
    assert body["totals"]["total"] == 0
    assert body["audit"]["shortfall"] == {"total": 450, "public": 150}


async def test_id_number_in_full_for_auditors_only(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    """Auditors see the national id number in full; the learner's own app and admins see
    it masked; another learner's app may not read it at all, and nobody anonymous."""
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    own = await bound_client("zhangwei", Scope.statements_read_mine)
    other = await bound_client("lixiuying", Scope.statements_read_mine)

    assert (await transcript_json(client, auditor))["learner"]["id_number"] == ZHANG_WEI
    masked = ZHANG_WEI[:6] + "********" + ZHANG_WEI[-4:]
    assert (await transcript_json(client, own))["learner"]["id_number"] == masked
    assert (await transcript_json(client, ADMIN))["learner"]["id_number"] == masked
    for fmt in ("csv", "pdf", "xlsx"):
        response = await transcript(client, own, format=fmt)
        assert response.status_code == 200
    denied = await transcript(client, other)
    assert denied.status_code == 403
    assert (await client.get("/learners/zhangwei/transcript")).status_code == 401


async def test_a_transcript_that_fails_to_render_is_not_issued(
    client: httpx.AsyncClient, auditor: dict[str, str], app: Any, monkeypatch: Any
) -> None:
    await register(client)

    def broken(name: str, body: Transcript) -> bytes:
        raise RuntimeError("renderer crashed")

    monkeypatch.setattr(app.state.transcripts, "render_now", broken)
    with pytest.raises(RuntimeError):
        await transcript(client, auditor, format="pdf")
    assert await IssuedTranscript.count() == 0  # no code that verifies a file never made


async def test_bad_parameters_are_refused_by_name(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client)
    cases = [
        ({"from": 2021, "to": 2018}, "from"),
        ({"from": 1999}, "from"),
        ({"format": "docx"}, "format"),
        ({"level": "junior"}, "level"),
        ({"level": "intermediate", "year": 2030}, "year"),
        ({"from": 2000, "to": 2100}, "to"),
        ({"colour": "red"}, "colour"),
    ]
    for params, field in cases:
        response = await transcript(client, auditor, **params)
        assert response.status_code == 422, (params, response.text)
        assert field in response.json()["detail"], (params, response.text)
    missing = await transcript(client, auditor, learner_id="nobody")
    assert missing.status_code == 404
    assert await IssuedTranscript.count() == 0  # nothing issued by the refused requests


async def test_a_record_import_shows_its_source_and_record_number_s1_1(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(一), item 8: public hours copied from the platform are shown on the transcript
    as a record import with where they come from — the platform and its record number
    NXZJ-2019-0012345 (32 h), or 来源未注明 for public hours typed as `manual` (30 h)."""
    await register(client)
    imported = await entry(
        client,
        {
            "kind": "record_import",
            "date": "2019-12-20",
            "hours": 32,
            "source": "宁夏专业技术人员继续教育培训网",
            "reference": "NXZJ-2019-0012345",
        },
    )
    typed = await entry(client, manual("2020-05-10", "public", 30, "公需课集中学习"))
    body = await transcript_json(client, auditor)
    titles = {line["entry_id"]: line["title"] for line in body["entries"]}
    assert titles[imported["id"]] == (
        "平台学时导入：来源：宁夏专业技术人员继续教育培训网，记录号：NXZJ-2019-0012345"
    )
    assert titles[typed["id"]] == "平台学时导入：公需课集中学习，来源未注明"
    assert body["totals"]["public"] == 62  # 32 + 30, both counted


async def test_exam_passes_stand_apart_from_the_hours_of_their_year_s1_3_2(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    """§一(三)2: exam passes replace public-course hours in an audit; they are not hours of
    a year. A foreign-language pass of 2009 and one of 2015 (40 h each at face value) and
    2 computer modules in 2020 (20 h) stay out of the years and the sums: 30 public hours
    of 2020 typed from the platform make public 30, and the 100 h of passes are listed as
    `substitutions`, each line 代替公需课 — never 80 public hours from two passes."""
    await register(client)
    for day in ("2009-06-01", "2015-06-01"):
        await entry(client, {"kind": "foreign_language_exam", "date": day})
    await entry(
        client,
        {"kind": "computer_exam_module", "date": "2020-03-01", "module_names": ["Word", "Excel"]},
    )
    await entry(client, manual("2020-05-10", "public", 30, "公需课集中学习"))
    body = await transcript_json(client, auditor)
    assert body["totals"]["public"] == 30
    assert body["totals"]["total"] == 30
    assert body["totals"]["substitutions"] == 100  # 40 + 40 + 20, as recorded
    assert sum(year["public"] for year in body["totals"]["by_year"]) == 30
    labels = {line["kind"]: line["status_label"] for line in body["entries"]}
    assert labels["foreign_language_exam"].startswith("代替公需课")
    assert labels["computer_exam_module"].startswith("代替公需课")
