"""ggml's C API, reached through the very libraries llama.cpp uses.

The package ships copies of each library (no symlinks), so loading ``libggml.so`` by its unversioned
name would create a second ggml with its own device registry that llama never sees. The exact
versioned file that llama_cpp already loaded is opened instead; the loader hands back the same handle.
"""

from __future__ import annotations

import ctypes
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import llama_cpp
import llama_cpp.llama_cpp as llama_lib

DEVICE_TYPES = {0: "CPU", 1: "GPU", 2: "IGPU", 3: "ACCEL"}


def _lib_dir() -> Path:
    return Path(llama_lib.__file__).resolve().parent / "lib"


def library_path(stem: str) -> Path:
    """The file of one of llama.cpp's libraries in this installation."""
    directory = _lib_dir()
    if sys.platform == "win32":
        patterns = [f"{stem.removeprefix('lib')}.dll"]
    elif sys.platform == "darwin":
        patterns = [f"{stem}.0.dylib", f"{stem}.dylib"]
    else:
        patterns = [f"{stem}.so.0", f"{stem}.so"]
    for pattern in patterns:
        candidate = directory / pattern
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"{stem} not found in {directory}")


@cache
def library(stem: str) -> ctypes.CDLL:
    """``libggml``, ``libggml-base`` or ``libggml-rpc``, as already loaded by llama.cpp."""
    _ = llama_lib._lib  # make sure llama (and with it ggml) is loaded first
    return ctypes.CDLL(str(library_path(stem)), mode=getattr(ctypes, "RTLD_GLOBAL", 0))


@dataclass(frozen=True)
class Device:
    name: str
    description: str
    kind: str
    memory_free: int
    memory_total: int
    handle: int  # the ggml_backend_dev_t, for calls that take a device


@cache
def _bound() -> tuple[ctypes.CDLL, ctypes.CDLL]:
    from hearth.engine import backends

    backends.load()
    base = library("libggml-base")
    ggml = library("libggml")
    ggml.ggml_backend_dev_count.restype = ctypes.c_size_t
    ggml.ggml_backend_dev_get.restype = ctypes.c_void_p
    ggml.ggml_backend_dev_get.argtypes = [ctypes.c_size_t]
    for fn in ("ggml_backend_dev_name", "ggml_backend_dev_description"):
        getattr(base, fn).restype = ctypes.c_char_p
        getattr(base, fn).argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_type.restype = ctypes.c_int
    base.ggml_backend_dev_type.argtypes = [ctypes.c_void_p]
    base.ggml_backend_dev_memory.restype = None
    base.ggml_backend_dev_memory.argtypes = [
        ctypes.c_void_p,
        ctypes.POINTER(ctypes.c_size_t),
        ctypes.POINTER(ctypes.c_size_t),
    ]
    base.ggml_version.restype = ctypes.c_char_p
    base.ggml_commit.restype = ctypes.c_char_p
    return ggml, base


def devices() -> list[Device]:
    """The compute devices this build of llama.cpp can use here (CPU, GPUs, RPC devices once added)."""
    ggml, _ = _bound()
    return [describe(ggml.ggml_backend_dev_get(i)) for i in range(ggml.ggml_backend_dev_count())]


def describe(dev: int) -> Device:
    """A device by its ggml_backend_dev_t, registered or not (an RPC server's, from ``rpc.add_server``)."""
    _, base = _bound()
    free, total = ctypes.c_size_t(), ctypes.c_size_t()
    base.ggml_backend_dev_memory(dev, ctypes.byref(free), ctypes.byref(total))
    return Device(
        name=(base.ggml_backend_dev_name(dev) or b"").decode(),
        description=(base.ggml_backend_dev_description(dev) or b"").decode(),
        kind=DEVICE_TYPES.get(base.ggml_backend_dev_type(dev), "OTHER"),
        memory_free=free.value,
        memory_total=total.value,
        handle=int(dev),
    )


def accelerators() -> list[Device]:
    """This machine's own GPUs (discrete or integrated), in llama.cpp's order: what a plan's
    ``host/gpuN`` names. RPC devices are other machines' and never among them."""
    return [d for d in devices() if d.kind in ("GPU", "IGPU") and not d.name.startswith("RPC")]


@cache
def build_id() -> str:
    """Identifies the llama.cpp build; pooled devices must agree on it exactly."""
    _, base = _bound()
    version = (base.ggml_version() or b"?").decode()
    commit = (base.ggml_commit() or b"?").decode()
    return f"llama-cpp-python {llama_cpp.__version__} / ggml {version} ({commit})"
