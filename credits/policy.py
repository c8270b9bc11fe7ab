"""Credit-hour policies as data: one TOML file per region and year (`policies/*.toml`).

A policy names the audit windows and thresholds per title level, the per-year hours for
master's degree holders, every conversion factor with its validity dates, and the clause
of the notice each rule comes from. Another year's notice is a new file, not new code.

Each table of the file is a frozen model that forbids unknown keys and takes TOML's types
as they are (no "90" for 90, no 2022 for a date): a policy with a misspelt key, a missing
one or a wrong value stops the start, naming the file, the key and the value. A new rule
is one field of the model of its table.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from datetime import date, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any, Literal, Self, TypeVar, overload

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainValidator,
    ValidationError,
    model_validator,
)

from nxce.core.errors import Unprocessable

BUILT_IN = Path(__file__).resolve().parent / "policies"

_ZONE = re.compile(r"^([+-])(\d{2}):(\d{2})$")

Clause = Annotated[str, Field(pattern=r"^§")]  # a clause of the notice: `§一(三)2`
Category = Literal["public", "professional"]
Hours = Annotated[float, Field(ge=0)]
Count = Annotated[int, Field(ge=0)]


def _zone(value: object) -> timezone:
    """A UTC offset written `+08:00`."""
    found = _ZONE.match(value) if isinstance(value, str) else None
    if found is None:
        raise ValueError("must be a UTC offset such as +08:00")
    sign = -1 if found[1] == "-" else 1
    return timezone(sign * timedelta(hours=int(found[2]), minutes=int(found[3])))


TimeZone = Annotated[timezone, PlainValidator(_zone)]


class PolicyError(ValueError):
    """A policy file that cannot be read or breaks the shape of a policy."""


class Table(BaseModel):
    """A table of a policy file: exactly the keys its model names, of TOML's own types."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


class YearSpan(Table):
    from_: int = Field(alias="from")
    to: int

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.from_ > self.to:
            raise ValueError(f"from {self.from_} comes after to {self.to}")
        return self


class DateSpan(Table):
    from_: date = Field(alias="from")
    to: date

    @model_validator(mode="after")
    def _in_order(self) -> Self:
        if self.from_ > self.to:
            raise ValueError(f"from {self.from_} comes after to {self.to}")
        return self


class Automatic(Table):
    """§一(一): completions the system registers by itself."""

    clause: Clause
    verbs: list[str] = Field(min_length=1)
    backdate_days: Count  # older completions wait for an auditor


class Level(Table):
    """§一(二): the audit of an application for one title level."""

    clause: Clause
    label: str
    window: YearSpan
    total: Hours
    public: Hours


class Yearly(Table):
    """§一(二): the windows' requirement a year, what a learner's progress is measured by."""

    clause: Clause
    total: Hours
    public: Hours


class Master(Table):
    """§一(二): a master's degree holder's requirement follows the years in post."""

    clause: Clause
    levels: list[str]
    total_per_year: Hours
    public_per_year: Hours


class Conversion(Table):
    """§一(三): one kind of manual entry converted to hours. `document`: the document its
    clause asks for (学历证明, 考察培训文件…); an entry shows it missing until one is attached."""

    clause: Clause
    document: str | None = None


class Degree(Conversion):
    # §一(三)1: 跨审验期入学并毕业的，具体学时需由院校提供学时证明
    certified_hours_document: str | None = None


class StudyTour(Conversion):
    category: Category
    hours_per_day: Hours


class Teaching(Conversion):
    category: Category
    factor: Hours
    years: YearSpan  # the years whose teaching the rule credits (§一(三)1: 2022)
    excluded_series: list[str] = []

    def credits_year(self, year: int) -> bool:
        return self.years.from_ <= year <= self.years.to


class ForeignLanguageExam(Conversion):
    category: Category
    hours: Hours
    valid_through: date
    # §一(三)2 对不要求外语和计算机应用能力考试的职称评审系列: the series that DO require
    # the exams may not substitute them; the 2022 notice names none.
    series_requiring_exams: list[str] = []


class ComputerExamModule(Conversion):
    category: Category
    hours_per_module: Hours
    valid_through: date
    series_requiring_exams: list[str] = []  # as for the foreign-language exam


class Qualification(Conversion):
    after_levels: list[str]


class Training(Conversion):
    category: Category


class Manual(Conversion):
    """§一(一): other routes the competent departments recognise (professional hours;
    public hours typed by hand are record imports)."""


class RecordImport(Conversion):
    """§一(一): public hours are learned on the provincial platform; hours copied from its
    records (our reading: an administrator's public-hours entry is such a copy)."""

    category: Category
    platform: str = Field(min_length=1)  # the source an import names when it names none


class Conversions(Table):
    """The conversions a policy has a rule for; a kind left out is refused."""

    degree: Degree | None = None
    study_tour: StudyTour | None = None
    teaching: Teaching | None = None
    foreign_language_exam: ForeignLanguageExam | None = None
    computer_exam_module: ComputerExamModule | None = None
    qualification: Qualification | None = None
    training: Training | None = None
    manual: Manual | None = None
    record_import: RecordImport | None = None

    def get(self, kind: str) -> Conversion | None:
        """The rule for `kind`, None when the policy has none (or there is no such kind)."""
        rule = getattr(self, kind) if kind in type(self).model_fields else None
        return rule if isinstance(rule, Conversion) else None


ConversionT = TypeVar("ConversionT", bound=Conversion)


class Policy(Table):
    id: str
    title: str
    document: str
    region: str
    application_year: int
    time_zone: TimeZone
    covered: DateSpan = Field(alias="covers")  # dates of manual entries it accepts
    automatic: Automatic
    levels: dict[str, Level] = Field(min_length=1)
    master: Master
    yearly: Yearly  # when the file has none: the master's per-year hours
    conversions: Conversions = Conversions()

    @model_validator(mode="before")
    @classmethod
    def _yearly_from_master(cls, data: Any) -> Any:
        """A file without `[yearly]` measures progress by the master's per-year hours."""
        if not isinstance(data, dict) or "yearly" in data:
            return data
        master = data.get("master")
        if not isinstance(master, dict):
            return data
        keys = {"clause": "clause", "total": "total_per_year", "public": "public_per_year"}
        if not all(name in master for name in keys.values()):
            return data
        return {**data, "yearly": {key: master[name] for key, name in keys.items()}}

    @model_validator(mode="after")
    def _known_levels(self) -> Self:
        unknown = [key for key in self.master.levels if key not in self.levels]
        if unknown:
            raise ValueError(f"master.levels: no level {', '.join(unknown)} in levels")
        return self

    def level(self, key: str) -> Level:
        if key not in self.levels:
            raise Unprocessable(
                f"level: must be one of {', '.join(self.levels)}, got {key!r} "
                f"({self.document} §一(二))"
            )
        return self.levels[key]

    @overload
    def conversion(self, kind: str) -> Conversion: ...

    @overload
    def conversion(self, kind: str, shape: type[ConversionT]) -> ConversionT: ...

    def conversion(self, kind: str, shape: type[Conversion] = Conversion) -> Conversion:
        """The rule converting entries of `kind` (of the model `shape`); 422 when none."""
        rule = self.conversions.get(kind)
        if rule is None:
            raise Unprocessable(f"kind: {self.document} has no rule for {kind!r}")
        if not isinstance(rule, shape):
            raise TypeError(f"the rule for {kind!r} is a {type(rule).__name__}, not a {shape}")
        return rule

    def covers(self, day: date) -> bool:
        return self.covered.from_ <= day <= self.covered.to


def _problems(error: ValidationError) -> str:
    lines = []
    for problem in error.errors():
        key = ".".join(str(part) for part in problem["loc"]) or "(file)"
        if problem["type"] == "missing":
            lines.append(f"{key}: missing")
        else:
            lines.append(f"{key}: {problem['msg']}, got {problem['input']!r}")
    return "; ".join(lines)


def read(path: Path) -> Policy:
    """The policy of one TOML file; PolicyError naming the file, the key and the value."""
    try:
        with path.open("rb") as file:
            data = tomllib.load(file)
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise PolicyError(f"credit-hour policy {path}: {error}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as error:
        raise PolicyError(f"credit-hour policy {path}: {_problems(error)}") from None


@lru_cache(maxsize=8)
def _load(directories: tuple[Path, ...]) -> tuple[Policy, ...]:
    found: dict[str, Policy] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.toml")):
            policy = read(path)
            found[policy.id] = policy
    return tuple(sorted(found.values(), key=lambda p: p.application_year))


class Policies:
    """The policies in force: the built-in ones and any in an extra directory."""

    def __init__(self, extra: Path | None = None) -> None:
        directories = (BUILT_IN,) if extra is None else (BUILT_IN, extra)
        self.all = _load(directories)
        if not self.all:
            raise RuntimeError(f"no credit-hour policy found in {directories}")

    def for_application(self, year: int) -> Policy:
        """The policy auditing title applications of `year`; 422 when none does."""
        for policy in self.all:
            if policy.application_year == year:
                return policy
        known = ", ".join(str(p.application_year) for p in self.all)
        raise Unprocessable(f"year: no policy audits applications of {year} (policies: {known})")

    def covering(self, day: date) -> Policy | None:
        """The newest policy whose dates cover `day`; None when none does (yet)."""
        covering = [p for p in self.all if p.covers(day)]
        return covering[-1] if covering else None

    def with_rule(
        self, kind: str, accepts: Callable[[Policy, Conversion], bool] = lambda p, r: True
    ) -> Policy | None:
        """The newest policy that has a rule for `kind` which `accepts` takes (given the
        policy and its rule); None when none does."""
        for policy in reversed(self.all):
            rule = policy.conversions.get(kind)
            if rule is not None and accepts(policy, rule):
                return policy
        return None

    def for_date(self, day: date) -> Policy:
        """The newest policy whose rules cover a date; 422 when none does."""
        covering = [p for p in self.all if p.covers(day)]
        if not covering:
            raise Unprocessable(
                f"date: no policy covers {day.isoformat()} "
                f"({', '.join(f'{p.id}: {p.covered.from_}..{p.covered.to}' for p in self.all)})"
            )
        return covering[-1]

    def newest(self) -> Policy:
        return self.all[-1]
