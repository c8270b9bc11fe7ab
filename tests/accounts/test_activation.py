"""Activation codes: issued by an admin, used once to set a password, expiring; and the
rules a password must meet."""

from __future__ import annotations

from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from accounts import codes, service
from accounts.models import Account
from accounts.passwords import check_password
from nxce.core import db
from nxce.core.errors import Unprocessable
from tests.accounts.conftest import (
    PASSWORD,
    ZHANG_WEI_ID_NUMBER,
    activated,
    app_sign_in,
    issue_code,
)
from tests.conftest import basic
from tests.credits.conftest import register

ACTIVATION_FAILED = "activation code is wrong, used or expired"


async def activate(
    client: httpx.AsyncClient, code: str, password: str = PASSWORD, account: str = "zhangwei"
) -> httpx.Response:
    return await client.post(
        "/auth/activate", json={"account": account, "code": code, "password": password}
    )


async def test_a_code_is_shown_once_grouped_and_stored_only_as_a_digest(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    issued = await issue_code(client, "zhangwei")
    code = issued["code"]
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert set(code.replace("-", "")) <= set(codes.ALPHABET)
    stored = await db.collection(Account).find_one({"learner_id": "zhangwei"})
    assert code not in str(stored) and code.replace("-", "") not in str(stored)
    assert stored["password_hash"] is None
    assert issued["expires_at"].startswith(str((db.now() + timedelta(days=30)).date()))


async def test_activation_sets_the_password_and_the_code_works_once(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    code = (await issue_code(client, "zhangwei"))["code"]
    typed = code.lower().replace("-", " ")  # as a learner types it off a printed list
    assert (await activate(client, typed)).status_code == 204
    stored = await Account.find_one(Account.learner_id == "zhangwei")
    assert stored is not None and stored.password_hash is not None
    assert stored.password_hash.startswith("$argon2id$")
    assert stored.activation_digest is None
    await app_sign_in(client)

    reused = await activate(client, code, password="另一个密码-abcdefg")
    assert reused.status_code == 400
    assert reused.json()["detail"] == ACTIVATION_FAILED
    await app_sign_in(client)  # the password is unchanged


async def test_wrong_expired_and_replaced_codes_answer_alike(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await register(client)
    accounts = app.state.accounts
    expired = await service.issue_code(
        accounts=accounts, learner_id="zhangwei", by="admin", now=db.now() - timedelta(days=31)
    )
    answers = [await activate(client, expired.code)]
    first = (await issue_code(client, "zhangwei"))["code"]
    second = (await issue_code(client, "zhangwei"))["code"]
    answers.append(await activate(client, first))  # replaced by the newer code
    answers.append(await activate(client, "ABCD-EFGH-JKMN"))  # wrong
    answers.append(await activate(client, second, account="nobody"))  # no such account
    for answer in answers:
        assert answer.status_code == 400, answer.text
        body = answer.json()
        assert body["detail"] == ACTIVATION_FAILED
    assert {a.text for a in answers} == {answers[0].text}
    odd = await activate(client, "码" * 200)  # any other length is merely wrong
    assert odd.status_code == 400 and "码码" not in odd.text
    assert (await activate(client, second)).status_code == 204


async def test_activation_by_id_number_and_the_old_password_works_until_the_code_is_used(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    code = (await issue_code(client, "zhangwei"))["code"]
    await app_sign_in(client)  # a code issued does not lock the learner out
    new_password = "贺兰山东麓葡萄酒-2026"
    response = await activate(client, code, password=new_password, account=ZHANG_WEI_ID_NUMBER)
    assert response.status_code == 204, response.text
    await app_sign_in(client, account=ZHANG_WEI_ID_NUMBER, password=new_password)
    old = await client.post(
        "/auth/app-sign-in",
        json={"account": "zhangwei", "password": PASSWORD, "device": "旧手机"},
    )
    assert old.status_code == 401


async def test_a_password_breaking_a_rule_is_422_and_leaves_the_code_usable(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    code = (await issue_code(client, "zhangwei"))["code"]
    refused = {
        "枸杞红了123": "at least 10 characters",
        "a" * 129: "at most 128 characters",
        "宁" * 12: "one character repeated",
        "my-ZhangWei-2026": "learner id",
        f"id{ZHANG_WEI_ID_NUMBER}": "id number",
    }
    for password, rule in refused.items():
        response = await activate(client, code, password=password)
        assert response.status_code == 422, (password, response.text)
        error = response.json()["errors"][0]
        assert error["field"] == "password" and rule in error["message"], error
        assert ZHANG_WEI_ID_NUMBER not in response.text
    assert (await activate(client, code)).status_code == 204


def test_password_rules_count_characters_not_bytes() -> None:
    check_password("宁夏枸杞贺兰山葡萄酒", account_names=["zhangwei"])  # 10 characters
    with pytest.raises(Unprocessable, match="at least 10"):
        check_password("宁夏枸杞贺兰山葡萄", account_names=["zhangwei"])
    with pytest.raises(Unprocessable, match="learner id"):
        check_password("我是ZHANGWEI的密码啊", account_names=["zhangwei"])


async def test_only_an_admin_issues_codes_and_only_for_a_learner(
    client: httpx.AsyncClient,
) -> None:
    from nxce.core import clients
    from nxce.core.clients import Scope

    await register(client)
    await clients.create(
        key="pingshen", name="评审委员会", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    path = "/learners/zhangwei/activation-code"
    assert (await client.post(path)).status_code == 401
    response = await client.post(path, headers=basic("pingshen", "pingshen-secret"))
    assert response.status_code == 403
    from tests.conftest import ADMIN

    missing = await client.post("/learners/nobody/activation-code", headers=ADMIN)
    assert missing.status_code == 404


async def test_many_codes_at_once_one_each(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    issued = await service.issue_codes(
        accounts=app.state.accounts, learner_ids=["zhangwei", "lixiuying"], by="admin"
    )
    assert set(issued) == {"zhangwei", "lixiuying"}
    assert issued["zhangwei"].code != issued["lixiuying"].code
    assert (
        await activate(client, issued["lixiuying"].code, account="lixiuying")
    ).status_code == 204
    again = await service.issue_codes(
        accounts=app.state.accounts, learner_ids=["zhangwei"], by="admin"
    )
    assert (await activate(client, issued["zhangwei"].code)).status_code == 400
    assert (await activate(client, again["zhangwei"].code)).status_code == 204


async def test_codes_issued_at_once_for_one_learner_leave_one_account_and_one_working_code(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    import asyncio

    await register(client)
    accounts = app.state.accounts
    issued = await asyncio.gather(
        *(
            service.issue_code(accounts=accounts, learner_id="zhangwei", by="admin")
            for _ in range(4)
        )
    )
    assert await Account.find(Account.learner_id == "zhangwei").count() == 1
    worked = [(await activate(client, i.code)).status_code for i in issued]
    assert worked.count(204) == 1 and worked.count(400) == 3
