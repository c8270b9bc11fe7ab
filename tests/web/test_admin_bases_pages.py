"""The admin's pages of continuing-education bases (§三): the list with its filters and
counts per status, registering a base, a base's timeline, correcting its fields (a stale
form refused, showing what changed), recording a decision with only the transitions the
service allows, refusals named at their field, and what a back-dated decision changed in
learners' ledgers; everyone but admins refused, forms refused without their CSRF token."""

from __future__ import annotations

import html
import re
from typing import Any

import httpx
import pytest

from catalog import bases as catalog_bases
from catalog.models import Base, BaseStatus
from nxce.core import admin_log
from nxce.core.admin_log import Area
from tests.accounts.conftest import activated
from tests.conftest import ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import ENGINEERING_BASE, REVOKED_BASE, TEACHERS_BASE, base_id
from tests.credits.conftest import settings as settings  # the catalog and bases loaded
from tests.credits.test_recompute import _trained_at_the_engineering_base
from tests.web.account_support import other as other  # a second browser
from tests.web.test_admin_account_page import _auditor_session, _base_session, _learner_session
from tests.web.test_pages import sign_in, token

LIST = "/admin/bases"
NEW_BASE = "固原市卫生专业技术人员培训基地"


async def as_admin(client: httpx.AsyncClient, page: str = LIST) -> str:
    """Sign `client` in as the admin; answers the CSRF token of `page`."""
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303
    answer = await client.get(page)
    assert answer.status_code == 200, answer.text
    return token(answer.text)


def names(page: str) -> list[str]:
    return re.findall(
        r'<td data-label="基地名称"><a href="/admin/bases/[0-9a-f]+">([^<]+)</a>', page
    )


def offered(page: str) -> list[str]:
    return re.findall(r'<input type="radio" name="status" value="([a-z]+)"', page)


def field_error(page: str, field: str) -> str:
    found = re.search(rf'<p class="field-error" id="{field}-error">([^<]*)</p>', page)
    assert found, page
    return html.unescape(found.group(1))


async def test_the_list_shows_every_base_with_counts_per_status_and_filters(
    client: httpx.AsyncClient,
) -> None:
    await as_admin(client)
    page = (await client.get(LIST)).text
    assert len(names(page)) == 12 and names(page) == sorted(names(page))
    assert "共 12 个基地" in page
    counts = dict(re.findall(r'>([^<>]+) <span class="count">(\d+)</span>', page))
    assert counts == {
        "全部": "12",
        "认证": "8",
        "通报表扬": "2",
        "通报批评并限期整改": "0",
        "取消基地资格": "2",
    }

    revoked = (await client.get(LIST, params={"status": "revoked"})).text
    assert sorted(names(revoked)) == sorted([REVOKED_BASE, "固原市基层卫生人员培训中心"])
    assert "2021年9月30日" in revoked  # since when
    national = (await client.get(LIST, params={"level": "national"})).text
    assert names(national) == ["国家专业技术人员继续教育基地（宁夏）"]
    both = (await client.get(LIST, params={"status": "commended", "level": "regional"})).text
    assert sorted(names(both)) == sorted(["宁夏专业技术人员继续教育公共服务中心", TEACHERS_BASE])


@pytest.mark.parametrize(
    ("query", "named"),
    [({"status": "suspended"}, "status"), ({"level": "省级"}, "level"), ({"page": "x"}, "page")],
)
async def test_a_bad_filter_is_a_422_page_naming_the_parameter_and_value(
    client: httpx.AsyncClient, query: dict[str, str], named: str
) -> None:
    await as_admin(client)
    response = await client.get(LIST, params=query)
    assert response.status_code == 422
    assert response.headers["content-type"].startswith("text/html")
    assert f"参数 {named}" in response.text and next(iter(query.values())) in response.text


async def test_an_admin_registers_a_base_and_it_is_logged(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client, "/admin/bases/new")
    form = {
        "csrf": csrf,
        "name": NEW_BASE,
        "level": "municipal",
        "effective_on": "2022-03-01",
        "reason": "经评审认定为市级继续教育基地（固人社发〔2022〕5号）",
    }
    response = await client.post(LIST, data=form)
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.endswith("?done=registered")
    page = (await client.get(location)).text
    assert f"<h1>{NEW_BASE}</h1>" in page and "基地已登记" in page
    assert "固人社发〔2022〕5号" in page and "市级" in page and f"由 {ADMIN_KEY} 于" in page
    base = await Base.find_one(Base.name == NEW_BASE)
    assert base is not None and base.status == "certified"
    [line] = await admin_log.entries(area=Area.bases, target=str(base.id))
    assert (line.action, line.by) == ("base.registered", ADMIN_KEY)


@pytest.mark.parametrize(
    ("change", "field", "words"),
    [
        ({"reason": ""}, "reason", "必须填写"),
        ({"effective_on": "2099-01-01"}, "effective_on", "不能晚于今天，收到 '2099-01-01'"),
        ({"effective_on": "2022/03/01"}, "effective_on", "2022/03/01"),
        ({"level": "province"}, "level", "不是可选的值，收到 'province'"),
        ({"name": "基"}, "name", "太短（至少 2 个字），收到 '基'"),
    ],
)
async def test_a_refused_registration_names_the_field_and_value_and_writes_nothing(
    client: httpx.AsyncClient, change: dict[str, str], field: str, words: str
) -> None:
    csrf = await as_admin(client, "/admin/bases/new")
    form = {
        "csrf": csrf,
        "name": NEW_BASE,
        "level": "municipal",
        "effective_on": "2022-03-01",
        "reason": "经评审认定",
        **change,
    }
    response = await client.post(LIST, data=form)
    assert response.status_code == 422, response.text
    assert words in field_error(response.text, field)
    assert f'id="{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert await Base.find_one(Base.name == form["name"]) is None
    assert await admin_log.entries(area=Area.bases) == []


async def test_registering_a_name_taken_is_a_409_at_the_name(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client, "/admin/bases/new")
    form = {
        "csrf": csrf,
        "name": ENGINEERING_BASE,
        "level": "regional",
        "effective_on": "2022-03-01",
        "reason": "重复登记",
    }
    response = await client.post(LIST, data=form)
    assert response.status_code == 409
    assert f"已有名为 '{ENGINEERING_BASE}' 的基地" in field_error(response.text, "name")


async def test_the_form_offers_only_the_decisions_the_service_allows(
    client: httpx.AsyncClient,
) -> None:
    await as_admin(client)
    for name, status in ((ENGINEERING_BASE, "certified"), (REVOKED_BASE, "revoked")):
        page = (await client.get(f"{LIST}/{await base_id(client, name)}")).text
        allowed = catalog_bases.allowed_after(BaseStatus(status))
        assert offered(page) == [s.value for s in allowed]
    certified = (await client.get(f"{LIST}/{await base_id(client, ENGINEERING_BASE)}")).text
    assert offered(certified) == ["commended", "criticised", "revoked"]
    revoked = (await client.get(f"{LIST}/{await base_id(client, REVOKED_BASE)}")).text
    assert offered(revoked) == ["certified"]


async def decide(client: httpx.AsyncClient, base: str, csrf: str, **values: str) -> httpx.Response:
    return await client.post(f"{LIST}/{base}/decisions", data={"csrf": csrf, **values})


async def test_a_back_dated_revocation_shows_the_entries_it_changed_s3(
    client: httpx.AsyncClient,
) -> None:
    """Revoked from 2019-03-01, recorded today: 张伟's 2019-06-15 training (48 hours) goes
    from counted to reversed, shown right after the decision and on the decision's page;
    the timeline has the decision with the reason, who recorded it and the count."""
    engineering = await _trained_at_the_engineering_base(client)
    csrf = await as_admin(client, f"{LIST}/{engineering}")
    reason = "长期未开展继续教育活动，取消基地资格"
    response = await decide(
        client, engineering, csrf, status="revoked", effective_on="2019-03-01", reason=reason
    )
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert "done=decided" in location and "decision=" in location
    page = (await client.get(location)).text
    assert "决定已记录" in page and "本次决定对学员学时的影响" in page
    assert "取消基地资格，自 2019年3月1日 起（追溯生效）：1 条学时记录随之变化" in page
    assert "张伟</a>（zhangwei）" in page and "48 → 48" in page and "已计入 → 已撤销" in page
    assert f"基地{ENGINEERING_BASE}自2019-03-01起被取消资格（§三），培训日期为2019-06-15" in page
    assert reason in page and f"由 {ADMIN_KEY} 于" in page
    link = re.search(
        r'<a href="(/admin/bases/[0-9a-f]+/decisions/[0-9a-f]+)">1 条学时记录随之变化', page
    )
    assert link, page
    decision = (await client.get(link.group(1))).text
    assert "随之变化的学时记录（1 条）" in decision and "已计入 → 已撤销" in decision
    assert offered(page) == ["certified"]  # revoked now
    lines = await admin_log.entries(area=Area.bases, target=engineering)
    assert [line.action for line in lines] == ["base.ledgers_followed", "base.status_changed"]


async def test_a_decision_the_service_refuses_is_named_at_its_field_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    """§三: a revoked base cannot be commended (even posted by hand); a criticism dated
    before the base's commendation cannot be followed by it; a criticism needs its
    deadline. Each a message at the field, the base unchanged, nothing logged."""
    revoked = await base_id(client, REVOKED_BASE)
    teachers = await base_id(client, TEACHERS_BASE)
    csrf = await as_admin(client)
    refused = await decide(
        client, revoked, csrf, status="commended", effective_on="2022-05-01", reason="表扬"
    )
    assert refused.status_code == 409
    assert "2022年5月1日 的状态为“取消基地资格”，当日不能通报表扬（§三）；此时只能：认证" in (
        field_error(refused.text, "status")
    )
    before = await client.get(f"/bases/{teachers}")
    crossed = await decide(
        client,
        teachers,
        csrf,
        status="criticised",
        effective_on="2020-01-10",
        rectify_by="2020-03-31",
        reason="投诉查实",
    )
    assert crossed.status_code == 409
    assert (
        "自 2021年12月20日 起为“通报表扬”，不能接在 2020年1月10日 的“通报批评并限期整改”之后"
        in (field_error(crossed.text, "effective_on"))
    )
    undated = await decide(
        client, teachers, csrf, status="criticised", effective_on="2022-05-01", reason="投诉查实"
    )
    assert undated.status_code == 422
    assert "通报批评时必须填写整改期限" in field_error(undated.text, "rectify_by")
    assert "投诉查实" in undated.text  # what was typed is kept
    unchosen = await decide(client, teachers, csrf, effective_on="2022-05-01", reason="未选决定")
    assert unchosen.status_code == 422
    assert field_error(unchosen.text, "status") == "请选择一项"
    assert (await client.get(f"/bases/{teachers}")).json() == before.json()
    assert await admin_log.entries(area=Area.bases) == []


async def test_a_back_dated_criticism_past_its_deadline_says_the_base_was_revoked(
    client: httpx.AsyncClient,
) -> None:
    teachers = await base_id(client, TEACHERS_BASE)
    csrf = await as_admin(client)
    response = await decide(
        client,
        teachers,
        csrf,
        status="criticised",
        effective_on="2022-05-01",
        rectify_by="2022-06-30",
        reason="投诉查实，限期整改",
    )
    assert response.status_code == 303
    page = (await client.get(response.headers["location"])).text
    assert "整改期限（2022年6月30日）已过" in page and "daily check" in page
    assert offered(page) == ["certified"]


async def test_an_admin_corrects_a_base_and_a_stale_form_is_refused_showing_what_changed(
    client: httpx.AsyncClient,
) -> None:
    engineering = await base_id(client, ENGINEERING_BASE)
    csrf = await as_admin(client, f"{LIST}/{engineering}")
    form = {
        "csrf": csrf,
        "name": "宁夏工程技术人才继续教育基地",
        "level": "national",
        "revision": "1",
    }
    response = await client.post(f"{LIST}/{engineering}/edit", data=form)
    assert response.status_code == 303 and response.headers["location"].endswith("?done=edited")
    page = (await client.get(response.headers["location"])).text
    assert "<h1>宁夏工程技术人才继续教育基地</h1>" in page and "国家级" in page
    [line] = await admin_log.entries(area=Area.bases, target=engineering)
    assert line.detail["level"] == {"from": "regional", "to": "national"}

    stale = {**form, "name": "宁夏工程技术继续教育基地", "level": "municipal"}  # revision 1
    refused = await client.post(f"{LIST}/{engineering}/edit", data=stale)
    assert refused.status_code == 409
    assert "该基地已被修改（现为：宁夏工程技术人才继续教育基地，国家级）" in refused.text
    assert (await client.get(f"/bases/{engineering}")).json()["level"] == "national"
    blank = {**form, "name": " ", "revision": "2"}
    refused = await client.post(f"{LIST}/{engineering}/edit", data=blank)
    assert refused.status_code == 422
    assert "必须填写" in field_error(refused.text, "edit-name")


async def _page_and_forms(http: httpx.AsyncClient, base: str, csrf: str) -> list[httpx.Response]:
    data: dict[str, Any] = {"csrf": csrf, "status": "revoked", "effective_on": "2022-05-01"}
    return [
        await http.get(LIST),
        await http.get(f"{LIST}/new"),
        await http.get(f"{LIST}/{base}"),
        await http.get(f"{LIST}/{base}/decisions/abc"),
        await http.post(LIST, data={"csrf": csrf, "name": NEW_BASE, "level": "municipal"}),
        await http.post(f"{LIST}/{base}/edit", data={"csrf": csrf, "level": "national"}),
        await http.post(f"{LIST}/{base}/decisions", data={**data, "reason": "不应生效"}),
    ]


@pytest.mark.parametrize("session", [_learner_session, _auditor_session, _base_session])
async def test_learners_auditors_and_bases_are_refused_every_page_and_form(
    client: httpx.AsyncClient, other: httpx.AsyncClient, session: object
) -> None:
    await activated(client)
    engineering = await base_id(client, ENGINEERING_BASE)
    assert callable(session)
    await session(other)
    csrf = token((await other.get("/")).text)  # the session's own token: not the reason
    for response in await _page_and_forms(other, engineering, csrf):
        assert response.status_code == 403 and "仅限管理员" in response.text, response.url
    assert (await client.get(f"/bases/{engineering}")).json()["status"] == "certified"
    assert await admin_log.entries(area=Area.bases) == []


async def test_forms_without_the_csrf_token_are_refused(client: httpx.AsyncClient) -> None:
    engineering = await base_id(client, ENGINEERING_BASE)
    await as_admin(client)
    for response in (await _page_and_forms(client, engineering, "forged"))[4:]:
        assert response.status_code == 403 and "表单已过期" in response.text
    assert (await client.get(f"/bases/{engineering}")).json()["status"] == "certified"


async def test_signed_out_visitors_are_sent_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(LIST + "?status=revoked")
    assert response.status_code == 303
    assert response.headers["location"] == "/signin?next=%2Fadmin%2Fbases%3Fstatus%3Drevoked"


async def test_unknown_bases_and_decisions_are_404_pages(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client)
    engineering = await base_id(client, ENGINEERING_BASE)
    for response in (
        await client.get(f"{LIST}/000000000000000000000000"),
        await client.get(f"{LIST}/not-an-id"),
        await client.post(f"{LIST}/not-an-id/edit", data={"csrf": csrf, "revision": "1"}),
        await client.get(f"{LIST}/{engineering}/decisions/nope"),
    ):
        assert response.status_code == 404, response.text
        assert response.headers["content-type"].startswith("text/html")


async def test_a_base_name_with_markup_is_escaped(client: httpx.AsyncClient) -> None:
    csrf = await as_admin(client, "/admin/bases/new")
    form = {
        "csrf": csrf,
        "name": "银川<script>alert(1)</script>基地",
        "level": "municipal",
        "effective_on": "2022-03-01",
        "reason": "认定<b>通过</b>",
    }
    response = await client.post(LIST, data=form)
    assert response.status_code == 303, response.text
    page = (await client.get(response.headers["location"])).text
    assert "<script>alert(1)</script>" not in page and "<b>通过</b>" not in page
    assert "银川&lt;script&gt;alert(1)&lt;/script&gt;基地" in page
    listed = (await client.get(LIST)).text
    assert "<script>alert(1)</script>" not in listed
