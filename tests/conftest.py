from __future__ import annotations

import asyncio
import inspect
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
# Never the real hub: a test that reaches for it without the stand-in (the fake_hub fixture) finds
# nothing listening on loopback, and the window's catalog says it cannot reach the hub.
os.environ["HF_ENDPOINT"] = "http://127.0.0.1:9"


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


@pytest.fixture
def fake_hub(tiny_model: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """The hub stand-in on 127.0.0.1 with ``test/tiny-GGUF`` (the tiny model as Q8_0, and split in
    two as Q4_K_M) and a gated ``test/gated-GGUF``; ``HF_ENDPOINT`` points at it, no token is set."""
    from harness.fake_hub import FakeHub

    split_dir = tiny_model.parent / "split"
    if not split_dir.exists():
        synthetic.write_model(split_dir / "Tiny-Q4_K_M.gguf", synthetic.TINY, parts=2)
    files = {"Tiny-Q8_0.gguf": tiny_model.read_bytes()}
    files |= {p.name: p.read_bytes() for p in sorted(split_dir.glob("*.gguf"))}
    hub = FakeHub().start()
    hub.add("test/tiny-GGUF", files)
    hub.add("test/gated-GGUF", {"Gated-Q8_0.gguf": files["Tiny-Q8_0.gguf"]}, gated=True)
    monkeypatch.setenv("HF_ENDPOINT", hub.url)
    monkeypatch.setenv("HF_TOKEN", "")
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))  # never a developer's own hub token
    yield hub
    hub.stop()


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    """An ``async def`` test runs on a fresh event loop of its own, as ``asyncio.run`` runs it."""
    if not inspect.iscoroutinefunction(pyfuncitem.obj):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    asyncio.run(pyfuncitem.obj(**{name: pyfuncitem.funcargs[name] for name in names}))
    return True
