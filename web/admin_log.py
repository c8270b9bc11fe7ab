"""The admin's page of the administrative log (`/admin/log`): every administrative write
and sensitive read, newest first, filtered by who, what, which record and which days,
fifty lines a page with an "older" link (a cursor). Each line: when (China Standard
Time), who, what, which record (linked to its page where one exists), the summary, and
the details (fields from → to, counts, reasons) as text.

The log is only appended to (nxce/core/admin_log.py): this page reads it, nothing in the
service changes or removes a line."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from nxce.core.admin_log import AdminAction, Area
from nxce.core.admin_log_query import CHINA, PARAMETERS, BadFilter, Filters, page, parse
from nxce.core.json_route import JsonRoute
from web import render
from web.access import AdminPage

router = APIRouter(prefix="/admin", route_class=JsonRoute, include_in_schema=False)

AREA_LABELS = {
    Area.catalog: "课程",
    Area.bases: "继续教育基地",
    Area.clients: "客户端账号",
    Area.learners: "学员",
    Area.credits: "学时",
    Area.reviews: "审核与审验结论",
    Area.programme: "知识更新工程",
    Area.accounts: "学员账号",
    Area.store: "数据存储",
}
LABELS_BY_VALUE = {area.value: label for area, label in AREA_LABELS.items()}
# The names of the details the lines carry, in Chinese (a name not listed is shown as is).
DETAIL_WORDS = {
    "assessed_on": "考核日期",
    "attempted_learner_id": "登记的学员编号",
    "back_dated": "追溯生效",
    "base_id": "基地编号",
    "batch": "每批条数",
    "bytes": "大小（字节）",
    "capacity": "名额",
    "category": "类别",
    "certificate": "证书编号",
    "changed": "与重建前不同",
    "clause": "依据条款",
    "code": "课程编号",
    "collections": "集合数",
    "conclusion_id": "结论编号",
    "created": "新建",
    "decision": "决定",
    "decision_id": "决定编号",
    "description": "简介",
    "device_id": "设备编号",
    "disabled": "已停用",
    "document_id": "材料编号",
    "documents": "文档数",
    "effective_on": "生效日期",
    "ends_on": "结束日期",
    "entries": "学时记录数",
    "entries_changed": "变化的学时记录",
    "entry": "第几条",
    "entry_id": "学时记录编号",
    "expires_at": "有效期至（UTC）",
    "fields": "字段",
    "filename": "文件名",
    "finished": "先补完的重算",
    "followed_by": "其后的决定",
    "found": "是否找到",
    "from": "原为",
    "hours": "学时",
    "import": "导入",
    "kind": "类型",
    "learner_id": "学员编号",
    "learner_ids": "学员编号",
    "learner_ids_not_listed": "未列出的学员",
    "learners_changed": "学时有变化的学员",
    "learners_recomputed": "重算的学员",
    "level": "级别",
    "media_type": "文件类型",
    "moved": "已改用新密钥",
    "name": "名称",
    "occurred_on": "日期",
    "operation": "操作",
    "passed": "考核合格",
    "path": "位置",
    "plan": "导入计划",
    "previous_secret": "原密钥",
    "reason": "理由",
    "rectify_by": "整改期限",
    "refused": "未通过检查",
    "reset": "重置（此前已有账号）",
    "revision": "版本",
    "row": "行号",
    "rows": "行数",
    "scopes": "权限",
    "score": "成绩",
    "secret_key": "密钥",
    "series": "系列",
    "sha256": "SHA-256",
    "size": "大小（字节）",
    "source_ref": "所审记录",
    "starts_on": "开始日期",
    "status": "状态",
    "status_reason": "状态原因",
    "subject": "学科",
    "title": "名称",
    "to": "改为",
    "unchanged": "未变",
    "updated": "修改",
    "verdict_passed": "审验时达标",
    "where": "查看位置",
    "year": "年度",
}
MAX_DETAIL_ITEMS = 20  # items of a list shown; the rest counted
MAX_DETAIL_CHARS = 300


def record_link(area: str, target: str) -> str:
    """The page of a line's record, where there is one ("" otherwise)."""
    if not target:
        return ""
    quoted = quote(target, safe="")
    return {
        Area.catalog.value: f"/admin/courses/{quoted}",
        Area.bases.value: f"/admin/bases/{quoted}",
        Area.clients.value: f"/admin/clients/{quoted}",
        Area.learners.value: f"/admin/learners/{quoted}",
        Area.accounts.value: f"/admin/learners/{quoted}/account",
        Area.credits.value: f"/auditor/learners/{quoted}",
        Area.reviews.value: f"/auditor/learners/{quoted}",
        Area.programme.value: f"/auditor/programme/projects/{quoted}",
    }.get(area, "")


def _short(text: str) -> str:
    return text if len(text) <= MAX_DETAIL_CHARS else text[:MAX_DETAIL_CHARS] + "…"


def value_text(value: Any) -> str:
    """A detail's value as people read it: a change as "from → to", a list joined."""
    if isinstance(value, dict) and set(value) <= {"from", "to"} and value:
        return f"{value_text(value.get('from'))} → {value_text(value.get('to'))}"
    if isinstance(value, list):
        shown = "、".join(value_text(v) for v in value[:MAX_DETAIL_ITEMS])
        more = len(value) - MAX_DETAIL_ITEMS
        return shown + (f" 等 {len(value)} 项" if more > 0 else "")
    if isinstance(value, dict):
        return "；".join(f"{k}：{value_text(v)}" for k, v in value.items())
    if value is None or value == "":
        return "（空）"
    if value is True or value is False:
        return "是" if value else "否"
    return _short(str(value))


def detail_name(key: Any) -> str:
    return DETAIL_WORDS.get(str(key), _short(str(key)))


def when_text(line: AdminAction) -> str:
    local = line.at.replace(tzinfo=line.at.tzinfo or UTC).astimezone(CHINA)
    return f"{local:%Y-%m-%d %H:%M:%S}"


@dataclass(frozen=True, slots=True)
class Line:
    when: str
    by: str
    area: str
    area_label: str
    action: str
    target: str
    link: str
    summary: str
    details: list[tuple[str, str]]


def line_of(line: AdminAction) -> Line:
    area = line.area.value if isinstance(line.area, Area) else str(line.area)
    return Line(
        when=when_text(line),
        by=line.by,
        area=area,
        area_label=LABELS_BY_VALUE.get(area, area),
        action=line.action,
        target=line.target,
        link=record_link(area, line.target),
        summary=line.summary,
        details=[(detail_name(k), value_text(v)) for k, v in line.detail.items()],
    )


@router.get("/log", response_class=HTMLResponse)
async def log_page(request: Request, _: AdminPage) -> Response:
    params = {name: request.query_params.get(name, "") for name in PARAMETERS}
    try:
        filters = parse(params)
    except BadFilter as bad:
        values = await render.context(
            request,
            section="log",
            filters=Filters(),
            form=params,
            areas=AREA_LABELS,
            lines=[],
            older="",
            newest="",
            error=f"筛选条件 {bad.field} 的值 “{bad.value[:80]}” 无法使用：{bad.message}。",
        )
        return render.page(request, "admin_log.html", values, status=422)
    lines, more = await page(filters)
    kept = filters.query(without_cursor=True)
    older = "/admin/log?" + urlencode({**kept, "before": more}) if more else ""
    newest = ("/admin/log?" + urlencode(kept) if kept else "/admin/log") if filters.before else ""
    values = await render.context(
        request,
        section="log",
        filters=filters,
        form=kept,
        areas=AREA_LABELS,
        lines=[line_of(line) for line in lines],
        older=older,
        newest=newest,
        error="",
    )
    return render.page(request, "admin_log.html", values)
