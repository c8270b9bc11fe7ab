"""`nxce serve` stops before it starts the server on a setting that cannot be used: one
line on standard error per setting, naming the variable, its value (never a secret's)
and what is expected, exit status 2, nothing made."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import uvicorn
from click.testing import Result

from tests.nxce.test_store_archive import nxce

ROOT = Path(__file__).parents[2]


@pytest.fixture(autouse=True)
def no_server(monkeypatch: pytest.MonkeyPatch) -> None:
    """A setting these tests expect refused but accepted fails the test, not starts a
    server that never stops."""

    def run(*args: object, **kwargs: object) -> None:
        pytest.fail("the server started: the setting was accepted")

    monkeypatch.setattr(uvicorn, "run", run)


@pytest.fixture(autouse=True)
def logging_kept() -> Iterator[None]:
    """`nxce serve` configures the root logger onto the stream it is given (the runner's,
    closed after the test) before it opens the store: put the loggers back as they were,
    or a later test's output would hold the logging errors of writing to it."""
    root = logging.getLogger()
    named = [logging.getLogger(n) for n in ("uvicorn", "uvicorn.error", "uvicorn.access")]
    kept = (list(root.handlers), root.level, [(list(n.handlers), n.propagate) for n in named])
    yield
    root.handlers[:] = kept[0]
    root.setLevel(kept[1])
    for logger, (handlers, propagate) in zip(named, kept[2], strict=True):
        logger.handlers[:] = handlers
        logger.propagate = propagate


def _refused(result: Result) -> list[str]:
    """The lines the refusal printed: exit status 2, no traceback."""
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    return result.output.splitlines()


@pytest.mark.parametrize(
    ("variable", "value", "said"),
    [
        ("NXCE_LOG_FORMAT", "xml", "NXCE_LOG_FORMAT='xml': expected 'text' or 'json'"),
        ("NXCE_LOG_LEVEL", "loud", "NXCE_LOG_LEVEL='loud': must be one of critical,"),
        ("NXCE_MAX_BODY_BYTES", "一兆", "NXCE_MAX_BODY_BYTES='一兆': expected a valid integer"),
        ("NXCE_PUBLIC_URL", "ftp://nxce.example", "must be an absolute http(s) IRI"),
        ("NXCE_PDF_FONT", "{tmp}/simsun.ttc", "='{tmp}/simsun.ttc': expected a TrueType font"),
        ("NXCE_PDF_FONT", "{tmp}/notes.txt", "expected a TrueType font file (.ttf or .ttc), not"),
        ("NXCE_MONGODB_URL", "db.example", "NXCE_MONGODB_URL='db.example': expected a MongoDB"),
        ("NXCE_MONGODB_URL", "mongodb://nxce:p4ss@db:99999", "'mongodb://nxce:***@db:99999'"),
        ("NXCE_DATA_DIR", "{tmp}/notes.txt", "='{tmp}/notes.txt': expected a directory"),
        ("NXCE_POLICY_DIR", "{tmp}/policies", "='{tmp}/policies': expected a directory of"),
        ("NXCE_POLICY_DIR", "{tmp}/bad", "credit-hour policy {tmp}/bad/2030.toml"),
        ("NXCE_MEILI_URL", "meili:7700", "NXCE_MEILI_URL='meili:7700': expected the Meili"),
    ],
)
def test_serve_refuses_a_setting_that_cannot_be_used_in_one_line_naming_it(
    tmp_path: Path, variable: str, value: str, said: str
) -> None:
    (tmp_path / "notes.txt").write_text("不是字体", encoding="utf-8")
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "2030.toml").write_text("id = [", encoding="utf-8")
    data = tmp_path / "data"
    value, said = value.format(tmp=tmp_path), said.format(tmp=tmp_path)
    result = nxce(data, "serve", "--no-demo", **{variable: value})
    lines = _refused(result)
    assert len(lines) == 1 and lines[0].startswith(f"nxce: {variable}="), lines
    assert said in lines[0]
    assert "p4ss" not in lines[0]  # a URL's password is never shown
    assert not data.exists()  # the data directory is not made, no key written


def test_a_secret_setting_is_named_without_its_value(tmp_path: Path) -> None:
    result = nxce(tmp_path / "data", "serve", NXCE_BOOTSTRAP_ADMIN="admin:short")
    (line,) = _refused(result)
    assert line.startswith("nxce: NXCE_BOOTSTRAP_ADMIN=(not shown: it holds a secret): ")
    assert "short" not in line.split(": ", 2)[2]


def test_every_setting_that_cannot_be_used_is_named_each_on_its_line(tmp_path: Path) -> None:
    result = nxce(tmp_path / "data", "serve", NXCE_LOG_FORMAT="xml", NXCE_MAX_BODY_BYTES="10")
    lines = _refused(result)
    assert sorted(line.split("=")[0] for line in lines) == [
        "nxce: NXCE_LOG_FORMAT",
        "nxce: NXCE_MAX_BODY_BYTES",
    ]


def test_python_m_nxce_serve_stops_before_the_server_with_status_2(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NXCE_")} | {
        "PYTHONPATH": str(ROOT),
        "NXCE_DATA_DIR": str(tmp_path / "data"),
        "NXCE_PDF_FONT": str(tmp_path / "missing.ttf"),
    }
    done = subprocess.run(
        [sys.executable, "-m", "nxce", "serve", "--port", "1", "--no-demo"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr == (
        f"nxce: NXCE_PDF_FONT='{tmp_path}/missing.ttf': expected a TrueType font file "
        "(.ttf or .ttc): there is no such file\n"
    )
    assert done.stdout == ""


def test_store_load_names_a_mongodb_url_the_driver_refuses(tmp_path: Path) -> None:
    archive = Path(__file__).parents[1] / "data" / "previous" / "archive"
    url = "mongodb://nxce:p4ss@db.example:99999"
    result = nxce(tmp_path / "data", "store", "load", str(archive), NXCE_MONGODB_URL=url)
    (line,) = _refused(result)
    assert line.startswith("nxce: NXCE_MONGODB_URL='mongodb://nxce:***@db.example:99999': ")
