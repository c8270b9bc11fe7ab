"""Learners' accounts on the pages: activation with a code, sign-in with an account name
and a password (and clients' keys still), the devices on "/me" signed out with a button,
the password changed there; every form refused without its CSRF token."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from accounts import service as account_service
from nxce.core import clients, db
from nxce.core.clients import Scope
from tests.accounts.conftest import PASSWORD, ZHANG_WEI_ID_NUMBER, app_sign_in, bearer, issue_code
from tests.conftest import ADMIN
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.lrs.conftest import xapi
from tests.web.test_pages import sign_in, token
from web.password_words import ACTIVATION_FAILED
from web.session import COOKIE

NEW_PASSWORD = "贺兰山下-葡萄酒-2027"
NAMES_RULE = "新密码不能是或包含您的学员编号、身份证号或手机号。"


def alert(page: str) -> str:
    found = re.search(r'role="alert">([^<]*)<', page)
    assert found, page
    return found.group(1)


async def activate(
    client: httpx.AsyncClient,
    account: str,
    code: str,
    password: str = PASSWORD,
    again: str | None = None,
) -> httpx.Response:
    form = await client.get("/activate")
    assert form.status_code == 200
    data = {
        "account": account,
        "code": code,
        "password": password,
        "again": password if again is None else again,
        "csrf": token(form.text),
    }
    return await client.post("/activate", data=data)


async def registered_with_code(client: httpx.AsyncClient) -> str:
    """张伟 registered, and a code issued for him by the admin (the API)."""
    await register(client)
    return str((await issue_code(client, "zhangwei"))["code"])


@pytest.fixture
async def other(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser: its own cookies."""
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
        yield http


async def test_activation_on_the_page_sets_the_password_and_signs_the_learner_in(
    client: httpx.AsyncClient,
) -> None:
    code = await registered_with_code(client)
    typed = code.replace("-", "").lower()  # as a learner may type it
    response = await activate(client, ZHANG_WEI_ID_NUMBER, typed)
    assert response.status_code == 303, response.text
    assert response.headers["location"] == "/me?done=activated"
    me = await client.get(response.headers["location"])
    assert me.status_code == 200
    assert "账号已激活" in me.text and "张伟" in me.text
    assert "退出（张伟）" in me.text
    assert ZHANG_WEI_ID_NUMBER not in me.text  # never shown back
    csrf = token(me.text)
    assert (await client.post("/signout", data={"csrf": csrf})).status_code == 303
    assert (await client.get("/me")).status_code == 303

    signed = await sign_in(client, "zhangwei", PASSWORD)
    assert signed.status_code == 303 and signed.headers["location"] == "/me"
    assert (await client.get("/me")).status_code == 200
    transcript = await client.get("/me/transcript?format=csv")
    assert transcript.status_code == 200, transcript.text
    assert "attachment" in transcript.headers["content-disposition"]


async def test_a_wrong_used_or_expired_code_gets_one_answer_and_input_is_escaped(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    code = await registered_with_code(client)
    wrong = await activate(client, "zhangwei", "ABCD-EFGH-JKMN")
    assert wrong.status_code == 400
    assert alert(wrong.text) == ACTIVATION_FAILED
    hostile = await activate(client, "<b>张伟</b>", '"><script>x()</script>')
    assert hostile.status_code == 400
    assert "<b>张伟</b>" not in hostile.text and "<script>x()" not in hostile.text
    assert "&lt;b&gt;张伟&lt;/b&gt;" in hostile.text

    assert (await activate(client, "zhangwei", code)).status_code == 303
    client.cookies.clear()
    used = await activate(client, "zhangwei", code, NEW_PASSWORD)
    assert used.status_code == 400 and alert(used.text) == ACTIVATION_FAILED

    past = db.now() - timedelta(days=31)
    expired = await account_service.issue_code(
        accounts=app.state.accounts, learner_id="zhangwei", by="admin", now=past
    )
    late = await activate(client, "zhangwei", expired.code, NEW_PASSWORD)
    assert late.status_code == 400 and alert(late.text) == ACTIVATION_FAILED
    assert (await sign_in(client, "zhangwei", PASSWORD)).status_code == 303  # unchanged


@pytest.mark.parametrize(
    ("password", "again", "words"),
    [
        ("枸杞-2026", None, "新密码至少需要10个字符，现在只有7个。"),
        ("哈" * 129, None, "新密码最多128个字符，现在有129个。"),
        ("一" * 12, None, "新密码不能全是同一个字符。"),
        ("我是ZhangWei的密码", None, NAMES_RULE),
        (f"证{ZHANG_WEI_ID_NUMBER}", None, NAMES_RULE),
        (PASSWORD, PASSWORD + "!", "两次输入的新密码不一致，请重新输入。"),
    ],
)
async def test_the_password_rules_are_told_in_chinese_and_the_code_still_works(
    client: httpx.AsyncClient, password: str, again: str | None, words: str
) -> None:
    code = await registered_with_code(client)
    refused = await activate(client, "zhangwei", code, password, again)
    assert refused.status_code == 422
    assert alert(refused.text) == words
    assert f'value="{code}"' in refused.text  # the form kept, the code not used up
    assert refused.headers["cache-control"] == "no-store"
    assert (await client.get("/me")).status_code == 303  # not signed in
    assert (await activate(client, "zhangwei", code)).status_code == 303


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
            ("640102199001011230", PASSWORD),  # an id number no learner has
            ("lixiuying", PASSWORD),  # not activated
            ("zhangwei", "not-his-password"),  # a wrong password
        )
    ]
    assert {a.status_code for a in answers} == {401}
    assert {alert(a.text) for a in answers} == {"账号或密码不正确。"}
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


async def test_the_activation_form_without_its_token_is_refused_and_uses_nothing(
    client: httpx.AsyncClient,
) -> None:
    code = await registered_with_code(client)
    data = {"account": "zhangwei", "code": code, "password": PASSWORD, "again": PASSWORD}
    refused = await client.post("/activate", data={**data, "csrf": "forged"})
    assert refused.status_code == 403
    assert COOKIE not in client.cookies
    assert (await activate(client, "zhangwei", code)).status_code == 303  # the code unused


async def test_a_learner_activates_and_signs_in_with_their_phone_number(
    client: httpx.AsyncClient,
) -> None:
    """A phone number is an account name too; never shown back in full, and a password
    may not contain it."""
    await register(client, phone="138 1234 5678")
    code = str((await issue_code(client, "zhangwei"))["code"])
    refused = await activate(client, "13812345678", code, "我的手机13812345678")
    assert refused.status_code == 422 and alert(refused.text) == NAMES_RULE
    assert (await activate(client, "13812345678", code)).status_code == 303
    me = await client.get("/me")
    assert me.status_code == 200 and "13812345678" not in me.text
    client.cookies.clear()
    assert (await sign_in(client, "13812345678", "wrong-password")).status_code == 401
    signed = await sign_in(client, "13812345678", PASSWORD)
    assert signed.status_code == 303 and signed.headers["location"] == "/me"


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
