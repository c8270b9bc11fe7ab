"""The admin's learner pages in a real browser (Chromium, Playwright): find 张伟 by the
beginning of his name, correct the date of his title (with a reason), see the history and
the correction in the page's log; find him again by his full id number. axe-core checks
each page.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own.
"""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import ZHANG_WEI
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site


def test_an_admin_finds_a_learner_and_corrects_a_title(page: Page, site: str) -> None:
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/learners")
    expect(page).to_have_url(f"{site}/admin/learners")
    expect(page.get_by_role("heading", level=1)).to_have_text("学员管理")
    page.get_by_label("姓名或工作单位的开头（也可输入完整的学员编号）").fill("张")
    page.get_by_role("button", name="查找", exact=True).first.click()
    expect(page.get_by_role("status")).to_contain_text("第 1 页，1 位学员")
    expect(page.locator("#found")).to_contain_text("640102********1239")
    accessible(page)
    shoot(page, "admin-learners-find")

    page.get_by_role("link", name="张伟").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("张伟 的档案")
    history = page.locator("#title-history tbody tr")
    expect(history).to_have_count(1)
    expect(history.first).to_contain_text("2016-07-01")
    accessible(page)

    page.get_by_text("更正第 1 条（初级，2016-07-01）").click()
    page.get_by_label("取得日期（不知道可留空）").fill("2017-07-01")
    page.get_by_label("更正原因（必填，最多 200 字）").fill("按职称证书原件更正取得日期")
    page.get_by_role("button", name="更正第 1 条").click()
    expect(page).to_have_url(f"{site}/admin/learners/zhangwei?done=correction")
    expect(page.locator("#notice")).to_contain_text("职称记录已更正")
    expect(history.first).to_contain_text("2017-07-01")
    expect(page.locator("#current-title")).to_have_text("初级（2017-07-01）")
    log = page.locator("#learner-log li").first
    expect(log).to_contain_text("初级（2016-07-01） → 初级（2017-07-01）")
    expect(log).to_contain_text("按职称证书原件更正取得日期")
    expect(log).to_contain_text(ADMIN_KEY)
    accessible(page)
    shoot(page, "admin-learner-corrected")

    page.get_by_role("link", name="学时审验（审核视图）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("张伟 的学时审验")

    page.goto(f"{site}/admin/learners")
    page.get_by_label("身份证号（18 位）").fill(ZHANG_WEI[:14])  # a fragment: nothing
    page.get_by_role("button", name="查找", exact=True).last.click()
    expect(page.locator("#lookup-error")).to_contain_text("身份证号（id_number）无效")
    accessible(page)
    page.get_by_label("身份证号（18 位）").fill(ZHANG_WEI)
    page.get_by_role("button", name="查找", exact=True).last.click()
    expect(page).to_have_url(f"{site}/admin/learners/zhangwei?done=lookup")
    expect(page.locator("#learner-log li").first).to_contain_text("按完整身份证号查找学员：找到")
    expect(page.locator("body")).not_to_contain_text(ZHANG_WEI)
