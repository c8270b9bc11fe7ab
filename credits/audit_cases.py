"""The special cases of §一(三) as one audit judges them: degrees (1), exam substitutions
(2) and professional qualifications (3). Each reads the entries of its kind and records
in the tally what it counted, what it applied (with the clause) and what it did not
count and why. Readings that are ours say so."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from credits import titles
from credits.audit_tally import Tally
from credits.models import AuditedEntry, Learner
from credits.policy import ComputerExamModule, ForeignLanguageExam, Policy
from credits.schemas import Substitutions, SubstitutionUse, same_module

SUBSTITUTION_CLAUSE = "§一(三)2"
FOREIGN_LANGUAGE = "foreign_language_exam"
COMPUTER_MODULE = "computer_exam_module"
SUBSTITUTION_KINDS = (FOREIGN_LANGUAGE, COMPUTER_MODULE)
QUALIFICATION_LEVELS = ("intermediate", "deputy_senior")  # §一(三)3 when the policy has none


# --- §一(三)1 degrees ------------------------------------------------------------------


def _day(value: object, fallback: date) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value or fallback))


def degree(entry: AuditedEntry, tally: Tally) -> None:
    """§一(三)1, judged per audit (each level has its own window): a study within the
    window meets it (学历证明); one crossing it at either edge — enrolled before, or
    graduating after (still studying counts as after) — counts the institution's
    certified hours (院校学时证明) as professional hours of the window, and the public
    requirement stays. A study outside the level's window is not part of the audit and
    is not listed, like any entry dated outside it (our reading)."""
    scope = tally.scope
    enrolled = _day(entry.source.get("enrolled_on"), entry.occurred_on)
    graduated = _day(entry.source.get("graduated_on"), entry.occurred_on)
    if enrolled.year > scope.level_last or graduated.year < scope.level_first:
        return
    if tally.skip_unless_counted(entry):
        return
    if scope.cannot_be_met or graduated.year < scope.first:
        tally.skip(entry, scope.cannot_be_met or scope.before_post())
        return
    ends = "graduating" if entry.source.get("in_progress") else "graduated"
    study = f"enrolled {enrolled}, {ends} {graduated}"
    if enrolled.year >= scope.first and graduated.year <= scope.last:
        tally.window_met = True
        tally.apply(
            entry,
            "degree_within_window",
            f"{study}: within the window {scope.first}-{scope.last}, its requirement is met "
            "(只需提交学历证明)",
        )
        return
    certified = entry.source.get("certified_hours")
    if certified is None:
        tally.skip(
            entry,
            f"院校学时证明 required: the study crosses the window {scope.first}-{scope.last} "
            f"({study}; {entry.clause})",
            hours=0.0,
        )
        return
    hours = float(certified)
    tally.degree_hours += hours
    tally.apply(
        entry,
        "degree_across_window",
        f"{study}: crosses the window {scope.first}-{scope.last}; the institution's "
        f"certified {hours:g} hours count as professional hours of the window, and the "
        "public-course requirement within the window still applies",
    )


# --- §一(三)3 qualifications -----------------------------------------------------------


def _why_no_tenure(
    entry: AuditedEntry, tenure: titles.Tenure | None, learner: Learner, policy: Policy
) -> str | None:
    """Why a qualification meets no part of this audit (None: it does)."""
    clause = entry.clause
    if entry.occurred_on.year > policy.application_year:
        return f"obtained after the application year {policy.application_year} ({clause}: 任职期内)"
    if tenure is None:
        return (
            f"not obtained while holding an intermediate or deputy senior title "
            f"(titles: {titles.describe(learner.titles)}; {clause})"
        )
    return None


def qualifications(
    found: Sequence[AuditedEntry], learner: Learner, policy: Policy, tally: Tally
) -> None:
    """§一(三)3 可视同完成任职期内专业课学习任务: a qualification obtained during the tenure of
    an intermediate or deputy senior title (from that title's date to the next one's)
    meets the professional part of the window years within that tenure — whenever in
    the tenure it was obtained, before the window or after it (by the end of the
    application year, our reading of "before the application")."""
    rule = policy.conversions.qualification
    levels = rule.after_levels if rule is not None else QUALIFICATION_LEVELS
    held = titles.tenures(learner.titles, levels)
    scope = tally.scope
    for entry in found:
        if tally.skip_unless_counted(entry):
            continue
        if scope.cannot_be_met:
            tally.skip(entry, scope.cannot_be_met)
            continue
        tenure = next((t for t in held if t.holds(entry.occurred_on)), None)
        why = _why_no_tenure(entry, tenure, learner, policy)
        if why is not None or tenure is None:
            tally.skip(entry, why or "")
            continue
        years = tenure.years(scope.first, scope.last)
        if not years:
            tally.skip(
                entry,
                f"its tenure ({tenure.describe()}) lies outside the years audited "
                f"{scope.first}-{scope.last} ({entry.clause})",
            )
            continue
        tally.covered_years.update(years)
        tally.apply(
            entry,
            "qualification_after_title",
            f"qualification {entry.source.get('name', '')} obtained {entry.occurred_on} in "
            f"the tenure {tenure.describe()}: the professional-course part of "
            f"{years[0]}-{years[-1]} is met",
        )


def uncovered_professional(tally: Tally) -> float | None:
    """§一(三)3, our reading: the professional hours still required for the window years
    outside every tenure a qualification covers, at (total - public) / years a year;
    None when no qualification covers any year. Said in `applied`."""
    if not tally.covered_years:
        return None
    scope = tally.scope
    per_year = (scope.required.total - scope.required.public) / scope.years
    uncovered = [y for y in range(scope.first, scope.last + 1) if y not in tally.covered_years]
    hours = per_year * len(uncovered)
    if uncovered:
        tally.apply(
            None,
            "qualification_uncovered_years",
            f"window years {', '.join(map(str, uncovered))} lie outside the tenure the "
            f"qualification covers: their professional requirement, {len(uncovered)} x "
            f"{per_year:g} = {hours:g} hours, must be met by professional hours (our reading)",
            clause="§一(三)3",
        )
    return hours


# --- §一(三)2 exam substitutions -------------------------------------------------------


def _expired(entry: AuditedEntry, policy: Policy) -> str | None:
    """此项政策截止2022年年底: a pass after the substitution ended, or an audit of a later
    year, does not substitute (None: it may)."""
    rule = policy.conversions.get(entry.kind)
    ends = entry.valid_through or getattr(rule, "valid_through", None)
    if not isinstance(ends, date):
        return None
    if entry.occurred_on > ends:
        return f"substitution expired: passed {entry.occurred_on}, after {ends} ({entry.clause})"
    if policy.application_year > ends.year:
        return (
            f"substitution expired: {entry.kind} substitutions ended on {ends} "
            f"({entry.clause}); this audit is under {policy.document}"
        )
    return None


def _series_requiring(policy: Policy, kind: str) -> list[str] | None:
    rule = policy.conversions.get(kind)
    if isinstance(rule, ForeignLanguageExam | ComputerExamModule):
        return rule.series_requiring_exams
    return None


class _Candidates:
    """The substitutions that may count, before the limit: the first foreign-language
    pass, and each computer module once."""

    def __init__(self, tally: Tally) -> None:
        self.tally = tally
        self.chosen: list[tuple[AuditedEntry, float]] = []
        self.language: AuditedEntry | None = None
        self.modules: dict[str, str] = {}  # module (as compared) -> the entry counting it
        self.unnamed = 0

    def language_exam(self, entry: AuditedEntry) -> None:
        """凡以往参加过职称外语考试: 40 public hours once per person, however many passes."""
        if self.language is not None:
            self.tally.skip(
                entry,
                f"substitution limit reached: the foreign-language exam replaces public hours "
                f"once per person; the pass of {self.language.occurred_on} counts "
                f"({entry.clause})",
            )
            return
        self.language = entry
        self.chosen.append((entry, entry.hours))

    def computer_modules(self, entry: AuditedEntry) -> None:
        """每个模块可代替公需课10个学时: a module name counts once across entries, compared
        as within an entry (spaces collapsed, case folded: `same_module`); unnamed modules
        count as distinct (their distinctness is not checked, and the audit says so)."""
        names = [str(n) for n in entry.source.get("module_names") or []]
        if not names:
            self.unnamed += int(entry.source.get("modules") or 0)
            self.chosen.append((entry, entry.hours))
            return
        per_module = entry.hours / len(names)
        repeated = [n for n in names if same_module(n) in self.modules]
        for name in names:
            self.modules.setdefault(same_module(name), entry.entry_id)
        if repeated:
            self.tally.skip(
                entry,
                f"substitution limit reached: module(s) {', '.join(repeated)} already "
                f"counted (each distinct module once, {entry.clause})",
                hours=per_module * len(repeated),
            )
        if len(repeated) < len(names):
            self.chosen.append((entry, per_module * (len(names) - len(repeated))))


def _candidates(
    found: Sequence[AuditedEntry], learner: Learner, policy: Policy, tally: Tally
) -> _Candidates:
    candidates = _Candidates(tally)
    for entry in found:
        if tally.skip_unless_counted(entry):
            continue
        why = tally.scope.cannot_be_met or _expired(entry, policy)
        requiring = _series_requiring(policy, entry.kind) or []
        if why is None and learner.series in requiring:
            why = (
                f"the {learner.series} series requires this exam for titles: it does not "
                f"replace public hours ({entry.clause}: 对不要求外语和计算机应用能力考试的系列)"
            )
        if why is not None:
            tally.skip(entry, why)
        elif entry.kind == FOREIGN_LANGUAGE:
            candidates.language_exam(entry)
        else:
            candidates.computer_modules(entry)
    return candidates


def substitutions(
    found: Sequence[AuditedEntry], learner: Learner, policy: Policy, tally: Tally
) -> Substitutions:
    """§一(三)2: exam passes of any date (凡以往参加过) replace public-course hours until
    the substitution ends; together they never exceed what public courses left of the
    audit's public requirement (so never professional hours): the hours used are
    min(what they are worth, max(0, public required - public-course hours counted)),
    taken in the order of the passes; the rest is listed as not counted. Not hours of a
    year: the audit shows them on their own line."""
    candidates = _candidates(found, learner, policy, tally)
    line = Substitutions()
    if not candidates.chosen:
        return line
    line.available = sum(hours for _, hours in candidates.chosen)
    line.limit = max(0.0, tally.scope.required.public - tally.public)
    left = line.limit
    for entry, worth in candidates.chosen:
        used = min(worth, left)
        left -= used
        if used > 0:
            line.entries.append(
                SubstitutionUse(entry_id=entry.entry_id, kind=entry.kind, hours=used)
            )
            tally.apply(
                entry,
                entry.kind,
                f"{used:g} public hours in place of public courses (passed "
                f"{entry.occurred_on}, valid through {entry.valid_through})",
            )
        if worth > used:
            tally.skip(
                entry,
                f"substitution limit reached: exam substitutions replace at most the public "
                f"hours public courses left of the requirement ({line.limit:g} of "
                f"{tally.scope.required.public:g}; {entry.clause})",
                hours=worth - used,
            )
    line.hours = line.limit - left
    line.not_used = line.available - line.hours
    _notes(line, candidates, policy, tally)
    return line


def _notes(line: Substitutions, candidates: _Candidates, policy: Policy, tally: Tally) -> None:
    if candidates.unnamed:
        line.notes.append(
            f"{candidates.unnamed} computer module(s) recorded without names counted as "
            "distinct: their distinctness was not checked"
        )
    kinds = {entry.kind for entry, _ in candidates.chosen}
    if all(not (_series_requiring(policy, kind) or []) for kind in kinds):
        note = (
            "the series condition (对不要求外语和计算机应用能力考试的职称评审系列) was not "
            f"checked: {policy.document} names no series requiring the exams"
        )
        line.notes.append(note)
        tally.apply(None, "exam_series_not_checked", note, clause=SUBSTITUTION_CLAUSE)
