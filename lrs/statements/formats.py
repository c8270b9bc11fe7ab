"""The `format` of returned statements (Communication 2.1.3): exact, ids, canonical."""

from __future__ import annotations

from typing import Any

from lrs import identity

FORMATS = ("exact", "ids", "canonical")


def ids(statement: dict[str, Any]) -> dict[str, Any]:
    """Agents, Groups, Activities and Verbs reduced to what identifies them."""
    out = dict(statement)
    for key in ("actor", "authority"):
        if isinstance(out.get(key), dict):
            out[key] = identity.only_ifi(out[key])
    if isinstance(out.get("verb"), dict):
        out["verb"] = {"id": out["verb"]["id"]}
    if isinstance(out.get("object"), dict):
        out["object"] = _object_ids(out["object"])
    if isinstance(out.get("context"), dict):
        out["context"] = _context_ids(out["context"])
    return out


def _object_ids(value: dict[str, Any]) -> dict[str, Any]:
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return {"id": value["id"]}
    if kind in ("Agent", "Group"):
        return identity.only_ifi(value)
    if kind == "SubStatement":
        return ids(value)
    return value


def _context_ids(context: dict[str, Any]) -> dict[str, Any]:
    out = dict(context)
    for key in ("instructor", "team"):
        if isinstance(out.get(key), dict):
            out[key] = identity.only_ifi(out[key])
    activities = out.get("contextActivities")
    if isinstance(activities, dict):
        out["contextActivities"] = {
            key: [_object_ids(a) for a in items] for key, items in activities.items()
        }
    for key, inner in (("contextAgents", "agent"), ("contextGroups", "group")):
        if isinstance(out.get(key), list):
            out[key] = [{**item, inner: identity.only_ifi(item[inner])} for item in out[key]]
    return out


def accepted_languages(header: str | None) -> list[str]:
    """Accept-Language as tags by preference (RFC 7231 §5.3.5), quality 0 left out."""
    if not header:
        return []
    ranked = []
    for order, item in enumerate(header.split(",")):
        tag, _, params = item.strip().partition(";")
        quality = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            ranked.append((-quality, order, tag.strip().lower()))
    return [tag for _, _, tag in sorted(ranked)]


def _pick(language_map: dict[str, str], languages: list[str]) -> dict[str, str]:
    """The one entry of a language map that Accept-Language prefers (Communication 2.1.3)."""
    if not language_map:
        return language_map
    lowered = {tag.lower(): tag for tag in language_map}
    for wanted in languages:
        if wanted == "*":
            break
        if wanted in lowered:
            return {lowered[wanted]: language_map[lowered[wanted]]}
        prefix = next((t for t in lowered if t.split("-")[0] == wanted.split("-")[0]), None)
        if prefix is not None:
            return {lowered[prefix]: language_map[lowered[prefix]]}
    first = next(iter(language_map))
    return {first: language_map[first]}


def canonical(statement: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    """Activity definitions and Verb displays with one language per language map."""
    out = dict(statement)
    if isinstance(out.get("verb"), dict) and isinstance(out["verb"].get("display"), dict):
        out["verb"] = {**out["verb"], "display": _pick(out["verb"]["display"], languages)}
    if isinstance(out.get("object"), dict):
        out["object"] = _canonical_object(out["object"], languages)
    context = out.get("context")
    if isinstance(context, dict) and isinstance(context.get("contextActivities"), dict):
        out["context"] = {
            **context,
            "contextActivities": {
                key: [_canonical_object(a, languages) for a in items]
                for key, items in context["contextActivities"].items()
            },
        }
    return out


def _canonical_object(value: dict[str, Any], languages: list[str]) -> dict[str, Any]:
    kind = value.get("objectType", "Activity")
    if kind == "SubStatement":
        return canonical(value, languages)
    if kind != "Activity" or not isinstance(value.get("definition"), dict):
        return value
    definition = dict(value["definition"])
    for key in ("name", "description"):
        if isinstance(definition.get(key), dict):
            definition[key] = _pick(definition[key], languages)
    for key in ("choices", "scale", "source", "target", "steps"):
        if isinstance(definition.get(key), list):
            definition[key] = [
                {**c, "description": _pick(c["description"], languages)}
                if isinstance(c.get("description"), dict)
                else c
                for c in definition[key]
            ]
    return {**value, "definition": definition}


def render(statement: dict[str, Any], format_: str, languages: list[str]) -> dict[str, Any]:
    if format_ == "ids":
        return ids(statement)
    if format_ == "canonical":
        return canonical(statement, languages)
    return statement
