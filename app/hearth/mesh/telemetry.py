"""What a device tells its paired peers once a second."""

from __future__ import annotations

import platform
import time
from functools import cache

import psutil

from hearth.core.control import ComputeDevice, Telemetry


@cache
def hardware() -> tuple[str, list[str]]:
    """(accelerator shown to people, llama.cpp backends), read once from the llama.cpp build."""
    try:
        from hearth.engine import ggml

        devs = ggml.devices()
    except (OSError, AttributeError):  # no usable llama.cpp here: the node still runs, it just cannot compute
        return "none", []
    gpus = [d.description or d.name for d in devs if d.kind in ("GPU", "IGPU", "ACCEL")]
    accelerator = ", ".join(gpus) if gpus else f"CPU ({platform.machine()})"
    return accelerator, sorted({d.name.rstrip("0123456789") or d.name for d in devs})


def sample(donated_bytes: int = 0, bytes_per_s: float = 0.0) -> Telemetry:
    mem = psutil.virtual_memory()
    accelerator, backends = hardware()
    return Telemetry(
        time=time.time(),
        memory_total=int(mem.total),
        memory_free=int(mem.available),
        donated_bytes=donated_bytes,
        cpu_count=psutil.cpu_count() or 1,
        cpu_percent=float(psutil.cpu_percent(interval=None)),
        accelerator=accelerator,
        backends=backends,
        bytes_per_s=bytes_per_s,
        os=platform.system(),
        compute=compute_devices(),
    )


def compute_devices() -> list[ComputeDevice]:
    """This machine's compute devices with their memory now; empty without a usable llama.cpp."""
    try:
        from hearth.engine import ggml

        found = ggml.devices()
    except (OSError, AttributeError):
        return []
    return [
        ComputeDevice(d.kind, d.name, d.description, d.memory_total, d.memory_free)
        for d in found
        if not d.name.startswith("RPC")  # other machines' devices, once a load added them
    ]
