"""Refusals of the account routes and pages: a password (old, new, or typed again) is never
echoed in a 422, and a device's name is one line of printable text."""

from __future__ import annotations

import json
import re

import httpx

from tests.accounts.conftest import PASSWORD, activated, app_sign_in, bearer
from tests.conftest import ADMIN
from tests.credits.conftest import id_number, learner_body
from tests.web.account_support import activate, registered_with_code
from tests.web.test_pages import token

TYPED = "枸杞红了-9527-秋天"  # what the learner typed: it must not come back


async def test_a_password_change_refused_for_its_type_does_not_echo_either_password(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    signed = await app_sign_in(client)
    body = {"old": 95271234567, "new": 13912345678}
    response = await client.post(
        "/auth/password", json=body, headers=bearer(signed["access_token"])
    )
    assert response.status_code == 422, response.text
    assert {e["field"] for e in response.json()["errors"]} == {"old", "new"}
    assert "95271234567" not in response.text and "13912345678" not in response.text


async def test_the_activation_page_does_not_echo_a_password_typed_again(
    client: httpx.AsyncClient,
) -> None:
    code = await registered_with_code(client)
    too_long = TYPED * 20  # past the form's 200 characters
    response = await activate(client, "zhangwei", code, PASSWORD, again=too_long)
    assert response.status_code == 422, response.text
    assert "again" in response.text
    assert TYPED not in response.text


async def test_the_password_page_does_not_echo_old_new_or_again(
    client: httpx.AsyncClient,
) -> None:
    code = await registered_with_code(client)
    signed_in = await activate(client, "zhangwei", code)
    assert signed_in.status_code == 303, signed_in.text
    me = await client.get("/me")
    assert me.status_code == 200, me.text
    too_long = TYPED * 20
    form = {"csrf": token(me.text), "old": too_long, "new": too_long, "again": too_long}
    response = await client.post("/me/password", data=form)
    assert response.status_code == 422, response.text
    assert TYPED not in response.text


async def test_a_device_name_with_control_characters_is_refused_naming_the_field(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)
    for name in ("华为\u0000Mate", "小米\u202e14", "   "):
        body = {"account": "zhangwei", "password": PASSWORD, "device": name}
        response = await client.post("/auth/app-sign-in", json=body)
        assert response.status_code == 422, (name, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["device"]
    assert (await app_sign_in(client, device="华为 Mate 60 🍒")).get("device_id")


async def test_a_body_sent_as_a_form_is_a_415_that_echoes_nothing(
    client: httpx.AsyncClient,
) -> None:
    """curl -d sends a form's media type: the body (a password, an id number) must not come
    back in the refusal, which says to send JSON."""
    await activated(client)
    body = f'{{"account": "zhangwei", "password": "{TYPED}", "device": "华为"}}'
    for media_type in ("application/x-www-form-urlencoded", "text/plain; charset=utf-8"):
        response = await client.post(
            "/auth/app-sign-in", content=body.encode(), headers={"Content-Type": media_type}
        )
        assert response.status_code == 415, response.text
        assert "9527" not in response.text  # nor the password's bytes, escaped
        assert "application/json" in response.json()["detail"]
    learner = json.dumps(learner_body("wangfang", "王芳", "321"), ensure_ascii=False)
    response = await client.post(
        "/learners", content=learner.encode(), headers={**ADMIN, "Content-Type": "text/plain"}
    )
    assert response.status_code == 415, response.text
    assert id_number("321") not in response.text
    assert (await client.get("/learners/wangfang", headers=ADMIN)).status_code == 404


async def test_a_throttled_sign_in_names_no_learner_and_reads_alike_registered_or_not(
    client: httpx.AsyncClient,
) -> None:
    """Ten failures of a phone number: the 429 must not say whose the number is (nor, by
    naming it differently, that it is registered at all)."""
    await activated(client)
    await client.patch("/learners/zhangwei", json={"phone": "13912345678"}, headers=ADMIN)
    details = []
    for account in ("13912345678", "13987654321", id_number("999")):
        body = {"account": account, "password": "wrong-password-1", "device": "华为"}
        for _ in range(10):
            assert (await client.post("/auth/app-sign-in", json=body)).status_code == 401
        throttled = await client.post("/auth/app-sign-in", json=body)
        assert throttled.status_code == 429, throttled.text
        assert "zhangwei" not in throttled.text and account not in throttled.text
        details.append(re.sub(r"\d+ s$", "N s", throttled.json()["detail"]))
    assert len(set(details)) == 1, details
    code = {"account": "13912345678", "code": "AAAA-BBBB-CCCC", "password": PASSWORD}
    activation = await client.post("/auth/activate", json=code)
    assert activation.status_code == 429 and "zhangwei" not in activation.text
