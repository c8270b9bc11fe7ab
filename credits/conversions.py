"""Manual entries converted to hours (§一(三)), each rule with its clause.

`convert` turns one recorded manual entry into the values of its ledger entry, by the
policy in force on the entry's date; it raises a 422 naming the field and the clause
when the entry breaks a rule. It is pure: the same entry gives the same ledger values,
which is what lets the ledger be rebuilt.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from credits.models import Learner
from credits.policy import (
    ComputerExamModule,
    Conversion,
    ForeignLanguageExam,
    Manual,
    Policies,
    Policy,
    Qualification,
    StudyTour,
    Teaching,
    Training,
)
from nxce.core.errors import Unprocessable, invalid

# The status a continuing-education base had on a date (None: not certified then), and
# its name; (None, None) when there is no such base. The composition root provides it.
BaseStatus = Callable[[str, date], Any]


@dataclass(frozen=True)
class Converted:
    year: int
    occurred_on: date
    category: str
    hours: float
    clause: str
    policy_id: str
    meets: str | None = None
    valid_through: date | None = None
    source: dict[str, Any] | None = None


def _refuse(field: str, message: str, rule: Conversion, policy: Policy) -> Unprocessable:
    return invalid(field, f"{message} ({policy.document} {rule.clause})")


def _day(details: dict[str, Any], name: str) -> date:
    value = details[name]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _study_tour(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)1: actual days (travel excluded) x 6 professional hours."""
    rule = policy.conversion("study_tour", StudyTour)
    day, days = _day(details, "date"), int(details["days"])
    if days > rule.max_days:
        raise _refuse("days", f"at most {rule.max_days} days, got {days}", rule, policy)
    return Converted(
        day.year,
        day,
        rule.category,
        float(days * rule.hours_per_day),
        rule.clause,
        policy.id,
    )


def _teaching(details: dict[str, Any], policy: Policy, learner: Learner, **_: Any) -> Converted:
    """§一(三)1: 1 hour taught = 3 hours; continuing medical education keeps its own rules."""
    rule = policy.conversion("teaching", Teaching)
    if learner.series in rule.excluded_series:
        raise _refuse(
            "kind",
            f"teaching hours of the {learner.series} series follow the continuing medical "
            "education rules (继续医学教育等有另行规定的，按原规定执行), not this conversion",
            rule,
            policy,
        )
    day, taught = _day(details, "date"), float(details["hours_taught"])
    if taught > rule.max_hours_taught:
        raise _refuse(
            "hours_taught", f"at most {rule.max_hours_taught:g}, got {taught:g}", rule, policy
        )
    return Converted(day.year, day, rule.category, taught * rule.factor, rule.clause, policy.id)


Exam = TypeVar("Exam", ForeignLanguageExam, ComputerExamModule)


def _exam(
    kind: str, shape: type[Exam], details: dict[str, Any], policy: Policy
) -> tuple[Exam, date]:
    """§一(三)2: the substitutions end with 2022 (此项政策截止2022年年底)."""
    rule = policy.conversion(kind, shape)
    day = _day(details, "date")
    if day > rule.valid_through:
        raise _refuse(
            "date", f"this substitution ended on {rule.valid_through}, got {day}", rule, policy
        )
    return rule, day


def _foreign_language_exam(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)2: a passed title foreign-language exam replaces 40 public hours."""
    rule, day = _exam("foreign_language_exam", ForeignLanguageExam, details, policy)
    return Converted(
        day.year,
        day,
        rule.category,
        float(rule.hours),
        rule.clause,
        policy.id,
        valid_through=rule.valid_through,
    )


def _computer_exam_module(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)2: each passed computer application module replaces 10 public hours."""
    rule, day = _exam("computer_exam_module", ComputerExamModule, details, policy)
    modules = int(details["modules"])
    if modules > rule.max_modules:
        raise _refuse("modules", f"at most {rule.max_modules}, got {modules}", rule, policy)
    return Converted(
        day.year,
        day,
        rule.category,
        float(modules * rule.hours_per_module),
        rule.clause,
        policy.id,
        valid_through=rule.valid_through,
    )


def _degree(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)1: a degree earned in the window meets its requirement when both enrolment and
    graduation fall inside it; otherwise the institution's certified hours count."""
    rule = policy.conversion("degree")
    enrolled, graduated = _day(details, "enrolled_on"), _day(details, "graduated_on")
    if graduated <= enrolled:
        raise _refuse(
            "graduated_on", f"must come after enrolled_on {enrolled}, got {graduated}", rule, policy
        )
    latest_start = max(level.window.from_ for level in policy.levels.values())
    if enrolled.year < latest_start and details.get("certified_hours") is None:
        raise _refuse(
            "certified_hours",
            f"required: enrolled {enrolled}, before the window of an audit "
            f"(from {latest_start}), so the institution's certified hours are what counts",
            rule,
            policy,
        )
    hours = float(details.get("certified_hours") or 0)
    return Converted(
        graduated.year, graduated, "professional", hours, rule.clause, policy.id, meets="window"
    )


def _qualification(
    details: dict[str, Any], policy: Policy, learner: Learner, **_: Any
) -> Converted:
    """§一(三)3: a professional qualification obtained after reaching the intermediate or
    deputy senior title meets the professional part for the tenure."""
    rule = policy.conversion("qualification", Qualification)
    day = _day(details, "date")
    if learner.title_level.value not in rule.after_levels or learner.title_obtained_on is None:
        raise _refuse(
            "kind",
            f"applies to holders of an intermediate or deputy senior title; "
            f"the learner's title is {learner.title_level.value}",
            rule,
            policy,
        )
    if day < learner.title_obtained_on:
        raise _refuse(
            "date",
            f"must come after the title was obtained ({learner.title_obtained_on}), got {day}",
            rule,
            policy,
        )
    return Converted(
        day.year, day, "professional", 0.0, rule.clause, policy.id, meets="professional"
    )


def _training(
    details: dict[str, Any], policy: Policy, base_status: BaseStatus, **_: Any
) -> Converted:
    """§一(一), §三: hours certified by a continuing-education base in good standing."""
    rule = policy.conversion("training", Training)
    day, hours = _day(details, "date"), float(details["hours"])
    status, name = base_status(str(details["base_id"]), day)
    if name is None:
        raise _refuse(
            "base_id", f"no continuing-education base {details['base_id']!r}", rule, policy
        )
    if status is None or status == "revoked":
        state = "revoked" if status == "revoked" else "not yet certified"
        raise _refuse("base_id", f"base {name} was {state} on {day} (§三)", rule, policy)
    if hours > rule.max_hours:
        raise _refuse("hours", f"at most {rule.max_hours:g}, got {hours:g}", rule, policy)
    return Converted(
        day.year, day, rule.category, hours, rule.clause, policy.id, source={"base": name}
    )


def _manual(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(一): other routes the competent departments recognise, with a written basis."""
    rule = policy.conversion("manual", Manual)
    day, hours = _day(details, "date"), float(details["hours"])
    if hours > rule.max_hours:
        raise _refuse("hours", f"at most {rule.max_hours:g}, got {hours:g}", rule, policy)
    return Converted(day.year, day, str(details["category"]), hours, rule.clause, policy.id)


RULES: dict[str, Callable[..., Converted]] = {
    "study_tour": _study_tour,
    "teaching": _teaching,
    "foreign_language_exam": _foreign_language_exam,
    "computer_exam_module": _computer_exam_module,
    "degree": _degree,
    "qualification": _qualification,
    "training": _training,
    "manual": _manual,
}


def entry_date(kind: str, details: dict[str, Any]) -> date:
    return _day(details, "graduated_on" if kind == "degree" else "date")


def convert(
    *,
    kind: str,
    details: dict[str, Any],
    learner: Learner,
    policies: Policies,
    base_status: BaseStatus,
) -> Converted:
    """The ledger values of a manual entry, by the policy covering its date."""
    policy = policies.for_date(entry_date(kind, details))
    if kind not in RULES:
        raise Unprocessable(f"kind: must be one of {', '.join(RULES)}, got {kind!r}")
    return RULES[kind](details, policy=policy, learner=learner, base_status=base_status)
