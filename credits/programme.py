"""The knowledge-update programme (§二) in the ledger: a passed assessment credits the
project's hours as professional hours (§一(一): training classes and seminars are routes of
professional hours), on the certificate its base issues from the result (§五(二)).

Built in memory by `credits.recompute.compute` from the results the catalog holds (read
through `Catalog.programme_results`), like every other entry of the ledger, so a rebuild
gives the same entries:

- a passed result → one entry, kind `programme`, `source_kind` "programme", `source_ref`
  the result id, its id derived from the result id (`entry_id_for`), the project's hours
  (as recorded with the result), in the year of `assessed_on`;
- a failed result → nothing;
- §三: a result at a base not in good standing on `assessed_on` for a project started on
  `starts_on` (a criticised base still counts for projects started before the criticism;
  a revoked one for nothing assessed on or after the revocation) → the entry kept,
  reversed, with its hours and why (as training entries are);
- our reading, as for completions: a result dated where no installed policy covers it
  waits for one (`awaiting_policy`), counted once one is installed.
"""

from __future__ import annotations

from datetime import date

from credits.context import BaseStanding, Credits, ProgrammeResult
from credits.models import EntryStatus, LedgerEntry

KIND = "programme"  # the ledger kind (and source_kind) of programme entries

# §二: the part of the notice each kind of project belongs to.
PROGRAMME_CLAUSES: dict[str, str] = {
    "advanced_seminar": "§二(一)",  # 高级研修项目
    "urgent_skills": "§二(二)",  # 急需紧缺和岗位骨干人才培训项目
    "key_industry": "§二(三)",  # 九个重点产业、领域专业技术培训项目
    "tcm_grassroots": "§二(四)",  # 基层中医药卫生专业技术人员能力提升专项培训
}


def clause_of(kind: str) -> str:
    """§一(一) (training classes and seminars give professional hours), the part of §二 the
    project belongs to, and §五(二) (the base certifies the result)."""
    part = PROGRAMME_CLAUSES.get(kind)
    return "; ".join(c for c in ("§一(一)", part, "§五(二)") if c)


def entry_id_for(result_id: str) -> str:
    """The ledger entry of a result: the same id at every recompute."""
    return f"programme-{result_id}"


def standing_reason(standing: BaseStanding, result: ProgrammeResult) -> str:
    """§三: why a passed result does not count: the base, its status on the assessment
    date and since when (for a criticised base, that the project started after it)."""
    day = result.assessed_on
    if standing.status is None:
        return f"base {standing.name} was not yet certified on {day} (§三)"
    said = f"base {standing.name} was {standing.status} on {standing.since} (§三); "
    if standing.status == "criticised":
        return f"{said}the result is dated {day}, its project started on {result.starts_on}"
    return f"{said}the result is dated {day}"


def _source(result: ProgrammeResult, base_name: str | None) -> dict[str, object]:
    return {
        "result_id": result.result_id,
        "project_id": result.project_id,
        "project_title": result.project_title,
        "programme_kind": result.kind,
        "base_id": result.base_id,
        "base_name": base_name,
        "starts_on": result.starts_on.isoformat(),
        "assessed_on": result.assessed_on.isoformat(),
        "certificate_no": result.certificate_no,
    }


def _status(
    credits: Credits, standing: BaseStanding | None, result: ProgrammeResult
) -> tuple[EntryStatus, str | None, str]:
    """(status, reason, policy id) of a passed result's entry."""
    day: date = result.assessed_on
    policy = credits.policies.covering(day)
    policy_id = policy.id if policy is not None else ""
    if standing is None:
        return EntryStatus.reversed, f"base {result.base_id} is not known (§三)", policy_id
    if not standing.good:
        return EntryStatus.reversed, standing_reason(standing, result), policy_id
    if policy is None:
        return EntryStatus.awaiting_policy, f"no policy covers {day.year} yet", policy_id
    return EntryStatus.counted, None, policy_id


async def entry_of(credits: Credits, learner_id: str, result: ProgrammeResult) -> LedgerEntry:
    """The ledger entry of a passed result (see the module)."""
    standing = await credits.catalog.base_standing(
        result.base_id, result.assessed_on, started_on=result.starts_on
    )
    status, reason, policy_id = _status(credits, standing, result)
    return LedgerEntry(
        entry_id=entry_id_for(result.result_id),
        learner_id=learner_id,
        year=result.assessed_on.year,
        occurred_on=result.assessed_on,
        category="professional",
        hours=result.hours,
        kind=KIND,
        source_kind=KIND,
        source_ref=result.result_id,
        source=_source(result, standing.name if standing is not None else None),
        clause=clause_of(result.kind),
        policy_id=policy_id,
        status=status,
        status_reason=reason,
        recorded_by=result.recorded_by,
        recorded_at=result.recorded_at,
    )


async def programme_entries(*, credits: Credits, learner_id: str) -> list[LedgerEntry]:
    """The entries of a learner's passed programme results, in memory (a failed result
    credits nothing)."""
    results = await credits.catalog.programme_results(learner_id)
    return [await entry_of(credits, learner_id, r) for r in results if r.passed]
