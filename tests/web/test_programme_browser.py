"""The programme's pages in a real browser (Chromium, Playwright), as tests/web/
test_browser.py runs them: an auditor reads the plan's progress bars, filters the project
list and opens a roster; a base's account uploads a CSV of results and reads which rows
were refused and why; the learner finds the certificate on their record. axe-core checks
each page; screenshots at phone and desktop widths when NXCE_SCREENSHOTS is set.
"""

from __future__ import annotations

import shutil
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from nxce.app import create_app
from nxce.core import clients, passwords
from nxce.core.client_handover import HandoverFile
from tests.conftest import ADMIN, embedded_settings
from tests.credits.conftest import learner_body
from tests.web.test_browser import (  # the browser, its page, and what the pages share
    accessible,
    browser,  # noqa: F401
    free_port,
    page,  # noqa: F401
    shoot,
    sign_in,
)

if True:  # after the skip of test_browser when there is no Chromium
    from playwright.sync_api import Page, expect

AUDITOR = ("pingshen-prog", "pingshen-prog-secret")
BASE = ("gongcheng-base", "gongcheng-base-secret")
LEARNER = ("zhangwei-prog", "zhangwei-prog-secret")
ENGINEERING = "宁夏工程技术人员继续教育基地"


def _base_id(admin: httpx.Client, name: str) -> str:
    found: list[dict[str, Any]] = admin.get("/bases").json()
    return next(str(b["id"]) for b in found if b["name"] == name)


def _programme(admin: httpx.Client) -> str:
    """Two projects at the engineering base; 张伟, 李娜, 王芳 on the first, 张伟 passed."""
    base = _base_id(admin, ENGINEERING)
    ids = []
    for title, starts, ends in (
        ("2022年装配式建筑技术骨干人才培训班", "2022-05-09", "2022-05-12"),
        ("2022年公路工程质量检测骨干人才培训班", "2022-09-05", "2022-09-08"),
    ):
        body = {
            "year": 2022, "kind": "urgent_skills", "title": title, "base_id": base,
            "hours": 30, "starts_on": starts, "ends_on": ends, "capacity": 40,
            "field": "城乡建设",
        }  # fmt: skip
        answer = admin.post("/programme/projects", json=body)
        assert answer.status_code == 201, answer.text
        ids.append(answer.json()["id"])
    for learner_id, name, sequence in (
        ("zhangwei", "张伟", "123"),
        ("lina", "李娜", "125"),
        ("wangfang", "王芳", "126"),
    ):
        answer = admin.post("/learners", json=learner_body(learner_id, name, sequence))
        assert answer.status_code == 201, answer.text
        answer = admin.post(
            f"/programme/projects/{ids[0]}/enrolments", json={"learner_id": learner_id}
        )
        assert answer.status_code == 201, answer.text
    result = {"learner_id": "zhangwei", "passed": True, "assessed_on": "2022-05-12", "score": 93}
    answer = admin.post(f"/programme/projects/{ids[0]}/results", json=result)
    assert answer.status_code == 201, answer.text
    return str(ids[0])


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory, search_index: Path) -> Iterator[tuple[str, str]]:
    """The service, an auditor, the engineering base's account and 张伟's; answers the
    address and the first project's id."""
    data = tmp_path_factory.mktemp("web-programme")
    shutil.copytree(search_index, data / "search")
    file = HandoverFile(data)
    for (key, secret), scopes, learner in (
        (AUDITOR, [clients.Scope.auditor], None),
        (LEARNER, [clients.Scope.statements_read_mine], "zhangwei"),
    ):
        file.append(
            clients.ClientRecord(
                key=key,
                name="张伟" if learner else "工程系列评审委员会",
                scopes=scopes,
                secret_hash=passwords.hash_secret(secret),
                learner_id=learner,
            )
        )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(embedded_settings(data)), host="127.0.0.1", port=port, log_level="warning"
        )
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while True:
        assert time.monotonic() < deadline, "the service did not start"
        try:
            if httpx.get(f"{url}/health", timeout=2).json()["search"]["ready"]:
                break
        except (httpx.HTTPError, KeyError, ValueError):
            pass
        time.sleep(0.1)
    with httpx.Client(base_url=url, headers=ADMIN, timeout=30) as admin:
        project_id = _programme(admin)
        base = _base_id(admin, ENGINEERING)
    _base_client(data, base)
    try:
        yield url, project_id
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def _base_client(data: Path, base_id: str) -> None:
    """The engineering base's account (scope `base`), added to the client file the
    running service reads again when it changes."""
    HandoverFile(data).append(
        clients.ClientRecord(
            key=BASE[0],
            name=ENGINEERING,
            scopes=[clients.Scope.base],
            secret_hash=passwords.hash_secret(BASE[1]),
            base_id=base_id,
        )
    )


def test_an_auditor_reads_the_plan_filters_projects_and_opens_a_roster(
    page: Page,  # noqa: F811
    site: tuple[str, str],
) -> None:
    url, _ = site
    sign_in(page, url, *AUDITOR)
    page.get_by_role("link", name="知识更新工程").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2022年专业技术人才知识更新工程")
    urgent = page.locator("section", has=page.locator("#kind-urgent_skills"))
    expect(urgent).to_contain_text("计划 40 期、4000 人次；已设项目 2 期，名额 80 人")
    expect(urgent.get_by_role("img")).to_have_attribute(
        "aria-label", "急需紧缺和岗位骨干人才培训：计划 4000 人次，已报名 3，已结业 1"
    )
    accessible(page)
    shoot(page, "programme-plan")

    page.get_by_role("link", name="查看全部项目").click()
    page.get_by_label("类别").select_option("urgent_skills")
    page.get_by_role("button", name="筛选").click()
    expect(page.get_by_role("status")).to_contain_text("共 2 个项目")
    accessible(page)
    shoot(page, "programme-projects")
    page.get_by_role("link", name="2022年装配式建筑技术骨干人才培训班").click()
    expect(page.locator("#roster-title")).to_have_text("学员名单（3 人）")
    expect(page.locator("table.roster")).to_contain_text("合格（2022-05-12）")
    accessible(page)
    shoot(page, "programme-project")


def test_a_base_uploads_results_and_reads_the_refused_rows(
    page: Page,  # noqa: F811
    site: tuple[str, str],
) -> None:
    url, _ = site
    sign_in(page, url, *BASE)
    page.get_by_role("link", name="基地项目").click()
    page.get_by_role("link", name="2022年装配式建筑技术骨干人才培训班").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("2022年装配式建筑技术骨干人才培训班")
    accessible(page)
    content = (
        "\ufefflearner_id,passed,assessed_on,score,remarks\r\n"
        "lina,合格,2022-05-12,88,\r\n"
        "wangfang,不合格,2022-05-12,45,缺勤超过三分之一\r\n"
        "zhaolei,合格,2022-05-12,90,\r\n"
    ).encode()
    page.get_by_label("考核结果文件（.csv）").set_input_files(
        files=[{"name": "考核结果.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.get_by_role("button", name="上传并录入").click()
    expect(page.get_by_role("alert")).to_contain_text("共 3 行：2 行已录入，1 行被拒绝")
    refused = page.get_by_role("table", name="被拒绝的行及原因")
    expect(refused).to_contain_text("zhaolei")
    expect(page.locator("table.roster")).to_contain_text("不合格（2022-05-12）")
    accessible(page)
    shoot(page, "base-upload")
    response = page.goto(f"{url}/auditor/programme")
    assert response is not None and response.status == 403


def test_the_learner_finds_the_certificate_on_their_record(
    page: Page,  # noqa: F811
    site: tuple[str, str],
) -> None:
    url, _ = site
    sign_in(page, url, *LEARNER)
    expect(page).to_have_url(f"{url}/me")
    certificates = page.locator("section", has=page.locator("#certificates-title"))
    expect(certificates).to_contain_text("2022年装配式建筑技术骨干人才培训班")
    expect(certificates).to_contain_text("有效")
    accessible(page)
    shoot(page, "me-certificates")
