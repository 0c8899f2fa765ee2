"""The Linux bundle and .deb, built by the recipes in installers/ and checked as a user would get them."""

from __future__ import annotations

import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from hearth.core.launch import RUN_MODULE
from hearth.core.plan import parse_plan
from hearth.engine import messages as m
from hearth.engine import rpc_worker
from hearth.models import synthetic

ROOT = Path(__file__).resolve().parents[2]
X86_64 = platform.machine().lower() in ("x86_64", "amd64")
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
def bundle() -> Path:
    out = _script("installers/build-bundle.sh", timeout=1200)
    path = ROOT / out.strip().splitlines()[-1]
    assert (path / "hearth").is_file()
    return path


@pytest.fixture(scope="module")
def deb(bundle: Path) -> Path:
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
    assert {"libllama", "libggml", "libggml-base", "libggml-rpc"} <= set(libraries)
    if X86_64:  # every level of CPU the bundle may meet, from plain x86-64 up
        levels = {"libggml-cpu-x64", "libggml-cpu-haswell", "libggml-cpu-skylakex", "libggml-cpu-zen4"}
        assert levels <= set(libraries)
    # What only the tests use stays out of the bundle off macOS.
    for test_only in ("mlx", "mlx_lm", "transformers"):
        assert not list(bundle.rglob(test_only)), f"{test_only} is in the bundle"
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


QEMU = shutil.which("qemu-x86_64")


class _Frames:
    """The engine's protocol over a process's pipes (the engine runs under an emulator here, so
    ``EngineClient``, which starts its own, cannot be used)."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
        self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)

    def send(self, request: m.Request) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(m.encode(request))
        self.proc.stdin.flush()

    def next(self) -> m.Event:
        assert self.proc.stdout is not None
        prefix = self.proc.stdout.read(4)
        assert len(prefix) == 4, f"the engine exited with status {self.proc.wait(timeout=30)}"
        return m.decode_event(self.proc.stdout.read(m.frame_length(prefix)))

    def until(self, kind: type) -> m.Event:
        for _ in range(10_000):
            event = self.next()
            assert not isinstance(event, m.Failure), event.message
            if isinstance(event, kind):
                return event
        raise AssertionError(f"no {kind.__name__}")


def _answer(engine: _Frames, model: Path, **load: object) -> list[int]:
    engine.send(m.LoadModel(str(model), n_ctx=256, n_threads=1, **load))  # type: ignore[arg-type]
    engine.until(m.Loaded)
    engine.send(m.Generate(1, prompt="hello", max_tokens=6, temperature=0.0, ignore_eos=True))
    tokens = []
    for _ in range(100):
        event = engine.next()
        assert not isinstance(event, m.Failure), event.message
        if isinstance(event, m.Token):
            tokens.append(event.id)
        if isinstance(event, m.Done):
            return tokens
    raise AssertionError("no end to the answer")


@pytest.mark.skipif(not X86_64, reason="emulates an older x86-64 CPU")
@pytest.mark.skipif(QEMU is None, reason="needs Debian's qemu-user (qemu-x86_64) to emulate an older CPU")
def test_the_bundles_engine_and_worker_answer_on_a_cpu_without_avx512(bundle: Path, tmp_path: Path) -> None:
    """Haswell-v4: AVX2 but no AVX-512. A build tuned to a newer build machine dies there with an
    illegal instruction; the bundle picks the CPU variant for the CPU at hand. The emulated engine
    pools over an emulated worker and gives the greedy answer it gives alone."""
    assert QEMU is not None
    model = synthetic.ensure_model(tmp_path, synthetic.TINY)
    executable = (bundle / "hearth").resolve()
    emulated = [QEMU, "-cpu", "Haswell-v4", str(executable)]
    env = {
        **os.environ,
        "HEARTH_HOME": str(tmp_path / "home"),
        "OMP_WAIT_POLICY": "PASSIVE",
        "QT_QPA_PLATFORM": "offscreen",
        # PyInstaller's launcher sets these and then executes itself again, which qemu-user cannot
        # follow (the new image would run on the real CPU): given them, it is that second stage.
        "_PYI_ARCHIVE_FILE": str(executable),
        "_PYI_PARENT_PROCESS_LEVEL": "-1",
        "LD_LIBRARY_PATH": str(executable.parent / "_internal"),
    }
    # The variant for that CPU is the one chosen (an emulator without AVX2 would pick an older one).
    checked = subprocess.run(
        [*emulated, "self-test", "--json"], capture_output=True, text=True, env=env, timeout=600
    )
    cpu = {c["name"]: c for c in json.loads(checked.stdout)}["CPU backend"]
    assert "variant 'haswell'" in cpu["detail"] and "AVX512" not in cpu["detail"], cpu
    emulated.append(RUN_MODULE)
    worker = subprocess.Popen(
        [*emulated, "hearth.engine.rpc_worker", "--threads", "1", "--cache-dir", str(tmp_path / "cache")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=env,
    )
    engine = _Frames([*emulated, "hearth.engine.process"], env)
    try:
        assert worker.stdout is not None
        port = None
        for line in iter(worker.stdout.readline, b""):
            if found := rpc_worker.READY.search(line):
                port = int(found.group(1))
                break
        assert port is not None, "the emulated worker did not start"
        threading.Thread(target=worker.stdout.read, daemon=True).start()
        engine.until(m.Ready)
        n_gpu_layers, split = parse_plan("host:0-3,w:4-7", 8).llama_params()
        pooled = _answer(
            engine, model, rpc_servers=[f"127.0.0.1:{port}"], n_gpu_layers=n_gpu_layers, tensor_split=split
        )
        # The same emulated CPU alone: pooling's equality oracle, on one variant's arithmetic.
        local = _answer(engine, model)
    finally:
        engine.proc.kill()
        worker.kill()
        engine.proc.wait(timeout=30)
        worker.wait(timeout=30)
    assert len(pooled) == 6 and pooled == local
