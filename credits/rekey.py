"""Re-keying learners' id numbers and phones after a rotation of the secret key.

`status` counts the stored values under each key id. `reencrypt` decrypts every value
stored under another key than the current one, encrypts and digests it again under the
current key, in batches in `_id` order:

- idempotent and resumable: a value already under the current key is left alone, so a
  run stopped half-way is finished by running it again;
- safe while the service runs: each learner is written with a compare-and-set on the
  values read (a learner changed meanwhile is read again), and only the stored forms
  change (not the learner's revision: what the learner record says is the same);
- a value whose key is not in the ring (or that no key opens), or whose digest under
  the current key another learner already holds (two records of one number, written
  under different keys), is left as it is and reported.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from credits.context import Credits
from credits.id_numbers import Vault
from credits.models import Learner
from nxce.core import db
from nxce.core.errors import ServiceUnavailable
from nxce.core.keys import KeyNotInRing

BATCH = 500
BEFORE_KEY_IDS = "before key ids"  # values stored by the release before key ids
_ATTEMPTS = 3
# learner field stem -> (encrypted field, digest field)
_FIELDS = {
    "id_number": ("id_number_encrypted", "id_number_digest"),
    "phone": ("phone_encrypted", "phone_digest"),
}
_PROJECTION = {"_id": 1, "learner_id": 1} | {f: 1 for pair in _FIELDS.values() for f in pair}


@dataclass
class Status:
    """How many stored values each key id holds, per kind (`id_number`, `phone`)."""

    current: str
    ring: tuple[str, ...]
    learners: int = 0
    counts: dict[str, Counter[str]] = field(
        default_factory=lambda: {kind: Counter() for kind in _FIELDS}
    )

    def not_current(self) -> int:
        return sum(n for c in self.counts.values() for k, n in c.items() if k != self.current)

    def missing(self) -> set[str]:
        """Key ids that stored values name and the ring does not hold."""
        named = {k for c in self.counts.values() for k in c if k != BEFORE_KEY_IDS}
        return named - set(self.ring)


@dataclass
class Reencrypted:
    """What a run did: values moved to the current key, and what it left and why."""

    current: str
    learners: int = 0
    moved: Counter[str] = field(default_factory=Counter)  # kind -> values re-keyed
    missing_key: list[str] = field(default_factory=list)  # "<learner>: <kind> under <kid>"
    duplicates: list[str] = field(default_factory=list)  # "<learner>: <kind>"
    changing: list[str] = field(default_factory=list)  # changed at every attempt: run again

    def as_json(self) -> dict[str, Any]:
        return {
            "current_key": self.current,
            "learners": self.learners,
            "moved": {kind: self.moved[kind] for kind in _FIELDS},
            "missing_key": self.missing_key,
            "duplicates": self.duplicates,
            "changing": self.changing,
        }


def _vaults(credits: Credits) -> dict[str, Vault]:
    return {"id_number": credits.vault, "phone": credits.phones}


async def _batches(size: int) -> Any:
    """The learners' stored forms, `size` at a time in `_id` order, from one cursor (one
    sort on the embedded store; MongoDB walks the `_id` index in batches)."""
    batch: list[dict[str, Any]] = []
    async for raw in db.collection(Learner).find({}, _PROJECTION).sort("_id", 1):
        batch.append(raw)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


async def status(*, credits: Credits, ring: tuple[str, ...]) -> Status:
    """The stored values of every learner counted by the key id they are under."""
    vaults = _vaults(credits)
    found = Status(current=credits.vault.key_id, ring=ring)
    async for batch in _batches(BATCH):
        for raw in batch:
            found.learners += 1
            for kind, (encrypted, _) in _FIELDS.items():
                stored = raw.get(encrypted)
                if isinstance(stored, str):
                    found.counts[kind][vaults[kind].key_of(stored) or BEFORE_KEY_IDS] += 1
    return found


def _rekeyed(vaults: dict[str, Vault], raw: dict[str, Any]) -> tuple[dict[str, str], list[str]]:
    """The stored forms of `raw` to write under the current key (empty: nothing to do),
    and the values left because the ring lacks their key."""
    updates: dict[str, str] = {}
    missing: list[str] = []
    for kind, (encrypted, digest) in _FIELDS.items():
        stored, vault = raw.get(encrypted), vaults[kind]
        if not isinstance(stored, str) or vault.key_of(stored) == vault.key_id:
            continue
        try:
            value = vault.decrypt(stored)
        except KeyNotInRing as lacking:
            missing.append(f"{raw['learner_id']}: {kind} under {lacking.key_id}")
            continue
        except ServiceUnavailable:  # a bare token no key opens, or an altered record
            missing.append(f"{raw['learner_id']}: {kind} decrypts under no key of the ring")
            continue
        updates |= {encrypted: vault.encrypt(value), digest: vault.digest(value)}
    return updates, missing


async def _one(vaults: dict[str, Vault], raw: dict[str, Any], done: Reencrypted) -> None:
    for _ in range(_ATTEMPTS):
        updates, missing = _rekeyed(vaults, raw)
        if not updates:
            done.missing_key += missing
            return
        read = {encrypted: raw.get(encrypted) for encrypted, _ in _FIELDS.values()}
        try:
            result = await db.collection(Learner).update_one(
                {"_id": raw["_id"], **read}, {"$set": updates}
            )
        except db.DuplicateKeyError:
            kinds = [k for k, (_, digest) in _FIELDS.items() if digest in updates]
            done.duplicates.append(f"{raw['learner_id']}: {' and '.join(kinds)}")
            return
        if result.matched_count:
            done.missing_key += missing
            for kind, (encrypted, _) in _FIELDS.items():
                done.moved[kind] += encrypted in updates
            return
        again = await db.collection(Learner).find_one({"_id": raw["_id"]}, _PROJECTION)
        if again is None:  # removed meanwhile
            return
        raw = again
    done.changing.append(raw["learner_id"])


async def reencrypt(
    *,
    credits: Credits,
    batch: int = BATCH,
    progress: Callable[[Reencrypted], None] | None = None,
) -> Reencrypted:
    """Move every learner's id number and phone to the current key (see the module)."""
    vaults = _vaults(credits)
    done = Reencrypted(current=credits.vault.key_id)
    async for learners in _batches(batch):
        for raw in learners:
            done.learners += 1
            await _one(vaults, raw, done)
        if progress is not None:
            progress(done)
    return done
