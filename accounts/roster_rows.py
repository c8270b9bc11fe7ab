"""A roster row's own checks (accounts/roster.py checks rows against each other and the
store): the cells as departments write them turned into `POST /learners`'s body, then
checked by its schema and `credits.learners.problems`; each problem as (field, value,
message), id numbers and phones with their middle hidden.

A row without a learner id (学员编号, optional) gets a new one: `nx` and ten characters
from an alphabet without look-alikes (ours; learners also sign in with their id number
or phone, so nobody has to remember it).
"""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from pydantic import ValidationError

from accounts import roster_file
from credits import learners, phones
from credits.id_numbers import masked as masked_id_number
from credits.models import Degree, TitleLevel
from credits.schemas import LearnerCreate

_ID_ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"
_DAY = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?$")
TITLE_WORDS = {
    "无": TitleLevel.none,
    "初级": TitleLevel.junior,
    "中级": TitleLevel.intermediate,
    "副高级": TitleLevel.deputy_senior,
    "副高": TitleLevel.deputy_senior,
    "正高级": TitleLevel.senior,
    "正高": TitleLevel.senior,
    **{level.value: level for level in TitleLevel},
}
DEGREE_WORDS = {
    "大学本科": Degree.bachelor,
    "本科": Degree.bachelor,
    "硕士研究生": Degree.master,
    "硕士": Degree.master,
    "博士研究生": Degree.doctor,
    "博士": Degree.doctor,
    "其他": Degree.other,
    **{degree.value: degree for degree in Degree},
}


@dataclass
class FieldError:
    field: str
    value: str
    message: str


@dataclass
class RowReport:
    row: int
    status: str  # create (dry run) | created | refused
    learner_id: str | None = None
    name: str | None = None
    errors: list[FieldError] = field(default_factory=list)
    code: str | None = None
    expires_at: datetime | None = None
    id_number_masked: str | None = None
    phone_masked: str | None = None
    employer: str | None = None


def new_learner_id() -> str:
    """`nx` and ten characters of `_ID_ALPHABET` (31^10, about 49 bits: one random draw)."""
    number, characters = secrets.randbelow(len(_ID_ALPHABET) ** 10), []
    for _ in range(10):
        number, digit = divmod(number, len(_ID_ALPHABET))
        characters.append(_ID_ALPHABET[digit])
    return "nx" + "".join(characters)


def shown(name: str, value: str) -> str:
    """A cell as an error names it: id numbers and phones with their middle hidden."""
    if name == "id_number":
        if len(value) == 18:
            return masked_id_number(value)
        return phones.shown_in_error(value) if value.isdigit() else value[:20]
    if name == "phone":
        return phones.shown_in_error(phones.normalized(value))
    return value[:40]


def _day(value: str) -> str:
    """2016-07-01, 2016/7/1, 2016.7.1 and 2016年7月1日 as 2016-07-01; else as it was."""
    found = _DAY.match(value)
    return f"{found[1]}-{int(found[2]):02d}-{int(found[3]):02d}" if found else value


def _body(cells: dict[str, str], learner_id: str) -> dict[str, Any]:
    body: dict[str, Any] = {k: v for k, v in cells.items() if k in roster_file.COLUMNS}
    body.pop("learner_id", None)
    body["id"] = learner_id
    if "id_number" in body:
        body["id_number"] = body["id_number"].upper()  # a check digit x is X
    words: tuple[tuple[str, dict[str, Any]], ...] = (
        ("title_level", TITLE_WORDS),
        ("degree", DEGREE_WORDS),
    )
    for name, known in words:
        if name in body:
            body[name] = known.get(body[name], known.get(body[name].lower(), body[name]))
    if "title_obtained_on" in body:
        body["title_obtained_on"] = _day(body["title_obtained_on"])
    return body


def _learner(credits: Any, row: roster_file.RosterRow, report: RowReport) -> LearnerCreate | None:
    """The row as `POST /learners` would take it, or None with its errors in `report`."""
    cells = row.cells
    if "_extra" in cells:
        message = "has more cells than row 1 names columns"
        report.errors.append(FieldError("row", cells["_extra"][:40], message))
    try:
        learner_in = LearnerCreate.model_validate(_body(cells, report.learner_id or ""))
    except ValidationError as error:
        for problem in error.errors():
            where = str(problem["loc"][0]) if problem["loc"] else "row"
            name = "learner_id" if where == "id" else where
            message = str(problem["msg"]).removeprefix("Value error, ")
            report.errors.append(FieldError(name, shown(name, cells.get(name, "")), message))
        return None
    for name, why, value in learners.problems(credits, learner_in.id_number, learner_in.series):
        report.errors.append(FieldError(name, value, why))
    return None if report.errors else learner_in


def parsed_rows(
    credits: Any, rows: list[roster_file.RosterRow]
) -> tuple[dict[int, RowReport], dict[int, LearnerCreate]]:
    """Each row's report, and the learner of each row its own checks accept."""
    reports = {}
    parsed: dict[int, LearnerCreate] = {}
    for row in rows:
        learner_id = row.cells.get("learner_id") or new_learner_id()
        report = reports[row.row] = RowReport(row.row, "create", learner_id, row.cells.get("name"))
        learner_in = _learner(credits, row, report)
        if learner_in is not None:
            parsed[row.row] = learner_in
    return reports, parsed
