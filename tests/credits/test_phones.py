"""Learners' mobile numbers (手机号码): checked on create and update, stored encrypted with
a keyed digest, one learner's at most, masked for everyone but auditors, and erased with
the rest of the personal data."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from credits import learners
from credits.models import Learner
from tests.conftest import ADMIN
from tests.credits.conftest import MakeBound, detail, learner_body, register

PHONE = "13812345678"


async def test_phone_is_masked_for_admins_and_the_learner_and_full_for_auditors(
    client: httpx.AsyncClient, auditor: dict[str, str], bound_client: MakeBound
) -> None:
    created = await register(client, phone="138 1234-5678")  # spaces and hyphens dropped
    assert created["phone"] == "138****5678"
    app_headers = await bound_client("zhangwei")
    for headers in (ADMIN, app_headers):
        found = (await client.get("/learners/zhangwei", headers=headers)).json()
        assert found["phone"] == "138****5678"
    seen = (await client.get("/learners/zhangwei", headers=auditor)).json()
    assert seen["phone"] == PHONE
    stored = await Learner.find_one(Learner.learner_id == "zhangwei")
    assert stored is not None and stored.phone_encrypted is not None
    assert PHONE not in stored.phone_encrypted and stored.phone_digest != PHONE


async def test_learner_without_a_phone_reads_null_and_many_may_have_none(
    client: httpx.AsyncClient,
) -> None:
    """Most learners have no phone: the unique index holds only the numbers given."""
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    await register(client, "wangfang", "王芳", "125")
    found = (await client.get("/learners/lixiuying", headers=ADMIN)).json()
    assert found["phone"] is None


@pytest.mark.parametrize("value", ["1381234567", "23812345678", "138123456789", "+8613812345678"])
async def test_bad_phone_is_422_naming_the_field_and_the_value(
    client: httpx.AsyncClient, value: str
) -> None:
    response = await client.post("/learners", json=learner_body(phone=value), headers=ADMIN)
    assert response.status_code == 422, response.text
    assert [e["field"] for e in response.json()["errors"]] == ["phone"]
    assert "11 digits starting with 1" in response.text
    # a run of digits is named with its middle hidden (a mistyped number is most of one)
    shown = f"{value[:3]}{'*' * (len(value) - 7)}{value[-4:]}" if value.isdigit() else value
    assert repr(shown) in detail(response)
    assert (await client.get("/learners/zhangwei", headers=ADMIN)).status_code == 404


async def test_another_learners_phone_is_409_naming_no_one_and_traced(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client, phone=PHONE)
    body = learner_body("lixiuying", "李秀英", "124", phone=PHONE)
    response = await client.post("/learners", json=body, headers=ADMIN)
    assert response.status_code == 409
    assert detail(response) == "another learner has this phone number"
    assert "zhangwei" not in response.text
    assert (await client.get("/learners/lixiuying", headers=ADMIN)).status_code == 404
    await register(client, "lixiuying", "李秀英", "124")
    patched = await client.patch("/learners/lixiuying", json={"phone": PHONE}, headers=ADMIN)
    assert patched.status_code == 409
    events = (
        await client.get("/audit/events", params={"kind": "phone_conflict"}, headers=auditor)
    ).json()
    assert [(e["learner_id"], e["detail"]["operation"]) for e in events] == [
        ("zhangwei", "update"),
        ("zhangwei", "create"),
    ]


async def test_patch_sets_changes_and_clears_the_phone_freeing_the_number(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await register(client, "lixiuying", "李秀英", "124")
    changed = await client.patch("/learners/zhangwei", json={"phone": PHONE}, headers=ADMIN)
    assert changed.status_code == 200 and changed.json()["phone"] == "138****5678"
    again = await client.patch("/learners/zhangwei", json={"phone": PHONE}, headers=ADMIN)
    assert again.status_code == 200  # his own number: no conflict
    bad = await client.patch("/learners/zhangwei", json={"phone": "12345"}, headers=ADMIN)
    assert bad.status_code == 422 and "phone" in detail(bad)
    cleared = await client.patch("/learners/zhangwei", json={"phone": None}, headers=ADMIN)
    assert cleared.status_code == 200 and cleared.json()["phone"] is None
    taken = await client.patch("/learners/lixiuying", json={"phone": PHONE}, headers=ADMIN)
    assert taken.status_code == 200, taken.text


async def test_erasure_removes_the_phone_and_frees_the_number(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await register(client, phone=PHONE)
    erased = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人书面申请"}, headers=ADMIN
    )
    assert erased.status_code == 200 and erased.json()["phone"] is None
    stored = await Learner.find_one(Learner.learner_id == "zhangwei")
    assert stored is not None
    assert (stored.phone_encrypted, stored.phone_digest, stored.phone_masked) == (None,) * 3
    credits = app.state.credits
    assert await learners.find_by_phone(credits=credits, phone=PHONE) is None
    await register(client, "lixiuying", "李秀英", "124", phone=PHONE)


async def test_find_by_phone_finds_the_learner_as_typed(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    await register(client, phone=PHONE)
    credits = app.state.credits
    found = await learners.find_by_phone(credits=credits, phone=" 138-1234-5678 ")
    assert found is not None and found.learner_id == "zhangwei"
    assert await learners.find_by_phone(credits=credits, phone="13812345679") is None
    assert await learners.find_by_phone(credits=credits, phone="zhangwei") is None
