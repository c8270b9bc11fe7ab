"""Learners: registered, read and updated; their national id numbers and phone numbers
checked, encrypted and masked. Registering credits their statements stored so far; an
update that changes the rules (series, title) rebuilds their ledger. A registration that
names another learner's id number or phone number is throttled and traced
(credits/personal.py)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from credits import keyed, ledger, personal, phones, recompute
from credits.context import Credits
from credits.id_numbers import masked
from credits.id_numbers import problem as id_number_problem
from credits.models import Learner
from credits.schemas import LearnerCreate, LearnerUpdate
from credits.titles import appended as title_history
from nxce.core import db
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


async def create_learner(*, credits: Credits, learner_in: LearnerCreate, by: str) -> Learner:
    """Register a learner (for client `by`); their statements stored so far are credited."""
    _check_learner(credits, learner_in.id_number, learner_in.series)
    learner = new_learner(credits, learner_in, db.now())
    slot = personal.ConflictSlot(by)
    await slot.hold()
    try:
        await keyed.refuse_held(credits, slot, learner_in.id, learner_in.id_number,
                                learner_in.phone, "create")  # fmt: skip
        await learner.insert()
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


async def update_learner(
    *, credits: Credits, learner_id: str, patch: LearnerUpdate, by: str
) -> Learner:
    """Change a learner (for client `by`); null clears the e-mail address (the schema
    refuses it for the other fields)."""
    learner = await get_learner(learner_id=learner_id)
    values = patch.model_dump(exclude_unset=True)
    _check_learner(credits, values.get("id_number"), values.get("series"))
    if learner.erased_at is not None and values:
        raise Conflict(
            f"the personal data of learner {learner_id!r} was erased: the record is kept "
            "for the statistics and is not changed; register the person anew"
        )
    plain = {k: v for k, v in values.items() if k not in ("id_number", "phone", *_TITLE_FIELDS)}
    updates: dict[str, Any] = plain | _title_updates(learner, values)
    if values.get("id_number"):
        number = values["id_number"]
        updates |= {
            "id_number_encrypted": credits.vault.encrypt(number),
            "id_number_digest": credits.vault.digest(number),
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
    updates |= {"revision": learner.revision + 1, "updated_at": db.now()}
    slot = personal.ConflictSlot(by)
    if "id_number_digest" in updates or updates.get("phone_digest"):
        await slot.hold()
    try:
        phone = values.get("phone") if updates.get("phone_digest") else None
        await keyed.refuse_held(credits, slot, learner_id, values.get("id_number"), phone, "update")
        result = await db.collection(Learner).update_one(
            {"_id": learner.id, "revision": learner.revision}, {"$set": db.encode(updates)}
        )
    except db.DuplicateKeyError:
        raise await slot.conflicted(
            digest=updates.get("id_number_digest"),
            phone_digest=updates.get("phone_digest"),
            attempted=learner_id,
            operation="update",
        ) from None
    finally:
        await slot.release()
    if result.matched_count == 0:
        raise Conflict(f"learner {learner_id!r} was changed by another request; read it again")
    for name, value in updates.items():
        setattr(learner, name, value)
    await ledger.rebuild(credits=credits, learner_id=learner_id)  # series and title affect rules
    return learner
