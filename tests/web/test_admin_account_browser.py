"""The admin's page of a learner's account in a real browser (Chromium, Playwright): from
the auditor's page of 张伟 to his account, a new activation code issued with the button
(he activates with it through the API, his app signs in), then his app's device signed
out with its button, whose access token is refused at once. axe-core checks each page.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN_KEY, ADMIN_SECRET
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site

PASSWORD = "枸杞红了-2026-春"
XAPI = {"X-Experience-API-Version": "2.0.0"}


def test_an_admin_issues_a_code_and_signs_a_device_out(page: Page, site: str) -> None:
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/auditor/learners/zhangwei")
    expect(page).to_have_url(f"{site}/auditor/learners/zhangwei")
    page.get_by_role("link", name="账号管理（激活码、已登录的设备）").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("张伟 的账号管理")
    expect(page.locator("#code-standing")).to_have_text("没有未使用的激活码")
    accessible(page)
    shoot(page, "admin-account")

    page.get_by_role("button", name="生成新的激活码").click()
    code = page.locator("#issued-code").inner_text().strip()
    assert len(code) == 14, code  # XXXX-XXXX-XXXX
    expect(page.locator("#code-standing")).to_contain_text("有未使用的激活码")
    accessible(page)
    shoot(page, "admin-account-code")

    with httpx.Client(base_url=site, timeout=30) as app:
        body = {"account": "zhangwei", "code": code, "password": PASSWORD}
        assert app.post("/auth/activate", json=body).status_code == 204
        body = {"account": "zhangwei", "password": PASSWORD, "device": "华为 Mate 60"}
        signed = app.post("/auth/app-sign-in", json=body)
        assert signed.status_code == 200, signed.text
        bearer = {**XAPI, "Authorization": f"Bearer {signed.json()['access_token']}"}
        assert app.get("/xapi/statements", headers=bearer).status_code == 200

        page.goto(f"{site}/admin/learners/zhangwei/account")
        expect(page.locator("#issued-code")).to_have_count(0)  # shown once only
        expect(page.locator("#devices-title")).to_have_text("已登录的设备（1）")
        page.get_by_role("button", name="退出登录：华为 Mate 60").click()
        expect(page).to_have_url(f"{site}/admin/learners/zhangwei/account?done=device")
        expect(page.get_by_role("status").first).to_contain_text("已退出该设备的登录")
        expect(page.locator("#devices-title")).to_have_text("已登录的设备（0）")
        accessible(page)
        assert app.get("/xapi/statements", headers=bearer).status_code == 401
