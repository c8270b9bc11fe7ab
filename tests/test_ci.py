"""The GitHub Actions workflow (.github/workflows/ci.yml), read as a reviewer would: it
cannot run here, so these checks parse it."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from nxce.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
WORKFLOW = ROOT / ".github" / "workflows" / "ci.yml"


def workflow() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    return data


def steps_text(job: dict[str, Any]) -> str:
    return "\n".join(str(step.get("run", "")) for step in job["steps"])


def test_the_first_job_runs_ci_run_in_debian_12_after_installing_with_apt() -> None:
    job = workflow()["jobs"]["test"]
    assert job["container"]["image"] == "debian:12"
    runs = [str(step.get("run", "")) for step in job["steps"]]
    apt = next(i for i, run in enumerate(runs) if "apt-get install" in run)
    assert all(name in runs[apt] for name in ("python3", "python3-venv", "git"))
    assert runs.index(".ci/run") > apt


def test_the_contract_job_starts_an_initiated_replica_set_and_waits_for_a_primary() -> None:
    job = workflow()["jobs"]["contract"]
    text = steps_text(job)
    assert "docker run -d --name mongo -p 27017:27017 mongo:7 --replSet rs0 --bind_ip_all" in text
    assert "docker exec mongo mongosh" in text and "ping:1" in text
    assert "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]})" in text
    assert "rs.status().myState" in text  # 1 is PRIMARY
    # every wait is bounded: a loop over seq with an exit when it runs out
    assert text.count("for i in $(seq 1 60)") == 2 and text.count("exit 1") >= 2
    url = job["env"]["NXCE_MONGODB_URL"]
    assert "replicaSet=rs0" in url and "directConnection=true" in url


def test_the_contract_job_has_a_healthy_meilisearch_and_requires_the_contracts() -> None:
    job = workflow()["jobs"]["contract"]
    meili = job["services"]["meilisearch"]
    assert meili["image"].startswith("getmeili/meilisearch:v1.")
    assert '--health-cmd "curl -f http://localhost:7700/health"' in meili["options"]
    assert job["env"]["NXCE_CONTRACT_REQUIRED"] == "1"
    assert job["env"]["NXCE_MEILI_URL"] == "http://localhost:7700"
    pytest_step = next(s for s in job["steps"] if "pytest" in str(s.get("run", "")))
    assert "tests/contract tests/search" in pytest_step["run"]
    assert pytest_step["env"]["NXCE_MEILI_KEY"] == "${{ env.MEILI_MASTER_KEY }}"
    assert meili["env"]["MEILI_MASTER_KEY"] == "${{ env.MEILI_MASTER_KEY }}"


def test_the_compose_job_smoke_tests_and_always_takes_the_stack_down() -> None:
    job = workflow()["jobs"]["compose"]
    runs = [str(step.get("run", "")) for step in job["steps"]]
    assert any("docker compose up -d" in run for run in runs)
    assert any(".ci/smoke" in run for run in runs)
    load = next(run for run in runs if "nxce fixtures load" in run)
    assert "nxce search reindex" in load  # the smoke test searches Meilisearch
    down = next(s for s in job["steps"] if "docker compose down -v" in str(s.get("run", "")))
    assert down["if"] == "always()"
    assert (ROOT / ".ci" / "smoke").stat().st_mode & 0o111


def test_the_workflow_holds_no_secrets_only_labelled_throwaways() -> None:
    text = WORKFLOW.read_text(encoding="utf-8")
    assert "secrets." not in text  # nothing to configure in the repository's settings
    values = re.findall(r"(?:KEY|ADMIN|PASSWORD|SECRET)[A-Z_]*: (\S+)", text)
    literal = [v for v in values if not v.startswith("${{")]
    assert literal, "the throwaway values are in the file"
    assert all("ci-only-throwaway" in value for value in literal), literal


def test_the_workflow_sets_only_variables_the_service_or_tests_read() -> None:
    names = {f"NXCE_{name.upper()}" for name in Settings.model_fields}
    names |= {"NXCE_CONTRACT_REQUIRED", "NXCE_URL", "NXCE_ADMIN"}  # tests and .ci/smoke
    text = WORKFLOW.read_text(encoding="utf-8")
    used = set(re.findall(r"\b(NXCE_[A-Z_]+):", text))
    assert used and used <= names, used - names
