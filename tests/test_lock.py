"""The lock files (pip-tools, with hashes) cover what pyproject.toml declares, and CI and
the image install from them (the project itself then without its dependencies)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def normal(name: str) -> str:
    """A distribution name as PEP 503 compares them."""
    return re.sub(r"[-_.]+", "-", name).lower()


def declared(*extras: str) -> set[str]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    requirements = list(project["dependencies"])
    for extra in extras:
        requirements += project["optional-dependencies"][extra]
    return {normal(re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0]) for r in requirements}


def pinned(lock: str) -> dict[str, int]:
    """Each pinned distribution of a lock file and how many hashes it lists."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    found: dict[str, int] = {}
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        pin = re.match(r"([A-Za-z0-9_.\-]+)==\S+", block)
        if pin:
            found[normal(pin.group(1))] = len(re.findall(r"--hash=sha256:[0-9a-f]{64}", block))
    return found


def test_the_runtime_lock_pins_every_dependency_with_hashes() -> None:
    pins = pinned("requirements.lock")
    assert declared() <= set(pins), declared() - set(pins)
    assert not {"pytest", "ruff", "mypy", "playwright", "import-linter"} & set(pins)  # tools
    assert all(count >= 1 for count in pins.values()), pins


def test_the_test_lock_pins_runtime_and_test_dependencies_alike() -> None:
    pins = pinned("requirements-test.lock")
    assert declared("test") <= set(pins), declared("test") - set(pins)
    assert all(count >= 1 for count in pins.values())
    runtime = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    test = (ROOT / "requirements-test.lock").read_text(encoding="utf-8")
    for name, version in re.findall(r"^([A-Za-z0-9_.\-]+)==(\S+)", runtime, re.MULTILINE):
        assert f"\n{name}=={version} " in test, f"{name} pinned apart: {version}"


def test_ci_and_the_image_install_from_the_locks_then_the_project_without_deps() -> None:
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert (
        "pip install --require-hashes -r requirements-test.lock && "
        ".venv/bin/pip install --no-deps -e ." in ci
    )
    assert "pip install -q --require-hashes -r requirements.lock" in ci
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "RUN pip install --require-hashes -r requirements.lock" in dockerfile
    assert "RUN pip install --no-deps ." in dockerfile
    assert dockerfile.index("requirements.lock") < dockerfile.index("pip install --no-deps .")
