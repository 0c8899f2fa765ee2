"""What a device tells its paired peers once a second."""

from __future__ import annotations

import platform
import time
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

import msgspec
import psutil

from hearth.core.control import ComputeDevice, Telemetry
from hearth.core.speed import Speed
from hearth.store.settings import Donation

if TYPE_CHECKING:
    from hearth.engine.ggml import Device


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


def sample(
    donated_bytes: int = 0,
    speed: Speed | None = None,
    donation: Donation | None = None,
    gpu_speeds: Sequence[Speed | None] = (),
) -> Telemetry:
    """This device now; with ``donation`` (while it donates ``donated_bytes``) the devices its
    workers serve, each capped to what it lends. ``gpu_speeds``: each accelerator's probe, in
    llama.cpp's order (None: not probed)."""
    mem = psutil.virtual_memory()
    accelerator, backends = hardware()
    compute = with_speeds(compute_devices(), gpu_speeds)
    return Telemetry(
        time=time.time(),
        memory_total=int(mem.total),
        memory_free=int(mem.available),
        donated_bytes=donated_bytes,
        cpu_count=psutil.cpu_count() or 1,
        cpu_percent=float(psutil.cpu_percent(interval=None)),
        accelerator=accelerator,
        backends=backends,
        bytes_per_s=speed.bytes_per_s if speed else 0.0,
        layer_s=speed.layer_s if speed else 0.0,
        os=platform.system(),
        compute=compute,
        served=served_devices(compute, donation, donated_bytes) if donation and donated_bytes else [],
    )


def served_devices(
    compute: list[ComputeDevice], donation: Donation, donated_bytes: int
) -> list[ComputeDevice]:
    """What a worker here serves (``rpc.served_devices``: the GPUs, then the CPU) as a host may use
    it: each GPU within the VRAM cap, the CPU within the RAM donated. An integrated GPU's memory is
    the RAM, so it is held to the RAM donated as well."""

    def capped(c: ComputeDevice, cap: int) -> ComputeDevice:
        return msgspec.structs.replace(
            c, memory_total=min(c.memory_total, cap), memory_free=min(c.memory_free, cap)
        )

    out = [
        capped(c, donated_bytes if c.shares_ram else donation.effective_vram(c.memory_total))
        for c in compute
        if c.accelerator
    ]
    cpu = next((c for c in compute if c.kind == "CPU"), None)
    if cpu is not None:
        out.append(capped(cpu, donated_bytes))
    return out


def with_speeds(compute: list[ComputeDevice], gpu_speeds: Sequence[Speed | None]) -> list[ComputeDevice]:
    """``compute`` with each accelerator's probe, the accelerators taken in order."""
    speeds = iter(gpu_speeds)
    out = []
    for c in compute:
        speed = next(speeds, None) if c.accelerator else None
        if speed is not None:
            c = msgspec.structs.replace(c, bytes_per_s=speed.bytes_per_s, layer_s=speed.layer_s)
        out.append(c)
    return out


def compute_devices() -> list[ComputeDevice]:
    """This machine's compute devices with their memory now; empty without a usable llama.cpp."""
    try:
        from hearth.engine import ggml

        found = ggml.devices()
    except (OSError, AttributeError):
        return []
    return [
        compute_device(d)
        for d in found
        if not d.name.startswith("RPC")  # other machines' devices, once a load added them
    ]


def compute_device(d: Device) -> ComputeDevice:
    """A device as ggml describes it, as telemetry carries it."""
    return ComputeDevice(d.kind, d.name, d.description, d.memory_total, d.memory_free)
