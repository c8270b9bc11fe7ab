"""Statement comparison (Data 2.3.1 "Statement Comparison Requirements").

Two statements match when they differ only where the specification lets an LRS differ:
properties the LRS assigns (id, authority, stored, version, a timestamp it supplied), the
serialization of timestamps, Activity definitions and Verb displays (not part of the
statement), the order of Group members, the case of e-mail domains, durations beyond the
hundredth of a second (2.0), and a single context Activity against an array of one.
"""

from __future__ import annotations

import json
import re
from typing import Any

from lrs import identity
from lrs.statements import primitives

LRS_ASSIGNED = ("id", "authority", "stored", "version")


def _actor(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    actor = dict(value)
    if "mbox" in actor:
        actor["mbox"] = identity.normalized_mbox(actor["mbox"])
    if "mbox_sha1sum" in actor and isinstance(actor["mbox_sha1sum"], str):
        actor["mbox_sha1sum"] = actor["mbox_sha1sum"].lower()
    if "member" in actor and isinstance(actor["member"], list):
        members = [_actor(m) for m in actor["member"]]
        actor["member"] = sorted(members, key=lambda m: json.dumps(m, sort_keys=True))
    if actor.get("objectType") == "Agent":
        del actor["objectType"]
    return actor


def _activity(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    return {"id": value.get("id")}


def _object(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    kind = value.get("objectType", "Activity")
    if kind == "Activity":
        return _activity(value)
    if kind in ("Agent", "Group"):
        return _actor(value)
    if kind == "SubStatement":
        return _body(value)
    if kind == "StatementRef":
        return {"objectType": kind, "id": str(value.get("id", "")).lower()}
    return value


def _context(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    context = dict(value)
    for key in ("instructor", "team"):
        if key in context:
            context[key] = _actor(context[key])
    activities = context.get("contextActivities")
    if isinstance(activities, dict):
        context["contextActivities"] = {
            key: [_activity(a) for a in (item if isinstance(item, list) else [item])]
            for key, item in activities.items()
        }
    if "registration" in context and isinstance(context["registration"], str):
        context["registration"] = context["registration"].lower()
    return context


_SECONDS_FRACTION = re.compile(r"(P[^.]*?)\.(\d{0,2})\d*S")


def _duration(value: Any) -> Any:
    """xAPI 2.0 4.2.7: durations compare to the hundredth of a second (truncated)."""
    if not isinstance(value, str):
        return value
    match = _SECONDS_FRACTION.fullmatch(value)
    return f"{match[1]}.{match[2]}S" if match else value


def _body(value: dict[str, Any]) -> dict[str, Any]:
    body = {k: v for k, v in value.items() if k not in LRS_ASSIGNED and k != "timestamp"}
    if isinstance(body.get("result"), dict) and "duration" in body["result"]:
        body["result"] = {**body["result"], "duration": _duration(body["result"]["duration"])}
    if "actor" in body:
        body["actor"] = _actor(body["actor"])
    if "verb" in body and isinstance(body["verb"], dict):
        body["verb"] = {"id": body["verb"].get("id")}
    if "object" in body:
        body["object"] = _object(body["object"])
    if "context" in body:
        body["context"] = _context(body["context"])
    if "timestamp" in value:
        moment = primitives.parse_timestamp(value["timestamp"])
        body["timestamp"] = moment.timestamp() if moment else value["timestamp"]
    return body


def same(stored: dict[str, Any], received: dict[str, Any]) -> bool:
    """True when `received` is the statement `stored` holds, as the specification compares."""
    left, right = _body(stored), _body(received)
    if "timestamp" not in received:
        left.pop("timestamp", None)  # the LRS supplied it
    return json.dumps(left, sort_keys=True) == json.dumps(right, sort_keys=True)
