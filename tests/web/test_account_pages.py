"""Learners' accounts on the pages: sign-in with an account name and a password (and
clients' keys still), the devices on "/me" signed out with a button, the password changed
there; sessions ended by a new password or an erasure; forms refused without their CSRF
token."""

from __future__ import annotations

import httpx
import pytest

from nxce.core import clients
from nxce.core.clients import Scope
from tests.accounts.conftest import PASSWORD, ZHANG_WEI_ID_NUMBER, app_sign_in, bearer, issue_code
from tests.conftest import ADMIN
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.lrs.conftest import xapi
from tests.web.account_support import (
    NAMES_RULE,
    NEW_PASSWORD,
    activate,
    alert,
    registered_with_code,
)
from tests.web.account_support import other as other  # a second browser
from tests.web.test_pages import sign_in, token
from web.session import COOKIE


async def test_unknown_accounts_and_wrong_passwords_answer_alike_and_are_throttled(
    client: httpx.AsyncClient,
) -> None:
    await register(client, "lixiuying", "李秀英", "124")  # no password yet
    code = await registered_with_code(client)
    assert (await activate(client, "zhangwei", code)).status_code == 303
    client.cookies.clear()
    answers = [
        await sign_in(client, name, password)
        for name, password in (
            ("nobody", PASSWORD),  # no such account
            ("139-0951-0000", PASSWORD),  # a phone number no learner has
            ("640102199001011230", PASSWORD),  # an id number no learner has
            ("lixiuying", PASSWORD),  # not activated
            ("zhangwei", "not-his-password"),  # a wrong password
        )
    ]
    assert {a.status_code for a in answers} == {401}
    assert {alert(a.text) for a in answers} == {"账号或密码不正确。"}
    assert "139-0951-0000" not in answers[1].text  # a phone number is never shown back
    assert "640102199001011230" not in answers[2].text  # nor an id number
    assert 'value="nobody"' in answers[0].text  # other names fill the form again
    for _ in range(9):  # ten failures of his account in all, by either name
        assert (await sign_in(client, ZHANG_WEI_ID_NUMBER, "still-not-it")).status_code == 401
    throttled = await sign_in(client, "zhangwei", PASSWORD)
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert alert(throttled.text) == "尝试次数过多，请稍后再试。"
    assert COOKIE not in client.cookies


async def test_clients_keys_still_sign_in_and_a_learner_with_a_password_comes_first(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    """A learner's client made on the command line with the learner id as its key (as
    before accounts): its secret signs in until the learner sets a password; then the
    name is the learner's account (our reading, web/signin.py)."""
    await register(client)
    await clients.create(
        key="zhangwei", name="张伟的手机", scopes=[Scope.statements_read_mine],
        secret="zhangwei-client-secret", learner_id="zhangwei",
    )  # fmt: skip
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    assert (await sign_in(other, "pingshen-web", "pingshen-web-secret")).status_code == 303
    assert "退出（评审）" in (await other.get("/auditor")).text
    by_client = await sign_in(client, "zhangwei", "zhangwei-client-secret")
    assert by_client.status_code == 303 and by_client.headers["location"] == "/me"
    assert "退出（张伟的手机）" in (await client.get("/me")).text

    code = str((await issue_code(client, "zhangwei"))["code"])
    client.cookies.clear()
    assert (await activate(client, "zhangwei", code)).status_code == 303
    client.cookies.clear()
    assert (await sign_in(client, "zhangwei", "zhangwei-client-secret")).status_code == 401
    assert (await sign_in(client, "zhangwei", PASSWORD)).status_code == 303
    assert "退出（张伟）" in (await client.get("/me")).text


async def test_devices_are_listed_on_me_and_signed_out_with_its_button(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    code = await registered_with_code(client)
    assert (await activate(client, "zhangwei", code)).status_code == 303
    phone = await app_sign_in(client, device="华为 Mate 60 <张伟的手机>")
    tablet = await app_sign_in(client, device="iPad")
    me = await client.get("/me")
    assert "<title>我的学时 · " in me.text  # the page's title holds its title only
    assert me.text.count('id="devices-title"') == 1
    assert "已登录的设备（2）" in me.text
    assert "华为 Mate 60 &lt;张伟的手机&gt;" in me.text and "iPad" in me.text
    assert "首次登录" in me.text and "最近使用" in me.text
    path = f"/me/devices/{phone['device_id']}/signout"
    assert (await client.post(path, data={"csrf": "wrong"})).status_code == 403
    statements = xapi(auth=bearer(phone["access_token"]))
    assert (await client.get("/xapi/statements", headers=statements)).status_code == 200

    done = await client.post(path, data={"csrf": token(me.text)})
    assert done.status_code == 303 and done.headers["location"] == "/me?done=device"
    assert (await client.get("/xapi/statements", headers=statements)).status_code == 401
    after = await client.get(done.headers["location"])
    assert "已退出该设备的登录" in after.text and "已登录的设备（1）" in after.text
    assert "华为 Mate 60" not in after.text
    again = await client.post(path, data={"csrf": token(after.text)})
    assert again.status_code == 404  # already signed out

    await register(other, "lixiuying", "李秀英", "124")
    li_code = str((await issue_code(other, "lixiuying"))["code"])
    assert (await activate(other, "lixiuying", li_code)).status_code == 303
    theirs = await other.post(
        f"/me/devices/{tablet['device_id']}/signout",
        data={"csrf": token((await other.get("/me")).text)},
    )
    assert theirs.status_code == 404  # not her device
    tablet_auth = xapi(auth=bearer(tablet["access_token"]))
    assert (await client.get("/xapi/statements", headers=tablet_auth)).status_code == 200


async def test_a_password_change_ends_other_sessions_and_signs_the_apps_out(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    code = await registered_with_code(client)
    assert (await activate(client, "zhangwei", code)).status_code == 303
    assert (await sign_in(other, ZHANG_WEI_ID_NUMBER, PASSWORD)).status_code == 303
    app = await app_sign_in(client)
    me = await client.get("/me")
    form = {"old": PASSWORD, "new": NEW_PASSWORD, "again": NEW_PASSWORD}
    assert (await client.post("/me/password", data=form)).status_code == 403  # no token
    assert (await client.post("/me/password", data={**form, "csrf": "x"})).status_code == 403

    changed = await client.post("/me/password", data={**form, "csrf": token(me.text)})
    assert changed.status_code == 303 and changed.headers["location"] == "/me?done=password"
    mine = await client.get(changed.headers["location"])
    assert mine.status_code == 200 and "密码已修改" in mine.text  # this browser stays in
    assert (await other.get("/me")).status_code == 303  # the other one is signed out
    auth = xapi(auth=bearer(app["access_token"]))
    assert (await client.get("/xapi/statements", headers=auth)).status_code == 401
    assert (await sign_in(other, "zhangwei", PASSWORD)).status_code == 401
    assert (await sign_in(other, "zhangwei", NEW_PASSWORD)).status_code == 303


@pytest.mark.parametrize(
    ("old", "new", "again", "words"),
    [
        ("not-my-password", NEW_PASSWORD, NEW_PASSWORD, "当前密码不正确。"),
        (PASSWORD, "zhangwei2027", "zhangwei2027", NAMES_RULE),
        (PASSWORD, "短", "短", "新密码至少需要10个字符，现在只有1个。"),
        (PASSWORD, NEW_PASSWORD, NEW_PASSWORD + "。", "两次输入的新密码不一致，请重新输入。"),
    ],
)
async def test_a_refused_password_change_says_why_and_changes_nothing(
    client: httpx.AsyncClient, old: str, new: str, again: str, words: str
) -> None:
    code = await registered_with_code(client)
    assert (await activate(client, "zhangwei", code)).status_code == 303
    me = await client.get("/me")
    form = {"old": old, "new": new, "again": again, "csrf": token(me.text)}
    refused = await client.post("/me/password", data=form)
    assert refused.status_code == 422
    assert alert(refused.text) == words
    assert "我的学时" in refused.text
    assert (await client.get("/me")).status_code == 200  # still signed in
    client.cookies.clear()
    assert (await sign_in(client, "zhangwei", PASSWORD)).status_code == 303


async def test_erasing_the_learner_ends_their_sessions_and_their_sign_in(
    client: httpx.AsyncClient,
) -> None:
    code = await registered_with_code(client)
    assert (await activate(client, "zhangwei", code)).status_code == 303
    assert (await client.get("/me")).status_code == 200
    erased = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人申请，2026-12-07"}, headers=ADMIN
    )
    assert erased.status_code == 200, erased.text
    assert (await client.get("/me")).status_code == 303  # signed out
    refused = await sign_in(client, "zhangwei", PASSWORD)
    assert refused.status_code == 401 and alert(refused.text) == "账号或密码不正确。"
