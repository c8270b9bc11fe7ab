"""Verbs (Data 2.4.3) and Activities (2.4.4.1) with their definitions and interaction
components."""

from __future__ import annotations

from typing import Any

from lrs.statements.validation.values import ValueChecker, fail, show

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


class ActivityChecker(ValueChecker):
    """The verb, and Activities as object or in contextActivities."""

    def verb(self, value: Any, path: str) -> None:
        self.object(value, path, ("id", "display"), ("id",))
        self.iri(value["id"], f"{path}.id")
        if "display" in value:
            self.language_map(value["display"], f"{path}.display")

    def activity(self, value: Any, path: str) -> None:
        self.object(value, path, ("objectType", "id", "definition"), ("id",))
        if "objectType" in value and value["objectType"] != "Activity":
            raise fail(f"{path}.objectType", f"must be 'Activity', got {show(value['objectType'])}")
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
        self.interaction(value, path)

    def interaction(self, value: dict[str, Any], path: str) -> None:
        """Data 2.4.4.1: interactionType, correctResponsesPattern and the components the
        interaction type carries."""
        kind = value.get("interactionType")
        if kind is not None and kind not in INTERACTION_TYPES:
            raise fail(
                f"{path}.interactionType",
                f"must be one of {', '.join(INTERACTION_TYPES)}, got {show(kind)} (Data 2.4.4.1)",
            )
        if "correctResponsesPattern" in value:
            self.correct_responses(value["correctResponsesPattern"], kind, path)
        for component in ALL_COMPONENTS:
            if component not in value:
                continue
            if kind is None or component not in COMPONENTS.get(kind, ()):
                raise fail(
                    f"{path}.{component}",
                    f"is not a component of interactionType {show(kind)} (Data 2.4.4.1)",
                )
            self.components(value[component], f"{path}.{component}")

    def correct_responses(self, pattern: Any, kind: Any, path: str) -> None:
        """Data 2.4.4.1: correctResponsesPattern, an array of strings, needs an
        interactionType."""
        if kind is None:
            raise fail(f"{path}.correctResponsesPattern", "needs an interactionType (Data 2.4.4.1)")
        if not isinstance(pattern, list):
            raise fail(f"{path}.correctResponsesPattern", "must be an array of strings")
        for i, item in enumerate(pattern):
            self.string(item, f"{path}.correctResponsesPattern[{i}]")

    def components(self, value: Any, path: str) -> None:
        if not isinstance(value, list):
            raise fail(path, f"must be an array of interaction components, got {show(value)}")
        seen: set[str] = set()
        for i, component in enumerate(value):
            where = f"{path}[{i}]"
            self.object(component, where, ("id", "description"), ("id",))
            self.string(component["id"], f"{where}.id")
            if component["id"] in seen:
                raise fail(
                    f"{where}.id", "interaction component ids must be distinct (Data 2.4.4.1)"
                )
            seen.add(component["id"])
            if "description" in component:
                self.language_map(component["description"], f"{where}.description")
