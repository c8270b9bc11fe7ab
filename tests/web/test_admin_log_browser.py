"""One administrator's morning in a real browser (Chromium, Playwright), through the
admin pages only: a course's hours changed, a base registered and criticised, an app's
client created, a learner's title corrected, a learner found by a full id number — then
the audit log lists each of those writes and the sensitive read, newest first, by whom,
and never the new client's secret. axe-core checks the log page; screenshots at 360 and
1280 px.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import Page, expect

from catalog.bases import today
from tests.conftest import ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import ZHANG_WEI
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site

BASE = "石嘴山市机电技术人才培训基地"


def test_the_log_lists_a_morning_of_admin_writes(page: Page, site: str) -> None:
    # A course's hours.
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/courses/GX-0002")
    expect(page).to_have_url(f"{site}/admin/courses/GX-0002")
    page.locator("#f-hours").fill("4.5")
    page.get_by_role("button", name="保存修改").click()
    expect(page.get_by_role("status").first).to_have_text("修改已保存。")

    # A base registered, then criticised with a deadline to rectify (§三).
    page.goto(f"{site}/admin/bases/new")
    page.get_by_label("基地名称").fill(BASE)
    page.get_by_label("级别").select_option("municipal")
    page.get_by_label("认证生效日期").fill("2022-03-01")
    page.get_by_label("认证依据").fill("经评审认定为市级继续教育基地")
    page.get_by_role("button", name="登记").click()
    expect(page.get_by_role("status").first).to_contain_text("基地已登记")
    page.get_by_role("radio", name="通报批评并限期整改").check()
    page.get_by_label("生效日期", exact=True).fill(str(today() - timedelta(days=3)))
    page.get_by_label("整改期限（仅通报批评时填写）").fill(str(today() + timedelta(days=90)))
    page.get_by_label("理由").fill("培训记录不完整")
    page.get_by_role("button", name="记录决定").click()
    expect(page.get_by_role("status").first).to_contain_text("决定已记录")

    # An app's client, its secret shown once.
    page.goto(f"{site}/admin/clients")
    page.get_by_label("名称", exact=True).fill("吴忠市人社局 学时同步")
    page.get_by_label("账号", exact=True).fill("wuzhong-sync")
    page.get_by_label("提交学习记录").check()
    page.get_by_role("button", name="创建账号").click()
    secret = page.locator("#issued-secret").inner_text().strip()
    assert len(secret) >= 40, secret

    # A learner's title corrected, then a learner found by a full id number.
    page.goto(f"{site}/admin/learners/zhangwei")
    page.get_by_text("更正第 1 条（初级，2016-07-01）").click()
    page.get_by_label("取得日期（不知道可留空）").fill("2017-07-01")
    page.get_by_label("更正原因（必填，最多 200 字）").fill("按职称证书原件更正")
    page.get_by_role("button", name="更正第 1 条").click()
    expect(page).to_have_url(f"{site}/admin/learners/zhangwei?done=correction")
    page.goto(f"{site}/admin/learners")
    page.get_by_label("身份证号（18 位）").fill(ZHANG_WEI)
    page.get_by_role("button", name="查找", exact=True).last.click()
    expect(page).to_have_url(f"{site}/admin/learners/zhangwei?done=lookup")

    # The log: each of those, newest first, by this admin.
    page.goto(f"{site}/admin/log?by={ADMIN_KEY}")
    lines = page.get_by_role("list", name="日志记录").get_by_role("listitem")
    expected = [
        "学员",  # the id-number lookup (the number itself never shown)
        "更正学员 张伟（zhangwei）第 1 条职称记录",
        "新建客户端账号 wuzhong-sync",
        f"基地“{BASE}”：",
        f"登记基地“{BASE}”",
        "修改课程 GX-0002",
    ]
    texts = [lines.nth(i).inner_text() for i in range(min(lines.count(), 12))]
    positions = []
    for wanted in expected:
        found = [i for i, text in enumerate(texts) if wanted in text]
        assert found, (wanted, texts)
        positions.append(found[0])
    assert positions == sorted(positions), (positions, texts)  # newest first
    assert "身份证号" in texts[positions[0]], texts[positions[0]]
    body = page.locator("body")
    expect(body).not_to_contain_text(secret)
    expect(body).not_to_contain_text(ZHANG_WEI)
    expect(body).to_contain_text("4.5")  # the course's hours, from → to
    accessible(page)
    shoot(page, "admin-log-morning")
