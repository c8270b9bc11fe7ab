"""What the LRS knows of Activities and Agents (Communication 2.4, 2.5): canonical Activity
definitions merged from statements, and Person objects of the identifiers it has seen."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from lrs import identity
from lrs.documents.models import ActivityRecord
from lrs.statements.models import StatementRecord
from nxce.core import db, json_input

LANGUAGE_MAPS = ("name", "description")
# A lookup the composition root provides: the definition of a catalog course by its IRI.
CourseDefinitions = Callable[[str], Awaitable[dict[str, Any] | None]]


def _activities_of(statement: dict[str, Any]) -> Iterable[dict[str, Any]]:
    target = statement.get("object") or {}
    kind = target.get("objectType", "Activity")
    if kind == "Activity":
        yield target
    if kind == "SubStatement":
        yield from _activities_of(target)
    context = statement.get("context") or {}
    for items in (context.get("contextActivities") or {}).values():
        yield from (items if isinstance(items, list) else [items])


def merge(stored: dict[str, Any], received: dict[str, Any]) -> dict[str, Any]:
    """A newer definition over an older one: language maps gain or replace languages;
    every other property is replaced (Communication 2.5, the LRS's canonical version)."""
    merged = dict(stored)
    for key, value in received.items():
        if key in LANGUAGE_MAPS and isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


async def record_activities(statements: Iterable[dict[str, Any]], session: Any) -> None:
    """Fold the Activity definitions these statements carry into the canonical ones."""
    received: dict[str, dict[str, Any]] = {}
    for statement in statements:
        for activity in _activities_of(statement):
            definition = activity.get("definition")
            if isinstance(definition, dict) and definition:
                received[activity["id"]] = merge(received.get(activity["id"], {}), definition)
    if not received:
        return
    collection = db.collection(ActivityRecord)
    found = collection.find(
        {"activity_id": {"$in": sorted(received)}},
        {"activity_id": 1, "definition": 1, "_id": 0},
        session=session,
    )
    texts = {r["activity_id"]: r["definition"] async for r in found}
    now = db.now()
    for activity_id, definition in received.items():
        text = texts.get(activity_id)
        if text is not None and text == json_input.dumps(definition):
            continue  # the usual case, read without parsing: the definition stored, again
        known = json_input.stored(text) if text is not None else {}
        merged = merge(known, definition)
        if text is not None and merged == known:
            continue  # nothing new (a part of the definition stored)
        await collection.update_one(
            {"activity_id": activity_id},
            {"$set": {"definition": json_input.dumps(merged), "updated": now}},
            upsert=True,
            session=session,
        )


async def activity(
    *, activity_id: str, course_definition: CourseDefinitions | None = None
) -> dict[str, Any]:
    """The Activity object the LRS holds for `activity_id` (Communication 2.5): what
    statements carried, under the catalog's definition of a course (the catalog is the
    authority on its courses; a statement cannot rename one)."""
    found: dict[str, Any] = {"objectType": "Activity", "id": activity_id}
    definition: dict[str, Any] = {}
    record = await ActivityRecord.find_one(ActivityRecord.activity_id == activity_id)
    if record is not None:
        definition = json_input.stored(record.definition)
    if course_definition is not None:
        definition = merge(definition, await course_definition(activity_id) or {})
    if definition:
        found["definition"] = definition
    return found


async def person(*, agent: dict[str, Any], names_from_statements: bool = True) -> dict[str, Any]:
    """Communication 2.4: the Person object for an Agent: its identifier, and the names the
    LRS has seen statements give that identifier (when `names_from_statements`: only for
    clients that may read every statement)."""
    found: dict[str, Any] = {"objectType": "Person"}
    names: list[str] = []
    if isinstance(agent.get("name"), str):
        names.append(agent["name"])
    key = identity.ifi_key(agent)
    if key is not None and names_from_statements:
        recent = await StatementRecord.find({"agents": key}).sort("-stored_us").limit(50).to_list()
        for record in recent:
            actor = json_input.stored(record.document).get("actor") or {}
            if identity.ifi_key(actor) == key and isinstance(actor.get("name"), str):
                names.append(actor["name"])
    if names:
        found["name"] = list(dict.fromkeys(names))
    for name in identity.IFI_PROPERTIES:
        if name in agent:
            found[name] = [agent[name]]
    return found
