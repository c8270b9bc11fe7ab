"""docker-compose.yml and the Dockerfile agree with the settings and the packages.

Docker cannot run here; these checks parse the files instead.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import yaml

from nxce.core.hosts import parse
from nxce.settings import Settings

ROOT = Path(__file__).resolve().parent.parent


def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return data


def test_compose_has_the_three_services_with_health_checks() -> None:
    services = compose()["services"]
    assert set(services) == {"mongodb", "meilisearch", "api"}
    assert "healthcheck" in services["mongodb"] and "healthcheck" in services["meilisearch"]
    assert services["api"]["depends_on"] == {
        "mongodb": {"condition": "service_healthy"},
        "meilisearch": {"condition": "service_healthy"},
    }


def test_compose_mongodb_is_an_initiated_replica_set_with_a_volume() -> None:
    mongodb = compose()["services"]["mongodb"]
    assert "--replSet" in mongodb["command"]
    replica_set = mongodb["command"][mongodb["command"].index("--replSet") + 1]
    assert f"_id: '{replica_set}'" in " ".join(mongodb["healthcheck"]["test"])
    assert any(v.endswith(":/data/db") for v in mongodb["volumes"])
    url = compose()["services"]["api"]["environment"]["NXCE_MONGODB_URL"]
    assert f"replicaSet={replica_set}" in url and url.startswith("mongodb://mongodb:")


def test_compose_meilisearch_takes_its_key_from_the_environment() -> None:
    meili = compose()["services"]["meilisearch"]
    assert meili["environment"]["MEILI_MASTER_KEY"].startswith("${MEILI_MASTER_KEY")
    assert any(v.endswith(":/meili_data") for v in meili["volumes"])


def test_compose_api_variables_are_settings() -> None:
    environment = compose()["services"]["api"]["environment"]
    names = {f"NXCE_{name.upper()}" for name in Settings.model_fields}
    unknown = set(environment) - names
    assert not unknown, f"compose sets variables no setting reads: {unknown}"
    assert "NXCE_MONGODB_URL" in environment and "NXCE_BOOTSTRAP_ADMIN" in environment


def test_compose_api_names_its_public_address_and_the_hosts_it_answers() -> None:
    """Transcript links come from configuration: compose requires the public address, and
    its default hosts include the one the image's health check asks."""
    environment = compose()["services"]["api"]["environment"]
    assert environment["NXCE_PUBLIC_URL"].startswith("${NXCE_PUBLIC_URL:?")
    default = environment["NXCE_ALLOWED_HOSTS"].removeprefix("${NXCE_ALLOWED_HOSTS:-")
    settings = Settings(allowed_hosts=default.removesuffix("}"), public_url="https://nxce.example")
    health = re.search(r"urlopen\('http://([^/']+)/health'\)", (ROOT / "Dockerfile").read_text())
    assert health is not None
    requested = parse(health.group(1))
    assert requested is not None and any(h.admits(requested) for h in settings.hosts)


def test_dockerfile_copies_every_package() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    packages = {
        p.rstrip("*") for p in pyproject["tool"]["setuptools"]["packages"]["find"]["include"]
    }
    copied = set(re.findall(r"^COPY (\w+) ", (ROOT / "Dockerfile").read_text(), re.MULTILINE))
    assert packages <= copied


def test_readme_documents_every_setting() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    missing = [
        f"NXCE_{n.upper()}" for n in Settings.model_fields if f"NXCE_{n.upper()}" not in readme
    ]
    assert not missing


def _sh_blocks(text: str) -> list[str]:
    return [b.strip() for b in re.findall(r"```sh\n(.*?)```", text, re.DOTALL)]


def test_readme_has_the_two_setup_commands_and_ci_runs_the_test_one() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    blocks = _sh_blocks(readme)
    serve, test = blocks[0], blocks[1]
    assert serve.endswith("nxce serve") and "\n" not in serve
    assert test.endswith("pytest") and "\n" not in test
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test in ci


def test_compose_api_searches_the_compose_meilisearch() -> None:
    environment = compose()["services"]["api"]["environment"]
    assert environment["NXCE_MEILI_URL"] == "http://meilisearch:7700"
    assert environment["NXCE_MEILI_KEY"] == "${MEILI_MASTER_KEY}"
