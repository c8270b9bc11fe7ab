"""A learner's account in a real browser (Chromium, Playwright): the admin issues an
activation code through the API, the learner activates on the page, signs in with the
password, sees their hours, and signs out a device their app signed in on, whose access
token is refused at once. axe-core checks each page (no serious or critical violation).

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own.
"""

from __future__ import annotations

import httpx
from playwright.sync_api import Page, expect

from tests.conftest import ADMIN
from tests.credits.conftest import ZHANG_WEI
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site

PASSWORD = "枸杞红了-2026-春"
XAPI = {"X-Experience-API-Version": "2.0.0"}


def activate(page: Page, site: str, account: str, code: str, password: str, again: str) -> None:
    page.goto(f"{site}/activate")
    page.get_by_label("账号", exact=True).fill(account)
    page.get_by_label("激活码").fill(code)
    page.get_by_label("新密码", exact=True).fill(password)
    page.get_by_label("再次输入新密码").fill(again)
    page.get_by_role("button", name="激活并登录").click()


def test_a_learner_activates_signs_in_sees_hours_and_signs_a_device_out(
    page: Page, site: str
) -> None:
    with httpx.Client(base_url=site, headers=ADMIN, timeout=30) as admin:
        issued = admin.post("/learners/zhangwei/activation-code")
        assert issued.status_code == 201, issued.text
    code = issued.json()["code"]

    page.goto(f"{site}/signin")
    page.get_by_role("link", name="用激活码设置密码").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("激活账号")
    accessible(page)
    shoot(page, "acc-web-activate")
    activate(page, site, ZHANG_WEI, code, "枸杞-2026", "枸杞-2026")  # by id number
    expect(page.get_by_role("alert")).to_have_text("新密码至少需要10个字符，现在只有7个。")
    expect(page.get_by_label("激活码")).to_have_value(code)  # the form kept
    accessible(page)
    shoot(page, "acc-web-activate-refused")
    activate(page, site, ZHANG_WEI, code, PASSWORD, PASSWORD)
    expect(page).to_have_url(f"{site}/me?done=activated")
    expect(page.get_by_role("status").first).to_contain_text("账号已激活")

    page.get_by_role("button", name="退出（张伟）").click()
    sign_in(page, site, "zhangwei", "not-the-password")
    expect(page.get_by_role("alert")).to_have_text("账号或密码不正确。")
    accessible(page)
    shoot(page, "acc-web-signin")
    sign_in(page, site, "zhangwei", PASSWORD)
    expect(page).to_have_url(f"{site}/me")
    expect(page.locator("body")).to_contain_text("审验周期 2018—2021年：已计入 12 / 360 学时")
    expect(page.locator("#devices-title")).to_have_text("已登录的设备（0）")

    with httpx.Client(base_url=site, timeout=30) as app:
        body = {"account": ZHANG_WEI, "password": PASSWORD, "device": "华为 Mate 60"}
        signed = app.post("/auth/app-sign-in", json=body)
        assert signed.status_code == 200, signed.text
        bearer = {**XAPI, "Authorization": f"Bearer {signed.json()['access_token']}"}
        assert app.get("/xapi/statements", headers=bearer).status_code == 200
        page.reload()
        expect(page.locator("#devices-title")).to_have_text("已登录的设备（1）")
        expect(page.locator(".devices")).to_contain_text("华为 Mate 60")
        expect(page.locator(".devices")).to_contain_text("最近使用")
        accessible(page)
        shoot(page, "acc-web-me")
        page.get_by_role("button", name="退出登录：华为 Mate 60").click()
        expect(page).to_have_url(f"{site}/me?done=device")
        expect(page.get_by_role("status").first).to_contain_text("已退出该设备的登录")
        expect(page.locator("#devices-title")).to_have_text("已登录的设备（0）")
        assert app.get("/xapi/statements", headers=bearer).status_code == 401

    page.get_by_label("当前密码").fill("not-the-password")
    page.get_by_label("新密码", exact=True).fill("贺兰山下-葡萄酒-2027")
    page.get_by_label("再次输入新密码").fill("贺兰山下-葡萄酒-2027")
    page.get_by_role("button", name="修改密码").click()
    expect(page.get_by_role("alert")).to_have_text("当前密码不正确。")
    accessible(page)
    shoot(page, "acc-web-password-refused")
