"""How people read a course's fields: their Chinese names (page labels, import headers,
log summaries) and the Chinese words for their coded values."""

from __future__ import annotations

from typing import Any

# field -> its Chinese name, in the order a course is shown
FIELD_LABELS: dict[str, str] = {
    "code": "课程编号",
    "title": "课程名称",
    "description": "课程简介",
    "category": "类别",
    "series": "系列",
    "subject": "专业",
    "hours": "学时",
    "year": "年度",
    "base": "提供机构",
    "delivery": "学习方式",
    "tags": "标签",
    "status": "状态",
}

# coded values -> their Chinese words, by field
VALUE_LABELS: dict[str, dict[str, str]] = {
    "category": {"public": "公需课", "professional": "专业课"},
    "delivery": {"web": "网页", "mobile": "手机", "both": "网页和手机"},
    "status": {"published": "已发布", "retired": "已停用"},
}

ACTION_LABELS: dict[str, str] = {
    "created": "新建",
    "updated": "修改",
    "retired": "停用",
    "restored": "恢复",
}

TAG_SEPARATOR = "、"


def value_text(field: str, value: Any) -> str:
    """A field's value as people read it: Chinese words for codes, hours without a
    needless ".0", tags joined, nothing as "（空）"."""
    if value is None or value == "" or value == []:
        return "（空）"
    if hasattr(value, "value"):
        value = value.value
    if isinstance(value, list):
        return TAG_SEPARATOR.join(str(v) for v in value)
    if isinstance(value, float):
        return f"{value:g}"
    return VALUE_LABELS.get(field, {}).get(str(value), str(value))


def change_lines(changes: dict[str, dict[str, Any]]) -> list[str]:
    """Each changed field as "学时：1.5 → 2" (a new course: "学时：2")."""
    lines = []
    for field, change in changes.items():
        label = FIELD_LABELS.get(field, field)
        if "from" in change:
            before, after = value_text(field, change["from"]), value_text(field, change.get("to"))
            lines.append(f"{label}：{before} → {after}")
        else:
            lines.append(f"{label}：{value_text(field, change.get('to'))}")
    return lines
