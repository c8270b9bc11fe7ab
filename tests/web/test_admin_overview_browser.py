"""The admin's overview and log in a real browser (Chromium, Playwright): the overview's
figures and its two charts (SVG images with their numbers in tables), then writes made
as an admin — an activation code issued with the account page's button, a manual entry
through the API — listed in the log, filtered by area and by record. axe-core checks
each page; screenshots at 360 and 1280 px.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own."""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import manual
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site


def test_the_overview_shows_figures_and_charts(page: Page, site: str) -> None:
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin")
    expect(page).to_have_url(f"{site}/admin")
    expect(page.get_by_role("heading", level=1)).to_have_text("管理概览")
    expect(page.get_by_role("link", name="概览")).to_have_attribute("aria-current", "page")
    expect(page.locator("#statements-today")).to_contain_text("条")
    expect(page.locator("#pending-review")).to_have_text("1 条")  # GX-0003 of 2021
    charts = page.get_by_role("img", name="在用专业课按系列（条形图）")
    expect(charts).to_be_visible()
    expect(page.get_by_role("table", name="在用专业课按系列")).to_contain_text("枸杞")
    accessible(page)
    shoot(page, "admin-overview")
    page.get_by_role("link", name="操作日志").first.click()
    expect(page).to_have_url(f"{site}/admin/log")


def test_the_log_lists_admin_writes_and_filters_them(page: Page, site: str) -> None:
    with httpx.Client(base_url=site, headers=ADMIN, timeout=30) as admin:
        entry = manual("2021-06-01", "professional", 8, "宁夏建工集团组织的<安全生产>培训")
        answer = admin.post("/learners/zhangwei/credits", json=entry)
        assert answer.status_code == 201, answer.text
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/learners/zhangwei/account")
    page.get_by_role("button", name="生成新的激活码").click()
    code = page.locator("#issued-code").inner_text().strip()

    page.goto(f"{site}/admin/log")
    expect(page.get_by_role("heading", level=1)).to_have_text("操作日志")
    lines = page.get_by_role("list", name="日志记录").get_by_role("listitem")
    expect(lines.first).to_contain_text("为学员 zhangwei 发放了激活码")  # newest first
    expect(lines.nth(1)).to_contain_text(
        "为学员 zhangwei 录入其他认定 8 学时（专业课，2021-06-01）"
    )
    expect(page.locator("body")).not_to_contain_text(code)  # never the code
    accessible(page)
    shoot(page, "admin-log")

    page.get_by_label("类别").select_option("credits")
    page.get_by_role("button", name="筛选").click()
    expect(page).to_have_url(f"{site}/admin/log?by=&area=credits&target=&since=&until=")
    expect(lines.first).to_contain_text("录入其他认定 8 学时")
    expect(page.locator(".log")).not_to_contain_text("激活码")
    page.get_by_role("link", name="此记录的全部日志").first.click()
    expect(page.get_by_label("记录（课程编号、基地编号、账号、学员编号等）")).to_have_value(
        "zhangwei"
    )
    expect(lines.first).to_contain_text("发放了激活码")
    accessible(page)
    shoot(page, "admin-log-filtered")
