"""Bulk import of courses (`POST /courses/import`): a dry run that says per row what would
be created, changed, left or refused; the same plan applied in one write; a refused row,
a changed file or a catalog changed in between writes nothing; the administrative log."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
from openpyxl import Workbook

from catalog.models import Course, CourseChange
from nxce.core import admin_log, clients
from nxce.core.clients import Scope
from tests.conftest import ADMIN, ADMIN_KEY, basic

HEADER_ZH = ["课程编号", "课程名称", "类别", "系列", "专业", "学时", "年度", "提供机构", "标签"]
NEW_ROW = ["WS-9101", "基层常见病中医适宜技术", "专业课", "卫生", "中医药", "2.5", "2022",
           "宁夏医学继续教育培训中心", "中医、基层卫生"]  # fmt: skip


def csv_file(rows: list[list[str]], *, bom: bool = True) -> bytes:
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows(rows)
    return ("\ufeff" if bom else "").encode() + out.getvalue().encode("utf-8")


async def import_file(
    client: httpx.AsyncClient, content: bytes, name: str = "courses.csv", **params: Any
) -> httpx.Response:
    files = {"file": (name, content, "text/csv")}
    return await client.post("/courses/import", files=files, params=params, headers=ADMIN)


async def apply(
    client: httpx.AsyncClient, content: bytes, dry: dict[str, Any], **params: Any
) -> httpx.Response:
    return await import_file(
        client, content, dry_run="false", sha256=dry["sha256"], plan=dry["plan"], **params
    )


async def course(client: httpx.AsyncClient, code: str) -> dict[str, Any]:
    response = await client.get(f"/courses/{code}")
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def mixed_file() -> bytes:
    """One new course, one changed (GX-0001's hours), one unchanged, one refused."""
    return csv_file(
        [
            ["课程编号", "学时", "课程名称", "类别", "系列", "专业", "年度", "提供机构"],
            ["WS-9101", "2.5", "基层常见病中医适宜技术", "专业课", "卫生", "中医药", "2022",
             "宁夏医学继续教育培训中心"],
            ["GX-0001", "2"],
            ["GX-0002", ""],
            ["WS-9102", "1.3", "宁夏枸杞病虫害绿色防控", "专业课", "枸杞", "植物保护", "2022",
             "宁夏农林科学院"],
        ]
    )  # fmt: skip


async def test_a_dry_run_reports_each_row_and_writes_nothing(client: httpx.AsyncClient) -> None:
    before = await course(client, "GX-0001")
    assert before["hours"] == 1.5
    # GX-0002 row sets hours to blank: blank is no number, so it is refused too.
    content = mixed_file()
    response = await import_file(client, content)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["dry_run"] is True and body["applied"] is False
    assert len(body["sha256"]) == 64 and body["plan"]
    assert [(r["row"], r["code"], r["action"]) for r in body["rows"]] == [
        (2, "WS-9101", "create"), (3, "GX-0001", "update"),
        (4, "GX-0002", "refused"), (5, "WS-9102", "refused"),
    ]  # fmt: skip
    assert body["rows"][1]["changes"] == {"hours": {"from": 1.5, "to": 2.0}}
    assert body["rows"][0]["changes"]["title"] == {"to": "基层常见病中医适宜技术"}
    refused = body["rows"][3]["errors"]
    assert refused == [
        {"column": "学时", "value": "1.3", "message": "must be a multiple of 0.5, got 1.3"}
    ]
    assert body["rows"][2]["errors"][0]["column"] == "学时"
    assert (body["created"], body["updated"], body["unchanged"], body["refused"]) == (1, 1, 0, 2)
    assert (await client.get("/courses/WS-9101")).status_code == 404
    assert (await course(client, "GX-0001"))["revision"] == before["revision"]


async def test_a_file_with_a_refused_row_is_never_partly_applied(
    client: httpx.AsyncClient,
) -> None:
    content = mixed_file()
    dry = (await import_file(client, content)).json()
    lines_before = await admin_log.entries(area=admin_log.Area.catalog)
    refused = await apply(client, content, dry)
    assert refused.status_code == 422, refused.text
    problem = refused.json()
    assert "2 of 4 rows are refused" in problem["detail"] and "rows=valid" in problem["detail"]
    assert problem["report"]["refused"] == 2
    assert (await client.get("/courses/WS-9101")).status_code == 404
    assert (await course(client, "GX-0001"))["hours"] == 1.5
    assert await admin_log.entries(area=admin_log.Area.catalog) == lines_before

    applied = await apply(client, content, dry, rows="valid")
    assert applied.status_code == 200, applied.text
    assert applied.json()["applied"] is True
    new = await course(client, "WS-9101")
    assert (new["title"], new["hours"], new["series"], new["status"]) == (
        "基层常见病中医适宜技术", 2.5, "卫生", "published",
    )  # fmt: skip
    assert (await course(client, "GX-0001"))["hours"] == 2.0
    assert (await client.get("/courses/WS-9102")).status_code == 404
    history = (await client.get("/courses/GX-0001/history", headers=ADMIN)).json()
    assert history[-1]["changes"] == {"hours": {"from": 1.5, "to": 2.0}}
    assert history[-1]["by"] == ADMIN_KEY


async def test_an_import_writes_one_log_line_with_counts_and_one_per_course(
    client: httpx.AsyncClient,
) -> None:
    content = mixed_file()
    dry = (await import_file(client, content, name="宁夏课程.csv")).json()
    applied = await apply(client, content, dry, rows="valid", name="宁夏课程.csv")
    assert applied.status_code == 200
    lines = await admin_log.entries(area=admin_log.Area.catalog)
    summary = next(line for line in lines if line.action == "course.imported")
    assert summary.by == ADMIN_KEY and summary.target == f"import:{dry['sha256'][:12]}"
    assert summary.summary == (
        "批量导入课程文件「宁夏课程.csv」：新建 1 门，修改 1 门，未变 0 门，"
        "拒绝 2 行（只导入有效行）"
    )
    assert summary.detail["refused_rows"] == [4, 5] and summary.detail["sha256"] == dry["sha256"]
    per_course = {line.target: line for line in lines if line.action != "course.imported"}
    assert set(per_course) == {"WS-9101", "GX-0001"}
    assert per_course["WS-9101"].action == "course.created"
    changed = per_course["GX-0001"]
    assert changed.action == "course.updated" and "学时：1.5 → 2" in changed.summary
    assert changed.detail["changes"] == {"hours": {"from": 1.5, "to": 2.0}}
    assert changed.detail["import"] == dry["sha256"][:12]


async def test_a_file_changed_since_the_dry_run_is_refused_at_apply(
    client: httpx.AsyncClient,
) -> None:
    content = csv_file([HEADER_ZH, NEW_ROW])
    dry = (await import_file(client, content)).json()
    changed = csv_file([HEADER_ZH, [*NEW_ROW[:5], "3", *NEW_ROW[6:]]])
    response = await apply(client, changed, dry)
    assert response.status_code == 409, response.text
    assert response.json()["detail"].startswith("sha256: the file is not the one the dry run read")
    assert (await client.get("/courses/WS-9101")).status_code == 404
    assert (await apply(client, content, dry)).status_code == 200
    assert (await course(client, "WS-9101"))["hours"] == 2.5


async def test_a_catalog_changed_since_the_dry_run_is_refused_at_apply(
    client: httpx.AsyncClient,
) -> None:
    content = csv_file([["code", "hours"], ["GX-0001", "3"]])
    dry = (await import_file(client, content)).json()
    patched = await client.patch(
        "/courses/GX-0001", json={"title": "新发展理念的核心要义"}, headers=ADMIN
    )
    assert patched.status_code == 200
    response = await apply(client, content, dry)
    assert response.status_code == 409, response.text
    assert "the catalog changed since the dry run" in response.json()["detail"]
    assert (await course(client, "GX-0001"))["hours"] == 1.5
    again = (await import_file(client, content)).json()
    assert (await apply(client, content, again)).status_code == 200
    assert (await course(client, "GX-0001"))["hours"] == 3.0


async def test_apply_needs_the_dry_runs_digests(client: httpx.AsyncClient) -> None:
    content = csv_file([HEADER_ZH, NEW_ROW])
    response = await import_file(client, content, dry_run="false")
    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == "sha256"


async def test_english_headers_xlsx_and_formula_looking_cells_are_text(
    client: httpx.AsyncClient,
) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["code", "title", "category", "series", "subject", "hours", "year", "base",
                  "delivery", "description"])  # fmt: skip
    sheet.append(["GX-9201", "=1+1 数字素养", "public", None, "数字素养", 1.5, 2022,
                  "宁夏专业技术人员继续教育公共服务中心", "手机", "@在线学习"])  # fmt: skip
    sheet.cell(row=2, column=2).data_type = "s"
    out = io.BytesIO()
    book.save(out)
    content = out.getvalue()
    files = {"file": ("courses.xlsx", content, "application/octet-stream")}
    dry = (await client.post("/courses/import", files=files, headers=ADMIN)).json()
    assert [r["action"] for r in dry["rows"]] == ["create"], dry
    params = {"dry_run": "false", "sha256": dry["sha256"], "plan": dry["plan"]}
    response = await client.post("/courses/import", files=files, params=params, headers=ADMIN)
    assert response.status_code == 200, response.text
    new = await course(client, "GX-9201")
    assert (new["title"], new["description"]) == ("=1+1 数字素养", "@在线学习")
    assert (new["category"], new["series"], new["delivery"]) == ("public", None, "mobile")


async def test_refusals_name_the_column_and_value(client: httpx.AsyncClient) -> None:
    content = csv_file(
        [
            ["编号", "名称", "类别", "系列", "专业", "学时", "年度", "继续教育基地"],
            ["WS-9301", "护理质量管理", "专业科", "卫生", "护理", "2", "2022", "宁夏医科大学"],
            ["WS-9302", "护理质量管理", "公需课", "卫生", "护理", "2", "2022", "宁夏医科大学"],
            ["WS-9303", "护理质量管理", "专业课", "卫生", "护理", "两学时", "二〇二二", "宁大"],
            ["GX-0001", "核心要义"],
            ["GX-0001", "核心要义（二）"],
            ["ws 9304", "护理质量管理", "专业课", "卫生", "护理", "2", "2022", "宁夏医科大学"],
        ]
    )  # fmt: skip
    body = (await import_file(client, content)).json()
    errors = {r["row"]: [(e["column"], e["value"]) for e in r["errors"]] for r in body["rows"]}
    assert errors[2] == [("类别", "专业科")]
    assert errors[3] == [("系列", "卫生")]
    assert errors[4] == [("学时", "两学时"), ("年度", "二〇二二")]
    assert errors[5] == []
    assert errors[6] == [("编号", "GX-0001")]
    assert "row 5 has it already" in body["rows"][4]["errors"][0]["message"]
    assert errors[7] == [("编号", "ws 9304")]
    assert body["rows"][3]["action"] == "update"


async def test_a_cell_without_a_column_name_or_too_long_is_refused_briefly(
    client: httpx.AsyncClient,
) -> None:
    content = csv_file(
        [
            ["课程编号", "", "学时"],
            ["GX-0001", "忘了列名", "2"],
            ["GX-0002", "", "2", "多出一格"],
            ["GX-0003", "", "2.5"],
        ]
    )
    rows = (await import_file(client, content)).json()["rows"]
    assert (
        rows[0]["errors"][0]["value"] == "忘了列名" and rows[1]["errors"][0]["value"] == "多出一格"
    )
    assert "without a name" in rows[0]["errors"][0]["message"]
    assert rows[2]["action"] == "update"
    long = csv_file([["课程编号", "课程名称"], ["GX-0001", "长" * 5000]])
    error = (await import_file(client, long)).json()["rows"][0]["errors"][0]
    assert error["column"] == "课程名称" and len(error["value"]) == 200


async def test_a_file_with_an_unknown_column_or_not_a_table_is_refused_whole(
    client: httpx.AsyncClient,
) -> None:
    unknown = await import_file(client, csv_file([["课程编号", "学分"], ["GX-0001", "2"]]))
    assert unknown.status_code == 422
    assert "unknown columns '学分'" in unknown.json()["detail"]
    no_code = await import_file(client, csv_file([["学时"], ["2"]]))
    assert no_code.status_code == 422 and "课程编号/code" in no_code.json()["detail"]
    binary = await import_file(client, b"\xd0\xcf\x11\xe0" + b"\x00" * 100, name="old.xls")
    assert binary.status_code == 415
    gbk = ",".join(HEADER_ZH).encode("gb18030") + b"\r\n" + ",".join(NEW_ROW).encode("gb18030")
    read = await import_file(client, gbk)
    assert read.status_code == 200 and read.json()["rows"][0]["action"] == "create"


async def test_imported_courses_are_searchable_at_once(client: httpx.AsyncClient) -> None:
    content = csv_file([HEADER_ZH, NEW_ROW, ["GX-0003", "", "", "", "", "", "", "", ""]])
    body = (await import_file(client, content)).json()
    assert body["rows"][1]["action"] == "refused"
    assert (await apply(client, content, body, rows="valid")).status_code == 200
    found = await client.get("/search", params={"q": "中医适宜技术"})
    assert "WS-9101" in [hit["code"] for hit in found.json()["hits"]]


async def test_only_admins_import(client: httpx.AsyncClient) -> None:
    content = csv_file([HEADER_ZH, NEW_ROW])
    files = {"file": ("c.csv", content, "text/csv")}
    assert (await client.post("/courses/import", files=files)).status_code == 401
    await clients.create(key="pingshen", name="评审委员会", scopes=[Scope.auditor],
                         secret="pingshen-secret")  # fmt: skip
    await clients.create(key="zw-app", name="张伟", scopes=[Scope.statements_write],
                         secret="zw-app-secret-1", learner_id="zhangwei")  # fmt: skip
    for headers in (basic("pingshen", "pingshen-secret"), basic("zw-app", "zw-app-secret-1")):
        response = await client.post("/courses/import", files=files, headers=headers)
        assert response.status_code == 403


async def test_the_json_api_writes_log_lines(client: httpx.AsyncClient) -> None:
    new = {"code": "WS-9401", "title": "医院感染防控实务", "category": "professional",
           "series": "卫生", "subject": "医院管理", "hours": 2.0, "year": 2022,
           "base": "宁夏医学继续教育培训中心"}  # fmt: skip
    assert (await client.post("/courses", json=new, headers=ADMIN)).status_code == 201
    patch = {"hours": 3.5}
    assert (await client.patch("/courses/WS-9401", json=patch, headers=ADMIN)).status_code == 200
    assert (await client.delete("/courses/WS-9401", headers=ADMIN)).status_code == 200
    assert (await client.post("/courses/WS-9401/restore", headers=ADMIN)).status_code == 200
    lines = await admin_log.entries(target="WS-9401")
    assert [line.action for line in reversed(lines)] == [
        "course.created", "course.updated", "course.retired", "course.restored",
    ]  # fmt: skip
    assert all(line.by == ADMIN_KEY and line.area == admin_log.Area.catalog for line in lines)
    assert lines[2].summary == "修改课程 WS-9401《医院感染防控实务》：学时：2 → 3.5"
    assert lines[1].detail["changes"] == {"status": {"from": "published", "to": "retired"}}
    assert lines[0].summary == "恢复课程 WS-9401《医院感染防控实务》"


async def test_four_thousand_rows_dry_run_and_apply(client: httpx.AsyncClient) -> None:
    """At the catalog's size: 4,000 rows, half new courses, half changed hours."""
    existing = await Course.find({"category": "professional"}).sort("code").limit(2000).to_list()
    rows = [HEADER_ZH]
    for n, c in enumerate(existing):
        hours = c.hours + 0.5 if c.hours < 199 else 1.0
        rows.append([c.code, c.title, "专业课", c.series or "", c.subject, f"{hours:g}",
                     str(c.year), c.base, "、".join(c.tags)])  # fmt: skip
        rows.append([f"IM-{n:05d}", f"批量导入测试课程{n}", "专业课", "枸杞", "枸杞栽培",
                     "1.5", "2022", "宁夏农林科学院", "枸杞"])  # fmt: skip
    content = csv_file(rows)
    dry = await import_file(client, content)
    assert dry.status_code == 200, dry.text[:500]
    body = dry.json()
    assert (body["created"], body["updated"], body["refused"]) == (2000, 2000, 0)
    changes_before = await CourseChange.find_all().count()
    applied = await apply(client, content, body)
    assert applied.status_code == 200, applied.text[:500]
    assert await Course.find({"code": {"$regex": "^IM-"}}).count() == 2000
    assert await CourseChange.find_all().count() == changes_before + 4000
    first = existing[0]
    assert (await course(client, first.code))["hours"] == first.hours + 0.5
    found = await client.get("/search", params={"q": "批量导入测试课程1999"})
    assert "IM-01999" in [hit["code"] for hit in found.json()["hits"]]


async def test_files_past_the_json_limit_are_taken_up_to_20_mib(client: httpx.AsyncClient) -> None:
    rows = [[*HEADER_ZH, "课程简介"]]
    for n in range(400):
        rows.append([f"WS-8{n:03d}", *NEW_ROW[1:], "中医适宜技术的操作规范。" * 250])
    content = csv_file(rows)
    assert len(content) > 3 * 1024 * 1024
    response = await import_file(client, content)
    assert response.status_code == 200, response.text[:300]
    assert response.json()["created"] == 400
    too_big = await import_file(client, content * 7)
    assert too_big.status_code == 413
    body = b"{" + b" " * (2 * 1024 * 1024) + b"}"
    headers = {**ADMIN, "Content-Type": "application/json"}
    json_route = await client.post("/courses", content=body, headers=headers)
    assert json_route.status_code == 413
