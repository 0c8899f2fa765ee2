"""llama.cpp's backends, loaded once per process from this installation's own files.

Hearth's llama.cpp is built portable, the way llama.cpp's releases are (pyproject.toml's CMAKE_ARGS):
nothing is tuned to the build machine's CPU (``GGML_NATIVE=OFF``), every backend is a module loaded at
run time (``GGML_BACKEND_DL``), and the CPU backend comes once per instruction-set level
(``GGML_CPU_ALL_VARIANTS``: x64, sse42, …, haswell, skylakex, icelake, zen4, …). Each variant module
scores how well it fits the CPU at hand (0: it would not run here); the best one is loaded.

ggml's own loader searches beside the executable (Python's, here) and the working directory; Hearth
loads from the folder its llama.cpp libraries are in instead, before llama.cpp initialises (which
would otherwise load nothing), and chooses the CPU variant itself so that one can be left out.
A build with its backends compiled in (no ``GGML_BACKEND_DL``) has them registered already and is used
as it is.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import sys
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hearth.core.errors import HearthError
from hearth.core.repack import NO_REPACK, RepackRules, rules_for

log = logging.getLogger(__name__)

# Variants that are never loaded, with the reason. The Sapphire Rapids variant enables AMX, whose
# repacked weights crash the first decode on CPUs with AMX (SIGSEGV: ggml-org/llama.cpp#20824, also
# ollama#17006). Remove the entry once the vendored llama.cpp has the upstream fix, and teach
# core/repack.py the AMX buffer's rules then (its copies would count like CPU_REPACK's); the next best
# variant (zen4 or icelake: AVX-512 with VNNI and BF16) runs those CPUs correctly meanwhile.
SKIPPED_CPU_VARIANTS = {"sapphirerapids": "AMX crashes the first decode (ggml-org/llama.cpp#20824)"}

# ggml_backend_load_all's order: accelerators first, so their devices come first in ggml's list.
BACKEND_NAMES = (
    "blas",
    "zendnn",
    "cann",
    "cuda",
    "hip",
    "metal",
    "rpc",
    "sycl",
    "vulkan",
    "virtgpu",
    "opencl",
    "hexagon",
    "musa",
    "openvino",
    "cpu",
)


@dataclass(frozen=True)
class Backends:
    """What this process runs llama.cpp on."""

    cpu_variant: str  # the CPU module's level ("zen4", "haswell", …); "" when compiled in
    modules: tuple[str, ...]  # the module files loaded, by name
    registered: tuple[str, ...]  # ggml's backend registries after loading ("CPU", "RPC", "CUDA", …)
    skipped: tuple[str, ...]  # CPU variants left out on purpose, with the reason
    directory: str


def _prefix() -> str:
    return "ggml-" if sys.platform == "win32" else "libggml-"


def _suffix() -> str:
    return ".dll" if sys.platform == "win32" else ".so"


def module_files(directory: Path, name: str) -> tuple[list[Path], Path | None]:
    """``name``'s variant modules in ``directory`` (``libggml-cpu-haswell.so``, …) and its plain one."""
    variants = sorted(directory.glob(f"{_prefix()}{name}-*{_suffix()}"))
    plain = directory / f"{_prefix()}{name}{_suffix()}"
    return [p for p in variants if p.is_file()], plain if plain.is_file() else None


def variant_name(path: Path, name: str = "cpu") -> str:
    return path.name.removeprefix(f"{_prefix()}{name}-").removesuffix(_suffix())


def _close(lib: ctypes.CDLL) -> None:
    import _ctypes

    close = getattr(_ctypes, "FreeLibrary" if sys.platform == "win32" else "dlclose", None)
    if close is not None:
        close(lib._handle)


def score(path: Path) -> int:
    """How well a variant module fits this CPU (ggml's own measure); 0 when it cannot run here."""
    try:
        lib = ctypes.CDLL(str(path), mode=getattr(ctypes, "RTLD_LOCAL", 0))
    except OSError as exc:
        log.info("cannot open %s: %s", path.name, exc)
        return 0
    try:
        fn = getattr(lib, "ggml_backend_score", None)
        if fn is None:
            return 0
        fn.restype = ctypes.c_int
        return int(fn())
    finally:
        _close(lib)


def best_cpu_variant(candidates: list[Path]) -> tuple[Path | None, list[str]]:
    """The best-scoring CPU variant that is not left out, and what was left out."""
    skipped = []
    best: tuple[int, Path] | None = None
    for path in candidates:
        name = variant_name(path)
        if name in SKIPPED_CPU_VARIANTS:
            skipped.append(f"{name}: {SKIPPED_CPU_VARIANTS[name]}")
            continue
        s = score(path)
        if s > 0 and (best is None or s > best[0]):
            best = (s, path)
    return (best[1] if best else None), skipped


class BackendError(HearthError, OSError):
    """llama.cpp's backends could not be loaded as this installation needs them."""


_load_lock = threading.Lock()


def load() -> Backends:
    """Load this installation's backends into the process (once); what was loaded. Safe from any
    thread: ggml registers a module as often as it is asked to, so only one caller may."""
    with _load_lock:
        return _load_once()


@cache
def _load_once() -> Backends:
    from hearth.engine.ggml import library, library_path

    ggml = library("libggml")
    base = library("libggml-base")
    ggml.ggml_backend_reg_count.restype = ctypes.c_size_t
    ggml.ggml_backend_reg_get.restype = ctypes.c_void_p
    ggml.ggml_backend_reg_get.argtypes = [ctypes.c_size_t]
    ggml.ggml_backend_load.restype = ctypes.c_void_p
    ggml.ggml_backend_load.argtypes = [ctypes.c_char_p]
    base.ggml_backend_reg_name.restype = ctypes.c_char_p
    base.ggml_backend_reg_name.argtypes = [ctypes.c_void_p]
    directory = library_path("libggml").parent

    def registered() -> tuple[str, ...]:
        regs = (ggml.ggml_backend_reg_get(i) for i in range(ggml.ggml_backend_reg_count()))
        return tuple((base.ggml_backend_reg_name(r) or b"?").decode() for r in regs)

    if ggml.ggml_backend_reg_count():
        if module_files(directory, "cpu")[0]:
            # Something called into llama.cpp first, and ggml's own loader chose from the executable's
            # folder and the working directory: the AMX variant, or a file someone put there.
            raise BackendError(
                f"llama.cpp's backends ({', '.join(registered())}) were loaded before Hearth chose them "
                f"from {directory}; this is a bug in Hearth, please report it"
            )
        return Backends("", (), registered(), (), str(directory))
    _safe_dll_search(directory)
    with _quiet(base):
        return _load_modules(ggml, directory, registered)


def _safe_dll_search(directory: Path) -> None:
    """On Windows, a module's own dependencies (a GPU backend's runtime) are looked for in the system
    folders and Hearth's library folder only, never the working directory or PATH."""
    if sys.platform != "win32":
        return
    kernel32 = ctypes.WinDLL("kernel32", use_last_error=True)
    load_library_search_default_dirs = 0x00001000
    kernel32.SetDefaultDllDirectories(load_library_search_default_dirs)
    os.add_dll_directory(str(directory))


_LogCallback = ctypes.CFUNCTYPE(None, ctypes.c_int, ctypes.c_char_p, ctypes.c_void_p)


def _log_line(level: int, text: bytes, user_data: int | None) -> None:
    log.debug("%s", (text or b"").decode("utf-8", errors="replace").rstrip())


_to_log = _LogCallback(_log_line)  # kept here: ggml holds the pointer while modules load


@contextlib.contextmanager
def _quiet(base: ctypes.CDLL) -> Iterator[None]:
    """ggml reports each module it loads on stderr: into this log instead, then its logger as it was
    (the engine process routes ggml's log into its own file before this runs)."""
    base.ggml_log_get.restype = None
    base.ggml_log_get.argtypes = [ctypes.POINTER(ctypes.c_void_p), ctypes.POINTER(ctypes.c_void_p)]
    base.ggml_log_set.restype = None
    base.ggml_log_set.argtypes = [ctypes.c_void_p, ctypes.c_void_p]
    callback, user_data = ctypes.c_void_p(), ctypes.c_void_p()
    base.ggml_log_get(ctypes.byref(callback), ctypes.byref(user_data))
    base.ggml_log_set(ctypes.cast(_to_log, ctypes.c_void_p), None)
    try:
        yield
    finally:
        base.ggml_log_set(callback, user_data)


def _load_modules(ggml: ctypes.CDLL, directory: Path, registered: Callable[[], tuple[str, ...]]) -> Backends:
    modules: list[str] = []
    cpu_variant = ""
    skipped: list[str] = []
    for name in BACKEND_NAMES:
        variants, plain = module_files(directory, name)
        chosen = plain
        if name == "cpu" and variants:
            best, skipped = best_cpu_variant(variants)
            chosen = best or plain
            cpu_variant = variant_name(best) if best else ""
        if chosen is None:
            continue
        # A module whose libraries are missing here (a CUDA build on a machine without the driver)
        # does not load; that is no error, the other backends serve.
        if ggml.ggml_backend_load(str(chosen).encode()):
            modules.append(chosen.name)
        else:
            log.info("backend module %s did not load here", chosen.name)
    found = registered()
    if "CPU" not in found:
        raise BackendError(
            f"no CPU backend of llama.cpp could be loaded from {directory}"
            + (f" (left out: {'; '.join(skipped)})" if skipped else "")
        )
    return Backends(cpu_variant, tuple(modules), found, tuple(skipped), str(directory))


class _Feature(ctypes.Structure):
    _fields_ = [("name", ctypes.c_char_p), ("value", ctypes.c_char_p)]


def _cpu_proc(name: str) -> tuple[int, int, int | None]:
    """The CPU device, its registry and one of the registry's optional functions (by name), or None."""
    from hearth.engine.ggml import library

    load()
    ggml, base = library("libggml"), library("libggml-base")
    ggml.ggml_backend_dev_by_type.restype = ctypes.c_void_p
    ggml.ggml_backend_dev_by_type.argtypes = [ctypes.c_int]
    base.ggml_backend_dev_backend_reg.restype = ctypes.c_void_p
    base.ggml_backend_dev_backend_reg.argtypes = [ctypes.c_void_p]
    base.ggml_backend_reg_get_proc_address.restype = ctypes.c_void_p
    base.ggml_backend_reg_get_proc_address.argtypes = [ctypes.c_void_p, ctypes.c_char_p]
    dev = ggml.ggml_backend_dev_by_type(0)  # GGML_BACKEND_DEVICE_TYPE_CPU
    if not dev:
        raise BackendError("llama.cpp has no CPU device")
    reg = base.ggml_backend_dev_backend_reg(dev)
    return int(dev), int(reg), base.ggml_backend_reg_get_proc_address(reg, name.encode())


@cache
def cpu_features() -> dict[str, str]:
    """The CPU backend's features as it reports them (``{"AVX2": "1", "REPACK": "1", …}``): the
    instruction sets the loaded variant was built for, and its options."""
    _, reg, address = _cpu_proc("ggml_backend_get_features")
    if not address:
        return {}
    fn = ctypes.CFUNCTYPE(ctypes.POINTER(_Feature), ctypes.c_void_p)(address)
    features = fn(ctypes.c_void_p(reg))
    out: dict[str, str] = {}
    for i in range(256):  # ggml ends the list with a NULL name; a bound keeps a broken list finite
        item = features[i]
        if not item.name:
            break
        out[item.name.decode()] = (item.value or b"").decode()
    return out


@cache
def repack_rules() -> RepackRules:
    """What this device's CPU backend repacks (``core.repack``); nothing when llama.cpp cannot say."""
    try:
        features = cpu_features()
        others = [b for b in cpu_weight_buffers() if b != "CPU_REPACK"]
        local_loads = not gpu_host_buffers()
    except OSError as exc:
        log.warning("cannot read the CPU backend's features, so repacking is not counted: %s", exc)
        return NO_REPACK
    if others:
        log.warning(
            "the CPU backend also places weights in %s, which Hearth's memory model does not count",
            ", ".join(others),
        )
    return rules_for(features, local_loads=local_loads)


@cache
def gpu_host_buffers() -> tuple[str, ...]:
    """The pinned host buffer types of this machine's GPUs (``CUDA_Host``, …): llama.cpp offers them to
    a local load's CPU layers before the repacked one."""
    from hearth.engine import ggml

    base = ggml.library("libggml-base")
    base.ggml_backend_dev_host_buffer_type.restype = ctypes.c_void_p
    base.ggml_backend_dev_host_buffer_type.argtypes = [ctypes.c_void_p]
    base.ggml_backend_buft_name.restype = ctypes.c_char_p
    base.ggml_backend_buft_name.argtypes = [ctypes.c_void_p]
    names = []
    for dev in ggml.devices():
        if dev.kind in ("GPU", "IGPU") and not dev.name.startswith("RPC"):
            buft = base.ggml_backend_dev_host_buffer_type(dev.handle)
            if buft:
                names.append((base.ggml_backend_buft_name(buft) or b"?").decode())
    return tuple(names)


@cache
def cpu_weight_buffers() -> tuple[str, ...]:
    """The buffer types the CPU backend may put weights in besides its plain one (``CPU_REPACK``, …)."""
    from hearth.engine.ggml import library

    dev, _, address = _cpu_proc("ggml_backend_dev_get_extra_bufts")
    if not address:
        return ()
    base = library("libggml-base")
    base.ggml_backend_buft_name.restype = ctypes.c_char_p
    base.ggml_backend_buft_name.argtypes = [ctypes.c_void_p]
    fn = ctypes.CFUNCTYPE(ctypes.POINTER(ctypes.c_void_p), ctypes.c_void_p)(address)
    bufts = fn(ctypes.c_void_p(dev))
    names = []
    for i in range(64):
        if not bufts[i]:
            break
        names.append((base.ggml_backend_buft_name(bufts[i]) or b"?").decode())
    return tuple(names)
