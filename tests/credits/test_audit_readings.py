"""Issue 13: the audit follows the notice in its edge cases — exam substitutions
(§一(三)2), degrees judged per audit (§一(三)1), master's holders (§一(二)), professional
qualifications by tenure (§一(三)3) — and lists every entry it does not count, and why.

`audit` is pure, so these run it on ledger entries as the store hands them over
(`AuditedEntry`) and the built-in 2022 policy; the numbers are worked by hand in each
docstring. Readings that are ours are named so."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from credits import audit as audit_rules
from credits.models import AuditedEntry, Degree, EntryStatus, Learner, TitleLevel, TitleRecord
from credits.policy import Policies, Policy
from credits.schemas import AuditRead
from transcripts import content, wording

POLICY = Policies().for_application(2022)
CLAUSES = {
    "foreign_language_exam": "§一(三)2",
    "computer_exam_module": "§一(三)2",
    "degree": "§一(三)1",
    "qualification": "§一(三)3",
}


def learner(
    *titles: tuple[str, str | None], degree: str = "bachelor", series: str = "工程"
) -> Learner:
    """张伟, with his title history (level, obtained on), oldest first."""
    records = [
        TitleRecord(level=TitleLevel(level), obtained_on=date.fromisoformat(day) if day else None)
        for level, day in titles
    ]
    last = records[-1] if records else TitleRecord(level=TitleLevel.none)
    now = datetime(2022, 3, 1, tzinfo=UTC)
    return Learner.model_construct(
        learner_id="zhangwei",
        name="张伟",
        employer="宁夏建工集团有限公司",
        series=series,
        title_level=last.level,
        title_obtained_on=last.obtained_on,
        titles=records,
        degree=Degree(degree),
        created_at=now,
        updated_at=now,
    )


_serial = iter(range(1, 10_000))


def entry(
    kind: str,
    day: str,
    hours: float = 0.0,
    category: str = "public",
    *,
    status: EntryStatus = EntryStatus.counted,
    reason: str | None = None,
    meets: str | None = None,
    **source: Any,
) -> AuditedEntry:
    """A ledger entry as the audit reads it; exams carry the 2022 validity."""
    on = date.fromisoformat(day)
    exam = kind in ("foreign_language_exam", "computer_exam_module")
    return AuditedEntry(
        entry_id=f"e{next(_serial):04d}",
        year=on.year,
        occurred_on=on,
        category=category,
        hours=hours,
        kind=kind,
        clause=CLAUSES.get(kind, "§一(一)"),
        status=status,
        meets=meets,
        valid_through=date(2022, 12, 31) if exam else None,
        source=source,
        status_reason=reason,
        source_kind="manual",
    )


def public(day: str, hours: float) -> AuditedEntry:
    return entry("record_import", day, hours, "public")


def professional(day: str, hours: float) -> AuditedEntry:
    return entry("manual", day, hours, "professional")


def language(day: str) -> AuditedEntry:
    return entry("foreign_language_exam", day, 40.0)


def modules(day: str, *names: str, count: int | None = None) -> AuditedEntry:
    number = count if count is not None else len(names)
    source: dict[str, Any] = {"modules": number}
    if names:
        source["module_names"] = list(names)
    return entry("computer_exam_module", day, 10.0 * number, **source)


def degree(
    enrolled: str, graduated: str, certified: float | None = None, **more: Any
) -> AuditedEntry:
    return entry(
        "degree",
        graduated,
        certified or 0.0,
        "professional",
        meets="window",
        enrolled_on=enrolled,
        graduated_on=graduated,
        certified_hours=certified,
        **more,
    )


def qualification(day: str, name: str = "一级注册建造师") -> AuditedEntry:
    return entry("qualification", day, 0.0, "professional", meets="professional", name=name)


def run(
    who: Learner, *entries: AuditedEntry, level: str = "intermediate", policy: Policy = POLICY
) -> AuditRead:
    return audit_rules.audit(learner=who, entries=entries, policy=policy, level=level)


def reasons(verdict: AuditRead) -> dict[str, tuple[float, str]]:
    return {str(n["entry_id"]): (n["hours"], str(n["reason"])) for n in verdict.not_counted}


def rules(verdict: AuditRead) -> list[str]:
    return [a.rule for a in verdict.applied]


ZHANG = learner(("junior", "2016-07-01"))


# --- §一(三)2 exam substitutions --------------------------------------------------------


def test_s1_3_2_foreign_language_exam_replaces_40_hours_once_per_person() -> None:
    """凡以往参加过职称外语考试: passes in 2008 (before the window: past passes count), 2015
    and 2019; 40 public-course hours. Limit 120 - 40 = 80; the first pass is worth 40,
    used in full; the two others are not counted (once per person), 40 hours each."""
    first, second, third = language("2008-04-12"), language("2015-04-11"), language("2019-04-13")
    verdict = run(ZHANG, third, public("2019-06-01", 40), second, first)
    line = verdict.substitutions
    assert (line.hours, line.available, line.limit, line.not_used) == (40, 40, 80, 0)
    assert [u.entry_id for u in line.entries] == [first.entry_id]
    assert verdict.earned.public == 80
    listed = reasons(verdict)
    assert set(listed) == {second.entry_id, third.entry_id}
    for hours, why in listed.values():
        assert hours == 40 and why.startswith("substitution limit reached")
        assert "once per person" in why and "2008-04-12" in why


def test_s1_3_2_a_computer_module_counts_once_across_entries() -> None:
    """每个模块可代替公需课10个学时: Word 2003 + Excel 2003 (2019, 20 h), then Excel 2003 +
    PowerPoint 2003 (2020, 20 h): three distinct modules = 30 hours; the repeated Excel
    module (10 h of the second entry) is listed as not counted."""
    early = modules("2019-05-18", "Word 2003", "Excel 2003")
    late = modules("2020-05-16", "Excel 2003", "PowerPoint 2003")
    verdict = run(ZHANG, early, late)
    assert verdict.substitutions.hours == 30 and verdict.earned.public == 30
    assert [(u.entry_id, u.hours) for u in verdict.substitutions.entries] == [
        (early.entry_id, 20),
        (late.entry_id, 10),
    ]
    [(hours, why)] = reasons(verdict).values()
    assert hours == 10 and "Excel 2003" in why and why.startswith("substitution limit reached")


def test_s1_3_2_a_module_named_twice_in_another_case_or_spacing_counts_once() -> None:
    """The same module across entries as within one (spaces collapsed, case folded):
    "Word 2003 中文字处理" + "Excel 2003 中文电子表格" (2019, 20 h), then "word  2003 中文字处理"
    + "PowerPoint 2003 中文演示文稿" (2020, 20 h): three modules = 30 hours, not 40; the
    repeated Word module (10 h of the second entry) is listed as not counted."""
    early = modules("2019-05-18", "Word 2003 中文字处理", "Excel 2003 中文电子表格")
    late = modules("2020-05-16", "word  2003 中文字处理", "PowerPoint 2003 中文演示文稿")
    verdict = run(ZHANG, early, late)
    assert verdict.substitutions.hours == 30 and verdict.earned.public == 30
    assert [(u.entry_id, u.hours) for u in verdict.substitutions.entries] == [
        (early.entry_id, 20),
        (late.entry_id, 10),
    ]
    assert reasons(verdict) == {
        late.entry_id: (
            10,
            "substitution limit reached: module(s) word  2003 中文字处理 already counted "
            "(each distinct module once, §一(三)2)",
        )
    }


def test_s1_3_2_unnamed_modules_count_as_distinct_and_the_audit_says_so() -> None:
    """Modules recorded without names (2 in 2019, 3 in 2020): 5 x 10 = 50 hours, counted
    as distinct, with a note that their distinctness was not checked."""
    verdict = run(ZHANG, modules("2019-05-18", count=2), modules("2020-05-16", count=3))
    assert verdict.substitutions.hours == 50
    assert any(
        "5 computer module(s)" in n and "not checked" in n for n in verdict.substitutions.notes
    )


def test_s1_3_2_substitutions_never_exceed_what_public_courses_left() -> None:
    """They replace public-course hours: 100 public-course hours + 240 professional; a
    foreign-language pass (40) and 5 modules (50) are worth 90, but only 120 - 100 = 20
    are used (from the earlier pass, the foreign-language exam); 20 of it and the 50 of
    the modules are listed as not counted. Public 120, total 360 → passed."""
    exam, five = language("2019-04-13"), modules("2020-06-20", count=5)
    verdict = run(ZHANG, public("2019-06-01", 100), professional("2020-06-01", 240), exam, five)
    line = verdict.substitutions
    assert (line.hours, line.available, line.limit, line.not_used) == (20, 90, 20, 70)
    assert verdict.earned.model_dump() == {"total": 360, "public": 120, "professional": 240}
    assert verdict.passed is True
    listed = reasons(verdict)
    assert listed[exam.entry_id][0] == 20 and listed[five.entry_id][0] == 50
    assert all(why.startswith("substitution limit reached") for _, why in listed.values())


def test_s1_3_2_substitutions_never_stand_in_for_professional_hours() -> None:
    """The same, with 200 professional hours: total 100 + 20 + 200 = 320 < 360 — short
    40 in total, and the 70 unused substitution hours do not fill it."""
    verdict = run(
        ZHANG,
        public("2019-06-01", 100),
        professional("2020-06-01", 200),
        language("2019-04-13"),
        modules("2020-06-20", count=5),
    )
    assert verdict.passed is False
    assert verdict.shortfall.model_dump() == {"total": 40, "public": 0}
    assert verdict.substitutions.not_used == 70


def test_s1_3_2_substitutions_are_not_hours_of_a_year() -> None:
    """A pass of 2020 (40 h): earned public 40, but the 2020 line of by_year stays 0."""
    verdict = run(ZHANG, language("2020-04-18"))
    assert verdict.earned.public == 40
    assert all(year.public == 0 for year in verdict.by_year)


def test_s1_3_2_a_pass_after_the_end_of_2022_has_expired() -> None:
    """此项政策截止2022年年底: a pass dated 2023-03-25 is listed, 40 hours, "substitution
    expired"; it counts nowhere."""
    late = language("2023-03-25")
    verdict = run(ZHANG, late)
    assert verdict.substitutions.hours == 0 and verdict.earned.public == 0
    hours, why = reasons(verdict)[late.entry_id]
    assert hours == 40 and why.startswith("substitution expired") and "2022-12-31" in why


def test_s1_3_2_the_series_condition_is_not_checked_when_the_policy_names_none() -> None:
    """对不要求外语和计算机应用能力考试的系列: the 2022 notice names no series, so the audit
    says in `applied` that the condition was not checked."""
    verdict = run(ZHANG, language("2019-04-13"))
    assert rules(verdict) == ["foreign_language_exam", "exam_series_not_checked"]
    assert "宁人社发〔2022〕23号 names no series" in verdict.applied[-1].detail


def _requiring(series: str) -> Policy:
    rule = POLICY.conversions.foreign_language_exam
    assert rule is not None
    changed = rule.model_copy(update={"series_requiring_exams": [series]})
    conversions = POLICY.conversions.model_copy(update={"foreign_language_exam": changed})
    return POLICY.model_copy(update={"conversions": conversions})


def test_s1_3_2_a_series_requiring_the_exam_cannot_substitute_it() -> None:
    """A policy listing 工程 among the series requiring the foreign-language exam: 张伟's
    pass is not counted, and the reason names the series; others' passes still count."""
    policy = _requiring("工程")
    exam = language("2019-04-13")
    verdict = run(ZHANG, exam, policy=policy)
    assert verdict.substitutions.hours == 0
    hours, why = reasons(verdict)[exam.entry_id]
    assert hours == 40 and "工程 series requires this exam" in why
    teacher = run(learner(("junior", "2016-07-01"), series="教师"), exam, policy=policy)
    assert teacher.substitutions.hours == 40


# --- §一(三)1 degrees, judged per audit ----------------------------------------------------


def test_s1_3_1_a_degree_graduating_after_the_window_counts_its_certified_hours() -> None:
    """跨审验期入学并毕业: enrolled 2019-09, graduating 2022-06 (after 2018-2021) with 120
    certified hours: professional hours of the window (degree_hours, not by_year), and
    the public requirement stays: 120 public + 120 professional + 120 certified = 360."""
    study = degree("2019-09-01", "2022-06-30", 120)
    verdict = run(ZHANG, study, public("2020-06-01", 120), professional("2021-06-01", 120))
    assert verdict.degree_hours == 120
    assert verdict.earned.model_dump() == {"total": 360, "public": 120, "professional": 240}
    assert sum(y.professional for y in verdict.by_year) == 120
    assert verdict.passed is True
    assert rules(verdict) == ["degree_across_window"]


def test_s1_3_1_a_degree_in_progress_without_certified_hours_is_listed() -> None:
    """Still studying (expected graduation 2024-07) counts as graduating after the window:
    the institution's certified hours are required; without them the entry is listed as
    not counted with that reason, and the public requirement alone is not met by it."""
    study = degree("2020-09-01", "2024-07-01", None, in_progress=True)
    verdict = run(ZHANG, study)
    assert verdict.passed is False and verdict.degree_hours == 0
    hours, why = reasons(verdict)[study.entry_id]
    assert hours == 0 and why.startswith("院校学时证明 required: the study crosses the window")
    assert "graduating 2024-07-01" in why


def test_s1_3_1_a_degree_is_within_one_window_and_across_another() -> None:
    """Enrolled 2017-09, graduated 2020-06, no certified hours: within 2017-2021 (deputy
    senior: met, 学历证明) but across 2018-2021 (intermediate: 院校学时证明 missing)."""
    study = degree("2017-09-01", "2020-06-30")
    assert run(ZHANG, study, level="deputy_senior").passed is True
    intermediate = run(ZHANG, study)
    assert intermediate.passed is False
    assert study.entry_id in reasons(intermediate)


def test_s1_3_1_a_degree_outside_the_window_is_not_part_of_the_audit() -> None:
    """Enrolled 2011, graduated 2014: outside 2018-2021, neither counted nor listed (our
    reading: like any entry dated outside the window)."""
    verdict = run(ZHANG, degree("2011-09-01", "2014-06-30", 200))
    assert verdict.not_counted == [] and verdict.applied == [] and verdict.degree_hours == 0


def test_s1_3_1_a_pending_degree_is_listed_with_the_ledger_reason() -> None:
    study = entry(
        "degree",
        "2021-06-30",
        0,
        "professional",
        status=EntryStatus.pending_review,
        reason="学历证明待核验",
        meets="window",
        enrolled_on="2018-09-01",
        graduated_on="2021-06-30",
    )
    verdict = run(ZHANG, study)
    assert verdict.passed is False
    assert reasons(verdict)[study.entry_id] == (0, "pending review: 学历证明待核验")


# --- §一(二) master's holders, our reading ------------------------------------------------


def test_s1_2_master_titled_after_the_window_never_passes() -> None:
    """刘洋 (master's degree), junior title obtained 2022-03-01, applying for intermediate:
    no year in post within 2018-2021 — not a pass, whatever the hours. The window and the
    requirement shown are the level's (2018-2021, 360 / 120; never 0 / 0 over
    "2022-2021"), the shortfall is the whole of it, and the 120 public + 240 professional
    hours of the window are listed as not counted with the reason."""
    liu = learner(("junior", "2022-03-01"), degree="master")
    hours = [public("2019-06-01", 120), professional("2020-06-01", 240)]
    verdict = run(liu, *hours)
    assert verdict.passed is False
    assert verdict.cannot_be_met is not None and "no year in post" in verdict.cannot_be_met
    assert (verdict.window.from_, verdict.window.to) == (2018, 2021)
    assert verdict.required.model_dump() == {"total": 360, "public": 120}
    assert verdict.shortfall.model_dump() == {"total": 360, "public": 120}
    assert verdict.earned.total == 0
    assert [y.year for y in verdict.by_year] == [2018, 2019, 2020, 2021]
    assert set(reasons(verdict)) == {h.entry_id for h in hours}
    assert rules(verdict) == ["master_no_years_in_post"]


def test_s1_2_master_titled_after_the_window_reads_not_met_on_a_transcript() -> None:
    """The transcript's sentence says the requirement cannot be met by the years in post
    (the old transcript said 符合要求)."""
    verdict = run(learner(("junior", "2022-03-01"), degree="master"))
    text = wording.verdict_text(content.CertifiedAudit.of(verdict, "中级"))
    assert text.endswith("不能按任职年限认定继续教育学时，不符合要求。")


def test_s1_2_master_hours_before_the_years_in_post_are_listed() -> None:
    """Title obtained 2019-07-01: window 2019-2021 (270 / 90); the 100 public hours of
    2018 are listed as not counted, "before the years in post (title obtained
    2019-07-01)"; 2017 (outside 2018-2021) is not part of the audit."""
    liu = learner(("junior", "2019-07-01"), degree="master")
    early, older = public("2018-05-01", 100), public("2017-05-01", 50)
    verdict = run(liu, early, older, public("2019-05-01", 90), professional("2020-05-01", 180))
    assert verdict.required.model_dump() == {"total": 270, "public": 90}
    assert verdict.passed is True
    assert reasons(verdict) == {
        early.entry_id: (
            100,
            "before the years in post (title obtained 2019-07-01; §一(二), our reading)",
        )
    }


def test_s1_2_master_titled_in_the_last_year_has_one_year_in_post() -> None:
    """Title obtained 2021-12-31: the title year counts — 2021 alone, 90 / 30."""
    verdict = run(learner(("junior", "2021-12-31"), degree="master"))
    assert (verdict.window.from_, verdict.window.to) == (2021, 2021)
    assert verdict.required.model_dump() == {"total": 90, "public": 30}


# --- §一(三)3 qualifications, by tenure ------------------------------------------------------


def test_s1_3_3_a_qualification_before_the_window_in_the_tenure_counts() -> None:
    """任职期内: intermediate since 2012-07-01, qualification 2015-05-20 — before the window
    2017-2021 but within the tenure, which covers the whole window: only the public part
    is left, 150 public → passed."""
    chen = learner(("junior", "2008-07-01"), ("intermediate", "2012-07-01"))
    verdict = run(
        chen, qualification("2015-05-20"), public("2019-06-01", 150), level="deputy_senior"
    )
    assert verdict.passed is True
    assert rules(verdict) == ["qualification_after_title"]


def test_s1_3_3_a_qualification_after_the_window_before_the_application_counts() -> None:
    """Intermediate since 2016-12-01; qualification 2022-05-20 (after 2017-2021, before the
    2022 application, in the tenure): the professional part of 2017-2021 is met."""
    chen = learner(("intermediate", "2016-12-01"))
    verdict = run(
        chen, qualification("2022-05-20"), public("2020-06-01", 150), level="deputy_senior"
    )
    assert verdict.passed is True


def test_s1_3_3_window_years_before_the_tenure_still_need_professional_hours() -> None:
    """Our reading: junior until 2019-06-01, then intermediate; qualification 2020. The
    tenure covers 2019-2021; 2017 and 2018 are not covered: 2 x (450 - 150) / 5 = 120
    professional hours owed. 150 public + 100 professional → short 20 (public 0)."""
    chen = learner(("junior", "2012-07-01"), ("intermediate", "2019-06-01"))
    verdict = run(
        chen,
        qualification("2020-05-20"),
        public("2018-06-01", 150),
        professional("2017-06-01", 100),
        level="deputy_senior",
    )
    assert verdict.shortfall.model_dump() == {"total": 20, "public": 0}
    assert rules(verdict) == ["qualification_after_title", "qualification_uncovered_years"]
    assert "2017, 2018" in verdict.applied[-1].detail and "120" in verdict.applied[-1].detail


def test_s1_3_3_a_qualification_outside_an_eligible_tenure_is_listed() -> None:
    """Obtained 2017-05-20 while junior (intermediate only from 2019-06-01): not counted,
    and the reason names the titles; the professional hours are owed in full."""
    chen = learner(("junior", "2012-07-01"), ("intermediate", "2019-06-01"))
    early = qualification("2017-05-20")
    verdict = run(chen, early, public("2018-06-01", 150), level="deputy_senior")
    assert verdict.shortfall.model_dump() == {"total": 300, "public": 0}
    hours, why = reasons(verdict)[early.entry_id]
    assert hours == 0 and "not obtained while holding an intermediate or deputy senior" in why
    assert "intermediate 2019-06-01" in why


def test_s1_3_3_a_tenure_that_ended_before_the_window_covers_nothing() -> None:
    """Intermediate 2010-07-01 until deputy senior 2016-06-01; qualification 2013: its
    tenure lies before the senior window 2017-2021 → listed, not counted."""
    ma = learner(("intermediate", "2010-07-01"), ("deputy_senior", "2016-06-01"))
    early = qualification("2013-05-20")
    verdict = run(ma, early, level="senior")
    assert "lies outside the years audited" in reasons(verdict)[early.entry_id][1]


def test_s1_3_3_a_qualification_after_the_application_year_is_listed() -> None:
    chen = learner(("intermediate", "2016-12-01"))
    late = qualification("2023-02-20")
    verdict = run(chen, late, level="deputy_senior")
    assert "after the application year 2022" in reasons(verdict)[late.entry_id][1]


# --- nothing hidden ------------------------------------------------------------------------


def test_nothing_hidden_every_entry_not_counted_has_its_fields_and_reason() -> None:
    """A training at a base revoked before it (reversed, keeping its 48 hours) and a
    back-dated completion (pending review): each listed with kind, date, hours, category
    and the ledger's reason."""
    revoked = entry(
        "training",
        "2021-10-15",
        48,
        "professional",
        status=EntryStatus.reversed,
        reason="base 石嘴山市工程技术培训中心 was revoked on 2021-09-30 (§三)",
    )
    pending = entry(
        "completion",
        "2020-02-02",
        3,
        status=EntryStatus.pending_review,
        reason="the completion is dated more than 30 days before it was stored",
    )
    verdict = run(ZHANG, revoked, pending)
    assert verdict.not_counted == [
        {
            "entry_id": pending.entry_id,
            "kind": "completion",
            "occurred_on": "2020-02-02",
            "hours": 3,
            "category": "public",
            "reason": "pending review: the completion is dated more than 30 days before it "
            "was stored",
        },
        {
            "entry_id": revoked.entry_id,
            "kind": "training",
            "occurred_on": "2021-10-15",
            "hours": 48,
            "category": "professional",
            "reason": "reversed: base 石嘴山市工程技术培训中心 was revoked on 2021-09-30 (§三)",
        },
    ]


AWAITING = EntryStatus.__members__.get("awaiting_policy")


@pytest.mark.skipif(AWAITING is None, reason="EntryStatus.awaiting_policy comes with the ledger")
def test_nothing_hidden_an_entry_awaiting_a_policy_is_listed() -> None:
    assert AWAITING is not None
    waiting = entry(
        "teaching",
        "2021-10-15",
        30,
        "professional",
        status=AWAITING,
        reason="no policy covers 2021 yet",
    )
    verdict = run(ZHANG, waiting)
    assert reasons(verdict)[waiting.entry_id] == (
        30,
        "awaiting a policy: no policy covers 2021 yet",
    )
