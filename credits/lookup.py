"""Finding learners, for administrators (the admin's learner pages).

- By name or by employer: the learners whose name (or employer) begins with the text
  typed, a page at a time in the order of an index (`name_learner`,
  `employer_name_learner`, credits/models.py). On MongoDB an anchored pattern of plain
  text reads only the index range of that prefix. A learner also keeps the first one to
  `KEY_CHARS` characters of both (`find_keys`, with their index): the query names the key
  of the text typed, so the embedded store (whose indexes answer equalities, not ranges of
  strings) reads only the learners whose name begins with those characters. A learner id
  typed in full finds that learner too.
- By a full national id number: the keyed digest of the number, an exact match on its
  unique index — never a fragment (which would reveal dates of birth). Each lookup is
  counted (credits/personal.py `hold_lookup`: a 429 past the limits) and recorded, in the
  personal-data trail (`id_number_lookup`, without the number) and in the admin log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from credits import learner_log, personal, trail
from credits.context import Credits
from credits.id_numbers import masked
from credits.id_numbers import problem as id_number_problem
from credits.models import KEY_CHARS, EventKind, Learner
from nxce.core import admin_log, db
from nxce.core.errors import invalid

PER_PAGE = 20
MAX_PAGE = 500  # 10,000 learners in: narrow the text instead
MAX_TEXT = 100
Field = Literal["name", "employer"]
_ORDER = {"name": ("+name", "+learner_id"), "employer": ("+employer", "+name", "+learner_id")}


@dataclass(frozen=True, slots=True)
class Found:
    learners: list[Learner]
    page: int
    more: bool  # a next page has learners


def _text(text: str) -> str:
    text = text.strip()
    if not text:
        raise invalid("q", "must not be blank", text, location="query")
    if len(text) > MAX_TEXT:
        raise invalid("q", f"must be at most {MAX_TEXT} characters", text, location="query")
    if any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise invalid("q", "must not contain control characters", text, location="query")
    return text


async def find(*, text: str, field: Field, page: int = 1) -> Found:
    """The learners whose `field` begins with `text` (or whose learner id is `text`),
    page `page` (from 1) of `PER_PAGE`, in the order of the field's index."""
    text = _text(text)
    if field not in _ORDER:
        raise invalid("by", "must be name or employer", field, location="query")
    if not 1 <= page <= MAX_PAGE:
        raise invalid("page", f"must be 1 to {MAX_PAGE}", page, location="query")
    query: dict[str, Any] = {
        "find_keys": f"{field[0]}:{text[:KEY_CHARS]}",
        field: {"$regex": "^" + re.escape(text)},
    }
    if page == 1:  # a learner id typed in full comes first
        exact = await Learner.find_one(Learner.learner_id == text)
    else:
        exact = None
    found = (
        await Learner.find(query)
        .sort(*_ORDER[field])
        .skip((page - 1) * PER_PAGE)
        .limit(PER_PAGE + 1)
        .to_list()
    )
    more = len(found) > PER_PAGE
    learners = found[:PER_PAGE]
    if exact is not None:
        learners = [exact, *(x for x in learners if x.learner_id != exact.learner_id)]
    return Found(learners=learners, page=page, more=more)


def checked_id_number(value: str) -> str:
    """`value` as a full id number (spaces dropped, a lower-case x raised), or a 422
    naming the field; a fragment is refused before anything is read or counted, and the
    error shows no more of it than a masked number does."""
    number = re.sub(r"\s", "", value).upper()
    why = id_number_problem(number)
    if why is None:
        return number
    if len(number) != 18:
        why = "must be a full id number of 18 characters: a part of one finds nothing"
        raise invalid("id_number", why, f"({len(number)} characters)")
    raise invalid("id_number", why, masked(number))


async def by_id_number(*, credits: Credits, id_number: str, by: str, where: str) -> Learner | None:
    """The learner with this full id number, or None; counted for client `by` (a 429
    past `personal.LOOKUP_LIMITS`) and recorded (`where`: the page or route) whether
    found or not."""
    number = checked_id_number(id_number)
    await personal.hold_lookup(by)
    # under any key of the ring: a record not yet re-keyed after a rotation is found too
    query = {"id_number_digest": credits.vault.matching(number)}
    found = await Learner.find_one(query)

    async def record(session: Any) -> None:
        await trail.record(
            kind=EventKind.id_number_lookup,
            by=by,
            learner_id=found.learner_id if found is not None else "",
            detail={"found": found is not None, "where": where},
            session=session,
        )
        await admin_log.record_many([learner_log.looked_up(found, by=by)], session=session)

    await db.atomic(record)
    return found
