"""A learner's title history (职称): every title obtained and when, oldest first.

The audit reads it for the tenure (任职期, §一(三)3: from the date a title was obtained
until the next one's) and for a master's holder's years in post (§一(二)). `PATCH
/learners/{id}` adds to it (`appended`); it never goes backwards.

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


def _rank(level: TitleLevel) -> int:
    return TITLE_ORDER.index(level)


def _check_order(before: TitleRecord, after: TitleRecord) -> None:
    """A record after another is not dated earlier and is not a lower title (our reading
    of "a title history does not go backwards"); a 422 names the field and the value."""
    if (
        before.obtained_on is not None
        and after.obtained_on is not None
        and after.obtained_on < before.obtained_on
    ):
        raise invalid(
            "title_obtained_on",
            f"must not come before the last title's date ({before.level.value} obtained "
            f"{before.obtained_on}): a title history does not go backwards",
            after.obtained_on.isoformat(),
        )
    if _rank(after.level) < _rank(before.level):
        since = f" since {before.obtained_on}" if before.obtained_on else ""
        raise invalid(
            "title_level",
            f"must not be lower than the last title ({before.level.value}{since}): "
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
