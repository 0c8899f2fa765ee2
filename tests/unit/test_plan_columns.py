"""The Planner's columns: one per memory pool, in pipeline order, each with what it may hold."""

from __future__ import annotations

from hearth.core.control import ComputeDevice
from hearth.core.device_id import DeviceId
from hearth.core.offload import gpu_headroom
from hearth.core.plan import HOST, pool_key
from hearth.service.device_view import DeviceView
from hearth.service.planning import plan_columns, planning_devices

GIB = 2**30
RTX = ComputeDevice("GPU", "CUDA0", "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)
ARC = ComputeDevice("GPU", "Vulkan1", "Intel Arc A380", 6 * GIB, 6 * GIB)
M2 = ComputeDevice("IGPU", "Metal", "Apple M2", 24 * GIB, 16 * GIB)
CPU = ComputeDevice("CPU", "CPU", "CPU", 32 * GIB, 20 * GIB)


def _row(name: str, compute: list[ComputeDevice], mine: bool = False, donated: int = 0) -> DeviceView:
    return DeviceView(
        device_id=DeviceId(f"{name.upper()}-ID"),
        short_id=name[:4].upper(),
        name=name,
        this_device=mine,
        paired=not mine,
        online=True,
        connected=True,
        memory_total=32 * GIB,
        memory_free=20 * GIB,
        donated_bytes=donated,
        compute=compute,
        latency_ms=1.0,
    )


def test_the_hosts_gpus_follow_its_ram_and_a_donor_shows_the_gpu_its_worker_uses() -> None:
    rows = [
        _row("pc", [RTX, ARC, CPU], mine=True),
        _row("mac", [M2, CPU], donated=8 * GIB),
        _row("laptop", [CPU], donated=4 * GIB),
    ]
    columns = plan_columns(planning_devices(rows))
    assert [(c.key, c.name, c.gpu) for c in columns] == [
        (HOST, "pc", ""),
        (pool_key(HOST, 0), "pc", "NVIDIA GeForce RTX 3060"),
        (pool_key(HOST, 1), "pc", "Intel Arc A380"),
        ("MAC-ID", "mac", "Apple M2"),
        ("LAPTOP-ID", "laptop", ""),
    ]
    ram, rtx, arc, mac, laptop = columns
    # A GPU's column is its memory: what is free less the driver's headroom.
    assert (rtx.memory_total, rtx.memory_free) == (12 * GIB, 11 * GIB)
    assert rtx.usable == 11 * GIB - gpu_headroom(12 * GIB) and not rtx.shares_ram
    assert arc.usable == 6 * GIB - gpu_headroom(6 * GIB)
    assert ram.memory_total == 32 * GIB and ram.usable > 0
    # A donor is planned within what it donates, on the GPU its worker computes on.
    assert mac.shares_ram and mac.usable <= 8 * GIB and laptop.usable == 4 * GIB
    assert all(c.device == HOST for c in columns[:3])
