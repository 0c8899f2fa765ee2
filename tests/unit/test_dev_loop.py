"""The developer loop holds together: the pull-request workflow is valid and runs the Makefile's
targets, the pre-commit hooks need no network, and CI still runs the README's test command."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
PR = ROOT / ".github" / "workflows" / "pr.yml"


def _targets() -> dict[str, list[str]]:
    """Each Makefile target with its recipe lines."""
    targets: dict[str, list[str]] = {}
    current: list[str] = []
    for line in (ROOT / "Makefile").read_text().splitlines():
        if line.startswith("\t"):
            current.append(line.strip())
        elif match := re.match(r"^([a-z]+):(.*)$", line):
            current = targets.setdefault(match[1], [])
    return targets


def test_the_pull_request_workflow_matches_githubs_schema_and_runs_make_targets() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(PR)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    steps = [s for job in YAML(typ="safe").load(PR.read_text())["jobs"].values() for s in job["steps"]]
    called = {m for s in steps for m in re.findall(r"\bmake (\w+)", s.get("run", ""))}
    assert called == {"lint", "types", "fast"}
    assert {"lint", "types", "fast", "test", "all"} <= set(_targets())


def test_the_fast_tier_names_paths_that_exist() -> None:
    (line,) = [x for x in (ROOT / "Makefile").read_text().splitlines() if x.startswith("FAST :=")]
    paths = line.split(":=", 1)[1].split()
    assert paths and all((ROOT / p).exists() for p in paths), paths


def test_ci_and_make_test_run_the_readmes_test_command() -> None:
    assert "```sh\nuv run pytest\n```" in (ROOT / "README.md").read_text()
    ci = [x for x in (ROOT / ".ci" / "run").read_text().splitlines() if x and not x.startswith("#")]
    assert ci[-1] == "uv run pytest"
    assert _targets()["test"] == ["$(UV) run pytest"]


def test_the_pre_commit_hooks_are_local_and_use_the_locked_ruff() -> None:
    config = YAML(typ="safe").load((ROOT / ".pre-commit-config.yaml").read_text())
    assert [r["repo"] for r in config["repos"]] == ["local"]
    for hook in config["repos"][0]["hooks"]:
        assert hook["entry"].startswith("uv run --frozen ruff "), hook
