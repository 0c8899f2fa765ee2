"""The release workflow is valid, and every script it calls exists here and at least parses."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
from ruamel.yaml import YAML

ROOT = Path(__file__).resolve().parents[2]
WORKFLOW = ROOT / ".github" / "workflows" / "release.yml"


def _steps() -> list[dict]:
    data = YAML(typ="safe").load(WORKFLOW.read_text())
    return [step for job in data["jobs"].values() for step in job["steps"]]


def test_the_workflow_matches_githubs_schema() -> None:
    checker = Path(sys.executable).parent / "check-jsonschema"
    result = subprocess.run(
        [str(checker), "--builtin-schema", "vendor.github-workflows", str(WORKFLOW)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_script_it_calls_is_in_the_repository() -> None:
    called = set()
    for step in _steps():
        called |= set(re.findall(r"installers/[\w./-]+\.(?:sh|ps1)", step.get("run", "")))
    assert {
        "installers/build-bundle.sh",
        "installers/linux/build-deb.sh",
        "installers/linux/smoke-test.sh",
        "installers/linux/build-appimage.sh",
        "installers/macos/build-dmg.sh",
        "installers/macos/smoke-test.sh",
        "installers/windows/build-installer.ps1",
        "installers/windows/smoke-test.ps1",
    } <= called
    for script in called:
        path = ROOT / script
        assert path.exists(), script
        if path.suffix == ".sh":
            assert path.stat().st_mode & 0o111, f"{script} is not executable"


@pytest.mark.parametrize("script", sorted(str(p.relative_to(ROOT)) for p in ROOT.glob("installers/**/*.sh")))
def test_shell_scripts_parse(script: str) -> None:
    result = subprocess.run(["bash", "-n", script], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_every_os_gets_an_installer_built_installed_and_smoke_tested() -> None:
    data = YAML(typ="safe").load(WORKFLOW.read_text())
    systems = {
        entry["os"].split("-")[0] for entry in data["jobs"]["installer"]["strategy"]["matrix"]["include"]
    }
    assert systems == {"ubuntu", "macos", "windows"}
    runs = " ".join(step.get("run", "") for step in _steps())
    assert "smoke-test.sh" in runs and "smoke-test.ps1" in runs and "apt-get install -y" in runs
    upload = next(s for s in _steps() if s.get("uses", "").startswith("actions/upload-artifact"))
    assert all(kind in upload["with"]["path"] for kind in (".deb", ".dmg", "-setup.exe", ".AppImage"))
