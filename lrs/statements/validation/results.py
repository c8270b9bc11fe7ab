"""Results and scores (Data 2.4.5)."""

from __future__ import annotations

from typing import Any

from lrs.statements import primitives as p
from lrs.statements.validation.values import ValueChecker, fail


class ResultChecker(ValueChecker):
    """The result of a statement and its score."""

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
            raise fail(f"{path}.scaled", f"must be between -1 and 1, got {scaled:g} (Data 2.4.5.1)")
        low, high, raw = numbers.get("min"), numbers.get("max"), numbers.get("raw")
        if low is not None and high is not None and low >= high:
            raise fail(
                f"{path}.min", f"must be less than max, got {low:g} and {high:g} (Data 2.4.5.1)"
            )
        if raw is not None and low is not None and raw < low:
            raise fail(f"{path}.raw", f"must not be below min, got {raw:g} < {low:g}")
        if raw is not None and high is not None and raw > high:
            raise fail(f"{path}.raw", f"must not be above max, got {raw:g} > {high:g}")
