"""A base's CSV file of programme results (§五(二): 根据考试考核结果如实出具证明), read row
by row for the bulk upload page.

Columns `learner_id, passed, assessed_on, score, remarks` (a header row names them, in any
order; `score` and `remarks` may be left out). UTF-8 with or without a byte-order mark; a
file in another encoding (Excel saves GBK when asked for "CSV") is refused whole, saying
so, before any row is read. Each row is read on its own: a row that cannot be read is
reported with its line and why, and the others go on.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date

COLUMNS = ("learner_id", "passed", "assessed_on", "score", "remarks")
REQUIRED = ("learner_id", "passed", "assessed_on")
MAX_ROWS = 5000  # our limit: a file of results is one base's assessments, not a year's
MAX_REMARKS = 500
PASSED = {"true": True, "1": True, "是": True, "合格": True, "通过": True, "yes": True}
FAILED = {"false": False, "0": False, "否": False, "不合格": False, "不通过": False, "no": False}
_DAY = re.compile(r"^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$")  # 2022-06-03, Excel's 2022/6/3


class FileRefused(Exception):
    """The file as a whole cannot be read (its encoding, its header, its size); says why
    in Chinese."""


@dataclass(frozen=True, slots=True)
class ResultRow:
    line: int
    learner_id: str
    passed: bool
    assessed_on: date
    score: float | None
    remarks: str | None


@dataclass(frozen=True, slots=True)
class RowRefused:
    line: int
    learner_id: str
    reason: str


def decode(content: bytes) -> str:
    """The file's text: UTF-8, its byte-order mark dropped; anything else refused."""
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        hint = ""
        try:
            content.decode("gb18030")
            hint = "看起来是 GBK（GB18030）编码，Excel 另存为“CSV（逗号分隔）”时常用此编码。"
        except UnicodeDecodeError:
            pass
        raise FileRefused(
            "文件不是 UTF-8 编码，未读取任何一行。"
            + hint
            + "请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后重新上传。"
        ) from None
    if "\x00" in text:
        raise FileRefused("文件含有空字符（\\0），不是 CSV 文本文件，未读取任何一行。")
    return text


def _header(fields: list[str] | None) -> list[str]:
    names = [(f or "").strip().lower() for f in fields or []]
    missing = [c for c in REQUIRED if c not in names]
    if missing:
        raise FileRefused(
            f"第 1 行应为列名 {', '.join(COLUMNS)}（score、remarks 可省略），"
            f"缺少 {', '.join(missing)}，未读取任何一行。"
        )
    unknown = [n for n in names if n and n not in COLUMNS]
    if unknown:
        raise FileRefused(f"第 1 行有未知的列 {', '.join(unknown)}，未读取任何一行。")
    return names


def _day(value: str) -> date | str:
    found = _DAY.match(value)
    if found is None:
        return f"考核日期 assessed_on 应为 2022-06-03 这样的日期，收到 {value[:20]!r}"
    try:
        return date(int(found[1]), int(found[2]), int(found[3]))
    except ValueError:
        return f"考核日期 assessed_on 不是有效日期，收到 {value[:20]!r}"


def _score(value: str) -> float | str | None:
    if not value:
        return None
    try:
        score = float(value)
    except ValueError:
        return f"成绩 score 应为 0 到 100 的数，收到 {value[:20]!r}"
    if not 0 <= score <= 100:
        return f"成绩 score 应为 0 到 100 的数，收到 {value[:20]!r}"
    return score


def _row(line: int, cells: dict[str, str]) -> ResultRow | RowRefused:
    learner_id = cells.get("learner_id", "")
    passed_text = cells.get("passed", "").lower()
    if not learner_id:
        return RowRefused(line, "", "学员编号 learner_id 为空")
    if passed_text not in PASSED and passed_text not in FAILED:
        why = f"是否合格 passed 应为 true/false（或 是/否、合格/不合格），收到 {passed_text[:20]!r}"
        return RowRefused(line, learner_id, why)
    day = _day(cells.get("assessed_on", ""))
    score = _score(cells.get("score", ""))
    remarks = cells.get("remarks", "") or None
    for problem in (day, score):
        if isinstance(problem, str):
            return RowRefused(line, learner_id, problem)
    if remarks is not None and len(remarks) > MAX_REMARKS:
        why = f"备注 remarks 最多 {MAX_REMARKS} 个字，收到 {len(remarks)} 个"
        return RowRefused(line, learner_id, why)
    assert isinstance(day, date) and not isinstance(score, str)
    return ResultRow(line, learner_id, {**PASSED, **FAILED}[passed_text], day, score, remarks)


def rows(content: bytes) -> list[ResultRow | RowRefused]:
    """Every row of the file, read or refused, in file order (lines counted from the
    header's 1; blank lines skipped)."""
    reader = csv.reader(io.StringIO(decode(content), newline=""))
    try:
        names = _header(next(reader, None))
        found: list[ResultRow | RowRefused] = []
        for values in reader:
            if not any(v.strip() for v in values):
                continue
            if len(found) == MAX_ROWS:
                raise FileRefused(f"文件超过 {MAX_ROWS} 行，请分成几个文件上传；未读取任何一行。")
            line = reader.line_num
            if len(values) > len(names):
                why = f"有 {len(values)} 列，多于列名的 {len(names)} 列（备注中的逗号请加引号）"
                found.append(RowRefused(line, values[0].strip() if values else "", why))
                continue
            cells = {n: v.strip() for n, v in zip(names, values, strict=False) if n}
            found.append(_row(line, cells))
    except csv.Error as error:
        raise FileRefused(f"文件不是有效的 CSV（{error}），未读取任何一行。") from None
    return found
