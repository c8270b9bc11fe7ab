"""Agents and Groups: their inverse functional identifiers (IFIs), and the keys that
queries match them by (xAPI Data 2.4.2.3, Communication 2.1.3 `agent`)."""

from __future__ import annotations

from typing import Any

IFI_PROPERTIES = ("mbox", "mbox_sha1sum", "openid", "account")


def normalized_mbox(mbox: Any) -> Any:
    """`mailto:Name@Example.COM` as `mailto:Name@example.com`: the scheme and the domain of
    an e-mail address are case-insensitive (Data 2.3.1), the local part is kept."""
    if not isinstance(mbox, str) or "@" not in mbox:
        return mbox
    scheme, _, address = mbox.partition(":")
    local, _, domain = address.rpartition("@")
    return f"{scheme.lower()}:{local}@{domain.lower()}"


def ifi_key(agent: dict[str, Any]) -> str | None:
    """One string for the IFI of an Agent or identified Group (None when it has none).

    Agents are equal when they use the same IFI with equal values; an account is its
    homePage and name together.
    """
    if "mbox" in agent:
        return f"mbox:{normalized_mbox(agent['mbox'])}"
    if "mbox_sha1sum" in agent:
        return f"mbox_sha1sum:{str(agent['mbox_sha1sum']).lower()}"
    if "openid" in agent:
        return f"openid:{agent['openid']}"
    account = agent.get("account")
    if isinstance(account, dict):
        return f"account:{account.get('homePage')}|{account.get('name')}"
    return None


def keys(actor: dict[str, Any] | None) -> set[str]:
    """The keys an `agent` filter matches this Agent or Group by: its own IFI and, for a
    Group, its members' (Communication 2.1.3: groups whose members match are a match)."""
    if not isinstance(actor, dict):
        return set()
    found = set()
    own = ifi_key(actor)
    if own:
        found.add(own)
    if actor.get("objectType") == "Group":
        for member in actor.get("member") or []:
            if isinstance(member, dict):
                key = ifi_key(member)
                if key:
                    found.add(key)
    return found


def only_ifi(agent: dict[str, Any]) -> dict[str, Any]:
    """The Agent or Group reduced to what identifies it (the `ids` format)."""
    reduced: dict[str, Any] = {}
    if "objectType" in agent:
        reduced["objectType"] = agent["objectType"]
    for name in IFI_PROPERTIES:
        if name in agent:
            reduced[name] = agent[name]
            break
    if agent.get("objectType") == "Group" and ifi_key(agent) is None:
        reduced["member"] = [only_ifi(m) for m in agent.get("member") or []]
    return reduced


def authority(*, key: str, name: str, home_page: str) -> dict[str, Any]:
    """The authority the LRS records for statements a client sends (Data 2.4.9)."""
    return {
        "objectType": "Agent",
        "name": name,
        "account": {"homePage": home_page, "name": key},
    }


def learner_keys(home_page: str, learner_id: str) -> list[str]:
    """The keys statements give a platform learner's account (`account.homePage` is the
    platform's home page, `account.name` the learner id), with the home page written with
    or without a final slash."""
    home = home_page.rstrip("/")
    return [
        str(ifi_key({"account": {"homePage": page, "name": learner_id}}))
        for page in (home, home + "/")
    ]
