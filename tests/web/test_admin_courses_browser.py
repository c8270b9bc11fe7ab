"""The admin's course pages in a real browser (Chromium, Playwright): a course found in
the list, its hours edited and the change in its history; an edit against a course
changed meanwhile refused, showing what changed, the admin's input kept; a bulk import's
dry run with a refused row, then the valid rows applied. axe-core checks each page.

The service and the browser are those of tests/web/test_browser.py (its fixtures), in a
service of this module's own.
"""

from __future__ import annotations

from pathlib import Path

import httpx
from playwright.sync_api import Page, expect

from tests.catalog.test_course_import import HEADER_ZH, NEW_ROW, csv_file
from tests.conftest import ADMIN, ADMIN_KEY, ADMIN_SECRET
from tests.web.test_browser import accessible, shoot, sign_in
from tests.web.test_browser import browser as browser  # the fixtures
from tests.web.test_browser import page as page
from tests.web.test_browser import site as site


def test_an_admin_finds_a_course_edits_its_hours_and_sees_the_history(
    page: Page, site: str
) -> None:
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/courses")
    expect(page).to_have_url(f"{site}/admin/courses")
    expect(page.get_by_role("heading", level=1)).to_have_text("课程管理")
    accessible(page)
    shoot(page, "admin-courses")

    page.get_by_label("搜索（课程名称、编号、拼音或首字母）").fill("枸杞")
    page.get_by_label("系列").select_option("枸杞")
    page.get_by_role("button", name="查找").click()
    expect(page.get_by_role("status")).to_contain_text("与“枸杞”相关")
    first = page.locator("table.courses tbody tr").first.get_by_role("link")
    code = first.inner_text()
    first.click()
    expect(page).to_have_url(f"{site}/admin/courses/{code}")
    accessible(page)
    hours = page.get_by_label("学时", exact=False).first
    before = hours.input_value()
    after = str(float(before) + 0.5).removesuffix(".0")
    hours.fill(after)
    page.get_by_role("button", name="保存修改").click()
    expect(page).to_have_url(f"{site}/admin/courses/{code}?done=updated")
    expect(page.get_by_role("status").first).to_have_text("修改已保存。")
    expect(page.locator("#history-title")).to_have_text("修改记录（2）")
    latest = page.locator("ol.history > li").first
    expect(latest).to_contain_text("第 2 版 · 修改")
    expect(latest).to_contain_text(ADMIN_KEY)
    expect(latest).to_contain_text(f"学时：{before} → {after}")
    accessible(page)
    shoot(page, "admin-course")


def test_a_concurrent_edit_is_refused_showing_what_changed(page: Page, site: str) -> None:
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/courses/GX-0002")
    expect(page.get_by_role("heading", level=1)).not_to_have_text("")
    title = page.locator("#f-title").input_value()
    with httpx.Client(base_url=site, headers=ADMIN, timeout=30) as other:
        changed = other.patch("/courses/GX-0002", json={"title": "新发展理念的宁夏实践"})
        assert changed.status_code == 200, changed.text
    page.locator("#f-hours").fill("4")
    page.get_by_role("button", name="保存修改").click()
    conflict = page.locator("#conflict")
    expect(conflict).to_contain_text("这门课程已被修改")
    expect(conflict).to_contain_text(f"课程名称：{title} → 新发展理念的宁夏实践")
    expect(page.locator("#f-hours")).to_have_value("4")  # the admin's input kept
    accessible(page)
    shoot(page, "admin-course-conflict")
    page.get_by_role("button", name="保存修改").click()  # seen: saved over the new version
    expect(page.get_by_role("status").first).to_have_text("修改已保存。")
    expect(page.locator("ol.history > li").first).to_contain_text("学时：")


def test_a_bulk_import_dry_run_with_a_refused_row_then_applied(
    page: Page, site: str, tmp_path: Path
) -> None:
    file = tmp_path / "新课程.csv"
    file.write_bytes(
        csv_file(
            [
                HEADER_ZH,
                NEW_ROW,
                [
                    "WS-9102",
                    "护理质量管理",
                    "专业课",
                    "卫生",
                    "护理",
                    "1.3",
                    "2022",
                    "宁夏医科大学",
                    "",
                ],
            ]
        )
    )
    sign_in(page, site, ADMIN_KEY, ADMIN_SECRET, then="/admin/courses/import")
    expect(page.get_by_role("heading", level=1)).to_have_text("批量导入课程")
    accessible(page)
    shoot(page, "admin-course-import")
    page.get_by_label("CSV 或 XLSX 文件").set_input_files(str(file))
    page.get_by_role("button", name="试运行").click()
    report = page.locator("#report")
    expect(report.get_by_role("heading", level=2)).to_have_text("试运行结果（共 2 行）")
    refused = page.locator("table.import-refused tbody tr")
    expect(refused).to_have_count(1)
    expect(refused).to_contain_text("学时：须以 0.5 学时为单位（收到“1.3”）")
    expect(page.locator("table.import-create tbody tr")).to_contain_text("WS-9101")
    accessible(page)
    shoot(page, "admin-course-import-dry-run")

    page.get_by_label("同一文件").set_input_files(str(file))
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#import-error")).to_contain_text("没有写入任何内容")
    page.get_by_label("同一文件").set_input_files(str(file))
    page.get_by_label("只导入有效行").check()
    page.get_by_role("button", name="导入", exact=True).click()
    expect(page.locator("#import-done")).to_contain_text(
        "批量导入课程文件「新课程.csv」：新建 1 门，修改 0 门，未变 0 门，拒绝 1 行（只导入有效行）"
    )
    accessible(page)
    page.goto(f"{site}/admin/courses/WS-9101")
    expect(page.get_by_role("heading", level=1)).to_have_text("基层常见病中医适宜技术")
    page.goto(f"{site}/admin/courses/new")
    accessible(page)
    shoot(page, "admin-course-new")
