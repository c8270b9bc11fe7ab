"""Reading the administrative log by query parameters, for its page (`/admin/log`) and
its JSON (`GET /admin-log`): who (`by`, a client key), what (`area`), which record
(`target`), the days (`since`, `until`, China Standard Time, both included) and a page's
cursor (`before`: the `seq` of the last line shown, so lines of one moment are never
skipped between pages). A bad value is a `BadFilter` naming the parameter."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone

from nxce.core import admin_log
from nxce.core.admin_log import AdminAction, Area

CHINA = timezone(timedelta(hours=8), "CST")
MAX_KEY_CHARS = 128
MAX_TARGET_CHARS = 200
PAGE_LINES = 50
CURSOR = re.compile(r"[0-9]{1,19}")
PARAMETERS = ("by", "area", "target", "since", "until", "before")


class BadFilter(ValueError):
    """A parameter's value that cannot be read: `field`, `value`, and why (`message`)."""

    def __init__(self, field: str, value: str, message: str) -> None:
        super().__init__(f"{field}: {message}, got {value[:80]!r}")
        self.field, self.value, self.message = field, value, message


@dataclass(frozen=True, slots=True)
class Filters:
    by: str | None = None
    area: Area | None = None
    target: str | None = None
    since: date | None = None
    until: date | None = None
    before: int | None = None

    def query(self, *, without_cursor: bool = False) -> dict[str, str]:
        """The filters as query parameters (for links to further pages)."""
        values = {
            "by": self.by or "",
            "area": self.area.value if self.area else "",
            "target": self.target or "",
            "since": self.since.isoformat() if self.since else "",
            "until": self.until.isoformat() if self.until else "",
        }
        if self.before is not None and not without_cursor:
            values["before"] = str(self.before)
        return {k: v for k, v in values.items() if v}


def start_of(day: date) -> datetime:
    """00:00 of `day` in China Standard Time, as UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)


def cursor_of(line: AdminAction) -> str:
    """The cursor of the page after `line`."""
    return str(line.seq)


def _text(params: Mapping[str, str], name: str, most: int) -> str | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    if len(value) > most:
        raise BadFilter(name, value, f"at most {most} characters")
    if any(ord(c) < 32 or ord(c) == 127 for c in value):
        raise BadFilter(name, value, "no control characters")
    return value


def _day(params: Mapping[str, str], name: str) -> date | None:
    value = params.get(name, "").strip()
    if not value:
        return None
    try:
        if not re.fullmatch(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", value):
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise BadFilter(name, value, "a day written YYYY-MM-DD") from None


def parse(params: Mapping[str, str]) -> Filters:
    """The filters of query parameters `params`, or a `BadFilter`."""
    area_text = params.get("area", "").strip()
    area = None
    if area_text:
        try:
            area = Area(area_text)
        except ValueError:
            known = ", ".join(a.value for a in Area)
            raise BadFilter("area", area_text, f"one of {known}") from None
    since, until = _day(params, "since"), _day(params, "until")
    if since and until and until < since:
        raise BadFilter("until", until.isoformat(), f"not before since ({since.isoformat()})")
    before = None
    before_text = params.get("before", "").strip()
    if before_text:
        if CURSOR.fullmatch(before_text) is None or int(before_text) >= 1 << 63:
            raise BadFilter("before", before_text, "the cursor of a page's 'older' link")
        before = int(before_text)
    return Filters(
        by=_text(params, "by", MAX_KEY_CHARS),
        area=area,
        target=_text(params, "target", MAX_TARGET_CHARS),
        since=since,
        until=until,
        before=before,
    )


async def page(filters: Filters, *, limit: int = PAGE_LINES) -> tuple[list[AdminAction], str]:
    """A page of lines newest first, and the cursor of the next ("" when it is the last)."""
    lines = await admin_log.entries(
        by=filters.by,
        area=filters.area,
        target=filters.target,
        since=start_of(filters.since) if filters.since else None,
        before=start_of(filters.until + timedelta(days=1)) if filters.until else None,
        before_seq=filters.before,
        limit=limit + 1,
    )
    more = cursor_of(lines[limit - 1]) if len(lines) > limit else ""
    return lines[:limit], more
