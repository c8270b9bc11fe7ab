"""Sentences and figures the formats (and the pages) print from a transcript's content."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from credits.labels import DECISION_LABELS, RULE_LABELS
from credits.schemas import Applied, ConclusionBrief
from transcripts.content import CertifiedAudit, Span, Totals
from transcripts.left_out import NotCounted

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


def moment_text(moment: datetime) -> str:
    """A moment in China Standard Time, as the documents print it: 2025年3月1日 16:30."""
    local = moment.replace(tzinfo=moment.tzinfo or UTC).astimezone(CHINA)
    return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"


def issued_time_text(issued_at: str) -> str:
    """A moment written as `Transcript.issued_at` is, in China Standard Time."""
    return moment_text(datetime.strptime(issued_at, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC))


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
    if sums.substitutions:
        parts.append(
            f"考试代替公需课{number(sums.substitutions)}学时（审验时按规定代替，见审验结果）"
        )
    if sums.pending_review:
        parts.append(f"待审核{number(sums.pending_review)}学时")
    if sums.reversed:
        parts.append(f"已撤销{number(sums.reversed)}学时")
    return f"{'、'.join(parts)}未计入合计。" if parts else None


def basis_text(audit: CertifiedAudit) -> str:
    """Where the verdict comes from: computed by the system, or concluded by an auditor."""
    if audit.conclusion is None:
        return "系统计算（审验人尚未作出审验结论）"
    return "审验人作出审验结论"


def seen_text(found: ConclusionBrief) -> str:
    """The verdict a conclusion saw when it was made."""
    seen = found.verdict
    if seen.passed:
        return "符合要求"
    short = seen.shortfall
    return (
        f"未达到要求（总学时尚差{number(short.total)}学时，公需课尚差{number(short.public)}学时）"
    )


def conclusion_lines(audit: CertifiedAudit) -> list[str]:
    """The auditor's conclusion as the transcript states it: decision, by whom, when,
    the reason, the verdict it saw; and a warning when the record changed after it."""
    found = audit.conclusion
    if found is None:
        return ["结论来源：系统计算，审验人尚未作出审验结论。"]
    lines = [
        f"审验结论：{DECISION_LABELS[found.decision]}"
        f"（审验人：{found.by_name}，{moment_text(found.at)}）",
        f"理由：{found.reason}",
        f"结论作出时系统计算：{seen_text(found)}",
    ]
    if audit.changed_since_conclusion:
        lines.append("注意：结论作出后学时记录有变化，本证明所列学时为出具时的记录。")
    return lines


def not_counted_heading(lines: tuple[NotCounted, ...]) -> str:
    return f"不计入的学时（{len(lines)}条）"


def conclusion_cells(audit: CertifiedAudit | None) -> list[str]:
    """The auditor's conclusion as a batch export's summary lists it (blank while the
    verdict is computed), and whether the record changed after it."""
    found = None if audit is None else audit.conclusion
    if audit is None or found is None:
        return ["", ""]
    decided = f"{DECISION_LABELS[found.decision]}（{found.by_name}，{moment_text(found.at)}）"
    return [decided, "是" if audit.changed_since_conclusion else "否"]
