"""Learners' id numbers and phones are unique across the keyring.

The unique indexes on `id_number_digest` and `phone_digest` hold digests under the
current key, so they refuse a second learner with a number written under the current key.
A record written before a rotation keeps its digest under a previous key until `nxce keys
reencrypt` re-digests it: a registration or change checks those digests first (one
indexed find per field). No new record is written under a previous key, so the check and
the indexes together keep each number to one learner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from credits.context import Credits
from credits.models import Learner
from credits.personal import ConflictSlot
from nxce.core import db


@dataclass(frozen=True, slots=True)
class Held:
    """The stored digests (as another learner holds them) of an id number and a phone."""

    id_number: str | None = None
    phone: str | None = None

    def __bool__(self) -> bool:
        return self.id_number is not None or self.phone is not None


async def held_under_previous_keys(
    *, credits: Credits, learner_id: str, id_number: str | None, phone: str | None
) -> Held:
    """What another learner than `learner_id` holds of `id_number` and `phone` (normalized
    and valid) digested under a previous key of the ring; nothing without a rotation."""
    found: dict[str, str | None] = {"id_number_digest": None, "phone_digest": None}
    wanted = (
        ("id_number_digest", credits.vault.previous_digests(id_number) if id_number else []),
        ("phone_digest", credits.phones.previous_digests(phone) if phone else []),
    )
    for field, digests in wanted:
        if not digests:
            continue
        query: dict[str, Any] = {field: {"$in": digests}, "learner_id": {"$ne": learner_id}}
        raw = await db.collection(Learner).find_one(query, {field: 1})
        found[field] = raw[field] if raw is not None else None
    return Held(found["id_number_digest"], found["phone_digest"])


async def refuse_held(
    credits: Credits,
    slot: ConflictSlot,
    learner_id: str,
    id_number: str | None,
    phone: str | None,
    operation: str,
) -> None:
    """The 409 of a registration or change (`operation`) of `learner_id` whose id number
    or phone another learner holds under a previous key (in the trail, as a clash the
    unique index finds); nothing without a rotation."""
    held = await held_under_previous_keys(
        credits=credits, learner_id=learner_id, id_number=id_number, phone=phone
    )
    if held:
        raise await slot.conflicted(
            digest=held.id_number,
            phone_digest=held.phone,
            attempted=learner_id,
            operation=operation,
        )
