"""The service's refusals of an enrolment or of an assessment result, as a base's page
reports them: the common ones in Chinese, matched on the problem's status, field and
extras (not on its English text); the others as 无效（422）etc. with the API's text."""

from __future__ import annotations

from datetime import date

from catalog.programme_models import ProgrammeProject
from nxce.core.errors import NxceError

# What the service's refusals are, in the page's words.
REFUSED = {404: "不存在", 409: "冲突", 422: "无效"}


def _field(error: NxceError) -> str | None:
    """The field a 422 names (`nxce.core.errors.invalid`), None for other refusals."""
    errors = error.extra.get("errors")
    if error.status != 422 or not isinstance(errors, list) or not errors:
        return None
    first = errors[0]
    return str(first.get("field")) if isinstance(first, dict) else None


def _worded(error: NxceError, words: str | None) -> str:
    return f"{REFUSED.get(error.status, '拒绝')}（{error.status}）：{words or error.detail}"


def enrolment_refusal(error: NxceError, learner_id: str) -> str:
    """Why `catalog.programme.enrol` refused a learner."""
    words = None
    if error.status == 404:
        words = f"没有学员编号为 {learner_id} 的学员"
    elif error.status == 409 and "capacity" in error.extra:
        words = f"项目名额已满（共 {error.extra['capacity']} 人）"
    elif error.status == 409:
        words = "该学员已报名本项目"
    elif _field(error) == "learner_id":  # §二(四), `catalog.programme.check_series`
        words = "基层中医药人才培训（§二(四)）只招收卫生系列的专业技术人员，该学员不属卫生系列"
    return _worded(error, words)


def _assessed_on_words(project: ProgrammeProject, assessed_on: date, today: date) -> str:
    if assessed_on > today:
        return f"考核日期 {assessed_on} 在今天之后，不能预先录入"
    if assessed_on < project.starts_on:
        return f"考核日期 {assessed_on} 早于项目开始日期 {project.starts_on}"
    if assessed_on > project.ends_on:
        return f"考核日期 {assessed_on} 晚于项目结束日期 {project.ends_on}"
    return ""


def result_refusal(
    error: NxceError, project: ProgrammeProject, assessed_on: date, today: date
) -> str:
    """Why `catalog.programme.record_result` refused a row of results."""
    words = None
    field = _field(error)
    if field == "learner_id":
        words = "该学员未报名本项目：只能为本项目名单上的学员录入考核结果"
    elif field == "assessed_on":
        words = _assessed_on_words(project, assessed_on, today) or None
    elif error.status == 409 and "base_id" in error.extra:
        words = "承办基地在考核之日不具备资格（第三条），不能录入考核结果"
    elif error.status == 409:
        words = "该学员在本项目已有考核结果（每次报名只录一次结果）"
    return _worded(error, words)
