"""Signing in with an account name and a password: no oracle, and a throttle per account
and per address."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from accounts import passwords
from tests.accounts.conftest import PASSWORD, ZHANG_WEI_ID_NUMBER, activated, issue_code
from tests.credits.conftest import id_number, register

SIGN_IN = "/auth/app-sign-in"


def attempt(account: str, password: str = PASSWORD) -> dict[str, str]:
    return {"account": account, "password": password, "device": "小米 14"}


@pytest.fixture
async def from_address(app: FastAPI) -> AsyncIterator[Any]:
    """HTTP clients whose requests come from a given address (a phone's carrier NAT)."""
    made: list[httpx.AsyncClient] = []

    def at(address: str) -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=app, client=(address, 40000))
        http = httpx.AsyncClient(transport=transport, base_url="http://testserver")
        made.append(http)
        return http

    yield at
    for http in made:
        await http.aclose()


async def test_unknown_account_unknown_id_number_wrong_password_and_no_password_answer_alike(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await activated(client)
    await register(client, "lixiuying", "李秀英", "124")
    await issue_code(client, "lixiuying")  # an account, no password yet
    verified: list[str] = []
    real_verify = passwords.verify_password

    def counting(password: str, password_hash: str) -> bool:
        verified.append(password_hash)
        return real_verify(password, password_hash)

    monkeypatch.setattr(passwords, "verify_password", counting)
    answers = [
        await client.post(SIGN_IN, json=attempt("wangfang")),
        await client.post(SIGN_IN, json=attempt(id_number("999"))),
        await client.post(SIGN_IN, json=attempt("zhangwei", "不是这个密码-123456")),
        await client.post(SIGN_IN, json=attempt(ZHANG_WEI_ID_NUMBER, "不是这个密码-123456")),
        await client.post(SIGN_IN, json=attempt("lixiuying")),
    ]
    assert {a.status_code for a in answers} == {401}
    assert {a.text for a in answers} == {answers[0].text}
    assert answers[0].json()["detail"] == "account or password is wrong"
    # every one verified a password hash (a dummy one where there is none): no shortcut
    assert len(verified) == len(answers)


async def test_sign_in_by_learner_id_or_id_number(client: httpx.AsyncClient) -> None:
    await activated(client)
    for account in ("zhangwei", ZHANG_WEI_ID_NUMBER, f" {ZHANG_WEI_ID_NUMBER} "):
        response = await client.post(SIGN_IN, json=attempt(account))
        assert response.status_code == 200, response.text
        assert response.json()["learner_id"] == "zhangwei"
        assert response.headers["Cache-Control"] == "no-store"


async def test_a_name_naming_two_learners_signs_in_no_one(client: httpx.AsyncClient) -> None:
    """A learner id that is also another learner's id number: neither is picked."""
    await activated(client)
    await register(client, ZHANG_WEI_ID_NUMBER, "王芳", "125")
    code = (await issue_code(client, ZHANG_WEI_ID_NUMBER))["code"]
    by_her_id = {"account": ZHANG_WEI_ID_NUMBER, "code": code, "password": "王芳的密码-2026-夏"}
    ambiguous = await client.post("/auth/activate", json=by_her_id)
    assert ambiguous.status_code == 400  # the name is his id number as well as her id
    by_her_number = {**by_her_id, "account": id_number("125")}
    assert (await client.post("/auth/activate", json=by_her_number)).status_code == 204
    her = await client.post(SIGN_IN, json=attempt(id_number("125"), "王芳的密码-2026-夏"))
    assert her.json()["learner_id"] == ZHANG_WEI_ID_NUMBER
    for password in (PASSWORD, "王芳的密码-2026-夏"):
        response = await client.post(SIGN_IN, json=attempt(ZHANG_WEI_ID_NUMBER, password))
        assert response.status_code == 401
    assert (await client.post(SIGN_IN, json=attempt("zhangwei"))).status_code == 200


async def test_ten_failures_of_one_account_from_one_address_refuse_it_there(
    client: httpx.AsyncClient, from_address: Any
) -> None:
    await activated(client)
    nat = from_address("10.1.1.1")
    for _ in range(10):
        wrong = await nat.post(SIGN_IN, json=attempt("zhangwei", "猜一个密码-0000000"))
        assert wrong.status_code == 401
    # the right password too, and by another of the learner's names
    for account in ("zhangwei", ZHANG_WEI_ID_NUMBER):
        refused = await nat.post(SIGN_IN, json=attempt(account))
        assert refused.status_code == 429, refused.text
        assert int(refused.headers["Retry-After"]) > 0
    elsewhere = await from_address("10.2.2.2").post(SIGN_IN, json=attempt("zhangwei"))
    assert elsewhere.status_code == 200


async def test_an_unknown_account_is_throttled_like_a_known_one(
    client: httpx.AsyncClient, from_address: Any
) -> None:
    nat = from_address("10.3.3.3")
    codes = [(await nat.post(SIGN_IN, json=attempt("wangfang"))).status_code for _ in range(11)]
    assert codes == [401] * 10 + [429]


async def test_an_address_with_many_failures_is_slowed_but_valid_passwords_pass(
    client: httpx.AsyncClient, app: FastAPI, from_address: Any
) -> None:
    await activated(client)
    app.state.accounts.throttle.penalty_seconds = 0.01
    nat = from_address("10.4.4.4")
    for n in range(50):
        response = await nat.post(SIGN_IN, json=attempt(f"nobody{n}"))
        assert response.status_code == 401
    assert (await nat.post(SIGN_IN, json=attempt("nobody-more"))).status_code == 429
    assert (await nat.post(SIGN_IN, json=attempt("zhangwei"))).status_code == 200


async def test_activation_guesses_are_throttled(
    client: httpx.AsyncClient, from_address: Any
) -> None:
    await register(client)
    code = (await issue_code(client, "zhangwei"))["code"]
    nat = from_address("10.5.5.5")
    for n in range(10):
        guess = {"account": "zhangwei", "code": f"ABCD-EFGH-{n:04d}", "password": PASSWORD}
        assert (await nat.post("/auth/activate", json=guess)).status_code == 400
    right = {"account": "zhangwei", "code": code, "password": PASSWORD}
    assert (await nat.post("/auth/activate", json=right)).status_code == 429
    assert (await client.post("/auth/activate", json=right)).status_code == 204


async def test_sign_in_by_phone_as_typed_and_a_phone_naming_two_learners_signs_in_no_one(
    client: httpx.AsyncClient,
) -> None:
    await register(client, phone="13812345678")
    code = (await issue_code(client, "zhangwei"))["code"]
    body = {"account": "138 1234 5678", "code": code, "password": "宁夏枸杞-13812345678"}
    contains_phone = await client.post("/auth/activate", json=body)
    assert contains_phone.status_code == 422
    assert "phone" in contains_phone.json()["errors"][0]["message"]
    assert "13812345678" not in contains_phone.text
    body["password"] = PASSWORD
    assert (await client.post("/auth/activate", json=body)).status_code == 204
    for account in ("13812345678", "138-1234-5678", "138 1234 5678"):
        response = await client.post(SIGN_IN, json=attempt(account))
        assert response.status_code == 200, (account, response.text)
        assert response.json()["learner_id"] == "zhangwei"

    # a learner whose id is his phone's digits: the name now names two learners
    await register(client, "13812345678", "王芳", "125")
    assert (await client.post(SIGN_IN, json=attempt("13812345678"))).status_code == 401
    assert (await client.post(SIGN_IN, json=attempt(ZHANG_WEI_ID_NUMBER))).status_code == 200
