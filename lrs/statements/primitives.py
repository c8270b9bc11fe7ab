"""Checks of xAPI's primitive value formats: IRIs, UUIDs, timestamps, durations, language
tags, mailto IRIs, SHA-1 and SHA-2 sums. Each names its clause of the specification."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone

# RFC 3987 in spirit (Data 2.2: "IRI values without a scheme" are rejected): a scheme, then
# no white space, no control characters and none of the characters IRIs exclude.
_IRI = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s<>\"{}|\\^`\x00-\x1f\x7f]+$")
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
# The domain is labels separated by single dots, so the pattern cannot backtrack.
_MAILTO = re.compile(r"^mailto:[^@\s:/?#]+@[^@\s/?#.]+(?:\.[^@\s/?#.]+)+$", re.IGNORECASE)
MAX_IFI_CHARS = 320  # RFC 5321's longest address, and then some
_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_SHA2 = re.compile(r"^[0-9a-fA-F]{56}$|^[0-9a-fA-F]{64}$|^[0-9a-fA-F]{96}$|^[0-9a-fA-F]{128}$")

# ISO 8601 date and time with seconds (fractions allowed) and an offset or Z; Data 4.5 asks
# for a time zone, and for offsets other than -00:00 (RFC 3339 unknown local offset).
_TIMESTAMP = re.compile(
    r"^(?P<date>\d{4}-\d{2}-\d{2})[Tt](?P<time>\d{2}:\d{2}:\d{2})(?P<fraction>\.\d+)?"
    r"(?P<zone>[Zz]|[+-]\d{2}:?\d{2}|[+-]\d{2})$"
)

# ISO 8601 durations (Data 4.6): PnYnMnDTnHnMnS (the last unit may have a fraction) or PnW.
_DURATION = re.compile(
    r"^P(?!$)(\d+(\.\d+)?Y)?(\d+(\.\d+)?M)?(\d+(\.\d+)?D)?"
    r"(T(?=\d)(\d+(\.\d+)?H)?(\d+(\.\d+)?M)?(\d+(\.\d+)?S)?)?$|^P\d+(\.\d+)?W$"
)

# RFC 5646 language tags (Data 4.2): language[-script][-region][-variant]*[-extension]*
# [-privateuse], grandfathered tags aside; checked as the sequence of subtag lengths.
_LANGUAGE_TAG = re.compile(
    r"^(?:"
    r"(?P<language>[A-Za-z]{2,3}(?:-[A-Za-z]{3}){0,3}|[A-Za-z]{4}|[A-Za-z]{5,8})"
    r"(?:-[A-Za-z]{4})?"
    r"(?:-(?:[A-Za-z]{2}|\d{3}))?"
    r"(?:-(?:[A-Za-z0-9]{5,8}|\d[A-Za-z0-9]{3}))*"
    r"(?:-[0-9A-WY-Za-wy-z](?:-[A-Za-z0-9]{2,8})+)*"
    r"(?:-[Xx](?:-[A-Za-z0-9]{1,8})+)?"
    r"|[Xx](?:-[A-Za-z0-9]{1,8})+"
    r"|i-[A-Za-z]{2,8}|[A-Za-z]{2}-[A-Za-z]{2,8}-[A-Za-z]{2,8}"
    r")$"
)

# Internet media types (Data 2.4.11 contentType): type/subtype, parameters allowed.
_MEDIA_TYPE = re.compile(r"[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+([ \t]*;[^\x00-\x1f\x7f]*)?")
MAX_MEDIA_TYPE = 255


def is_iri(value: object) -> bool:
    """An absolute IRI (Data 4.4): a scheme and a body without spaces."""
    return isinstance(value, str) and bool(_IRI.match(value))


def is_uuid(value: object) -> bool:
    """A UUID in its 8-4-4-4-12 hexadecimal form (Data 4.1)."""
    return isinstance(value, str) and bool(_UUID.match(value))


def is_mailto(value: object) -> bool:
    """`mailto:` and one e-mail address (Data 2.4.2.3 mbox)."""
    return isinstance(value, str) and len(value) <= MAX_IFI_CHARS and bool(_MAILTO.match(value))


def is_sha1(value: object) -> bool:
    return isinstance(value, str) and bool(_SHA1.match(value))


def is_sha2(value: object) -> bool:
    """A SHA-224/256/384/512 sum in hexadecimal (Data 2.4.11 sha2)."""
    return isinstance(value, str) and bool(_SHA2.match(value))


def is_language_tag(value: object) -> bool:
    """An RFC 5646 language tag (Data 4.2 language maps, context.language)."""
    return isinstance(value, str) and bool(_LANGUAGE_TAG.match(value))


def is_media_type(value: object) -> bool:
    return (
        isinstance(value, str)
        and len(value) <= MAX_MEDIA_TYPE
        and _MEDIA_TYPE.fullmatch(value) is not None
    )


def is_duration(value: object) -> bool:
    """An ISO 8601 duration (Data 4.6)."""
    return isinstance(value, str) and len(value) <= 64 and bool(_DURATION.match(value))


def parse_timestamp(value: object) -> datetime | None:
    """The instant an ISO 8601 timestamp with a time zone names (Data 4.5); None when it is
    not one. `-00:00` (RFC 3339's "offset unknown") is refused."""
    if not isinstance(value, str):
        return None
    match = _TIMESTAMP.match(value)
    if match is None:
        return None
    zone = match["zone"]
    if zone in ("-00:00", "-0000", "-00"):
        return None
    fraction = (match["fraction"] or ".0")[1:]
    try:
        moment = datetime.fromisoformat(f"{match['date']}T{match['time']}")
    except ValueError:
        return None
    if zone in ("Z", "z"):
        offset = UTC
    else:
        digits = zone[1:].replace(":", "")
        hours, minutes = int(digits[:2]), int(digits[2:] or 0)
        if hours > 23 or minutes > 59:
            return None
        delta = timedelta(hours=hours, minutes=minutes)
        offset = timezone(delta if zone[0] == "+" else -delta)
    microseconds = int((fraction + "000000")[:6])
    moment = moment.replace(microsecond=microseconds, tzinfo=offset)
    try:
        moment.astimezone(UTC)  # 0001-01-01T00:00+01:00 has no UTC instant in range
    except OverflowError:
        return None
    return moment


def format_timestamp(moment: datetime) -> str:
    """A UTC timestamp with microseconds, as the LRS writes `stored` (Data 2.4.8)."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def utc_text(value: str) -> str:
    """A valid timestamp re-written in UTC, keeping its precision (2.0: 4.2.4.2)."""
    moment = parse_timestamp(value)
    assert moment is not None
    match = _TIMESTAMP.match(value)
    assert match is not None
    fraction = match["fraction"] or ""
    utc = moment.astimezone(UTC)
    whole = utc.strftime("%Y-%m-%dT%H:%M:%S")
    if fraction:
        digits = fraction[1:]
        micro = f"{utc.microsecond:06d}"
        fraction = "." + (micro[: len(digits)] if len(digits) <= 6 else micro + digits[6:])
    return f"{whole}{fraction}Z"
