"""The admin's page of a learner's account: a new activation code issued with a button and
shown once, a device of the learner's app signed out with another; masked personal data;
everyone but admins refused, forms refused without their CSRF token."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import httpx
import pytest

from accounts.models import Account
from nxce.core import clients, db
from nxce.core.clients import Scope
from nxce.core.devices import Device
from tests.accounts.conftest import (
    PASSWORD,
    ZHANG_WEI_ID_NUMBER,
    activated,
    app_sign_in,
    bearer,
    issue_code,
)
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.lrs.conftest import xapi
from tests.web.account_support import other as other  # a second browser
from tests.web.test_pages import sign_in, token

PAGE = "/admin/learners/zhangwei/account"
CODE = re.compile(r'id="issued-code"><strong>([0-9A-Z-]+)</strong>')


async def as_admin(client: httpx.AsyncClient) -> str:
    """Sign `client` in as the admin; answers the account page's CSRF token."""
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    page = await client.get(PAGE)
    assert page.status_code == 200, page.text
    return token(page.text)


async def test_an_admin_issues_a_code_shown_once_and_the_learner_activates_with_it(
    client: httpx.AsyncClient,
) -> None:
    await register(client, phone="13812345678")
    csrf = await as_admin(client)
    before = await client.get(PAGE)
    assert "张伟 的账号管理" in before.text
    assert "未设置" in before.text and "没有未使用的激活码" in before.text
    assert ZHANG_WEI_ID_NUMBER not in before.text and "13812345678" not in before.text
    assert "640102********1239" in before.text and "138****5678" in before.text  # masked

    issued = await client.post(f"{PAGE}/activation-code", data={"csrf": csrf})
    assert issued.status_code == 200
    assert issued.headers["cache-control"] == "no-store"
    found = CODE.search(issued.text)
    assert found, issued.text
    code = found.group(1)
    assert "只显示这一次" in issued.text and "有效期至" in issued.text

    later = await client.get(PAGE)
    assert code not in later.text and "issued-code" not in later.text
    assert "有未使用的激活码，" in later.text and f"（由 {ADMIN_KEY} 发放）" in later.text

    activation = {"account": "zhangwei", "code": code, "password": PASSWORD}
    assert (await client.post("/auth/activate", json=activation)).status_code == 204
    after = await client.get(PAGE)
    assert "已设置（" in after.text and "没有未使用的激活码" in after.text
    account = await Account.find_one(Account.learner_id == "zhangwei")
    assert account is not None and account.activation_issued_by == ADMIN_KEY


async def test_a_new_code_from_the_page_voids_the_earlier_one(client: httpx.AsyncClient) -> None:
    await register(client)
    earlier = str((await issue_code(client, "zhangwei"))["code"])
    csrf = await as_admin(client)
    assert (await client.post(f"{PAGE}/activation-code", data={"csrf": csrf})).status_code == 200
    activation = {"account": "zhangwei", "code": earlier, "password": PASSWORD}
    assert (await client.post("/auth/activate", json=activation)).status_code == 400


async def test_a_device_is_listed_and_signed_out_from_the_page(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    phone = await app_sign_in(client, device="华为 Mate 60 <张伟的手机>")
    await app_sign_in(client, device="iPad")
    statements = xapi(auth=bearer(phone["access_token"]))
    assert (await client.get("/xapi/statements", headers=statements)).status_code == 200
    csrf = await as_admin(client)
    page = await client.get(PAGE)
    assert "已登录的设备（2）" in page.text
    assert "华为 Mate 60 &lt;张伟的手机&gt;" in page.text and "iPad" in page.text
    assert "首次登录" in page.text and "最近使用" in page.text

    path = f"{PAGE}/devices/{phone['device_id']}/signout"
    done = await client.post(path, data={"csrf": csrf})
    assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=device"
    assert (await client.get("/xapi/statements", headers=statements)).status_code == 401
    gone = await Device.find_one(Device.device_id == phone["device_id"])
    assert gone is not None and gone.revoked_reason == f"signed out by {ADMIN_KEY}"  # as the API
    after = await client.get(done.headers["location"])
    assert "已退出该设备的登录" in after.text and "已登录的设备（1）" in after.text
    assert "华为 Mate 60" not in after.text
    again = await client.post(path, data={"csrf": csrf})
    assert again.status_code == 404 and "没有这台设备" in again.text


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    phone = await app_sign_in(client)
    earlier = str((await issue_code(client, "zhangwei"))["code"])
    await as_admin(client)
    for data in ({}, {"csrf": "not-the-token"}):
        refused = await client.post(f"{PAGE}/activation-code", data=data)
        assert refused.status_code == 403 and "表单已过期" in refused.text
        assert CODE.search(refused.text) is None
        path = f"{PAGE}/devices/{phone['device_id']}/signout"
        assert (await client.post(path, data=data)).status_code == 403
    statements = xapi(auth=bearer(phone["access_token"]))
    assert (await client.get("/xapi/statements", headers=statements)).status_code == 200
    activation = {"account": "zhangwei", "code": earlier, "password": "新的密码-宁夏-2027"}
    assert (await client.post("/auth/activate", json=activation)).status_code == 204


async def _learner_session(http: httpx.AsyncClient) -> None:
    assert (await sign_in(http, "zhangwei", PASSWORD)).status_code == 303


async def _auditor_session(http: httpx.AsyncClient) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    assert (await sign_in(http, "pingshen-web", "pingshen-web-secret")).status_code == 303


async def _base_session(http: httpx.AsyncClient) -> None:
    await clients.create(
        key="jidi-web", name="继续教育基地", scopes=[Scope.base],
        secret="jidi-web-secret-1", base_id="some-base",
    )  # fmt: skip
    assert (await sign_in(http, "jidi-web", "jidi-web-secret-1")).status_code == 303


@pytest.mark.parametrize("session", [_learner_session, _auditor_session, _base_session])
async def test_learners_auditors_and_bases_are_refused_the_page_and_its_forms(
    client: httpx.AsyncClient, other: httpx.AsyncClient, session: object
) -> None:
    await activated(client)
    phone = await app_sign_in(client)
    assert callable(session)
    await session(other)
    page = await other.get(PAGE)
    assert page.status_code == 403 and "仅限管理员" in page.text
    assert page.headers["content-type"].startswith("text/html")
    csrf = token(page.text)  # the session's own token (its sign-out form): not the reason
    issued = await other.post(f"{PAGE}/activation-code", data={"csrf": csrf})
    assert issued.status_code == 403 and "仅限管理员" in issued.text
    path = f"{PAGE}/devices/{phone['device_id']}/signout"
    signed_out = await other.post(path, data={"csrf": csrf})
    assert signed_out.status_code == 403 and "仅限管理员" in signed_out.text
    account = await Account.find_one(Account.learner_id == "zhangwei")
    assert account is not None and account.activation_digest is None  # no code issued
    statements = xapi(auth=bearer(phone["access_token"]))
    assert (await client.get("/xapi/statements", headers=statements)).status_code == 200


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(PAGE)
    assert response.status_code == 303
    location = response.headers["location"]
    assert location == "/signin?next=%2Fadmin%2Flearners%2Fzhangwei%2Faccount"


async def as_admin_without_page(client: httpx.AsyncClient) -> str:
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    return token((await client.get("/auditor")).text)


async def test_an_unknown_learner_is_a_404_page(client: httpx.AsyncClient) -> None:
    csrf = await as_admin_without_page(client)
    for response in (
        await client.get("/admin/learners/nobody/account"),
        await client.post("/admin/learners/nobody/account/activation-code", data={"csrf": csrf}),
        await client.post("/admin/learners/nobody/account/devices/d1/signout", data={"csrf": csrf}),
    ):
        assert response.status_code == 404 and "没有这位学员" in response.text
        assert response.headers["content-type"].startswith("text/html")
    assert await Account.find_one(Account.learner_id == "nobody") is None


async def test_a_chinese_name_with_markup_is_escaped(client: httpx.AsyncClient) -> None:
    await register(client, name="张<script>alert(1)</script>伟")
    await as_admin(client)
    page = await client.get(PAGE)
    assert "<script>alert(1)</script>" not in page.text
    assert "张&lt;script&gt;alert(1)&lt;/script&gt;伟 的账号管理" in page.text


async def test_the_auditor_page_links_to_it_for_admins_only(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    await register(client)
    await as_admin(client)
    link = f'href="{PAGE}"'
    assert link in (await client.get("/auditor/learners/zhangwei")).text
    await _auditor_session(other)
    assert link not in (await other.get("/auditor/learners/zhangwei")).text


async def test_signed_out_forms_send_to_sign_in_then_to_the_page(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    for path in (f"{PAGE}/activation-code", f"{PAGE}/devices/d1/signout"):
        response = await client.post(path, data={"csrf": "none"})
        assert response.status_code == 303
        location = response.headers["location"]
        assert location == "/signin?next=%2Fadmin%2Flearners%2Fzhangwei%2Faccount"
    assert await Account.find_one(Account.learner_id == "zhangwei") is None


async def test_an_erased_learner_has_no_account_page(client: httpx.AsyncClient) -> None:
    await register(client, name="张伟")
    erasure = {"reason": "本人申请（2026-12-01）"}
    erased = await client.post("/learners/zhangwei/erasure", json=erasure, headers=ADMIN)
    assert erased.status_code == 200, erased.text
    csrf = await as_admin_without_page(client)
    assert (await client.get(PAGE)).status_code == 404
    refused = await client.post(f"{PAGE}/activation-code", data={"csrf": csrf})
    assert refused.status_code == 404 and "没有这位学员" in refused.text


async def test_an_expired_code_is_shown_as_expired_not_outstanding(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await issue_code(client, "zhangwei")
    past = datetime(2026, 1, 2, 3, 4, tzinfo=UTC)  # 2026年1月2日 11:04 in Beijing
    await db.collection(Account).update_one(
        {"learner_id": "zhangwei"}, {"$set": {"activation_expires_at": past}}
    )
    await as_admin(client)
    page = await client.get(PAGE)
    assert "上一个激活码已于 2026年1月2日 11:04 过期" in page.text
    assert "有未使用的激活码" not in page.text
