"""Each administrative write and sensitive read that no other admin page owns leaves one
line of the admin log, naming who, what, which record, with a Chinese summary and the
details — never an activation code, never a full id number."""

from __future__ import annotations

import json
from typing import Any

import httpx
from fastapi import FastAPI

from nxce.core import admin_log
from nxce.core.admin_log import AdminAction, Area
from tests.accounts.conftest import ZHANG_WEI_ID_NUMBER, activated, app_sign_in, issue_code
from tests.accounts.roster_support import csv_file, person, post_roster
from tests.catalog.programme_support import engineering_project, enrol, learner, result
from tests.conftest import ADMIN, ADMIN_KEY
from tests.credits.conftest import (
    activity,
    completion,
    entry,
    learner_body,
    ledger,
    manual,
    register,
    review,
    send,
)
from tests.credits.conftest import auditor as auditor  # a client holding `auditor`
from tests.credits.conftest import settings as settings  # the catalog loaded
from tests.credits.test_conclusions import conclude, passing_ledger
from tests.credits.test_evidence import PDF, upload


async def lines(**filters: Any) -> list[AdminAction]:
    return list(reversed(await admin_log.entries(**filters)))  # oldest first


def one(found: list[AdminAction], action: str) -> AdminAction:
    matching = [line for line in found if line.action == action]
    assert len(matching) == 1, [line.action for line in found]
    return matching[0]


def no_secret(line: AdminAction, *secrets: str) -> None:
    text = json.dumps(line.model_dump(mode="json"), ensure_ascii=False)
    for secret in (ZHANG_WEI_ID_NUMBER, *secrets):
        assert secret not in text


async def test_manual_entries_and_record_imports_are_logged(client: httpx.AsyncClient) -> None:
    await register(client)
    made = await entry(client, manual("2019-05-10", "professional", 12, "单位组织的集中学习"))
    imported = await entry(
        client,
        {"kind": "record_import", "date": "2019-12-20", "hours": 32,
         "source": "宁夏专业技术人员继续教育培训网", "reference": "NXZJ-2019-0012345"},
    )  # fmt: skip
    found = await lines(area=Area.credits, target="zhangwei")
    added = one(found, "credit.manual_added")
    assert added.by == ADMIN_KEY and added.detail["entry_id"] == made["id"]
    assert added.summary == "为学员 zhangwei 录入其他认定 12 学时（专业课，2019-05-10），已计入"
    copied = one(found, "credit.record_imported")
    assert copied.detail["entry_id"] == imported["id"] and copied.detail["hours"] == 32.0
    assert "平台学时导入 32 学时（公需课" in copied.summary
    no_secret(added)


async def test_a_review_and_a_conclusion_are_logged(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client)
    gx2 = await activity(client, "GX-0002")
    await send(client, completion(gx2, when="2022-03-01T09:00:00+08:00"))
    [pending] = await ledger(client)
    decided = await review(client, pending["id"], "reject", "学习记录与平台日志不符", auth=auditor)
    assert decided.status_code == 200, decided.text
    line = one(await lines(area=Area.reviews), "credit.review.reject")
    assert (line.by, line.target) == ("pingshen", "zhangwei")
    assert line.summary.startswith("驳回了学员 zhangwei 待审核的学时记录")
    assert line.detail["reason"] == "学习记录与平台日志不符"


async def test_an_audit_conclusion_is_logged(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await passing_ledger(client)
    made = await conclude(client, auditor)
    assert made.status_code == 201, made.text
    line = one(await lines(area=Area.reviews), "audit.concluded.approve")
    assert line.detail["conclusion_id"] == made.json()["id"]
    assert line.summary.startswith("审验结论：学员 zhangwei 2022 年申报中级，通过")


async def test_evidence_attached_and_removed_is_logged(client: httpx.AsyncClient) -> None:
    await register(client)
    degree = await entry(
        client, {"kind": "degree", "enrolled_on": "2018-09-01", "graduated_on": "2021-06-30"}
    )
    sent = await upload(client, degree["id"], PDF, filename="学历证明-张伟.pdf")
    assert sent.status_code == 201, sent.text
    document = sent.json()
    gone = await client.delete(
        f"/learners/zhangwei/credits/{degree['id']}/documents/{document['id']}", headers=ADMIN
    )
    assert gone.status_code == 204
    found = await lines(area=Area.credits)
    attached = one(found, "evidence.attached")
    assert attached.detail["filename"] == "学历证明-张伟.pdf"
    assert "证明材料“学历证明-张伟.pdf”" in attached.summary
    removed = one(found, "evidence.removed")
    assert removed.by == ADMIN_KEY and removed.detail["document_id"] == document["id"]


async def test_codes_resets_and_devices_signed_out_by_an_admin_are_logged(
    client: httpx.AsyncClient,
) -> None:
    await activated(client)  # a code issued, then used
    device = await app_sign_in(client)
    reset = await issue_code(client, "zhangwei")
    signed_out = await client.delete(
        f"/learners/zhangwei/devices/{device['device_id']}", headers=ADMIN
    )
    assert signed_out.status_code == 204
    found = await lines(area=Area.accounts, target="zhangwei")
    issued = one(found, "activation_code.issued")
    again = one(found, "activation_code.reissued")
    assert again.detail["reset"] is True and "密码重置" in again.summary
    for line in (issued, again):
        no_secret(line, str(reset["code"]))
    device_line = one(found, "device.signed_out")
    assert device_line.detail == {"device_id": device["device_id"]}


async def test_a_roster_import_is_one_line_with_its_counts(client: httpx.AsyncClient) -> None:
    rows = [person(1), person(2), person(3, id_number="6401021980")]  # one refused
    answer = await post_roster(client, csv_file(rows), rows="valid", dry_run="false")
    assert answer.status_code in (200, 201), answer.text
    found = await lines(area=Area.accounts)
    imported = one(found, "trail.roster_import")
    assert (imported.detail["created"], imported.detail["refused"]) == (2, 1)
    assert imported.summary == "按名单登记学员：新建 2 名并发放激活码，1 行未通过检查"
    assert not [line for line in found if line.action.startswith("activation_code")]


async def test_the_personal_data_trail_is_in_the_log(
    client: httpx.AsyncClient, auditor: dict[str, str]
) -> None:
    await register(client)
    shown = await client.get("/learners/zhangwei", headers=auditor)
    assert shown.status_code == 200
    same_number = learner_body("wangfang", "王芳", "123")  # 张伟's id number
    conflict = await client.post("/learners", json=same_number, headers=ADMIN)
    assert conflict.status_code == 409
    erased = await client.post(
        "/learners/zhangwei/erasure", json={"reason": "本人申请删除个人信息"}, headers=ADMIN
    )
    assert erased.status_code == 200, erased.text
    found = [
        line
        for line in await lines(area=Area.learners, target="zhangwei")
        if line.action.startswith("trail.")  # not learner.registered
    ]
    actions = [line.action for line in found]
    assert actions == ["trail.id_number_view", "trail.id_number_conflict", "trail.erasure"]
    view, clash, erasure = found
    assert view.by == "pingshen" and "完整身份证号" in view.summary
    assert clash.detail["attempted_learner_id"] == "wangfang"
    assert erasure.detail == {"reason": "本人申请删除个人信息"}
    for line in found:
        no_secret(line)
    trail = await client.get("/audit/events", params={"learner_id": "zhangwei"}, headers=ADMIN)
    assert len(trail.json()) == 3  # the trail answers as before


async def test_programme_projects_enrolments_and_results_are_logged(
    client: httpx.AsyncClient,
) -> None:
    project = await engineering_project(client)
    someone = await learner(client, 1)
    assert (await enrol(client, project["id"], someone)).status_code == 201
    other = await learner(client, 2)
    assert (await enrol(client, project["id"], other)).status_code == 201
    path = f"/programme/projects/{project['id']}/enrolments/{other}"
    assert (await client.delete(path, headers=ADMIN)).status_code == 204
    assert (await result(client, project["id"], someone)).status_code == 201
    found = await lines(area=Area.programme, target=project["id"])
    assert [line.action for line in found] == [
        "programme.project_created",
        "programme.enrolled",
        "programme.enrolled",
        "programme.withdrawn",
        "programme.result_recorded",
    ]
    assert found[3].detail["learner_id"] == other and found[3].by == ADMIN_KEY
    assert found[0].summary.startswith("新建知识更新工程项目《枸杞产业高质量发展高级研修班》")
    recorded = found[4]
    assert recorded.detail["passed"] is True and recorded.detail["certificate"]
    assert "考核合格，发放结业证书" in recorded.summary


async def test_a_credit_rebuild_is_logged(client: httpx.AsyncClient, app: FastAPI) -> None:
    await register(client)
    rebuilt = await client.post("/admin/credits/rebuild", headers=ADMIN)
    assert rebuilt.status_code == 200, rebuilt.text
    line = one(await lines(area=Area.credits), "credits.rebuilt")
    assert line.by == ADMIN_KEY and line.target == ""
    assert line.detail["changed"] == rebuilt.json()["changed"]
    assert line.summary.startswith("重建了全部学时记录")
