"""The admin's learner pages: find by the beginning of a name or an employer (paged), or by
a full id number (exact, throttled, in the trail and the admin log; a fragment finds
nothing); a learner's profile corrected, a title appended and a wrong one corrected, each
in the admin log (id numbers and phones never in clear) and followed by the audit;
everyone but admins refused."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from credits import lookup, personal
from credits.models import AuditEvent, ConflictWindow, EventKind, RecomputeMark
from nxce.core import clients
from nxce.core.admin_log import AdminAction, Area
from nxce.core.clients import Scope
from tests.accounts.roster_support import csv_file, person, post_roster
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import ZHANG_WEI, audit, id_number, register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.account_support import other as other  # a second browser
from tests.web.test_pages import sign_in, token

FIND = "/admin/learners"
PAGE = "/admin/learners/zhangwei"


async def as_admin(client: httpx.AsyncClient, page: str = FIND) -> str:
    """Sign `client` in as the admin; answers the CSRF token of `page`."""
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    answer = await client.get(page)
    assert answer.status_code == 200, answer.text
    return token(answer.text)


async def lines(action: str | None = None) -> list[AdminAction]:
    query: dict[str, Any] = {"area": Area.learners.value}
    if action:
        query["action"] = action
    return await AdminAction.find(query).sort("+at").to_list()


def names(page: str) -> list[str]:
    return re.findall(r'<a class="title" href="/admin/learners/[^"]+">([^<]+)</a>', page)


async def test_learners_are_found_by_the_beginning_of_a_name_or_an_employer(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(client)  # 张伟, 宁夏建工集团有限公司
    await register(client, "zhangli", "张丽", "124", employer="银川市第一人民医院", series="卫生")
    await register(client, "wangfang", "王芳", "125", employer="宁夏建工集团第二分公司")
    await as_admin(client)

    by_name = await client.get(FIND, params={"q": "张", "by": "name"})
    assert by_name.status_code == 200
    assert sorted(names(by_name.text)) == ["张丽", "张伟"]
    assert "640102********1239" in by_name.text and ZHANG_WEI not in by_name.text
    by_employer = await client.get(FIND, params={"q": "宁夏建工", "by": "employer"})
    assert sorted(names(by_employer.text)) == ["张伟", "王芳"]
    # the beginning only: a part from the middle finds nobody
    middle = await client.get(FIND, params={"q": "建工", "by": "employer"})
    assert names(middle.text) == [] and "没有工作单位以“建工”开头的学员" in middle.text
    exact_id = await client.get(FIND, params={"q": "wangfang"})
    assert names(exact_id.text) == ["王芳"]

    monkeypatch.setattr(lookup, "PER_PAGE", 1)
    first = await client.get(FIND, params={"q": "张", "by": "name"})
    assert len(names(first.text)) == 1 and 'rel="next"' in first.text
    second = await client.get(FIND, params={"q": "张", "by": "name", "page": "2"})
    assert len(names(second.text)) == 1 and 'rel="prev"' in second.text
    assert 'rel="next"' not in second.text
    assert names(first.text) != names(second.text)


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": "张", "page": "x"}, "页码 page 应为 1 到 500 的整数，收到 &#39;x&#39;"),
        ({"q": "张", "page": "999"}, "页码（page）无效：must be 1 to 500，收到 999"),
        ({"q": "张\x01伟"}, "查找内容（q）无效：must not contain control characters"),
    ],
)
async def test_bad_find_parameters_are_named(
    client: httpx.AsyncClient, params: dict[str, str], words: str
) -> None:
    await register(client)
    await as_admin(client)
    answer = await client.get(FIND, params=params)
    assert answer.status_code == 422, answer.text
    assert words in answer.text


async def test_a_full_id_number_finds_the_learner_and_is_recorded_without_the_number(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    csrf = await as_admin(client)
    spaced = f"{ZHANG_WEI[:6]} {ZHANG_WEI[6:14]} {ZHANG_WEI[14:]}".lower()
    answer = await client.post(f"{FIND}/lookup", data={"csrf": csrf, "id_number": spaced})
    assert answer.status_code == 303 and answer.headers["location"] == f"{PAGE}?done=lookup"
    page = await client.get(answer.headers["location"])
    assert "已按完整身份证号找到这位学员" in page.text and ZHANG_WEI not in page.text

    events = await AuditEvent.find(AuditEvent.kind == EventKind.id_number_lookup).to_list()
    assert [(e.by, e.learner_id, e.detail["found"]) for e in events] == [
        (ADMIN_KEY, "zhangwei", True)
    ]
    [line] = await lines("learner.id_number_lookup")
    assert line.by == ADMIN_KEY and line.target == "zhangwei"
    assert line.summary == "按完整身份证号查找学员：找到 张伟（zhangwei）"
    assert [x.action for x in await lines() if "lookup" in x.action] == [line.action]  # once
    everything = json.dumps(
        [e.model_dump(mode="json") for e in [*events, line]], ensure_ascii=False
    )
    assert ZHANG_WEI not in everything and ZHANG_WEI[6:14] not in everything


async def test_a_number_no_one_has_finds_nobody_and_is_recorded(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    csrf = await as_admin(client)
    nobody = id_number("999")
    answer = await client.post(f"{FIND}/lookup", data={"csrf": csrf, "id_number": nobody})
    assert answer.status_code == 200
    assert f"没有身份证号为 {nobody[:6]}********{nobody[-4:]} 的学员" in answer.text
    assert nobody not in answer.text
    [event] = await AuditEvent.find(AuditEvent.kind == EventKind.id_number_lookup).to_list()
    assert event.learner_id == "" and event.detail == {"found": False, "where": f"{FIND}/lookup"}
    [line] = await lines("learner.id_number_lookup")
    assert line.summary == "按完整身份证号查找学员：没有找到" and line.target == ""


@pytest.mark.parametrize(
    "fragment",
    [
        ZHANG_WEI[6:14],  # the date of birth
        ZHANG_WEI[:14],  # region and date of birth
        ZHANG_WEI[-4:],  # the last four, as masked numbers show them
        ZHANG_WEI[:17],  # all but the check digit
        ZHANG_WEI[:17] + "0",  # a wrong check digit
    ],
)
async def test_a_fragment_of_an_id_number_finds_nothing(
    client: httpx.AsyncClient, fragment: str
) -> None:
    await register(client)
    csrf = await as_admin(client)
    answer = await client.post(f"{FIND}/lookup", data={"csrf": csrf, "id_number": fragment})
    assert answer.status_code == 422
    assert "身份证号（id_number）无效" in answer.text
    assert 'href="/admin/learners/zhangwei"' not in answer.text and names(answer.text) == []
    assert fragment not in answer.text  # not echoed (masked, or its length only)
    assert await AuditEvent.find(AuditEvent.kind == EventKind.id_number_lookup).count() == 0
    assert await ConflictWindow.find({"key": {"$regex": "^lookup"}}).count() == 0  # not counted


async def test_lookups_are_throttled_per_admin_in_the_store(
    client: httpx.AsyncClient, other: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await register(client)
    monkeypatch.setattr(personal, "LOOKUP_LIMITS", ((60, 2), (86_400, 200)))
    csrf = await as_admin(client)
    for sequence in ("901", "902"):
        data = {"csrf": csrf, "id_number": id_number(sequence)}
        assert (await client.post(f"{FIND}/lookup", data=data)).status_code == 200
    refused = await client.post(f"{FIND}/lookup", data={"csrf": csrf, "id_number": ZHANG_WEI})
    assert refused.status_code == 429 and "按身份证号查找过于频繁" in refused.text
    assert 1 <= int(refused.headers["retry-after"]) <= 61
    assert 'href="/admin/learners/zhangwei"' not in refused.text
    found = await AuditEvent.find(AuditEvent.kind == EventKind.id_number_lookup).count()
    assert found == 2  # the refused one read nothing
    minute = {"key": {"$regex": f"^lookup\\|{ADMIN_KEY}\\|60\\|"}}
    assert [w.held for w in await ConflictWindow.find(minute).to_list()] == [2]
    # another admin has a count of its own
    await clients.create(
        key="admin2", name="管理员二", scopes=[Scope.admin], secret="admin2-secret"
    )
    assert (await sign_in(other, "admin2", "admin2-secret")).status_code == 303
    mine = token((await other.get(FIND)).text)
    data = {"csrf": mine, "id_number": ZHANG_WEI}
    assert (await other.post(f"{FIND}/lookup", data=data)).status_code == 303


async def test_the_profile_is_corrected_and_the_log_says_what_changed(
    client: httpx.AsyncClient,
) -> None:
    await register(client, phone="13812345678")
    csrf = await as_admin(client, PAGE)
    page = await client.get(PAGE)
    assert "640102********1239" in page.text and "138****5678" in page.text
    assert ZHANG_WEI not in page.text and "13812345678" not in page.text
    new_number = id_number("321")
    form = {
        "csrf": csrf, "revision": "1", "name": "张炜", "employer": "宁夏建工集团第三分公司",
        "series": "工程", "degree": "master", "email": "", "phone": "139 0951 2345",
        "id_number": new_number,
    }  # fmt: skip
    done = await client.post(f"{PAGE}/profile", data=form)
    assert done.status_code == 303 and done.headers["location"] == f"{PAGE}?done=profile"
    after = await client.get(done.headers["location"])
    assert "档案已更正" in after.text and "张炜 的档案" in after.text
    assert "宁夏建工集团第三分公司" in after.text and "硕士研究生" in after.text
    assert (
        "139****2345" in after.text and f"{new_number[:6]}********{new_number[-4:]}" in after.text
    )

    learner = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert learner["name"] == "张炜" and learner["revision"] == 2
    assert names((await client.get(FIND, params={"q": "张炜"})).text) == ["张炜"]
    assert names((await client.get(FIND, params={"q": "张伟"})).text) == []  # the old name
    third = {"q": "宁夏建工集团第三", "by": "employer"}  # longer than the keys: the pattern
    assert names((await client.get(FIND, params=third)).text) == ["张炜"]
    [line] = await lines("learner.updated")
    assert line.by == ADMIN_KEY and line.target == "zhangwei"
    assert "姓名 张伟 → 张炜" in line.summary and "学历 大学本科 → 硕士研究生" in line.summary
    assert "身份证号已更正" in line.summary and "手机号已更正" in line.summary
    assert line.detail["fields"]["name"] == {"from": "张伟", "to": "张炜"}
    assert line.detail["fields"]["id_number"] == "身份证号已更正"
    shown = json.dumps(line.model_dump(mode="json"), ensure_ascii=False)
    for secret in (ZHANG_WEI, new_number, "13812345678", "13909512345"):
        assert secret not in shown
    assert "张炜" in after.text.split('id="learner-log"')[1]  # the page lists it


async def test_a_stale_form_is_refused_and_changes_nothing(client: httpx.AsyncClient) -> None:
    await register(client)
    csrf = await as_admin(client, PAGE)
    patched = await client.patch("/learners/zhangwei", json={"name": "张卫"}, headers=ADMIN)
    assert patched.status_code == 200
    form = {"csrf": csrf, "revision": "1", "name": "张炜", "employer": "宁夏建工集团有限公司",
            "series": "工程", "degree": "bachelor", "email": ""}  # fmt: skip
    refused = await client.post(f"{PAGE}/profile", data=form)
    assert refused.status_code == 409 and "已被修改" in refused.text
    assert 'value="张炜"' in refused.text  # what was typed is kept
    learner = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert learner["name"] == "张卫"


async def test_bad_profile_fields_are_named(client: httpx.AsyncClient) -> None:
    await register(client)
    csrf = await as_admin(client, PAGE)
    base = {"csrf": csrf, "revision": "1", "name": "张伟", "employer": "宁夏建工集团有限公司",
            "series": "工程", "degree": "bachelor", "email": ""}  # fmt: skip
    for change, words in (
        ({"name": " "}, "姓名（name）无效"),
        ({"series": "魔法"}, "系列（series）无效"),
        ({"email": "不是邮箱"}, "电子邮箱（email）无效"),
        ({"id_number": ZHANG_WEI[:17] + "0"}, "身份证号（id_number）无效"),
        ({"phone": "12345"}, "手机号（phone）无效"),
        ({"degree": "wizard"}, "学历（degree）无效"),
    ):
        refused = await client.post(f"{PAGE}/profile", data=base | change)
        assert refused.status_code == 422, (change, refused.text)
        assert words in refused.text, (change, refused.text)
    assert await lines("learner.updated") == []


async def test_a_title_is_appended_and_a_wrong_one_corrected_and_the_audit_follows(
    client: httpx.AsyncClient,
) -> None:
    """刘洋 holds a master's degree: his years in post (from his title's date, §一(二)) set
    what the audit requires; correcting that date changes the verdict at once."""
    await register(client, degree="master", title_level="junior", title_obtained_on="2016-07-01")
    before = await audit(client)
    assert before["required"] == {"total": 360, "public": 120}
    csrf = await as_admin(client, PAGE)
    appended = await client.post(
        f"{PAGE}/titles", data={"csrf": csrf, "revision": "1", "level": "intermediate",
                                "obtained_on": "2023-07-01"},
    )  # fmt: skip
    assert appended.status_code == 303 and appended.headers["location"] == f"{PAGE}?done=title"
    corrected = await client.post(
        f"{PAGE}/titles/1/correction",
        data={"csrf": csrf, "revision": "2", "level": "junior", "obtained_on": "2019-07-01",
              "reason": "按职称证书原件更正取得日期"},
    )  # fmt: skip
    assert corrected.status_code == 303, corrected.text
    page = await client.get(corrected.headers["location"])
    assert "职称记录已更正" in page.text and "职称记录（2 条）" in page.text
    history = page.text.split('id="title-history"')[1].split("</table>")[0]
    assert "2019-07-01" in history and "2016-07-01" not in history and "2023-07-01" in history

    learner = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert learner["titles"] == [
        {"level": "junior", "obtained_on": "2019-07-01"},
        {"level": "intermediate", "obtained_on": "2023-07-01"},
    ]
    assert learner["title_level"] == "intermediate"
    after = await audit(client)  # 2022 held junior since 2019: 2019-2021 in post
    assert after["required"] == {"total": 270, "public": 90}
    assert await RecomputeMark.find_all().count() == 0

    [added] = await lines("title.appended")
    assert added.summary == "为学员 张伟（zhangwei）添加职称：中级（2023-07-01）"
    [fixed] = await lines("title.corrected")
    assert fixed.detail["from"] == {"level": "junior", "obtained_on": "2016-07-01"}
    assert fixed.detail["to"] == {"level": "junior", "obtained_on": "2019-07-01"}
    assert fixed.detail["reason"] == "按职称证书原件更正取得日期" and fixed.detail["entry"] == 1
    assert "初级（2016-07-01） → 初级（2019-07-01）" in fixed.summary
    log = page.text.split('id="learner-log"')[1]
    assert "初级（2016-07-01） → 初级（2019-07-01）" in log and "添加职称：中级" in log


async def test_a_correction_that_would_reorder_the_history_is_refused(
    client: httpx.AsyncClient,
) -> None:
    await register(client)  # junior since 2016-07-01
    patch = {"title_level": "intermediate", "title_obtained_on": "2020-07-01"}
    assert (await client.patch("/learners/zhangwei", json=patch, headers=ADMIN)).status_code == 200
    csrf = await as_admin(client, PAGE)
    for data, words in (
        ({"level": "junior", "obtained_on": "2021-01-01"}, "取得日期（obtained_on）无效"),
        ({"level": "senior", "obtained_on": "2016-07-01"}, "职称（level）无效"),
        ({"level": "junior", "obtained_on": "2016-07-01", "reason": " "}, "更正原因"),
        ({"level": "none", "obtained_on": "2016-07-01"}, "职称（level）应为"),
        ({"level": "junior", "obtained_on": "2016-13-01"}, "取得日期（obtained_on）应为日期"),
    ):
        form = {"csrf": csrf, "revision": "2", "reason": "核对证书"} | data
        refused = await client.post(f"{PAGE}/titles/1/correction", data=form)
        assert refused.status_code == 422, (data, refused.text)
        assert words in refused.text, (data, refused.text)
        assert 'id="correction-1-error"' in refused.text
    missing = await client.post(
        f"{PAGE}/titles/3/correction",
        data={"csrf": csrf, "revision": "2", "level": "junior", "reason": "核对"},
    )
    assert missing.status_code == 422 and "记录序号（entry）无效" in missing.text
    assert 'id="page-error"' in missing.text
    learner = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert [t["obtained_on"] for t in learner["titles"]] == ["2016-07-01", "2020-07-01"]
    assert await lines("title.corrected") == []


async def test_the_api_corrects_a_title_and_logs_registrations_and_patches(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    path = "/learners/zhangwei/titles/1/correction"
    body = {"level": "junior", "obtained_on": "2017-07-01", "reason": "证书日期核对有误"}
    answer = await client.post(path, json=body, headers=ADMIN)
    assert answer.status_code == 200, answer.text
    assert answer.json()["titles"] == [{"level": "junior", "obtained_on": "2017-07-01"}]
    assert answer.json()["title_obtained_on"] == "2017-07-01"
    stale = await client.post(path, json=body | {"revision": 1}, headers=ADMIN)
    assert stale.status_code == 409
    bad = await client.post(path, json=body | {"reason": ""}, headers=ADMIN)
    assert bad.status_code == 422 and "reason" in bad.text
    learner_client = await client.patch(
        "/learners/zhangwei", json={"employer": "宁夏大学"}, headers=ADMIN
    )
    assert learner_client.status_code == 200
    actions = [(line.action, line.target) for line in await lines()]
    assert actions == [
        ("learner.registered", "zhangwei"),
        ("title.corrected", "zhangwei"),
        ("learner.updated", "zhangwei"),
    ]
    [registered] = await lines("learner.registered")
    assert registered.summary == "登记学员 张伟（zhangwei），宁夏建工集团有限公司"
    assert ZHANG_WEI not in json.dumps(registered.model_dump(mode="json"))


async def _learner_session(http: httpx.AsyncClient) -> None:
    await clients.create(
        key="zhangwei-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zhangwei-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    assert (await sign_in(http, "zhangwei-web", "zhangwei-web-secret")).status_code == 303


async def _auditor_session(http: httpx.AsyncClient) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    assert (await sign_in(http, "pingshen-web", "pingshen-web-secret")).status_code == 303


async def _base_session(http: httpx.AsyncClient) -> None:
    await clients.create(
        key="jidi-web", name="继续教育基地", scopes=[Scope.base],
        secret="jidi-web-secret-1", base_id="some-base",
    )  # fmt: skip
    assert (await sign_in(http, "jidi-web", "jidi-web-secret-1")).status_code == 303


@pytest.mark.parametrize("session", [_learner_session, _auditor_session, _base_session])
async def test_learners_auditors_and_bases_are_refused_every_page_and_form(
    client: httpx.AsyncClient, other: httpx.AsyncClient, session: object
) -> None:
    await register(client)
    assert callable(session)
    await session(other)
    for path in (FIND, f"{FIND}?q=张", PAGE):
        page = await other.get(path)
        assert page.status_code == 403 and "仅限管理员" in page.text, path
    csrf = token((await other.get("/")).text)
    forms = (
        (f"{FIND}/lookup", {"id_number": ZHANG_WEI}),
        (f"{PAGE}/profile", {"revision": "1", "name": "李四", "employer": "某单位",
                             "series": "工程", "degree": "bachelor"}),
        (f"{PAGE}/titles", {"revision": "1", "level": "senior", "obtained_on": "2024-01-01"}),
        (f"{PAGE}/titles/1/correction", {"revision": "1", "level": "senior", "reason": "x"}),
    )  # fmt: skip
    for path, data in forms:
        refused = await other.post(path, data={"csrf": csrf, **data})
        assert refused.status_code == 403 and "仅限管理员" in refused.text, path
    assert await AuditEvent.find(AuditEvent.kind == EventKind.id_number_lookup).count() == 0
    learner = (await client.get("/learners/zhangwei", headers=ADMIN)).json()
    assert learner["name"] == "张伟" and learner["revision"] == 1


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    await register(client)
    await as_admin(client)
    for data in ({}, {"csrf": "not-the-token"}):
        lookup_answer = await client.post(f"{FIND}/lookup", data={**data, "id_number": ZHANG_WEI})
        assert lookup_answer.status_code == 403 and "表单已过期" in lookup_answer.text
        form = {**data, "revision": "1", "level": "senior", "obtained_on": "2024-01-01"}
        assert (await client.post(f"{PAGE}/titles", data=form)).status_code == 403
    assert await AuditEvent.find(AuditEvent.kind == EventKind.id_number_lookup).count() == 0
    assert await lines("title.appended") == []


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    answer = await client.get(PAGE)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/signin?next=%2Fadmin%2Flearners%2Fzhangwei"


async def test_names_with_markup_are_escaped_and_unknown_learners_are_404(
    client: httpx.AsyncClient,
) -> None:
    await register(client, name="张<b>伟</b>")
    await as_admin(client)
    found = await client.get(FIND, params={"q": "张<b>"})
    assert "张&lt;b&gt;伟&lt;/b&gt;" in found.text and "<b>伟" not in found.text
    page = await client.get(PAGE)
    assert "张&lt;b&gt;伟&lt;/b&gt; 的档案" in page.text
    missing = await client.get("/admin/learners/nobody")
    assert missing.status_code == 404 and "没有这位学员" in missing.text


async def test_a_roster_import_is_one_line_of_the_log(client: httpx.AsyncClient) -> None:
    rows = [person(1), person(2), person(3)]
    dry = await post_roster(client, csv_file(rows))
    assert dry.status_code == 200 and await lines("learner.roster_registered") == []
    applied = await post_roster(client, csv_file(rows), dry_run="false")
    assert applied.status_code == 200, applied.text
    created = [row["learner_id"] for row in applied.json()["rows"]]
    [line] = await lines("learner.roster_registered")
    assert line.by == ADMIN_KEY and line.summary == "花名册导入登记 3 位学员"
    assert line.detail == {"created": 3, "learner_ids": created, "more": 0}
    assert await lines("learner.registered") == []  # one line per import, not per learner
    shown = json.dumps(line.model_dump(mode="json"), ensure_ascii=False)
    assert all(row["id_number"] not in shown for row in rows)


async def test_an_erasure_is_in_the_log_without_the_name(client: httpx.AsyncClient) -> None:
    await register(client, name="马晓燕")
    reason = "本人书面申请（2026-12-01）"
    erased = await client.post("/learners/zhangwei/erasure", json={"reason": reason}, headers=ADMIN)
    assert erased.status_code == 200, erased.text
    [line] = [x for x in await lines() if "eras" in x.action]  # one line: the trail's
    assert (
        line.action == "trail.erasure"
        and line.target == "zhangwei"
        and line.detail == {"reason": reason}
    )
    assert "马晓燕" not in line.summary and reason in line.summary
    await as_admin(client)
    page = await client.get(PAGE)
    assert page.status_code == 200 and "个人信息已应本人申请删除" in page.text
    assert 'action="/admin/learners/zhangwei/profile"' not in page.text  # nothing to correct


async def test_the_auditor_page_links_to_the_learner_page_for_admins_only(
    client: httpx.AsyncClient, other: httpx.AsyncClient
) -> None:
    await register(client)
    await as_admin(client)
    link = f'href="{PAGE}">档案管理'
    assert link in (await client.get("/auditor/learners/zhangwei")).text
    assert 'href="/auditor/learners/zhangwei">学时审验' in (await client.get(PAGE)).text
    await _auditor_session(other)
    assert link not in (await other.get("/auditor/learners/zhangwei")).text
