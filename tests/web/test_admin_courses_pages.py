"""The admin's course pages: the list with search and filters, a course's page with its
history, create, edit (a concurrent edit refused, showing what changed), retire and
restore, the bulk import (dry run, then apply); refusals naming the field and the value;
log lines; everyone but admins refused, forms refused without their CSRF token."""

from __future__ import annotations

import html
import re

import httpx
import pytest

from nxce.core import admin_log, clients
from nxce.core.clients import Scope
from tests.catalog.test_course_import import HEADER_ZH, NEW_ROW, csv_file
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.web.test_pages import sign_in, token

PAGE = "/admin/courses/GX-0001"


def revision_of(page: str) -> str:
    found = re.search(r'name="revision" value="(\d+)"', page)
    assert found, page
    return found.group(1)


def form_of(page: str) -> dict[str, str]:
    """The edit form's fields as the page fills them in."""
    fields = dict(re.findall(r'<input id="f-(\w+)" name="\w+" value="([^"]*)"', page))
    for name in ("category", "series", "delivery"):
        select = re.search(rf'<select id="f-{name}".*?</select>', page, re.S)
        assert select, name
        chosen = re.search(r'<option(?: value="([^"]*)")? selected>([^<]*)<', select.group(0))
        assert chosen, name
        fields[name] = chosen.group(1) if chosen.group(1) is not None else chosen.group(2)
    area = re.search(r'<textarea id="f-description"[^>]*>(.*?)</textarea>', page, re.S)
    assert area
    fields["description"] = area.group(1)
    return {k: html.unescape(v) for k, v in fields.items()}


async def as_admin(client: httpx.AsyncClient, page: str = PAGE) -> str:
    """Sign `client` in as the admin; answers the CSRF token of `page`."""
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    response = await client.get(page)
    assert response.status_code == 200, response.text
    return token(response.text)


async def test_the_list_searches_and_filters_and_pages(client: httpx.AsyncClient) -> None:
    await as_admin(client)
    everything = await client.get("/admin/courses")
    assert "共 4344 门课程" in everything.text and "第 1 / 218 页" in everything.text
    codes = re.findall(r'<a href="/admin/courses/([A-Z0-9-]+)">\1</a>', everything.text)
    assert len(codes) == 20 and codes == sorted(codes)
    assert 'aria-current="page">课程</a>' in everything.text
    health = await client.get("/admin/courses", params={"series": "卫生", "page": "2"})
    assert health.status_code == 200 and "第 2 / " in health.text
    assert set(re.findall(r'data-label="系列">([^<]*)<', health.text)) == {"卫生"}
    found = await client.get("/admin/courses", params={"q": "枸杞"})
    assert found.status_code == 200 and "与“枸杞”相关" in found.text
    assert "枸杞" in found.text.split("<tbody>")[1]
    refused = await client.get("/admin/courses", params={"category": "公需"})
    assert refused.status_code == 422 and "类别 category" in refused.text and "公需" in refused.text
    page_zero = await client.get("/admin/courses", params={"page": "0"})
    assert page_zero.status_code == 422 and "页码 page" in page_zero.text


async def test_retired_courses_are_listed_apart_and_found_by_text(
    client: httpx.AsyncClient,
) -> None:
    csrf = await as_admin(client)
    retired = await client.post(f"{PAGE}/retire", data={"csrf": csrf})
    assert retired.status_code == 303 and retired.headers["location"] == PAGE + "?done=retired"
    page = await client.get(PAGE)
    assert "课程已停用" in page.text and "恢复发布" in page.text
    listed = await client.get("/admin/courses", params={"status": "retired"})
    assert "共 1 门课程" in listed.text and "GX-0001" in listed.text
    by_text = await client.get("/admin/courses", params={"status": "retired", "q": "核心要义"})
    rows = by_text.text.split("<tbody>")[1]
    assert "共 1 门课程" in by_text.text and "GX-0001" in rows and "已停用" in rows

    def total(page: str) -> int:
        found = re.search(r"共 (\d+) 门课程", page)
        assert found, page
        return int(found.group(1))

    either = await client.get("/admin/courses", params={"status": "any", "q": "核心要义"})
    only = await client.get("/admin/courses", params={"q": "核心要义"})
    assert total(either.text) == total(only.text) + 1  # published hits, then the retired
    published = await client.get("/admin/courses", params={"q": "gx-0001"})
    assert "GX-0001</a>" not in published.text and "共 0 门课程" in published.text
    by_code = await client.get("/admin/courses", params={"q": "gx-000", "status": "any"})
    assert "共 9 门课程" in by_code.text and "GX-0001</a>" in by_code.text
    restored = await client.post(f"{PAGE}/restore", data={"csrf": csrf})
    assert restored.status_code == 303
    assert "课程已恢复发布" in (await client.get(restored.headers["location"])).text
    actions = [line.action for line in await admin_log.entries(target="GX-0001")]
    assert actions == ["course.restored", "course.retired"]


async def test_an_edit_is_saved_and_shown_in_the_history(client: httpx.AsyncClient) -> None:
    await as_admin(client)
    page = await client.get(PAGE)
    assert "课程名称" in page.text and "修改记录（1）" in page.text
    form = {**form_of(page.text), "hours": "2", "csrf": token(page.text)}
    form["revision"] = revision_of(page.text)
    saved = await client.post(f"{PAGE}/edit", data=form)
    assert saved.status_code == 303, saved.text
    after = await client.get(saved.headers["location"])
    assert "修改已保存" in after.text and "修改记录（2）" in after.text
    assert "<li>学时：1.5 → 2</li>" in after.text and f"<span>{ADMIN_KEY}</span>" in after.text
    api = (await client.get("/courses/GX-0001")).json()
    assert api["hours"] == 2.0 and api["title"] == form["title"] and api["tags"]
    line = (await admin_log.entries(target="GX-0001"))[0]
    assert line.action == "course.updated" and line.detail["changes"] == {
        "hours": {"from": 1.5, "to": 2.0}
    }
    same = await client.post(f"{PAGE}/edit", data={**form, "revision": revision_of(after.text)})
    assert same.headers["location"].endswith("?done=unchanged")


async def test_a_refused_edit_names_the_field_and_value_and_keeps_the_input(
    client: httpx.AsyncClient,
) -> None:
    await as_admin(client)
    page = await client.get(PAGE)
    form = {**form_of(page.text), "csrf": token(page.text), "revision": revision_of(page.text)}
    form.update(hours="1.3", title="新时代的核心要义（修订）")
    refused = await client.post(f"{PAGE}/edit", data=form)
    assert refused.status_code == 422
    assert "学时（hours）：须以 0.5 学时为单位，收到“1.3”" in refused.text
    assert 'value="新时代的核心要义（修订）"' in refused.text and 'value="1.3"' in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert (await client.get("/courses/GX-0001")).json()["hours"] == 1.5
    professional = {**form, "hours": "2", "category": "professional", "series": ""}
    series = await client.post(f"{PAGE}/edit", data=professional)
    assert series.status_code == 422
    assert "系列（series）：专业课须填 23 个系列之一，收到“”" in series.text


async def test_a_concurrent_edit_is_refused_showing_what_changed(
    client: httpx.AsyncClient,
) -> None:
    await as_admin(client)
    page = await client.get(PAGE)
    form = {**form_of(page.text), "csrf": token(page.text), "revision": revision_of(page.text)}
    other = await client.patch(
        "/courses/GX-0001", json={"title": "核心要义（第二版）", "year": 2022}, headers=ADMIN
    )
    assert other.status_code == 200
    form["hours"] = "3"
    refused = await client.post(f"{PAGE}/edit", data=form)
    assert refused.status_code == 409
    text = refused.text
    assert (
        "这门课程已被修改" in text
        and f"第 {int(form['revision']) + 1} 版 · 修改 · {ADMIN_KEY}" in text
    )
    assert f"<li>课程名称：{form['title']} → 核心要义（第二版）</li>" in text
    assert "<li>年度：2021 → 2022</li>" in text
    assert 'id="f-hours" name="hours" value="3"' in text  # the admin's input kept
    assert (await client.get("/courses/GX-0001")).json()["hours"] == 1.5
    again = {**form, "revision": revision_of(text)}
    assert (await client.post(f"{PAGE}/edit", data=again)).status_code == 303
    assert (await client.get("/courses/GX-0001")).json()["hours"] == 3.0


async def test_a_course_is_created_and_a_taken_code_refused(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client, "/admin/courses/new")
    form = {
        "csrf": csrf, "code": "ws-9501", "title": "医疗纠纷预防与处理", "category": "professional",
        "series": "卫生", "subject": "医院管理", "hours": "1.5", "year": "2022",
        "base": "宁夏医学继续教育培训中心", "delivery": "web", "tags": "医患沟通、法规",
        "description": "案例教学。\n第二行。",
    }  # fmt: skip
    created = await client.post("/admin/courses/new", data=form)
    assert created.status_code == 303 and created.headers["location"].endswith(
        "WS-9501?done=created"
    )
    course = (await client.get("/courses/WS-9501")).json()
    assert course["tags"] == ["医患沟通", "法规"] and course["delivery"] == "web"
    assert course["description"] == "案例教学。\n第二行。"
    taken = await client.post("/admin/courses/new", data=form)
    assert taken.status_code == 422 and "“WS-9501”已被另一门课程使用" in taken.text
    blank = await client.post("/admin/courses/new", data={**form, "code": "WS-9502", "title": ""})
    assert blank.status_code == 422 and "课程名称（title）" in blank.text
    assert (await client.get("/courses/WS-9502")).status_code == 404
    line = (await admin_log.entries(target="WS-9501"))[0]
    assert (
        line.action == "course.created" and line.summary == "新建课程 WS-9501《医疗纠纷预防与处理》"
    )


async def test_an_import_dry_run_then_apply_from_the_page(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client, "/admin/courses/import")
    content = csv_file(
        [
            HEADER_ZH,
            NEW_ROW,
            ["GX-0001", "", "", "", "", "1.3", "", "", ""],
            ["GX-0002", "", "", "", "", "", "", "", ""],
        ]
    )
    files = {"file": ("课程.csv", content, "text/csv")}
    dry = await client.post(
        "/admin/courses/import", data={"csrf": csrf, "mode": "dry"}, files=files
    )
    assert dry.status_code == 200, dry.text
    assert "试运行结果（共 3 行）" in dry.text and "被拒绝的行（2）" in dry.text
    assert "学时：须以 0.5 学时为单位（收到“1.3”）" in dry.text
    sha256 = re.search(r'name="sha256" value="([0-9a-f]{64})"', dry.text)
    plan = re.search(r'name="plan" value="([0-9a-f]+)"', dry.text)
    assert sha256 and plan
    digests = {"sha256": sha256.group(1), "plan": plan.group(1)}
    apply = {"csrf": csrf, "mode": "apply", **digests}
    whole = await client.post("/admin/courses/import", data=apply, files=files)
    assert whole.status_code == 422 and "没有写入任何内容" in whole.text
    assert (await client.get("/courses/WS-9101")).status_code == 404
    changed = {"file": ("课程.csv", content + b"WS-9999,x\r\n", "text/csv")}
    other = await client.post(
        "/admin/courses/import", data={**apply, "rows": "valid"}, files=changed
    )
    assert other.status_code == 409 and "文件与试运行时的不是同一个" in other.text
    valid = await client.post("/admin/courses/import", data={**apply, "rows": "valid"}, files=files)
    assert valid.status_code == 303, valid.text
    done = await client.get(valid.headers["location"])
    assert "导入完成。批量导入课程文件「课程.csv」：新建 1 门，修改 0 门" in done.text
    assert (await client.get("/courses/WS-9101")).json()["hours"] == 2.5


@pytest.mark.parametrize("scope", [Scope.auditor, Scope.statements_read_mine])
async def test_everyone_but_admins_is_refused(client: httpx.AsyncClient, scope: Scope) -> None:
    learner = {"learner_id": "zhangwei"} if scope == Scope.statements_read_mine else {}
    await clients.create(
        key="other-web", name="其他", scopes=[scope], secret="other-web-secret-1", **learner
    )
    assert (await sign_in(client, "other-web", "other-web-secret-1")).status_code == 303
    csrf = token((await client.get("/")).text)
    for path in ("/admin/courses", PAGE, "/admin/courses/new", "/admin/courses/import"):
        response = await client.get(path)
        assert response.status_code == 403 and "仅限管理员" in response.text, path
    for path in (f"{PAGE}/edit", f"{PAGE}/retire", f"{PAGE}/restore", "/admin/courses/new"):
        response = await client.post(path, data={"csrf": csrf, "hours": "2", "revision": "1"})
        assert response.status_code == 403, path
    files = {"file": ("c.csv", csv_file([HEADER_ZH, NEW_ROW]), "text/csv")}
    imported = await client.post("/admin/courses/import", data={"csrf": csrf}, files=files)
    assert imported.status_code == 403
    assert (await client.get("/courses/GX-0001")).json()["status"] == "published"
    assert (await client.get("/courses/WS-9101")).status_code == 404


async def test_forms_need_the_sessions_csrf_token(client: httpx.AsyncClient) -> None:
    await as_admin(client)
    for path in (f"{PAGE}/retire", "/admin/courses/new"):
        response = await client.post(path, data={"csrf": "forged"})
        assert response.status_code == 403 and "表单已过期" in response.text
    assert (await client.get("/courses/GX-0001")).json()["status"] == "published"
    signed_out = httpx.AsyncClient(transport=client._transport, base_url=str(client.base_url))
    async with signed_out:
        response = await signed_out.get("/admin/courses")
        assert (
            response.status_code == 303
            and "/signin?next=%2Fadmin%2Fcourses" in response.headers["location"]
        )
