"""CSV (UTF-8 with a BOM, so Excel reads the Chinese) and XLSX (typed cells) transcripts.

Text that a spreadsheet would run as a formula (=, +, -, @ first) is written as text:
titles and evidence come from people, and a transcript must not execute anything.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import date
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment
from openpyxl.utils import get_column_letter

from credits.labels import DECISION_LABELS
from nxce.core import sheets
from nxce.core.sheets import put as _put
from transcripts.content import Entry, Transcript
from transcripts.wording import (
    applied_text,
    basis_text,
    issued_local,
    left_out_text,
    moment_text,
    range_text,
    seen_text,
    verdict_text,
)

ENTRY_HEADER = (
    "序号",
    "日期",
    "年度",
    "类型",
    "课程编号",
    "课程名称/事项",
    "类别",
    "学时",
    "状态",
    "计入",
    "依据条款",
    "说明",
    "证明材料",
    "条目编号",
)


def _entry_row(n: int, line: Entry) -> list[Any]:
    return [
        n,
        date.fromisoformat(line.date),
        line.year,
        line.kind_label,
        line.course_code or "",
        line.title,
        line.category_label,
        line.hours,
        line.status_label,
        "是" if line.counted else "否",
        line.clause,
        line.status_note or "",
        line.evidence or "",
        line.entry_id,
    ]


def _head(content: Transcript) -> list[list[Any]]:
    learner = content.learner
    return [
        [content.document],
        ["出具单位", content.issuer],
        ["出具时间", issued_local(content.issued_at).strftime("%Y-%m-%d %H:%M (UTC+8)")],
        ["验证码", content.verification_code or ""],
        ["验证网址", content.verify_url or ""],
        [],
        ["姓名", learner.name],
        ["身份证号", learner.id_number],
        ["学员编号", learner.learner_id],
        ["工作单位", learner.employer],
        ["系列", learner.series or ""],
        ["现任职称", learner.title_level_label],
        ["学历", learner.degree_label],
        ["统计年度", range_text(content.span)],
    ]


def _totals(content: Transcript) -> list[list[Any]]:
    sums = content.totals
    rows: list[list[Any]] = [["年度", "公需课", "专业课", "合计"]]
    rows += [[y.year, y.public, y.professional, y.total] for y in sums.by_year]
    rows.append(["合计", sums.public, sums.professional, sums.total])
    rows.append(["待审核学时（不计入）", sums.pending_review])
    rows.append(["已撤销学时（不计入）", sums.reversed])
    return rows


def _audit(content: Transcript) -> list[list[Any]]:
    audit = content.audit
    if audit is None:
        return []
    window = audit.window
    rows: list[list[Any]] = [
        ["审验结论", verdict_text(audit)],
        ["结论来源", basis_text(audit)],
        *_conclusion(content),
        ["申报", f"{audit.year}年 {audit.level_label}"],
        ["审验周期", f"{window.from_}—{window.to}年"],
        ["结果", "符合" if audit.passed else "不符合"],
        ["", "总学时", "公需课"],
        ["要求", audit.required.total, audit.required.public],
        ["计入", audit.earned.total, audit.earned.public],
        ["差额", audit.shortfall.total, audit.shortfall.public],
    ]
    rows += [["适用规则", applied_text(rule)] for rule in audit.applied]
    return rows


def _conclusion(content: Transcript) -> list[list[Any]]:
    """The auditor's conclusion, a fact a row (none when the verdict is computed)."""
    audit = content.audit
    found = None if audit is None else audit.conclusion
    if audit is None or found is None:
        return []
    rows: list[list[Any]] = [
        ["审验人结论", DECISION_LABELS[found.decision]],
        ["审验人", f"{found.by_name}（{found.by}）"],
        ["结论时间", moment_text(found.at)],
        ["结论理由", found.reason],
        ["结论作出时系统计算", seen_text(found)],
    ]
    if audit.changed_since_conclusion:
        rows.append(["结论后变化", "结论作出后学时记录有变化"])
    return rows


NOT_COUNTED_HEADER = ("日期", "类型", "事项", "类别", "学时", "不计入的原因", "条目编号")


def _not_counted(content: Transcript) -> list[list[Any]]:
    """The audit's not-counted entries, a section of their own (none without an audit)."""
    if content.audit is None:
        return []
    rows: list[list[Any]] = [[f"不计入的学时（{len(content.not_counted)}条）"]]
    rows.append(list(NOT_COUNTED_HEADER))
    for line in content.not_counted:
        rows.append(
            [
                line.date,
                line.kind_label,
                line.title,
                line.category_label,
                line.hours,
                line.reason_note,
                line.entry_id,
            ]
        )
    return rows


def _csv_rows(content: Transcript) -> Iterator[list[Any]]:
    yield from _head(content)
    yield []
    yield list(ENTRY_HEADER)
    for n, line in enumerate(content.entries, 1):
        row = _entry_row(n, line)
        row[1] = line.date
        yield row
    yield []
    yield from _totals(content)
    note = left_out_text(content.totals)
    if note:
        yield ["说明", note]
    audit = _audit(content)
    if audit:
        yield []
        yield from audit
        yield []
        yield from _not_counted(content)


def csv_bytes(content: Transcript) -> bytes:
    return sheets.csv_bytes(_csv_rows(content))


# --- XLSX -----------------------------------------------------------------------------

_BOLD = sheets.BOLD
_WRAP = Alignment(wrap_text=True, vertical="top")


def _entries_sheet(sheet: Any, content: Transcript) -> None:
    sheet.title = "学时明细"
    _put(sheet, 1, list(ENTRY_HEADER))
    for cell in sheet[1]:
        cell.font = _BOLD
    for n, line in enumerate(content.entries, 1):
        row = _entry_row(n, line)
        row[9] = line.counted
        _put(sheet, n + 1, row)
    widths = (6, 12, 7, 12, 12, 40, 9, 7, 9, 7, 10, 30, 30, 36)
    for column, width in enumerate(widths, 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    sheet.freeze_panes = "A2"
    last = len(content.entries) + 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(ENTRY_HEADER))}{last}"


def _totals_sheet(sheet: Any, content: Transcript) -> None:
    row = 1
    blocks = [_head(content), _totals(content), _audit(content)]
    note = left_out_text(content.totals)
    if note:
        blocks[1] = [*blocks[1], ["说明", note]]
    for block in blocks:
        for values in block:
            _put(sheet, row, values)
            if values:
                sheet.cell(row=row, column=1).font = _BOLD
            row += 1
        row += 1
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["B"].width = 60
    sheet.column_dimensions["C"].width = 12
    sheet.column_dimensions["D"].width = 12
    for cells in sheet.iter_rows(min_col=2, max_col=2):
        for cell in cells:
            cell.alignment = _WRAP


def _not_counted_sheet(sheet: Any, content: Transcript) -> None:
    for row, values in enumerate(_not_counted(content), 1):
        _put(sheet, row, values)
    for cell in sheet[2]:
        cell.font = _BOLD
    sheet.cell(row=1, column=1).font = _BOLD
    for column, width in enumerate((12, 14, 40, 9, 7, 50, 36), 1):
        sheet.column_dimensions[get_column_letter(column)].width = width
    for cells in sheet.iter_rows(min_row=3, min_col=6, max_col=6):
        for cell in cells:
            cell.alignment = _WRAP


def xlsx_bytes(content: Transcript) -> bytes:
    book = Workbook()
    _entries_sheet(book.active, content)
    _totals_sheet(book.create_sheet("学时汇总"), content)
    if content.audit is not None:
        _not_counted_sheet(book.create_sheet("不计入的学时"), content)
    book.properties.title = content.document
    book.properties.creator = content.issuer
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
