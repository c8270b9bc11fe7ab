"""The admin's pages of client accounts in a real browser (Chromium, Playwright): a client
created from the list's form, its secret shown once with a copy button that copies it
(the clipboard holds it), the secret working over HTTP Basic, gone after a reload; then
the client disabled with its button and refused at once. axe-core checks each page.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, ADMIN_SECRET, basic
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site

XAPI = {"X-Experience-API-Version": "2.0.0"}


def test_an_admin_creates_a_client_copies_its_secret_once_and_disables_it(
    page: Page, site: str
) -> None:
    page.context.grant_permissions(["clipboard-read", "clipboard-write"], origin=site)
    long_key = "ningxia-human-resources-and-social-security-department-sync-0001"
    with httpx.Client(base_url=site, headers=basic(ADMIN_KEY, ADMIN_SECRET)) as admin:
        body = {
            "key": long_key,
            "name": "宁夏回族自治区人力资源和社会保障厅 继续教育学时同步服务（生产环境）",
            "scopes": ["all"],
        }
        assert admin.post("/clients", json=body).status_code == 201  # a long row at 360 px
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/clients")
    expect(page).to_have_url(f"{site}/admin/clients")
    expect(page.get_by_role("heading", level=1)).to_have_text("客户端账号")
    expect(page.get_by_role("link", name=ADMIN_KEY)).to_be_visible()
    accessible(page)
    shoot(page, "admin-clients")

    page.get_by_label("名称", exact=True).fill("固原市人社局 学时同步")
    page.get_by_label("账号", exact=True).fill("guyuan-sync")
    page.get_by_label("提交学习记录").check()
    page.get_by_label("读取学习记录", exact=True).check()
    page.get_by_role("button", name="创建账号").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("固原市人社局 学时同步")
    expect(page).to_have_url(f"{site}/admin/clients/guyuan-sync")  # a reload is a GET
    secret = page.locator("#issued-secret").inner_text().strip()
    assert len(secret) >= 40, secret
    copy = page.get_by_role("button", name="复制密钥")
    expect(copy).to_be_visible()
    copy.click()
    expect(page.locator("#copy-said")).to_have_text("已复制到剪贴板。")
    assert page.evaluate("() => navigator.clipboard.readText()") == secret
    accessible(page)
    shoot(page, "admin-client-secret")

    with httpx.Client(base_url=site, timeout=30) as app:
        statements = {**XAPI, **basic("guyuan-sync", secret)}
        assert app.get("/xapi/statements", headers=statements).status_code == 200

        page.reload()
        expect(page.get_by_role("heading", level=1)).to_have_text("固原市人社局 学时同步")
        expect(page.locator("#issued-secret")).to_have_count(0)  # shown once only
        expect(page.get_by_role("button", name="复制密钥")).to_have_count(0)
        assert secret not in page.content()

        page.get_by_role("button", name="停用此账号").click()
        expect(page).to_have_url(f"{site}/admin/clients/guyuan-sync?done=disabled")
        expect(page.get_by_role("status").first).to_contain_text("已停用该账号")
        expect(page.locator("#client-state")).to_have_text("已停用")
        accessible(page)
        shoot(page, "admin-client-disabled")
        assert app.get("/xapi/statements", headers=statements).status_code == 401

    page.get_by_role("link", name="← 客户端账号").click()
    page.get_by_label("按状态").select_option("disabled")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("link", name="guyuan-sync")).to_be_visible()
    expect(page.locator("#clients-summary")).to_have_text("符合条件的账号 1 个")
