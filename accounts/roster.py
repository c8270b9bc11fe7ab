"""The roster import (花名册导入, issue 21): an admin or auditor registers a department's
learners from one file and hands each an activation code.

Each row is checked as `POST /learners` checks a learner (the schema, then
`credits.learners.problems`), then against the other rows and the registered learners:

- an id number, phone number or learner id twice in the file refuses every row that has
  it, each naming the others (which one is right is for the department to say);
- an id number already registered: "already registered — contact the department", naming
  no one (no learner id, no name); a phone number likewise;
- every such hit of a registered learner is in the audit trail (`id_number_conflict`,
  `phone_conflict`, with the learner hit, the row and whether it was a dry run), as a
  registration through the API is. Unlike the API's, a roster's hits are not throttled:
  the import is for admins and auditors, and a department re-sending a roster hits every
  learner it registered before (our reading).

A dry run writes nothing but those trail events. Applying writes all valid rows or none:
with a refused row nothing is created unless `only_valid` (`rows=valid`) is asked. The
created learners each get an activation code (`service.issue_codes`) in the answer, once;
the import is in the trail (`roster_import`: who, how many, which learner ids).

A row's own checks, and the learner ids made for rows without one, are in
accounts/roster_rows.py.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from accounts import roster_file, service
from accounts.context import Accounts
from accounts.roster_rows import FieldError, RowReport, new_learner_id, parsed_rows, shown
from credits import phones, registration, trail
from credits.id_numbers import masked as masked_id_number
from credits.models import EventKind
from credits.schemas import LearnerCreate
from nxce.core.errors import Unprocessable

REGISTERED = "already registered — contact the department"


@dataclass
class Checked:
    rows: list[RowReport]
    valid: dict[int, LearnerCreate]  # row -> the learner it registers

    @property
    def refused(self) -> int:
        return sum(1 for r in self.rows if r.status == "refused")


def _duplicates(
    reports: dict[int, RowReport], keys: dict[int, str], shown: dict[int, str], name: str
) -> None:
    """Refuse every row sharing its key (`keys`: row -> key) with another row, naming the
    other rows; `shown`: row -> the value as the error names it."""
    groups: dict[str, list[int]] = defaultdict(list)
    for number, key in keys.items():
        groups[key].append(number)
    what = name.replace("_", " ")
    for numbers in groups.values():
        if len(numbers) < 2:
            continue
        for number in numbers:
            others = ", ".join(str(n) for n in numbers if n != number)
            message = f"the same {what} as row {others} of this file"
            reports[number].errors.append(FieldError(name, shown[number], message))


async def check(
    *, accounts: Accounts, rows: list[roster_file.RosterRow], by: str, dry_run: bool
) -> Checked:
    """Every row checked (nothing written but the trail's events of registered learners
    hit); a row with no error is valid."""
    credits = accounts.credits
    # the rows' own checks are CPU work (10,000 rows: a good part of a second): off the loop
    reports, parsed = await asyncio.to_thread(parsed_rows, credits, rows)
    given = {row.row for row in rows if "learner_id" in row.cells}
    id_digest = {n: credits.vault.digest(p.id_number) for n, p in parsed.items()}
    phone_digest = {n: credits.phones.digest(p.phone) for n, p in parsed.items() if p.phone}
    shown_ids = {n: masked_id_number(p.id_number) for n, p in parsed.items()}
    shown_phones = {n: phones.masked(p.phone) for n, p in parsed.items() if p.phone}
    _duplicates(reports, id_digest, shown_ids, "id_number")
    _duplicates(reports, phone_digest, shown_phones, "phone")
    chosen = {n: reports[n].learner_id or "" for n in given}
    _duplicates(reports, chosen, chosen, "learner_id")
    await _against_store(accounts, parsed, reports, id_digest, phone_digest, given, by, dry_run)
    valid = {}
    for number, report in reports.items():
        if report.errors:
            report.status = "refused"
        elif number in parsed:
            valid[number] = parsed[number]
            report.id_number_masked = shown_ids[number]
            report.phone_masked = shown_phones.get(number)
            report.employer = parsed[number].employer
    return Checked(rows=[reports[r.row] for r in rows], valid=valid)


def _aliases(current: dict[int, str], every: dict[int, list[str]]) -> dict[str, str]:
    """Each row's digest under every key of the ring, mapped to its current one."""
    return {digest: current[n] for n, digests in every.items() for digest in digests}


async def _against_store(
    accounts: Accounts,
    parsed: dict[int, LearnerCreate],
    reports: dict[int, RowReport],
    id_digest: dict[int, str],
    phone_digest: dict[int, str],
    given: set[int],
    by: str,
    dry_run: bool,
) -> None:
    """Refuse rows whose id number, phone or (given) learner id is registered; a learner
    id made here that is taken is made again. The registered learners hit go in the trail."""
    credits = accounts.credits
    id_aliases = _aliases(
        id_digest, {n: credits.vault.digests(p.id_number) for n, p in parsed.items()}
    )
    phone_aliases = _aliases(
        phone_digest, {n: credits.phones.digests(p.phone) for n, p in parsed.items() if p.phone}
    )
    for _ in range(5):
        found = await registration.taken(
            learner_ids=[r.learner_id for r in reports.values() if r.learner_id],
            id_digests=list(id_aliases),
            phone_digests=list(phone_aliases),
        )
        # a learner written before a rotation holds a digest under a previous key
        found.id_numbers = {id_aliases[d]: who for d, who in found.id_numbers.items()}
        found.phones = {phone_aliases[d]: who for d, who in found.phones.items()}
        clashes = [n for n, r in reports.items() if r.learner_id in found.learner_ids]
        made = [n for n in clashes if n not in given]
        for number in made:
            reports[number].learner_id = new_learner_id()
            if number in parsed:
                parsed[number] = parsed[number].model_copy(
                    update={"id": reports[number].learner_id}
                )
        if not made:
            break
    operation = "roster dry run" if dry_run else "roster"
    events: list[tuple[EventKind, str, dict[str, Any]]] = []
    for number in parsed:
        report = reports[number]
        hits = (
            ("id_number", found.id_numbers.get(id_digest[number]), EventKind.id_number_conflict),
            ("phone", found.phones.get(phone_digest.get(number, "")), EventKind.phone_conflict),
        )
        for name, hit, kind in hits:
            if hit is None:
                continue
            value = shown(name, getattr(parsed[number], name))
            report.errors.append(FieldError(name, value, REGISTERED))
            detail = {"attempted_learner_id": report.learner_id, "operation": operation,
                      "row": number}  # fmt: skip
            events.append((kind, hit, detail))
        if number in given and report.learner_id in found.learner_ids:
            message = "is taken by a registered learner"
            report.errors.append(FieldError("learner_id", report.learner_id or "", message))
    await trail.record_many(by=by, events=events)


async def apply(
    *, accounts: Accounts, checked: Checked, by: str, only_valid: bool
) -> list[RowReport]:
    """Register the valid rows and give each an activation code; with a refused row and
    not `only_valid`, a 422 carrying the report, nothing written."""
    if checked.refused and not only_valid:
        raise Unprocessable(
            f"{checked.refused} of {len(checked.rows)} rows are refused: nothing was created; "
            "correct them, or send rows=valid to create the valid rows only",
            rows=[report_json(r) for r in checked.rows],
            created=0,
            refused=checked.refused,
        )
    created = await registration.register_many(
        credits=accounts.credits, learners_in=list(checked.valid.values()), by=by
    )
    codes = await service.issue_codes(accounts=accounts, learner_ids=created, by=by)
    by_row = {report.row: report for report in checked.rows}
    for number in checked.valid:
        report = by_row[number]
        report.status = "created"
        issued = codes[report.learner_id or ""]
        report.code, report.expires_at = issued.code, issued.expires_at
    detail = {"created": len(created), "refused": checked.refused, "learner_ids": created}
    await trail.record_many(by=by, events=[(EventKind.roster_import, "", detail)])
    return checked.rows


def report_json(report: RowReport) -> dict[str, Any]:
    """A row of the report as the API answers it (no activation code: that is shown only
    in the answer that created it)."""
    found: dict[str, Any] = {"row": report.row, "status": report.status}
    if report.status != "refused":
        found["learner_id"] = report.learner_id
    found["errors"] = [
        {"field": e.field, "value": e.value, "message": e.message} for e in report.errors
    ]
    return found
