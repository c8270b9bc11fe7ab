"""The admin log's lines of learners (nxce/core/admin_log.py, `Area.learners`): a learner
registered (one by one, or a roster at once), a profile corrected, a title appended or
corrected, the personal data erased, a lookup by a full id number. Written by
credits/learners.py, registration.py, personal.py and lookup.py in the session of the write
they describe.

Names, employers, series, degrees and titles are shown from → to; id numbers, phone
numbers and e-mail addresses never: the line says that they changed ("身份证号已更正")."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from credits.models import Learner, TitleRecord
from credits.titles import record_data, record_words
from nxce.core.admin_log import AdminAction, Area

# The fields a profile line shows from → to, as the line names them.
SHOWN_FIELDS = {"name": "姓名", "employer": "工作单位", "series": "系列", "degree": "学历"}
DEGREE_WORDS = {
    "bachelor": "大学本科",
    "master": "硕士研究生",
    "doctor": "博士研究生",
    "other": "其他",
}
ROSTER_IDS_KEPT = 100  # a roster line names its first learner ids; the trail has them all


def _who(learner: Learner) -> str:
    return f"{learner.name}（{learner.learner_id}）"


def _line(by: str, action: str, target: str, summary: str, detail: dict[str, Any]) -> AdminAction:
    return AdminAction(
        by=by, area=Area.learners, action=action, target=target, summary=summary, detail=detail
    )


def _plain(name: str, value: Any) -> str:
    text = str(getattr(value, "value", value)) if value is not None else "—"
    return DEGREE_WORDS.get(text, text) if name == "degree" else text


def _raw(value: Any) -> Any:
    return getattr(value, "value", value)


def registered(learner: Learner, *, by: str) -> AdminAction:
    summary = f"登记学员 {_who(learner)}，{learner.employer}"
    detail = {
        "employer": learner.employer,
        "series": learner.series,
        "degree": learner.degree.value,
        "titles": [record_data(t) for t in learner.titles],
    }
    return _line(by, "learner.registered", learner.learner_id, summary, detail)


def roster_registered(learner_ids: Sequence[str], *, by: str) -> AdminAction:
    count = len(learner_ids)
    detail = {
        "created": count,
        "learner_ids": list(learner_ids[:ROSTER_IDS_KEPT]),
        "more": max(0, count - ROSTER_IDS_KEPT),
    }
    return _line(by, "learner.roster_registered", "", f"花名册导入登记 {count} 位学员", detail)


def _contact(name: str, before: str | None, after: str | None) -> str:
    what = {"id_number": "身份证号", "phone": "手机号", "email": "电子邮箱"}[name]
    if before is None:
        return f"{what}已添加"
    return f"{what}已清除" if after is None else f"{what}已更正"


def updated(before: Learner, updates: dict[str, Any], *, by: str) -> list[AdminAction]:
    """The lines of an update (`updates`: the fields written): one for the profile, one
    for the title history, each when it changed."""
    lines = []
    fields: dict[str, Any] = {}
    words = []
    for name, label in SHOWN_FIELDS.items():
        if name in updates and updates[name] != getattr(before, name):
            old, new = getattr(before, name), updates[name]
            fields[name] = {"from": _raw(old), "to": _raw(new)}
            words.append(f"{label} {_plain(name, old)} → {_plain(name, new)}")
    for name, digest in (("id_number", "id_number_digest"), ("phone", "phone_digest")):
        if digest in updates and updates[digest] != getattr(before, digest):
            fields[name] = _contact(name, getattr(before, digest), updates[digest])
            words.append(fields[name])
    if "email" in updates and updates["email"] != before.email:
        fields["email"] = _contact("email", before.email, updates["email"])
        words.append(fields["email"])
    if fields:
        summary = f"更正学员 {_who(before)}的档案：" + "；".join(words)
        detail = {"fields": fields, "revision": before.revision + 1}
        lines.append(_line(by, "learner.updated", before.learner_id, summary, detail))
    if "titles" in updates:
        lines.append(titles_changed(before, list(before.titles), updates["titles"], by=by))
    return lines


def titles_changed(
    learner: Learner,
    old: list[TitleRecord],
    new: list[TitleRecord],
    *,
    by: str,
    reason: str | None = None,
) -> AdminAction:
    """A record appended, or one corrected (from → to), or (rarely) the history replaced."""
    target = learner.learner_id
    detail: dict[str, Any] = {"revision": learner.revision + 1}
    if reason:
        detail["reason"] = reason
    if len(new) == len(old) + 1 and new[:-1] == old:
        summary = f"为学员 {_who(learner)}添加职称：{record_words(new[-1])}"
        detail |= {"entry": len(new), "record": record_data(new[-1])}
        return _line(by, "title.appended", target, summary, detail)
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=False)) if a != b]
    if len(new) == len(old) and len(changed) == 1:
        i = changed[0]
        words = f"{record_words(old[i])} → {record_words(new[i])}"
        summary = f"更正学员 {_who(learner)}第 {i + 1} 条职称记录：{words}"
        if reason:
            summary += f"（{reason}）"
        detail |= {"entry": i + 1, "from": record_data(old[i]), "to": record_data(new[i])}
        return _line(by, "title.corrected", target, summary, detail)
    summary = f"更改学员 {_who(learner)}的职称记录"
    detail |= {"from": [record_data(t) for t in old], "to": [record_data(t) for t in new]}
    return _line(by, "title.changed", target, summary, detail)


def looked_up(found: Learner | None, *, by: str) -> AdminAction:
    """A lookup by a full id number (the number is not kept)."""
    if found is None:
        summary = "按完整身份证号查找学员：没有找到"
        return _line(by, "learner.id_number_lookup", "", summary, {"found": False})
    summary = f"按完整身份证号查找学员：找到 {_who(found)}"
    return _line(by, "learner.id_number_lookup", found.learner_id, summary, {"found": True})
