from __future__ import annotations

import asyncio
import inspect
import os
import sys
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
# An environment that asks Python not to write bytecode (PYTHONDONTWRITEBYTECODE) would have each of
# the hundreds of processes the tests start (nodes, engines, workers, every `hearth` command) compile
# Hearth and its libraries from source again: about 3 s of CPU apiece instead of 1. The tests keep
# their bytecode in a cache of their own instead, ignored by git, leaving the checkout's folders and
# the virtual environment as they were.
if os.environ.pop("PYTHONDONTWRITEBYTECODE", ""):
    _pycache = Path(__file__).resolve().parents[1] / ".hearth-cache" / "pycache"
    os.environ.setdefault("PYTHONPYCACHEPREFIX", str(_pycache))
    sys.pycache_prefix = os.environ["PYTHONPYCACHEPREFIX"]
    sys.dont_write_bytecode = False


def pytest_xdist_auto_num_workers(config: pytest.Config) -> int:
    """``-n auto`` (pyproject.toml): one worker more than there are cores, at most eight. Most tests
    wait on sockets, subprocesses and timeouts rather than compute, so a 2-core machine still gains
    from a third worker; past that, the processes the tests start crowd each other out. A run of
    named tests (``pytest path::test``) gets a worker per test, and a single one runs in this process,
    where ``--pdb`` and print-debugging work as without xdist."""
    wanted = os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS", "")
    if wanted.isdigit():
        return int(wanted)
    workers = min((os.cpu_count() or 1) + 1, 8)
    if config.args and all("::" in arg for arg in config.args):
        workers = min(workers, len(config.args))
    return 0 if workers == 1 else workers


# Modules whose tests run on one xdist worker, one after the other; everything else is handed out
# test by test, so each worker that runs some of a module's tests sets up its module-scoped fixtures
# once more.
TOGETHER = {
    # Both tests use one PyInstaller bundle, built into the checkout's dist/ and build/ folders.
    "tests/installers/test_linux_package.py",
    # A served SmolLM2 per module: loading it again on every worker costs more than it spreads.
    "tests/integration/test_openai_api.py",
    "tests/integration/test_ollama_api.py",
    "tests/integration/test_tool_calls.py",
    "tests/integration/test_embeddings.py",
    # Three nodes paired once for the module.
    "tests/integration/test_pooling.py",
    # Three served SmolLM2 devices, paired once.
    "tests/integration/test_routing.py",
    # Its last test checks every graph the module's pooled answers sent through the filter.
    "tests/integration/test_worker_graphs.py",
}


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object | None:
    """For ``--dist load`` (what ``-n`` alone gives): the modules in ``TOGETHER`` as one unit each,
    handed out first (the largest units go first), then every other test on its own. xdist's own
    ``loadgroup`` cannot be used: it renames items by a field that pytest 9 no longer reads."""
    if config.getoption("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling  # type: ignore[import-untyped]

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            module = nodeid.split("::", 1)[0]
            return module if module in TOGETHER else nodeid

    return Scheduling(config, log)


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
