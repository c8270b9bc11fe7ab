"""Validation of xAPI Statements (Data 2.2-2.4, 4; xAPI 2.0 4.2), for 1.0.3 and 2.0.0.

Every rule is a check that names the property and, in its message, the clause. A failed
check raises `StatementInvalid`, which the API answers with 400 naming the path of the
property (`statements[2].context.instructor.mbox`) and why. The checks of each part of a
statement live in the module named for it; this one puts them together.
"""

from __future__ import annotations

from typing import Any

from lrs.statements.validation.attachments import AttachmentChecker
from lrs.statements.validation.context import ContextChecker
from lrs.statements.validation.results import ResultChecker
from lrs.statements.validation.values import fail, show
from lrs.versions import XapiVersion, statement_version_ok

VOIDED = "http://adlnet.gov/expapi/verbs/voided"


class StatementChecker(ContextChecker, ResultChecker, AttachmentChecker):
    """A whole Statement: its object, a SubStatement, and what both share."""

    def statement_object(self, value: Any, path: str, *, in_substatement: bool) -> None:
        """Data 2.4.4: an Activity (the default), Agent, Group, StatementRef or SubStatement."""
        if not isinstance(value, dict):
            raise fail(path, f"must be a JSON object, got {show(value)} (Data 2.4.4)")
        kind = value.get("objectType", "Activity")
        if kind == "Activity":
            self.activity(value, path)
        elif kind in ("Agent", "Group"):
            self.actor(value, path, object_type_required=True)
        elif kind == "StatementRef":
            self.statement_ref(value, path)
        elif kind == "SubStatement":
            if in_substatement:
                raise fail(
                    f"{path}.objectType",
                    "a SubStatement cannot contain a SubStatement (Data 2.4.4.3)",
                )
            self.substatement(value, path)
        else:
            raise fail(
                f"{path}.objectType",
                f"must be Activity, Agent, Group, StatementRef or SubStatement, got {show(kind)}",
            )

    def substatement(self, value: dict[str, Any], path: str) -> None:
        """Data 2.4.4.3: no id, stored, version or authority; no nested SubStatement."""
        for key in ("id", "stored", "version", "authority"):
            if key in value:
                raise fail(f"{path}.{key}", "a SubStatement must not have it (Data 2.4.4.3)")
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
                raise fail(
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
            if not statement_version_ok(value["version"], self.version):
                allowed_versions = "1.0.x or 2.0.x" if self.version.is_2 else "1.0.x"
                raise fail(
                    f"{path}.version",
                    f"must be {allowed_versions}, got {show(value['version'])} (Data 2.4.10)",
                )


def validate(statement: Any, version: XapiVersion, path: str = "statement") -> None:
    """Raise `StatementInvalid` unless `statement` is a valid Statement for `version`."""
    StatementChecker(version).statement(statement, path)
