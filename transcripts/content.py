"""What a transcript says, as plain data every format renders the same way.

`build` is pure: a learner, their ledger rows, the years asked for and (optionally) the
audit in, the transcript's content out. Pending and reversed entries are listed with
their status and are not counted in any total (§一(二): only recognised hours count).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

from credits.models import Learner
from credits.schemas import AuditRead

TITLE = "专业技术人员继续教育学时证明"
VERSION = 1

KIND_LABELS = {
    "completion": "在线学习",
    "degree": "学历教育",
    "study_tour": "考察培训",
    "teaching": "授课",
    "foreign_language_exam": "职称外语考试",
    "computer_exam_module": "计算机应用能力考试",
    "qualification": "职业资格",
    "training": "培训班、研修班",
    "manual": "其他认定",
}
CATEGORY_LABELS = {"public": "公需课", "professional": "专业课"}
STATUS_LABELS = {"counted": "已计入", "pending_review": "待审核", "reversed": "已撤销"}
LEVEL_LABELS = {"intermediate": "中级", "deputy_senior": "副高级", "senior": "正高级"}
TITLE_LEVEL_LABELS = {
    "none": "无",
    "junior": "初级",
    "intermediate": "中级",
    "deputy_senior": "副高级",
    "senior": "正高级",
}
DEGREE_LABELS = {
    "bachelor": "大学本科",
    "master": "硕士研究生",
    "doctor": "博士研究生",
    "other": "其他",
}


@dataclass(frozen=True, slots=True)
class Span:
    """The years a transcript covers, both ends included."""

    first: int
    last: int


def _day(value: Any) -> str:
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _hours(value: float) -> float | int:
    """Hours as JSON shows them: 6 rather than 6.0, 1.5 as it is."""
    return int(value) if float(value).is_integer() else float(value)


def _subject(row: dict[str, Any]) -> tuple[str | None, str, str | None]:
    """(course code, what was done, evidence) of a ledger row."""
    source = row.get("source") or {}
    if row["kind"] == "completion":
        return source.get("course_code"), str(source.get("course_title", "")), None
    label = KIND_LABELS.get(row["kind"], row["kind"])
    described = next(
        (source[k] for k in ("description", "basis", "name", "base_name") if source.get(k)), None
    )
    title = f"{label}：{described}" if described else label
    evidence = source.get("evidence")
    return None, title, str(evidence) if evidence else None


_REASONS = (
    (re.compile(r"^the completion was voided$"), "学习记录已作废"),
    (re.compile(r"^approved by an auditor: (.*)$", re.S), r"审核通过：\1"),
    (re.compile(r"^rejected by an auditor: (.*)$", re.S), r"审核未通过：\1"),
    (re.compile(r"^the completion is dated after it was stored$"), "完成时间晚于上报时间，待审核"),
    (
        re.compile(r"^the completion is dated more than (\d+) days before it was stored$"),
        r"完成时间早于上报时间\1天以上，待审核",
    ),
    (re.compile(r"^no longer accepted: (.*)$", re.S), r"不再认可：\1"),
)


def status_note(reason: str | None) -> str | None:
    """The ledger's reason for a status, in Chinese where it is one the ledger writes."""
    if not reason:
        return None
    for pattern, wording in _REASONS:
        if pattern.match(reason):
            return pattern.sub(wording, reason)
    return reason


def entry_line(row: dict[str, Any]) -> dict[str, Any]:
    """One ledger row as the transcript lists it."""
    code, title, evidence = _subject(row)
    status = str(row["status"])
    return {
        "entry_id": row["entry_id"],
        "date": _day(row["occurred_on"]),
        "year": int(row["year"]),
        "kind": row["kind"],
        "kind_label": KIND_LABELS.get(row["kind"], row["kind"]),
        "course_code": code,
        "title": title,
        "evidence": evidence,
        "category": row["category"],
        "category_label": CATEGORY_LABELS.get(row["category"], row["category"]),
        "hours": _hours(row["hours"]),
        "status": status,
        "status_label": STATUS_LABELS.get(status, status),
        "counted": status == "counted",
        "status_reason": row.get("status_reason"),
        "status_note": status_note(row.get("status_reason")),
        "clause": row["clause"],
    }


def totals(lines: Sequence[dict[str, Any]], span: Span) -> dict[str, Any]:
    """Counted hours by year and category; pending and reversed hours apart."""
    years = {
        year: {"year": year, "public": 0.0, "professional": 0.0}
        for year in range(span.first, span.last + 1)
    }
    left_out = {"pending_review": 0.0, "reversed": 0.0}
    for line in lines:
        if not line["counted"]:
            left_out[line["status"]] = left_out.get(line["status"], 0.0) + line["hours"]
            continue
        years[line["year"]][line["category"]] += line["hours"]
    by_year = [
        {
            "year": y["year"],
            "public": _hours(y["public"]),
            "professional": _hours(y["professional"]),
            "total": _hours(y["public"] + y["professional"]),
        }
        for y in years.values()
    ]
    public = sum(y["public"] for y in years.values())
    professional = sum(y["professional"] for y in years.values())
    return {
        "public": _hours(public),
        "professional": _hours(professional),
        "total": _hours(public + professional),
        "pending_review": _hours(left_out["pending_review"]),
        "reversed": _hours(left_out["reversed"]),
        "by_year": by_year,
    }


def audit_block(audit: AuditRead, level_label: str) -> dict[str, Any]:
    """The audit verdict as the transcript certifies it."""
    data = audit.model_dump(mode="json", by_alias=True, exclude={"learner_id"})
    data["level_label"] = level_label
    return data


def learner_block(learner: Learner, id_number: str) -> dict[str, Any]:
    return {
        "id": learner.learner_id,
        "name": learner.name,
        "id_number": id_number,
        "employer": learner.employer,
        "series": learner.series,
        "title_level": learner.title_level.value,
        "title_level_label": TITLE_LEVEL_LABELS.get(learner.title_level.value, ""),
        "degree": learner.degree.value,
        "degree_label": DEGREE_LABELS.get(learner.degree.value, ""),
    }


def build(
    *,
    learner: Learner,
    id_number: str,
    rows: Sequence[dict[str, Any]],
    span: Span,
    audit: dict[str, Any] | None,
    issuer: str,
    issued_at: datetime,
) -> dict[str, Any]:
    """The transcript's content, without its verification code (see `codes`)."""
    chosen = sorted(
        (r for r in rows if span.first <= int(r["year"]) <= span.last),
        key=lambda r: (_day(r["occurred_on"]), r["entry_id"]),
    )
    lines = [entry_line(r) for r in chosen]
    return {
        "document": TITLE,
        "version": VERSION,
        "issuer": issuer,
        "issued_at": issued_at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "learner": learner_block(learner, id_number),
        "range": {"from": span.first, "to": span.last},
        "entries": lines,
        "totals": totals(lines, span),
        "audit": audit,
    }


def summary(content: dict[str, Any], masked_id_number: str, format_: str) -> dict[str, Any]:
    """What `GET /verify/{code}` shows anyone: enough to compare a printed transcript
    against, with the id number masked whoever the transcript was issued to (and not the
    learner's account name, which can be an e-mail address)."""
    audit = content["audit"]
    verdict = None
    if audit is not None:
        verdict = {
            "level": audit["level"],
            "level_label": audit["level_label"],
            "year": audit["year"],
            "window": audit["window"],
            "passed": audit["passed"],
            "required": audit["required"],
            "earned": audit["earned"],
            "shortfall": audit["shortfall"],
        }
    learner = content["learner"]
    sums = content["totals"]
    return {
        "document": content["document"],
        "format": format_,
        "issuer": content["issuer"],
        "issued_at": content["issued_at"],
        "learner": {
            "name": learner["name"],
            "id_number": masked_id_number,
            "employer": learner["employer"],
        },
        "range": content["range"],
        "entries": len(content["entries"]),
        "totals": {key: sums[key] for key in ("public", "professional", "total")}
        | {"pending_review": sums["pending_review"], "reversed": sums["reversed"]},
        "verdict": verdict,
    }


# --- wording shared by the formats ------------------------------------------------------

CHINA = timezone(timedelta(hours=8), "CST")

RULE_LABELS = {
    "master_years_in_post": "硕士研究生按任职年限计算",
    "degree_within_window": "学历教育在审验周期内完成",
    "degree_across_window": "学历教育跨审验周期",
    "qualification_after_title": "取得职称后考取职业资格",
    "foreign_language_exam": "职称外语考试代替公需课",
    "computer_exam_module": "计算机应用能力考试代替公需课",
}


def number(value: float) -> str:
    """Hours as the documents print them: 6, 1.5."""
    return f"{value:g}"


def issued_local(content: dict[str, Any]) -> datetime:
    """The issue time in China Standard Time, as the certificate dates itself."""
    issued = datetime.strptime(content["issued_at"], "%Y-%m-%dT%H:%M:%SZ")
    return issued.replace(tzinfo=UTC).astimezone(CHINA)


def issued_date_text(content: dict[str, Any]) -> str:
    moment = issued_local(content)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def range_text(content: dict[str, Any]) -> str:
    span = content["range"]
    if span["from"] == span["to"]:
        return f"{span['from']}年"
    return f"{span['from']}—{span['to']}年"


def verdict_text(audit: dict[str, Any]) -> str:
    """One sentence: whether the application's hours are met, and by how much not."""
    window = audit["window"]
    what = f"申报{audit['year']}年{audit['level_label']}职称"
    what += f"，审验周期{window['from']}—{window['to']}年"
    if audit["passed"]:
        return f"{what}：继续教育学时符合要求。"
    short = audit["shortfall"]
    missing = []
    if short["total"]:
        missing.append(f"总学时尚差{number(short['total'])}学时")
    if short["public"]:
        missing.append(f"公需课尚差{number(short['public'])}学时")
    return f"{what}：继续教育学时未达到要求，{'，'.join(missing)}。"


def applied_text(rule: dict[str, Any]) -> str:
    label = RULE_LABELS.get(rule["rule"], rule["rule"])
    return f"{label}（{rule['clause']}）：{rule['detail']}"


def left_out_text(content: dict[str, Any]) -> str | None:
    sums = content["totals"]
    parts = []
    if sums["pending_review"]:
        parts.append(f"待审核{number(sums['pending_review'])}学时")
    if sums["reversed"]:
        parts.append(f"已撤销{number(sums['reversed'])}学时")
    return f"{'、'.join(parts)}未计入合计。" if parts else None
