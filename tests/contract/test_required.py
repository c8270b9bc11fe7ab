"""NXCE_CONTRACT_REQUIRED=1 turns a contract test's skip into a failure (and only then).

Each case runs pytest in a subprocess on a small test directory whose conftest imports the
hook, as tests/contract and tests/search do."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.contract.required import required

ROOT = Path(__file__).resolve().parents[2]

CONFTEST = "from tests.contract.required import pytest_runtest_makereport  # noqa: F401\n"
TESTS = """
import pytest


@pytest.fixture
def server():
    pytest.skip("NXCE_MONGODB_URL is not set: no MongoDB server (测试)")


def test_against_the_server(server):
    assert server is None


@pytest.mark.skipif(True, reason="no Meilisearch")
def test_marked_skip():
    pass


@pytest.mark.xfail(reason="a known gap", strict=True)
def test_expected_failure():
    assert False


def test_runs():
    assert "课程" == "课程"
"""


def run(tmp_path: Path, **environ: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "conftest.py").write_text(CONFTEST, encoding="utf-8")
    (tmp_path / "test_cases.py").write_text(TESTS, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if k != "NXCE_CONTRACT_REQUIRED"}
    env.update(environ, PYTHONPATH=str(ROOT), COLUMNS="300")
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rA", "-o", "addopts=", "-p", "no:cacheprovider"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_without_the_variable_a_contract_test_skips(tmp_path: Path) -> None:
    result = run(tmp_path)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed, 2 skipped, 1 xfailed" in result.stdout


def test_with_the_variable_a_skip_fails_naming_its_reason(tmp_path: Path) -> None:
    result = run(tmp_path, NXCE_CONTRACT_REQUIRED="1")
    assert result.returncode == 1, result.stdout + result.stderr
    # both skip while setting up (a fixture, a skipif mark): reported as errors
    assert "1 passed, 1 xfailed, 2 errors" in result.stdout, result.stdout
    assert "yet this contract test skipped: NXCE_MONGODB_URL is not set" in result.stdout
    assert "yet this contract test skipped: no Meilisearch" in result.stdout


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("true", True), ("YES", True), ("0", False), ("", False), ("no", False)],
)
def test_the_variable_is_read_as_a_yes_or_no(value: str, expected: bool) -> None:
    assert required({"NXCE_CONTRACT_REQUIRED": value}) is expected
    assert required({}) is False
