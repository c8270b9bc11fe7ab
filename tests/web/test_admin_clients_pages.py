"""The admin's pages of client accounts (/admin/clients) and their JSON API (/clients): a
client registered with its secret shown once (never again, never logged), a new secret,
disable and enable taking effect at once; refusals that name the field and the value;
learners, auditors and bases refused every page and form; forms refused without their
CSRF token."""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable

import httpx
import pytest

from nxce.core import admin_log, clients
from nxce.core.admin_log import Area
from nxce.core.clients import Client, Scope
from tests.accounts.conftest import PASSWORD, activated
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET, basic
from tests.credits.conftest import register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.account_support import other as other  # a second browser
from tests.web.test_pages import sign_in, token

LIST = "/admin/clients"
SECRET = re.compile(r'id="issued-secret">([^<]+)</code>')
XAPI = {"X-Experience-API-Version": "1.0.3"}
NO_BASE = "65f000000000000000000000"


async def works(http: httpx.AsyncClient, key: str, secret: str) -> int:
    headers = {**XAPI, **basic(key, secret)}
    return (await http.get("/xapi/statements", headers=headers)).status_code


async def as_admin(http: httpx.AsyncClient) -> str:
    """Sign `http` in as the admin; answers the list page's CSRF token."""
    assert (await sign_in(http, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    page = await http.get(LIST)
    assert page.status_code == 200, page.text
    return token(page.text)


async def create(http: httpx.AsyncClient, csrf: str, **fields: object) -> httpx.Response:
    data = {"csrf": csrf, "name": "测试客户端", "scopes": ["all/read"], **fields}
    return await http.post(LIST, data=data)


def secret_of(response: httpx.Response) -> str:
    found = SECRET.search(response.text)
    assert found, response.text
    return found.group(1)


async def count() -> int:
    return await Client.find_all().count()


# --- the pages ---------------------------------------------------------------------------


async def test_an_admin_creates_a_client_and_its_secret_is_shown_once(
    client: httpx.AsyncClient,
) -> None:
    csrf = await as_admin(client)
    form = await client.get(LIST)
    assert "新建客户端账号" in form.text and 'name="key" maxlength="64" value="nx_' in form.text
    created = await create(
        client,
        csrf,
        name="银川市人社局 学时同步",
        key="yinchuan-sync",
        scopes=["statements/read", "statements/write"],
    )
    assert created.status_code == 201, created.text
    assert created.headers["cache-control"] == "no-store"
    secret = secret_of(created)
    assert "只显示这一次" in created.text and 'data-secret-page="/admin/clients/yinchuan-sync"'
    assert '<script src="/static/secret.js" defer>' in created.text
    assert 'id="copy-secret"' in created.text and "复制密钥" in created.text
    assert await works(client, "yinchuan-sync", secret) == 200

    page = await client.get("/admin/clients/yinchuan-sync")
    assert page.status_code == 200
    assert secret not in page.text and "issued-secret" not in page.text
    assert "银川市人社局 学时同步" in page.text and "提交学习记录、读取学习记录" in page.text
    assert "从未使用" not in page.text  # it authenticated a moment ago
    assert "新建客户端账号 yinchuan-sync（银川市人社局 学时同步）" in page.text  # its history
    listed = await client.get(LIST)
    assert secret not in listed.text and 'href="/admin/clients/yinchuan-sync"' in listed.text
    [line] = await admin_log.entries(area=Area.clients, target="yinchuan-sync")
    assert line.by == ADMIN_KEY and secret not in repr(line.model_dump())


async def test_the_random_key_offered_by_the_form_is_the_one_created(
    client: httpx.AsyncClient,
) -> None:
    csrf = await as_admin(client)
    offered = re.search(
        r'name="key" maxlength="64" value="(nx_[0-9a-f]+)"', (await client.get(LIST)).text
    )
    assert offered
    created = await create(client, csrf, key=offered.group(1))
    assert created.status_code == 201
    again = await create(client, csrf, key=offered.group(1))  # the form posted twice
    assert again.status_code == 409 and f"账号“{offered.group(1)}”已存在" in again.text


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"name": "  "}, "请填写名称"),
        ({"name": "甲" * 101}, "名称最多 100 个字，收到 101 个字"),
        ({"key": "银川"}, "账号“银川”不合格式"),
        ({"scopes": []}, "请至少选择一项权限"),
        ({"scopes": ["superuser"]}, "没有“superuser”这项权限"),
        ({"scopes": ["base", "all"]}, "“继续教育基地”权限只能单独授予"),
        ({"scopes": ["base"]}, "“继续教育基地”账号须选择它代表的基地"),
        ({"base_id": NO_BASE}, "只有“继续教育基地”权限的账号才代表基地"),
        (
            {"scopes": ["base"], "base_id": "65f000000000000000000000"},
            "没有编号为“65f000000000000000000000”的基地",
        ),
        ({"learner_id": "nobody"}, "学员编号“nobody”尚未登记"),
    ],
)
async def test_a_refused_client_names_the_field_and_value_and_nothing_is_written(
    client: httpx.AsyncClient, fields: dict[str, object], words: str
) -> None:
    csrf = await as_admin(client)
    before = await count()
    refused = await create(client, csrf, **{"name": "固原 <审核>", **fields})
    assert refused.status_code == 422, refused.text
    assert words in refused.text and 'role="alert"' in refused.text
    assert "issued-secret" not in refused.text
    if "name" not in fields:
        assert 'value="固原 &lt;审核&gt;"' in refused.text  # kept, escaped
    assert await count() == before
    assert await admin_log.entries(area=Area.clients) == []


async def test_a_base_client_and_a_learner_client_are_created_bound(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    base = (await client.get("/bases")).json()[0]
    csrf = await as_admin(client)
    assert f'<option value="{base["id"]}">{base["name"]}</option>' in (await client.get(LIST)).text
    made = await create(client, csrf, key="jidi-1", scopes=["base"], base_id=base["id"])
    assert made.status_code == 201 and f"基地 {base['name']}" in made.text
    made = await create(
        client, csrf, key="zhangwei-app", scopes=["statements/write"], learner_id="zhangwei"
    )
    assert made.status_code == 201
    assert '学员 <a href="/auditor/learners/zhangwei">zhangwei</a>' in made.text
    stored = await clients.get(key="jidi-1")
    assert stored.base_id == base["id"] and stored.scopes == [Scope.base]


async def test_a_new_secret_from_the_page_replaces_the_old_one_at_once(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    csrf = await as_admin(client)
    first = secret_of(await create(client, csrf, key="sync-1"))
    assert await works(client, "sync-1", first) == 200
    assert (await sign_in(other, "sync-1", first)).status_code == 303
    assert "退出（测试客户端）" in (await other.get("/")).text
    renewed = await client.post("/admin/clients/sync-1/secret", data={"csrf": csrf})
    assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
    second = secret_of(renewed)
    assert second != first and "原密钥已立即失效" in renewed.text
    assert await works(client, "sync-1", first) == 401
    assert await works(client, "sync-1", second) == 200
    assert second not in (await client.get("/admin/clients/sync-1")).text
    assert "退出（测试客户端）" not in (await other.get("/")).text  # its session ended


async def test_an_admin_renewing_their_own_secret_stays_signed_in(
    client: httpx.AsyncClient,
) -> None:
    csrf = await as_admin(client)
    renewed = await client.post(f"/admin/clients/{ADMIN_KEY}/secret", data={"csrf": csrf})
    assert renewed.status_code == 200
    secret = secret_of(renewed)
    page = await client.get(LIST)  # the new session's cookie
    assert page.status_code == 200
    assert await works(client, ADMIN_KEY, ADMIN_SECRET) == 401
    assert await works(client, ADMIN_KEY, secret) == 200


async def test_a_disabled_client_is_refused_at_once_and_enabled_again(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    csrf = await as_admin(client)
    secret = secret_of(await create(client, csrf, key="pingshen-1", scopes=["auditor"]))
    assert (await sign_in(other, "pingshen-1", secret)).status_code == 303
    assert (await other.get("/auditor")).status_code == 200

    done = await client.post("/admin/clients/pingshen-1/disable", data={"csrf": csrf})
    assert done.status_code == 303
    assert done.headers["location"] == "/admin/clients/pingshen-1?done=disabled"
    after = await client.get(done.headers["location"])
    assert "已停用该账号" in after.text and "重新启用" in after.text
    assert (await other.get("/auditor")).status_code == 303  # its session ends at once
    assert await works(client, "pingshen-1", secret) == 401
    assert "<strong>已停用</strong>" in (await client.get(f"{LIST}?state=disabled")).text

    done = await client.post("/admin/clients/pingshen-1/enable", data={"csrf": csrf})
    assert done.headers["location"] == "/admin/clients/pingshen-1?done=enabled"
    assert await works(client, "pingshen-1", secret) == 403  # known again; no xAPI scope
    assert (await other.get("/auditor")).status_code == 200
    actions = [line.action for line in await admin_log.entries(target="pingshen-1")]
    assert actions == ["client.enabled", "client.disabled", "client.created"]


async def test_an_admin_cannot_disable_their_own_client(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client)
    page = await client.get(f"/admin/clients/{ADMIN_KEY}")
    assert "停用此账号" not in page.text and "不能由你自己停用" in page.text
    refused = await client.post(f"/admin/clients/{ADMIN_KEY}/disable", data={"csrf": csrf})
    assert refused.status_code == 409 and "不能停用自己正在使用的账号" in refused.text
    assert not (await clients.get(key=ADMIN_KEY)).disabled


async def test_the_list_filters_by_name_scope_and_state_a_page_at_a_time(
    client: httpx.AsyncClient,
) -> None:
    for n in range(30):
        await clients.register(
            by=ADMIN_KEY, name=f"固原市 审核 {n:02d}", scopes=[Scope.auditor], key=f"guyuan-{n:02d}"
        )
    await clients.register(by=ADMIN_KEY, name="吴忠 应用", scopes=[Scope.all], key="wuzhong")
    await as_admin(client)
    first = await client.get(LIST, params={"q": "固原", "scope": "auditor"})
    assert "符合条件的账号 30 个" in first.text
    assert "guyuan-24" in first.text and "guyuan-25" not in first.text
    following = re.search(r'href="([^"]+)">下一页', first.text)
    assert following
    second = await client.get(following.group(1).replace("&amp;", "&"))
    assert "guyuan-25" in second.text and "guyuan-29" in second.text and "下一页" not in second.text
    assert "wuzhong" not in second.text and "第一页" in second.text
    assert "吴忠 应用" in (await client.get(LIST, params={"scope": "all"})).text
    for params, words in (
        ({"scope": "superuser"}, "没有“superuser”这项权限"),
        ({"state": "sleeping"}, "状态只能是“启用中”或“已停用”，收到“sleeping”"),
        ({"q": "宁" * 101}, "按名称查找最多 100 个字，收到 101 个字"),
    ):
        refused = await client.get(LIST, params=params)
        assert refused.status_code == 422 and words in refused.text


async def test_names_with_markup_are_escaped(client: httpx.AsyncClient) -> None:
    await clients.register(
        by=ADMIN_KEY, name="<script>alert(1)</script>石嘴山", scopes=[Scope.all], key="szs"
    )
    await as_admin(client)
    for path in (LIST, "/admin/clients/szs"):
        text = (await client.get(path)).text
        assert "<script>alert(1)</script>" not in text
        assert "&lt;script&gt;alert(1)&lt;/script&gt;石嘴山" in text


async def test_an_unknown_client_is_a_404_page(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client)
    for response in (
        await client.get("/admin/clients/nobody"),
        await client.post("/admin/clients/nobody/secret", data={"csrf": csrf}),
        await client.post("/admin/clients/nobody/disable", data={"csrf": csrf}),
        await client.post("/admin/clients/nobody/enable", data={"csrf": csrf}),
    ):
        assert response.status_code == 404 and "没有这个客户端账号" in response.text
        assert response.headers["content-type"].startswith("text/html")


async def test_forms_without_the_csrf_token_are_refused_and_change_nothing(
    client: httpx.AsyncClient,
) -> None:
    await clients.register(by=ADMIN_KEY, name="应用", scopes=[Scope.all], key="app-1")
    await as_admin(client)
    before = await count()
    for data in ({}, {"csrf": "not-the-token"}):
        for path in (LIST, "/admin/clients/app-1/secret", "/admin/clients/app-1/disable"):
            refused = await client.post(path, data={**data, "name": "新", "scopes": "all"})
            assert refused.status_code == 403 and "表单已过期" in refused.text
            assert "issued-secret" not in refused.text
    assert await count() == before and not (await clients.get(key="app-1")).disabled
    assert len(await admin_log.entries(area=Area.clients)) == 1  # its creation only


async def _learner_session(http: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    await activated(admin)
    assert (await sign_in(http, "zhangwei", PASSWORD)).status_code == 303


async def _auditor_session(http: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    assert (await sign_in(http, "pingshen-web", "pingshen-web-secret")).status_code == 303


async def _base_session(http: httpx.AsyncClient, admin: httpx.AsyncClient) -> None:
    await clients.create(
        key="jidi-web", name="继续教育基地", scopes=[Scope.base],
        secret="jidi-web-secret-1", base_id="some-base",
    )  # fmt: skip
    assert (await sign_in(http, "jidi-web", "jidi-web-secret-1")).status_code == 303


Session = Callable[[httpx.AsyncClient, httpx.AsyncClient], Awaitable[None]]


@pytest.mark.parametrize("session", [_learner_session, _auditor_session, _base_session])
async def test_learners_auditors_and_bases_are_refused_every_page_and_form(
    client: httpx.AsyncClient, other: httpx.AsyncClient, session: Session
) -> None:
    await clients.register(by=ADMIN_KEY, name="应用", scopes=[Scope.all], key="app-1")
    await session(other, client)
    page = await other.get(LIST)
    assert page.status_code == 403 and "仅限管理员" in page.text
    csrf = token(page.text)  # the session's own token (its sign-out form): not the reason
    assert (await other.get("/admin/clients/app-1")).status_code == 403
    before = await count()
    for path in (
        LIST,
        "/admin/clients/app-1/secret",
        "/admin/clients/app-1/disable",
        "/admin/clients/app-1/enable",
    ):
        refused = await other.post(path, data={"csrf": csrf, "name": "新", "scopes": "admin"})
        assert refused.status_code == 403 and "仅限管理员" in refused.text, path
    assert await count() == before and not (await clients.get(key="app-1")).disabled
    assert len(await admin_log.entries(area=Area.clients)) == 1


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get("/admin/clients/app-1")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fadmin%2Fclients%2Fapp-1"
    posted = await client.post("/admin/clients/app-1/disable", data={"csrf": "x"})
    assert posted.headers["location"] == "/signin?next=%2Fadmin%2Fclients%2Fapp-1"


# --- the JSON API ------------------------------------------------------------------------


async def test_the_api_registers_a_client_with_its_secret_in_that_answer_only(
    client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = {"name": "固原市 审核", "scopes": ["auditor"], "key": "guyuan-audit"}
    made = await client.post("/clients", json=body, headers=ADMIN)
    assert made.status_code == 201, made.text
    assert made.headers["location"] == "/clients/guyuan-audit"
    assert made.headers["cache-control"] == "no-store"
    issued = made.json()
    assert issued["name"] == "固原市 审核" and issued["scopes"] == ["auditor"]
    assert issued["disabled"] is False and issued["last_used_at"] is None
    secret = issued["secret"]
    assert await works(client, "guyuan-audit", secret) in (200, 403)  # authenticated

    read = await client.get("/clients/guyuan-audit", headers=ADMIN)
    assert read.status_code == 200 and "secret" not in read.json()
    assert read.json()["last_used_at"] is not None
    listed = (await client.get("/clients", params={"scope": "auditor"}, headers=ADMIN)).json()
    assert [c["key"] for c in listed["clients"]] == ["guyuan-audit"] and listed["total"] == 1
    assert secret not in repr(listed)

    renewed = await client.post("/clients/guyuan-audit/secret", headers=ADMIN)
    assert renewed.status_code == 200 and renewed.headers["cache-control"] == "no-store"
    assert renewed.json()["secret"] != secret
    disabled = await client.post("/clients/guyuan-audit/disable", headers=ADMIN)
    assert disabled.status_code == 200 and disabled.json()["disabled"] is True
    assert await works(client, "guyuan-audit", renewed.json()["secret"]) == 401
    enabled = await client.post("/clients/guyuan-audit/enable", headers=ADMIN)
    assert enabled.json()["disabled"] is False
    lines = await admin_log.entries(area=Area.clients, target="guyuan-audit")
    assert [line.action for line in lines] == [
        "client.enabled",
        "client.disabled",
        "client.secret_renewed",
        "client.created",
    ]
    assert all(secret not in repr(line.model_dump()) for line in lines)
    assert (
        caplog.records and secret not in caplog.text and renewed.json()["secret"] not in caplog.text
    )


async def test_the_api_pages_through_clients(client: httpx.AsyncClient) -> None:
    for n in range(5):
        await clients.register(by=ADMIN_KEY, name=f"应用 {n}", scopes=[Scope.all], key=f"app-{n}")
    first = (
        await client.get("/clients", params={"limit": 3, "name": "应用"}, headers=ADMIN)
    ).json()
    assert [c["key"] for c in first["clients"]] == ["app-0", "app-1", "app-2"]
    assert (
        first["total"] == 5
        and first["next"] == "/clients?limit=3&name=%E5%BA%94%E7%94%A8&after=app-2"
    )
    second = (await client.get(first["next"], headers=ADMIN)).json()
    assert [c["key"] for c in second["clients"]] == ["app-3", "app-4"] and second["next"] is None


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"scopes": ["superuser"]}, "scopes", "superuser"),
        ({"scopes": []}, "scopes", "at least 1"),
        ({"name": "  "}, "name", "must not be blank"),
        ({"key": "银川"}, "key", "'银川'"),
        ({"scopes": ["base"], "base_id": "65f000000000000000000000"}, "base_id", "no such base"),
        ({"scopes": ["base", "all"], "base_id": "x"}, "scopes", "holds no other scope"),
        ({"learner_id": "nobody"}, "learner_id", "'nobody'"),
        ({"colour": "red"}, "colour", "unknown field 'colour'"),
    ],
)
async def test_the_api_refuses_naming_the_field_and_value(
    client: httpx.AsyncClient, body: dict[str, object], field: str, words: str
) -> None:
    before = await count()
    refused = await client.post(
        "/clients", json={"name": "测试", "scopes": ["all"], **body}, headers=ADMIN
    )
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert field in problem["detail"] and words in refused.text
    assert await count() == before


async def test_the_api_answers_conflicts_and_missing_clients(client: httpx.AsyncClient) -> None:
    body = {"name": "一", "scopes": ["all"], "key": "taken-1"}
    assert (await client.post("/clients", json=body, headers=ADMIN)).status_code == 201
    taken = await client.post("/clients", json=body, headers=ADMIN)
    assert taken.status_code == 409 and "'taken-1' already exists" in taken.json()["detail"]
    itself = await client.post(f"/clients/{ADMIN_KEY}/disable", headers=ADMIN)
    assert itself.status_code == 409 and "cannot disable itself" in itself.json()["detail"]
    for method, path in (
        ("GET", "/clients/nobody"),
        ("POST", "/clients/nobody/secret"),
        ("POST", "/clients/nobody/disable"),
        ("POST", "/clients/nobody/enable"),
    ):
        missing = await client.request(method, path, headers=ADMIN)
        assert missing.status_code == 404 and "'nobody'" in missing.json()["detail"]


async def test_the_api_is_for_admins_only(client: httpx.AsyncClient) -> None:
    await clients.create(key="reader-1", name="读", scopes=[Scope.all], secret="reader-secret-1")
    reader = basic("reader-1", "reader-secret-1")
    for method, path in (
        ("GET", "/clients"),
        ("POST", "/clients"),
        ("GET", "/clients/reader-1"),
        ("POST", "/clients/reader-1/secret"),
        ("POST", "/clients/reader-1/disable"),
    ):
        assert (await client.request(method, path, headers=reader)).status_code == 403
        assert (await client.request(method, path)).status_code == 401
    assert await works(client, "reader-1", "reader-secret-1") == 200


async def test_the_api_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/clients"]) == {"get", "post"}
    assert "201" in paths["/clients"]["post"]["responses"]
    assert "409" in paths["/clients/{key}/disable"]["post"]["responses"]
    for path in ("/clients/{key}", "/clients/{key}/secret", "/clients/{key}/enable"):
        assert "404" in next(iter(paths[path].values()))["responses"]
    assert not any(p.startswith("/admin/clients") for p in paths)
