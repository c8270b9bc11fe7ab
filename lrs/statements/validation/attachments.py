"""Attachments (Data 2.4.11)."""

from __future__ import annotations

from typing import Any

from lrs.statements import primitives as p
from lrs.statements.validation.values import ValueChecker, fail, show


class AttachmentChecker(ValueChecker):
    """The attachments of a statement or a SubStatement."""

    def attachments(self, value: Any, path: str) -> None:
        """Data 2.4.11: usageType, display, contentType, length and sha2 are required."""
        if not isinstance(value, list):
            raise fail(path, f"must be an array, got {show(value)}")
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
                raise fail(f"{where}.length", f"must not be negative, got {length}")
            self.string(item["sha2"], f"{where}.sha2")
            self.check(
                p.is_sha2, item["sha2"], f"{where}.sha2", "a SHA-2 sum in hexadecimal (Data 2.4.11)"
            )
            if "fileUrl" in item:
                self.iri(item["fileUrl"], f"{where}.fileUrl")
