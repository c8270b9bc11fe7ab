"""Learners: registered, read and updated; their national id numbers and phone numbers
checked, encrypted and masked. Registering credits their statements stored so far; an
update that changes the rules (series, title) rebuilds their ledger. A registration that
names another learner's id number or phone number is throttled and traced
(credits/personal.py)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from credits import keyed, learner_log, personal, phones, recompute
from credits.context import Credits
from credits.id_numbers import masked
from credits.id_numbers import problem as id_number_problem
from credits.models import Learner, TitleLevel, search_keys
from credits.schemas import LearnerCreate, LearnerUpdate
from credits.titles import appended as title_history
from credits.titles import corrected as corrected_history
from nxce.core import admin_log, db
from nxce.core.errors import Conflict, NotFound, invalid


def problems(
    credits: Credits, id_number: str | None, series: str | None
) -> list[tuple[str, str, str]]:
    """What the schema cannot check of a learner's fields: (field, why, value as an error
    shows it: an id number masked) for each problem, none when they are right."""
    found = []
    if id_number is not None:
        why = id_number_problem(id_number)
        if why is not None:
            found.append(("id_number", why, masked(id_number) if len(id_number) == 18 else "…"))
    if series is not None and series not in credits.catalog.series_names():
        found.append(("series", "must be one of the 23 series", series))
    return found


def _check_learner(credits: Credits, id_number: str | None, series: str | None) -> None:
    for field, why, value in problems(credits, id_number, series)[:1]:
        raise invalid(field, why, value)


def new_learner(credits: Credits, learner_in: LearnerCreate, now: datetime) -> Learner:
    """The learner document of `learner_in` (checked): id number and phone encrypted,
    digested and masked."""
    return Learner(
        learner_id=learner_in.id,
        name=learner_in.name,
        id_number_encrypted=credits.vault.encrypt(learner_in.id_number),
        id_number_digest=credits.vault.digest(learner_in.id_number),
        id_number_masked=masked(learner_in.id_number),
        employer=learner_in.employer,
        series=learner_in.series,
        title_level=learner_in.title_level,
        title_obtained_on=learner_in.title_obtained_on,
        degree=learner_in.degree,
        email=learner_in.email,
        find_keys=search_keys(learner_in.name, learner_in.employer),
        created_at=now,
        updated_at=now,
        **(credits.phones.fields(learner_in.phone) if learner_in.phone else {}),
    )


async def find_by_phone(*, credits: Credits, phone: str) -> Learner | None:
    """The learner with the mobile number `phone` (as typed: spaces and hyphens dropped),
    or None: no valid number, or no learner has it (the unique index allows one at most).
    For accounts' sign-in by phone."""
    number = phones.normalized(phone)
    if phones.problem(number) is not None:
        return None
    return await Learner.find_one({"phone_digest": credits.phones.matching(number)})


async def get_learner(*, learner_id: str) -> Learner:
    learner = await Learner.find_one(Learner.learner_id == learner_id)
    if learner is None:
        raise NotFound(f"no learner {learner_id!r}")
    return learner


async def names(*, learner_ids: list[str]) -> dict[str, str]:
    """The names of these learners (at most a page of them), by learner id; learners that
    do not exist are left out."""
    found = db.collection(Learner).find(
        {"learner_id": {"$in": sorted(set(learner_ids))[:500]}},
        {"learner_id": 1, "name": 1, "_id": 0},
    )
    return {str(row["learner_id"]): str(row["name"]) async for row in found}


async def create_learner(*, credits: Credits, learner_in: LearnerCreate, by: str) -> Learner:
    """Register a learner (for client `by`, in the admin log); their statements stored so
    far are credited."""
    _check_learner(credits, learner_in.id_number, learner_in.series)
    learner = new_learner(credits, learner_in, db.now())

    async def work(session: Any) -> None:
        await learner.insert(session=session)
        line = learner_log.registered(learner, by=by)
        await admin_log.record_many([line], session=session)

    slot = personal.ConflictSlot(by)
    await slot.hold()
    try:
        await keyed.refuse_held(credits, slot, learner_in.id, learner_in.id_number,
                                learner_in.phone, "create")  # fmt: skip
        await db.atomic(work)
    except db.DuplicateKeyError:
        existing = await Learner.find_one(Learner.learner_id == learner_in.id)
        if existing is not None:
            raise Conflict(f"learner {learner_in.id!r} already exists") from None
        raise await slot.conflicted(
            digest=learner.id_number_digest,
            phone_digest=learner.phone_digest,
            attempted=learner_in.id,
            operation="create",
        ) from None
    finally:
        await slot.release()
    await recompute.recompute_learner(credits=credits, learner_id=learner.learner_id)
    return learner


_TITLE_FIELDS = ("title_level", "title_obtained_on")


def _title_updates(learner: Learner, values: dict[str, Any]) -> dict[str, Any]:
    """A new title (level or date) adds to the title history and becomes the current
    title; the same one changes nothing; one going backwards is a 422 naming the field."""
    if not any(name in values for name in _TITLE_FIELDS):
        return {}
    level = values.get("title_level", learner.title_level)
    obtained_on = values.get("title_obtained_on", learner.title_obtained_on)
    history = title_history(learner.titles, level, obtained_on)
    if history is None:
        return {}
    return {"titles": history, "title_level": level, "title_obtained_on": obtained_on}


# What the audit reads of a learner besides the ledger: a change marks the ledger for a
# recompute before it is written (credits/recompute.py), so no stale entry outlives a crash.
_RULE_FIELDS = ("series", "degree", "titles")


def _stale(learner: Learner, revision: int | None) -> None:
    """A 409 when the learner changed since the caller read it at `revision`."""
    if revision is not None and revision != learner.revision:
        raise Conflict(
            f"learner {learner.learner_id!r} was changed by another request since revision "
            f"{revision} (now {learner.revision}); read it again"
        )


async def update_learner(
    *,
    credits: Credits,
    learner_id: str,
    patch: LearnerUpdate,
    by: str,
    revision: int | None = None,
) -> Learner:
    """Change a learner (for client `by`, in the admin log; with `revision`, only if the
    learner is still at it); null clears the e-mail address (the schema refuses it for the
    other fields). A change of what the audit reads (series, degree, title) recomputes the
    ledger."""
    learner = await get_learner(learner_id=learner_id)
    values = patch.model_dump(exclude_unset=True)
    _check_learner(credits, values.get("id_number"), values.get("series"))
    if learner.erased_at is not None and values:
        raise Conflict(
            f"the personal data of learner {learner_id!r} was erased: the record is kept "
            "for the statistics and is not changed; register the person anew"
        )
    _stale(learner, revision)
    plain = {k: v for k, v in values.items() if k not in ("id_number", "phone", *_TITLE_FIELDS)}
    plain = {k: v for k, v in plain.items() if v != getattr(learner, k)}
    updates: dict[str, Any] = plain | _title_updates(learner, values)
    if values.get("id_number"):
        number = values["id_number"]
        digest = credits.vault.digest(number)
        if digest != learner.id_number_digest:
            updates |= {
                "id_number_encrypted": credits.vault.encrypt(number),
                "id_number_digest": digest,
                "id_number_masked": masked(number),
            }
    if "phone" in values:  # null clears it
        phone = values["phone"]
        updates |= (
            credits.phones.fields(phone)
            if phone
            else {"phone_encrypted": None, "phone_digest": None, "phone_masked": None}
        )
        if updates["phone_digest"] == learner.phone_digest:
            del updates["phone_encrypted"], updates["phone_digest"], updates["phone_masked"]
    if not updates:
        return learner
    if "name" in updates or "employer" in updates:
        name, employer = updates.get("name", learner.name), updates.get("employer")
        updates["find_keys"] = search_keys(name, employer or learner.employer)
    numbers = (
        values.get("id_number") if "id_number_digest" in updates else None,
        values.get("phone") if updates.get("phone_digest") else None,
    )
    return await _write(credits, learner, updates, by=by, numbers=numbers)


async def _write(
    credits: Credits,
    learner: Learner,
    updates: dict[str, Any],
    *,
    by: str,
    lines: list[admin_log.AdminAction] | None = None,
    numbers: tuple[str | None, str | None] = (None, None),
) -> Learner:
    """Write `updates` to `learner` if it is still at its revision, with their admin log
    lines (`lines`, else those of `learner_log.updated`) in the same transaction; then
    recompute the ledger when the audit reads what changed. `numbers`: the id number and
    phone the update gives the learner (in clear), checked against the digests another
    learner holds under a previous key of the ring."""
    learner_id = learner.learner_id
    lines = lines if lines is not None else learner_log.updated(learner, updates, by=by)
    updates = updates | {"revision": learner.revision + 1, "updated_at": db.now()}
    rules = any(name in updates for name in _RULE_FIELDS)
    if rules:
        await recompute.mark([learner_id], "the learner's series, degree or title changed")

    async def work(session: Any) -> int:
        result = await db.collection(Learner).update_one(
            {"_id": learner.id, "revision": learner.revision},
            {"$set": db.encode(updates)},
            session=session,
        )
        if result.matched_count:
            await admin_log.record_many(lines, session=session)
        return int(result.matched_count)

    slot = personal.ConflictSlot(by)
    if "id_number_digest" in updates or updates.get("phone_digest"):
        await slot.hold()
    try:
        id_number, phone = numbers
        await keyed.refuse_held(credits, slot, learner_id, id_number, phone, "update")
        matched = await db.atomic(work)
    except db.DuplicateKeyError:
        raise await slot.conflicted(
            digest=updates.get("id_number_digest"),
            phone_digest=updates.get("phone_digest"),
            attempted=learner_id,
            operation="update",
        ) from None
    finally:
        await slot.release()
    if not matched:
        raise Conflict(f"learner {learner_id!r} was changed by another request; read it again")
    for name, value in updates.items():
        setattr(learner, name, value)
    if rules:  # the ledger (and every verdict read from it) follows at once; the mark goes
        await recompute.recompute_learner(credits=credits, learner_id=learner_id)
    return learner


async def correct_title(
    *,
    credits: Credits,
    learner_id: str,
    entry: int,
    level: TitleLevel,
    obtained_on: date | None,
    reason: str,
    by: str,
    revision: int | None = None,
) -> Learner:
    """Correct record number `entry` (1: the oldest) of the learner's title history (an
    admin, `by`): its level and date replaced, the history's order kept (credits/titles.py),
    the correction in the admin log (from → to, with `reason`); the last record stays the
    current title. The ledger is recomputed."""
    learner = await get_learner(learner_id=learner_id)
    if learner.erased_at is not None:
        raise Conflict(f"the personal data of learner {learner_id!r} was erased")
    _stale(learner, revision)
    history = corrected_history(learner.titles, entry, level, obtained_on)
    if history is None:
        return learner
    updates: dict[str, Any] = {
        "titles": history,
        "title_level": history[-1].level,
        "title_obtained_on": history[-1].obtained_on,
    }
    old = list(learner.titles)
    line = learner_log.titles_changed(learner, old, history, by=by, reason=reason)
    return await _write(credits, learner, updates, by=by, lines=[line])
