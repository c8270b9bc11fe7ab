"""`POST /learners/roster`: a roster file (CSV or XLSX) checked row by row (a dry run) or
applied: learners registered and an activation code each, answered once — as JSON, or
(`format=csv`) as the printable list a department hands out."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Literal

from fastapi import Depends, File, Query, Request, Response, UploadFile
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from accounts import roster, roster_file
from accounts.context import Accounts
from accounts.roster_rows import RowReport
from credits.access import check_auditor
from credits.routes import learners_router
from nxce.core.auth import Principal, authenticate
from nxce.core.errors import PayloadTooLarge, invalid
from nxce.core.problems import responses
from nxce.core.sheets import csv_bytes

router = learners_router()
ROSTER_PATH = re.compile(r"/learners/roster")
# the file and the multipart envelope around it
ROSTER_BODY_BYTES = roster_file.MAX_BYTES + 64 * 1024
CSV_HEADER = (
    "行号 row",
    "学员编号 learner_id",
    "姓名 name",
    "身份证号 id_number",
    "工作单位 employer",
    "手机 phone",
    "激活码 activation code",
    "有效期至 expires_at (UTC)",
)


class RosterQuery(BaseModel):
    model_config = ConfigDict(extra="forbid")
    dry_run: bool = Field(True, description="true (the default): check only, write nothing")
    rows: Literal["all", "valid"] = Field(
        "all",
        description="all: a file with a refused row creates nothing (422 with the report); "
        "valid: create the valid rows, report the others",
    )
    format: Literal["json", "csv"] = Field(
        "json", description="csv (when applying): the printable list of activation codes"
    )


class RowError(BaseModel):
    field: str
    value: str
    message: str


class RosterRowRead(BaseModel):
    row: int = Field(description="as the spreadsheet numbers it (the header is row 1)")
    status: Literal["create", "created", "refused"]
    learner_id: str | None = Field(None, description="the learner registered (or to be)")
    errors: list[RowError] = Field(default_factory=list)
    code: str | None = Field(None, description="the activation code, in this answer only")
    expires_at: datetime | None = None


class RosterReport(BaseModel):
    dry_run: bool
    rows: list[RosterRowRead]
    created: int
    refused: int


def _accounts(request: Request) -> Accounts:
    accounts: Accounts = request.app.state.accounts
    return accounts


async def _principal(request: Request) -> Principal:
    return await authenticate(request)


def _read(report: RowReport) -> RosterRowRead:
    return RosterRowRead(
        **roster.report_json(report), code=report.code, expires_at=report.expires_at
    )


def _csv(rows: list[RowReport]) -> Response:
    lines = [
        (
            r.row,
            r.learner_id,
            r.name,
            r.id_number_masked,
            r.employer,
            r.phone_masked or "",
            r.code,
            r.expires_at.strftime("%Y-%m-%d %H:%M") if r.expires_at else "",
        )
        for r in rows
        if r.status == "created"
    ]
    return Response(
        csv_bytes([CSV_HEADER, *lines]),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": 'attachment; filename="activation-codes.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.post(
    "/roster",
    response_model=RosterReport,
    responses={
        **responses(400, 409, 413, 415),
        200: {"content": {"text/csv": {}}, "description": "the report, or the code list"},
    },
)
async def import_roster(
    file: Annotated[UploadFile, File(description="CSV (UTF-8 or GB18030) or XLSX, ≤ 20 MiB")],
    query: Annotated[RosterQuery, Query()],
    caller: Annotated[Principal, Depends(_principal)],
    accounts: Annotated[Accounts, Depends(_accounts)],
    response: Response,
) -> Response | RosterReport:
    """Register a department's learners from a roster (admins and auditors): columns
    姓名/name, 身份证号/id_number, 工作单位/employer, 学历/degree (required), 系列/series,
    职称级别/title_level, 取得时间/title_obtained_on, 手机/phone, 学员编号/learner_id,
    电子邮箱/email (optional), in any order; at most 10,000 rows.

    A dry run (the default) answers each row: `create`, or `refused` with each error's
    field, value (id numbers and phones masked) and message. `dry_run=false` registers the
    rows and answers each learner's activation code, once (`format=csv`: the printable
    list); with a refused row it creates nothing (422 with the report) unless
    `rows=valid`. An id number already registered is refused "already registered —
    contact the department", naming no one."""
    check_auditor(caller)
    if query.format == "csv" and query.dry_run:
        raise invalid("format", "csv is the list of activation codes: with dry_run=false", "csv")
    content = await file.read()
    if len(content) > roster_file.MAX_BYTES:
        raise PayloadTooLarge(f"file: a roster is at most {roster_file.MAX_BYTES} bytes")
    rows = await run_in_threadpool(roster_file.read, content)
    checked = await roster.check(accounts=accounts, rows=rows, by=caller.key, dry_run=query.dry_run)
    reports = checked.rows
    if not query.dry_run:
        response.headers["Cache-Control"] = "no-store"  # activation codes
        only_valid = query.rows == "valid"
        reports = await roster.apply(
            accounts=accounts, checked=checked, by=caller.key, only_valid=only_valid
        )
        if query.format == "csv":
            return _csv(reports)
    created = sum(1 for r in reports if r.status == "created")
    return RosterReport(
        dry_run=query.dry_run,
        rows=[_read(r) for r in reports],
        created=created,
        refused=checked.refused,
    )
