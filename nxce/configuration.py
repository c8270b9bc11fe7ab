"""The configuration `nxce serve` checks before it starts the server.

A setting that cannot be used stops the command with one line per setting on standard
error, naming the variable, its value and what is expected (`settings.ConfigError`), exit
status 2, as a wrong keyring does (`secret.check`). Without this, each such setting failed
somewhere in the start with a traceback: pydantic's report of every field, a data
directory that is a file when the store opens it, a font reportlab cannot read in the
lifespan, a MongoDB URL the driver refuses (`db.connect` raises `ConfigError` for that).

What is checked here is what the files of the configuration say; whether MongoDB or
Meilisearch answer is the start's business (they may come up after the service).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from pydantic import ValidationError

from nxce.settings import ConfigError, Settings, get_settings


class ConfigErrors(Exception):
    """Every setting that cannot be used (one `ConfigError` each)."""

    def __init__(self, problems: list[ConfigError]) -> None:
        self.problems = problems
        super().__init__("; ".join(str(p) for p in problems))


def settings() -> Settings:
    """The settings of this process (`get_settings`); ConfigErrors naming each variable
    whose value does not validate."""
    try:
        return get_settings()
    except ValidationError as error:
        raise ConfigErrors([_problem(e) for e in error.errors()]) from None


def _problem(error: Any) -> ConfigError:
    name = str(error["loc"][0]) if error["loc"] else "?"
    value = error.get("input")
    message = str(error["msg"]).removeprefix("Value error, ")
    message = message.removesuffix(f", got {value!r}")  # the line shows the value first
    for said in ("Input should be ", "String should have "):  # pydantic's own checks
        if message.startswith(said):
            message = "expected " + message.removeprefix(said)
    return ConfigError(name, value, message)


def check(settings: Settings) -> None:
    """The files the settings name are usable: ConfigErrors naming each that is not.
    Makes nothing (the data directory is made by the start when missing)."""
    found = (_data_dir(settings), _pdf_font(settings), _policy_dir(settings))
    problems = [problem for problem in found if problem is not None]
    if problems:
        raise ConfigErrors(problems)


def _data_dir(settings: Settings) -> ConfigError | None:
    path = settings.data_dir
    if path.exists() and not path.is_dir():
        return ConfigError("data_dir", path, "expected a directory (made when missing)")
    return None


def _pdf_font(settings: Settings) -> ConfigError | None:
    from transcripts.formats import pdf

    path = settings.pdf_font
    if path is None:
        return None
    wrong = partial(ConfigError, "pdf_font", path)
    if not path.is_file():
        return wrong("expected a TrueType font file (.ttf or .ttc): there is no such file")
    try:
        pdf.font_name(path)  # registered once more by the start: cheap, and the same check
    except Exception as error:  # reportlab's own errors, OSError: a font it cannot read
        return wrong(f"expected a TrueType font file (.ttf or .ttc), not read: {error}")
    return None


def _policy_dir(settings: Settings) -> ConfigError | None:
    from credits.policy import Policies, PolicyError

    path = settings.policy_dir
    if path is None:
        return None
    if not path.is_dir():
        return ConfigError("policy_dir", path, "expected a directory of credit-hour policies")
    try:
        Policies(path)
    except PolicyError as error:
        return ConfigError("policy_dir", path, f"a policy file is wrong: {error}")
    return None
