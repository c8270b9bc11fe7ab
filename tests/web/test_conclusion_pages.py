"""The auditor's learner page: the entries the audit did not count with their reasons, the
current conclusion (flagged when the record changed after it) and the form to record one
(CSRF as the review form; refused, the form again with what to correct, in Chinese)."""

from __future__ import annotations

import httpx

from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN
from tests.credits.conftest import activity, completion, entry, manual, register, send
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in, token

PAGE = "/auditor/learners/zhangwei?level=intermediate&year=2022"
REASON = "已核对继续教育登记表，同意通过"


async def auditor_signed_in(client: httpx.AsyncClient) -> str:
    """Signs in the 评审委员会 and answers the learner page's CSRF token."""
    await clients.create(
        key="pingshen-web", name="工程系列评审委员会", scopes=[Scope.auditor], secret="pw-secret"
    )
    await sign_in(client, "pingshen-web", "pw-secret")
    page = await client.get(PAGE)
    assert page.status_code == 200, page.text
    return token(page.text)


def form(csrf: str, **fields: str) -> dict[str, str]:
    return {"csrf": csrf, "level": "intermediate", "year": "2022"} | fields


async def test_the_page_lists_what_the_audit_did_not_count(client: httpx.AsyncClient) -> None:
    """GX-0003 completed 2021-05-20 waits for review: 2 hours not counted, and why."""
    await register(client)
    await entry(client, manual("2020-05-01", "public", 12))
    old = await activity(client, "GX-0003")
    await send(client, completion(old, when="2021-05-20T10:00:00+08:00"))
    await auditor_signed_in(client)
    page = (await client.get(PAGE)).text
    assert "不计入的学时（1 条）" in page
    assert "2021-05-20 · 在线学习" in page
    assert "不计入：待审核：" in page
    assert "审验结论目前为系统计算，审验人尚未作出结论。" in page


async def test_an_auditor_records_a_conclusion_and_a_later_change_is_flagged(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    await entry(client, manual("2020-05-01", "public", 12))
    csrf = await auditor_signed_in(client)
    posted = await client.post(
        "/auditor/learners/zhangwei/conclusions",
        data=form(csrf, decision="reject", reason="学时不足：12 / 360"),
    )
    assert posted.status_code == 303, posted.text
    assert posted.headers["location"].startswith(f"{PAGE}&concluded=reject")
    page = (await client.get(posted.headers["location"])).text
    assert "已记录审验结论：不通过" in page
    assert "工程系列评审委员会（pingshen-web）" in page
    assert "学时不足：12 / 360" in page
    # 12 of 360 counted when concluded: 348 total and 108 public short.
    assert "未达到要求（总学时尚差348学时，公需课尚差108学时）" in page
    assert "结论作出后学时记录有变化" not in page

    await entry(client, manual("2021-05-01", "public", 30, "公需课补学"))
    page = (await client.get(PAGE)).text
    assert "结论作出后学时记录有变化" in page
    listed = await client.get("/learners/zhangwei/audit/conclusions", headers=ADMIN)
    assert [c["decision"] for c in listed.json()] == ["reject"]


async def test_a_conclusion_without_reason_or_decision_shows_the_form_again(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    csrf = await auditor_signed_in(client)
    no_reason = await client.post(
        "/auditor/learners/zhangwei/conclusions", data=form(csrf, decision="approve", reason="  ")
    )
    assert no_reason.status_code == 422
    assert "请填写理由（reason），不能为空。" in no_reason.text
    assert 'value="approve" checked' in no_reason.text  # the form as it was
    no_decision = await client.post(
        "/auditor/learners/zhangwei/conclusions", data=form(csrf, reason=REASON)
    )
    assert no_decision.status_code == 422
    assert "请选择审验结论：通过或不通过（decision）。" in no_decision.text
    assert f">{REASON}</textarea>" in no_decision.text
    too_long = await client.post(
        "/auditor/learners/zhangwei/conclusions",
        data=form(csrf, decision="approve", reason="理" * 1001),
    )
    assert too_long.status_code == 422
    assert "理由（reason）最多 1000 个字，现有 1001 个。" in too_long.text
    bad_year = await client.post(
        "/auditor/learners/zhangwei/conclusions",
        data=form(csrf, decision="approve", reason=REASON) | {"year": "2031"},
    )
    assert bad_year.status_code == 422
    assert "申报年度 year 没有对应的政策" in bad_year.text
    no_csrf = await client.post(
        "/auditor/learners/zhangwei/conclusions",
        data=form("forged", decision="approve", reason=REASON),
    )
    assert no_csrf.status_code == 403
    page = (await client.get(PAGE)).text
    assert "审验结论目前为系统计算" in page  # nothing was recorded
