"""Completion certificates of the programme (§五(二): bases certify truthfully, from the
assessment results): their numbers, their verification codes, and whether one still
stands (§三: a base's work counts while it is in good standing).

A code is an HMAC (key: `Purpose.certificate_codes` of the service's secret key) over the
certificate's summary: its number, the learner's account id, the project, hours, base,
assessment date and issue time; no id numbers. 24 base32 characters, like transcripts'
codes, so one box on the verification page takes both.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from pymongo import ReturnDocument

from catalog import bases
from catalog.models import Base
from catalog.programme_models import (
    Certificate,
    ProgrammeCounter,
    ProgrammeKind,
    ProgrammeResult,
)
from catalog.programme_rules import certificate_series
from nxce.core import db, keys
from nxce.core.errors import NotFound

CODE_LENGTH = 24


def _canonical(value: Any) -> bytes:
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str
    ).encode("utf-8")


class Signer:
    """Makes certificate codes with the key derived from the current secret key, and
    checks them with the key of every secret key in the ring (a certificate issued
    before a rotation keeps verifying while its key is kept)."""

    def __init__(self, ring: keys.Keyring) -> None:
        self._keys = ring.derived(keys.Purpose.certificate_codes)

    def code(self, summary: dict[str, Any]) -> str:
        return self._code(self._keys.current, summary)

    def genuine(self, code: str, summary: dict[str, Any]) -> bool:
        return any([hmac.compare_digest(code, self._code(k, summary)) for k in self._keys.all])

    @staticmethod
    def _code(key: bytes, summary: dict[str, Any]) -> str:
        mac = hmac.new(key, _canonical(summary), hashlib.sha256)
        return base64.b32encode(mac.digest()).decode("ascii")[:CODE_LENGTH]


def _utc_text(moment: datetime) -> str:
    """A moment in UTC to the millisecond (what the store keeps), read back alike."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def summary(result: ProgrammeResult, certificate_no: str, issued_at: datetime) -> dict[str, Any]:
    """What a certificate's code covers."""
    return {
        "certificate_no": certificate_no,
        "learner_id": result.learner_id,
        "project_id": result.project_id,
        "project_title": result.project_title,
        "kind": result.kind,
        "hours": result.hours,
        "base_id": result.base_id,
        "assessed_on": result.assessed_on.isoformat(),
        "issued_at": _utc_text(issued_at),
    }


async def next_number(year: int, kind: ProgrammeKind, session: Any = None) -> str:
    """§五(二): the next certificate number of the year and kind (NX-2022-CY-00001), from
    one atomic `$inc` of a counter document: distinct across replicas. A number taken by a
    write that then fails is not handed out again (numbers may skip, never repeat)."""
    series = certificate_series(year, kind)
    after = await db.collection(ProgrammeCounter).find_one_and_update(
        {"_id": series},
        {"$inc": {"value": 1}},
        upsert=True,
        return_document=ReturnDocument.AFTER,
        session=session,
    )
    return f"{series}-{int(after['value']):05d}"


async def issue(
    signer: Signer, result: ProgrammeResult, year: int, kind: ProgrammeKind
) -> Certificate:
    """A certificate for the passed `result` (not yet written)."""
    number = await next_number(year, kind)
    issued_at = db.now()
    code = signer.code(summary(result, number, issued_at))
    return Certificate(certificate_no=number, verification_code=code, issued_at=issued_at)


async def by_code(signer: Signer, code: str) -> ProgrammeResult | None:
    """The result whose certificate has `code` (already normalised), when its record still
    matches the code; None otherwise (no such certificate, or its record was altered)."""
    found = await ProgrammeResult.find_one({"certificate.verification_code": code})
    if found is None or found.certificate is None:
        return None
    issued = found.certificate
    if not signer.genuine(code, summary(found, issued.certificate_no, issued.issued_at)):
        return None
    return found


@dataclass(frozen=True, slots=True)
class Standing:
    """§三: whether a result's base was in good standing on its assessment date, and if
    not, why (the base, its status then and since when)."""

    base: Base | None
    good: bool
    status: str | None
    since: date | None
    reason: str | None


async def standing(result: ProgrammeResult) -> Standing:
    """§三, domain.md "Bases": a result counts (its certificate stands) while the base is
    in good standing on `assessed_on`, for work under way since the project's start."""
    try:
        base = await bases.get(base_id=result.base_id)
    except NotFound:
        base = None
    return standing_with(result, base)


def standing_with(result: ProgrammeResult, base: Base | None) -> Standing:
    """`standing` of a result whose base (None: gone) was read already: one read of the
    base serves every result of a project."""
    if base is None:
        reason = f"the base {result.base_id!r} that issued it no longer exists"
        return Standing(None, False, None, None, reason)
    if bases.in_good_standing(base, result.assessed_on, started_on=result.starts_on):
        return Standing(base, True, None, None, None)
    found = bases.status_on(base=base, on=result.assessed_on)
    status = found.status.value if found.status else "not yet certified"
    since = f" since {found.since.isoformat()}" if found.since else ""
    reason = (
        f"base {base.name!r} is {status}{since}: not in good standing on "
        f"{result.assessed_on.isoformat()}, the date of the assessment (§三)"
    )
    return Standing(base, False, status, found.since, reason)
