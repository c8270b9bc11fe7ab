"""The administrative log's lines of the credit writes (nxce/core/admin_log.py): manual
entries and record imports, auditors' reviews of pending entries, audit conclusions,
evidence documents attached and removed. Each is written with its write (the same
`db.atomic` session); the target is the learner, so the log of one learner lists them.

The Chinese words of kinds, categories, statuses and levels are those the transcripts and
pages print (credits/labels.py)."""

from __future__ import annotations

from typing import Any

from credits.labels import CATEGORY_LABELS, KIND_LABELS, LEVEL_LABELS, STATUS_LABELS
from credits.models import AuditConclusion, CreditReview, LedgerEntry
from nxce.core import admin_log
from nxce.core.admin_log import Area

DECISION_WORDS = {"approve": "核准", "reject": "驳回"}  # as verbs: 驳回了…


def _hours(value: float) -> str:
    return f"{value:g}"


async def manual_entry(entry: LedgerEntry, *, by: str, session: Any) -> None:
    """A manual entry recorded (a record import when its kind says so)."""
    kind = KIND_LABELS.get(entry.kind, entry.kind)
    category = CATEGORY_LABELS.get(entry.category, entry.category)
    status = STATUS_LABELS.get(entry.status.value, entry.status.value)
    imported = entry.kind == "record_import"
    await admin_log.record(
        by=by,
        area=Area.credits,
        action="credit.record_imported" if imported else "credit.manual_added",
        target=entry.learner_id,
        summary=(
            f"为学员 {entry.learner_id} 录入{kind} {_hours(entry.hours)} 学时"
            f"（{category}，{entry.occurred_on.isoformat()}），{status}"
        ),
        detail={
            "entry_id": entry.entry_id,
            "kind": entry.kind,
            "occurred_on": entry.occurred_on.isoformat(),
            "category": entry.category,
            "hours": entry.hours,
            "status": entry.status.value,
            "clause": entry.clause,
            **({"status_reason": entry.status_reason} if entry.status_reason else {}),
        },
        session=session,
    )


async def review(
    decided: CreditReview, entry: LedgerEntry, *, learner_id: str, session: Any
) -> None:
    """An auditor's decision on an entry pending review."""
    decision = DECISION_WORDS.get(decided.decision, decided.decision)
    await admin_log.record(
        by=decided.decided_by,
        area=Area.reviews,
        action=f"credit.review.{decided.decision}",
        target=learner_id,
        summary=(
            f"{decision}了学员 {learner_id} 待审核的学时记录"
            f"（{_hours(entry.hours)} 学时，{entry.occurred_on.isoformat()}）：{decided.reason}"
        ),
        detail={
            "entry_id": decided.entry_id,
            "source_ref": decided.source_ref,
            "decision": decided.decision,
            "reason": decided.reason,
            "hours": entry.hours,
        },
        session=session,
    )


async def conclusion(found: AuditConclusion, *, session: Any) -> None:
    """An auditor's conclusion (审验结论) on a learner's audit."""
    decision = "通过" if found.decision == "approve" else "不通过"
    level = LEVEL_LABELS.get(found.level, found.level)
    await admin_log.record(
        by=found.concluded_by,
        area=Area.reviews,
        action=f"audit.concluded.{found.decision}",
        target=found.learner_id,
        summary=(
            f"审验结论：学员 {found.learner_id} {found.year} 年申报{level}，{decision}"
            f"（{found.reason}）"
        ),
        detail={
            "conclusion_id": found.conclusion_id,
            "level": found.level,
            "year": found.year,
            "decision": found.decision,
            "reason": found.reason,
            "verdict_passed": found.verdict.get("passed"),
        },
        session=session,
    )


async def evidence(
    action: str, *, by: str, learner_id: str, entry_id: str, document: dict[str, Any]
) -> None:
    """An evidence document attached to a manual entry, or removed from it."""
    words = "上传了" if action == "attached" else "删除了"
    await admin_log.record(
        by=by,
        area=Area.credits,
        action=f"evidence.{action}",
        target=learner_id,
        summary=f"{words}学员 {learner_id} 一条手工学时记录的证明材料“{document['filename']}”",
        detail={"entry_id": entry_id, **document},
    )
