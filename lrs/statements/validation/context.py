"""Context (Data 2.4.6; xAPI 2.0 4.2.2.5: contextAgents, contextGroups) and the
StatementRefs a context or an object holds (Data 2.4.4.3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from lrs.statements import primitives as p
from lrs.statements.validation.activities import ActivityChecker
from lrs.statements.validation.actors import ActorChecker
from lrs.statements.validation.values import fail, show


class ContextChecker(ActorChecker, ActivityChecker):
    """The context of a statement, and StatementRefs."""

    def statement_ref(self, value: Any, path: str) -> None:
        self.object(value, path, ("objectType", "id"), ("objectType", "id"))
        if value["objectType"] != "StatementRef":
            raise fail(f"{path}.objectType", "must be 'StatementRef'")
        self.uuid(value["id"], f"{path}.id")

    def context(self, value: Any, path: str, statement: dict[str, Any]) -> None:
        """Data 2.4.6 (xAPI 2.0 4.2.2.5: contextAgents and contextGroups from 2.0 on)."""
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
            self.team(value["team"], f"{path}.team")
        if "contextActivities" in value:
            self.context_activities(value["contextActivities"], f"{path}.contextActivities")
        self.activity_only(value, path, statement)
        if "language" in value:
            self.language(value["language"], f"{path}.language")
        if "statement" in value:
            self.statement_ref(value["statement"], f"{path}.statement")
        if "extensions" in value:
            self.extensions(value["extensions"], f"{path}.extensions")
        if "contextAgents" in value:
            self.context_agents(value["contextAgents"], f"{path}.contextAgents")
        if "contextGroups" in value:
            self.context_groups(value["contextGroups"], f"{path}.contextGroups")

    def team(self, value: Any, path: str) -> None:
        """Data 2.4.6: the team is a Group."""
        if not isinstance(value, dict) or value.get("objectType") != "Group":
            raise fail(path, "must be a Group (Data 2.4.6)")
        self.group(value, path)

    def activity_only(self, value: dict[str, Any], path: str, statement: dict[str, Any]) -> None:
        """Data 2.4.6: revision and platform are strings, for statements about an Activity."""
        object_kind = (
            statement.get("object", {}).get("objectType", "Activity")
            if isinstance(statement.get("object"), dict)
            else "Activity"
        )
        for key in ("revision", "platform"):
            if key in value:
                self.string(value[key], f"{path}.{key}")
                if object_kind != "Activity":
                    raise fail(
                        f"{path}.{key}", "is only for statements about an Activity (Data 2.4.6)"
                    )

    def language(self, value: Any, path: str) -> None:
        """Data 2.4.6: the language of the context, an RFC 5646 tag."""
        self.string(value, path)
        self.check(p.is_language_tag, value, path, "an RFC 5646 language tag (Data 2.4.6)")

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
                raise fail(f"{path}.relevantTypes", "must be a non-empty array of IRIs")
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
            raise fail(path, f"must be an array, got {show(value)}")
        kind = f"context{member.capitalize()}"
        for i, item in enumerate(value):
            where = f"{path}[{i}]"
            self.object(
                item, where, ("objectType", member, "relevantTypes"), ("objectType", member)
            )
            if item["objectType"] != kind:
                raise fail(f"{where}.objectType", f"must be {kind!r}")
            check(item[member], f"{where}.{member}")
            self.relevant_types(item, where)
