"""The admin log's page and JSON: newest first, filtered by who, what, which record and
which days, paged with a cursor that skips no line of a shared moment, Chinese and
markup shown as text; bad filters name themselves; admins only."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime, timedelta

import httpx

from nxce.core import admin_log, clients
from nxce.core.admin_log import AdminAction, Area
from nxce.core.clients import Scope
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET, basic
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in

SUMMARY = re.compile(r'<p class="log-summary">([^<]*)</p>')


def summaries(page: str) -> list[str]:
    return [html.unescape(s) for s in SUMMARY.findall(page)]


def older_link(page: str) -> str:
    found = re.search(r'<a href="([^"]+)" rel="next">更早的记录</a>', page)
    return html.unescape(found.group(1)) if found else ""


async def lines_at(at: datetime, count: int, **fields: str) -> None:
    """`count` lines of one moment (a batch), numbered in their summaries."""
    values = {
        "by": "guanli-1",
        "area": Area.catalog,
        "action": "course.updated",
        "target": "GQ-0001",
    }
    values.update(fields)
    tag = fields.get("tag", "")
    values.pop("tag", None)
    await admin_log.record_many(
        [AdminAction(at=at, summary=f"{tag}第{n}条", **values) for n in range(count)]  # type: ignore[arg-type]
    )


async def test_pages_walk_every_line_newest_first_without_skipping_a_shared_moment(
    client: httpx.AsyncClient,
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    await lines_at(now - timedelta(minutes=3), 30, tag="早")
    await lines_at(now - timedelta(minutes=2), 70, tag="同时")  # one moment across pages
    await lines_at(now - timedelta(minutes=1), 10, tag="晚")
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    seen: list[str] = []
    path, pages = "/admin/log", 0
    while path:
        page = await client.get(path)
        assert page.status_code == 200, page.text
        found = summaries(page.text)
        assert 0 < len(found) <= 50
        seen += found
        path, pages = older_link(page.text), pages + 1
        if path:
            assert "最新的记录" in (await client.get(path)).text
    assert pages == 3 and len(seen) == 110 and len(set(seen)) == 110
    assert seen[:10] == [f"晚第{n}条" for n in range(9, -1, -1)]  # newest first
    assert seen[10].startswith("同时") and seen[-1] == "早第0条"


async def test_filters_by_who_what_record_and_days(client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    await lines_at(now - timedelta(days=3), 2, by="guanli-2", tag="三天前")
    await lines_at(now, 1, area=Area.bases, action="base.status", target="base-银川", tag="基地")
    await lines_at(now, 1, target="PTJ-0002", tag="葡萄酒")
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303

    by = await client.get("/admin/log", params={"by": "guanli-2"})
    assert summaries(by.text) == ["三天前第1条", "三天前第0条"]
    area = await client.get("/admin/log", params={"area": "bases"})
    assert summaries(area.text) == ["基地第0条"]
    assert 'href="/admin/bases/base-%E9%93%B6%E5%B7%9D">base-银川</a>' in area.text
    assert '<option value="bases" selected>继续教育基地</option>' in area.text
    target = await client.get("/admin/log", params={"target": "PTJ-0002"})
    assert summaries(target.text) == ["葡萄酒第0条"]
    china_day = (now + timedelta(hours=8)).date()
    today = await client.get("/admin/log", params={"since": china_day.isoformat()})
    assert "三天前第0条" not in summaries(today.text) and "基地第0条" in summaries(today.text)
    earlier = (china_day - timedelta(days=1)).isoformat()
    before = await client.get("/admin/log", params={"until": earlier})
    assert summaries(before.text) == ["三天前第1条", "三天前第0条"]
    none = await client.get("/admin/log", params={"by": "nobody"})
    assert none.status_code == 200 and "没有符合筛选条件的记录" in none.text


async def test_summaries_and_details_are_text_never_markup(client: httpx.AsyncClient) -> None:
    await admin_log.record(
        by="guanli-1",
        area=Area.learners,
        action="learner.updated",
        target="zhangwei",
        summary="更正了张伟的职称<script>alert(1)</script>",
        detail={"title_level": {"from": "初级", "to": "<b>中级</b>"}, "reason": "单位来函"},
    )
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    page = await client.get("/admin/log")
    assert "<script>alert(1)</script>" not in page.text and "<b>中级</b>" not in page.text
    assert "更正了张伟的职称&lt;script&gt;alert(1)&lt;/script&gt;" in page.text
    assert "<dt>title_level</dt><dd>初级 → &lt;b&gt;中级&lt;/b&gt;</dd>" in page.text
    assert "<dt>理由</dt><dd>单位来函</dd>" in page.text
    assert 'href="/admin/learners/zhangwei">zhangwei</a>' in page.text
    assert "日志只追加" in page.text


async def test_bad_filters_are_a_422_page_naming_the_field_and_value(
    client: httpx.AsyncClient,
) -> None:
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    for params, field, value in (
        ({"area": "火星"}, "area", "火星"),
        ({"since": "2026-13-01"}, "since", "2026-13-01"),
        ({"since": "2026-12-07", "until": "2026-12-01"}, "until", "2026-12-01"),
        ({"before": "<script>"}, "before", "&lt;script&gt;"),
        ({"by": "k" * 129}, "by", "k" * 80),
    ):
        page = await client.get("/admin/log", params=params)
        assert page.status_code == 422, params
        assert f"筛选条件 {field} 的值 “{value}" in page.text
        assert "<script>" not in page.text.split("</header>")[-1]


async def test_the_json_log_pages_with_the_same_filters(client: httpx.AsyncClient) -> None:
    now = datetime.now(UTC)
    await lines_at(now, 5, tag="接口")
    first = await client.get("/admin-log", params={"limit": 3, "target": "GQ-0001"}, headers=ADMIN)
    assert first.status_code == 200, first.text
    body = first.json()
    assert [line["summary"] for line in body["lines"]] == ["接口第4条", "接口第3条", "接口第2条"]
    assert body["lines"][0]["area"] == "catalog" and body["lines"][0]["by"] == "guanli-1"
    rest = (await client.get(body["more"], headers=ADMIN)).json()
    assert [line["summary"] for line in rest["lines"]] == ["接口第1条", "接口第0条"]
    assert rest["more"] == ""
    bad = await client.get("/admin-log", params={"area": "火星"}, headers=ADMIN)
    assert bad.status_code == 422 and "area" in bad.json()["detail"]
    unknown = await client.get("/admin-log", params={"who": "x"}, headers=ADMIN)
    assert unknown.status_code == 422 and "who" in unknown.json()["detail"]
    await clients.create(key="pingshen", name="评审", scopes=[Scope.auditor], secret="pingshen-s1")
    refused = await client.get("/admin-log", headers=basic("pingshen", "pingshen-s1"))
    assert refused.status_code == 403
    assert (await client.get("/admin-log")).status_code == 401


async def test_the_log_page_is_for_admins_only(client: httpx.AsyncClient) -> None:
    signed_out = await client.get("/admin/log?area=catalog")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/signin?next=%2Fadmin%2Flog%3Farea%3Dcatalog"
    await clients.create(key="pingshen", name="评审", scopes=[Scope.auditor], secret="pingshen-s1")
    await sign_in(client, "pingshen", "pingshen-s1")
    refused = await client.get("/admin/log")
    assert refused.status_code == 403 and "仅限管理员" in refused.text
