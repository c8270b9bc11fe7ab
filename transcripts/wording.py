"""Sentences and figures the formats (and the pages) print from a transcript's content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from credits.schemas import Applied
from transcripts.content import CertifiedAudit, Span, Totals
from transcripts.labels import RULE_LABELS

CHINA = timezone(timedelta(hours=8), "CST")


def number(value: float) -> str:
    """Hours as the documents print them: 6, 1.5."""
    return f"{value:g}"


def issued_local(issued_at: str) -> datetime:
    """The issue time (`Transcript.issued_at`) in China Standard Time, as the certificate
    dates itself."""
    issued = datetime.strptime(issued_at, "%Y-%m-%dT%H:%M:%SZ")
    return issued.replace(tzinfo=UTC).astimezone(CHINA)


def issued_date_text(issued_at: str) -> str:
    moment = issued_local(issued_at)
    return f"{moment.year}年{moment.month}月{moment.day}日"


def range_text(span: Span) -> str:
    if span.first == span.last:
        return f"{span.first}年"
    return f"{span.first}—{span.last}年"


def verdict_text(audit: CertifiedAudit) -> str:
    """One sentence: whether the application's hours are met, and by how much not."""
    window = audit.window
    what = f"申报{audit.year}年{audit.level_label}职称"
    what += f"，审验周期{window.from_}—{window.to}年"
    if audit.passed:
        return f"{what}：继续教育学时符合要求。"
    if audit.cannot_be_met:  # §一(二), our reading: no year in post within the window
        return f"{what}：审验周期内无任职年限，不能按任职年限认定继续教育学时，不符合要求。"
    short = audit.shortfall
    missing = []
    if short.total:
        missing.append(f"总学时尚差{number(short.total)}学时")
    if short.public:
        missing.append(f"公需课尚差{number(short.public)}学时")
    return f"{what}：继续教育学时未达到要求，{'，'.join(missing)}。"


def applied_text(rule: Applied) -> str:
    label = RULE_LABELS.get(rule.rule, rule.rule)
    return f"{label}（{rule.clause}）：{rule.detail}"


def left_out_text(sums: Totals) -> str | None:
    parts = []
    if sums.pending_review:
        parts.append(f"待审核{number(sums.pending_review)}学时")
    if sums.reversed:
        parts.append(f"已撤销{number(sums.reversed)}学时")
    return f"{'、'.join(parts)}未计入合计。" if parts else None
