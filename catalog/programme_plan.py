"""§二: a year's plan of the knowledge-update programme beside what runs.

The plan's figures are policy data (`catalog/policies/programme-{year}.toml`: each kind's
name, clause, planned periods and people); the actuals are counted live from the
projects: how many, their places, the roster (`enrolled`) and the passes (`completed`).
"""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict

from catalog.programme_models import ProgrammeKind, ProgrammeProject
from catalog.programme_rules import CLAUSES
from catalog.programme_schemas import PlanKind, PlanRead
from nxce.core import db, sheets

PLANS = Path(__file__).parent / "policies"

# Names of the kinds where no plan file speaks of them (§二).
KIND_NAMES: dict[ProgrammeKind, str] = {
    ProgrammeKind.advanced_seminar: "高级研修项目",
    ProgrammeKind.urgent_skills: "急需紧缺和岗位骨干人才培训",
    ProgrammeKind.key_industry: "九大重点产业专业技术人才培训",
    ProgrammeKind.tcm_grassroots: "基层中医药卫生专业技术人员能力提升培训",
}


class _PlannedKind(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: ProgrammeKind
    name: str
    clause: str
    planned_periods: int | None = None
    planned_people: int | None = None


class _PlanFile(BaseModel):
    model_config = ConfigDict(extra="forbid")
    year: int
    document: str
    kinds: list[_PlannedKind]


@functools.cache
def planned(year: int) -> _PlanFile | None:
    """The plan of `year` as its policy file states it; None when no file covers it."""
    path = PLANS / f"programme-{year}.toml"
    if not path.exists():
        return None
    with path.open("rb") as file:
        found = _PlanFile.model_validate(tomllib.load(file))
    if found.year != year:
        raise ValueError(f"{path}: says year {found.year}")
    return found


def kind_name(kind: ProgrammeKind, year: int | None = None) -> str:
    """The name of a kind, as the year's plan words it (else the name of §二)."""
    found = planned(year) if year is not None else None
    for entry in found.kinds if found else []:
        if entry.kind == kind:
            return entry.name
    return KIND_NAMES[kind]


async def plan(*, year: int) -> PlanRead:
    """§二: the plan of `year` and its actuals, kind by kind (planned figures null when no
    plan file covers the year)."""
    found = planned(year)
    entries = {k.kind: k for k in found.kinds} if found else {}
    totals: dict[ProgrammeKind, dict[str, int]] = {
        kind: {"projects": 0, "capacity": 0, "enrolled": 0, "completed": 0}
        for kind in ProgrammeKind
    }
    projection: dict[str, Any] = {"kind": 1, "capacity": 1, "enrolled": 1, "completed": 1}
    async for raw in db_projects(year, projection):
        row = totals[ProgrammeKind(raw["kind"])]
        row["projects"] += 1
        row["capacity"] += int(raw["capacity"])
        row["enrolled"] += int(raw["enrolled"])
        row["completed"] += int(raw["completed"])
    kinds = []
    for kind in ProgrammeKind:
        entry = entries.get(kind)
        kinds.append(
            PlanKind(
                kind=kind,
                name=entry.name if entry else KIND_NAMES[kind],
                clause=entry.clause if entry else CLAUSES[kind],
                planned_periods=entry.planned_periods if entry else None,
                planned_people=entry.planned_people if entry else None,
                **totals[kind],
            )
        )
    return PlanRead(year=year, document=found.document if found else None, kinds=kinds)


def db_projects(year: int, projection: dict[str, Any]) -> Any:
    """The raw projects of `year` (index year_kind_starts), only the fields asked."""
    return db.collection(ProgrammeProject).find({"year": year}, projection)


HEADER = ("类别", "项目", "依据条款", "计划期数", "计划人次", "项目数", "名额", "已报名", "已结业")


def _rows(found: PlanRead) -> Iterator[list[Any]]:
    for k in found.kinds:
        yield [
            k.kind.value,
            k.name,
            k.clause,
            k.planned_periods,
            k.planned_people,
            k.projects,
            k.capacity,
            k.enrolled,
            k.completed,
        ]


def plan_csv(found: PlanRead) -> bytes:
    """The plan as CSV (UTF-8 with a BOM); an empty cell where the plan gives no figure."""
    rows = ([("" if v is None else v) for v in row] for row in _rows(found))
    return sheets.csv_bytes([list(HEADER), *rows])


def plan_xlsx(found: PlanRead) -> bytes:
    """The plan as one XLSX sheet with typed numbers."""
    return sheets.table_xlsx(
        title=f"{found.year}年专业技术人才知识更新工程计划与进度",
        sheet_name=f"{found.year}年计划",
        header=HEADER,
        rows=_rows(found),
        widths=(18, 36, 10, 10, 10, 8, 8, 8, 8),
    )
