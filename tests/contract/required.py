"""NXCE_CONTRACT_REQUIRED=1 (CI's contract job): a skipped contract test is a failure.

Here, without MongoDB or Meilisearch, the contract tests skip and say why. Where the
servers are meant to be there, a skip would hide that a suite never ran, so the report of
a skipped test is turned into a failure naming the reason. An expected failure (xfail)
stays what it is. The conftest of each contract directory imports the hook below.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from typing import Any

import pytest

VARIABLE = "NXCE_CONTRACT_REQUIRED"


def required(environ: dict[str, str] | os._Environ[str] = os.environ) -> bool:
    """Whether contract tests must run: NXCE_CONTRACT_REQUIRED is 1, true or yes."""
    return environ.get(VARIABLE, "").strip().lower() in {"1", "true", "yes"}


def skip_reason(report: pytest.TestReport) -> str:
    """The reason a skip report gives."""
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[Any]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if report.skipped and not hasattr(report, "wasxfail") and required():
        report.outcome = "failed"
        report.longrepr = f"{VARIABLE}=1, yet this contract test skipped: {skip_reason(report)}"
