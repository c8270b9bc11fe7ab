"""Settings from `NXCE_*` environment variables (documented in the README).

A setting that cannot be used is a `ConfigError`: one line naming the variable, its value
(never a secret's) and what is expected, which `nxce serve` prints before it starts the
server (`nxce.configuration`), rather than a traceback from deep in the start.
"""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from nxce.core.hosts import LOOPBACK, Host
from nxce.core.hosts import parse as parse_host

# A client key (the HTTP Basic user name); nxce.clients checks keys against it too.
KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{2,63}$")
LOG_LEVELS = ("critical", "error", "warning", "info", "debug")
MONGODB_SCHEMES = ("mongodb://", "mongodb+srv://")
# Settings whose value is never printed: keys, and the bootstrap admin's password.
SECRET_SETTINGS = frozenset({"secret_key", "secret_keys_previous", "bootstrap_admin", "meili_key"})
_URL_PASSWORD = re.compile(r"(://[^/@:]*:)[^/@]*@")
_SHOWN = 120  # characters of a value a message shows


class ConfigError(Exception):
    """A setting that cannot be used: its variable, its value and what is expected."""

    def __init__(self, name: str, value: object, expected: str) -> None:
        self.variable = f"NXCE_{name.upper()}"
        self.value = shown(name, value)
        self.expected = " ".join(expected.split())  # one line, whatever a library said
        super().__init__(f"{self.variable}={self.value}: {self.expected}")


def shown(name: str, value: object) -> str:
    """A setting's value as a message may show it: a secret not at all, a URL without its
    password, a long value cut; on one line (`repr`)."""
    if name in SECRET_SETTINGS:
        return "(not shown: it holds a secret)"
    text = _URL_PASSWORD.sub(r"\1***@", str(value))
    if len(text) > _SHOWN:
        text = text[:_SHOWN] + "…"
    return repr(text)


class Settings(BaseSettings):
    """Every setting of the service; each maps to `NXCE_<NAME>`."""

    model_config = SettingsConfigDict(env_prefix="NXCE_", extra="ignore")

    mongodb_url: str | None = Field(
        default=None,
        description="MongoDB connection string; unset means the embedded store (kept in "
        "NXCE_DATA_DIR/store.sqlite3).",
    )
    database: str = Field(default="nxce", description="MongoDB database name.")
    data_dir: Path = Field(
        default=Path("data"),
        description="Directory of local files: the embedded store's data (store.sqlite3, "
        "held by one process at a time through store.lock), clients handed over to a running "
        "service (clients.json, applied once), secret.key, the embedded search index, and the "
        "backups and dumps the service makes (backups/, dumps/).",
    )
    embedded_in_memory: bool = Field(
        default=False,
        description="Keep the embedded store in memory only (tests, throwaway demos): "
        "nothing it holds survives a stop.",
    )
    platform_home_page: str = Field(
        default="https://nxce.example",
        description="The xAPI account homePage of learners' platform accounts.",
    )
    activity_base: str = Field(
        default="https://nxce.example/xapi/activities/course",
        description="IRI base of course activities; a course's activity_id is <base>/<code>.",
    )
    bootstrap_admin: str | None = Field(
        default=None,
        description="user:password of an admin client created or updated at start.",
    )
    meili_url: str | None = Field(
        default=None,
        description="Meilisearch URL; unset means the embedded search engine.",
    )
    meili_key: str | None = Field(default=None, description="Meilisearch API key.")
    meili_index: str = Field(default="courses", description="Meilisearch index of courses.")
    secret_key: SecretStr | None = Field(
        default=None,
        description="The current secret key: encrypts national id numbers and phones, signs "
        "transcript codes; unset, the keyring is kept in the data directory (secret.key).",
    )
    secret_keys_previous: SecretStr | None = Field(
        default=None,
        description="Previous secret keys, still accepted for reading and verifying after a "
        "rotation (separated by commas or new lines); new writes use NXCE_SECRET_KEY.",
    )
    policy_dir: Path | None = Field(
        default=None,
        description="A directory of extra credit-hour policies (TOML), beside the built-in ones.",
    )
    seed_fixtures: bool = Field(
        default=True,
        description="Load the fixture catalog at start when the catalog is empty.",
    )
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (413 beyond)."
    )
    max_xapi_body_bytes: int = Field(
        default=15 * 1_048_576,
        ge=1024,
        le=15 * 1_048_576,
        description="Largest request body on /xapi (statements with attachments, documents); "
        "at most 15 MiB, so one attachment or document fits a MongoDB document.",
    )
    public_url: str | None = Field(
        default=None,
        description="The service's public address (https://…), used in transcripts' "
        "verification links and QR codes; unset, the address the request came to, which "
        "NXCE_ALLOWED_HOSTS must list. Its host is always allowed.",
    )
    allowed_hosts: str | None = Field(
        default=None,
        max_length=2000,
        description="The host names the service answers for, comma-separated, each with an "
        "optional :port (without one, any port); a request naming another Host is a 400. "
        "Unset: localhost, 127.0.0.1 and [::1]. The host of NXCE_PUBLIC_URL is added.",
    )
    issuer_name: str = Field(
        default="宁夏专业技术人员继续教育平台",
        min_length=1,
        max_length=100,
        description="Who issues transcripts, as printed on them.",
    )
    pdf_font: Path | None = Field(
        default=None,
        description="A TrueType font (.ttf or .ttc) with Chinese glyphs to embed in PDF "
        "transcripts; unset, the standard CID font STSong-Light (not embedded).",
    )
    forwarded_allow_ips: str = Field(
        default="127.0.0.1",
        max_length=1000,
        description="Reverse proxies whose X-Forwarded-For/-Proto `nxce serve` trusts "
        "(comma-separated addresses, or *).",
    )
    log_level: str = Field(default="info", description="Log level of the service.")
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text (for a terminal) or one JSON object a line (for a log "
        "collector; docker-compose.yml sets it); every line of a request names its request id.",
    )
    metrics_allow: str = Field(
        default="127.0.0.1/32,::1/128",
        max_length=2000,
        description="Addresses and networks (CIDR, comma-separated) that may read GET /metrics "
        "without credentials; any other caller needs the admin scope.",
    )

    @field_validator("platform_home_page", "activity_base", "public_url")
    @classmethod
    def _absolute_iri(cls, value: str | None) -> str | None:
        if value is None:
            return None
        if not value.startswith(("http://", "https://")):
            raise ValueError(f"must be an absolute http(s) IRI, got {value!r}")
        return value.rstrip("/")

    @field_validator("mongodb_url")
    @classmethod
    def _mongodb_url(cls, value: str | None) -> str | None:
        # Empty is unset (the embedded store), as `embedded` reads it. The driver takes a
        # bare word for a host name and waits 30 s to find none: a scheme is required.
        if value and not value.startswith(MONGODB_SCHEMES):
            raise ValueError("expected a MongoDB connection string, mongodb://host:port/…")
        return value

    @field_validator("meili_url")
    @classmethod
    def _meili_url(cls, value: str | None) -> str | None:
        if value and not (value.startswith(("http://", "https://")) and urlsplit(value).netloc):
            raise ValueError("expected the Meilisearch address, http(s)://host:port")
        return value

    @field_validator("allowed_hosts")
    @classmethod
    def _host_list(cls, value: str | None) -> str | None:
        if value is None:
            return None
        entries = [entry.strip() for entry in value.split(",") if entry.strip()]
        if not entries:
            raise ValueError("must name at least one host (host or host:port, comma-separated)")
        for entry in entries:
            if parse_host(entry) is None:
                raise ValueError(
                    f"each entry must be a host name, an IPv4 address or a bracketed IPv6 "
                    f"address, with an optional :port, got {entry!r}"
                )
        return ",".join(str(parse_host(entry)) for entry in entries)

    @field_validator("bootstrap_admin")
    @classmethod
    def _user_password(cls, value: str | None) -> str | None:
        if value is None:
            return None
        user, sep, password = value.partition(":")
        if not sep or not KEY_PATTERN.match(user):
            raise ValueError(
                "must be user:password, the user 3-64 letters, digits or _.@- "
                "starting with a letter or digit"
            )
        if len(password) < 8:
            raise ValueError("password must have at least 8 characters")
        return value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value.lower() not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}, got {value!r}")
        return value.lower()

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",")):
            if not entry:
                continue
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(
                    f"each entry must be an IP address or a network in CIDR form "
                    f"(10.0.0.0/8, ::1/128), got {entry!r}"
                ) from None
        return value

    @property
    def metrics_networks(self) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
        """The networks NXCE_METRICS_ALLOW names (none: only the admin scope reads /metrics)."""
        entries = (e.strip() for e in self.metrics_allow.split(","))
        return tuple(ipaddress.ip_network(e, strict=False) for e in entries if e)

    @property
    def hosts(self) -> tuple[Host, ...]:
        """The hosts requests may name: NXCE_ALLOWED_HOSTS (else the loopback names), and
        the host of NXCE_PUBLIC_URL."""
        named = self.allowed_hosts.split(",") if self.allowed_hosts else LOOPBACK
        found = [h for h in map(parse_host, named) if h is not None]
        if self.public_url:
            public = parse_host(urlsplit(self.public_url).netloc.rpartition("@")[2])
            if public is not None and not any(h.admits(public) for h in found):
                found.append(Host(public.name))
        return tuple(found)

    @property
    def embedded(self) -> bool:
        """True when the data lives in the embedded store (durable or in memory)."""
        return not self.mongodb_url


@lru_cache
def get_settings() -> Settings:
    """The settings of this process, read once from the environment."""
    return Settings()
