from __future__ import annotations

import os
from pathlib import Path

import pytest

from hearth.models import synthetic

# Tests put several devices (engines, workers, nodes) on one 2-core machine: OpenMP threads that spin
# between ops would steal the cores the other processes need. Only the tests do this; Hearth itself
# leaves llama.cpp's wait policy alone (a household device runs one engine at a time).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
# Never the developer's real keyring: this backend is never secure, so keys go to the test's HEARTH_HOME.
os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.fail.Keyring"


@pytest.fixture(autouse=True)
def hearth_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test gets its own state directory; nothing touches the user's real one."""
    home = tmp_path / "hearth-home"
    monkeypatch.setenv("HEARTH_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("models")


@pytest.fixture(scope="session")
def tiny_model(model_dir: Path) -> Path:
    return synthetic.ensure_model(model_dir, synthetic.TINY)
