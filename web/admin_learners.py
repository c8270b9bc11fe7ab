"""The admin's learner pages (issue 20): find learners by a name or an employer (the
beginning of either) or by a full id number; a learner's profile and title history, with
forms to correct the profile, append a title and correct a wrong title record.

Every page needs a signed-in client holding `admin` (web.access.AdminPage); forms carry
the session's CSRF token and answer with a redirect (`?done=…`) or, refused, the page
again with the reason. The writes and the lookup go through credits/ (learners.py,
lookup.py) as the API's do, which write the admin log and the personal-data trail. Id
numbers and phones are shown masked, as to anyone but auditors. The id number looked up
is posted (never in an address, a log line or the history of the browser) and not kept.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any
from urllib.parse import quote, urlencode

from fastapi import APIRouter, Depends, Form, Request, Response
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from credits import learners as credit_learners
from credits import lookup, titles
from credits.id_numbers import masked
from credits.labels import DEGREE_LABELS
from credits.models import Degree, Learner, TitleLevel
from credits.schemas import LearnerUpdate
from nxce.core import admin_log
from nxce.core.auth import Principal
from nxce.core.errors import NotFound, NxceError, TooManyRequests
from nxce.core.json_route import JsonRoute
from transcripts.wording import moment_text
from web import render
from web.access import AdminPage, PageMessage, admin_form
from web.services import CreditsDep, SessionsDep

router = APIRouter(prefix="/admin/learners", route_class=JsonRoute, include_in_schema=False)

FIND = "/admin/learners"
BY = (("name", "姓名"), ("employer", "工作单位"))
LOG_LINES = 20  # the newest lines of the admin log shown on a learner's page
DONE = {
    "profile": "档案已更正。",
    "title": "已添加职称记录。",
    "correction": "职称记录已更正，学时记录已按新的职称重新计算。",
    "lookup": "已按完整身份证号找到这位学员（本次查找已记入操作日志）。",
}
FIELD_WORDS = {
    "name": "姓名",
    "employer": "工作单位",
    "series": "系列",
    "degree": "学历",
    "email": "电子邮箱",
    "phone": "手机号",
    "id_number": "身份证号",
    "title_level": "职称",
    "title_obtained_on": "取得日期",
    "level": "职称",
    "obtained_on": "取得日期",
    "reason": "更正原因",
    "entry": "记录序号",
    "revision": "版本",
    "q": "查找内容",
    "page": "页码",
    "by": "查找方式",
}


def learner_path(learner_id: str) -> str:
    return f"{FIND}/{quote(learner_id, safe='')}"


def refusal(error: NxceError) -> str:
    """A refusal of the service in the page's words: the field it names and why (the
    service's own text, which names the value)."""
    errors = error.extra.get("errors")
    if error.status == 422 and isinstance(errors, list) and errors:
        first = errors[0]
        field = str(first.get("field", ""))
        words = FIELD_WORDS.get(field, field)
        value = f"，收到 {first['value']}" if "value" in first else ""
        if "does not go backwards" in str(first.get("message", "")):
            why = "职称记录不能倒退（后一条不能早于或低于前一条）"
        else:
            why = str(first.get("message", ""))
        return f"{words}（{field}）无效：{why}{value}"
    if error.status == 409 and "id number" in error.detail:
        return "冲突（409）：另一位学员已登记这个身份证号。"
    if error.status == 409 and "phone number" in error.detail:
        return "冲突（409）：另一位学员已登记这个手机号。"
    if error.status == 409 and "changed by another request" in error.detail:
        return "冲突（409）：这位学员的档案在您打开本页后已被修改，请核对下面的最新内容后重新提交。"
    return f"未能保存（{error.status}）：{error.detail}"


def _invalid(error: ValidationError) -> str:
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "—"
    given = first.get("input")
    value = f"，收到 {given!r}" if isinstance(given, str) and field != "id_number" else ""
    return f"{FIELD_WORDS.get(field, field)}（{field}）无效：{first['msg']}{value}"


# --- finding learners -----------------------------------------------------------------------


async def _find_values(
    request: Request, *, q: str = "", by: str = "name", page: int = 1, **more: Any
) -> dict[str, Any]:
    values: dict[str, Any] = {
        "found": None, "more": False, "error": "", "lookup_error": "", "lookup_notice": "",
    }  # fmt: skip
    values |= more
    return await render.context(
        request, section="learners", q=q, by=by, by_choices=BY, page=page, **values
    )


@router.get("", response_class=HTMLResponse)
async def find_page(
    request: Request, _: AdminPage, q: str = "", by: str = "name", page: str = "1"
) -> Response:
    """Learners whose name or employer begins with `q`, a page at a time."""
    number = render.small_number(page, 3)
    values = await _find_values(request, q=q[:100], by=by if by in dict(BY) else "name")
    if number is None:
        values["error"] = f"页码 page 应为 1 到 {lookup.MAX_PAGE} 的整数，收到 {page[:20]!r}。"
        return render.page(request, "admin_learners.html", values, 422)
    values["page"] = number
    if not q.strip():
        return render.page(request, "admin_learners.html", values)
    try:
        found = await lookup.find(text=q, field=by, page=number)  # type: ignore[arg-type]
    except NxceError as error:
        values["error"] = refusal(error)
        return render.page(request, "admin_learners.html", values, error.status)
    values |= {"found": found.learners, "more": found.more}
    base = {"q": q.strip(), "by": by}
    values["previous"] = f"{FIND}?{urlencode(base | {'page': number - 1})}" if number > 1 else ""
    values["next"] = f"{FIND}?{urlencode(base | {'page': number + 1})}" if found.more else ""
    return render.page(request, "admin_learners.html", values)


async def _lookup_by(
    request: Request, sessions: SessionsDep, csrf: str = Form(""), id_number: str = Form("")
) -> tuple[Principal, str]:
    by = await admin_form(request, sessions, csrf, FIND)
    return by, id_number[:40]


@router.post("/lookup", response_class=HTMLResponse)
async def lookup_page(
    request: Request,
    credits: CreditsDep,
    posted: Annotated[tuple[Principal, str], Depends(_lookup_by)],
) -> Response:
    """The learner with a full id number (counted, recorded): their page, or this page
    saying none has it (the number shown masked)."""
    admin, number = posted
    try:
        found = await lookup.by_id_number(
            credits=credits, id_number=number, by=admin.key, where="/admin/learners/lookup"
        )
    except TooManyRequests as error:
        wait = error.extra.get("retry_after", 60)
        text = (
            f"按身份证号查找过于频繁，请 {wait} 秒后再试"
            "（每分钟、每天的次数有上限，每次查找都记入操作日志）。"
        )
        values = await _find_values(request, lookup_error=text)
        response = render.page(request, "admin_learners.html", values, 429)
        response.headers["Retry-After"] = str(wait)
        return response
    except NxceError as error:
        values = await _find_values(request, lookup_error=refusal(error))
        return render.page(request, "admin_learners.html", values, error.status)
    if found is None:
        shown = masked(lookup.checked_id_number(number))
        notice = f"没有身份证号为 {shown} 的学员（本次查找已记入操作日志）。"
        values = await _find_values(request, lookup_notice=notice)
        return render.page(request, "admin_learners.html", values)
    return RedirectResponse(learner_path(found.learner_id) + "?done=lookup", status_code=303)


# --- a learner ------------------------------------------------------------------------------


async def _learner(learner_id: str) -> Learner:
    try:
        return await credit_learners.get_learner(learner_id=learner_id)
    except NotFound:
        text = f"学员编号 {learner_id[:64]} 不存在。"
        raise PageMessage(404, "没有这位学员", text, (FIND, "查找学员")) from None


async def shown_learner(learner_id: str, _: AdminPage) -> Learner:
    """The learner of a page the admin asks for (who asks is checked first)."""
    return await _learner(learner_id)


ShownLearner = Annotated[Learner, Depends(shown_learner)]


def _history(learner: Learner) -> list[dict[str, Any]]:
    rows = []
    for index, record in enumerate(learner.titles):
        following = [r.obtained_on for r in learner.titles[index + 1 :] if r.obtained_on]
        rows.append(
            {
                "entry": index + 1,
                "level": record.level.value,
                "label": titles.LEVEL_NAMES[record.level],
                "obtained_on": record.obtained_on.isoformat() if record.obtained_on else "",
                "until": following[0].isoformat() if following else "",
            }
        )
    return rows


async def _values(
    request: Request,
    credits: Any,
    learner: Learner,
    *,
    notice: str = "",
    errors: dict[str, str] | None = None,
    form: dict[str, str] | None = None,
) -> dict[str, Any]:
    lines = await admin_log.entries(
        area=admin_log.Area.learners, target=learner.learner_id, limit=LOG_LINES
    )
    return await render.context(
        request,
        section="learners",
        learner=learner,
        path=learner_path(learner.learner_id),
        id_number=learner.id_number_masked,  # never in full here: admins are not auditors
        phone=learner.phone_masked or "",
        degree=DEGREE_LABELS.get(learner.degree.value, learner.degree.value),
        degrees=[(d.value, DEGREE_LABELS.get(d.value, d.value)) for d in Degree],
        levels=[(t.value, titles.LEVEL_NAMES[t]) for t in TitleLevel if t != TitleLevel.none],
        current_title=titles.LEVEL_NAMES[learner.title_level],
        series_names=credits.catalog.series_names(),
        history=_history(learner),
        created=moment_text(learner.created_at),
        updated=moment_text(learner.updated_at),
        log=[
            {"at": moment_text(line.at), "by": line.by, "summary": line.summary} for line in lines
        ],
        notice=notice,
        errors=errors or {},
        form=form or {},
        today=date.today().isoformat(),
    )


@router.get("/{learner_id}", response_class=HTMLResponse)
async def learner_page(request: Request, credits: CreditsDep, learner: ShownLearner) -> Response:
    notice = DONE.get(request.query_params.get("done", ""), "")
    values = await _values(request, credits, learner, notice=notice)
    return render.page(request, "admin_learner.html", values)


async def _refused(
    request: Request,
    credits: Any,
    learner_id: str,
    which: str,
    why: str,
    form: dict[str, str],
    status: int,
) -> Response:
    """The page again (the learner as stored now), the form `which` with the values posted
    and why it was refused."""
    learner = await _learner(learner_id)
    if which.startswith("correction-") and which[11:] not in {
        str(n) for n in range(1, len(learner.titles) + 1)
    }:
        which = "page"  # no such record (any more): said at the top
    values = await _values(request, credits, learner, errors={which: why}, form=form)
    return render.page(request, "admin_learner.html", values, status)


def _revision(value: str) -> int | None:
    return render.small_number(value, 9)


# The profile form: the fields as the page names them; blank id number and phone keep them.
class ProfileForm:
    def __init__(
        self,
        name: str = Form(""),
        employer: str = Form(""),
        series: str = Form(""),
        degree: str = Form(""),
        email: str = Form(""),
        phone: str = Form(""),
        clear_phone: str = Form(""),
        id_number: str = Form(""),
        revision: str = Form(""),
    ) -> None:
        self.values = {
            "name": name[:200], "employer": employer[:200], "series": series[:100],
            "degree": degree[:40], "email": email[:300], "phone": phone[:60],
        }  # fmt: skip
        self.clear_phone = clear_phone == "yes"
        self.id_number = id_number[:40]
        self.revision = revision[:12]

    def patch(self, learner: Learner) -> dict[str, Any]:
        """What differs from the learner: the fields to change."""
        found: dict[str, Any] = {}
        current = {
            "name": learner.name, "employer": learner.employer,
            "series": learner.series or "", "degree": learner.degree.value,
            "email": learner.email or "",
        }  # fmt: skip
        for name, now in current.items():
            given = self.values[name].strip()
            if given != now:
                found[name] = given or (None if name in ("email", "series") else given)
        if self.values["phone"].strip():
            found["phone"] = self.values["phone"]
        elif self.clear_phone:
            found["phone"] = None
        if self.id_number.strip():
            found["id_number"] = self.id_number.strip().upper()
        return found


async def _form_admin(
    request: Request, learner_id: str, sessions: SessionsDep, csrf: str = Form("")
) -> Principal:
    return await admin_form(request, sessions, csrf, learner_path(learner_id))


AdminForm = Annotated[Principal, Depends(_form_admin)]


@router.post("/{learner_id}/profile", response_class=HTMLResponse)
async def correct_profile(
    request: Request,
    learner_id: str,
    admin: AdminForm,
    credits: CreditsDep,
    form: Annotated[ProfileForm, Depends()],
) -> Response:
    """Correct the profile (as `PATCH /learners/{id}`), at the revision the form showed."""
    learner = await _learner(learner_id)
    shown = {**form.values, "id_number": "", "phone": ""}  # never posted back in a page
    revision = _revision(form.revision)
    if revision is None:
        why = f"版本（revision）应为整数，收到 {form.revision!r}。"
        return await _refused(request, credits, learner_id, "profile", why, shown, 422)
    try:
        patch = LearnerUpdate.model_validate(form.patch(learner))
        await credit_learners.update_learner(
            credits=credits, learner_id=learner_id, patch=patch, by=admin.key, revision=revision
        )
    except ValidationError as error:
        return await _refused(request, credits, learner_id, "profile", _invalid(error), shown, 422)
    except NxceError as error:
        why = refusal(error)
        return await _refused(request, credits, learner_id, "profile", why, shown, error.status)
    return RedirectResponse(learner_path(learner_id) + "?done=profile", status_code=303)


def _day(value: str) -> date | str | None:
    """A date typed YYYY-MM-DD, None for blank, else the refusal."""
    value = value.strip()[:20]
    if not value:
        return None
    try:
        return date.fromisoformat(value) if len(value) == 10 else f"{value!r}"
    except ValueError:
        return f"{value!r}"


def _level(value: str) -> TitleLevel | None:
    try:
        level = TitleLevel(value)
    except ValueError:
        return None
    return None if level == TitleLevel.none else level


@router.post("/{learner_id}/titles", response_class=HTMLResponse)
async def append_title(
    request: Request,
    learner_id: str,
    admin: AdminForm,
    credits: CreditsDep,
    level: str = Form(""),
    obtained_on: str = Form(""),
    revision: str = Form(""),
) -> Response:
    """Append a title (as `PATCH /learners/{id}` with the new title and its date)."""
    shown = {"level": level[:40], "obtained_on": obtained_on[:20]}
    title, day, at = _level(level), _day(obtained_on), _revision(revision)
    why = ""
    if title is None:
        why = f"职称（level）应为初级、中级、副高级或正高级，收到 {level[:40]!r}。"
    elif not isinstance(day, date):
        why = f"取得日期（obtained_on）应为日期（年-月-日），收到 {day or '空'}。"
    elif at is None:
        why = f"版本（revision）应为整数，收到 {revision[:12]!r}。"
    if why:
        return await _refused(request, credits, learner_id, "title", why, shown, 422)
    patch = LearnerUpdate(title_level=title, title_obtained_on=day)
    try:
        await credit_learners.update_learner(
            credits=credits, learner_id=learner_id, patch=patch, by=admin.key, revision=at
        )
    except NxceError as error:
        why = refusal(error)
        return await _refused(request, credits, learner_id, "title", why, shown, error.status)
    return RedirectResponse(learner_path(learner_id) + "?done=title", status_code=303)


@router.post("/{learner_id}/titles/{entry}/correction", response_class=HTMLResponse)
async def correct_title(
    request: Request,
    learner_id: str,
    entry: str,
    admin: AdminForm,
    credits: CreditsDep,
    level: str = Form(""),
    obtained_on: str = Form(""),
    reason: str = Form(""),
    revision: str = Form(""),
) -> Response:
    """Correct a wrong record of the title history (as
    `POST /learners/{id}/titles/{n}/correction`), with a reason."""
    which = f"correction-{entry[:4]}"
    shown = {"level": level[:40], "obtained_on": obtained_on[:20], "reason": reason[:400]}
    title, day, at = _level(level), _day(obtained_on), _revision(revision)
    number = render.small_number(entry, 3)
    why = ""
    if number is None:
        why = f"记录序号（entry）应为整数，收到 {entry[:20]!r}。"
    elif title is None:
        why = f"职称（level）应为初级、中级、副高级或正高级，收到 {level[:40]!r}。"
    elif isinstance(day, str):
        why = f"取得日期（obtained_on）应为日期（年-月-日）或留空，收到 {day}。"
    elif not reason.strip():
        why = "更正原因（reason）必填：它与更正一起记入操作日志。"
    elif len(reason.strip()) > 200:
        why = f"更正原因（reason）最多 200 字，收到 {len(reason.strip())} 字。"
    elif render.has_control(reason):
        why = "更正原因（reason）不能含控制字符。"
    elif at is None:
        why = f"版本（revision）应为整数，收到 {revision[:12]!r}。"
    if why:
        return await _refused(request, credits, learner_id, which, why, shown, 422)
    assert number is not None and title is not None and not isinstance(day, str)
    try:
        await credit_learners.correct_title(
            credits=credits, learner_id=learner_id, entry=number, level=title,
            obtained_on=day, reason=reason.strip(), by=admin.key, revision=at,
        )  # fmt: skip
    except NxceError as error:
        why = refusal(error)
        return await _refused(request, credits, learner_id, which, why, shown, error.status)
    return RedirectResponse(learner_path(learner_id) + "?done=correction", status_code=303)
