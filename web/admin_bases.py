"""The admin's pages of continuing-education bases (继续教育基地, §三): the list with status
and level filters and counts per status; a base's page with its fields, the timeline of
its status decisions (who recorded each, when, the date it took effect, the reason, and
how many learners' entries it changed) and the forms to correct its fields and to record
a decision; the page of what one decision changed in learners' ledgers; registering a
base.

The writes go through the catalog's services, as the API's do (`POST /bases`,
`PATCH /bases/{id}`, `POST /bases/{id}/status`): the same rules, the same administrative
log lines, the ledgers recomputed at once. The decisions offered are those
`catalog.bases.TRANSITIONS` allows after the base's current status; a back-dated one is
checked by the service against the status on its date, and a refusal is shown on the form
with the field it is about. What a decision changed is read from credits
(`recompute.changes`, kept under the decision), never from its collections."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from catalog import bases as catalog_bases
from catalog import rectification
from catalog.models import Base, BaseLevel, BaseStatus, StatusChange
from catalog.schemas import BaseCreate, BaseUpdate, StatusChangeCreate
from credits import learners as credit_learners
from credits import recompute as credit_recompute
from credits.labels import CATEGORY_LABELS, KIND_LABELS, STATUS_LABELS, status_note
from credits.models import LedgerChange
from nxce.core.auth import Principal
from nxce.core.errors import Conflict, NotFound, NxceError, show_value
from nxce.core.json_route import JsonRoute
from transcripts.wording import moment_text
from web import render
from web.access import AdminPage, PageMessage, admin_form
from web.services import CatalogEventsDep, SessionsDep

router = APIRouter(prefix="/admin/bases", route_class=JsonRoute, include_in_schema=False)

PAGE_SIZE = 50  # bases on a page of the list, changed entries on a page of a decision
SHOWN_CHANGES = 20  # changed entries shown on the base's page right after a decision
LIST = "/admin/bases"
NEW = "/admin/bases/new"

STATUS_WORDS = {s.value: w for s, w in catalog_bases.STATUS_WORDS.items()}
LEVEL_WORDS = {lv.value: w for lv, w in catalog_bases.LEVEL_WORDS.items()}
FIELD_WORDS = {
    "name": "基地名称",
    "level": "级别",
    "status": "决定",
    "reason": "理由",
    "effective_on": "生效日期",
    "rectify_by": "整改期限",
    "revision": "版本",
}
# What "?done=…" says after a form: fixed words, never the query's text.
DONE = {
    "registered": "基地已登记，自生效日期起为认证状态。",
    "edited": "基地信息已修改。",
    "decided": "决定已记录，在该基地培训的学员的学时已随之重新核算。",
}
# The service's words for a field's refusal, in Chinese (our wording of its messages).
_SERVICE_WORDS = (
    ("must not be in the future", "不能晚于今天"),
    ("is required when the status is criticised", "通报批评时必须填写整改期限（§三 限期整改）"),
    ("must be after effective_on", "须晚于生效日期"),
    ("only a criticism", "只有通报批评才有整改期限"),
)
_PYDANTIC_WORDS = {
    "missing": "必须填写",
    "string_too_short": "太短",
    "string_too_long": "太长",
    "enum": "不是可选的值",
    "literal_error": "不是可选的值",
    "date_from_datetime_parsing": "须为 YYYY-MM-DD 格式的日期",
    "date_parsing": "须为 YYYY-MM-DD 格式的日期",
    "date_from_datetime_inexact": "须为 YYYY-MM-DD 格式的日期",
}


def base_path(base_id: str) -> str:
    return f"/admin/bases/{quote(base_id, safe='')}"


def day_text(day: date | None) -> str:
    return f"{day.year}年{day.month}月{day.day}日" if day else ""


@dataclass(slots=True)
class FormErrors:
    """The refusals of a form: by field (shown at the field), and for the whole form."""

    fields: dict[str, str] = field(default_factory=dict)
    whole: str = ""

    def __bool__(self) -> bool:
        return bool(self.fields or self.whole)

    def messages(self) -> list[str]:
        said = [f"{FIELD_WORDS.get(k, k)}：{v}" for k, v in self.fields.items()]
        return said + ([self.whole] if self.whole else [])


def _validation_errors(error: ValidationError) -> FormErrors:
    """A schema's refusals, each at its field, naming the value received."""
    found = FormErrors()
    for problem in error.errors():
        name = str(problem["loc"][0]) if problem["loc"] else ""
        context = problem.get("ctx") or {}
        words = _PYDANTIC_WORDS.get(problem["type"])
        if problem["type"] in ("too_short", "string_too_short") and "min_length" in context:
            words = f"太短（至少 {context['min_length']} 个字）"
        elif problem["type"] in ("too_long", "string_too_long") and "max_length" in context:
            words = f"太长（至多 {context['max_length']} 个字）"
        if problem["type"] == "missing" and name in ("status", "level"):
            words = "请选择一项"
        if words is None:
            words = str(problem["msg"]).removeprefix("Value error, ")
        if problem["type"] != "missing" and problem.get("input") not in (None, ""):
            words += f"，收到 {show_value(problem['input'])}"
        found.fields.setdefault(name, words)
    return found


def _service_errors(error: NxceError) -> FormErrors:
    """A service's refusal at the field it names (in Chinese where we have the words), or
    for the whole form."""
    found = FormErrors()
    for entry in error.extra.get("errors", []):
        message = str(entry.get("message", ""))
        words = next((zh for en, zh in _SERVICE_WORDS if message.startswith(en)), message)
        if entry.get("value"):
            words += f"，收到 {entry['value']}"
        found.fields.setdefault(str(entry.get("field", "")), words)
    if not found.fields:
        found.whole = error.detail
    return found


def _filled(values: dict[str, str]) -> dict[str, str]:
    """The form's fields as the schemas take them: blank ones left out (then "missing")."""
    return {k: v.strip() for k, v in values.items() if v.strip()}


# --- who may ----------------------------------------------------------------------------


async def shown_base(base_id: str, _: AdminPage) -> Base:
    """The base of a page the admin asks for (who asks is checked first), or a 404 page."""
    return await _base(base_id)


async def _base(base_id: str) -> Base:
    try:
        return await catalog_bases.get(base_id=base_id)
    except NotFound:
        text = f"没有编号为 {show_value(base_id[:64])} 的继续教育基地。"
        raise PageMessage(404, "没有这个基地", text, (LIST, "返回基地列表")) from None


ShownBase = Annotated[Base, Depends(shown_base)]


async def posted_on_base(
    request: Request, base_id: str, sessions: SessionsDep, csrf: str = Form("")
) -> Principal:
    """The admin posting a form of the page of base `base_id`."""
    return await admin_form(request, sessions, csrf, base_path(base_id))


BaseForm = Annotated[Principal, Depends(posted_on_base)]


# --- the list ---------------------------------------------------------------------------


def _choice(value: str, kind: type[BaseStatus] | type[BaseLevel], name: str) -> Any:
    """A filter of the list: blank for all, else one of the kind's values (a 422 page
    naming the parameter and the value otherwise)."""
    if not value:
        return None
    try:
        return kind(value)
    except ValueError:
        allowed = "、".join(m.value for m in kind)
        text = f"参数 {name} 只能是 {allowed} 之一，收到 {show_value(value[:40])}。"
        raise PageMessage(422, "筛选条件无效", text, (LIST, "返回基地列表")) from None


def _row(base: Base) -> dict[str, Any]:
    last = base.history[-1] if base.history else None
    return {
        "id": str(base.id),
        "name": base.name,
        "level": LEVEL_WORDS[base.level.value],
        "status": base.status.value,
        "status_words": STATUS_WORDS[base.status.value],
        "since": day_text(last.effective_on) if last else "",
        "rectify_by": day_text(last.rectify_by) if last and last.rectify_by else "",
    }


@router.get("", response_class=HTMLResponse)
async def list_page(
    request: Request, _: AdminPage, status: str = "", level: str = "", page: str = "1"
) -> Response:
    """The bases by name, filtered by status and level, with how many have each status."""
    wanted_status = _choice(status, BaseStatus, "status")
    wanted_level = _choice(level, BaseLevel, "level")
    number = render.small_number(page)
    if number is None or number < 1:
        text = f"参数 page 须为 1 到 9999 的整数，收到 {show_value(page[:40])}。"
        raise PageMessage(422, "页码无效", text, (LIST, "返回基地列表"))
    total = await catalog_bases.count(status=wanted_status, level=wanted_level)
    found = await catalog_bases.get_all(
        status=wanted_status, level=wanted_level, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    counts = await catalog_bases.count_by_status(level=wanted_level)

    def link(**changes: Any) -> str:
        query = {"status": status, "level": level, **changes}
        kept = {k: v for k, v in query.items() if v not in ("", None, 1)}
        return LIST + (f"?{urlencode(kept)}" if kept else "")

    values = await render.context(
        request,
        section="bases",
        rows=[_row(b) for b in found],
        total=total,
        counts=[
            {
                "key": s.value,
                "words": STATUS_WORDS[s.value],
                "count": counts[s],
                "href": link(status=s.value),
            }
            for s in BaseStatus
        ],
        all_count=sum(counts.values()),
        all_href=link(status=""),
        status=status,
        level=level,
        statuses=STATUS_WORDS,
        levels=LEVEL_WORDS,
        page=number,
        previous=link(page=number - 1) if number > 1 else "",
        next=link(page=number + 1) if number * PAGE_SIZE < total else "",
    )
    return render.page(request, "admin_bases.html", values)


# --- registering a base -----------------------------------------------------------------


async def _new_page(
    request: Request, form: dict[str, str], errors: FormErrors | None = None, status: int = 200
) -> Response:
    values = await render.context(
        request,
        section="bases",
        form=form,
        errors=errors or FormErrors(),
        levels=LEVEL_WORDS,
        today=catalog_bases.today().isoformat(),
    )
    return render.page(request, "admin_base_new.html", values, status)


@router.get("/new", response_class=HTMLResponse)
async def new_page(request: Request, _: AdminPage) -> Response:
    return await _new_page(request, {})


@dataclass(frozen=True, slots=True)
class Registration:
    by: Principal
    values: dict[str, str]


async def registration_form(
    request: Request,
    sessions: SessionsDep,
    name: str = Form("", max_length=200),
    level: str = Form("", max_length=40),
    effective_on: str = Form("", max_length=40),
    reason: str = Form("", max_length=1000),
    csrf: str = Form(""),
) -> Registration:
    by = await admin_form(request, sessions, csrf, NEW)
    values = {"name": name, "level": level, "effective_on": effective_on, "reason": reason}
    return Registration(by, values)


@router.post("", response_class=HTMLResponse)
async def register(
    request: Request, form: Annotated[Registration, Depends(registration_form)]
) -> Response:
    """Register a base (as `POST /bases`): certified from its effective date."""
    try:
        base_in = BaseCreate.model_validate(_filled(form.values))
        base = await catalog_bases.create(base_in=base_in, by=form.by.key)
    except ValidationError as error:
        return await _new_page(request, form.values, _validation_errors(error), 422)
    except Conflict:
        taken = FormErrors({"name": f"已有名为 {show_value(form.values['name'].strip())} 的基地"})
        return await _new_page(request, form.values, taken, 409)
    except NxceError as error:
        return await _new_page(request, form.values, _service_errors(error), error.status)
    return RedirectResponse(base_path(str(base.id)) + "?done=registered", status_code=303)


# --- a base's page ----------------------------------------------------------------------


def _decision_row(base: Base, change: StatusChange, counts: dict[str, int]) -> dict[str, Any]:
    decision = change.decision_id
    cause = credit_recompute.decision_cause(decision) if decision else ""
    return {
        "decision": decision or "",
        "status": change.status.value,
        "words": STATUS_WORDS[change.status.value],
        "effective_on": day_text(change.effective_on),
        "rectify_by": day_text(change.rectify_by),
        "reason": change.reason,
        "recorded_by": change.recorded_by,
        "recorded_at": moment_text(change.recorded_at),
        "recorded_moment": change.recorded_at,
        "back_dated": change.effective_on < catalog_bases.day_of(change.recorded_at),
        # recorded with the base (its registration): no ledger was recomputed, none shown
        "changed": counts.get(cause)
        if decision and change.recorded_at != base.created_at
        else None,
        "href": f"{base_path(str(base.id))}/decisions/{decision}" if decision else "",
    }


async def _changes_rows(changes: list[LedgerChange]) -> list[dict[str, Any]]:
    names = await credit_learners.names(learner_ids=[c.learner_id for c in changes])
    return [
        {
            "learner_id": c.learner_id,
            "learner_href": f"/auditor/learners/{quote(c.learner_id, safe='')}",
            "name": names.get(c.learner_id, ""),
            "entry_id": c.entry_id,
            "kind": KIND_LABELS.get(c.kind, c.kind),
            "category": CATEGORY_LABELS.get(c.category, c.category),
            "occurred_on": day_text(c.occurred_on),
            "hours_before": render.hours(c.hours_before) if c.hours_before is not None else "—",
            "hours_after": render.hours(c.hours_after) if c.hours_after is not None else "—",
            "status_before": STATUS_LABELS.get(c.status_before, "—")
            if c.status_before
            else "（新记录）",
            "status_after": STATUS_LABELS.get(c.status_after, "—")
            if c.status_after
            else "（已删除）",
            "reason": status_note(c.reason_after) or "",
        }
        for c in changes
    ]


async def _base_page(
    request: Request,
    base: Base,
    *,
    edit: dict[str, str] | None = None,
    edit_errors: FormErrors | None = None,
    decide: dict[str, str] | None = None,
    decide_errors: FormErrors | None = None,
    status: int = 200,
) -> Response:
    decisions = [c.decision_id for c in base.history if c.decision_id]
    counts = await credit_recompute.change_counts(
        causes=[credit_recompute.decision_cause(d) for d in decisions]
    )
    timeline = [_decision_row(base, c, counts) for c in reversed(base.history)]
    done = request.query_params.get("done", "") if status == 200 else ""
    shown: dict[str, Any] | None = None
    asked = request.query_params.get("decision", "") if done == "decided" else ""
    row = next((r for r in timeline if asked and r["decision"] == asked), None)
    if row is not None:
        cause = credit_recompute.decision_cause(asked)
        changes, total = await credit_recompute.changes(cause=cause, limit=SHOWN_CHANGES)
        shown = {**row, "rows": await _changes_rows(changes), "total": total}
    automatic = [
        r
        for r in timeline
        if row is not None
        and r["recorded_by"] == rectification.DAILY_CHECK
        and r["recorded_moment"] >= row["recorded_moment"]
    ]
    allowed = catalog_bases.allowed_after(base.status)
    values = await render.context(
        request,
        section="bases",
        base=base,
        base_id=str(base.id),
        path=base_path(str(base.id)),
        level_words=LEVEL_WORDS[base.level.value],
        status_words=STATUS_WORDS[base.status.value],
        since=timeline[0]["effective_on"] if timeline else "",
        current_rectify_by=timeline[0]["rectify_by"] if timeline else "",
        created=moment_text(base.created_at),
        updated=moment_text(base.updated_at),
        timeline=timeline,
        notice=DONE.get(done, ""),
        shown=shown,
        automatic=automatic[0] if automatic else None,
        levels=LEVEL_WORDS,
        allowed=[(s.value, STATUS_WORDS[s.value]) for s in allowed],
        edit=edit or {"name": base.name, "level": base.level.value},
        edit_errors=edit_errors or FormErrors(),
        decide=decide or {},
        decide_errors=decide_errors or FormErrors(),
        today=catalog_bases.today().isoformat(),
    )
    return render.page(request, "admin_base_page.html", values, status)


@router.get("/{base_id}", response_class=HTMLResponse)
async def base_page(request: Request, base: ShownBase) -> Response:
    return await _base_page(request, base)


@router.post("/{base_id}/edit", response_class=HTMLResponse)
async def edit_base(
    request: Request,
    base_id: str,
    admin: BaseForm,
    name: str = Form("", max_length=200),
    level: str = Form("", max_length=40),
    revision: str = Form("", max_length=12),
) -> Response:
    """Correct the base's name or level (as `PATCH /bases/{id}`), only if no one changed it
    since the form was loaded (its revision)."""
    base = await _base(base_id)
    form = {"name": name, "level": level}
    loaded = render.small_number(revision, 9)
    if loaded is None:
        errors = FormErrors(
            whole=f"表单缺少版本号 revision（收到 {show_value(revision[:20])}），请刷新页面后重试。"
        )
        return await _base_page(request, base, edit=form, edit_errors=errors, status=422)
    try:
        if not name.strip():
            blank = FormErrors({"name": "必须填写"})
            return await _base_page(request, base, edit=form, edit_errors=blank, status=422)
        patch = BaseUpdate.model_validate({k: v.strip() for k, v in form.items()})
        await catalog_bases.update(base_id=base_id, patch=patch, by=admin.key, revision=loaded)
    except ValidationError as error:
        return await _base_page(
            request, base, edit=form, edit_errors=_validation_errors(error), status=422
        )
    except Conflict:
        now = await _base(base_id)
        if now.revision != loaded:
            whole = (
                f"在您打开本页后，该基地已被修改（现为：{now.name}，{LEVEL_WORDS[now.level.value]}）。"
                "下方已显示最新内容，请核对后重新提交。"
            )
            errors = FormErrors(whole=whole)
            return await _base_page(request, now, edit=form, edit_errors=errors, status=409)
        taken = FormErrors({"name": f"已有名为 {show_value(name.strip())} 的基地"})
        return await _base_page(request, base, edit=form, edit_errors=taken, status=409)
    except NxceError as error:
        errors = _service_errors(error)
        return await _base_page(request, base, edit=form, edit_errors=errors, status=error.status)
    return RedirectResponse(base_path(base_id) + "?done=edited", status_code=303)


def _refusal(base: Base, change: StatusChangeCreate, error: Conflict) -> FormErrors:
    """Why the service refused the decision (§三's transitions), in Chinese, at the field
    it is about: the status on its date, or the decision after it."""
    day = change.effective_on
    before = catalog_bases.status_on(base=base, on=day).status
    wanted = STATUS_WORDS[change.status.value]
    if change.status not in catalog_bases.TRANSITIONS[before]:
        then = STATUS_WORDS[before.value] if before else "尚未认证"
        may = "、".join(STATUS_WORDS[s.value] for s in catalog_bases.allowed_after(before))
        return FormErrors(
            {
                "status": f"该基地在 {day_text(day)} 的状态为“{then}”，当日不能{wanted}（§三）；"
                f"此时只能：{may}"
            }
        )
    later = next((c for c in base.history if c.effective_on > day), None)
    if later is not None:
        then = STATUS_WORDS[later.status.value]
        words = (
            f"该基地自 {day_text(later.effective_on)} 起为“{then}”，"
            f"不能接在 {day_text(day)} 的“{wanted}”之后（§三）"
        )
        return FormErrors({"effective_on": words})
    return FormErrors(whole=f"该基地刚被其他人修改，请刷新页面后重试。（{error.detail}）")


@router.post("/{base_id}/decisions", response_class=HTMLResponse)
async def decide(
    request: Request,
    base_id: str,
    admin: BaseForm,
    events: CatalogEventsDep,
    status: str = Form("", max_length=40),
    effective_on: str = Form("", max_length=40),
    rectify_by: str = Form("", max_length=40),
    reason: str = Form("", max_length=1000),
) -> Response:
    """Record a decision (as `POST /bases/{id}/status`), then show what it changed in the
    learners' ledgers."""
    base = await _base(base_id)
    form = {
        "status": status,
        "effective_on": effective_on,
        "rectify_by": rectify_by,
        "reason": reason,
    }
    body = _filled(form)
    if body.get("status") != BaseStatus.criticised.value:
        body.pop("rectify_by", None)  # the field stays on the form; it is a criticism's only
    try:
        change = StatusChangeCreate.model_validate(body)
        await rectification.decide(base_id=base_id, change=change, by=admin.key, events=events)
    except ValidationError as error:
        errors = _validation_errors(error)
        return await _base_page(request, base, decide=form, decide_errors=errors, status=422)
    except Conflict as error:
        now = await _base(base_id)  # as the service saw it when it refused
        errors = _refusal(now, change, error)
        return await _base_page(request, now, decide=form, decide_errors=errors, status=409)
    except NxceError as error:
        errors = _service_errors(error)
        return await _base_page(
            request, base, decide=form, decide_errors=errors, status=error.status
        )
    now = await _base(base_id)
    mine = [c for c in now.history if c.recorded_by == admin.key and c.decision_id]
    latest = max(mine, key=lambda c: c.recorded_at).decision_id if mine else None
    query = {"done": "decided", **({"decision": latest} if latest else {})}
    return RedirectResponse(f"{base_path(base_id)}?{urlencode(query)}#decided", status_code=303)


# --- what a decision changed ------------------------------------------------------------


@router.get("/{base_id}/decisions/{decision_id}", response_class=HTMLResponse)
async def decision_page(
    request: Request, base: ShownBase, decision_id: str, page: str = "1"
) -> Response:
    """Every ledger entry the decision changed, a page at a time."""
    change = next((c for c in base.history if c.decision_id and c.decision_id == decision_id), None)
    if change is None:
        text = f"基地“{base.name}”没有编号为 {show_value(decision_id[:64])} 的决定。"
        raise PageMessage(404, "没有这项决定", text, (base_path(str(base.id)), "返回基地"))
    number = render.small_number(page)
    if number is None or number < 1:
        text = f"参数 page 须为 1 到 9999 的整数，收到 {show_value(page[:40])}。"
        raise PageMessage(422, "页码无效", text, (base_path(str(base.id)), "返回基地"))
    cause = credit_recompute.decision_cause(decision_id)
    changes, total = await credit_recompute.changes(
        cause=cause, offset=(number - 1) * PAGE_SIZE, limit=PAGE_SIZE
    )
    here = f"{base_path(str(base.id))}/decisions/{quote(decision_id, safe='')}"
    values = await render.context(
        request,
        section="bases",
        base=base,
        path=base_path(str(base.id)),
        decision=_decision_row(base, change, {cause: total}),
        rows=await _changes_rows(changes),
        total=total,
        first=(number - 1) * PAGE_SIZE + 1,
        previous=f"{here}?page={number - 1}" if number > 1 else "",
        next=f"{here}?page={number + 1}" if number * PAGE_SIZE < total else "",
    )
    return render.page(request, "admin_base_decision.html", values)
