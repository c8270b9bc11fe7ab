"""A learner's title history (职称): every title obtained and when, oldest first.

The audit reads it for the tenure (任职期, §一(三)3: from the date a title was obtained
until the next one's) and for a master's holder's years in post (§一(二)). `PATCH
/learners/{id}` adds to it (`appended`); it never goes backwards. An admin may correct a
wrong record (`corrected`, `POST /learners/{id}/titles/{n}/correction` and the admin's
learner page): its level or date replaced, the order still kept, the correction in the
admin log with the record before and after (credits/learners.py).

Learners stored before the history read with one record of their current title
(`models.backfill_titles`); the next write of the learner stores it. On MongoDB the
history can also be written once for every learner with (a one-off, idempotent)

    db.learners.updateMany(
      {titles: {$exists: false}, title_level: {$ne: "none"}},
      [{$set: {titles: [{level: "$title_level", obtained_on: "$title_obtained_on"}]}}])
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

from credits.models import TITLE_ORDER, TitleLevel, TitleRecord
from nxce.core.errors import invalid

# The levels as the admin log's lines (and the pages) name them.
LEVEL_NAMES = {
    TitleLevel.none: "无",
    TitleLevel.junior: "初级",
    TitleLevel.intermediate: "中级",
    TitleLevel.deputy_senior: "副高级",
    TitleLevel.senior: "正高级",
}


def record_words(record: TitleRecord) -> str:
    """A record in Chinese: "副高级（2024-06-30）", "中级（未记录日期）"."""
    day = record.obtained_on.isoformat() if record.obtained_on else "未记录日期"
    return f"{LEVEL_NAMES[record.level]}（{day}）"


def record_data(record: TitleRecord) -> dict[str, str | None]:
    """A record as the admin log's detail keeps it."""
    day = record.obtained_on.isoformat() if record.obtained_on else None
    return {"level": record.level.value, "obtained_on": day}


def _rank(level: TitleLevel) -> int:
    return TITLE_ORDER.index(level)


def _check_order(
    before: TitleRecord,
    after: TitleRecord,
    fields: tuple[str, str] = ("title_level", "title_obtained_on"),
) -> None:
    """A record after another is not dated earlier and is not a lower title (our reading
    of "a title history does not go backwards"); a 422 names the field and the value."""
    if (
        before.obtained_on is not None
        and after.obtained_on is not None
        and after.obtained_on < before.obtained_on
    ):
        raise invalid(
            fields[1],
            f"must not come before the previous title's date ({before.level.value} obtained "
            f"{before.obtained_on}): a title history does not go backwards",
            after.obtained_on.isoformat(),
        )
    if _rank(after.level) < _rank(before.level):
        since = f" since {before.obtained_on}" if before.obtained_on else ""
        raise invalid(
            fields[0],
            f"must not be lower than the previous title ({before.level.value}{since}): "
            "a title history does not go backwards",
            after.level.value,
        )


def appended(
    titles: Sequence[TitleRecord], level: TitleLevel, obtained_on: date | None
) -> list[TitleRecord] | None:
    """The history once the current title is `level` obtained on `obtained_on`; None when
    that is already the last record. Another level on the last record's date (or a date
    for an undated last record of the same level) corrects that record; anything else is
    a new record, which must not go backwards (422)."""
    new = TitleRecord(level=level, obtained_on=obtained_on)
    if not titles:
        return [] if level == TitleLevel.none and obtained_on is None else [new]
    last = titles[-1]
    if (last.level, last.obtained_on) == (level, obtained_on):
        return None
    corrects = last.obtained_on == obtained_on or (last.obtained_on is None and last.level == level)
    if corrects and _rank(level) < _rank(last.level):
        # A PATCH naming only a lower level would rewrite the last title and drop it from
        # the history (and the tenure it opened): never implicit (our reading).
        raise invalid(
            "title_level",
            f"must not be lower than the last title ({last.level.value} obtained "
            f"{last.obtained_on}): a title history does not go backwards",
            level.value,
        )
    history = [*titles[:-1], new] if corrects else [*titles, new]
    if len(history) > 1:
        _check_order(history[-2], history[-1])
    return history


def corrected(
    titles: Sequence[TitleRecord], entry: int, level: TitleLevel, obtained_on: date | None
) -> list[TitleRecord] | None:
    """The history with record number `entry` (1 for the oldest) replaced by `level`
    obtained on `obtained_on`; None when that is what it holds already. The corrected
    history keeps the order of `appended` with the records before and after it (a 422
    naming the field otherwise); "none" is no title to record (a 422)."""
    if not 1 <= entry <= len(titles):
        raise invalid(
            "entry",
            f"must be the number of a record of the title history (1 to {len(titles)})",
            entry,
        )
    if level == TitleLevel.none:
        raise invalid("level", "must be a title: a record of the history is one", level.value)
    new = TitleRecord(level=level, obtained_on=obtained_on)
    old = titles[entry - 1]
    if (old.level, old.obtained_on) == (new.level, new.obtained_on):
        return None
    if entry > 1:
        _check_order(titles[entry - 2], new, ("level", "obtained_on"))
    if entry < len(titles):
        _check_before(new, titles[entry])
    return [*titles[: entry - 1], new, *titles[entry:]]


def _check_before(new: TitleRecord, following: TitleRecord) -> None:
    """A corrected record stays before the record after it: not dated later, not a higher
    title (a 422 naming the corrected field and its value)."""
    if (
        new.obtained_on is not None
        and following.obtained_on is not None
        and new.obtained_on > following.obtained_on
    ):
        raise invalid(
            "obtained_on",
            f"must not come after the next title's date ({following.level.value} obtained "
            f"{following.obtained_on}): a title history does not go backwards",
            new.obtained_on.isoformat(),
        )
    if _rank(new.level) > _rank(following.level):
        raise invalid(
            "level",
            f"must not be higher than the next title ({following.level.value}): a title "
            "history does not go backwards",
            new.level.value,
        )


@dataclass(frozen=True, slots=True)
class Tenure:
    """任职期 (§一(三)3): a title held from `start` until `end` (the next title's date,
    exclusive; None: still held)."""

    level: TitleLevel
    start: date
    end: date | None

    def holds(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day < self.end)

    def years(self, first: int, last: int) -> range:
        """The years of `first`..`last` on any day of which the title was held (our
        reading: the year a title was obtained counts, as for the years in post)."""
        final = last if self.end is None else min(last, (self.end - timedelta(days=1)).year)
        return range(max(first, self.start.year), final + 1)

    def describe(self) -> str:
        until = f"until {self.end}" if self.end else "to date"
        return f"{self.level.value} from {self.start} {until}"


def tenures(titles: Sequence[TitleRecord], levels: Collection[str]) -> list[Tenure]:
    """The tenures of the dated titles of `levels`, each until the next record's date."""
    found = []
    for index, record in enumerate(titles):
        if record.level.value not in levels or record.obtained_on is None:
            continue
        following = [r.obtained_on for r in titles[index + 1 :] if r.obtained_on is not None]
        found.append(Tenure(record.level, record.obtained_on, following[0] if following else None))
    return found


def held_on(titles: Sequence[TitleRecord], day: date) -> TitleRecord | None:
    """The title held on `day`: the last record obtained on or before it (an undated
    record is taken as held); None when the history has none by then."""
    held = None
    for record in titles:
        if record.obtained_on is None or record.obtained_on <= day:
            held = record
    return held


def describe(titles: Sequence[TitleRecord]) -> str:
    if not titles:
        return "no title recorded"
    return ", ".join(
        f"{r.level.value} {r.obtained_on if r.obtained_on else '(no date)'}" for r in titles
    )
