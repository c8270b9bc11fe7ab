"""The Chinese the transcripts, the pages and the admin log show for the ledger's and the
audit's codes (in credits, the lowest package that shows them: transcripts and web read it)."""

from __future__ import annotations

import re

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
    "record_import": "平台学时导入",
    "programme": "知识更新工程",
}
# §二: the parts of the knowledge-update programme (专业技术人才知识更新工程), as the notice
# names them; a programme entry is shown as 知识更新工程 with its part's name.
PROGRAMME_KIND_LABELS = {
    "advanced_seminar": "高级研修项目",
    "urgent_skills": "急需紧缺和岗位骨干人才培训项目",
    "key_industry": "九个重点产业、领域专业技术培训项目",
    "tcm_grassroots": "基层中医药卫生专业技术人员能力提升专项培训",
}
CATEGORY_LABELS = {"public": "公需课", "professional": "专业课"}
STATUS_LABELS = {
    "counted": "已计入",
    "pending_review": "待审核",
    "reversed": "已撤销",
    "awaiting_policy": "尚无适用政策",
}
DECISION_LABELS = {"approve": "通过", "reject": "不通过"}
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
RULE_LABELS = {
    "master_years_in_post": "硕士研究生按任职年限计算",
    "master_no_years_in_post": "硕士研究生审验期内无任职年限",
    "degree_within_window": "学历教育在审验周期内完成",
    "degree_across_window": "学历教育跨审验周期",
    "qualification_after_title": "取得职称后考取职业资格",
    "qualification_uncovered_years": "任职期外年度的专业课学时",
    "foreign_language_exam": "职称外语考试代替公需课",
    "computer_exam_module": "计算机应用能力考试代替公需课",
    "exam_series_not_checked": "未核对系列是否要求外语和计算机考试",
}

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
    (
        re.compile(r"^the completion is dated before the course existed \(from ([\d-]+)\)$"),
        r"完成时间早于课程上线日期（\1），待审核",
    ),
    (re.compile(r"^no policy covers (\d{4}) yet$"), r"尚无政策覆盖\1年"),
    (re.compile(r"^no policy covers teaching in (\d{4}) yet$"), r"尚无政策覆盖\1年的授课"),
    (
        re.compile(r"^base (.+) was revoked on ([\d-]+) \(§三\); the training is dated ([\d-]+)$"),
        r"基地\1自\2起被取消资格（§三），培训日期为\3",
    ),
    (
        re.compile(
            r"^base (.+) was criticised on ([\d-]+) \(§三\); the training is dated ([\d-]+)$"
        ),
        r"基地\1自\2起被通报批评并限期整改（§三），培训日期为\3",
    ),
    (
        re.compile(r"^base (.+) was revoked on ([\d-]+) \(§三\); the result is dated ([\d-]+)$"),
        r"基地\1自\2起被取消资格（§三），考核日期为\3",
    ),
    (
        re.compile(
            r"^base (.+) was criticised on ([\d-]+) \(§三\); the result is dated ([\d-]+), "
            r"its project started on ([\d-]+)$"
        ),
        r"基地\1自\2起被通报批评并限期整改（§三），考核日期为\3，项目开班日期为\4",
    ),
    (
        re.compile(r"^base (.+) was not yet certified on ([\d-]+) \(§三\)$"),
        r"基地\1在\2尚未认证（§三）",
    ),
)

# How the audit begins the reason of an entry it did not count (credits/audit_tally.py,
# credits/audit_cases.py), in Chinese; what follows is the ledger's or the rule's detail.
_NOT_COUNTED_LEADS = (
    ("pending review", "待审核"),
    ("reversed", "已撤销"),
    ("awaiting a policy", "尚无适用政策"),
    ("substitution limit reached", "超出考试代替公需课学时的上限"),
    ("substitution expired", "考试代替公需课学时已过有效期"),
    ("院校学时证明 required", "缺少院校学时证明"),
    ("before the years in post", "任职年限之前的学时"),
)


def programme_label(kind: str | None) -> str:
    """知识更新工程 and the part of §二 a programme entry belongs to."""
    part = PROGRAMME_KIND_LABELS.get(kind or "")
    return f"{KIND_LABELS['programme']}·{part}" if part else KIND_LABELS["programme"]


def status_note(reason: str | None) -> str | None:
    """The ledger's reason for a status, in Chinese where it is one the ledger writes."""
    if not reason:
        return None
    for pattern, wording in _REASONS:
        if pattern.match(reason):
            return pattern.sub(wording, reason)
    return reason


def not_counted_note(reason: str, entry_note: str | None) -> str:
    """Why the audit did not count an entry, in Chinese: the entry's status with the
    ledger's reason for it, or the audit's own reason (translated where known)."""
    if reason in STATUS_LABELS:
        label = STATUS_LABELS[reason]
        return f"{label}：{entry_note}" if entry_note else label
    for lead, wording in _NOT_COUNTED_LEADS:
        if reason == lead:
            return wording
        if reason.startswith(f"{lead}: ") or reason.startswith(f"{lead} "):
            detail = reason[len(lead) :].lstrip(": ").strip()
            return f"{wording}：{_details(detail)}"
    return status_note(reason) or reason


def _details(detail: str) -> str:
    """A reason's detail in Chinese where the ledger wrote it: one known reason, or several
    joined with '; '."""
    whole = status_note(detail) or detail
    if whole != detail or "; " not in detail:
        return whole
    return "；".join(status_note(part) or part for part in detail.split("; "))
