"""Bulk import of courses from a CSV or XLSX file: a dry run that says, row by row, what
would be created, changed (each field from → to), left unchanged or refused (naming the
column and the value), then the same plan applied in one transaction.

- Columns (row 1), in Chinese or English, in any order (`COLUMNS`): 课程编号/code always;
  课程名称/title, 类别/category, 专业/subject, 学时/hours, 年度/year, 提供机构/base for a new
  course; 课程简介/description, 系列/series, 学习方式/delivery, 标签/tags optional. Unknown
  headers are refused, so a column is never silently dropped.
- A course whose code exists is changed; a column the file lacks keeps the course's value
  (a file of 课程编号 and 学时 changes hours only); an empty cell of an optional column sets
  its default (no description, no series, 网页和手机, no tags). Its status is left as it is:
  retiring and restoring are separate acts.
- The same rules as the API (`CourseCreate`): a row the API would refuse is refused.
- The plan is what is applied: the apply names the file's SHA-256 and the plan's digest
  (both in the dry run's answer) and is refused when the file or the catalog changed in
  between. A file with a refused row is not applied unless the valid rows only are asked.
- The write is one `db.atomic` block: on MongoDB one transaction (the courses, their
  change history, the administrative log); on the embedded store one commit, checked
  against the catalog just before it is made. Search and the other listeners hear of the
  written courses together afterwards (`CatalogEvents.courses_changed`).
"""

from __future__ import annotations

import asyncio
import hashlib
import itertools
import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, field_validator

from catalog.course_fields import FIELD_LABELS, VALUE_LABELS
from catalog.events import CatalogEvents
from catalog.models import ChangeAction, Course, CourseChange, CourseStatus
from catalog.schemas import CourseCreate
from catalog.service import CONTENT_FIELDS, activity_iri, log_line
from nxce.core import admin_log, db, sheet_file
from nxce.core.errors import Conflict, Unprocessable, show_value

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 10_000

# field -> the header names it is known by (compared without case or spaces)
COLUMNS: dict[str, tuple[str, ...]] = {
    "code": ("课程编号", "编号", "code"),
    "title": ("课程名称", "名称", "title"),
    "description": ("课程简介", "简介", "description"),
    "category": ("类别", "课程类别", "category"),
    "series": ("系列", "series"),
    "subject": ("专业", "subject"),
    "hours": ("学时", "hours"),
    "year": ("年度", "year"),
    "base": ("提供机构", "继续教育基地", "base"),
    "delivery": ("学习方式", "delivery"),
    "tags": ("标签", "tags"),
}
NEW_COURSE_NEEDS = ("title", "category", "subject", "hours", "year", "base")
DEFAULTS: dict[str, Any] = {"description": "", "series": None, "delivery": "both", "tags": []}
_BY_HEADER = {alias.lower(): name for name, aliases in COLUMNS.items() for alias in aliases}
_WORDS = {
    name: {**{word: code for code, word in words.items()}, **{code: code for code in words}}
    for name, words in VALUE_LABELS.items()
}
_TAG_SPLIT = re.compile(r"[、,，;；|]")

RowAction = Literal["create", "update", "unchanged", "refused"]


MAX_SHOWN = 200  # characters of a refused cell a report repeats


class RowError(BaseModel):
    column: str = Field(description="the column as the file names it")
    value: str = Field(description=f"the cell as the file has it (at most {MAX_SHOWN} characters)")
    message: str

    @field_validator("value")
    @classmethod
    def _short(cls, value: str) -> str:
        return value if len(value) <= MAX_SHOWN else value[: MAX_SHOWN - 1] + "…"


class ImportRow(BaseModel):
    row: int = Field(description="as the spreadsheet numbers it (the header is row 1)")
    code: str
    title: str = ""
    action: RowAction
    changes: dict[str, dict[str, Any]] = Field(
        default_factory=dict, description="field -> {from, to} (a new course: {to})"
    )
    errors: list[RowError] = Field(default_factory=list)


class ImportReport(BaseModel):
    dry_run: bool
    applied: bool = Field(description="whether this answer wrote to the catalog")
    sha256: str = Field(description="the file's SHA-256: name it to apply the file")
    plan: str = Field(description="the plan's digest: name it to apply this very plan")
    columns: dict[str, str] = Field(description="field -> the column naming it in the file")
    rows: list[ImportRow]
    created: int
    updated: int
    unchanged: int
    refused: int


@dataclass
class Plan:
    sha256: str
    columns: dict[str, str]  # field -> header as written
    rows: list[ImportRow]
    new: dict[str, dict[str, Any]] = field(default_factory=dict)  # code -> content
    changed: dict[str, tuple[Any, int, dict[str, Any]]] = field(default_factory=dict)
    digest: str = ""

    def count(self, action: RowAction) -> int:
        return sum(1 for r in self.rows if r.action == action)

    def report(self, *, dry_run: bool, applied: bool) -> ImportReport:
        return ImportReport(
            dry_run=dry_run,
            applied=applied,
            sha256=self.sha256,
            plan=self.digest,
            columns=self.columns,
            rows=self.rows,
            created=self.count("create"),
            updated=self.count("update"),
            unchanged=self.count("unchanged"),
            refused=self.count("refused"),
        )


def _columns(header: list[str]) -> tuple[list[str | None], dict[str, str]]:
    names = [h.replace(" ", "").replace("\u3000", "").lower() for h in header]
    fields = [_BY_HEADER.get(n) if n else None for n in names]
    unknown = [h for h, n, f in zip(header, names, fields, strict=True) if n and f is None]
    if unknown:
        known = "、".join(f"{a[0]}/{f}" for f, a in COLUMNS.items())
        raise sheet_file.refused(
            f"row 1 names unknown columns {', '.join(map(repr, unknown))} (known: {known})"
        )
    if "code" not in fields:
        raise sheet_file.refused("row 1 must name the column 课程编号/code")
    twice = sorted({f for f in fields if f is not None and fields.count(f) > 1})
    if twice:
        raise sheet_file.refused(f"row 1 names a column twice: {', '.join(twice)}")
    written = {f: h for h, f in zip(header, fields, strict=True) if f is not None}
    return fields, written


def value_of(name: str, text: str) -> Any:
    """A cell's (or a form field's) text as the field's value; the schema then applies the
    API's rules, so text that is no number stays text and is refused naming it."""
    if text == "" and name in DEFAULTS:
        return DEFAULTS[name]
    if name in _WORDS:
        return _WORDS[name].get(text.lower() if text.isascii() else text, text)
    if name == "hours":
        try:
            return float(text) if re.fullmatch(r"[0-9.]+", text) else text
        except ValueError:
            return text
    if name == "year":
        return int(text) if text.isascii() and text.isdigit() and len(text) <= 6 else text
    if name == "tags":
        return [t.strip() for t in _TAG_SPLIT.split(text) if t.strip()]
    return text


def _error(name: str, columns: dict[str, str], text: str, message: str) -> RowError:
    return RowError(
        column=columns.get(name, FIELD_LABELS.get(name, name)), value=text, message=message
    )


def _errors(
    error: ValidationError, columns: dict[str, str], cells: dict[str, str]
) -> list[RowError]:
    found = []
    for entry in error.errors():
        where = entry["loc"][0] if entry["loc"] else ""
        name = str(where) if str(where) in COLUMNS else ""
        message = str(entry["msg"]).removeprefix("Value error, ")
        if not name:  # a rule across fields: the series rule names its field
            name = "series" if "series" in message else "category"
        found.append(_error(name, columns, cells.get(name, ""), message))
    return found


def _plain(value: Any) -> Any:
    return value.value if hasattr(value, "value") else value


def _digest(sha256: str, rows: list[ImportRow], revisions: dict[str, int]) -> str:
    """What the apply must find again: the file, each row's action, and the revision of
    each course it changes."""
    digest = hashlib.sha256(sha256.encode())
    for r in rows:
        line = [r.row, r.code, r.action, revisions.get(r.code), r.changes]
        digest.update(json.dumps(line, ensure_ascii=False, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:32]


async def check(*, content: bytes) -> Plan:
    """Read the file and say, row by row, what applying it would do; writes nothing."""
    if len(content) > MAX_BYTES:
        raise sheet_file.refused(f"a course file is at most {MAX_BYTES} bytes")
    sha256 = hashlib.sha256(content).hexdigest()
    table = await asyncio.to_thread(sheet_file.read, content, max_rows=MAX_ROWS, kind="course file")
    fields, columns = _columns(table.header)
    cells_of: list[tuple[int, dict[str, str], str]] = []
    for number, values in table.rows:
        cells = {f: v for f, v in zip(fields, values, strict=False) if f is not None}
        unnamed = (v for f, v in itertools.zip_longest(fields, values) if f is None and v)
        cells_of.append((number, cells, next(unnamed, "")))
    codes = sorted({c.get("code", "") for _, c, _ in cells_of} - {""})
    existing = {
        doc["code"]: doc
        async for doc in db.collection(Course).find(
            {"code": {"$in": codes}}, {"created_at": 0, "updated_at": 0}
        )
    }
    plan = Plan(sha256=sha256, columns=columns, rows=[])
    first_row: dict[str, int] = {}
    for number, cells, extra in cells_of:
        plan.rows.append(_row(plan, number, cells, extra, existing, first_row))
    revisions = {code: int(doc.get("revision", 1)) for code, doc in existing.items()}
    plan.digest = _digest(sha256, plan.rows, revisions)
    return plan


def _row(
    plan: Plan,
    number: int,
    cells: dict[str, str],
    extra: str,
    existing: dict[str, dict[str, Any]],
    first_row: dict[str, int],
) -> ImportRow:
    columns = plan.columns
    code = cells.get("code", "")
    title = cells.get("title") or str(existing.get(code, {}).get("title", ""))
    refuse = ImportRow(row=number, code=code, title=title, action="refused")
    if extra:
        message = "a cell under a column without a name: name its column or empty it"
        refuse.errors.append(RowError(column="（无列名）", value=extra, message=message))
        return refuse
    if not code:
        refuse.errors.append(_error("code", columns, code, "must not be blank"))
        return refuse
    if code in first_row:
        message = f"the code appears again: row {first_row[code]} has it already"
        refuse.errors.append(_error("code", columns, code, message))
        return refuse
    first_row[code] = number
    old = existing.get(code)
    if old is None:
        missing = [n for n in NEW_COURSE_NEEDS if n not in cells]
        if missing:
            for name in missing:
                message = f"a new course needs the column {COLUMNS[name][0]}/{name}"
                refuse.errors.append(_error(name, columns, "", message))
            return refuse
        values = {n: value_of(n, t) for n, t in cells.items()}
    else:
        values = {n: old.get(n) for n in CONTENT_FIELDS}
        values.update({n: value_of(n, t) for n, t in cells.items() if n != "code"})
        values["code"] = code
        if "category" in cells and "series" not in cells and values["category"] == "public":
            values["series"] = None  # as a PATCH turning a course public
    try:
        course_in = CourseCreate.model_validate(values)
    except ValidationError as error:
        refuse.errors.extend(_errors(error, columns, cells))
        return refuse
    content = course_in.model_dump(mode="json", exclude={"code"})
    if old is None:
        plan.new[code] = content
        changes = {f: {"to": v} for f, v in content.items()}
        return ImportRow(row=number, code=code, title=course_in.title, action="create",
                         changes=changes)  # fmt: skip
    changes = {
        f: {"from": _plain(old.get(f)), "to": v}
        for f, v in content.items()
        if _plain(old.get(f)) != v
    }
    if not changes:
        return ImportRow(row=number, code=code, title=course_in.title, action="unchanged")
    plan.changed[code] = (old["_id"], int(old.get("revision", 1)), changes)
    return ImportRow(row=number, code=code, title=course_in.title, action="update",
                     changes=changes)  # fmt: skip


async def apply(
    *,
    content: bytes,
    sha256: str,
    plan_digest: str,
    only_valid: bool,
    activity_base: str,
    by: str,
    file_name: str = "",
    events: CatalogEvents | None = None,
) -> ImportReport:
    """Apply the plan a dry run showed: refused (409) when the file is not the one named
    by `sha256` or the plan is no longer `plan_digest` (the catalog changed); with a
    refused row, a 422 carrying the report unless `only_valid`."""
    plan = await check(content=content)
    if plan.sha256 != sha256.strip().lower():
        raise Conflict(
            f"sha256: the file is not the one the dry run read (its SHA-256 is "
            f"{plan.sha256}, not {show_value(sha256)}); nothing was written: run the dry run "
            "on this file",
            errors=[{"field": "sha256", "message": "the file changed since the dry run",
                     "value": show_value(sha256)}],
        )  # fmt: skip
    if plan.digest != plan_digest.strip().lower():
        raise Conflict(
            "plan: the catalog changed since the dry run (a course of the file was written "
            "since), so this file would no longer do what the dry run showed; nothing was "
            "written: run the dry run again",
            report=plan.report(dry_run=True, applied=False).model_dump(mode="json"),
        )
    refused = plan.count("refused")
    if refused and not only_valid:
        raise Unprocessable(
            f"{refused} of {len(plan.rows)} rows are refused: nothing was written; correct "
            "them, or send rows=valid to apply the valid rows only",
            report=plan.report(dry_run=True, applied=False).model_dump(mode="json"),
        )
    codes = await _write(plan, activity_base=activity_base, by=by, file_name=file_name,
                         only_valid=only_valid)  # fmt: skip
    if events is not None and codes:
        written = await Course.find({"code": {"$in": codes}}).sort("code").to_list()
        await events.courses_changed(written)
    return plan.report(dry_run=False, applied=True)


async def _write(
    plan: Plan, *, activity_base: str, by: str, file_name: str, only_valid: bool
) -> list[str]:
    now = db.now()
    via = plan.sha256[:12]
    new_docs = [
        {
            "code": code,
            **content,
            "activity_id": activity_iri(activity_base=activity_base, code=code),
            "status": CourseStatus.published.value,
            "revision": 1,
            "created_at": now,
            "updated_at": now,
            "available_from": now,
        }
        for code, content in plan.new.items()
    ]
    updates = [
        (
            {"_id": _id, "revision": revision},
            {
                "$set": {
                    **{f: c["to"] for f, c in changes.items()},
                    "revision": revision + 1,
                    "updated_at": now,
                }
            },
        )
        for _id, revision, changes in plan.changed.values()
    ]
    history: list[dict[str, Any]] = []
    lines: list[admin_log.AdminAction] = []
    for row in plan.rows:
        if row.action not in ("create", "update"):
            continue
        action = ChangeAction.created if row.action == "create" else ChangeAction.updated
        revision = 1 if row.action == "create" else plan.changed[row.code][1] + 1
        history.append(
            {
                "code": row.code,
                "action": action.value,
                "revision": revision,
                "by": by,
                "changed_at": now,
                "changes": row.changes,
            }
        )
        lines.append(log_line(code=row.code, title=row.title, action=action, by=by,
                              revision=revision, changes=row.changes, via=via))  # fmt: skip
    created, updated = len(new_docs), len(updates)
    unchanged, refused = plan.count("unchanged"), plan.count("refused")
    name = file_name[:100]
    summary = (
        f"批量导入课程文件{('「' + name + '」') if name else ''}：新建 {created} 门，修改 "
        f"{updated} 门，未变 {unchanged} 门，拒绝 {refused} 行"
        + ("（只导入有效行）" if refused and only_valid else "")
    )
    lines.append(
        admin_log.AdminAction(
            by=by, area=admin_log.Area.catalog, action="course.imported",
            target=f"import:{via}", summary=summary,
            detail={"sha256": plan.sha256, "file": name, "rows": len(plan.rows),
                    "created": created, "updated": updated, "unchanged": unchanged,
                    "refused": refused, "only_valid": only_valid,
                    "refused_rows": [r.row for r in plan.rows if r.action == "refused"][:100]},
        )
    )  # fmt: skip
    courses = db.collection(Course)

    async def write(session: Any) -> None:
        # What the dry run saw must still hold: no new code taken, no course moved on.
        wanted = [*plan.new, *plan.changed]
        now_at = {
            doc["code"]: doc.get("revision", 1)
            async for doc in courses.find(
                {"code": {"$in": wanted}}, {"code": 1, "revision": 1}, session=session
            )
        }
        moved = [c for c in plan.new if c in now_at] + [
            c for c, (_, rev, _) in plan.changed.items() if now_at.get(c) != rev
        ]
        if moved:
            raise Conflict(
                f"the catalog changed since the dry run: course {moved[0]!r} was written "
                "meanwhile; nothing was written: run the dry run again"
            )
        if new_docs:
            await courses.insert_many(new_docs, session=session)
        for match, change in updates:
            result = await courses.update_one(match, change, session=session)
            if result.matched_count != 1:  # MongoDB: the transaction is given up
                raise Conflict("the catalog changed during the import; run the dry run again")
        if history:
            await db.collection(CourseChange).insert_many(history, session=session)
        await admin_log.record_many(lines, session=session)

    try:
        await db.atomic(write)
    except (db.DuplicateKeyError, db.BulkWriteError):  # a code taken meanwhile
        raise Conflict(
            "the catalog changed since the dry run: a code of the file was taken meanwhile; "
            "run the dry run again"
        ) from None
    return [*plan.new, *plan.changed]
