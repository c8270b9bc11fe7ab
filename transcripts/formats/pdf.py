"""The transcript as a certificate (A4): title, learner, entries, totals, verdict, and a
QR code to its verification page.

Chinese is set in the standard Adobe CID font STSong-Light (every PDF reader has it or a
substitute for the Adobe-GB1 collection; the file stays small), or, when `NXCE_PDF_FONT`
names a TrueType file (.ttf or .ttc), in that font, embedded as a subset so the page looks
the same everywhere.
"""

from __future__ import annotations

import functools
import io
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.qr import QrCode
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.platypus import (
    KeepTogether,
    Paragraph,
    SimpleDocTemplate,
    Spacer,
    Table,
    TableStyle,
)

from transcripts.codes import grouped
from transcripts.content import Transcript
from transcripts.wording import (
    applied_text,
    conclusion_lines,
    issued_date_text,
    left_out_text,
    not_counted_heading,
    number,
    range_text,
    verdict_text,
)

CID_FONT = "STSong-Light"
WIDTH = A4[0] - 36 * mm  # text width inside 18 mm margins
GRID = colors.HexColor("#9aa5b1")
SHADE = colors.HexColor("#eef1f4")
MUTED = colors.HexColor("#52606d")
WARNING = colors.HexColor("#9b2c2c")


@functools.cache
def font_name(path: Path | None) -> str:
    """Register the font once per process and answer its name."""
    if path is None:
        pdfmetrics.registerFont(UnicodeCIDFont(CID_FONT))
        return CID_FONT
    name = "nxce-" + path.stem
    font = TTFont(name, str(path), subfontIndex=0)  # the first face of a .ttc collection
    pdfmetrics.registerFont(font)
    return name


@functools.cache
def _styles(font: str) -> dict[str, ParagraphStyle]:
    base = ParagraphStyle("base", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    return {
        "base": base,
        "title": ParagraphStyle(
            "title", parent=base, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=2
        ),
        "issuer": ParagraphStyle(
            "issuer", parent=base, fontSize=10, alignment=TA_CENTER, textColor=MUTED
        ),
        "heading": ParagraphStyle(
            "heading", parent=base, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4
        ),
        "cell": ParagraphStyle("cell", parent=base, fontSize=8, leading=10),
        "small": ParagraphStyle("small", parent=base, fontSize=7, leading=9, textColor=MUTED),
        "verdict": ParagraphStyle("verdict", parent=base, fontSize=10.5, leading=15),
        "warning": ParagraphStyle(
            "warning", parent=base, fontSize=10.5, leading=15, textColor=WARNING
        ),
    }


def _grid(font: str, header_rows: int = 1) -> list[tuple[Any, ...]]:
    return [
        ("FONTNAME", (0, 0), (-1, -1), font),
        ("FONTSIZE", (0, 0), (-1, -1), 8),
        ("LEADING", (0, 0), (-1, -1), 10),
        ("GRID", (0, 0), (-1, -1), 0.4, GRID),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("BACKGROUND", (0, 0), (-1, header_rows - 1), SHADE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
    ]


def _text(value: Any) -> str:
    return escape(str(value)) if value is not None else ""


def _learner(content: Transcript, font: str, styles: dict[str, ParagraphStyle]) -> Table:
    learner = content.learner
    cell = styles["cell"]
    rows = [
        ["姓名", learner.name, "身份证号", learner.id_number],
        ["工作单位", Paragraph(_text(learner.employer), cell), "", ""],
        ["系列", learner.series or "—", "现任职称", learner.title_level_label],
        ["学历", learner.degree_label, "统计年度", range_text(content.span)],
    ]
    table = Table(rows, colWidths=[22 * mm, 65 * mm, 22 * mm, WIDTH - 109 * mm])
    style = _grid(font, header_rows=0)
    style += [
        ("SPAN", (1, 1), (3, 1)),
        ("BACKGROUND", (0, 0), (0, -1), SHADE),
        ("BACKGROUND", (2, 0), (2, -1), SHADE),
        ("FONTSIZE", (0, 0), (-1, -1), 9),
        ("LEADING", (0, 0), (-1, -1), 12),
    ]
    table.setStyle(TableStyle(style))
    return table


def _wrap(text: str, font: str, size: float, width: float) -> str:
    """`text` broken into lines no wider than `width`: by character for Chinese, at the
    last space for Latin words. Table cells of plain lines are many times faster to lay
    out than Paragraphs, which matters for transcripts of hundreds of entries."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line, used = "", 0.0
        for char in paragraph:
            advance = _advance(char, font, size)
            if used + advance > width and line:
                space = line.rfind(" ")
                if char != " " and space > 0 and len(line) - space < 16:
                    lines.append(line[:space])
                    line = line[space + 1 :]
                else:
                    lines.append(line.rstrip())
                    line = ""
                used = sum(_advance(c, font, size) for c in line)
                if char == " " and not line:
                    continue
            line += char
            used += advance
        lines.append(line)
    return "\n".join(lines)


MAX_CELL_LINES = 40  # a row stays shorter than a page


def _fit(wrapped: str) -> str:
    """At most MAX_CELL_LINES lines: a longer text (a description and evidence of 1000
    characters each) ends with a note that the other formats carry it whole."""
    lines = wrapped.split("\n")
    if len(lines) <= MAX_CELL_LINES:
        return wrapped
    return "\n".join([*lines[: MAX_CELL_LINES - 1], "……（全文见 JSON、XLSX 或 CSV 版本）"])


@functools.cache
def _advance(char: str, font: str, size: float) -> float:
    return float(pdfmetrics.stringWidth(char, font, size))


_ENTRY_WIDTHS = (9 * mm, 19 * mm, None, 14 * mm, 11 * mm, 15 * mm, 17 * mm)


def _entry_widths() -> list[float]:
    fixed = sum(w for w in _ENTRY_WIDTHS if w is not None)
    return [w if w is not None else WIDTH - fixed for w in _ENTRY_WIDTHS]


def _entries(content: Transcript, font: str) -> Table:
    widths = _entry_widths()
    inner = widths[2] - 8  # the cell's left and right padding
    rows: list[list[Any]] = [["序号", "日期", "课程 / 事项", "类别", "学时", "状态", "依据"]]
    for n, line in enumerate(content.entries, 1):
        title = line.title
        if line.course_code:
            title = f"{line.course_code} {title}"
        if line.evidence:
            title += f"\n证明材料：{line.evidence}"
        if line.status_note:
            title += f"\n{line.status_note}"
        rows.append(
            [
                str(n),
                line.date,
                _fit(_wrap(title, font, 8, inner)),
                line.category_label,
                number(line.hours),
                line.status_label + ("" if line.counted else "*"),
                line.clause,
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = _grid(font)
    style += [("ALIGN", (4, 1), (4, -1), "RIGHT"), ("ALIGN", (0, 1), (0, -1), "RIGHT")]
    for n, line in enumerate(content.entries, 1):
        if not line.counted:
            style.append(("TEXTCOLOR", (0, n), (-1, n), MUTED))
    table.setStyle(TableStyle(style))
    return table


def _totals(content: Transcript, font: str) -> Table:
    sums = content.totals
    rows = [["年度", "公需课", "专业课", "合计"]]
    rows += [
        [str(y.year), number(y.public), number(y.professional), number(y.total)]
        for y in sums.by_year
    ]
    rows.append(["合计", number(sums.public), number(sums.professional), number(sums.total)])
    table = Table(rows, colWidths=[30 * mm, 30 * mm, 30 * mm, 30 * mm])
    style = _grid(font)
    style += [
        ("ALIGN", (1, 1), (-1, -1), "RIGHT"),
        ("BACKGROUND", (0, -1), (-1, -1), SHADE),
    ]
    table.setStyle(TableStyle(style))
    return table


def _audit(content: Transcript, font: str, styles: dict[str, ParagraphStyle]) -> list[Any]:
    audit = content.audit
    if audit is None:
        return []
    rows = [
        ["", "总学时", "其中公需课"],
        ["要求", number(audit.required.total), number(audit.required.public)],
        ["计入", number(audit.earned.total), number(audit.earned.public)],
        ["差额", number(audit.shortfall.total), number(audit.shortfall.public)],
    ]
    table = Table(rows, colWidths=[30 * mm, 30 * mm, 30 * mm], hAlign="LEFT")
    style = _grid(font)
    style += [("ALIGN", (1, 1), (-1, -1), "RIGHT"), ("BACKGROUND", (0, 0), (0, -1), SHADE)]
    table.setStyle(TableStyle(style))
    computed = verdict_text(audit)
    if audit.conclusion is not None:
        computed = "出具时系统计算：" + computed
    parts: list[Any] = [Paragraph("审验结论", styles["heading"])]
    parts += [
        Paragraph(_text(line), styles["warning" if line.startswith("注意") else "verdict"])
        for line in conclusion_lines(audit)
    ]
    parts += [Paragraph(_text(computed), styles["verdict"]), Spacer(1, 3 * mm), table]
    for rule in audit.applied:
        parts.append(Paragraph("· " + _text(applied_text(rule)), styles["small"]))
    return [KeepTogether(parts)]


_LEFT_OUT_WIDTHS = (19 * mm, 22 * mm, None, 12 * mm, 11 * mm, 55 * mm)


def _not_counted(content: Transcript, font: str, styles: dict[str, ParagraphStyle]) -> list[Any]:
    """The audit's not-counted entries in a section of their own, each with its reason."""
    lines = content.not_counted
    if content.audit is None:
        return []
    heading = Paragraph(not_counted_heading(lines), styles["heading"])
    if not lines:
        return [heading, Paragraph("审验周期内的学时记录均已计入。", styles["base"])]
    fixed = sum(w for w in _LEFT_OUT_WIDTHS if w is not None)
    widths = [w if w is not None else WIDTH - fixed for w in _LEFT_OUT_WIDTHS]
    rows: list[list[Any]] = [["日期", "类型", "事项", "类别", "学时", "不计入的原因"]]
    for line in lines:
        rows.append(
            [
                line.date,
                _fit(_wrap(line.kind_label, font, 8, widths[1] - 8)),
                _fit(_wrap(line.title, font, 8, widths[2] - 8)),
                line.category_label,
                number(line.hours),
                _fit(_wrap(line.reason_note, font, 8, widths[5] - 8)),
            ]
        )
    table = Table(rows, colWidths=widths, repeatRows=1)
    style = _grid(font)
    style += [("ALIGN", (4, 1), (4, -1), "RIGHT")]
    table.setStyle(TableStyle(style))
    return [heading, table]


def _qr(url: str, size: float) -> QrCode:
    """Drawn straight on the page (reportlab's QR widget builds a shape per module and
    encodes twice: several times slower)."""
    return QrCode(url, width=size, height=size, qrLevel="M", qrBorder=2)


def _seal(content: Transcript, font: str, styles: dict[str, ParagraphStyle]) -> Table:
    code = content.verification_code or ""
    url = content.verify_url or ""
    text = [
        Paragraph(f"验证码：{_text(grouped(code))}", styles["verdict"]),
        Paragraph(f"验证网址：{_text(url)}", styles["small"]),
        Spacer(1, 2 * mm),
        Paragraph(
            "扫描二维码或访问验证网址，核对本证明所载姓名、统计年度、学时合计与审验结论。"
            "内容不一致的，以验证结果为准。",
            styles["small"],
        ),
        Spacer(1, 3 * mm),
        Paragraph(f"出具单位：{_text(content.issuer)}", styles["base"]),
        Paragraph(f"出具日期：{issued_date_text(content.issued_at)}", styles["base"]),
    ]
    table = Table([[_qr(url, 32 * mm), text]], colWidths=[38 * mm, WIDTH - 38 * mm])
    table.setStyle(
        TableStyle(
            [
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BOX", (0, 0), (-1, -1), 0.6, GRID),
                ("TOPPADDING", (0, 0), (-1, -1), 4),
            ]
        )
    )
    return table


def pdf_bytes(content: Transcript, font_path: Path | None = None) -> bytes:
    font = font_name(font_path)
    styles = _styles(font)
    code = grouped(content.verification_code or "")
    out = io.BytesIO()

    def footer(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setFont(font, 7.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(18 * mm, 10 * mm, f"{content.document} · 验证码 {code}")
        canvas.drawRightString(A4[0] - 18 * mm, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    document = SimpleDocTemplate(
        out,
        pagesize=A4,
        leftMargin=18 * mm,
        rightMargin=18 * mm,
        topMargin=16 * mm,
        bottomMargin=18 * mm,
        title=content.document,
        author=content.issuer,
        subject=f"{content.learner.name} {range_text(content.span)}",
    )
    story: list[Any] = [
        Paragraph(content.document, styles["title"]),
        Paragraph(_text(content.issuer), styles["issuer"]),
        Spacer(1, 5 * mm),
        _learner(content, font, styles),
        Paragraph(f"学时明细（{len(content.entries)}条）", styles["heading"]),
    ]
    if content.entries:
        story.append(_entries(content, font))
    else:
        story.append(Paragraph("统计年度内没有学时记录。", styles["base"]))
    story += [Paragraph("学时合计", styles["heading"]), _totals(content, font)]
    note = left_out_text(content.totals)
    if note:
        story.append(Paragraph("* " + _text(note), styles["small"]))
    story += _audit(content, font, styles)
    story += _not_counted(content, font, styles)
    story += [Spacer(1, 6 * mm), KeepTogether([_seal(content, font, styles)])]
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return out.getvalue()
