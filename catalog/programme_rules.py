"""The rules of the knowledge-update programme (§二) and of base certificates (§五(二)),
each a named function or data entry citing its clause; readings that are ours say so."""

from __future__ import annotations

from datetime import date

from catalog.programme_models import ProgrammeKind

# §二(三): the nine key industries, exact strings.
INDUSTRIES: tuple[str, ...] = (
    "枸杞",
    "葡萄酒",
    "奶产业",
    "肉牛和滩羊",
    "电子信息",
    "新型材料",
    "绿色食品",
    "清洁能源",
    "文化旅游",
)

# The part of §二 each kind is, and the short code of its certificates' numbers.
CLAUSES: dict[ProgrammeKind, str] = {
    ProgrammeKind.advanced_seminar: "§二(一)",
    ProgrammeKind.urgent_skills: "§二(二)",
    ProgrammeKind.key_industry: "§二(三)",
    ProgrammeKind.tcm_grassroots: "§二(四)",
}
CERTIFICATE_CODES: dict[ProgrammeKind, str] = {
    ProgrammeKind.advanced_seminar: "GY",  # 高级研修
    ProgrammeKind.urgent_skills: "JQ",  # 急需紧缺
    ProgrammeKind.key_industry: "CY",  # 重点产业
    ProgrammeKind.tcm_grassroots: "ZY",  # 中医药
}

# §二(四): 基层中医药卫生专业技术人员 — learners of the 卫生 series only.
TCM_SERIES = "卫生"

# Input limits of the product, our reading (the notice sets none): a project of at most
# 400 hours (a full-time seminar of ten weeks) and 1000 places (half the whole year's
# key-industry plan in one project would already be a mistake worth a second look).
MAX_PROJECT_HOURS = 400.0
MAX_CAPACITY = 1000


def check_industry(kind: ProgrammeKind, industry: str | None) -> None:
    """§二(三): a key-industry project names one of the nine industries; other kinds name
    none (our reading: their subject goes in `field`, e.g. 智能制造 or 现代物流)."""
    if kind == ProgrammeKind.key_industry:
        if industry is None:
            raise ValueError(
                f"industry is required for a key_industry project (§二(三)): one of "
                f"{'、'.join(INDUSTRIES)}"
            )
        if industry not in INDUSTRIES:
            raise ValueError(
                f"industry must be one of the nine key industries of §二(三) "
                f"({'、'.join(INDUSTRIES)}), got {industry!r}"
            )
    elif industry is not None:
        raise ValueError(
            f"industry is only for key_industry projects (§二(三)); a {kind.value} project "
            f"names its subject in field, got industry {industry!r}"
        )


def check_ends_on(starts_on: date, ends_on: date) -> None:
    """A project starts no later than it ends."""
    if ends_on < starts_on:
        raise ValueError(
            f"ends_on must not be before starts_on, got {ends_on.isoformat()} before "
            f"{starts_on.isoformat()}"
        )


def check_year(year: int, starts_on: date) -> None:
    """A project belongs to the plan year it starts in (our reading: §二 plans by year,
    and a project counts in the year it starts)."""
    if starts_on.year != year:
        raise ValueError(
            f"starts_on must be in the project's year {year}, got {starts_on.isoformat()}"
        )


def certificate_series(year: int, kind: ProgrammeKind) -> str:
    """§五(二): certificates are numbered per year and kind: NX-2022-CY-00001."""
    return f"NX-{year}-{CERTIFICATE_CODES[kind]}"


def masked_name(name: str) -> str:
    """A name as a public verification shows it (our reading): the surname and, for three
    characters or more, the last one; the rest as *: 张伟 → 张*, 李秀英 → 李*英."""
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]
