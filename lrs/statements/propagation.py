"""The keys queries match statements by (Communication 2.1.3): agents, verbs, activities
and registrations, plain and `related_*`, and their propagation along StatementRefs: a
statement that targets another matches what its target matches, stored before or after it.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from lrs import identity
from lrs.statements.models import StatementRecord
from nxce.core import db


@dataclass
class Keys:
    """What queries match a statement by (its own, before StatementRef propagation)."""

    agents: set[str] = field(default_factory=set)
    related_agents: set[str] = field(default_factory=set)
    verbs: set[str] = field(default_factory=set)
    activities: set[str] = field(default_factory=set)
    related_activities: set[str] = field(default_factory=set)
    registrations: set[str] = field(default_factory=set)

    def merge(self, other: Keys) -> None:
        for name in vars(self):
            getattr(self, name).update(getattr(other, name))

    def fields(self) -> dict[str, list[str]]:
        return {name: sorted(values) for name, values in vars(self).items()}


def _activity_ids(context: Any) -> set[str]:
    found = set()
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        for items in context["contextActivities"].values():
            for activity in items if isinstance(items, list) else [items]:
                if isinstance(activity, dict) and "id" in activity:
                    found.add(activity["id"])
    return found


def _context_agents(context: Any) -> set[str]:
    found: set[str] = set()
    if not isinstance(context, dict):
        return found
    for key in ("instructor", "team"):
        found |= identity.keys(context.get(key))
    for item in context.get("contextAgents") or []:
        found |= identity.keys(item.get("agent"))
    for item in context.get("contextGroups") or []:
        found |= identity.keys(item.get("group"))
    return found


def own_keys(statement: dict[str, Any]) -> Keys:
    """Communication 2.1.3: the agent, verb, activity and registration filters, plain and
    `related_*`, as they apply to this statement alone."""
    keys = Keys()
    target = statement.get("object") or {}
    kind = target.get("objectType", "Activity")
    keys.agents |= identity.keys(statement.get("actor"))
    if kind in ("Agent", "Group"):
        keys.agents |= identity.keys(target)
    keys.verbs.add(statement["verb"]["id"])
    if kind == "Activity":
        keys.activities.add(target["id"])
    keys.related_agents |= keys.agents | identity.keys(statement.get("authority"))
    keys.related_agents |= _context_agents(statement.get("context"))
    keys.related_activities |= keys.activities | _activity_ids(statement.get("context"))
    if kind == "SubStatement":
        inner = target.get("object") or {}
        keys.related_agents |= identity.keys(target.get("actor"))
        keys.related_agents |= _context_agents(target.get("context"))
        if inner.get("objectType") in ("Agent", "Group"):
            keys.related_agents |= identity.keys(inner)
        if inner.get("objectType", "Activity") == "Activity" and "id" in inner:
            keys.related_activities.add(inner["id"])
        keys.related_activities |= _activity_ids(target.get("context"))
    context = statement.get("context")
    if isinstance(context, dict) and isinstance(context.get("registration"), str):
        keys.registrations.add(context["registration"].lower())
    return keys


def target_of(statement: dict[str, Any]) -> str | None:
    """The id of the statement a StatementRef object targets, in lower case."""
    target = statement.get("object") or {}
    if target.get("objectType") == "StatementRef":
        return str(target["id"]).lower()
    return None


def keys_of(record: StatementRecord) -> Keys:
    """The keys a stored record holds (its targets' included)."""
    return Keys(
        set(record.agents),
        set(record.related_agents),
        set(record.verbs),
        set(record.activities),
        set(record.related_activities),
        set(record.registrations),
    )


def propagated(
    statement_id: str,
    own: dict[str, Keys],
    by_id: dict[str, dict[str, Any]],
    known: dict[str, StatementRecord],
) -> Keys:
    """Own keys plus those of the statements it targets, recursively (2.1.3)."""
    keys = Keys()
    seen = set()
    current: str | None = statement_id
    while current is not None and current not in seen:
        seen.add(current)
        if current in own:
            keys.merge(own[current])
            current = target_of(by_id[current])
        elif current in known:
            keys.merge(keys_of(known[current]))
            current = None  # a stored record already holds its targets' keys
        else:
            current = None
    return keys


async def propagate_to_earlier(records: Iterable[StatementRecord], session: Any) -> None:
    """Statements stored earlier that target these ones take their keys too (2.1.3): one
    query per step of the StatementRef chains, not one per statement."""
    wave = list(records)
    seen = {r.statement_id for r in wave}
    while wave:
        targets = {r.statement_id: r for r in wave}
        # Usually nothing targets them: one raw probe, without building models, says so.
        probe = {"target": {"$in": sorted(targets)}}
        statements = db.collection(StatementRecord)
        if await statements.find_one(probe, {"_id": 1}, session=session) is None:
            return
        referring = await StatementRecord.find(
            {"target": {"$in": sorted(targets)}}, session=session
        ).to_list()
        wave = []
        for other in referring:
            if other.statement_id in seen:
                continue
            seen.add(other.statement_id)
            keys = keys_of(other)
            keys.merge(keys_of(targets[str(other.target)]))
            await db.collection(StatementRecord).update_one(
                {"_id": other.id}, {"$set": keys.fields()}, session=session
            )
            for name, values in keys.fields().items():
                setattr(other, name, values)
            wave.append(other)
