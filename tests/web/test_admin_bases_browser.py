"""The admin's pages of continuing-education bases in a real browser (Chromium,
Playwright): the list filtered by status, a base registered, a criticism refused at its
field for want of a deadline and then recorded with one, and a back-dated revocation of
the base 张伟 trained at, listing his training it reversed. axe-core checks each page.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own.
"""

from __future__ import annotations

from datetime import timedelta

import httpx
from playwright.sync_api import Page, expect

from catalog.bases import today
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import ENGINEERING_BASE
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site

NEW_BASE = "中卫市枸杞产业人才培训基地"


def _train_zhangwei(site: str) -> None:
    """张伟 trained at 宁夏工程技术人员继续教育基地 on 2019-06-15 (48 hours)."""
    with httpx.Client(base_url=site, headers=ADMIN, timeout=30) as admin:
        [base] = [b for b in admin.get("/bases").json() if b["name"] == ENGINEERING_BASE]
        body = {"kind": "training", "date": "2019-06-15", "hours": 48, "base_id": base["id"]}
        answer = admin.post("/learners/zhangwei/credits", json=body)
        assert answer.status_code == 201, answer.text


def test_an_admin_registers_a_base_and_records_decisions(page: Page, site: str) -> None:
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/bases")
    expect(page).to_have_url(f"{site}/admin/bases")
    expect(page.get_by_role("heading", level=1)).to_have_text("继续教育基地")
    expect(page.locator("p.summary")).to_have_text("共 12 个基地。")
    accessible(page)
    shoot(page, "admin-bases")
    page.get_by_label("状态", exact=True).select_option("revoked")
    page.get_by_role("button", name="筛选").click()
    expect(page.locator("p.summary")).to_have_text("共 2 个基地。")

    page.get_by_role("link", name="登记基地").click()
    page.get_by_label("基地名称").fill(NEW_BASE)
    page.get_by_label("级别").select_option("municipal")
    page.get_by_label("认证生效日期").fill("2022-03-01")
    page.get_by_label("认证依据").fill("经评审认定为市级继续教育基地（卫人社发〔2022〕8号）")
    accessible(page)
    shoot(page, "admin-base-new")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(NEW_BASE)
    expect(page.get_by_role("status").first).to_contain_text("基地已登记")

    page.get_by_role("radio", name="通报批评并限期整改").check()
    page.get_by_label("生效日期", exact=True).fill(str(today() - timedelta(days=30)))
    page.get_by_label("理由").fill("学员投诉培训流于形式，经查属实")
    page.get_by_role("button", name="记录决定").click()
    expect(page.locator("#rectify_by-error")).to_contain_text("通报批评时必须填写整改期限")
    expect(page.get_by_label("理由")).to_have_value("学员投诉培训流于形式，经查属实")
    accessible(page)
    shoot(page, "admin-base-refused")
    deadline = today() + timedelta(days=120)
    page.get_by_label("整改期限（仅通报批评时填写）").fill(str(deadline))
    page.get_by_role("button", name="记录决定").click()
    expect(page.get_by_role("status").first).to_contain_text("决定已记录")
    expect(page.locator(".facts")).to_contain_text("通报批评并限期整改")
    written = f"限 {deadline.year}年{deadline.month}月{deadline.day}日 前整改"
    expect(page.locator(".timeline li").first).to_contain_text(written)
    expect(page.get_by_role("radio")).to_have_count(2)  # certified or revoked now (§三)


def test_a_back_dated_revocation_lists_the_entries_it_changed(page: Page, site: str) -> None:
    _train_zhangwei(site)
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/bases?level=regional")
    page.get_by_role("link", name=ENGINEERING_BASE).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(ENGINEERING_BASE)
    accessible(page)
    shoot(page, "admin-base")

    page.get_by_role("radio", name="取消基地资格").check()
    page.get_by_label("生效日期", exact=True).fill("2019-03-01")
    page.get_by_label("理由").fill("长期未开展继续教育活动，取消基地资格")
    page.get_by_role("button", name="记录决定").click()
    decided = page.locator("#decided")
    expect(decided).to_contain_text("1 条学时记录随之变化")
    row = decided.locator("tbody tr")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("张伟")
    expect(row).to_contain_text("48 → 48")
    expect(row).to_contain_text("已计入 → 已撤销")
    accessible(page)
    shoot(page, "admin-base-decided")

    page.get_by_role("link", name="1 条学时记录随之变化").click()
    expect(page.get_by_role("heading", level=2)).to_have_text("随之变化的学时记录（1 条）")
    accessible(page)
    with httpx.Client(base_url=site, headers=ADMIN, timeout=30) as admin:
        ledger = admin.get("/learners/zhangwei/credits").json()
    trained = [e for e in ledger if e["kind"] == "training"]
    assert [(e["status"], e["hours"]) for e in trained] == [("reversed", 48)]
