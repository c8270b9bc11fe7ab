"""Validation of xAPI Statements (Data 2.2-2.4, 4; xAPI 2.0 4.2), for 1.0.3 and 2.0.0.

Every rule is a check that names the property and, in its message, the clause. A failed
check raises `StatementInvalid`, which the API answers with 400 naming the path of the
property (`statements[2].context.instructor.mbox`) and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lrs.statements import primitives as p
from lrs.versions import XapiVersion

VOIDED = "http://adlnet.gov/expapi/verbs/voided"
INTERACTION_TYPES = (
    "true-false",
    "choice",
    "fill-in",
    "long-fill-in",
    "matching",
    "performance",
    "sequencing",
    "likert",
    "numeric",
    "other",
)
# Data 2.4.4.1 interaction components each interaction type may carry.
COMPONENTS = {
    "choice": ("choices",),
    "sequencing": ("choices",),
    "likert": ("scale",),
    "matching": ("source", "target"),
    "performance": ("steps",),
}
ALL_COMPONENTS = ("choices", "scale", "source", "target", "steps")


class StatementInvalid(ValueError):
    """A statement breaks a rule of the specification; `path` names the property."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path
        self.message = message


def _fail(path: str, message: str) -> StatementInvalid:
    return StatementInvalid(path, message)


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:60] + "…"


class _Checker:
    """Walks one statement; `version` selects the rules that differ between versions."""

    def __init__(self, version: XapiVersion) -> None:
        self.version = version

    # primitives

    def object(
        self, value: Any, path: str, allowed: tuple[str, ...], required: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        """Data 2.2: a JSON object with only the allowed keys (exact case), no nulls."""
        if not isinstance(value, dict):
            raise _fail(path, f"must be a JSON object, got {_show(value)} (Data 2.2)")
        for key, item in value.items():
            if key not in allowed:
                near = next((a for a in allowed if a.lower() == str(key).lower()), None)
                hint = f"; the property is {near!r} (case matters)" if near else ""
                raise _fail(f"{path}.{key}", f"is not a property of this object{hint} (Data 2.2)")
            if item is None:
                raise _fail(f"{path}.{key}", "must not be null (Data 2.2)")
        for key in required:
            if key not in value:
                raise _fail(f"{path}.{key}", "is required")
        return value

    def string(self, value: Any, path: str) -> str:
        if not isinstance(value, str):
            raise _fail(path, f"must be a string, got {_show(value)} (Data 2.2)")
        return value

    def boolean(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise _fail(path, f"must be true or false, got {_show(value)} (Data 2.2)")
        return value

    def number(self, value: Any, path: str) -> float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise _fail(path, f"must be a number, got {_show(value)} (Data 2.2)")
        return float(value)

    def integer(self, value: Any, path: str) -> int:
        if isinstance(value, bool) or not isinstance(value, int):
            if isinstance(value, float) and value.is_integer():
                return int(value)
            raise _fail(path, f"must be an integer, got {_show(value)} (Data 2.2)")
        return value

    def check(self, ok: Callable[[Any], bool], value: Any, path: str, what: str) -> Any:
        if not ok(value):
            raise _fail(path, f"must be {what}, got {_show(value)}")
        return value

    def iri(self, value: Any, path: str) -> str:
        self.string(value, path)
        return str(self.check(p.is_iri, value, path, "an IRI with a scheme (Data 4.4)"))

    def uuid(self, value: Any, path: str) -> str:
        self.string(value, path)
        return str(self.check(p.is_uuid, value, path, "a UUID (Data 4.1)"))

    def language_map(self, value: Any, path: str) -> None:
        """Data 4.2: RFC 5646 tags as keys, strings as values."""
        if not isinstance(value, dict):
            raise _fail(path, f"must be a language map object, got {_show(value)} (Data 4.2)")
        for tag, text in value.items():
            if not p.is_language_tag(tag):
                raise _fail(f"{path}.{tag}", "is not an RFC 5646 language tag (Data 4.2)")
            if not isinstance(text, str):
                raise _fail(f"{path}.{tag}", f"must be a string, got {_show(text)} (Data 4.2)")

    def extensions(self, value: Any, path: str) -> None:
        """Data 4.3: keys are IRIs; values are any JSON, null included."""
        if not isinstance(value, dict):
            raise _fail(path, f"must be an object, got {_show(value)} (Data 4.3)")
        for key in value:
            if not p.is_iri(key):
                raise _fail(f"{path}.{key}", "extension keys must be IRIs (Data 4.3)")

    def timestamp(self, value: Any, path: str) -> None:
        self.string(value, path)
        if p.parse_timestamp(value) is None:
            raise _fail(
                path,
                f"must be an ISO 8601 timestamp with a time zone, got {_show(value)} (Data 4.5)",
            )

    # agents and groups

    def agent(self, value: Any, path: str, *, object_type_required: bool = False) -> None:
        """Data 2.4.2.1: an Agent has exactly one IFI."""
        allowed = ("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account")
        self.object(value, path, allowed)
        if object_type_required and "objectType" not in value:
            raise _fail(f"{path}.objectType", "is required here (Data 2.4.4.2)")
        if "objectType" in value and value["objectType"] != "Agent":
            raise _fail(f"{path}.objectType", f"must be 'Agent', got {_show(value['objectType'])}")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        if self.ifis(value, path) != 1:
            raise _fail(
                path,
                "an Agent needs exactly one of mbox, mbox_sha1sum, openid, account (Data 2.4.2.1)",
            )

    def ifis(self, value: dict[str, Any], path: str) -> int:
        """Data 2.4.2.3: checks each inverse functional identifier; answers how many."""
        count = 0
        if "mbox" in value:
            count += 1
            self.string(value["mbox"], f"{path}.mbox")
            self.check(
                p.is_mailto,
                value["mbox"],
                f"{path}.mbox",
                "'mailto:' and an e-mail address (Data 2.4.2.3)",
            )
        if "mbox_sha1sum" in value:
            count += 1
            self.string(value["mbox_sha1sum"], f"{path}.mbox_sha1sum")
            self.check(
                p.is_sha1,
                value["mbox_sha1sum"],
                f"{path}.mbox_sha1sum",
                "a SHA-1 sum in hexadecimal (Data 2.4.2.3)",
            )
        if "openid" in value:
            count += 1
            self.iri(value["openid"], f"{path}.openid")
        if "account" in value:
            count += 1
            account = self.object(
                value["account"], f"{path}.account", ("homePage", "name"), ("homePage", "name")
            )
            self.iri(account["homePage"], f"{path}.account.homePage")
            self.string(account["name"], f"{path}.account.name")
        return count

    def group(self, value: Any, path: str) -> None:
        """Data 2.4.2.2: anonymous Groups list members; identified ones have one IFI;
        members are Agents, never Groups."""
        allowed = ("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account", "member")
        self.object(value, path, allowed, ("objectType",))
        if value["objectType"] != "Group":
            raise _fail(f"{path}.objectType", f"must be 'Group', got {_show(value['objectType'])}")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        count = self.ifis(value, path)
        if count > 1:
            raise _fail(path, "a Group has at most one IFI (Data 2.4.2.2)")
        if "member" in value:
            members = value["member"]
            if not isinstance(members, list):
                raise _fail(f"{path}.member", f"must be an array, got {_show(members)}")
            for i, member in enumerate(members):
                if isinstance(member, dict) and member.get("objectType") == "Group":
                    raise _fail(f"{path}.member[{i}]", "a Group cannot be a member (Data 2.4.2.2)")
                self.agent(member, f"{path}.member[{i}]")
        if count == 0 and not value.get("member"):
            raise _fail(f"{path}.member", "an anonymous Group must list its members (Data 2.4.2.2)")

    def actor(self, value: Any, path: str, *, object_type_required: bool = False) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
        else:
            self.agent(value, path, object_type_required=object_type_required)

    # verb and object

    def verb(self, value: Any, path: str) -> None:
        self.object(value, path, ("id", "display"), ("id",))
        self.iri(value["id"], f"{path}.id")
        if "display" in value:
            self.language_map(value["display"], f"{path}.display")

    def activity(self, value: Any, path: str) -> None:
        self.object(value, path, ("objectType", "id", "definition"), ("id",))
        if "objectType" in value and value["objectType"] != "Activity":
            raise _fail(
                f"{path}.objectType", f"must be 'Activity', got {_show(value['objectType'])}"
            )
        self.iri(value["id"], f"{path}.id")
        if "definition" in value:
            self.definition(value["definition"], f"{path}.definition")

    def definition(self, value: Any, path: str) -> None:
        """Data 2.4.4.1: the Activity definition and its interaction components."""
        allowed = (
            "name",
            "description",
            "type",
            "moreInfo",
            "extensions",
            "interactionType",
            "correctResponsesPattern",
            *ALL_COMPONENTS,
        )
        self.object(value, path, allowed)
        for key in ("name", "description"):
            if key in value:
                self.language_map(value[key], f"{path}.{key}")
        if "type" in value:
            self.iri(value["type"], f"{path}.type")
        if "moreInfo" in value:
            self.iri(value["moreInfo"], f"{path}.moreInfo")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        kind = value.get("interactionType")
        if kind is not None and kind not in INTERACTION_TYPES:
            raise _fail(
                f"{path}.interactionType",
                f"must be one of {', '.join(INTERACTION_TYPES)}, got {_show(kind)} (Data 2.4.4.1)",
            )
        if "correctResponsesPattern" in value:
            if kind is None:
                raise _fail(
                    f"{path}.correctResponsesPattern", "needs an interactionType (Data 2.4.4.1)"
                )
            pattern = value["correctResponsesPattern"]
            if not isinstance(pattern, list):
                raise _fail(f"{path}.correctResponsesPattern", "must be an array of strings")
            for i, item in enumerate(pattern):
                self.string(item, f"{path}.correctResponsesPattern[{i}]")
        for component in ALL_COMPONENTS:
            if component not in value:
                continue
            if kind is None or component not in COMPONENTS.get(kind, ()):
                raise _fail(
                    f"{path}.{component}",
                    f"is not a component of interactionType {_show(kind)} (Data 2.4.4.1)",
                )
            self.components(value[component], f"{path}.{component}")

    def components(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise _fail(path, f"must be an array of interaction components, got {_show(value)}")
        seen: set[str] = set()
        for i, component in enumerate(value):
            where = f"{path}[{i}]"
            self.object(component, where, ("id", "description"), ("id",))
            self.string(component["id"], f"{where}.id")
            if component["id"] in seen:
                raise _fail(
                    f"{where}.id", "interaction component ids must be distinct (Data 2.4.4.1)"
                )
            seen.add(component["id"])
            if "description" in component:
                self.language_map(component["description"], f"{where}.description")

    def statement_ref(self, value: Any, path: str) -> None:
        self.object(value, path, ("objectType", "id"), ("objectType", "id"))
        if value["objectType"] != "StatementRef":
            raise _fail(f"{path}.objectType", "must be 'StatementRef'")
        self.uuid(value["id"], f"{path}.id")

    def statement_object(self, value: Any, path: str, *, in_substatement: bool) -> None:
        """Data 2.4.4: an Activity (the default), Agent, Group, StatementRef or SubStatement."""
        if not isinstance(value, dict):
            raise _fail(path, f"must be a JSON object, got {_show(value)} (Data 2.4.4)")
        kind = value.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(value, path)
        elif kind in ("Agent", "Group"):
            self.actor(value, path, object_type_required=True)
        elif kind == "StatementRef":
            self.statement_ref(value, path)
        elif kind == "SubStatement":
            if in_substatement:
                raise _fail(
                    f"{path}.objectType",
                    "a SubStatement cannot contain a SubStatement (Data 2.4.4.3)",
                )
            self.substatement(value, path)
        else:
            raise _fail(
                f"{path}.objectType",
                f"must be Activity, Agent, Group, StatementRef or SubStatement, got {_show(kind)}",
            )

    def substatement(self, value: dict[str, Any], path: str) -> None:
        """Data 2.4.4.3: no id, stored, version or authority; no nested SubStatement."""
        for key in ("id", "stored", "version", "authority"):
            if key in value:
                raise _fail(f"{path}.{key}", "a SubStatement must not have it (Data 2.4.4.3)")
        allowed = (
            "objectType",
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "attachments",
        )
        self.object(value, path, allowed, ("actor", "verb", "object"))
        self.body(value, path, in_substatement=True)

    # result and context

    def result(self, value: Any, path: str) -> None:
        allowed = ("score", "success", "completion", "response", "duration", "extensions")
        self.object(value, path, allowed)
        if "score" in value:
            self.score(value["score"], f"{path}.score")
        for key in ("success", "completion"):
            if key in value:
                self.boolean(value[key], f"{path}.{key}")
        if "response" in value:
            self.string(value["response"], f"{path}.response")
        if "duration" in value:
            self.string(value["duration"], f"{path}.duration")
            self.check(
                p.is_duration,
                value["duration"],
                f"{path}.duration",
                "an ISO 8601 duration (Data 4.6)",
            )
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")

    def score(self, value: Any, path: str) -> None:
        """Data 2.4.5.1: scaled in [-1, 1]; min <= raw <= max; min < max."""
        self.object(value, path, ("scaled", "raw", "min", "max"))
        numbers = {k: self.number(v, f"{path}.{k}") for k, v in value.items()}
        scaled = numbers.get("scaled")
        if scaled is not None and not -1 <= scaled <= 1:
            raise _fail(
                f"{path}.scaled", f"must be between -1 and 1, got {scaled:g} (Data 2.4.5.1)"
            )
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and low >= high:
            raise _fail(
                f"{path}.min", f"must be less than max, got {low:g} and {high:g} (Data 2.4.5.1)"
            )
        if raw is not None and low is not None and raw < low:
            raise _fail(f"{path}.raw", f"must not be below min, got {raw:g} < {low:g}")
        if raw is not None and high is not None and raw > high:
            raise _fail(f"{path}.raw", f"must not be above max, got {raw:g} > {high:g}")

    def context(self, value: Any, path: str, statement: dict[str, Any]) -> None:
        allowed = [
            "registration",
            "instructor",
            "team",
            "contextActivities",
            "revision",
            "platform",
            "language",
            "statement",
            "extensions",
        ]
        if self.version.is_2:
            allowed += ["contextAgents", "contextGroups"]
        self.object(value, path, tuple(allowed))
        if "registration" in value:
            self.uuid(value["registration"], f"{path}.registration")
        if "instructor" in value:
            self.actor(value["instructor"], f"{path}.instructor")
        if "team" in value:
            team = value["team"]
            if not isinstance(team, dict) or team.get("objectType") != "Group":
                raise _fail(f"{path}.team", "must be a Group (Data 2.4.6)")
            self.group(team, f"{path}.team")
        if "contextActivities" in value:
            self.context_activities(value["contextActivities"], f"{path}.contextActivities")
        object_kind = (
            statement.get("object", {}).get("objectType", "Activity")
            if isinstance(statement.get("object"), dict)
            else "Activity"
        )
        for key in ("revision", "platform"):
            if key in value:
                self.string(value[key], f"{path}.{key}")
                if object_kind != "Activity":
                    raise _fail(
                        f"{path}.{key}", "is only for statements about an Activity (Data 2.4.6)"
                    )
        if "language" in value:
            self.string(value["language"], f"{path}.language")
            self.check(
                p.is_language_tag,
                value["language"],
                f"{path}.language",
                "an RFC 5646 language tag (Data 2.4.6)",
            )
        if "statement" in value:
            self.statement_ref(value["statement"], f"{path}.statement")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        if "contextAgents" in value:
            self.context_agents(value["contextAgents"], f"{path}.contextAgents")
        if "contextGroups" in value:
            self.context_groups(value["contextGroups"], f"{path}.contextGroups")

    def context_activities(self, value: Any, path: str) -> None:
        """Data 2.4.6.2: parent, grouping, category, other: an Activity or an array of them."""
        self.object(value, path, ("parent", "grouping", "category", "other"))
        for key, item in value.items():
            items = item if isinstance(item, list) else [item]
            for i, activity in enumerate(items):
                where = f"{path}.{key}[{i}]" if isinstance(item, list) else f"{path}.{key}"
                self.activity(activity, where)

    def relevant_types(self, value: dict[str, Any], path: str) -> None:
        if "relevantTypes" in value:
            types = value["relevantTypes"]
            if not isinstance(types, list) or not types:
                raise _fail(f"{path}.relevantTypes", "must be a non-empty array of IRIs")
            for i, item in enumerate(types):
                self.iri(item, f"{path}.relevantTypes[{i}]")

    def context_agents(self, value: Any, path: str) -> None:
        """xAPI 2.0 4.2.2.5: contextAgents are {objectType: contextAgent, agent, relevantTypes}."""
        self._context_members(value, path, "agent", self.agent)

    def context_groups(self, value: Any, path: str) -> None:
        """xAPI 2.0 4.2.2.5: contextGroups are {objectType: contextGroup, group, relevantTypes}."""
        self._context_members(value, path, "group", self.group)

    def _context_members(
        self, value: Any, path: str, member: str, check: Callable[[Any, str], None]
    ) -> None:
        if not isinstance(value, list):
            raise _fail(path, f"must be an array, got {_show(value)}")
        kind = f"context{member.capitalize()}"
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            self.object(
                item, where, ("objectType", member, "relevantTypes"), ("objectType", member)
            )
            if item["objectType"] != kind:
                raise _fail(f"{where}.objectType", f"must be {kind!r}")
            check(item[member], f"{where}.{member}")
            self.relevant_types(item, where)

    # attachments and the statement itself

    def attachments(self, value: Any, path: str) -> None:
        """Data 2.4.11: usageType, display, contentType, length and sha2 are required."""
        if not isinstance(value, list):
            raise _fail(path, f"must be an array, got {_show(value)}")
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            allowed = (
                "usageType",
                "display",
                "description",
                "contentType",
                "length",
                "sha2",
                "fileUrl",
            )
            self.object(
                item, where, allowed, ("usageType", "display", "contentType", "length", "sha2")
            )
            self.iri(item["usageType"], f"{where}.usageType")
            self.language_map(item["display"], f"{where}.display")
            if "description" in item:
                self.language_map(item["description"], f"{where}.description")
            self.string(item["contentType"], f"{where}.contentType")
            self.check(
                p.is_media_type,
                item["contentType"],
                f"{where}.contentType",
                "an Internet media type (Data 2.4.11)",
            )
            length = self.integer(item["length"], f"{where}.length")
            if length < 0:
                raise _fail(f"{where}.length", f"must not be negative, got {length}")
            self.string(item["sha2"], f"{where}.sha2")
            self.check(
                p.is_sha2, item["sha2"], f"{where}.sha2", "a SHA-2 sum in hexadecimal (Data 2.4.11)"
            )
            if "fileUrl" in item:
                self.iri(item["fileUrl"], f"{where}.fileUrl")

    def body(self, value: dict[str, Any], path: str, *, in_substatement: bool) -> None:
        """What a Statement and a SubStatement share: actor, verb, object, result, context,
        timestamp, attachments."""
        self.actor(value["actor"], f"{path}.actor")
        self.verb(value["verb"], f"{path}.verb")
        self.statement_object(value["object"], f"{path}.object", in_substatement=in_substatement)
        if "result" in value:
            self.result(value["result"], f"{path}.result")
        if "context" in value:
            self.context(value["context"], f"{path}.context", value)
        if "timestamp" in value:
            self.timestamp(value["timestamp"], f"{path}.timestamp")
        if "attachments" in value:
            self.attachments(value["attachments"], f"{path}.attachments")
        if value["verb"]["id"] == VOIDED and not in_substatement:
            target = value["object"]
            if target.get("objectType") != "StatementRef":
                raise _fail(
                    f"{path}.object",
                    "a voiding statement's object must be a StatementRef (Data 2.3.2)",
                )

    def statement(self, value: Any, path: str) -> None:
        allowed = (
            "id",
            "actor",
            "verb",
            "object",
            "result",
            "context",
            "timestamp",
            "stored",
            "authority",
            "version",
            "attachments",
        )
        self.object(value, path, allowed, ("actor", "verb", "object"))
        if "id" in value:
            self.uuid(value["id"], f"{path}.id")
        self.body(value, path, in_substatement=False)
        if "stored" in value:
            self.timestamp(value["stored"], f"{path}.stored")
        if "authority" in value:
            self.authority(value["authority"], f"{path}.authority")
        if "version" in value:
            self.string(value["version"], f"{path}.version")
            from lrs.versions import statement_version_ok

            if not statement_version_ok(value["version"], self.version):
                allowed_versions = "1.0.x or 2.0.x" if self.version.is_2 else "1.0.x"
                raise _fail(
                    f"{path}.version",
                    f"must be {allowed_versions}, got {_show(value['version'])} (Data 2.4.10)",
                )

    def authority(self, value: Any, path: str) -> None:
        """Data 2.4.9: an Agent, or an anonymous Group of exactly two Agents (an OAuth
        consumer and a user)."""
        self.actor(value, path)
        if isinstance(value, dict) and value.get("objectType") == "Group":
            if any(key in value for key in ("mbox", "mbox_sha1sum", "openid", "account")):
                raise _fail(
                    path,
                    "an authority Group is anonymous: an OAuth consumer and a "
                    "user, no identifier of its own (Data 2.4.9)",
                )
            members = value.get("member") or []
            if len(members) != 2:
                raise _fail(
                    f"{path}.member", "an authority Group has exactly two Agents (Data 2.4.9)"
                )


def validate(statement: Any, version: XapiVersion, path: str = "statement") -> None:
    """Raise `StatementInvalid` unless `statement` is a valid Statement for `version`."""
    _Checker(version).statement(statement, path)
