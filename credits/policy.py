"""Credit-hour policies as data: one TOML file per region and year (`policies/*.toml`).

A policy names the audit windows and thresholds per title level, the per-year hours for
master's degree holders, every conversion factor with its validity dates, and the clause
of the notice each rule comes from. Another year's notice is a new file, not new code.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta, timezone
from functools import lru_cache
from pathlib import Path
from typing import Any

from nxce.core.errors import Unprocessable

BUILT_IN = Path(__file__).resolve().parent / "policies"


@dataclass(frozen=True)
class Level:
    """§一(二): the audit of an application for one title level."""

    key: str
    label: str
    clause: str
    window_from: int
    window_to: int
    total: float
    public: float


@dataclass(frozen=True)
class Policy:
    id: str
    title: str
    document: str
    region: str
    application_year: int
    time_zone: timezone
    covers_from: date
    covers_to: date
    automatic: dict[str, Any]
    levels: dict[str, Level]
    master: dict[str, Any]
    conversions: dict[str, dict[str, Any]] = field(default_factory=dict)
    yearly: dict[str, Any] = field(default_factory=dict)  # §一(二) a year: total, public

    def level(self, key: str) -> Level:
        if key not in self.levels:
            raise Unprocessable(
                f"level: must be one of {', '.join(self.levels)}, got {key!r} "
                f"({self.document} §一(二))"
            )
        return self.levels[key]

    def conversion(self, kind: str) -> dict[str, Any]:
        if kind not in self.conversions:
            raise Unprocessable(f"kind: {self.document} has no rule for {kind!r}")
        return self.conversions[kind]

    def covers(self, day: date) -> bool:
        return self.covers_from <= day <= self.covers_to


def _zone(text: str) -> timezone:
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def parse(data: dict[str, Any]) -> Policy:
    """A policy from the contents of its TOML file."""
    levels = {
        key: Level(
            key=key,
            label=value["label"],
            clause=value["clause"],
            window_from=value["window"]["from"],
            window_to=value["window"]["to"],
            total=float(value["total"]),
            public=float(value["public"]),
        )
        for key, value in data["levels"].items()
    }
    return Policy(
        id=data["id"],
        title=data["title"],
        document=data["document"],
        region=data["region"],
        application_year=int(data["application_year"]),
        time_zone=_zone(data["time_zone"]),
        covers_from=data["covers"]["from"],
        covers_to=data["covers"]["to"],
        automatic=dict(data["automatic"]),
        levels=levels,
        master=dict(data["master"]),
        conversions={k: dict(v) for k, v in data.get("conversions", {}).items()},
        yearly=dict(
            data.get("yearly")
            or {
                "clause": data["master"]["clause"],
                "total": data["master"]["total_per_year"],
                "public": data["master"]["public_per_year"],
            }
        ),
    )


@lru_cache(maxsize=8)
def _load(directories: tuple[Path, ...]) -> tuple[Policy, ...]:
    found: dict[str, Policy] = {}
    for directory in directories:
        for path in sorted(directory.glob("*.toml")):
            with path.open("rb") as file:
                policy = parse(tomllib.load(file))
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

    def for_date(self, day: date) -> Policy:
        """The newest policy whose rules cover a date; 422 when none does."""
        covering = [p for p in self.all if p.covers(day)]
        if not covering:
            raise Unprocessable(
                f"date: no policy covers {day.isoformat()} "
                f"({', '.join(f'{p.id}: {p.covers_from}..{p.covers_to}' for p in self.all)})"
            )
        return covering[-1]

    def newest(self) -> Policy:
        return self.all[-1]
