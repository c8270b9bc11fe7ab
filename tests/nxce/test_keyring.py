"""Rotating the secret key: data written under key A, then a service whose current key is
B with A kept as a previous key, then `reencrypt`, then A dropped.

Every id number and phone still reads and is found by lookup; a number stored under A is
still one learner's; transcripts and certificates issued under A verify; sessions, app
tokens and activation codes made under A are still good; the re-encryption moves every
record to B (counted, logged, idempotent); without A, a record under A is a 503 naming
A's key id, never a 500."""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import pytest

from accounts.roster import REGISTERED
from credits.id_numbers import IdNumberVault
from credits.learners import new_learner
from credits.models import Learner
from credits.phones import PhoneVault
from credits.schemas import LearnerCreate
from nxce.app import create_app
from nxce.core import admin_log, clients, db
from nxce.core.clients import Scope
from nxce.core.keys import Keyring, key_id
from nxce.core.secret import KeyMissing, keyring
from nxce.settings import Settings
from tests.accounts.conftest import PASSWORD, app_sign_in, bearer, issue_code
from tests.accounts.roster_support import csv_file, errors_of, person, post_roster
from tests.catalog.programme_support import engineering_project, enrol, result
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET, basic, embedded_settings
from tests.credits.conftest import id_number, learner_body, register
from tests.lrs.conftest import xapi
from tests.nxce.test_store_archive import nxce
from tests.web.test_pages import sign_in
from web.session import COOKIE

KEY_A = "old-key-宁夏-A".encode().hex()  # keys are ASCII: a hex string, as an operator makes
KEY_B = "new-key-宁夏-B".encode().hex()
ID_A, ID_B = key_id(KEY_A.encode()), key_id(KEY_B.encode())
ZHANG_ID = id_number("123")
LI_ID = id_number("124")
ZHANG_PHONE = "13895001234"
AUDITOR = basic("pingshen", "pingshen-secret")


@pytest.fixture
def settings(tmp_path: Path, search_index: Path) -> Settings:
    """The first service: key A alone."""
    shutil.copytree(search_index, tmp_path / "search")
    return embedded_settings(tmp_path, secret_key=KEY_A)


@asynccontextmanager
async def serving(settings: Settings, store: Any) -> AsyncIterator[httpx.AsyncClient]:
    """A service over `store` (kept across services: a restart with other keys)."""
    application = create_app(settings, store=store)
    async with application.router.lifespan_context(application):
        if not application.state.indexer.ready:
            await application.state.indexer.wait()
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http


async def _written_under_a(http: httpx.AsyncClient) -> dict[str, Any]:
    """Learners, a transcript, a certificate, a web session, an app's tokens and an
    unused activation code, all under key A."""
    await register(http, "zhangwei", "张伟", "123", phone=ZHANG_PHONE)
    await register(http, "lixiuying", "李秀英", "124")
    await clients.create(
        key="pingshen", name="工程系列评审委员会", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    await clients.create(
        key="zw-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zw-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    made: dict[str, Any] = {}
    transcript = await http.get(
        "/learners/zhangwei/transcript", params={"format": "json"}, headers=ADMIN
    )
    assert transcript.status_code == 200, transcript.text
    made["transcript_code"] = transcript.json()["verification_code"]
    project = await engineering_project(http)
    assert (await enrol(http, project["id"], "zhangwei")).status_code == 201
    passed = await result(http, project["id"], "zhangwei")
    assert passed.status_code == 201, passed.text
    made["certificate_code"] = passed.json()["certificate"]["verification_code"]
    assert (await sign_in(http, "zw-web", "zw-web-secret")).status_code == 303
    made["cookie"] = http.cookies[COOKIE]
    code = (await issue_code(http, "zhangwei"))["code"]
    activation = {"account": "zhangwei", "code": code, "password": PASSWORD}
    assert (await http.post("/auth/activate", json=activation)).status_code == 204
    made["app"] = await app_sign_in(http)
    made["li_code"] = (await issue_code(http, "lixiuying"))["code"]
    return made


async def _status(http: httpx.AsyncClient) -> dict[str, Any]:
    response = await http.get("/admin/keys", headers=ADMIN)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def _full(http: httpx.AsyncClient, learner_id: str) -> dict[str, Any]:
    response = await http.get(f"/learners/{learner_id}", headers=AUDITOR)
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


async def test_a_rotation_keeps_data_codes_and_sessions_then_reencrypt_moves_all_to_b(
    settings: Settings, store_copy: Any
) -> None:
    async with serving(settings, store_copy) as http:
        made = await _written_under_a(http)
        assert (await _status(http))["id_numbers"] == {ID_A: 2}

    rotated = embedded_settings(
        settings.data_dir, secret_key=KEY_B, secret_keys_previous=f"{KEY_A}\n"
    )
    async with serving(rotated, store_copy) as http:
        status = await _status(http)
        assert (status["current"], status["previous"]) == (ID_B, [ID_A])
        assert (status["id_numbers"], status["phones"]) == ({ID_A: 2}, {ID_A: 1})
        assert status["not_current"] == 3 and status["missing"] == []

        # every number reads, and is found by lookup (sign-in by id number and by phone)
        zhang = await _full(http, "zhangwei")
        assert (zhang["id_number"], zhang["phone"]) == (ZHANG_ID, ZHANG_PHONE)
        assert (await _full(http, "lixiuying"))["id_number"] == LI_ID
        for account in (ZHANG_ID, "138 9500 1234"):
            signed = await app_sign_in(http, account=account, device="荣耀 X50")
            assert signed["access_token"]

        # a number stored under A is still one learner's
        twin = {"id": "zhangwei2", "name": "张伟", "id_number": ZHANG_ID}
        body = {**learner_body(), **twin}
        refused = await http.post("/learners", json=body, headers=ADMIN)
        assert refused.status_code == 409, refused.text
        same_phone = {**body, "id_number": id_number("555"), "phone": ZHANG_PHONE}
        refused = await http.post("/learners", json=same_phone, headers=ADMIN)
        assert refused.status_code == 409, refused.text
        changed = await http.patch(
            "/learners/lixiuying", json={"id_number": ZHANG_ID}, headers=ADMIN
        )
        assert changed.status_code == 409, changed.text
        rows = [person(1, id_number=ZHANG_ID), person(2, phone=ZHANG_PHONE), person(3)]
        checked = await post_roster(http, csv_file(rows), dry_run="true")
        assert checked.status_code == 200, checked.text
        refused = errors_of(checked.json())
        assert [(field, why) for field, _, why in refused[2]] == [("id_number", REGISTERED)]
        assert [(field, why) for field, _, why in refused[3]] == [("phone", REGISTERED)]
        assert 4 not in refused

        # issued under A: still genuine
        for code in (made["transcript_code"], made["certificate_code"]):
            check = await http.get(f"/verify/{code}")
            assert check.status_code == 200 and check.json()["genuine"] is True, check.text

        # a session, an access token, a refresh token and an activation code made under A
        http.cookies.set(COOKIE, made["cookie"])
        assert (await http.get("/me")).status_code == 200
        token = made["app"]["access_token"]
        mine = await http.get("/xapi/statements", headers=xapi(auth=bearer(token)))
        assert mine.status_code == 200, mine.text
        refreshed = await http.post(
            "/auth/refresh", json={"refresh_token": made["app"]["refresh_token"]}
        )
        assert refreshed.status_code == 200, refreshed.text
        li = {"account": LI_ID, "code": made["li_code"], "password": PASSWORD}
        assert (await http.post("/auth/activate", json=li)).status_code == 204

        # new writes go under B
        await register(http, "wanghaiyan", "王海燕", "321", phone="13995002222")
        assert (await _status(http))["id_numbers"] == {ID_A: 2, ID_B: 1}

        # re-encrypt: everything moves to B, once
        moved = await http.post("/admin/keys/reencrypt", params={"batch": 10}, headers=ADMIN)
        assert moved.status_code == 200, moved.text
        answer = moved.json()
        assert answer["current_key"] == ID_B and answer["learners"] == 3
        assert answer["moved"] == {"id_number": 2, "phone": 1}
        assert answer["missing_key"] == answer["duplicates"] == answer["changing"] == []
        again = await http.post("/admin/keys/reencrypt", headers=ADMIN)
        assert again.json()["moved"] == {"id_number": 0, "phone": 0}
        status = await _status(http)
        assert (status["id_numbers"], status["phones"]) == ({ID_B: 3}, {ID_B: 2})
        assert status["not_current"] == 0
        logged = await admin_log.entries(area=admin_log.Area.learners)
        runs = [line for line in logged if line.action == "keys.reencrypted"]
        assert [line.detail["moved"] for line in runs] == [
            {"id_number": 0, "phone": 0},
            {"id_number": 2, "phone": 1},
        ]
        assert runs[-1].by == "admin" and ID_B in runs[-1].summary
        assert ZHANG_ID not in str(runs[-1].detail) and KEY_B not in str(runs[-1].detail)

    # A dropped: the data at rest still reads; codes signed with A no longer verify
    only_b = embedded_settings(settings.data_dir, secret_key=KEY_B)
    async with serving(only_b, store_copy) as http:
        zhang = await _full(http, "zhangwei")
        assert (zhang["id_number"], zhang["phone"]) == (ZHANG_ID, ZHANG_PHONE)
        assert (await app_sign_in(http, account=ZHANG_ID, device="小米 14"))["access_token"]
        check = await http.get(f"/verify/{made['transcript_code']}")
        assert check.status_code == 404 and check.json()["genuine"] is False, check.text


async def test_a_record_under_a_key_left_out_of_the_ring_is_a_503_naming_it(
    settings: Settings, store_copy: Any
) -> None:
    async with serving(settings, store_copy) as http:
        await register(http, "zhangwei", "张伟", "123", phone=ZHANG_PHONE)
        await clients.create(
            key="pingshen", name="工程系列评审委员会", scopes=[Scope.auditor],
            secret="pingshen-secret",
        )  # fmt: skip
    forgotten = embedded_settings(settings.data_dir, secret_key=KEY_B)  # A not kept
    async with serving(forgotten, store_copy) as http:
        response = await http.get("/learners/zhangwei", headers=AUDITOR)
        assert response.status_code == 503, response.text
        assert response.headers["content-type"].startswith("application/problem+json")
        assert ID_A in response.json()["detail"] and ZHANG_ID not in response.text
        status = await _status(http)
        assert status["missing"] == [ID_A]
        run = (await http.post("/admin/keys/reencrypt", headers=ADMIN)).json()
        assert run["moved"] == {"id_number": 0, "phone": 0}
        assert run["missing_key"] == [
            f"zhangwei: id_number under {ID_A}",
            f"zhangwei: phone under {ID_A}",
        ]
        # the auditor's page: a message naming the key, never a 500
        assert (await sign_in(http, "pingshen", "pingshen-secret")).status_code == 303
        page = await http.get("/auditor/learners/zhangwei")
        assert page.status_code == 503 and "text/html" in page.headers["content-type"]
        assert ID_A in page.text and "无法读取个人信息" in page.text and ZHANG_ID not in page.text
        # the number written under A is not seen without A: the operator was told (status)
        masked = await http.get("/learners/zhangwei", headers=ADMIN)
        assert masked.status_code == 200 and masked.json()["id_number"].startswith("640102")


async def test_the_keys_admin_routes_are_for_admins_and_refuse_unknown_parameters(
    client: httpx.AsyncClient,
) -> None:
    assert (await client.get("/admin/keys")).status_code == 401
    await clients.create(
        key="pingshen", name="评审", scopes=[Scope.auditor], secret="pingshen-secret"
    )
    assert (await client.get("/admin/keys", headers=AUDITOR)).status_code == 403
    assert (await client.post("/admin/keys/reencrypt", headers=AUDITOR)).status_code == 403
    wrong = await client.post("/admin/keys/reencrypt", params={"batch": "大"}, headers=ADMIN)
    assert wrong.status_code == 422 and "batch" in wrong.text
    unknown = await client.get("/admin/keys", params={"key": "x"}, headers=ADMIN)
    assert unknown.status_code == 422 and "key" in unknown.text


def test_the_ring_comes_from_the_variables_or_from_secret_key_in_the_data_directory(
    tmp_path: Path,
) -> None:
    given = embedded_settings(
        tmp_path, secret_key=KEY_B, secret_keys_previous=f" {KEY_A} ,\nolder-key-3\n"
    )
    assert keyring(given).secrets == (KEY_B.encode(), KEY_A.encode(), b"older-key-3")
    assert not (tmp_path / "secret.key").exists()  # the variables' ring: nothing written

    alone = embedded_settings(tmp_path, secret_keys_previous=KEY_A)
    with pytest.raises(KeyMissing, match="NXCE_SECRET_KEYS_PREVIOUS is set but NXCE_SECRET_KEY"):
        keyring(alone)
    twice = embedded_settings(tmp_path, secret_key=KEY_B, secret_keys_previous=KEY_B)
    with pytest.raises(KeyMissing, match=f"holds secret key {ID_B} twice"):
        keyring(twice)

    made = keyring(embedded_settings(tmp_path))  # nothing set: made once, mode 600
    path = tmp_path / "secret.key"
    assert path.stat().st_mode & 0o777 == 0o600 and len(made.secrets) == 1
    path.write_text(f"{KEY_B}\n{made.current.decode()}\n", encoding="ascii")
    assert keyring(embedded_settings(tmp_path)).ids == (ID_B, made.current_id)
    path.write_text("\n\n", encoding="ascii")
    with pytest.raises(KeyMissing, match="holds no key"):
        keyring(embedded_settings(tmp_path))


@pytest.fixture
def rotated(data: Path) -> tuple[str, str]:
    """The tiny store's data directory after `nxce keys rotate`: (new id, old id)."""
    old = (data / "secret.key").read_text(encoding="ascii").strip()
    result = nxce(data, "keys", "rotate")
    assert result.exit_code == 0, result.output
    new = (data / "secret.key").read_text(encoding="ascii").split()[0]
    return key_id(new.encode()), key_id(old.encode())


def test_the_keys_commands_go_through_the_service_that_holds_the_directory(
    data: Path, rotated: tuple[str, str], running: str
) -> None:
    new, old = rotated
    admin = ("--url", running, "--client", ADMIN_KEY, "--secret", ADMIN_SECRET)
    status = nxce(data, "keys", "status", *admin)
    assert status.exit_code == 0, status.output
    assert f"current {new}" in status.output and f"previous: {old}" in status.output
    assert f"id numbers by key: {old}: 1" in status.output
    moved = nxce(data, "keys", "reencrypt", *admin)
    assert moved.exit_code == 0, moved.output
    assert f"through the service (process {os.getpid()})" in moved.output
    assert "learners read: 1; re-keyed: 1 id numbers" in moved.output
    after = nxce(data, "keys", "status", *admin)
    assert f"id numbers by key: {new}: 1" in after.output
    without = nxce(data, "keys", "reencrypt", "--url", running)
    assert without.exit_code == 1 and "give an admin client" in without.output
    refused = nxce(data, "keys", "rotate", NXCE_SECRET_KEY="set-by-the-operator")
    assert refused.exit_code == 2 and "nxce keys new" in refused.output


def test_keys_new_prints_a_random_key_and_its_id(tmp_path: Path) -> None:
    made = [nxce(tmp_path, "keys", "new") for _ in range(2)]
    assert all(result.exit_code == 0 for result in made)
    keys = [result.stdout.strip() for result in made]
    assert keys[0] != keys[1] and all(len(key) >= 64 for key in keys)
    assert all("," not in key and "\n" not in key for key in keys)
    assert f"key id: {key_id(keys[0].encode())}" in made[0].stderr


async def test_reencrypt_leaves_and_names_a_number_two_learners_hold_under_two_keys(
    settings: Settings, store_copy: Any
) -> None:
    """Two records of one number can only come from before the check across keys (made
    here by writing the store directly): re-keying the old one would break the unique
    index, so it is left, named, and the rest moves."""
    async with serving(settings, store_copy) as http:
        await register(http, "zhangwei", "张伟", "123")
        await register(http, "lixiuying", "李秀英", "124")
    rotated = embedded_settings(settings.data_dir, secret_key=KEY_B, secret_keys_previous=KEY_A)
    async with serving(rotated, store_copy) as http:
        twin = learner_body("zhangwei-b", "张伟", "123")
        ring = Keyring.of(KEY_B.encode(), KEY_A.encode())
        vaults: Any = SimpleNamespace(vault=IdNumberVault(ring), phones=PhoneVault(ring))
        await db.collection(Learner).insert_one(
            db.new_document(new_learner(vaults, LearnerCreate(**twin), db.now()))
        )
        moved = await http.post("/admin/keys/reencrypt", headers=ADMIN)
        assert moved.status_code == 200, moved.text
        assert moved.json()["moved"] == {"id_number": 1, "phone": 0}  # 李秀英's
        assert moved.json()["duplicates"] == ["zhangwei: id_number"]
        assert (await _status(http))["id_numbers"] == {ID_A: 1, ID_B: 2}


def test_serve_stops_before_starting_on_a_wrong_keyring(tmp_path: Path) -> None:
    result = nxce(tmp_path, "serve", NXCE_SECRET_KEYS_PREVIOUS=KEY_A)
    assert result.exit_code == 2
    assert "NXCE_SECRET_KEYS_PREVIOUS is set but NXCE_SECRET_KEY is not" in result.output
    assert KEY_A not in result.output
