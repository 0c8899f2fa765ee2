"""What ``hearth self-test`` checks, each as a typed result: what a support request needs.

Version, the llama.cpp build and its RPC support, the accelerator ggml sees, that each ggml library is
loaded once (a second copy is a second device registry: layers land on the CPU without a word), the
keyring, the mDNS socket, the data folder; with ``engine``, a tiny model written here answers through
an engine process. The window's own check (its Qt platform plugin) is the caller's, since it is the
window's to know; it runs in its place among these.
"""

from __future__ import annotations

import asyncio
import os
import re
import socket
import sys
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hearth import __version__

# What a check finds: whether it passed, and what to say about it.
Probe = Callable[[], tuple[bool, str]]

LIBRARY_STEMS = ("libllama", "libggml", "libggml-base", "libggml-cpu", "libggml-rpc", "ggml", "llama")
# A portable build's CPU backend is one module per instruction-set level (libggml-cpu-haswell, …).
_CPU_VARIANT = re.compile(r"^(?:lib)?ggml-cpu-[\w.]+$")
_LIBRARY_FILE = re.compile(r"^((?:lib)?(?:ggml|llama)[\w.-]*?)(?:\.so[\d.]*|(?:\.\d+)*\.dylib|\.dll)$")


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str
    fatal: bool = True  # False: worth saying, but Hearth still works


def check(name: str, fn: Probe, fatal: bool = True) -> Check:
    """``fn``'s finding as a check; one that raises fails with what it raised."""
    try:
        ok, detail = fn()
    except Exception as exc:  # a check that cannot run says why; the others still run
        ok, detail = False, f"{type(exc).__name__}: {exc}"
    return Check(name, ok, detail, fatal)


def _llama() -> tuple[bool, str]:
    from hearth.engine import ggml

    return True, ggml.build_id()


def _rpc() -> tuple[bool, str]:
    from hearth.engine import backends, ggml, rpc

    path = ggml.library_path("libggml-rpc")
    rpc.op_names()  # binds the RPC library as llama.cpp loaded it
    if "RPC" not in backends.load().registered:
        return False, f"{path} is there but its backend did not load: pooling cannot work"
    return True, str(path)


def _backends() -> tuple[bool, str]:
    from hearth.engine import backends

    found = backends.load()
    where = ", ".join(found.modules) or "compiled in"
    return True, f"{', '.join(found.registered)} ({where}, from {found.directory})"


def _cpu() -> tuple[bool, str]:
    from hearth.core.repack import rules_for
    from hearth.engine import backends

    found = backends.load()
    features = backends.cpu_features()
    sets = [k for k, v in features.items() if v == "1" and k not in ("REPACK", "OPENMP", "LLAMAFILE")]
    variant = f"variant '{found.cpu_variant}'" if found.cpu_variant else "one build"
    extra = backends.cpu_weight_buffers()
    rules = rules_for(features)
    weights = "CPU"
    if extra:
        weights += ", " + ", ".join(extra)
        if rules:
            weights += f" (repacks {', '.join(rules.types)})"
    pinned = backends.gpu_host_buffers()
    if pinned:
        weights += f"; a local load's CPU layers in {', '.join(pinned)}"
    detail = f"{variant} [{' '.join(sets) or 'baseline'}]; weights in {weights}"
    if found.skipped:
        detail += f"; left out: {'; '.join(found.skipped)}"
    return True, detail


def _accelerator() -> tuple[bool, str]:
    from hearth.engine import ggml

    devices = ggml.devices()
    gpus = [
        f"{d.name} ({d.description}, {d.memory_free / 2**30:.1f} of {d.memory_total / 2**30:.1f} GiB free)"
        for d in ggml.accelerators()
    ]
    if gpus:
        return True, ", ".join(gpus) + ": local models load their layers there first, as many as fit"
    return True, "none: the CPU computes (" + ", ".join(d.name for d in devices) + ")"


def loaded_libraries(paths: list[str]) -> dict[str, list[str]]:
    """llama.cpp's libraries among ``paths`` (a process's mapped files), by library: the files of each."""
    found: dict[str, set[str]] = {}
    for path in paths:
        name = Path(path).name
        match = _LIBRARY_FILE.match(name)
        known = {s.removeprefix("lib") for s in LIBRARY_STEMS}
        if match and (match.group(1).removeprefix("lib") in known or _CPU_VARIANT.match(match.group(1))):
            found.setdefault(match.group(1), set()).add(os.path.realpath(path))
    return {k: sorted(v) for k, v in sorted(found.items())}


def _once() -> tuple[bool, str]:
    import psutil

    from hearth.engine import ggml

    ggml.devices()  # every ggml library llama.cpp uses is loaded by now
    try:
        maps = [m.path for m in psutil.Process().memory_maps(grouped=True)]
    except (AttributeError, NotImplementedError, psutil.Error):
        return True, "not checked on this system"
    libraries = loaded_libraries(maps)
    twice = {k: v for k, v in libraries.items() if len(v) > 1}
    if twice:
        return False, "; ".join(f"{k} loaded {len(v)} times: {', '.join(v)}" for k, v in twice.items())
    where = {str(Path(v[0]).parent) for v in libraries.values()}
    return bool(libraries), f"{len(libraries)} libraries, each once, from {', '.join(sorted(where))}"


def _keyring() -> tuple[bool, str]:
    import keyring

    backend = keyring.get_keyring()
    name = f"{type(backend).__module__}.{type(backend).__name__}"
    if "fail" in name.lower():
        return False, f"{name}: no secure keyring; the device key is kept in a private file instead"
    return True, name


def _mdns() -> tuple[bool, str]:
    # Bound, never sent on: discovery needs this port shared with the system's own responder.
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if hasattr(socket, "SO_REUSEPORT"):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        sock.bind(("", 5353))
    except OSError as exc:
        return False, f"cannot share UDP port 5353 for mDNS: {exc.strerror}; devices must be added by address"
    finally:
        sock.close()
    return True, "UDP 5353 can be shared"


def _data() -> tuple[bool, str]:
    from hearth.store import paths

    folders = [paths.state_dir(), paths.config_dir(), paths.models_dir(), paths.cache_dir(), paths.logs_dir()]
    for folder in folders:
        with tempfile.NamedTemporaryFile(dir=folder):
            pass
    return True, str(paths.state_dir())


def _engine() -> tuple[bool, str]:
    from hearth.engine import messages as m
    from hearth.engine.client import EngineClient
    from hearth.models import synthetic

    async def answer(model: Path) -> str:
        client = EngineClient()
        try:
            await client.load(m.LoadModel(str(model), n_ctx=256, n_threads=1))
            done_text: list[str] = []
            request = m.Generate(0, prompt="hello", max_tokens=4, temperature=0.0, ignore_eos=True)
            done = await client.generate(request, lambda t: done_text.append(t.text))
            return f"{done.completion_tokens} tokens from an engine process"
        finally:
            await client.close()

    with tempfile.TemporaryDirectory() as tmp:
        model = synthetic.ensure_model(tmp, synthetic.TINY)
        return True, asyncio.run(answer(model))


def run_checks(window: Probe, engine: bool = False, window_needed: bool = True) -> list[Check]:
    """Every check in order; ``window``: whether the window can start here (the Qt platform), a
    failure only worth a note where no window is ``window_needed``."""
    checks = [
        Check("version", True, f"hearth {__version__} · Python {sys.version.split()[0]} · {sys.platform}"),
        check("llama.cpp", _llama),
        check("RPC support", _rpc),
        check("backends", _backends),
        check("CPU backend", _cpu),
        check("accelerator", _accelerator, fatal=False),
        check("ggml loaded once", _once),
        check("Qt platform", window, fatal=window_needed),
        check("keyring", _keyring, fatal=False),
        check("mDNS socket", _mdns, fatal=False),
        check("data folder", _data),
    ]
    if engine:
        checks.append(check("engine", _engine))
    return checks


def broken(checks: list[Check]) -> bool:
    """Whether a check that Hearth cannot work without failed."""
    return any(c.fatal and not c.ok for c in checks)


__all__ = ["Check", "Probe", "broken", "check", "loaded_libraries", "run_checks"]
