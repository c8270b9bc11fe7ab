"""Manual entries converted to hours (§一(三)), each rule with its clause.

`convert` turns one recorded manual entry into the values of its ledger entry, by the
policy that has the rule for the entry's kind on its date; it raises a 422 naming the
field (and the clause, for a rule of the notice) when the entry breaks a rule. It is pure:
the same entry, learner, policies and day of recording give the same ledger values, which
is what lets the ledger be rebuilt.

Which policy converts an entry (`_accepts`):

- most kinds: the newest policy whose dates cover the entry's date;
- teaching (§一(三)1): the newest covering policy whose teaching rule covers the year
  (2022's notice: teaching done in 2022 only);
- exam passes (§一(三)2, 凡以往参加过): any past pass; the newest policy whose rule is
  still valid on the date, else the newest with the rule (recorded with its
  `valid_through`: the audit says the substitution expired);
- a degree (§一(三)1): the newest policy whose dates meet the study (enrolment to
  graduation), so a degree crossing the window's end is converted by it;
- a qualification (§一(三)3): the newest policy whose dates end on or after it — the
  tenure it counts for may have begun before the policy's years (our reading).

An entry no installed policy converts is recorded, not refused (our reading: the notice
is 2022's): status `awaiting_policy`, reason `no policy covers <year> yet`, no policy and
no clause, and the hours the entry itself states (training, record imports, other routes,
a degree's certified hours) or 0 where a policy's factor makes them (study tours,
teaching, exams). It counts once a policy covering it is installed and the ledger is
recomputed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from credits.models import EntryStatus, Learner
from credits.policy import (
    ComputerExamModule,
    Conversion,
    ForeignLanguageExam,
    Manual,
    Policies,
    Policy,
    RecordImport,
    StudyTour,
    Teaching,
    Training,
)
from nxce.core.errors import Unprocessable, invalid

# A continuing-education base on a date: its status (None: not certified then), its name
# and whether it was in good standing (catalog.bases.in_good_standing); (None, None, False)
# when there is no such base. credits/ledger.py builds it from the catalog.
BaseStatus = Callable[[str, date], Any]

# What `manual` entries of public hours say of their source (our reading, §一(一): typed
# public hours are copies of the platform's records, from a source nobody named).
UNSPECIFIED = "unspecified"

# The category of each kind when no policy gives one (an entry awaiting a policy).
_CATEGORIES = {
    "study_tour": "professional",
    "teaching": "professional",
    "foreign_language_exam": "public",
    "computer_exam_module": "public",
    "degree": "professional",
    "qualification": "professional",
    "training": "professional",
    "record_import": "public",
}


@dataclass(frozen=True)
class Converted:
    kind: str  # the ledger entry's kind (a `manual` entry of public hours: record_import)
    year: int
    occurred_on: date
    category: str
    hours: float
    clause: str
    policy_id: str
    meets: str | None = None
    valid_through: date | None = None
    source: dict[str, Any] | None = None
    status: EntryStatus = EntryStatus.counted
    status_reason: str | None = None


def _refuse(field: str, message: str, rule: Conversion, policy: Policy) -> Unprocessable:
    """A rule of the notice refuses the entry: the 422 cites its clause."""
    return invalid(field, f"{message} ({policy.document} {rule.clause})")


def _day(details: dict[str, Any], name: str) -> date:
    value = details[name]
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def ledger_kind(kind: str, details: dict[str, Any]) -> str:
    """§一(一), our reading: public hours typed as `manual` are a record import."""
    return "record_import" if kind == "manual" and details.get("category") == "public" else kind


def entry_date(kind: str, details: dict[str, Any]) -> date:
    return _day(details, "graduated_on" if kind == "degree" else "date")


# --- what the entry itself says (the same with or without a policy) ------------------


def _check_dates(kind: str, details: dict[str, Any], today: date) -> None:
    """Input limits of this service, not rules of the notice: nothing is credited before
    it happened (an expected graduation date excepted), and a degree ends after it began."""
    field = "enrolled_on" if kind == "degree" else "date"
    day = _day(details, field)
    if day > today:
        raise invalid(
            field, f"must not be in the future (today is {today} in China Standard Time)", day
        )
    if kind == "degree":
        enrolled, graduated = day, _day(details, "graduated_on")
        if graduated <= enrolled:
            raise invalid("graduated_on", f"must come after enrolled_on {enrolled}", graduated)


def _degree_source(details: dict[str, Any], today: date) -> dict[str, Any]:
    """A degree as the audit judges it: the study's dates, the institution's certified
    hours (None when not given) and whether the graduation date was still ahead (an
    expected date) on the day the entry was recorded."""
    graduated = _day(details, "graduated_on")
    certified = details.get("certified_hours")
    return {
        "enrolled_on": _day(details, "enrolled_on").isoformat(),
        "graduated_on": graduated.isoformat(),
        "certified_hours": None if certified is None else float(certified),
        "in_progress": graduated > today,
    }


def _modules(details: dict[str, Any]) -> dict[str, Any]:
    """The computer modules passed: their count and names ([] when none are named)."""
    names = [str(name) for name in details.get("module_names") or []]
    count = len(names) if names else int(details["modules"])
    return {"modules": count, "module_names": names}


def _base(details: dict[str, Any], base_status: BaseStatus) -> tuple[Any, str, bool]:
    """The base's status on the entry's date, its name and whether it was in good standing
    then (§三, as catalog.bases.in_good_standing defines it); 422 when there is no such
    base."""
    found = base_status(str(details["base_id"]), _day(details, "date"))
    status, name = found[0], found[1]
    if name is None:
        raise invalid("base_id", "no such continuing-education base", details["base_id"])
    return status, str(name), bool(found[2])


def _standing_base(details: dict[str, Any], base_status: BaseStatus) -> str:
    """§三 for a training no policy converts yet: the base must be in good standing on the
    training's date whatever policy later covers the year (a recompute reverses it
    otherwise, so recording it would make the live ledger differ from a rebuild); 422
    naming `base_id`. Its name when it is."""
    status, name, good = _base(details, base_status)
    if not good:
        day = _day(details, "date")
        raise invalid(
            "base_id",
            f"base {name} was {status or 'not yet certified'} on {day}, not in good standing (§三)",
            details["base_id"],
        )
    return name


def _import_source(kind: str, details: dict[str, Any]) -> dict[str, Any]:
    """Where imported public hours come from: the source and the platform's record number
    as given; `unspecified` for a `manual` entry of public hours."""
    named = None if kind == "manual" else details.get("source")
    return {"source": named or UNSPECIFIED, "reference": details.get("reference")}


# --- the rules, under a policy ----------------------------------------------------------


def _study_tour(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)1: actual days (travel excluded) x 6 professional hours."""
    rule = policy.conversion("study_tour", StudyTour)
    day, days = _day(details, "date"), int(details["days"])
    hours = float(days * rule.hours_per_day)
    return Converted("study_tour", day.year, day, rule.category, hours, rule.clause, policy.id)


def _teaching(details: dict[str, Any], policy: Policy, learner: Learner, **_: Any) -> Converted:
    """§一(三)1: teaching done in 2022 — 1 hour taught = 3 hours; continuing medical
    education keeps its own rules."""
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
    return Converted(
        "teaching", day.year, day, rule.category, taught * rule.factor, rule.clause, policy.id
    )


def _foreign_language_exam(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)2: a title foreign-language exam ever passed replaces 40 public hours (the
    audit takes one per person, while the substitution lasts)."""
    rule = policy.conversion("foreign_language_exam", ForeignLanguageExam)
    day = _day(details, "date")
    return Converted(
        "foreign_language_exam",
        day.year,
        day,
        rule.category,
        float(rule.hours),
        rule.clause,
        policy.id,
        valid_through=rule.valid_through,
    )


def _computer_exam_module(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)2: each passed computer application module replaces 10 public hours (the
    audit counts a named module once across entries)."""
    rule = policy.conversion("computer_exam_module", ComputerExamModule)
    day, modules = _day(details, "date"), _modules(details)
    return Converted(
        "computer_exam_module",
        day.year,
        day,
        rule.category,
        float(modules["modules"] * rule.hours_per_module),
        rule.clause,
        policy.id,
        valid_through=rule.valid_through,
        source=modules,
    )


def _degree(details: dict[str, Any], policy: Policy, today: date, **_: Any) -> Converted:
    """§一(三)1: a higher or second degree, dated to its graduation. Whether it meets a
    window (enrolled and graduated inside it) or brings the institution's certified
    hours (crossing it) is judged by each audit, for its own window."""
    rule = policy.conversion("degree")
    source = _degree_source(details, today)
    graduated = _day(details, "graduated_on")
    hours = source["certified_hours"] or 0.0
    return Converted(
        "degree",
        graduated.year,
        graduated,
        "professional",
        hours,
        rule.clause,
        policy.id,
        meets="window",
        source=source,
    )


def _qualification(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(三)3: a professional qualification obtained after reaching the intermediate or
    deputy senior title meets the professional part for the tenure; the audit judges the
    tenure from the title history, so the current title is not checked here."""
    rule = policy.conversion("qualification")
    day = _day(details, "date")
    return Converted(
        "qualification",
        day.year,
        day,
        "professional",
        0.0,
        rule.clause,
        policy.id,
        meets="professional",
        source={"name": str(details["name"])},
    )


def _training(
    details: dict[str, Any], policy: Policy, base_status: BaseStatus, **_: Any
) -> Converted:
    """§一(一), §三: hours certified by a continuing-education base in good standing."""
    rule = policy.conversion("training", Training)
    day, hours = _day(details, "date"), float(details["hours"])
    status, name, good = _base(details, base_status)
    if not good:
        state = status or "not yet certified"
        raise _refuse("base_id", f"base {name} was {state} on {day} (§三)", rule, policy)
    return Converted(
        "training",
        day.year,
        day,
        rule.category,
        hours,
        rule.clause,
        policy.id,
        source={"base": name},
    )


def _record_import(
    details: dict[str, Any], policy: Policy, kind: str = "record_import", **_: Any
) -> Converted:
    """§一(一): public hours learned on the provincial platform, copied from its records."""
    rule = policy.conversion("record_import", RecordImport)
    day, hours = _day(details, "date"), float(details["hours"])
    return Converted(
        "record_import",
        day.year,
        day,
        rule.category,
        hours,
        rule.clause,
        policy.id,
        source=_import_source(kind, details),
    )


def _manual(details: dict[str, Any], policy: Policy, **_: Any) -> Converted:
    """§一(一): other routes the competent departments recognise, with a written basis
    (professional hours; public ones are record imports)."""
    if details.get("category") == "public":
        return _record_import(details, policy, kind="manual")
    rule = policy.conversion("manual", Manual)
    day, hours = _day(details, "date"), float(details["hours"])
    return Converted("manual", day.year, day, "professional", hours, rule.clause, policy.id)


RULES: dict[str, Callable[..., Converted]] = {
    "study_tour": _study_tour,
    "teaching": _teaching,
    "foreign_language_exam": _foreign_language_exam,
    "computer_exam_module": _computer_exam_module,
    "degree": _degree,
    "qualification": _qualification,
    "training": _training,
    "record_import": _record_import,
    "manual": _manual,
}


# --- which policy converts an entry ---------------------------------------------------

Accepts = Callable[[Policy, Conversion], bool]


def _accepts(kind: str, details: dict[str, Any]) -> Accepts:
    """Whether a policy and its rule for `kind` convert this entry (see the module)."""
    if kind == "degree":
        enrolled, graduated = _day(details, "enrolled_on"), _day(details, "graduated_on")
        return lambda p, r: p.covered.from_ <= graduated and enrolled <= p.covered.to
    day = _day(details, "date")
    if kind == "teaching":
        return lambda p, r: p.covers(day) and isinstance(r, Teaching) and r.credits_year(day.year)
    if kind in ("foreign_language_exam", "computer_exam_module"):
        return lambda p, r: (
            isinstance(r, ForeignLanguageExam | ComputerExamModule) and (day <= r.valid_through)
        )
    if kind == "qualification":
        return lambda p, r: day <= p.covered.to
    return lambda p, r: p.covers(day)


def _policy_for(kind: str, details: dict[str, Any], policies: Policies) -> Policy | None:
    """The policy converting the entry; None when no installed policy does (yet)."""
    rule_kind = ledger_kind(kind, details)
    found = policies.with_rule(rule_kind, _accepts(kind, details))
    if found is None and rule_kind in ("foreign_language_exam", "computer_exam_module"):
        return policies.with_rule(rule_kind)  # passed after valid_through: "expired"
    return found


def _waiting_reason(kind: str, details: dict[str, Any], policies: Policies) -> str:
    """Our reading: `no policy covers <year> yet`, naming the kind where a policy covers
    the date but has no rule for it (teaching outside 2022)."""
    if kind == "degree":
        first, last = _day(details, "enrolled_on").year, _day(details, "graduated_on").year
        return f"no policy covers {first if first == last else f'{first}-{last}'} yet"
    day = _day(details, "date")
    if kind == "teaching" or policies.covering(day) is not None:
        return f"no policy covers {ledger_kind(kind, details).replace('_', ' ')} in {day.year} yet"
    return f"no policy covers {day.year} yet"


def _awaiting(
    kind: str,
    details: dict[str, Any],
    policies: Policies,
    base_status: BaseStatus,
    today: date,
) -> Converted:
    """An entry no installed policy converts: recorded with what it states, not counted."""
    day = entry_date(kind, details)
    source: dict[str, Any] = {}
    hours = float(details.get("hours") or 0)
    if kind == "degree":
        source = _degree_source(details, today)
        hours = source["certified_hours"] or 0.0
    elif kind == "computer_exam_module":
        source = _modules(details)
    elif kind == "training":
        source = {"base": _standing_base(details, base_status)}
    elif ledger_kind(kind, details) == "record_import":
        source = _import_source(kind, details)
    elif kind == "qualification":
        source = {"name": str(details["name"])}
    category = str(details["category"]) if kind == "manual" else _CATEGORIES[kind]
    return Converted(
        ledger_kind(kind, details),
        day.year,
        day,
        category,
        hours,
        "",
        "",
        source=source,
        status=EntryStatus.awaiting_policy,
        status_reason=_waiting_reason(kind, details, policies),
    )


def convert(
    *,
    kind: str,
    details: dict[str, Any],
    learner: Learner,
    policies: Policies,
    base_status: BaseStatus,
    today: date,
) -> Converted:
    """The ledger values of a manual entry, by the policy that converts it (awaiting a
    policy when none does). `today` is the day the entry was recorded, in China Standard
    Time: nothing dated after it is credited."""
    if kind not in RULES:
        raise Unprocessable(f"kind: must be one of {', '.join(RULES)}, got {kind!r}")
    _check_dates(kind, details, today)
    policy = _policy_for(kind, details, policies)
    if policy is None:
        return _awaiting(kind, details, policies, base_status, today)
    return RULES[kind](
        details, policy=policy, learner=learner, base_status=base_status, today=today
    )
