"""The admin's overview: catalog figures as bars and in a table equal to the catalog's
own statistics (and kept up to date after a course edit), statements and credits of
today, entries waiting for review, exports and bases by state; admins only."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx

from catalog.series import SERIES
from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import activity, completion, ledger, register, send
from tests.credits.conftest import auditor as auditor  # a client holding `auditor`
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.credits.test_conclusions import conclude, passing_ledger
from tests.credits.test_evidence import upload
from tests.web.test_pages import sign_in
from web.admin_overview import day_and_week


def figure(page: str, element_id: str) -> int:
    found = re.search(rf'id="{element_id}">(\d+)', page)
    assert found, (element_id, page)
    return int(found.group(1))


def table_row(page: str, label: str) -> tuple[int, str]:
    found = re.search(
        rf'<th scope="row">{label}</th><td class="num">(\d+)</td><td class="num">([0-9.]+)</td>',
        page,
    )
    assert found, label
    return int(found.group(1)), found.group(2)


async def test_the_overview_shows_the_catalog_as_bars_and_a_table_equal_to_its_statistics(
    client: httpx.AsyncClient,
) -> None:
    stats = (await client.get("/catalog/stats")).json()
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    page = await client.get("/admin")
    assert page.status_code == 200 and "管理概览" in page.text
    assert page.headers["cache-control"] == "no-store"
    assert figure(page.text, "catalog-courses") == stats["courses"]
    for info in SERIES:
        tally = stats["by_series"][info.name]
        assert table_row(page.text, info.name) == (tally["courses"], f"{tally['hours']:g}")
        bar = f"{info.name} · {tally['courses']} 门 · {tally['hours']:g} 学时"
        assert bar in page.text
    public = stats["by_category"]["public"]
    assert table_row(page.text, "公需课") == (public["courses"], f"{public['hours']:g}")
    # the charts are images with a name and a description of their numbers
    assert page.text.count('role="img" aria-labelledby="') == 2
    assert '<title id="series-title">在用专业课按系列（条形图）</title>' in page.text
    assert f"枸杞：{stats['by_series']['枸杞']['courses']} 门课程" in page.text
    for href in (
        "/admin/courses",
        "/admin/bases",
        "/admin/clients",
        "/admin/learners",
        "/admin/log",
    ):
        assert f'<a href="{href}">' in page.text

    # a course retired: the figures follow at once
    retired = await client.delete("/courses/GQ-0001", headers=ADMIN)
    assert retired.status_code == 200, retired.text
    after = await client.get("/admin")
    assert figure(after.text, "catalog-courses") == stats["courses"] - 1
    gouqi = stats["by_series"]["枸杞"]
    assert table_row(after.text, "枸杞")[0] == gouqi["courses"] - 1


async def test_the_overview_counts_statements_and_credits_of_today(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    before = (await client.get("/admin")).text
    statements = [completion(await activity(client, f"GQ-000{n}")) for n in range(1, 4)]
    await send(client, *statements)
    after = (await client.get("/admin")).text
    for name in ("statements-today", "statements-week"):
        assert figure(after, name) == figure(before, name) + 3
    for name in ("credits-today", "credits-week", "credits-total"):
        assert figure(after, name) == figure(before, name) + 3
    assert figure(after, "pending-review") >= 0 and "等待政策的学时记录" in after
    assert "批量导出任务" in after and "排队中" in after
    assert re.search(r'href="/admin/bases\?status=certified">\d+ 个', after)


async def test_the_overview_counts_what_waits_for_an_auditor(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await passing_ledger(client)
    gx2 = await activity(client, "GX-0002")
    await send(client, completion(gx2, when="2021-03-01T09:00:00+08:00"))  # back-dated
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    before = (await client.get("/admin")).text
    assert figure(before, "pending-review") == 1
    assert figure(before, "evidence-awaiting") == 0
    manual_entry = next(e for e in await ledger(client) if e["kind"] != "completion")
    assert (await upload(client, manual_entry["id"])).status_code == 201
    uploaded = (await client.get("/admin")).text
    assert figure(uploaded, "evidence-awaiting") == 1
    assert (await conclude(client, auditor)).status_code == 201
    concluded = (await client.get("/admin")).text
    assert figure(concluded, "evidence-awaiting") == 0


def test_today_and_this_week_begin_at_midnight_in_china() -> None:
    # Tuesday 2026-12-08 01:30 in China is Monday 17:30 UTC
    today, week = day_and_week(datetime(2026, 12, 7, 17, 30, tzinfo=UTC))
    assert today == datetime(2026, 12, 7, 16, 0, tzinfo=UTC)  # 2026-12-08 00:00 CST
    assert week == datetime(2026, 12, 6, 16, 0, tzinfo=UTC)  # Monday 2026-12-07 00:00 CST


async def test_the_overview_is_for_admins_only(client: httpx.AsyncClient) -> None:
    signed_out = await client.get("/admin")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/signin?next=%2Fadmin"
    await clients.create(key="pingshen", name="评审", scopes=[Scope.auditor], secret="pingshen-s1")
    await sign_in(client, "pingshen", "pingshen-s1")
    refused = await client.get("/admin")
    assert refused.status_code == 403 and "仅限管理员" in refused.text
    assert "在用课程" not in refused.text
