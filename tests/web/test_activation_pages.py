"""The activation page: a learner's first sign-in with the code an admin issued (wrong,
used and expired codes; the password rules in Chinese; CSRF), by learner id, id number or
phone number."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from accounts import service as account_service
from nxce.core import db
from tests.accounts.conftest import PASSWORD, ZHANG_WEI_ID_NUMBER, issue_code
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.account_support import (
    NAMES_RULE,
    NEW_PASSWORD,
    activate,
    alert,
    registered_with_code,
)
from tests.web.test_pages import sign_in, token
from web.password_words import ACTIVATION_FAILED
from web.session import COOKIE


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
    assert "13812345678" not in refused.text  # not filled in again: never shown back
    assert (await activate(client, "13812345678", code)).status_code == 303
    me = await client.get("/me")
    assert me.status_code == 200 and "13812345678" not in me.text
    client.cookies.clear()
    assert (await sign_in(client, "13812345678", "wrong-password")).status_code == 401
    signed = await sign_in(client, "13812345678", PASSWORD)
    assert signed.status_code == 303 and signed.headers["location"] == "/me"


async def test_guessing_codes_is_throttled_per_learner_whichever_name_is_typed(
    client: httpx.AsyncClient,
) -> None:
    code = await registered_with_code(client)
    for n in range(10):
        name = "zhangwei" if n % 2 else ZHANG_WEI_ID_NUMBER
        assert (await activate(client, name, f"AAAA-BBBB-{n:04d}")).status_code == 400
    throttled = await activate(client, "zhangwei", code)  # even the right code, for now
    assert throttled.status_code == 429 and int(throttled.headers["retry-after"]) > 0
    assert alert(throttled.text) == "尝试次数过多，请稍后再试。"
    assert COOKIE not in client.cookies
