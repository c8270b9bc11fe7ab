"""The admin's overview (`/admin`): the catalog in figures (courses and hours by
category and by series, drawn as bars and given as a table), statements stored today
and this week, credits recorded, entries waiting for a review or a policy, batch exports
by state, bases by status (§三), and a link to each admin page.

Every figure is one indexed count through a domain service (catalog/figures.py,
lrs/statements/query.py `stored_since`, credits/figures.py, transcripts/exports.py
`count_by_status`); the catalog's grouping is kept between course writes. "Today" and
"this week" (from Monday) are days of China Standard Time."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse

from catalog import figures as catalog_figures
from catalog.series import SERIES
from credits import figures as credit_figures
from lrs.statements import query as statements
from nxce.core.json_route import JsonRoute
from transcripts import exports
from transcripts.wording import CHINA, moment_text
from web import render
from web.access import AdminPage
from web.render import CATEGORY_LABELS

router = APIRouter(prefix="/admin", route_class=JsonRoute, include_in_schema=False)

BASE_STATUS_LABELS = {
    "certified": "已认定",
    "commended": "表彰",
    "criticised": "通报批评、限期整改",
    "revoked": "已取消资格",
}
JOB_STATUS_LABELS = {"queued": "排队中", "running": "进行中", "done": "已完成", "failed": "失败"}

# The admin pages, each with what it is for (the overview's last section).
PAGES = (
    ("/admin/courses", "课程", "查找、新建、修改、下架与恢复课程，查看修改记录，批量导入。"),
    ("/admin/bases", "继续教育基地", "登记基地，记录认定、表彰、通报批评和取消资格的决定。"),
    ("/admin/clients", "客户端账号", "应用、基地和审核人员的账号：新建、更换密钥、停用。"),
    ("/admin/learners", "学员", "按姓名、单位或完整身份证号查找学员，更正档案和职称记录。"),
    ("/admin/log", "操作日志", "所有管理操作和敏感查询，按人、类别、记录和时间筛选。"),
)


@dataclass(frozen=True, slots=True)
class Bar:
    """One row of a bar chart: its label, its courses and hours, the bar's share."""

    label: str
    courses: int
    hours: float
    share: float  # of the widest bar, 0–100


def bars(rows: list[tuple[str, int, float]]) -> list[Bar]:
    """Rows (label, courses, hours) as bars scaled to the most courses."""
    most = max((courses for _, courses, _ in rows), default=0)
    return [
        Bar(label, courses, hours, round(100 * courses / most, 1) if most else 0.0)
        for label, courses, hours in rows
    ]


def day_and_week(now: datetime) -> tuple[datetime, datetime]:
    """The start of today and of this week (Monday), in China Standard Time, as UTC."""
    local = now.astimezone(CHINA)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    week = today - timedelta(days=today.weekday())
    return today.astimezone(UTC), week.astimezone(UTC)


@router.get("", response_class=HTMLResponse)
async def overview(request: Request, _: AdminPage) -> Response:
    now = datetime.now(UTC)
    today, week = day_and_week(now)
    catalog = await catalog_figures.stats()
    by_category = [
        (CATEGORY_LABELS.get(key, key), tally.courses, tally.hours)
        for key, tally in catalog.by_category.items()
    ]
    by_series = [
        (info.name, catalog.by_series[info.name].courses, catalog.by_series[info.name].hours)
        for info in SERIES
        if info.name in catalog.by_series
    ]
    waiting = await credit_figures.waiting()
    stored_today, stored_week = await statements.stored_since(moments=(today, week))
    credits_today, credits_week = await credit_figures.registered_since(moments=(today, week))
    evidence_since = now - timedelta(days=credit_figures.EVIDENCE_DAYS)
    evidence_awaiting = await credit_figures.evidence_awaiting(since=evidence_since)
    values = await render.context(
        request,
        section="overview",
        as_of=moment_text(now),
        catalog=catalog,
        by_category=bars(by_category),
        by_series=bars(by_series),
        statements_today=stored_today,
        statements_week=stored_week,
        credits_today=credits_today,
        credits_week=credits_week,
        credits_total=await credit_figures.registered_total(),
        waiting=waiting,
        evidence_awaiting=evidence_awaiting,
        evidence_days=credit_figures.EVIDENCE_DAYS,
        evidence_most=credit_figures.MAX_DOCUMENTS_READ,
        jobs=[(JOB_STATUS_LABELS[s], n) for s, n in (await exports.count_by_status()).items()],
        bases=[
            (status, BASE_STATUS_LABELS.get(status, status), n)
            for status, n in (await catalog_figures.bases_by_status()).items()
        ],
        pages=PAGES,
    )
    return render.page(request, "admin_overview.html", values)
