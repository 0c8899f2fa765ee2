"""A donor lends its GPU within a VRAM cap of its own, beside the RAM cap: the setting's default,
what its telemetry reports of the devices its workers serve, and the planner's view of it."""

from __future__ import annotations

import ssl
from typing import Any

import pytest

from hearth.core.control import ComputeDevice
from hearth.core.device_id import DeviceId
from hearth.core.offload import Accelerator, gpu_headroom, pools
from hearth.mesh import telemetry, workers
from hearth.mesh.workers import Workers
from hearth.service.device_view import DeviceView
from hearth.service.planning import planning_devices
from hearth.store.settings import Donation

GIB = 2**30
GPU = ComputeDevice("GPU", "CUDA0", "NVIDIA GeForce RTX 3060", 12 * GIB, 11 * GIB)
CPU = ComputeDevice("CPU", "CPU", "Xeon", 64 * GIB, 60 * GIB)


def test_the_vram_cap_defaults_to_the_gpus_memory_less_headroom() -> None:
    assert Donation().effective_vram(12 * GIB) == 12 * GIB - gpu_headroom(12 * GIB)
    assert Donation(max_vram=4 * GIB).effective_vram(12 * GIB) == 4 * GIB
    # A cap past what the GPU has lends what it has, less its headroom.
    assert Donation(max_vram=40 * GIB).effective_vram(12 * GIB) == 12 * GIB - gpu_headroom(12 * GIB)


def test_the_devices_served_are_the_gpu_then_the_cpu_each_capped() -> None:
    served = telemetry.served_devices([CPU, GPU], Donation(max_vram=4 * GIB), donated_bytes=32 * GIB)
    assert [(c.kind, c.memory_total, c.memory_free) for c in served] == [
        ("GPU", 4 * GIB, 4 * GIB),
        ("CPU", 32 * GIB, 32 * GIB),
    ]


def test_an_integrated_gpu_is_held_to_the_ram_donated() -> None:
    igpu = ComputeDevice("IGPU", "Vulkan0", "Radeon 780M", 32 * GIB, 30 * GIB)
    served = telemetry.served_devices([igpu, CPU], Donation(), donated_bytes=8 * GIB)
    assert [(c.kind, c.memory_total) for c in served] == [("IGPU", 8 * GIB), ("CPU", 8 * GIB)]


def test_a_sample_lists_the_served_devices_only_while_donating() -> None:
    assert telemetry.sample().served == []
    donating = telemetry.sample(GIB, donation=Donation(enabled=True))
    assert donating.served and donating.served[-1].kind == "CPU"
    assert donating.served[-1].memory_total <= GIB


def _donor(**fields: Any) -> DeviceView:
    base: dict[str, Any] = {
        "device_id": "BETA-ID",
        "short_id": "BETA",
        "name": "beta",
        "paired": True,
        "connected": True,
        "memory_total": 64 * GIB,
        "memory_free": 60 * GIB,
        "donated_bytes": 32 * GIB,  # more RAM than the GPU holds
        "compute": [GPU, CPU],
    }
    return DeviceView(**{**base, **fields})


def _host() -> DeviceView:
    return DeviceView(
        device_id=DeviceId("ALPHA-ID"),
        short_id="ALPH",
        name="alpha",
        this_device=True,
        memory_total=16 * GIB,
        memory_free=8 * GIB,
    )


def test_a_donor_lending_more_ram_than_its_vram_is_planned_within_its_vram_cap() -> None:
    cap = 4 * GIB
    served = telemetry.served_devices([GPU, CPU], Donation(max_vram=cap), donated_bytes=32 * GIB)
    beta = planning_devices([_host(), _donor(served=served)])[1]
    assert beta.usable == cap


def test_without_a_cap_reported_a_donor_is_planned_within_its_free_vram() -> None:
    beta = planning_devices([_host(), _donor()])[1]
    vram = pools([Accelerator(GPU.description, GPU.memory_free, GPU.memory_total)])[0].memory_bytes
    assert beta.usable == vram < 32 * GIB


def _workers() -> Workers:
    async def on_lost(reservation: object, reason: str) -> None:
        pass

    return Workers(
        "beta",
        Donation,
        lambda: 64 * GIB,
        lambda: "build",
        ssl.create_default_context,
        lambda _: True,
        on_lost,
        None,
    )


def test_a_workers_gpu_is_charged_to_a_ledger_capped_by_the_vram_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    served = (("GPU", 12 * GIB), ("IGPU", 32 * GIB), ("CPU", 64 * GIB))
    monkeypatch.setattr(workers, "_served_devices", lambda: served)
    here = _workers()
    gpu, igpu, cpu = here._device_ledgers(Donation(enabled=True, max_vram=4 * GIB))
    assert gpu.cap_bytes == 4 * GIB and gpu is not cpu
    # An integrated GPU's memory is the RAM: it draws on the CPU's ledger, the RAM cap.
    assert igpu is cpu
    # A new cap applies to the same ledger, which every reservation here shares.
    again = here._device_ledgers(Donation(enabled=True))
    assert again[0] is gpu and gpu.cap_bytes == 12 * GIB - gpu_headroom(12 * GIB)
