"""The programme pages after review: a withdrawn certificate (§三) said in Chinese the
same way on every page and flagged on the rosters; the plan's completed count labelled as
passes including withdrawn certificates; every year the API takes; the refusals of an
enrolment or an upload in Chinese."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest

from catalog import bases as catalog_bases
from catalog.programme_models import ProgrammeKind, ProgrammeProject
from nxce.core import clients
from nxce.core.clients import Scope
from nxce.core.errors import invalid
from tests.conftest import ADMIN
from tests.credits.conftest import base_id, register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in, token
from tests.web.test_programme_pages import (
    HEADER,
    admin_signed_in,
    auditor_signed_in,
    enrol,
    project,
    three_learners,
    upload,
)
from web import refusals

ENGINEERING = "宁夏工程技术人员继续教育基地"
MEDICAL = "宁夏医学继续教育培训中心"
# The engineering base revoked back to 2022-05-10, over an assessment of 2022-05-12.
WITHDRAWN = "出具基地在考核之日不具备资格（已取消基地资格，自2022-05-10起），证书不再有效（第三条）"


async def passed(client: httpx.AsyncClient, project_id: str, learner_id: str) -> dict[str, Any]:
    answer = await client.post(
        f"/programme/projects/{project_id}/results",
        json={"learner_id": learner_id, "passed": True, "assessed_on": "2022-05-12"},
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.text
    certificate: dict[str, Any] = answer.json()["certificate"]
    return certificate


async def revoke_engineering(client: httpx.AsyncClient, on: str = "2022-05-10") -> None:
    reason = "经调查核实，整改不到位，取消基地资格"
    change = {"status": "revoked", "reason": reason, "effective_on": on}
    found = await base_id(client, ENGINEERING)
    answer = await client.post(f"/bases/{found}/status", json=change, headers=ADMIN)
    assert answer.status_code == 200, answer.text


async def test_a_withdrawn_certificate_reads_the_same_chinese_on_every_page_s3(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    certificate = await passed(client, found["id"], "zhangwei")
    await revoke_engineering(client)

    code = certificate["verification_code"]
    verify = await client.get(f"/verify/{code}", headers={"Accept": "text/html"})
    assert "证书已失效" in verify.text and WITHDRAWN in verify.text

    await auditor_signed_in(client)
    auditor = await client.get("/auditor/learners/zhangwei")
    assert auditor.status_code == 200
    assert f"已撤销：{WITHDRAWN}" in auditor.text and "not in good standing" not in auditor.text

    client.cookies.clear()
    await clients.create(
        key="zw-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zw-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    assert (await sign_in(client, "zw-web", "zw-web-secret")).status_code == 303
    me = await client.get("/me")
    assert f"已撤销：{WITHDRAWN}" in me.text and "not in good standing" not in me.text


async def test_rosters_flag_withdrawn_certificates_reading_the_base_once_s3(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei", "lina", "wangfang")
    first = await passed(client, found["id"], "zhangwei")
    second = await passed(client, found["id"], "lina")
    await revoke_engineering(client)
    reads: list[str] = []
    get = catalog_bases.get

    async def counted(*, base_id: str) -> Any:
        reads.append(base_id)
        return await get(base_id=base_id)

    monkeypatch.setattr(catalog_bases, "get", counted)

    await auditor_signed_in(client)
    page = await client.get(f"/auditor/programme/projects/{found['id']}")
    assert page.status_code == 200
    roster = page.text.split("学员名单", 1)[1]
    for certificate in (first, second):
        row = roster.split(certificate["certificate_no"], 1)[1].split("</tr>", 1)[0]
        assert f"已撤销：{WITHDRAWN}" in row
    assert roster.count("已撤销") == 2  # 王芳, not assessed, has nothing to withdraw
    assert reads == [found["base_id"]]  # two passes, one read of the base

    client.cookies.clear()
    await admin_signed_in(client)
    base_page = await client.get(f"/base/projects/{found['id']}")
    assert base_page.status_code == 200
    assert base_page.text.count(f"已撤销：{WITHDRAWN}") == 2


async def test_a_certificate_kept_after_a_later_revocation_is_not_flagged(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    await passed(client, found["id"], "zhangwei")
    await revoke_engineering(client, "2022-06-01")  # after the assessment of 2022-05-12
    await auditor_signed_in(client)
    page = await client.get(f"/auditor/programme/projects/{found['id']}")
    assert "合格（2022-05-12）" in page.text and "已撤销" not in page.text


async def test_the_plan_labels_passes_as_including_withdrawn_certificates(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    await passed(client, found["id"], "zhangwei")
    await revoke_engineering(client)
    await auditor_signed_in(client)
    page = await client.get("/auditor/programme?year=2022")
    urgent = page.text.split('id="kind-urgent_skills"', 1)[1].split("</section>", 1)[0]
    # 1 pass of 4000 planned people (§二(二)): 0.025 % rounds to 0.0 %.
    assert "已结业（考核合格，含已撤销证书） 1（0.0%）" in urgent
    assert "含其后因出具基地资格被撤销而失效的结业证书" in page.text


async def test_the_pages_take_every_year_the_api_takes(client: httpx.AsyncClient) -> None:
    later = await client.get("/programme/projects?year=2030", headers=ADMIN)
    earlier = await client.get("/programme/plan?year=2021", headers=ADMIN)
    assert (later.status_code, earlier.status_code) == (200, 200)
    await admin_signed_in(client)
    projects = await client.get("/auditor/programme/projects?year=2030")
    assert projects.status_code == 200 and '<option value="2030" selected' in projects.text
    assert (await client.get("/base?year=2030")).status_code == 200
    plan = await client.get("/auditor/programme?year=2021")
    assert plan.status_code == 200
    assert "本年度无计划数，也未设项目，无进度可计" in plan.text
    assert "按名额 1 人" not in plan.text
    for path in ("/auditor/programme?year=1999", "/auditor/programme/projects?year=2101"):
        refused = await client.get(path)
        assert refused.status_code == 422 and "2000 至 2100" in refused.text, path


async def test_a_year_without_a_plan_draws_the_bar_against_the_places(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    found = await project(
        client, year=2026, title="2026年装配式建筑技术骨干人才培训班",
        starts_on="2026-05-09", ends_on="2026-05-12", capacity=40,
    )  # fmt: skip
    await enrol(client, found["id"], "zhangwei")
    await auditor_signed_in(client)
    page = await client.get("/auditor/programme?year=2026")
    assert page.status_code == 200
    urgent = page.text.split('id="kind-urgent_skills"', 1)[1].split("</section>", 1)[0]
    # no plan for 2026: 1 enrolled of the 40 places = 2.5 %
    assert "本年度无计划数，进度按已设项目名额 40 人计" in urgent
    assert "已报名 1（2.5%）" in urgent and 'width="2.5%"' in urgent


async def test_enrolment_refusals_are_said_in_chinese(client: httpx.AsyncClient) -> None:
    await three_learners(client)
    found = await project(client, capacity=2)
    tcm = await project(
        client, MEDICAL, kind="tcm_grassroots", title="基层中医药适宜技术推广培训班",
        field="中医适宜技术", hours=40,
    )  # fmt: skip
    await enrol(client, found["id"], "zhangwei")
    await admin_signed_in(client)
    page = await client.get(f"/base/projects/{found['id']}")
    names = "zhangwei\nnobody-here\nlina\nwangfang\n"
    answer = await client.post(
        f"/base/projects/{found['id']}/enrolments",
        data={"csrf": token(page.text), "learner_ids": names},
    )
    report = answer.text.split("被拒绝的行及原因", 1)[1].split("</table>", 1)[0]
    assert "<td>1</td><td>zhangwei</td><td>冲突（409）：该学员已报名本项目" in report
    assert "<td>2</td><td>nobody-here</td><td>不存在（404）：没有学员编号为 nobody-here" in report
    assert "<td>4</td><td>wangfang</td><td>冲突（409）：项目名额已满（共 2 人）" in report
    page = await client.get(f"/base/projects/{tcm['id']}")
    answer = await client.post(
        f"/base/projects/{tcm['id']}/enrolments",
        data={"csrf": token(page.text), "learner_ids": "zhangwei"},
    )
    assert "无效（422）：基层中医药人才培训（§二(四)）只招收卫生系列" in answer.text


async def test_upload_refusals_are_said_in_chinese(client: httpx.AsyncClient) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei", "lina")
    await passed(client, found["id"], "zhangwei")
    await admin_signed_in(client)
    content = (
        HEADER
        + "zhangwei,true,2022-05-12,,\n"  # line 2: has a result already
        + "wangfang,true,2022-05-12,,\n"  # line 3: not on the roster
        + "lina,true,2022-05-01,,\n"  # line 4: before the start of 2022-05-09
        + "lina,true,2099-05-12,,\n"  # line 5: in the future
    ).encode()
    page = await upload(client, found["id"], content)
    report = page.text.split("被拒绝的行及原因", 1)[1].split("</table>", 1)[0]
    assert "<td>2</td><td>zhangwei</td><td>冲突（409）：该学员在本项目已有考核结果" in report
    assert "<td>3</td><td>wangfang</td><td>无效（422）：该学员未报名本项目" in report
    assert "考核日期 2022-05-01 早于项目开始日期 2022-05-09" in report
    assert "考核日期 2099-05-12 在今天之后" in report
    assert "not enrolled" not in report and "must not" not in report

    await revoke_engineering(client)  # back to 2022-05-10: 李娜's 05-12 is refused (§三)
    late = await upload(client, found["id"], (HEADER + "lina,true,2022-05-12,,\n").encode())
    assert "冲突（409）：承办基地在考核之日不具备资格（第三条）" in late.text


def test_an_assessment_after_the_project_and_unknown_refusals_are_worded() -> None:
    project = ProgrammeProject.model_construct(
        year=2022, kind=ProgrammeKind.urgent_skills, title="2022年装配式建筑技术骨干人才培训班",
        starts_on=date(2022, 5, 9), ends_on=date(2022, 5, 12),
    )  # fmt: skip
    late = invalid("assessed_on", "must not be after the project ends", "2022-07-01")
    worded = refusals.result_refusal(late, project, date(2022, 7, 1), date(2022, 12, 1))
    assert worded == "无效（422）：考核日期 2022-07-01 晚于项目结束日期 2022-05-12"
    other = invalid("score", "must be between 0 and 100", 120)
    kept = refusals.result_refusal(other, project, date(2022, 5, 12), date(2022, 12, 1))
    assert kept == "无效（422）：score: must be between 0 and 100, got 120"  # the API's text
