"""The client service administrators use (nxce/core/clients.py): register with a secret
shown once, a new secret, disable and enable, each with its line in the administrative log
and never the secret; the last enabled admin kept, also against two disables at once; a
disabled client refused at once; "last used" written at most once a minute."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import httpx
import pytest
from fastapi import FastAPI

from nxce.core import admin_log, clients, db
from nxce.core.admin_log import Area
from nxce.core.clients import Client, Scope
from nxce.core.errors import Conflict, NotFound, Unprocessable
from tests.conftest import ADMIN_KEY, basic

STATEMENTS = "/xapi/statements"
XAPI = {"X-Experience-API-Version": "1.0.3"}


async def statements_as(http: httpx.AsyncClient, key: str, secret: str) -> int:
    response = await http.get(STATEMENTS, headers={**XAPI, **basic(key, secret)})
    return response.status_code


async def stored(key: str) -> Client:
    client = await clients.get_by_key(key=key)
    assert client is not None
    return client


async def test_a_registered_client_works_with_the_secret_shown_once_and_is_logged(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    issued = await clients.register(
        by=ADMIN_KEY,
        name="银川市人社局 学时同步",
        scopes=[Scope.statements_read, Scope.statements_write, Scope.statements_read],
        key="yinchuan-sync",
    )
    assert issued.client.scopes == [Scope.statements_write, Scope.statements_read]
    assert await statements_as(client, "yinchuan-sync", issued.secret) == 200
    saved = await stored("yinchuan-sync")
    assert issued.secret not in saved.secret_hash and saved.name == "银川市人社局 学时同步"

    [line] = await admin_log.entries(area=Area.clients, target="yinchuan-sync")
    assert line.by == ADMIN_KEY and line.action == "client.created"
    assert "银川市人社局 学时同步" in line.summary
    assert line.detail["scopes"] == ["statements/write", "statements/read"]
    assert issued.secret not in repr(line.model_dump())


async def test_a_random_key_is_given_when_none_is_asked(app: FastAPI) -> None:
    issued = await clients.register(by=ADMIN_KEY, name="移动应用", scopes=[Scope.statements_write])
    assert issued.client.key.startswith("nx_")
    clients.check_key(issued.client.key)


@pytest.mark.parametrize(
    ("fields", "named"),
    [
        ({"key": "x"}, "key must be 3-64"),
        ({"name": "   "}, "name: must not be blank"),
        ({"name": "甲" * 101}, "name: must be at most 100"),
        ({"name": "换行\n名字"}, "name: must not contain control characters"),
        ({"scopes": []}, "scopes: give at least one scope"),
        ({"scopes": [Scope.base, Scope.admin], "base_id": "b1"}, "scopes: a client of scope base"),
        ({"scopes": [Scope.base]}, "base_id: a client of scope base names"),
        ({"base_id": "b1"}, "base_id goes with the scope base only"),
    ],
)
async def test_bad_fields_are_refused_naming_them_and_nothing_is_written(
    app: FastAPI, fields: dict[str, object], named: str
) -> None:
    values: dict[str, object] = {"name": "测试", "scopes": [Scope.statements_read], **fields}
    with pytest.raises(Unprocessable) as refused:
        await clients.register(by=ADMIN_KEY, **values)  # type: ignore[arg-type]
    assert named in refused.value.detail
    assert await admin_log.entries(area=Area.clients) == []


async def test_a_taken_key_is_a_conflict(app: FastAPI) -> None:
    await clients.register(by=ADMIN_KEY, name="一", scopes=[Scope.auditor], key="pingshen")
    with pytest.raises(Conflict, match="'pingshen' already exists"):
        await clients.register(by=ADMIN_KEY, name="二", scopes=[Scope.auditor], key="pingshen")
    assert (await stored("pingshen")).name == "一"
    assert len(await admin_log.entries(area=Area.clients)) == 1


async def test_a_new_secret_replaces_the_old_one_at_once(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    first = await clients.register(by=ADMIN_KEY, name="同步", scopes=[Scope.all_read], key="sync")
    assert await statements_as(client, "sync", first.secret) == 200  # remembered as verified
    second = await clients.renew_secret(key="sync", by=ADMIN_KEY)
    assert second.secret != first.secret
    assert await statements_as(client, "sync", first.secret) == 401
    assert await statements_as(client, "sync", second.secret) == 200
    line = (await admin_log.entries(target="sync"))[0]
    assert line.action == "client.secret_renewed" and "新密钥" in line.summary
    assert second.secret not in repr(line.model_dump())
    with pytest.raises(NotFound, match="no client with key 'nobody'"):
        await clients.renew_secret(key="nobody", by=ADMIN_KEY)


async def test_a_disabled_client_is_refused_at_once_and_enabled_again(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    issued = await clients.register(by=ADMIN_KEY, name="基地", scopes=[Scope.all], key="jidi")
    assert await statements_as(client, "jidi", issued.secret) == 200
    disabled = await clients.disable(key="jidi", by=ADMIN_KEY)
    assert disabled.disabled
    assert await statements_as(client, "jidi", issued.secret) == 401  # its secret is cached
    again = await clients.disable(key="jidi", by=ADMIN_KEY)  # no change, no second line
    assert again.disabled
    enabled = await clients.enable(key="jidi", by=ADMIN_KEY)
    assert not enabled.disabled
    assert await statements_as(client, "jidi", issued.secret) == 200
    actions = [line.action for line in await admin_log.entries(target="jidi")]
    assert actions == ["client.enabled", "client.disabled", "client.created"]
    with pytest.raises(NotFound):
        await clients.disable(key="nobody", by=ADMIN_KEY)


async def test_the_last_enabled_admin_cannot_be_disabled(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    second = await clients.register(
        by=ADMIN_KEY, name="管理员二", scopes=[Scope.admin], key="admin2"
    )
    with pytest.raises(Conflict, match="cannot disable itself"):
        await clients.disable(key=ADMIN_KEY, by=ADMIN_KEY)
    await clients.disable(key=ADMIN_KEY, by="admin2")
    with pytest.raises(Conflict, match="'admin2' is the last enabled admin"):
        await clients.disable(key="admin2", by="someone-else")
    assert not (await stored("admin2")).disabled
    assert await statements_as(client, "admin2", second.secret) == 200
    await clients.enable(key=ADMIN_KEY, by="admin2")
    await clients.disable(key="admin2", by=ADMIN_KEY)  # another admin is enabled again


async def test_two_disables_at_once_of_the_last_two_admins_leave_one_enabled(
    app: FastAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each disable is slowed between its count of the other admins and its write, so that
    without the rule's ordering both would count the other admin as enabled, and both
    would commit."""
    await clients.register(by=ADMIN_KEY, name="管理员甲", scopes=[Scope.admin], key="admin-jia")
    await clients.register(by=ADMIN_KEY, name="管理员乙", scopes=[Scope.admin], key="admin-yi")
    await clients.disable(key=ADMIN_KEY, by="admin-jia")
    count = clients._other_admins

    async def slow_count(key: str, session: object) -> int:
        others = await count(key, session)
        await asyncio.sleep(0.02)
        return others

    monkeypatch.setattr(clients, "_other_admins", slow_count)
    outcomes = await asyncio.gather(
        clients.disable(key="admin-jia", by="admin-yi"),
        clients.disable(key="admin-yi", by="admin-jia"),
        return_exceptions=True,
    )
    refused = [o for o in outcomes if isinstance(o, Conflict)]
    assert len(refused) == 1 and "last enabled admin" in refused[0].detail
    admins = await clients.find(scope=Scope.admin, disabled=False)
    assert [c.key for c in admins.clients] in (["admin-jia"], ["admin-yi"])


async def test_last_used_is_written_at_most_once_a_minute(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    issued = await clients.register(by=ADMIN_KEY, name="应用", scopes=[Scope.all], key="app1")
    assert (await stored("app1")).last_used_at is None
    assert await statements_as(client, "app1", issued.secret) == 200
    first = (await stored("app1")).last_used_at
    assert first is not None
    for _ in range(3):
        assert await statements_as(client, "app1", issued.secret) == 200
    assert (await stored("app1")).last_used_at == first  # not a write per request

    earlier = first - timedelta(seconds=61)
    await db.collection(Client).update_one({"key": "app1"}, {"$set": {"last_used_at": earlier}})
    assert await statements_as(client, "app1", issued.secret) == 200
    later = (await stored("app1")).last_used_at
    assert later is not None and later > earlier + timedelta(seconds=60)
    assert await statements_as(client, "app1", "wrong-secret-0000") == 401
    assert (await stored("app1")).last_used_at == later  # a failed attempt is no use


async def test_replicas_that_read_the_same_old_last_used_write_it_once(app: FastAPI) -> None:
    await clients.register(by=ADMIN_KEY, name="应用", scopes=[Scope.all], key="app2")
    seen_by_one, seen_by_other = await stored("app2"), await stored("app2")
    moment = db.now()
    assert await clients.note_used(seen_by_one, at=moment)
    assert not await clients.note_used(seen_by_other, at=moment + timedelta(seconds=1))
    assert (await stored("app2")).last_used_at == moment
    later = moment + timedelta(seconds=61)
    assert await clients.note_used(await stored("app2"), at=later)


async def test_find_filters_by_name_scope_and_state_a_page_at_a_time(app: FastAPI) -> None:
    for n in range(5):
        await clients.register(
            by=ADMIN_KEY, name=f"固原市 审核 {n}", scopes=[Scope.auditor], key=f"guyuan-{n}"
        )
    await clients.register(by=ADMIN_KEY, name="吴忠 (a.b*)", scopes=[Scope.all], key="wuzhong")
    await clients.disable(key="guyuan-3", by=ADMIN_KEY)

    first = await clients.find(name="固原", limit=2)
    assert [c.key for c in first.clients] == ["guyuan-0", "guyuan-1"] and first.total == 5
    second = await clients.find(name="固原", limit=2, after=first.next_after)
    third = await clients.find(name="固原", limit=2, after=second.next_after)
    assert [c.key for c in third.clients] == ["guyuan-4"] and third.next_after is None
    assert (await clients.find(name="(A.B*)")).total == 1  # text, not a pattern; any case
    assert [c.key for c in (await clients.find(disabled=True)).clients] == ["guyuan-3"]
    auditors = await clients.find(scope=Scope.auditor, disabled=False)
    assert auditors.total == 4
