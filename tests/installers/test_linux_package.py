"""The Linux bundle and .deb, built by the recipes in installers/ and checked as a user would get them."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(1500),
    pytest.mark.skipif(
        sys.platform != "linux" or shutil.which("dpkg-deb") is None, reason="builds a .deb: Linux with dpkg"
    ),
]


def _script(*args: str, timeout: float) -> str:
    result = subprocess.run([*args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, f"{args[0]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-3000:]}"
    return result.stdout


@pytest.fixture(scope="module")
def deb() -> Path:
    _script("installers/build-bundle.sh", timeout=1200)
    out = _script("installers/linux/build-deb.sh", timeout=600)
    path = Path(out.strip().splitlines()[-1])
    assert path.exists() and path.name.endswith(".deb")
    return path


def test_the_deb_installs_what_a_desktop_needs(deb: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(deb), str(tmp_path)], check=True)
    info = subprocess.run(["dpkg-deb", "-f", str(deb)], capture_output=True, text=True, check=True).stdout
    assert re.search(r"^Depends:.*libxcb-cursor0.*libxcb-icccm4", info, re.M)
    assert os.readlink(tmp_path / "usr/bin/hearth") == "/opt/hearth/hearth"
    desktop = (tmp_path / "usr/share/applications/hearth.desktop").read_text()
    assert "Exec=hearth" in desktop and "Icon=hearth" in desktop
    assert (tmp_path / "usr/share/icons/hicolor/256x256/apps/hearth.png").exists()
    assert (tmp_path / "usr/share/icons/hicolor/scalable/apps/hearth.svg").exists()
    assert (tmp_path / "usr/share/metainfo/org.hearthapp.Hearth.metainfo.xml").exists()

    # Each of llama.cpp's libraries is in the bundle once, where llama_cpp looks for it.
    bundle = tmp_path / "opt/hearth"
    libraries: dict[str, set[Path]] = {}
    for path in bundle.rglob("*"):
        match = re.match(r"^(lib(?:ggml|llama)[\w-]*?)\.so", path.name)
        if match and path.is_file():  # links (PyInstaller's, beside the executable) count as their target
            libraries.setdefault(match.group(1), set()).add(path.resolve())
    assert {"libllama", "libggml", "libggml-base", "libggml-cpu", "libggml-rpc"} <= set(libraries)
    for name, copies in libraries.items():
        if name == "libllama":
            continue  # libllama.so, which llama_cpp opens, and libllama.so.0, its SONAME: loaded as one
        assert len(copies) == 1, f"{name} is in the bundle {len(copies)} times: {copies}"
        (only,) = copies
        assert only.parent.name == "lib" and only.parent.parent.name == "llama_cpp"

    # Run from the unpacked tree: version, self-test (RPC, one copy of each library), a chat.
    hearth = str(bundle / "hearth")
    env = {**os.environ, "HEARTH_HOME": str(tmp_path / "home"), "QT_QPA_PLATFORM": "offscreen"}
    version = subprocess.run([hearth, "--version"], capture_output=True, text=True, env=env, timeout=120)
    assert version.returncode == 0 and version.stdout.startswith("hearth "), version.stderr
    checked = subprocess.run(
        [hearth, "self-test", "--engine", "--json"], capture_output=True, text=True, env=env, timeout=300
    )
    checks = {c["name"]: c for c in json.loads(checked.stdout)}
    assert checked.returncode == 0, checked.stdout
    assert checks["RPC support"]["ok"] and checks["ggml loaded once"]["ok"], checks
    assert str(bundle) in checks["ggml loaded once"]["detail"]
    assert checks["engine"]["ok"] and checks["Qt platform"]["ok"]
    smoke = subprocess.run(
        ["installers/linux/smoke-test.sh", str(deb)], cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert smoke.returncode == 0, smoke.stdout[-3000:] + smoke.stderr[-3000:]
    assert "smoke test passed" in smoke.stdout
