"""The JSON of a transcript, pinned: its verification code is a keyed hash of the summary
and of the canonical JSON of the whole content, so a transcript already issued verifies only
while the same ledger still makes the same keys, in the same order, with the same values
(6 rather than 6.0). Made from a fixed ledger, without the store."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from credits.models import Degree, Learner, TitleLevel
from credits.schemas import AuditRead
from nxce.core import keys
from transcripts import codes, content
from transcripts.formats import FORMATS

ISSUED_AT = datetime(2025, 3, 1, 8, 30, 5, tzinfo=UTC)
ISSUER = "宁夏回族自治区人力资源和社会保障厅"
CODE = "ABCDEFGHIJKLMNOPQRSTUVWX"
URL = "https://nxce.example/verify/ABCDEFGHIJKLMNOPQRSTUVWX"

LEARNER = Learner.model_construct(
    learner_id="zhangwei",
    name="张伟",
    id_number_encrypted="x",
    id_number_digest="d",
    id_number_masked="640102********0011",
    employer="宁夏建工集团有限公司",
    series="engineering",
    title_level=TitleLevel.junior,
    degree=Degree.bachelor,
    created_at=datetime(2024, 1, 1, tzinfo=UTC),
    updated_at=datetime(2024, 1, 1, tzinfo=UTC),
)
# Ledger rows as the store reads them: whole and half hours, dates and datetimes, a
# pending and a reversed entry, one outside the span, sorted by day then id.
ROWS: list[dict[str, Any]] = [
    {
        "entry_id": "e3",
        "year": 2021,
        "occurred_on": datetime(2021, 4, 1),
        "category": "professional",
        "hours": 18.0,
        "kind": "study_tour",
        "clause": "§一(三)1",
        "status": "counted",
        "status_reason": None,
        "source": {"description": "赴浙江考察枸杞产业", "evidence": "考察报告"},
    },
    {
        "entry_id": "e1",
        "year": 2019,
        "occurred_on": datetime(2019, 5, 10),
        "category": "public",
        "hours": 30,
        "kind": "manual",
        "clause": "§一(二)",
        "status": "counted",
        "source": {"description": "公需课培训"},
    },
    {
        "entry_id": "e2",
        "year": 2021,
        "occurred_on": date(2021, 3, 15),
        "category": "public",
        "hours": 1.5,
        "kind": "completion",
        "clause": "§一(三)2",
        "status": "pending_review",
        "status_reason": "the completion is dated more than 30 days before it was stored",
        "source": {"course_code": "GX-0002", "course_title": "数字经济概论"},
    },
    {
        "entry_id": "e4",
        "year": 2021,
        "occurred_on": datetime(2021, 3, 15),
        "category": "professional",
        "hours": 2.5,
        "kind": "completion",
        "clause": "§一(三)2",
        "status": "reversed",
        "status_reason": "the completion was voided",
        "source": {"course_code": "ZY-0001", "course_title": "=cmd"},
    },
    {
        "entry_id": "e0",
        "year": 2017,
        "occurred_on": datetime(2017, 1, 1),
        "category": "public",
        "hours": 6,
        "kind": "manual",
        "clause": "§一(二)",
        "status": "counted",
        "source": {},
    },
]
AUDIT = AuditRead.model_validate(
    {
        "learner_id": "zhangwei",
        "policy": "ningxia-2022",
        "level": "intermediate",
        "year": 2022,
        "window": {"from": 2018, "to": 2021},
        "required": {"total": 360, "public": 120},
        "earned": {"total": 48, "public": 30, "professional": 18},
        "by_year": [
            {"year": 2019, "public": 30, "professional": 0},
            {"year": 2021, "public": 0, "professional": 18},
        ],
        "passed": False,
        "shortfall": {"total": 312, "public": 90},
        "applied": [
            {
                "rule": "foreign_language_exam",
                "clause": "§一(三)4",
                "detail": "代替30学时",
                "entry_id": "e1",
            }
        ],
        "not_counted": [{"entry_id": "e2", "reason": "pending", "on": date(2021, 3, 15)}],
    }
)

CONTENT: dict[str, Any] = {
    "document": "专业技术人员继续教育学时证明",
    "version": 1,
    "issuer": "宁夏回族自治区人力资源和社会保障厅",
    "issued_at": "2025-03-01T08:30:05Z",
    "learner": {
        "id": "zhangwei",
        "name": "张伟",
        "id_number": "640102199001010011",
        "employer": "宁夏建工集团有限公司",
        "series": "engineering",
        "title_level": "junior",
        "title_level_label": "初级",
        "degree": "bachelor",
        "degree_label": "大学本科",
    },
    "range": {"from": 2018, "to": 2021},
    "entries": [
        {
            "entry_id": "e1",
            "date": "2019-05-10",
            "year": 2019,
            "kind": "manual",
            "kind_label": "其他认定",
            "course_code": None,
            "title": "其他认定：公需课培训",
            "evidence": None,
            "category": "public",
            "category_label": "公需课",
            "hours": 30,
            "status": "counted",
            "status_label": "已计入",
            "counted": True,
            "status_reason": None,
            "status_note": None,
            "clause": "§一(二)",
        },
        {
            "entry_id": "e2",
            "date": "2021-03-15",
            "year": 2021,
            "kind": "completion",
            "kind_label": "在线学习",
            "course_code": "GX-0002",
            "title": "数字经济概论",
            "evidence": None,
            "category": "public",
            "category_label": "公需课",
            "hours": 1.5,
            "status": "pending_review",
            "status_label": "待审核",
            "counted": False,
            "status_reason": "the completion is dated more than 30 days before it was stored",
            "status_note": "完成时间早于上报时间30天以上，待审核",
            "clause": "§一(三)2",
        },
        {
            "entry_id": "e4",
            "date": "2021-03-15",
            "year": 2021,
            "kind": "completion",
            "kind_label": "在线学习",
            "course_code": "ZY-0001",
            "title": "=cmd",
            "evidence": None,
            "category": "professional",
            "category_label": "专业课",
            "hours": 2.5,
            "status": "reversed",
            "status_label": "已撤销",
            "counted": False,
            "status_reason": "the completion was voided",
            "status_note": "学习记录已作废",
            "clause": "§一(三)2",
        },
        {
            "entry_id": "e3",
            "date": "2021-04-01",
            "year": 2021,
            "kind": "study_tour",
            "kind_label": "考察培训",
            "course_code": None,
            "title": "考察培训：赴浙江考察枸杞产业",
            "evidence": "考察报告",
            "category": "professional",
            "category_label": "专业课",
            "hours": 18,
            "status": "counted",
            "status_label": "已计入",
            "counted": True,
            "status_reason": None,
            "status_note": None,
            "clause": "§一(三)1",
        },
    ],
    "totals": {
        "public": 30,
        "professional": 18,
        "total": 48,
        "pending_review": 1.5,
        "reversed": 2.5,
        "by_year": [
            {"year": 2018, "public": 0, "professional": 0, "total": 0},
            {"year": 2019, "public": 30, "professional": 0, "total": 30},
            {"year": 2020, "public": 0, "professional": 0, "total": 0},
            {"year": 2021, "public": 0, "professional": 18, "total": 18},
        ],
    },
    "audit": {
        "policy": "ningxia-2022",
        "level": "intermediate",
        "year": 2022,
        "window": {"from": 2018, "to": 2021},
        "required": {"total": 360.0, "public": 120.0},
        "earned": {"total": 48.0, "public": 30.0, "professional": 18.0},
        "by_year": [
            {"year": 2019, "public": 30.0, "professional": 0.0},
            {"year": 2021, "public": 0.0, "professional": 18.0},
        ],
        "passed": False,
        "shortfall": {"total": 312.0, "public": 90.0},
        "applied": [
            {
                "rule": "foreign_language_exam",
                "clause": "§一(三)4",
                "detail": "代替30学时",
                "entry_id": "e1",
            }
        ],
        "not_counted": [{"entry_id": "e2", "reason": "pending", "on": "2021-03-15"}],
        "level_label": "中级",
    },
    "verification_code": "ABCDEFGHIJKLMNOPQRSTUVWX",
    "verify_url": "https://nxce.example/verify/ABCDEFGHIJKLMNOPQRSTUVWX",
}
SUMMARY: dict[str, Any] = {
    "document": "专业技术人员继续教育学时证明",
    "format": "json",
    "issuer": "宁夏回族自治区人力资源和社会保障厅",
    "issued_at": "2025-03-01T08:30:05Z",
    "learner": {
        "name": "张伟",
        "id_number": "640102********0011",
        "employer": "宁夏建工集团有限公司",
    },
    "range": {"from": 2018, "to": 2021},
    "entries": 4,
    "totals": {
        "public": 30,
        "professional": 18,
        "total": 48,
        "pending_review": 1.5,
        "reversed": 2.5,
    },
    "verdict": {
        "level": "intermediate",
        "level_label": "中级",
        "year": 2022,
        "window": {"from": 2018, "to": 2021},
        "passed": False,
        "required": {"total": 360.0, "public": 120.0},
        "earned": {"total": 48.0, "public": 30.0, "professional": 18.0},
        "shortfall": {"total": 312.0, "public": 90.0},
    },
}
SUMMARY_WITHOUT_AUDIT: dict[str, Any] = {
    "document": "专业技术人员继续教育学时证明",
    "format": "json",
    "issuer": "宁夏回族自治区人力资源和社会保障厅",
    "issued_at": "2025-03-01T08:30:05Z",
    "learner": {
        "name": "张伟",
        "id_number": "640102********0011",
        "employer": "宁夏建工集团有限公司",
    },
    "range": {"from": 2019, "to": 2022},
    "entries": 4,
    "totals": {
        "public": 30,
        "professional": 18,
        "total": 48,
        "pending_review": 1.5,
        "reversed": 2.5,
    },
    "verdict": None,
}

DIGEST = "6b4c1f427d5a7187bb03c7217945e4c0d59c7f5440267fb89048e512696949e6"
DIGEST_WITHOUT_AUDIT = "32fdad1e9adf2c671017cc7c573c2ddbca0f9442e23ce93119f831d8240bf285"


def ordered(value: Any) -> str:
    """JSON as written, keys in order: tells 6 from 6.0 and one key order from another,
    which == on dicts does not."""
    return json.dumps(value, ensure_ascii=False)


def made(audit: content.CertifiedAudit | None, span: content.Span) -> content.Transcript:
    return content.build(
        learner=LEARNER,
        id_number="640102199001010011",
        rows=ROWS,
        span=span,
        audit=audit,
        issuer=ISSUER,
        issued_at=ISSUED_AT,
    )


def test_transcript_json_of_a_fixed_ledger_is_pinned() -> None:
    body = made(content.CertifiedAudit.of(AUDIT, "中级"), content.Span(2018, 2021))
    bare = {k: v for k, v in CONTENT.items() if k not in ("verification_code", "verify_url")}
    assert ordered(body.to_json()) == ordered(bare)
    assert codes.content_digest(body.to_json()) == DIGEST
    sealed = body.sealed(CODE, URL)
    assert ordered(sealed.to_json()) == ordered(CONTENT)
    expected = json.dumps(CONTENT, ensure_ascii=False, indent=2).encode("utf-8")
    assert FORMATS["json"].render(sealed) == expected


def test_summary_of_a_fixed_ledger_is_pinned_and_keeps_its_code() -> None:
    body = made(content.CertifiedAudit.of(AUDIT, "中级"), content.Span(2018, 2021))
    summary = content.summary(body, LEARNER.id_number_masked, "json").to_json()
    assert ordered(summary) == ordered(SUMMARY)
    signer = codes.Signer(keys.Keyring.of(b"k" * 32))
    assert signer.code(summary, DIGEST) == "AWX3ED53MUQMB733US22WRAS"


def test_without_an_audit_the_verdict_is_none() -> None:
    body = made(None, content.Span(2019, 2022))
    assert body.to_json()["audit"] is None
    assert codes.content_digest(body.to_json()) == DIGEST_WITHOUT_AUDIT
    summary = content.summary(body, LEARNER.id_number_masked, "json").to_json()
    assert ordered(summary) == ordered(SUMMARY_WITHOUT_AUDIT)
    assert (
        codes.Signer(keys.Keyring.of(b"k" * 32)).code(summary, DIGEST_WITHOUT_AUDIT)
        == "7G437QIMBQFMOQBNAGZFTXRL"
    )


def test_certified_audit_reads_back_from_the_json() -> None:
    """The audit block of a JSON transcript is the certified audit it was written from."""
    audit = content.CertifiedAudit.model_validate(CONTENT["audit"])
    assert ordered(audit.to_json()) == ordered(CONTENT["audit"])
