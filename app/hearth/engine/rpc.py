"""ggml's RPC backend: the worker's server, and the host's view of remote devices."""

from __future__ import annotations

import ctypes
import os
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

from hearth.core.rpc_graph import GraphRules, TypeInfo
from hearth.engine.ggml import library

if TYPE_CHECKING:
    from hearth.engine.ggml import Device

# RDMA would carry tensors around Hearth's tunnel; the TCP path is the only one that may be used.
os.environ["GGML_RPC_NO_RDMA"] = "1"

# The RPC protocol of this llama.cpp pins the op table (GGML_OP_COUNT == 101 for protocol 7.0.0);
# the type table and the UNARY and GLU kinds are this build's too (ggml.c's static_asserts).
GGML_OP_COUNT = 101
GGML_TYPE_COUNT = 43
GGML_UNARY_OP_COUNT = 22
GGML_GLU_OP_COUNT = 7


@cache
def _rpc() -> ctypes.CDLL:
    from hearth.engine import backends

    backends.load()  # the RPC module is one of them: opened again here, it is the same library
    lib = library("libggml-rpc")
    lib.ggml_backend_rpc_add_server.restype = ctypes.c_void_p
    lib.ggml_backend_rpc_add_server.argtypes = [ctypes.c_char_p]
    lib.ggml_backend_rpc_start_server.restype = None
    lib.ggml_backend_rpc_start_server.argtypes = [
        ctypes.c_char_p,
        ctypes.c_char_p,
        ctypes.c_size_t,
        ctypes.c_size_t,
        ctypes.c_void_p,
    ]
    return lib


@cache
def _base() -> ctypes.CDLL:
    base = library("libggml-base")
    base.ggml_backend_reg_dev_count.restype = ctypes.c_size_t
    base.ggml_backend_reg_dev_count.argtypes = [ctypes.c_void_p]
    base.ggml_backend_reg_dev_get.restype = ctypes.c_void_p
    base.ggml_backend_reg_dev_get.argtypes = [ctypes.c_void_p, ctypes.c_size_t]
    base.ggml_op_name.restype = ctypes.c_char_p
    base.ggml_op_name.argtypes = [ctypes.c_int]
    for name in ("ggml_type_name", "ggml_unary_op_name", "ggml_glu_op_name"):
        getattr(base, name).restype = ctypes.c_char_p
        getattr(base, name).argtypes = [ctypes.c_int]
    base.ggml_type_size.restype = ctypes.c_size_t
    base.ggml_type_size.argtypes = [ctypes.c_int]
    base.ggml_blck_size.restype = ctypes.c_int64
    base.ggml_blck_size.argtypes = [ctypes.c_int]
    base.ggml_backend_dev_buffer_type.restype = ctypes.c_void_p
    base.ggml_backend_dev_buffer_type.argtypes = [ctypes.c_void_p]
    base.ggml_backend_buft_get_alignment.restype = ctypes.c_size_t
    base.ggml_backend_buft_get_alignment.argtypes = [ctypes.c_void_p]
    return base


def op_names() -> list[str]:
    """ggml's op names by enum value, from the library itself."""
    base = _base()
    return [(base.ggml_op_name(i) or b"?").decode() for i in range(GGML_OP_COUNT)]


def _names(function: str, count: int) -> list[str]:
    name = getattr(_base(), function)
    return [(name(i) or b"?").decode() for i in range(count)]


def _types() -> list[TypeInfo | None]:
    """ggml's element types by enum value; None for the values of removed types (no block size)."""
    base = _base()
    found: list[TypeInfo | None] = []
    for i in range(GGML_TYPE_COUNT):
        size, block, name = base.ggml_type_size(i), base.ggml_blck_size(i), base.ggml_type_name(i)
        found.append(TypeInfo(name.decode(), size, block) if name and size and block else None)
    return found


@cache
def graph_rules() -> GraphRules:
    """What a worker computes for a host, with this build's op, type, UNARY and GLU numbering."""
    return GraphRules.build(
        op_names(),
        _types(),
        _names("ggml_unary_op_name", GGML_UNARY_OP_COUNT),
        _names("ggml_glu_op_name", GGML_GLU_OP_COUNT),
    )


def add_server(endpoint: str) -> list[int]:
    """Register a remote RPC server (``127.0.0.1:port``) and return its devices (ggml_backend_dev_t)."""
    reg = _rpc().ggml_backend_rpc_add_server(endpoint.encode())
    if not reg:
        raise RuntimeError(f"could not reach the RPC server at {endpoint}")
    base = _base()
    return [base.ggml_backend_reg_dev_get(reg, i) for i in range(base.ggml_backend_reg_dev_count(reg))]


def buffer_type(device: int) -> int:
    return int(_base().ggml_backend_dev_buffer_type(device))


def cpu_buffer_type() -> int:
    from hearth.engine import ggml

    cpu = next((d for d in ggml.devices() if d.kind == "CPU"), None)
    if cpu is None:
        raise RuntimeError("this llama.cpp build has no CPU device")
    return buffer_type(cpu.handle)


def cpu_alignment() -> int:
    """The alignment of this build's CPU buffers: what a CPU worker tells a host."""
    return int(_base().ggml_backend_buft_get_alignment(cpu_buffer_type()))


# Names only an RDMA-enabled ggml-rpc refers to: libibverbs (RoCE/InfiniBand) and Apple's librdma.
RDMA_MARKERS = (b"ibv_post_send", b"libibverbs", b"librdma")


@cache
def rdma_compiled(path: Path | None = None) -> bool:
    """Whether this ggml-rpc was built with an RDMA transport. Hearth keeps RDMA off either way
    (``GGML_RPC_NO_RDMA``, and the tunnel's filter clears HELLO's capabilities); this says whether
    there was anything to keep off."""
    from hearth.engine.ggml import library_path

    data = (path or library_path("libggml-rpc")).read_bytes()
    return any(marker in data for marker in RDMA_MARKERS)


def served_devices(gpu_endpoints: Sequence[str] = ()) -> list[Device]:
    """The devices a worker serves, in its server's order: this machine's GPUs, then its CPU. With
    ``gpu_endpoints`` the RPC devices of those servers stand in for the GPUs (llama.cpp treats an RPC
    device as a GPU): how a machine without one tests a worker that has one."""
    from hearth.engine import ggml

    found = ggml.devices()
    if gpu_endpoints:
        gpus = [ggml.describe(handle) for endpoint in gpu_endpoints for handle in add_server(endpoint)]
    else:
        gpus = ggml.accelerators()
    cpu = next((d for d in found if d.kind == "CPU"), None)
    if cpu is None:
        raise RuntimeError("this llama.cpp build has no CPU device")
    return [*gpus, cpu]


def serve_forever(endpoint: str, cache_dir: str, threads: int, gpu_endpoints: Sequence[str] = ()) -> None:
    """Run an RPC server on ``endpoint`` for ``served_devices``; never returns."""
    chosen = served_devices(gpu_endpoints)
    devices = (ctypes.c_void_p * len(chosen))(*(d.handle for d in chosen))
    _rpc().ggml_backend_rpc_start_server(endpoint.encode(), cache_dir.encode(), threads, len(chosen), devices)
