"""Actors (Data 2.4.2): Agents, Groups and their identifiers, and the authority (2.4.9)."""

from __future__ import annotations

from typing import Any

from lrs.statements import primitives as p
from lrs.statements.validation.values import ValueChecker, fail, show


class ActorChecker(ValueChecker):
    """Agents and Groups, wherever a statement or a request names one."""

    def agent(self, value: Any, path: str, *, object_type_required: bool = False) -> None:
        """Data 2.4.2.1: an Agent has exactly one IFI."""
        allowed = ("objectType", "name", "mbox", "mbox_sha1sum", "openid", "account")
        self.object(value, path, allowed)
        if object_type_required and "objectType" not in value:
            raise fail(f"{path}.objectType", "is required here (Data 2.4.4.2)")
        if "objectType" in value and value["objectType"] != "Agent":
            raise fail(f"{path}.objectType", f"must be 'Agent', got {show(value['objectType'])}")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        if self.ifis(value, path) != 1:
            raise fail(
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
            raise fail(f"{path}.objectType", f"must be 'Group', got {show(value['objectType'])}")
        if "name" in value:
            self.string(value["name"], f"{path}.name")
        count = self.ifis(value, path)
        if count > 1:
            raise fail(path, "a Group has at most one IFI (Data 2.4.2.2)")
        if "member" in value:
            members = value["member"]
            if not isinstance(members, list):
                raise fail(f"{path}.member", f"must be an array, got {show(members)}")
            for i, member in enumerate(members):
                if isinstance(member, dict) and member.get("objectType") == "Group":
                    raise fail(f"{path}.member[{i}]", "a Group cannot be a member (Data 2.4.2.2)")
                self.agent(member, f"{path}.member[{i}]")
        if count == 0 and not value.get("member"):
            raise fail(f"{path}.member", "an anonymous Group must list its members (Data 2.4.2.2)")

    def actor(self, value: Any, path: str, *, object_type_required: bool = False) -> None:
        if isinstance(value, dict) and value.get("objectType") == "Group":
            self.group(value, path)
        else:
            self.agent(value, path, object_type_required=object_type_required)

    def authority(self, value: Any, path: str) -> None:
        """Data 2.4.9: an Agent, or an anonymous Group of exactly two Agents (an OAuth
        consumer and a user)."""
        self.actor(value, path)
        if isinstance(value, dict) and value.get("objectType") == "Group":
            if any(key in value for key in ("mbox", "mbox_sha1sum", "openid", "account")):
                raise fail(
                    path,
                    "an authority Group is anonymous: an OAuth consumer and a "
                    "user, no identifier of its own (Data 2.4.9)",
                )
            members = value.get("member") or []
            if len(members) != 2:
                raise fail(
                    f"{path}.member", "an authority Group has exactly two Agents (Data 2.4.9)"
                )
