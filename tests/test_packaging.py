"""The wheel carries every package and its data: policies, templates, static files and
the catalog fixture (an install without `-e`, as the Docker image makes, needs them)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _not_sources(directory: str, names: list[str]) -> list[str]:
    """What a copy of the source tree leaves out: the top level's environments, builds
    and data, and caches everywhere."""
    top = {".git", ".venv", "build", "dist", "data"} if Path(directory) == ROOT else set()
    return [n for n in names if n in top or n == "__pycache__" or n.endswith(".egg-info")]


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> zipfile.ZipFile:
    out = tmp_path_factory.mktemp("wheel")
    # Built from a copy: setuptools reuses build/ in the source tree, where modules that
    # were moved away would linger and slip into the wheel.
    source = tmp_path_factory.mktemp("source") / "nxce"
    shutil.copytree(ROOT, source, ignore=_not_sources)
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "-q",
         "-w", str(out), str(source)],
        check=True, capture_output=True, timeout=300,
    )  # fmt: skip
    (found,) = out.glob("nxce-*.whl")
    return zipfile.ZipFile(found)


def test_wheel_holds_every_package_mypy_checks(wheel: zipfile.ZipFile) -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    names = set(wheel.namelist())
    for package in pyproject["tool"]["mypy"]["packages"]:
        assert f"{package}/__init__.py" in names, f"the wheel lacks the package {package}"
    assert "nxce/core/__init__.py" in names


def test_wheel_holds_package_data(wheel: zipfile.ZipFile) -> None:
    names = set(wheel.namelist())
    assert "credits/policies/ningxia-2022.toml" in names
    assert "search/data/pinyin.txt" in names
    assert "search/data/vocabulary.toml" in names
    assert any(n.startswith("web/templates/") and n.endswith(".html") for n in names)
    assert any(n.startswith("web/static/") for n in names)
    assert any(n.startswith("fixtures/") and n.endswith(".jsonl") for n in names)
    assert any(n.startswith("fixtures/vocabulary/") and n.endswith(".toml") for n in names)
