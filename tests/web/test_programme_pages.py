"""The programme's pages over HTTP (§二, §五(二)): the plan with its actuals, the project
list and its filters, a project's roster; a base's page enrolling learners and uploading
results as CSV, each row through the API's call (a bad row changes nothing, the others
are recorded), GBK named, CSRF and the request-size limit enforced; certificates on the
learner's record."""

from __future__ import annotations

from typing import Any

import httpx

from catalog.programme_models import ProgrammeResult
from nxce.core import clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.credits.conftest import base_id, register
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.web.test_pages import sign_in, token

ENGINEERING = "宁夏工程技术人员继续教育基地"
COMMENDED = "宁夏专业技术人员继续教育公共服务中心"  # commended since 2022-03-15 (§三)
HEADER = "learner_id,passed,assessed_on,score,remarks\n"


async def project(
    client: httpx.AsyncClient, base: str = ENGINEERING, **overrides: Any
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "year": 2022,
        "kind": "urgent_skills",
        "title": "2022年装配式建筑技术骨干人才培训班",
        "base_id": await base_id(client, base),
        "hours": 30,
        "starts_on": "2022-05-09",
        "ends_on": "2022-05-12",
        "capacity": 40,
        "field": "城乡建设",
        **overrides,
    }
    answer = await client.post("/programme/projects", json=body, headers=ADMIN)
    assert answer.status_code == 201, answer.text
    found: dict[str, Any] = answer.json()
    return found


async def enrol(client: httpx.AsyncClient, project_id: str, *learner_ids: str) -> None:
    for learner_id in learner_ids:
        answer = await client.post(
            f"/programme/projects/{project_id}/enrolments",
            json={"learner_id": learner_id},
            headers=ADMIN,
        )
        assert answer.status_code == 201, answer.text


async def three_learners(client: httpx.AsyncClient) -> None:
    await register(client)  # 张伟
    await register(client, "lina", "李娜", "125")
    await register(client, "wangfang", "王芳", "126")


async def admin_signed_in(client: httpx.AsyncClient) -> None:
    assert (await sign_in(client, ADMIN_KEY, ADMIN_SECRET)).status_code == 303


async def auditor_signed_in(client: httpx.AsyncClient) -> None:
    await clients.create(
        key="pingshen-web", name="评审", scopes=[Scope.auditor], secret="pingshen-web-secret"
    )
    assert (await sign_in(client, "pingshen-web", "pingshen-web-secret")).status_code == 303


async def upload(
    client: httpx.AsyncClient, project_id: str, content: bytes, csrf: str | None = None
) -> httpx.Response:
    page = await client.get(f"/base/projects/{project_id}")
    return await client.post(
        f"/base/projects/{project_id}/results",
        data={"csrf": token(page.text) if csrf is None else csrf},
        files={"file": ("结果.csv", content, "text/csv")},
    )


async def test_the_plan_shows_each_kind_planned_enrolled_and_completed(
    client: httpx.AsyncClient,
) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei", "lina")
    answer = await client.post(
        f"/programme/projects/{found['id']}/results",
        json={"learner_id": "zhangwei", "passed": True, "assessed_on": "2022-05-12"},
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.text
    await auditor_signed_in(client)
    page = await client.get("/auditor/programme?year=2022")
    assert page.status_code == 200
    urgent = page.text.split('id="kind-urgent_skills"', 1)[1].split("</section>", 1)[0]
    # 40 periods / 4000 people planned (§二(二)); 2 enrolled of 4000 = 0.05 %, 1 passed.
    assert "计划 40 期、4000 人次；已设项目 1 期，名额 40 人" in urgent
    assert "已报名 2（0.1%）" in urgent and "已结业（考核合格，含已撤销证书） 1（0.0%）" in urgent
    tcm = page.text.split('id="kind-tcm_grassroots"', 1)[1].split("</section>", 1)[0]
    assert "计划 — 期、600 人次" in tcm  # §二(四) sets no number of periods

    bad = await client.get("/auditor/programme?year=abc")
    assert bad.status_code == 422 and "year" in bad.text


async def test_the_project_list_filters_and_marks_commended_bases(
    client: httpx.AsyncClient,
) -> None:
    await project(client)
    await project(
        client,
        COMMENDED,
        kind="key_industry",
        title="2022年枸杞精深加工技术专业技术人员培训班",
        industry="枸杞",
        field=None,
        starts_on="2022-06-06",
        ends_on="2022-06-10",
    )
    await auditor_signed_in(client)
    everything = await client.get("/auditor/programme/projects?year=2022")
    assert "共 2 个项目" in everything.text
    gouqi = await client.get("/auditor/programme/projects?year=2022&industry=枸杞")
    assert "共 1 个项目" in gouqi.text and "枸杞精深加工" in gouqi.text
    assert "装配式建筑" not in gouqi.text
    assert 'title="通报表扬基地">★' in gouqi.text  # commended on 2022-06-06
    urgent = await client.get("/auditor/programme/projects?year=2022&kind=urgent_skills")
    assert "共 1 个项目" in urgent.text and "装配式建筑" in urgent.text
    for query, words in (("kind=seminar", "kind"), ("industry=煤炭", "industry")):
        refused = await client.get(f"/auditor/programme/projects?year=2022&{query}")
        assert refused.status_code == 422 and words in refused.text


async def test_a_project_page_lists_its_roster_with_results(client: httpx.AsyncClient) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei", "lina")
    answer = await client.post(
        f"/programme/projects/{found['id']}/results",
        json={"learner_id": "lina", "passed": False, "assessed_on": "2022-05-12", "score": 52},
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.text
    await auditor_signed_in(client)
    page = await client.get(f"/auditor/programme/projects/{found['id']}")
    assert page.status_code == 200
    assert "学员名单（2 人）" in page.text
    assert "张伟" in page.text and "未考核" in page.text
    assert "李娜" in page.text and "不合格（2022-05-12）" in page.text and "52.0" in page.text
    missing = await client.get("/auditor/programme/projects/0123456789abcdef01234567")
    assert missing.status_code == 404 and "没有这个项目" in missing.text


async def test_a_learner_may_not_see_the_programme_pages(client: httpx.AsyncClient) -> None:
    await register(client)
    await clients.create(
        key="zw-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zw-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    assert (await sign_in(client, "zw-web", "zw-web-secret")).status_code == 303
    for path in ("/auditor/programme", "/auditor/programme/projects", "/base"):
        assert (await client.get(path)).status_code == 403, path
    client.cookies.clear()
    signed_out = await client.get("/base")
    assert signed_out.status_code == 303
    assert signed_out.headers["location"] == "/signin?next=%2Fbase"


async def test_an_upload_records_good_rows_and_reports_each_refused_one(
    client: httpx.AsyncClient,
) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei", "lina")
    await admin_signed_in(client)
    content = (
        "\ufeff"
        + HEADER
        + "zhangwei,true,2022-05-12,91,\n"  # line 2: recorded, a certificate issued
        + "wangfang,true,2022-05-12,88,\n"  # line 3: not on the roster
        + "lina,也许,2022-05-12,,\n"  # line 4: passed unreadable
        + "lina,false,2022-05-01,40,\n"  # line 5: assessed before the project started
    ).encode()
    page = await upload(client, found["id"], content)
    assert page.status_code == 200, page.text
    assert "共 4 行：1 行已录入，3 行被拒绝" in page.text
    assert "被拒绝的行未作任何改动，其余各行照常录入" in page.text
    report = page.text.split("被拒绝的行及原因", 1)[1].split("</table>", 1)[0]
    assert "<td>3</td><td>wangfang</td>" in report and "该学员未报名本项目" in report
    assert "<td>4</td><td>lina</td>" in report and "passed" in report
    assert "<td>5</td><td>lina</td>" in report and "早于项目开始日期" in report
    results = await ProgrammeResult.find({"project_id": found["id"]}).to_list()
    assert [(r.learner_id, r.passed) for r in results] == [("zhangwei", True)]
    assert results[0].certificate is not None and results[0].recorded_by == ADMIN_KEY
    assert "合格（2022-05-12）" in page.text  # the roster shows it at once

    again = await upload(client, found["id"], content)  # the same file again
    assert "共 4 行：0 行已录入，4 行被拒绝" in again.text
    assert "已录入" in again.text and "409" in again.text  # one result per enrolment


async def test_a_gbk_file_is_refused_whole_saying_so(client: httpx.AsyncClient) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    await admin_signed_in(client)
    gbk = (HEADER + "zhangwei,合格,2022-05-12,,\n").encode("gbk")
    page = await upload(client, found["id"], gbk)
    assert page.status_code == 422
    assert "文件不是 UTF-8 编码" in page.text and "GBK" in page.text
    assert await ProgrammeResult.find({"project_id": found["id"]}).count() == 0


async def test_an_upload_needs_the_form_token_and_keeps_to_the_size_limit(
    client: httpx.AsyncClient,
) -> None:
    await three_learners(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    await admin_signed_in(client)
    content = (HEADER + "zhangwei,true,2022-05-12,,\n").encode()
    forged = await upload(client, found["id"], content, csrf="not-the-token")
    assert forged.status_code == 403
    huge = HEADER.encode() + b"zhangwei,true,2022-05-12,," + b"x" * 1_100_000 + b"\n"
    too_big = await upload(client, found["id"], huge)
    assert too_big.status_code == 413  # NXCE_MAX_BODY_BYTES: 1 MiB
    assert await ProgrammeResult.find({"project_id": found["id"]}).count() == 0


async def test_the_enrolment_form_enrols_each_learner_and_names_the_refused(
    client: httpx.AsyncClient,
) -> None:
    await three_learners(client)
    found = await project(client, capacity=2)
    await admin_signed_in(client)
    page = await client.get(f"/base/projects/{found['id']}")
    answer = await client.post(
        f"/base/projects/{found['id']}/enrolments",
        data={"csrf": token(page.text), "learner_ids": "zhangwei\nnobody-here\nlina\nwangfang\n"},
    )
    assert answer.status_code == 200
    # 2 places: 张伟 and 李娜 take them; nobody-here does not exist; 王芳 finds it full.
    assert "共 4 行：2 行已报名，2 行被拒绝" in answer.text
    report = answer.text.split("被拒绝的行及原因", 1)[1].split("</table>", 1)[0]
    assert "<td>2</td><td>nobody-here</td><td>不存在（404）" in report
    assert "<td>4</td><td>wangfang</td><td>冲突（409）：项目名额已满" in report
    assert "学员名单（2 人）" in answer.text


async def test_the_learner_record_shows_certificates_with_their_codes(
    client: httpx.AsyncClient,
) -> None:
    await register(client)
    found = await project(client)
    await enrol(client, found["id"], "zhangwei")
    answer = await client.post(
        f"/programme/projects/{found['id']}/results",
        json={"learner_id": "zhangwei", "passed": True, "assessed_on": "2022-05-12"},
        headers=ADMIN,
    )
    assert answer.status_code == 201, answer.text
    certificate = answer.json()["certificate"]
    await clients.create(
        key="zw-web", name="张伟", scopes=[Scope.statements_read_mine],
        secret="zw-web-secret", learner_id="zhangwei",
    )  # fmt: skip
    assert (await sign_in(client, "zw-web", "zw-web-secret")).status_code == 303
    me = await client.get("/me")
    assert "知识更新工程结业证书（1）" in me.text
    assert certificate["certificate_no"] in me.text
    assert f'href="/verify/{certificate["verification_code"]}"' in me.text
    assert "有效" in me.text and "2022年装配式建筑技术骨干人才培训班" in me.text


async def test_a_base_account_sees_and_writes_only_its_own_projects(
    client: httpx.AsyncClient,
) -> None:
    """The engineering base's account: its project listed and open to it; the commended
    centre's project neither listed nor open, its upload refused as a missing page."""
    await three_learners(client)
    own = await project(client)
    other = await project(client, COMMENDED, title="2022年冷链物流技术骨干人才培训班")
    await enrol(client, other["id"], "zhangwei")
    await clients.create(
        key="gongcheng-web", name=ENGINEERING, scopes=[Scope.base],
        secret="gongcheng-web-secret", base_id=own["base_id"],
    )  # fmt: skip
    assert (await sign_in(client, "gongcheng-web", "gongcheng-web-secret")).status_code == 303
    listed = await client.get("/base?year=2022")
    assert listed.status_code == 200 and f"{ENGINEERING}：2022年知识更新工程项目" in listed.text
    assert "装配式建筑" in listed.text and "冷链物流" not in listed.text
    assert (await client.get(f"/base/projects/{own['id']}")).status_code == 200
    assert (await client.get(f"/base/projects/{other['id']}")).status_code == 404
    page = await client.get(f"/base/projects/{own['id']}")
    content = (HEADER + "zhangwei,true,2022-05-12,,\n").encode()
    refused = await client.post(
        f"/base/projects/{other['id']}/results",
        data={"csrf": token(page.text)},
        files={"file": ("结果.csv", content, "text/csv")},
    )
    assert refused.status_code == 404
    assert await ProgrammeResult.find({"project_id": other["id"]}).count() == 0
    for path in ("/auditor/programme", "/auditor/programme/projects"):
        assert (await client.get(path)).status_code == 403, path
